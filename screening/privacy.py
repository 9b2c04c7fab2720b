"""Keeping personal data out of diagnostics: incident files that hold ids only, and a logging filter.

May import: errors, _version / stdlib.

A crash must help support without telling anyone what a client said. An
exception's *message* and a frame's *local variables* are exactly where an
answer ends up (``KeyError('Han slog mig …')``, a pydantic error's input, a
traceback with locals), so neither is ever written: an incident file holds the
exception's type, the types of its causes, and for every frame the module,
function and line number — enough to find the bug in the code, nothing about
the case. It is written owner-only (0600) under the user's state directory
(``$XDG_STATE_HOME/screening/incidents/<id>.log``, directories 0700), never in
``$TMPDIR``, and its name is a random id.

Logging: the program logs events, not sentences. ``PrivacyFilter`` rewrites
every record that reaches a handler to an allow-list of fields (event name,
case pseudonym, item id, instrument version, outcome; AU-3(3)), each checked
against a strict pattern; the message, its arguments, exception text, stack
and any other ``extra`` are dropped. ``install()`` puts it on the root
logger's handlers and on ``logging.lastResort``, and routes ``warnings``
through logging so they pass the same filter.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from .engine.pnr import looks_like_personnummer
from .files import make_private_dirs

__all__ = [
    "ALLOWED_FIELDS",
    "PrivacyFilter",
    "incident_dir",
    "install",
    "new_incident_id",
    "write_incident",
]

ALLOWED_FIELDS = ("event", "case", "item", "instrument", "outcome")
_PATTERNS = {
    "event": re.compile(r"[a-z][a-z0-9_.-]{0,63}"),
    "case": re.compile(r"[\w.-]{1,64}"),
    "item": re.compile(r"[a-z][a-z0-9_]{0,63}"),
    "instrument": re.compile(r"[a-z][a-z0-9-]{0,63}(@[0-9]+\.[0-9]+\.[0-9]+)?"),
    "outcome": re.compile(r"[a-z][a-z-]{0,31}"),
}
_ID = re.compile(r"[0-9a-f]{12}")
# Every attribute a LogRecord has by itself; anything else came in through ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))) | {"message", "asctime"}


# ---------------------------------------------------------------------- incidents


def incident_dir() -> Path:
    """``$XDG_STATE_HOME/screening/incidents``, else ``~/.local/state/screening/incidents``."""
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state) if state and Path(state).is_absolute() else Path.home() / ".local" / "state"
    return base / "screening" / "incidents"


def new_incident_id() -> str:
    return uuid.uuid4().hex[:12]


def _where(filename: str) -> str:
    """A frame's file without the user's directories: inside the package, site-packages or the stdlib."""
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    package = Path(__file__).resolve().parent
    try:
        return "screening/" + Path(path).resolve().relative_to(package).as_posix()
    except ValueError:
        pass
    match = re.search(r"/lib/python3\.[0-9]+/(.*)$", path)
    if match:
        return "stdlib/" + match[1]
    return Path(path).name


def _frames(tb: TracebackType | None) -> Iterator[str]:
    while tb is not None:
        code = tb.tb_frame.f_code
        yield f"  {_where(code.co_filename)}:{tb.tb_lineno} in {code.co_qualname}"
        tb = tb.tb_next


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def incident_text(exc: BaseException, incident: str) -> str:
    """The incident report: ids, types and code locations only (never a message or a value)."""
    lines = [
        f"screening incident {incident}",
        f"time: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"screening: {_version()}; python: {platform.python_version()}; platform: {sys.platform}",
        "note: exception messages and variable values are deliberately not recorded (they can hold personal data)",
    ]
    seen: set[int] = set()
    current: BaseException | None = exc
    label = "exception"
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{label}: {_type_name(current)}")
        lines.append("frames (innermost last):")
        lines.extend(_frames(current.__traceback__))
        if current.__cause__ is not None:
            current, label = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, label = current.__context__, "while handling"
        else:
            current = None
    return "\n".join(lines) + "\n"


def _version() -> str:
    from ._version import __version__

    return __version__


def write_incident(exc: BaseException, incident: str | None = None) -> tuple[str, Path]:
    """Write the incident file (0600, in a 0700 directory); return its id and path.

    Raises:
        OSError: the state directory cannot be written (the caller still shows the id).
    """
    ident = incident if incident is not None and _ID.fullmatch(incident) else new_incident_id()
    directory = incident_dir()
    make_private_dirs(directory)
    path = directory / f"{ident}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, incident_text(exc, ident).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return ident, path


# ---------------------------------------------------------------------- logging


def _clean(field: str, value: object) -> str:
    text = value if isinstance(value, str) else ""
    if _PATTERNS[field].fullmatch(text) and not looks_like_personnummer(text):
        return text
    return "<redacted>"


class PrivacyFilter(logging.Filter):
    """Reduce every record to allow-listed, pattern-checked fields; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = {f: _clean(f, getattr(record, f)) for f in ALLOWED_FIELDS if hasattr(record, f)}
        for key in list(vars(record)):
            if key not in _STANDARD:
                delattr(record, key)
        for key, value in fields.items():
            setattr(record, key, value)
        event = fields.get("event", "event")
        record.msg = " ".join([event, *(f"{k}={v}" for k, v in fields.items() if k != "event")])
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


_FILTER = PrivacyFilter()


def install() -> None:
    """Put ``PrivacyFilter`` on the root logger's handlers and ``logging.lastResort``; capture warnings.

    Idempotent; handlers added later are not covered (attach the filter to them).
    """
    handlers = [*logging.getLogger().handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(_FILTER)
    logging.captureWarnings(True)
