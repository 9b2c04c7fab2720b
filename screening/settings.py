"""The user's settings file: the municipality's rule set, language, store, time zone and report defaults.

May import: errors, files / stdlib (tomllib).

A municipality screens with its own rule set (Göteborg is not Stockholm), and a
caseworker should not have to say so on every command: a forgotten ``--rules``
silently gave Stockholm's recommendations (issue 13, seen 9). The settings live
in ``settings.toml`` next to the key file in the user's config directory
(``$XDG_CONFIG_HOME/screening``, see ``crypto.default_key_path``);
``$SCREENING_CONFIG`` names another file. Precedence, strongest first: the
command line, the environment (``$SCREENING_STORE`` for the store), the settings
file, the built-in default; ``effective`` says for each setting which one won.

The file is TOML read with the standard library's ``tomllib``; ``set_setting``
writes it back owner-only and atomically (``files.write_private``). It holds
no personal data, only names of rule sets, paths and choices. Every problem is a
``SettingsError`` that names the file (and line, for a TOML syntax error) and the
key, never guesses: an unknown key or value is refused, not ignored.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ScreeningError

__all__ = [
    "KEYS",
    "Setting",
    "SettingsError",
    "effective",
    "load_settings",
    "set_setting",
    "setting",
    "settings_path",
]


class SettingsError(ScreeningError):
    """The settings file cannot be read, or a key or value is not one we know."""


@dataclass(frozen=True)
class Key:
    """One setting: its meaning in both languages, its check and its built-in default."""

    sv: str
    en: str
    check: Callable[[str], str | None]  # the value → None if fine, else why not (English)
    default: str | None
    env: str | None = None  # an environment variable that wins over the file


def _one_of(*allowed: str) -> Callable[[str], str | None]:
    return lambda value: None if value in allowed else f"expected one of: {', '.join(allowed)}"


def _rules(value: str) -> str | None:
    if not value.strip():
        return "expected a rule set id (e.g. stockholm, goteborg), a path, 'default' or 'none'"
    return None


def _path(value: str) -> str | None:
    return None if value.strip() else "expected a file path"


def _zone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "expected a time zone such as Europe/Stockholm"
    return None


KEYS: dict[str, Key] = {
    "rules": Key("Kommunens regeluppsättning för insatser (id, sökväg, 'none'; 'default' = Stockholm)",
                 "The municipality's referral rule set (id, path, 'none'; 'default' = Stockholm)", _rules, "default"),
    "lang": Key("Språk", "Language", _one_of("sv", "en"), "sv"),
    "store": Key("Ärendelagret (SQLite-fil eller postgresql://-adress)",
                 "The case store (SQLite file or postgresql:// URL)", _path, None, env="SCREENING_STORE"),
    "timezone": Key("Tidszon i rapporter (t.ex. Europe/Stockholm); standard: systemets",
                    "Time zone in reports (e.g. Europe/Stockholm); default: the system's", _zone, None),
    "report.format": Key("Rapportens format", "Report format", _one_of("html", "md", "txt"), "html"),
    "report.profile": Key("Rapportens profil", "Report profile", _one_of("case-file", "referral"), "case-file"),
}


@dataclass(frozen=True)
class Setting:
    """An effective setting: its value (None = none set) and where it came from."""

    key: str
    value: str | None
    source: str  # "command line", "environment ($X)", "settings file", "default"


def settings_path() -> Path:
    """``$SCREENING_CONFIG``, else ``settings.toml`` in the config directory that holds the key file."""
    env = os.environ.get("SCREENING_CONFIG")
    if env:
        return Path(env).expanduser()
    from .files import config_dir  # the key file's directory (crypto.default_key_path), without crypto's imports

    return config_dir() / "settings.toml"


def load_settings(path: Path | None = None) -> dict[str, str]:
    """The settings in the file (``settings_path()``), checked; an absent file is no settings.

    Raises:
        SettingsError: unreadable, not TOML, an unknown key or a bad value (named with the file).
    """
    target = path or settings_path()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{target}: cannot read the settings file ({exc.strerror or type(exc).__name__})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{target}: not a valid settings file ({_toml_reason(exc)})") from None
    found: dict[str, str] = {}
    for key, value in _flatten(doc):
        if key not in KEYS:
            raise SettingsError(f"{target}: unknown setting {key!r} (settings: {', '.join(KEYS)})")
        if not isinstance(value, str):
            raise SettingsError(f"{target}: {key}: expected a text value in quotes")
        why = KEYS[key].check(value)
        if why is not None:
            raise SettingsError(f"{target}: {key}: {why}")
        found[key] = value
    return found


def _toml_reason(exc: Exception) -> str:
    # tomllib's messages name the line and column, never more than a character of the content.
    return str(exc)[:200] if isinstance(exc, tomllib.TOMLDecodeError) else "not UTF-8 text"


def _flatten(doc: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def effective(given: Mapping[str, str | None] | None = None, path: Path | None = None) -> dict[str, Setting]:
    """Every setting's value and source: the command line, then the environment, the file, the default."""
    given = given or {}
    stored = load_settings(path)
    out: dict[str, Setting] = {}
    for key, spec in KEYS.items():
        if given.get(key) is not None:
            out[key] = Setting(key, given[key], "command line")
        elif spec.env and os.environ.get(spec.env):
            out[key] = Setting(key, os.environ[spec.env], f"environment (${spec.env})")
        elif key in stored:
            out[key] = Setting(key, stored[key], "settings file")
        else:
            out[key] = Setting(key, spec.default, "default")
    return out


def setting(key: str, given: str | None = None) -> str | None:
    """One effective value: ``given`` (from the command line) if not None, else as ``effective`` decides."""
    if given is not None:
        return given
    return effective({}).get(key, Setting(key, None, "default")).value


def set_setting(key: str, value: str, path: Path | None = None) -> Path:
    """Write ``key = value`` into the settings file, owner-only and atomically; return the file.

    Raises:
        SettingsError: an unknown key, a bad value, or an unreadable existing file.
        FileWriteError: the file could not be written.
    """
    from .files import write_private

    if key not in KEYS:
        raise SettingsError(f"unknown setting {key!r} (settings: {', '.join(KEYS)})")
    why = KEYS[key].check(value)
    if why is not None:
        raise SettingsError(f"{key}: {why}")
    url = key == "store" and value.startswith(("postgresql://", "postgres://"))  # a PostgreSQL store, as it is
    if (key == "store" and not url) or (key == "rules" and (value.endswith((".yaml", ".yml")) or os.sep in value)):
        value = str(Path(value).expanduser().absolute())  # a path means the same from any directory
    target = path or settings_path()
    stored = load_settings(target)
    stored[key] = value
    return write_private(target, _dump(stored), make_parents=True)


def _dump(values: Mapping[str, str]) -> str:
    """TOML for flat and one-level dotted string keys; JSON string escapes are valid TOML basic strings."""
    top = [(k, v) for k, v in values.items() if "." not in k]
    tables: dict[str, list[tuple[str, str]]] = {}
    for key, value in values.items():
        if "." in key:
            table, name = key.split(".", 1)
            tables.setdefault(table, []).append((name, value))
    lines = ["# screening settings: `screening config` shows them, `screening config set KEY VALUE` changes them."]
    lines += [f"{k} = {_quote(v)}" for k, v in sorted(top)]
    for table, entries in sorted(tables.items()):
        lines += ["", f"[{table}]"] + [f"{k} = {_quote(v)}" for k, v in sorted(entries)]
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    # JSON escapes quotes, backslashes and C0 controls as TOML does; TOML also wants DEL escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
