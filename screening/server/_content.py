"""Instruments and the rule set the server uses, loaded and compiled once per process.

May import: api, content, engine, referral, interview (``load_pinned``) / stdlib.

Loading compiles and checks every expression (never at scoring time); doing it
per request would cost more than the scoring. A case is always continued on the
exact instrument version it was started with (``load_pinned``, by content hash),
cached by that hash.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..api import resolve_rules
from ..content.loader import list_instruments, load_instrument
from ..engine.scoring import CompiledInstrument
from ..interview import load_pinned
from ..referral import CompiledRuleSet
from ..store import AssessmentInfo
from ._problems import Problem

__all__ = ["Content"]


class Content:
    """The server's instruments (by ``id`` or ``id@version``) and its rule set."""

    def __init__(self, home: Path | None, rules: str) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._by_ref: dict[str, CompiledInstrument] = {}
        self._by_sha: dict[str, CompiledInstrument] = {}
        self.rules: CompiledRuleSet | None = resolve_rules(rules, home, check="all")

    def listing(self) -> list[tuple[str, str, Path]]:
        """(id, version, path) of every installed instrument version."""
        return [(f.id, f.version, f.path) for f in list_instruments(self.home)]

    def instrument(self, ref: str, version: str | None = None) -> CompiledInstrument:
        """An installed instrument, the newest version unless one is named.

        Raises:
            Problem: no such instrument (or version) is installed (404).
            SpecError: it does not load.
        """
        if not any(i == ref and (version is None or v == version) for i, v, _ in self.listing()):
            raise Problem("not-found", "no such instrument" + (" version" if version else ""))
        key = f"{ref}@{version}" if version else ref
        with self._lock:
            found = self._by_ref.get(key)
        if found is None:
            found = load_instrument(key, self.home)
            with self._lock:
                self._by_ref[key] = found
        return found

    def pinned(self, info: AssessmentInfo) -> CompiledInstrument:
        with self._lock:
            found = self._by_sha.get(info.instrument_sha256)
        if found is None:
            found = load_pinned(info, self.home)
            with self._lock:
                self._by_sha[info.instrument_sha256] = found
        return found
