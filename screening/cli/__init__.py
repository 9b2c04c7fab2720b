"""The ``screening`` command: a thin typer layer over the library.

May import: everything / typer. Must not be imported by any other part of ``screening``
(the top of the layers). It may import ``server``, only inside ``screening serve``;
``server`` never imports it.

Modules: ``_audit``, ``_cases``, ``_config``, ``_core``, ``_help``, ``_help_texts``,
``_interview``, ``_report``, ``_rescore``, ``_serve`` (``screening serve``), ``_shared``, ``_store_cmd``,
``_users`` (``users …`` and ``cases assign``).

This is the only place where exceptions become messages and exit codes:
``ScreeningError`` → its located message on stderr and exit 1; usage errors →
exit 2; anything unexpected → a neutral message with an incident id and exit 70,
never a traceback (tracebacks can carry answers in local variables); the
incident file for support holds types and code locations only. A reader that
stops early (``screening audit verify | head -1``) ends the command quietly with
141, what a shell reports for ``cat`` or ``grep`` in the same place, not with an
error. Commands live in sub-modules and import the library lazily so ``--help``
stays fast. Help is in the run's language (``_help``: ``--lang``, the settings,
``$SCREENING_LANG``, the locale); typer's shell completion is on
(``--install-completion``, ``--show-completion``).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer import _click as click
from typer.exceptions import TyperException

__all__ = ["EXIT_PIPE_CLOSED", "app", "main"]

EXIT_PIPE_CLOSED = 128 + 13  # 128 + SIGPIPE: the shell's code for a program whose reader went away

app = typer.Typer(
    name="screening",
    help="Strukturerad riskbedömning / structured risk screening (FREDA-style, PATRIARK-style).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)



def _print_version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"screening {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Visa versionen. / Show the version."),
    ] = False,
) -> None:
    pass


from . import _core  # noqa: E402,F401,I001  (registers commands on `app`; this order is --help's order)
from . import _audit  # noqa: E402,F401
from . import _rescore  # noqa: E402,F401
from . import _report  # noqa: E402,F401
from . import _interview  # noqa: E402,F401
from . import _cases  # noqa: E402,F401
from . import _config  # noqa: E402,F401
from . import _serve  # noqa: E402,F401
from . import _users  # noqa: E402,F401
from . import _store_cmd  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map every outcome to an exit code."""
    from ..privacy import install

    install()  # log records and warnings carry allow-listed fields only
    sys.excepthook = _excepthook  # anything escaping run() still gets no traceback
    code = run(argv)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = EXIT_PIPE_CLOSED
    if code == EXIT_PIPE_CLOSED and _stdout_closed():
        _discard_stdout()
    sys.exit(code)


def _excepthook(kind: type[BaseException], exc: BaseException, tb: object) -> None:
    _incident(exc)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (for tests)."""
    from ..errors import ScreeningError

    try:
        result = command(argv)(args=argv, standalone_mode=False, prog_name="screening")
    except typer.Abort:
        typer.echo("Avbrutet. / Aborted.", err=True)
        return 130
    except TyperException as exc:  # typer's own click: usage errors exit 2
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 2))
    except ScreeningError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("Avbrutet. / Aborted.", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_PIPE_CLOSED
    except SystemExit:
        if _stdout_closed():  # typer turns a closed stdout (EPIPE) into a bare exit 1
            return EXIT_PIPE_CLOSED
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        return _incident(exc)
    return result if isinstance(result, int) else 0


def command(argv: list[str] | None = None) -> click.Command:
    """The click command typer builds from ``app``, its help in this run's language.

    The language is looked up (which reads the settings file) only when this run
    shows help: no arguments, ``--help``, or a command group without a command.
    """
    args = sys.argv[1:] if argv is None else argv
    built = typer.main.get_command(app)
    groups = {name for name, cmd in getattr(built, "commands", {}).items() if getattr(cmd, "commands", None)}
    if not args or "--help" in args or all(arg in groups for arg in args):
        from ._help import help_language, localize

        localize(built, help_language(args))
    return built


def _stdout_closed() -> bool:
    """Whether nobody reads the process's standard output any more (a pipe whose reader exited)."""
    import select

    stream = sys.__stdout__
    if stream is None or not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def _discard_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's last flush cannot fail loudly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ is not None else 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _incident(exc: BaseException) -> int:
    """Report an unexpected failure without its details: they may hold personal data.

    Support gets an owner-only incident file with the exception's type and code
    locations (never its message or any value): see ``screening.privacy``.
    """
    from ..privacy import new_incident_id, write_incident

    incident = new_incident_id()
    path = None
    try:
        incident, path = write_incident(exc, incident)
    except Exception:  # noqa: BLE001 - the message below must still be shown
        path = None
    where = f" Detaljer för support / details for support: {path}" if path else ""
    typer.echo(
        f"Ett oväntat fel inträffade (incident {incident}). / An unexpected error occurred "
        f"(incident {incident}). Error type: {type(exc).__name__}.{where}",
        err=True,
    )
    return 70
