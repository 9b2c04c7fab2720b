"""The interview's terminal: single keys, a small line editor, quick-hide, and hang-ups.

May import: _texts, present / stdlib (termios, select, signal).

Keys are read one at a time (no Enter needed for a choice) with the terminal
in non-canonical mode, so the hide key works at every prompt, even half-way
through typing a sentence. Ctrl-C stays a signal (``KeyboardInterrupt``), a
closed terminal (SIGHUP) or SIGTERM becomes ``TerminalClosed`` (an
``EOFError``), and end of input is ``EOFError``: the interview treats all of
them as "stop; everything acknowledged is saved". Typed-ahead input is dropped
when a new question appears, so no question is answered before it was seen.
Echoed text goes through ``safe_text``: control characters and bidi overrides
are never sent to the terminal raw.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import time
import unicodedata
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any, Self

from ..engine.scoring import MAX_TEXT
from ..report.present import safe_text
from ._texts import ENTER, HIDE

__all__ = ["CLEAR_SCREEN", "TerminalClosed", "TerminalPrompter", "hangup_guard"]

CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"  # home, clear screen, clear scrollback
_ESC = "\x1b"
# Keys closer together than this are one burst of typing (people type 3–8 keys a second,
# and nobody reads a new question and answers it this fast). SCREENING_KEY_BURST_GAP
# (seconds) changes it: the terminal tests, which type like a machine, set 0.
BURST_GAP = 0.4
_ERASE = ("\x7f", "\x08")
_KILL_LINE = "\x15"  # Ctrl-U
_EOF = "\x04"  # Ctrl-D


class TerminalClosed(EOFError):
    """The terminal went away (SIGHUP) or we were asked to stop (SIGTERM)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"signal {signum}")


@contextlib.contextmanager
def hangup_guard() -> Iterator[None]:
    """Turn SIGHUP and SIGTERM into ``TerminalClosed`` so the store closes cleanly; Ctrl-C stops.

    Ctrl-C is how a caseworker stops an interview (saved, exit 130). A process started
    with SIGINT ignored — a job from a non-interactive shell — gets no KeyboardInterrupt
    from Python, so Ctrl-C did nothing and the interview sat waiting for a key: SIGINT
    gets Python's own handler for the interview's duration.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise TerminalClosed(signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGHUP, signal.SIGTERM)}
    old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _burst_gap() -> float:
    try:
        gap = float(os.environ.get("SCREENING_KEY_BURST_GAP", BURST_GAP))
    except ValueError:
        return BURST_GAP
    return gap if 0 <= gap <= 2 else BURST_GAP


class TerminalPrompter:
    """A ``Prompter`` over file descriptors 0 and 1 (use as a context manager)."""

    def __init__(self, fd_in: int | None = None, fd_out: int | None = None) -> None:
        self.fd_in = sys.stdin.fileno() if fd_in is None else fd_in
        self.fd_out = sys.stdout.fileno() if fd_out is None else fd_out
        self.tty = os.isatty(self.fd_in)
        self._saved: list[Any] | None = None
        self._guard = False  # a new question is on screen: drop the rest of the previous burst of keys
        self._gap = _burst_gap()
        self._last_key = 0.0  # time.monotonic() of the last key read

    def __enter__(self) -> Self:
        if self.tty:
            self._saved = termios.tcgetattr(self.fd_in)
            mode = termios.tcgetattr(self.fd_in)
            mode[0] &= ~termios.IXON  # Ctrl-S must not freeze the screen mid-interview
            mode[3] &= ~(termios.ICANON | termios.ECHO | termios.IEXTEN)
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            termios.tcsetattr(self.fd_in, termios.TCSADRAIN, mode)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.fd_in, termios.TCSADRAIN, self._saved)
            self._saved = None

    # ------------------------------------------------------------------ output

    def _write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        try:
            while data:
                data = data[os.write(self.fd_out, data) :]
        except OSError as exc:  # the terminal is gone
            raise TerminalClosed(signal.SIGHUP) from exc

    def show(self, text: str) -> None:
        self._write(text + "\n")

    def hide(self) -> None:
        self._write(CLEAR_SCREEN)

    def new_question(self) -> None:
        """Drop keys typed (or lines pasted) before the question was on screen, and the rest of a burst.

        A word typed at normal speed ("nej" and Enter) answers with its first key,
        and its other keys arrive after the next question is on screen, too soon
        for anyone to have read it: they would answer it falsely ("j" as "Ja").
        So keys that follow the previous key within ``BURST_GAP`` are dropped
        until a pause; Esc and Ctrl-X always hide.
        """
        if self.tty:
            with contextlib.suppress(termios.error):
                termios.tcflush(self.fd_in, termios.TCIFLUSH)
            self._guard = True

    # ------------------------------------------------------------------ input

    def _byte(self) -> bytes:
        try:
            data = os.read(self.fd_in, 1)
        except OSError as exc:
            raise TerminalClosed(signal.SIGHUP) from exc
        if not data:
            raise EOFError
        return data

    def _char(self) -> str:
        """One character (UTF-8 decoded); Esc alone and Ctrl-X become ``HIDE``."""
        while True:
            first = self._byte()
            lead = first[0]
            if lead == 0x1B:
                if self._more_waiting():
                    self._discard_sequence()
                    continue
                return HIDE
            size = 1 if lead < 0x80 else 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4
            data = first + b"".join(self._byte() for _ in range(size - 1))
            return data.decode("utf-8", "replace")

    def _more_waiting(self) -> bool:
        ready, _, _ = select.select([self.fd_in], [], [], 0.03)
        return bool(ready)

    def _discard_sequence(self) -> None:
        """An arrow or function key (or a pasted escape code): read and drop the rest of it.

        CSI sequences (``ESC [``) end at the first byte in 0x40–0x7E, SS3 (``ESC O``)
        after one more byte; anything else after ESC was Alt plus a key.
        """
        kind = self._byte()
        if kind == b"[":
            while not 0x40 <= self._byte()[0] <= 0x7E:
                pass
        elif kind == b"O":
            self._byte()

    def _key(self) -> str:
        """The next key, dropping those that continue the burst that answered the previous question."""
        while True:
            ch = self._char()
            now = time.monotonic()
            burst = now - self._last_key < self._gap
            self._last_key = now
            if not (self._guard and burst) or ch == HIDE:
                self._guard = False
                return ch

    def read_key(self, prompt: str) -> str:
        if not self.tty:
            line = self._pipe_line(prompt)
            return HIDE if HIDE in line else (line[:1] or ENTER)
        self._write(prompt)
        ch = self._key()
        if ch in ("\r", "\n"):
            self._write("\n")
            return ENTER
        if ch == _EOF:
            raise EOFError
        self._write((safe_text(ch) if ch != HIDE else "") + "\n")
        return ch

    def read_line(self, prompt: str) -> str:
        if not self.tty:
            line = self._pipe_line(prompt)
            return HIDE if HIDE in line else line
        self._write(prompt)
        buf: list[str] = []
        while True:
            ch = self._key()
            if ch == HIDE:
                return HIDE
            if ch in ("\r", "\n"):
                self._write("\n")
                return "".join(buf)
            if ch in _ERASE:
                if buf:
                    self._write("\b \b" * _width(buf.pop()))
            elif ch == _KILL_LINE:
                self._write("\b \b" * sum(_width(c) for c in buf))
                buf.clear()
            elif ch == _EOF and not buf:
                raise EOFError
            elif unicodedata.category(ch) != "Cc" and len(buf) < MAX_TEXT:
                buf.append(ch)
                self._write(safe_text(ch))

    def _pipe_line(self, prompt: str) -> str:
        """Input from a pipe or file: one line per answer (for scripts)."""
        self._write(prompt)
        raw = sys.stdin.buffer.readline()
        if not raw:
            raise EOFError
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        self._write("\n")
        return line


def _width(ch: str) -> int:
    """Columns a character took when echoed (escaped, wide or combining)."""
    shown = safe_text(ch)
    if shown != ch:
        return len(shown)
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
