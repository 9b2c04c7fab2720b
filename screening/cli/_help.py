"""``--help`` in Swedish or English: the language, and the table of every help text in both.

May import: settings / typer.

A caseworker reads ``screening interview --help`` as much as the interview
itself, so help follows the same language as everything else (issue 13, seen 11).
Typer still generates the help from the commands' own strings (written once,
mostly in English, beside the code they describe); before a run, ``localize``
walks the built command tree and puts each text in the chosen language, looked
up in ``TEXTS`` (``_help_texts``). Click's own words (``Usage:``, ``Options:``, ``[default: …]``)
come from a Swedish formatter. A help text missing from the table is shown as
written, and ``tests/test_cli_help.py`` fails until it is added, so a new option
cannot arrive in one language only.

The language, strongest first: ``--lang`` on the command line, ``lang`` in the
settings file (``screening config``), ``$SCREENING_LANG``, the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``sv_SE.UTF-8`` is Swedish, any other
named language English), and Swedish, the default of every command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from typer._click import Command, Context, HelpFormatter

from ._help_texts import TEXTS

__all__ = ["TEXTS", "help_language", "localize", "lookup"]

LANGS = ("sv", "en")
_HEADINGS_SV = {"Options": "Flaggor", "Commands": "Kommandon", "Arguments": "Argument"}


def _key(text: str) -> str:
    return " ".join(text.split())


_BY_KEY = {_key(source): pair for source, pair in TEXTS.items()}


def lookup(text: str, lang: str) -> str | None:
    """``text`` in ``lang`` from the table; ``None`` when the table does not have it."""
    pair = _BY_KEY.get(_key(text))
    if pair is None:
        return None
    sv, en = pair
    return sv if lang == "sv" else (en if en is not None else text)


def _locale_language(environ: Mapping[str, str]) -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            if value.lower().startswith("sv"):
                return "sv"
            if value.split(".")[0] in ("C", "POSIX"):
                return None  # no language chosen
            return "en"
    return None


def help_language(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The language of this run's help (see the module docstring for the order)."""
    environ = os.environ if environ is None else environ
    for n, arg in enumerate(argv):
        if arg == "--lang" and n + 1 < len(argv) and argv[n + 1] in LANGS:
            return argv[n + 1]
        if arg.startswith("--lang=") and arg[7:] in LANGS:
            return arg[7:]
    try:
        from ..settings import load_settings

        stored = load_settings().get("lang")
    except Exception:  # noqa: BLE001 - a broken settings file is reported by the command that reads it
        stored = None
    if stored in LANGS:
        return stored
    env = environ.get("SCREENING_LANG", "")
    if env in LANGS:
        return env
    return _locale_language(environ) or "sv"


class _SwedishFormatter(HelpFormatter):
    """Click's help layout with Swedish headings and markers."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Användning: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS_SV.get(heading, heading))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        swedish = [(term, text.replace("[default: ", "[standard: ").replace("required]", "krävs]")) for term, text
                   in rows]
        super().write_dl(swedish, col_max, col_spacing)


class _SwedishContext(Context):
    formatter_class = _SwedishFormatter


def localize(command: Command, lang: str) -> list[str]:
    """Put every help text of ``command`` and its sub-commands in ``lang``; return those not in the table."""
    missing: list[str] = []

    def put(text: str | None) -> str | None:
        if not text:
            return text
        found = lookup(text, lang)
        if found is None:
            missing.append(text)
            return text
        return found

    def walk(cmd: Command) -> None:
        cmd.help = put(cmd.help)
        if lang == "sv":
            cmd.context_class = _SwedishContext
        cmd.get_help_option(Context(cmd))  # click makes --help on first use; make it now, to translate it
        for param in [*cmd.params, *([cmd._help_option] if cmd._help_option is not None else [])]:
            if getattr(param, "help", None):
                param.help = put(param.help)  # type: ignore[attr-defined]
        for sub in getattr(cmd, "commands", {}).values():  # typer's groups
            walk(sub)

    walk(command)
    return missing
