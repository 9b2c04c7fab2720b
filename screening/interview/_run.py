"""The caseworker's interview: one question at a time, every confirmed answer committed first.

May import: errors, instrument, scoring, engine, present, store, _interview_* / stdlib (no typer).

The flow talks to the person only through a ``Prompter`` (show text, read a key,
read a line, hide the screen), so tests script whole interviews without a
terminal and the terminal front end stays small. The order of events for every
answer is fixed: read → validate → COMMIT → acknowledge on screen. Nothing is
acknowledged that is not durable, and an interruption at any moment (Ctrl-C, a
closed terminal, kill -9) loses nothing that was acknowledged.

Keys: answers are letters or digits (``?`` is always "unknown"); commands are
``<`` previous, ``-`` skip (recorded as unknown), ``!`` help, ``.`` save and
quit, and Ctrl-X or Esc to hide the screen at once (saved, neutral message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from ..engine.instrument import Item, Option
from ..engine.pnr import looks_like_personnummer
from ..engine.result import Result
from ..engine.scoring import MAX_TEXT, CompiledInstrument
from ..errors import AnswerError, AssessmentLocked, InterviewInterrupted, StoreError
from ..report.present import safe_text
from ..store import Store
from ._dates import check_date, date_hint
from ._session import Session, option_keys
from ._signals import KEEP as _KEEP
from ._signals import MOVED as _MOVED
from ._signals import NONE as _NONE
from ._texts import BACK, COMMANDS, ENTER, HELP, HIDE, QUIT, SKIP, UNKNOWN_KEY, in_language, say

if TYPE_CHECKING:
    from ..referral import CompiledRuleSet

__all__ = ["Outcome", "Prompter", "run_interview"]


class Prompter(Protocol):
    """How the interview meets a person; a terminal, or a script in tests.

    ``read_key`` returns one character (``"\\r"`` for Enter, ``HIDE`` for the
    hide key); ``read_line`` returns a line without its newline, or ``HIDE``.
    Both raise ``EOFError`` when input ends and ``KeyboardInterrupt`` on Ctrl-C.
    ``hide`` clears the screen and scrollback at once; ``new_question`` says a
    new question is about to be shown (a terminal drops keys typed ahead, so no
    question is answered before it was seen).
    """

    def show(self, text: str) -> None: ...

    def read_key(self, prompt: str) -> str: ...

    def read_line(self, prompt: str) -> str: ...

    def hide(self) -> None: ...

    def new_question(self) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How an interview ended: ``completed`` (with its result), ``saved`` or ``hidden``."""

    status: Literal["completed", "saved", "hidden"]
    assessment_id: str
    result: Result | None = None


class _Stop(Exception):
    """Leave the flow with a command (save-and-quit or hide)."""

    def __init__(self, command: str) -> None:
        self.command = command


def run_interview(
    store: Store,
    ci: CompiledInstrument,
    assessment_id: str,
    prompter: Prompter,
    *,
    lang: str = "sv",
    assessor: str | None = None,
    rules: CompiledRuleSet | None = None,
) -> Outcome:
    """Run (or resume) the interview for one draft until it is completed, saved or hidden.

    Args:
        store: the open store; the draft is locked to it (if the caller has not already).
        ci: the pinned instrument (see ``load_pinned``).
        assessment_id: the draft.
        prompter: the terminal or a script.
        lang: ``sv`` or ``en``.
        assessor: recorded with a judgement.
        rules: an optional referral rule set passed on to ``assess``.

    Raises:
        InterviewInterrupted: Ctrl-C, end of input or a closed terminal; every
            acknowledged answer is already committed.
        AssessmentLocked: another process has the draft open.
        StoreError: the assessment is not a draft, was started on another instrument
            version, or the store failed in a way that retrying cannot fix.
    """
    info = store.get(assessment_id)
    if info.status != "draft":
        raise StoreError("the assessment is completed; make a correction to change it", info.case_ref)
    if info.instrument_sha256 != ci.sha256:
        raise StoreError("the assessment was started on another version of the instrument", info.case_ref)
    store.lock(assessment_id)
    store.audit("view", assessment_id, detail="interview")  # opening a case is a view, logged like one
    session = Session(store, ci, assessment_id)
    flow = _Flow(session, prompter, lang, rules)
    last: str | None = None
    try:
        flow.intro(resumed=bool(session.answers or session.facts))
        from ._facts import ask_facts

        ask_facts(flow, rules)
        while True:
            item = session.current()
            if item is None:
                from ._end import finish

                result = finish(flow, assessor=assessor, rules=rules)
                if result is not None:
                    return Outcome("completed", assessment_id, result)
                continue
            last = item.id
            flow.ask(item)
    except _Stop as stop:
        if stop.command == HIDE:
            prompter.hide()
            return Outcome("hidden", assessment_id)
        return Outcome("saved", assessment_id)
    except (KeyboardInterrupt, EOFError):
        raise InterviewInterrupted(assessment_id, last) from None


class _Flow:
    """Asking items and handling the commands; shared with the summary and judgement steps."""

    def __init__(self, session: Session, prompter: Prompter, lang: str, rules: CompiledRuleSet | None = None) -> None:
        self.s = session
        self.p = prompter
        self.lang = lang
        self.rules = rules
        self._sections_seen: set[str] = set()
        self._total: int | None = None  # the question total last shown

    def say(self, key: str, **params: object) -> str:
        return say(key, self.lang, **params)

    def text(self, value: object) -> str:
        """Any content or answer text made inert for the terminal."""
        return safe_text(str(value))

    def intro(self, *, resumed: bool) -> None:
        inst = self.s.ci.instrument
        info = self.s.store.get(self.s.aid)
        title = self.text(inst.title.get(self.lang))
        self.p.show(self.say("case", ref=self.text(info.case_ref), title=title, version=inst.version))
        self.p.show(self.say("resumed") if resumed else self.text(inst.intro.get(self.lang)))
        self.p.show(self.say("legend"))

    # ------------------------------------------------------------------ commands

    def command(self, cmd: str, item: Item | None) -> bool:
        """Handle a command; ``True`` when the current question is done (moved)."""
        if cmd in (HIDE, QUIT):
            raise _Stop(cmd)
        if cmd == HELP:
            help_text = item.help.get(self.lang) if item is not None and item.help else None
            self.p.show(self.say("help", text=self.text(help_text)) if help_text else self.say("no_help"))
            return False
        if cmd == BACK:
            if not self.s.back():
                self.p.show(self.say("first_question"))
                return False
            return True
        return False

    def commit(self, item: Item, value: object, *, partial: bool = False) -> bool:
        """Record an answer; say so only after COMMIT. ``False`` if it must be offered again."""
        try:
            self.s.record(item.id, value, partial=partial)
        except AssessmentLocked:
            raise
        except AnswerError:
            self.p.show(self.say("bad_answer", hint=self.hint(item)))
            return False
        except StoreError as exc:
            self.p.show(self.say("save_failed", reason=in_language(exc.message, self.lang, "store_problem")))
            return False
        return True

    # ------------------------------------------------------------------ showing

    def header(self, item: Item) -> None:
        section = next(s for s in self.s.ci.instrument.sections if any(i.id == item.id for i in s.items))
        if section.id not in self._sections_seen:
            self._sections_seen.add(section.id)
            if section.intro is not None:
                self.p.show(self.text(section.intro.get(self.lang)))
        n, total = self.s.position()
        self.p.show("")
        self.p.show(self.say("question", n=n, total=total, section=self.text(section.title.get(self.lang))))
        # The total counts every item not known to be skipped (an undecided show_if is
        # counted), so it changes only when an answer decides a skip; say so, never a silent jump.
        if self._total is not None and total != self._total:
            change = total - self._total
            key = ("total_fewer" if change < 0 else "total_more") + ("_one" if abs(change) == 1 else "")
            self.p.show(self.say(key, total=total, n=abs(change)))
        self._total = total
        self.p.show(self.text(item.text.get(self.lang)))

    def describe(self, item: Item, value: object) -> str:
        """An answer in words: the option's label, a row count, or the text made safe."""
        if value is None:
            return self.say("skipped")
        if item.type == "choice":
            for _, opt in option_keys(self.s.ci, item, self.lang):
                if opt.value == value:
                    return self.text(opt.label.get(self.lang))
        if item.type == "group" and isinstance(value, list):
            return self.say("one_row") if len(value) == 1 else self.say("rows", n=len(value))
        return self.text(value)

    def hint(self, item: Item) -> str:
        if item.type == "number":
            return self.say("number_hint", lo=item.min, hi=item.max)
        if item.type == "date":
            return date_hint(item, self.lang)
        if item.pseudonym:  # the same refusal check_answers gives, in the session's language
            return in_language(PSEUDONYM_HINT, self.lang, PSEUDONYM_HINT)
        if item.type == "text":
            return self.say("text_hint", max=MAX_TEXT)
        return self.say("choice_hint")

    # ------------------------------------------------------------------ asking

    def ask(self, item: Item) -> None:
        """Ask the current item until it is answered, skipped, or a command moves on."""
        self.p.new_question()
        self.header(item)
        if item.type == "group":
            from ._group import ask_group

            ask_group(self, item)
            return
        current = self.s.answers.get(item.id, _NONE)
        pending: object = _NONE
        while True:
            value = self.read_value(item, current, pending=pending)
            if value is _MOVED:
                return
            if value is _KEEP:
                self.s.advance()
                return
            if self.commit(item, value):
                self.p.show(self.say("saved", answer=self.describe(item, value)))
                self.s.advance()
                return
            pending = value

    def read_value(
        self,
        item: Item,
        current: object,
        *,
        pending: object = _NONE,
        on_empty: object = _NONE,
        on_skip: object = _NONE,
        intercept: Callable[[str], object] | None = None,
    ) -> object:
        """Read one answer for an item or a group field.

        Returns the value, ``_KEEP`` (Enter on an answered question), ``_MOVED`` (a
        command moved the cursor), ``pending`` again (Enter after a failed save),
        ``on_empty`` (Enter on an unanswered question) or ``on_skip`` (the skip
        key), when those are given; a skip otherwise gives the unknown value.
        ``intercept`` sees every non-empty entry before commands and parsing (a
        group row's ``<`` and ``#N``); what it returns, unless ``_NONE``, is returned.
        """
        keys = dict(option_keys(self.s.ci, item, self.lang)) if item.type == "choice" else {}
        if keys:
            self.p.show("  " + "   ".join(f"[{k}] {self.text(o.label.get(self.lang))}" for k, o in keys.items()))
        if pending is not _NONE:
            self.p.show(self.say("pending", answer=self.describe(item, pending)))
        elif current is not _NONE:
            self.p.show(self.say("current", answer=self.describe(item, current)))
        while True:
            raw = self.p.read_key("> ") if keys else self.p.read_line(self.say("answer_prompt", hint=self.hint(item)))
            entry = raw if keys else raw.strip()
            if entry in (ENTER, "\n", ""):
                if pending is not _NONE:
                    return pending
                if current is not _NONE:
                    return _KEEP
                if on_empty is not _NONE:
                    return on_empty
            caught = intercept(entry) if intercept is not None and entry not in (ENTER, "\n", "") else _NONE
            if caught is not _NONE:
                return caught
            if entry == HIDE or entry in COMMANDS:
                if entry == SKIP:
                    return self.s.unknown_value(item) if on_skip is _NONE else on_skip
                if self.command(entry, item):
                    return _MOVED
                continue
            value = self.parse(item, entry, keys)
            if value is not _NONE:
                return value

    def parse(self, item: Item, entry: str, keys: dict[str, Option]) -> object:
        """Turn what was typed into a value, or say what fits and return ``_NONE``."""
        if entry == UNKNOWN_KEY and UNKNOWN_KEY not in keys:
            return self.s.unknown_value(item)
        if keys:
            option = keys.get(entry.lower())
            if option is None:
                self.p.show(self.say("press_key"))
                return _NONE
            return option.value
        if not entry:
            self.p.show(self.say("type_answer"))
            return _NONE
        if item.type == "date":  # exact or approximate, in the item's window, never in the future
            day, why = check_date(item, entry, self.lang)
            if day is None:
                self.p.show(why)
                return _NONE
            return day
        value = _typed(item, entry)
        if value is _NONE:
            self.p.show(self.say("bad_answer", hint=self.hint(item)))
        return value


def _typed(item: Item, entry: str) -> object:
    """A number, date or text as the item wants it; ``_NONE`` if it does not fit.

    The top-level check is ``CompiledInstrument.check_answers`` when the answer is
    recorded; this one also serves group fields, which are checked with their row.
    """
    if item.type == "number":
        digits = entry[1:] if entry[:1] in "+-" else entry
        if not (digits.isascii() and digits.isdigit()):
            return _NONE
        number = int(entry)
        return number if item.min is not None and item.max is not None and item.min <= number <= item.max else _NONE
    if item.type == "date":
        try:
            dt.date.fromisoformat(entry)
        except ValueError:
            return _NONE
        return entry if len(entry) == 10 else _NONE
    if item.pseudonym and looks_like_personnummer(entry):
        return _NONE  # refused as typed, so the row is never saved and then refused as a whole
    return entry if len(entry) <= MAX_TEXT else _NONE


PSEUDONYM_HINT = (
    "en pseudonym som F1, aldrig ett personnummer / a pseudonym such as P1, never a personal identity number"
)
