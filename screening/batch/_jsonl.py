"""JSON Lines in and out for the re-scorer: records by byte range, output written privately.

May import: errors, files, batch / stdlib.

Input is read by byte ranges of whole lines, so a worker process can read its own
share of a large file without the parent sending the records through a pipe.
Output (one re-scored assessment per line, with its migrated answers) holds
personal data: it is written to a 0600 temporary file in the target directory,
fsynced, renamed over the target and the directory fsynced — a crash leaves
the old file or none, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..errors import ScreeningError
from ..files import FileWriteError, check_target

__all__ = ["PrivateLines", "count_lines", "encode", "line_ranges", "line_text", "output_line", "read_range"]

# A line this long is not an assessment; refuse it instead of reading it into memory.
MAX_LINE = 16 * 1024 * 1024

# How every output line is written: compact, keys sorted, UTF-8 as is. One encoder for the
# general path (``line_text``) and the pieces the lean path (``_lean``) joins, so their bytes agree.
encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def line_ranges(path: Path, lines: int) -> Iterator[tuple[int, int, int]]:
    """``(start byte, end byte, number of the first line)`` for every ``lines`` lines."""
    try:
        with open(path, "rb") as fh:
            start, first, count = 0, 1, 0
            for _ in fh:
                count += 1
                if count == lines:
                    end = fh.tell()
                    yield start, end, first
                    start, first, count = end, first + lines, 0
            end = fh.tell()
            if count:
                yield start, end, first
    except OSError as exc:
        raise ScreeningError(f"{path}: cannot read ({exc.strerror})") from None


def count_lines(path: Path, start: int, end: int) -> int:
    """Lines in ``[start, end)`` of a JSON Lines file (the progress display's total for the last range)."""
    count = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while fh.tell() < end and fh.readline(MAX_LINE + 1):
            count += 1
    return count


def read_range(path: Path, start: int, end: int, first: int) -> Iterator[tuple[int, object]]:
    """``(line number, parsed JSON or an error text)`` for the lines in ``[start, end)``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            number, at = first, start  # counted, not asked: ``tell`` on every line cost a system call
            while at < end:
                raw = fh.readline(MAX_LINE + 1)
                if not raw:
                    break
                at += len(raw)
                if len(raw) > MAX_LINE:
                    yield number, ValueError("the line is too long")
                    at += len(fh.readline())  # skip the rest
                elif raw[:1] == b"{" or raw.strip():  # the usual line, without copying it to strip it
                    try:
                        yield number, _loads(raw)
                    except ValueError:
                        yield number, ValueError("not a JSON object")
                    except RecursionError:  # nested deeper than the parser goes: this line only is bad
                        yield number, ValueError("lists and objects nested too deeply")
                number += 1
    except OSError as exc:
        raise ScreeningError(f"{path}: cannot read ({exc.strerror})") from None


_DECODER: Any = json.JSONDecoder()  # json.loads's own decoder: the same settings
_scan = _DECODER.scan_once  # what json.loads runs, without the steps it takes around it on every call


def _loads(raw: bytes) -> object:
    """``json.loads(raw)``, a fifth faster for the usual line: an object in UTF-8.

    Such a line decodes as UTF-8 (a first byte ``{`` and a second that is not zero
    rule out a byte-order mark and UTF-16/32), starts with no whitespace, and is
    scanned by the default decoder's own scanner. Any other line, or any failure,
    is left to ``json.loads`` itself, so its value and its errors stay exactly those.
    """
    if raw[:1] == b"{" and raw[1:2] != b"\x00":
        try:
            text = raw.decode("utf-8", "surrogatepass")
            value, end = _scan(text, 0)
            if not text[end:].strip(" \t\n\r"):  # only JSON's whitespace after the value
                return value
        except Exception:  # noqa: BLE001, S110 - json.loads below gives this line its own error
            pass
    return json.loads(raw)


def output_line(item: Any) -> dict[str, Any]:
    """The output record: the input shape, under the target version, with the new outcome.

    ``result`` is the new outcome, ``previous`` the one compared with, so the file
    can be fed back as input for the next version.
    """
    from ._rescorer import Failed

    if isinstance(item, Failed):
        return {"id": item.record_id, "case": item.case, "error": item.reason, "stage": item.stage}
    rec = item.record
    line: dict[str, Any] = {
        "id": rec.id,
        "case": rec.case,
        "instrument": {"id": rec.instrument, "version": item.target.instrument.version, "sha256": item.target.sha256},
        "answers": dict(item.answers),
        "result": item.new.to_json(),
        "previous": item.old.to_json(),
        "change": item.change,
    }
    if rec.judgement is not None and not item.judgement_dropped:
        line["judgement"] = rec.judgement.model_dump()
    if rec.facts:
        line["facts"] = dict(rec.facts)
    if rec.revision != 1:
        line["revision"] = rec.revision
    return line


def line_text(record: dict[str, Any]) -> str:
    """One output line's text, without its newline (``PrivateLines.write_lines`` adds it)."""
    return encode(record)


class PrivateLines:
    """Write lines to ``path`` atomically and owner-only; nothing appears until ``close``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        check_target(self.path)  # a new name or a regular file: never rename over a device
        self.temp = self.path.parent / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise FileWriteError(str(self.path), exc.strerror or type(exc).__name__) from None
        self.fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self.fh.write(encode(record) + "\n")

    def write_lines(self, lines: list[str]) -> None:
        """Lines of ``line_text`` (or the lean path's equal text), in one write."""
        if lines:
            self.fh.write("\n".join(lines) + "\n")

    def close(self) -> None:
        """Make the file durable and give it its final name."""
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            self.temp.replace(self.path)
        except OSError as exc:
            self.discard()
            raise FileWriteError(str(self.path), exc.strerror or type(exc).__name__) from None
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:  # pragma: no cover - some file systems refuse to sync a directory
            pass

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
