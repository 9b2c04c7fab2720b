"""The exception tree and the located ``Issue`` record.

May import: nothing from ``screening``; stdlib only.

Every error the library raises on purpose derives from ``ScreeningError``, so a
caller (the CLI, another system, the batch runner) can catch one type. Errors are
data: location and context live in attributes and ``__str__`` builds the text.
Constructors never print, log or include answer *content* — a free-text answer
can hold a name or an identity number, and exception texts end up in logs.

Messages can still quote what a person or a file supplied (a fact name, an id, a
path), so every ``ScreeningError``'s text goes through ``printable`` in one place
(``ScreeningError.__init_subclass__`` wraps each subclass's ``__str__``): control
characters and bidirectional overrides are shown escaped (``\\x1b``), never sent
to a terminal or a log as they are.

::

    ScreeningError
    ├── SpecError              .issues: tuple[Issue, ...]  (instrument/rules files)
    │   └── ExpressionError    .text .column .suggestion  (one bad expression)
    ├── AnswerError            .item_id .allowed .reason  (never the value itself)
    ├── JudgementError         .reason                    (override policy broken)
    ├── StoreError             .record_id
    │   └── AssessmentLocked   (another process has the draft open)
    └── InterviewInterrupted   .last_item_id  (answers already committed)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = [
    "AnswerError",
    "AssessmentLocked",
    "ExpressionError",
    "InterviewInterrupted",
    "Issue",
    "JudgementError",
    "ScreeningError",
    "SpecError",
    "StoreError",
    "printable",
]

# Bidirectional embeddings, overrides and isolates reorder what a terminal shows.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\u202e``); line breaks kept.

    A message may span lines (a ``SpecError`` lists one issue a line), so ``\\n``
    stays; everything else that could move the cursor, clear the screen or reorder
    the text is shown as its escape. Printable text, Swedish letters included, is
    unchanged, so escaping twice changes nothing.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch == "\n" or (ch.isprintable() and ch not in _BIDI) else ascii(ch)[1:-1] for ch in text
    )


_E = TypeVar("_E", bound=BaseException)


def _escaping(method: Callable[[_E], str]) -> Callable[[_E], str]:
    @functools.wraps(method)
    def __str__(self: _E) -> str:
        return printable(method(self))

    __str__.escaped = True  # type: ignore[attr-defined]
    return __str__


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a specification file, with where it is.

    Attributes:
        source: file name (or ``<string>``) the problem was found in.
        line: 1-based line, 0 when unknown.
        column: 1-based column, 0 when unknown.
        loc: dotted path inside the document (``sections.0.items.3.scale``).
        message: what is wrong, in words an instrument author understands.
        suggestion: a close valid name, for "did you mean …?".
    """

    source: str
    line: int
    column: int
    loc: str
    message: str
    suggestion: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = self.source
        if self.line:
            where += f":{self.line}:{self.column}"
        text = f"{where}: "
        if self.loc:
            text += f"{self.loc}: "
        text += self.message
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text


class ScreeningError(Exception):
    """Base of every error ``screening`` raises on purpose; its text is always ``printable``."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__str__")
        if own is not None and not getattr(own, "escaped", False):
            cls.__str__ = _escaping(own)  # type: ignore[method-assign]

    @_escaping
    def __str__(self) -> str:
        return super().__str__()


class SpecError(ScreeningError):
    """An instrument, rule set or catalogue file is invalid.

    Carries *all* problems found, sorted by position, so an author fixes them in
    one round instead of one per run.
    """

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(sorted(issues))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues) or "invalid specification"


class ExpressionError(SpecError):
    """An expression could not be parsed or checked.

    ``column`` is 1-based within ``text``. The loader re-raises it as a
    ``SpecError`` whose issue points into the YAML file.
    """

    def __init__(
        self,
        message: str,
        text: str,
        column: int = 0,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.column = column
        self.suggestion = suggestion
        super().__init__([Issue("<expression>", 1 if column else 0, column, "", message, suggestion)])

    def __str__(self) -> str:
        text = f"{self.message} in {self.text!r}"
        if self.column:
            text += f" at column {self.column}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text


class AnswerError(ScreeningError):
    """An answer does not fit its item.

    The rejected *value* is deliberately not stored: it may be personal data.
    """

    def __init__(self, item_id: str, reason: str, allowed: Sequence[str] = ()) -> None:
        self.item_id = item_id
        self.reason = reason
        self.allowed = tuple(allowed)
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.item_id}: {self.reason}"
        if self.allowed:
            text += f" (allowed: {', '.join(self.allowed)})"
        return text


class JudgementError(ScreeningError):
    """A professional judgement breaks the instrument's override policy.

    ``reason`` is the text for logs and callers; ``words``, when given, is the same
    refusal for the caseworker in their language (``words.get("sv")``, an
    ``instrument.Text``), with level names instead of ids. The interview shows
    ``words`` and never an English-only ``reason``.
    """

    def __init__(self, reason: str, words: _Words | None = None) -> None:
        self.reason = reason
        self.words = words
        super().__init__(reason)


class _Words(Protocol):
    def get(self, lang: str) -> str: ...


class StoreError(ScreeningError):
    """The case store could not do what was asked."""

    def __init__(self, message: str, record_id: str | None = None) -> None:
        self.message = message
        self.record_id = record_id
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.record_id}: {self.message}" if self.record_id else self.message


class AssessmentLocked(StoreError):
    """Another process has this draft open; nothing was written."""


class InterviewInterrupted(ScreeningError):
    """The interview stopped early (Ctrl-C, quick-hide, closed terminal).

    Every confirmed answer was committed before it was acknowledged, so this
    carries only where the interview stopped, not the answers themselves.
    """

    def __init__(self, assessment_id: str, last_item_id: str | None) -> None:
        self.assessment_id = assessment_id
        self.last_item_id = last_item_id
        super().__init__(f"interview {assessment_id} interrupted")
