"""The ``config`` command: show the effective settings and where each comes from; ``config set KEY VALUE``.

May import: the library / typer.

See ``screening.settings`` for the file, its keys and the order in which the
command line, the environment, the file and the built-in defaults win.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import app
from ._shared import HomeOption

__all__ = ["config_app"]

_SOURCES = {
    "command line": ("kommandoraden", "the command line"),
    "settings file": ("inställningsfilen", "the settings file"),
    "default": ("inbyggt standardvärde", "built-in default"),
}

config_app = typer.Typer(
    name="config",
    help="Visa inställningarna och var de kommer ifrån; `config set NYCKEL VÄRDE` ändrar. / "
    "Show the settings and where each comes from; `config set KEY VALUE` changes one.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(config_app)


def _lang(given: str | None) -> str:
    from ..settings import setting

    if given is not None:
        return given
    try:
        return setting("lang") or "sv"
    except Exception:  # noqa: BLE001 - a broken file is reported by the command itself, in both languages
        return "sv"


@config_app.callback()
def config_cmd(
    ctx: typer.Context,
    lang: Annotated[str | None, typer.Option("--lang", help="sv eller/or en.")] = None,
) -> None:
    """Visa de gällande inställningarna. / Show the effective settings."""
    if ctx.invoked_subcommand is not None:
        return
    from ..settings import KEYS, effective, settings_path
    from ..store import default_store_path

    words = _lang(lang)
    sv = words == "sv"
    path = settings_path()
    state = "" if path.is_file() else (" (finns inte än)" if sv else " (does not exist yet)")
    typer.echo(("Inställningsfil: " if sv else "Settings file: ") + _safe(str(path)) + state)
    values = effective({})
    width = max(len(k) for k in KEYS)
    for key, found in values.items():
        value = found.value
        if value is None:
            value = str(default_store_path()) if key == "store" else ("systemets" if sv else "the system's")
        elif key == "store" and str(value).startswith(("postgresql://", "postgres://")):
            from ..store._pg import redact

            value = redact(str(value))  # a password in the URL is never shown
        source = found.source
        if source.startswith("environment"):
            where = source.replace("environment", "miljön") if sv else source
        else:
            where = _SOURCES[source][0 if sv else 1]
        meaning = KEYS[key].sv if sv else KEYS[key].en
        typer.echo(f"{key.ljust(width)}  {_safe(value)}  ({where}) – {meaning}")


@config_app.command("set")
def config_set_cmd(
    key: Annotated[str, typer.Argument(help="rules, lang, store, timezone, report.format, report.profile")],
    value: Annotated[str, typer.Argument(help="Det nya värdet. / The new value.")],
    lang: Annotated[str | None, typer.Option("--lang", help="sv eller/or en.")] = None,
    home: HomeOption = None,
) -> None:
    """Ändra en inställning (filen skrivs bara läsbar för dig). / Change a setting (the file is owner-only)."""
    from ..errors import ScreeningError
    from ..settings import KEYS, SettingsError, set_setting

    if key == "rules" and key in KEYS and value != "none":
        from ..api import resolve_rules

        try:
            resolve_rules(value, home, check="all")  # chosen once for every instrument: check them all
        except ScreeningError as exc:
            raise SettingsError(f"rules: {value!r} is not a rule set that loads: {exc}") from None
    written = set_setting(key, value)
    sv = _lang(lang) == "sv"
    typer.echo((f"Sparat i {written}: " if sv else f"Saved in {written}: ") + f"{key} = {_safe(value)}")


def _safe(text: str) -> str:
    from ..report.present import safe_text

    return safe_text(text)
