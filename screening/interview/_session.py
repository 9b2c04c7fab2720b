"""The state of one interview: committed answers, where we are, and what is shown next.

May import: errors, instrument, scoring, loader, store, _texts / stdlib.

The session holds no answer the store does not hold: ``record`` writes first and
updates memory only after COMMIT returned, so what the screen acknowledges, the
memory and the database always agree. Which questions are shown follows the
instrument's ``show_if`` conditions evaluated by the engine itself (an item whose
condition is unknown is asked).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..content.loader import list_instruments, parse_instrument
from ..engine.instrument import Item, Option, Text
from ..engine.scoring import CompiledInstrument
from ..errors import StoreError
from ..store import AssessmentInfo, Store

if TYPE_CHECKING:
    from ..referral import CompiledRuleSet

__all__ = ["Session", "assign_keys", "load_pinned"]


def assign_keys(labels: list[tuple[Text, dict[str, str] | None, bool]], lang: str) -> list[str]:
    """One key per choice: the author's key, else ``?`` for the first unknown option, else a free letter.

    ``?`` answers "unknown" on every question whatever key the option shows (the
    interview maps it to the first unknown option), so it is never given to a
    known answer.

    Args:
        labels: per choice, its label, its explicit ``keys`` and whether it is an unknown option.
        lang: which language's labels and keys to use.

    Returns:
        A key per choice, all different, none of them a command key.
    """
    keys: list[str | None] = [None] * len(labels)
    used: set[str] = {"?"}
    for n, (_, explicit, _) in enumerate(labels):
        key = (explicit or {}).get(lang)
        if key and key not in used:
            keys[n] = key
            used.add(key)
    first_unknown = next((n for n, (_, _, unknown) in enumerate(labels) if unknown), None)
    if first_unknown is not None and keys[first_unknown] is None:
        keys[first_unknown] = "?"
    for n, (label, _, _) in enumerate(labels):
        if keys[n] is None:
            text = label.get(lang).lower()
            choice = next((c for c in text if c.isalnum() and c not in used), None)
            if choice is None:
                choice = next(c for c in "123456789abcdefghijklmnopqrstuvwxyz" if c not in used)
            keys[n] = choice
            used.add(choice)
    return [k for k in keys if k is not None]


def option_keys(ci: CompiledInstrument, item: Item, lang: str) -> list[tuple[str, Option]]:
    """(key, option) pairs of a choice item or field, in the scale's order."""
    options = ci.instrument.scales[item.scale or ""].options
    keys = assign_keys([(o.label, {str(k): v for k, v in (o.keys or {}).items()}, o.unknown) for o in options], lang)
    return list(zip(keys, options, strict=True))


def load_pinned(info: AssessmentInfo, home: str | os.PathLike[str] | None = None) -> CompiledInstrument:
    """The exact instrument version an assessment was started with, found by content hash.

    Looks at the file the assessment was started from, then at every installed
    version of the same instrument; never falls back to another version.

    Raises:
        StoreError: no file with the pinned hash is available.
    """
    candidates: list[Path] = []
    if info.instrument_path:
        candidates.append(Path(info.instrument_path))
    candidates.extend(f.path for f in list_instruments(home) if f.id == info.instrument_id)
    for path in candidates:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == info.instrument_sha256:
            return parse_instrument(data, str(path))
    raise StoreError(
        f"the assessment was started with {info.instrument_id} {info.instrument_version} "
        f"(sha256 {info.instrument_sha256[:12]}…), and no file with that content is available any more; "
        "it is not continued on another version. Restore that file (or point SCREENING_HOME at it) to resume",
        info.case_ref,
    )


class Session:
    """A draft being answered, one committed answer at a time."""

    def __init__(self, store: Store, ci: CompiledInstrument, assessment_id: str) -> None:
        self.store = store
        self.ci = ci
        self.aid = assessment_id
        # Unaudited reads: run_interview logged the case's "view" when it opened it (store.py's docstring).
        rows = store._session_answer_rows(assessment_id)
        self.answers: dict[str, object] = {k: v for k, (v, _) in rows.items()}
        self.partial: set[str] = {k for k, (_, p) in rows.items() if p}
        self.facts: dict[str, object] = store._session_facts(assessment_id)  # None: asked, not known
        self.order = ci.order
        self.cursor: int | None = None
        self.from_summary = False
        self._visible = self._compute_visible()
        self.cursor = self.resume_point()

    # ------------------------------------------------------------------ reading

    def _compute_visible(self) -> tuple[str, ...]:
        ev = self.ci.evaluate(self.ci.check_answers(self.answers))
        hidden = set(ev.skipped_items)
        return tuple(k for k in self.order if k not in hidden)

    @property
    def visible(self) -> tuple[str, ...]:
        """Items asked given the answers so far (an undecidable ``show_if`` is asked)."""
        return self._visible

    def applicable(self) -> dict[str, object]:
        """The committed answers of shown items: what is scored and summarised."""
        return {k: self.answers[k] for k in self._visible if k in self.answers}

    def resume_point(self) -> int | None:
        """Index of the first shown item without a final answer, or ``None`` when all are answered."""
        for key in self._visible:
            if key not in self.answers or key in self.partial:
                return self.order.index(key)
        return None

    def current(self) -> Item | None:
        return None if self.cursor is None else self.ci.items[self.order[self.cursor]]

    def position(self) -> tuple[int, int]:
        """(1-based number among shown items, number of shown items) of the current item."""
        item = self.current()
        if item is None or item.id not in self._visible:
            return len(self._visible), len(self._visible)
        return self._visible.index(item.id) + 1, len(self._visible)

    def section_of(self, item_id: str) -> Text:
        return next(s.title for s in self.ci.instrument.sections if any(i.id == item_id for i in s.items))

    # ------------------------------------------------------------------ writing

    def record(self, item_id: str, value: object, *, partial: bool = False) -> None:
        """Validate, commit, then remember; on any failure memory is unchanged.

        Raises:
            AnswerError: the value does not fit the item (nothing written).
            StoreError: the write failed (nothing written; try again).
        """
        clean = self.ci.check_answers({item_id: value})
        stored = clean.get(item_id)
        self.store.record_answer(self.aid, item_id, stored, partial=partial)
        self.answers[item_id] = stored
        if partial:
            self.partial.add(item_id)
        else:
            self.partial.discard(item_id)
        self._visible = self._compute_visible()

    def record_fact(self, rules: CompiledRuleSet, name: str, value: object) -> None:
        """Validate a case fact against its declaration, commit it, then remember it.

        Raises:
            AnswerError: the value does not fit the fact (nothing written).
            StoreError: the write failed (nothing written; try again).
        """
        if value is not None:
            rules.check_facts({name: value})
        self.store.record_fact(self.aid, name, value)
        self.facts[name] = value

    def known_facts(self, rules: CompiledRuleSet | None) -> dict[str, object]:
        """The stored facts the rule set declares, unknown ones left out (they stay unknown)."""
        if rules is None:
            return {}
        return {n: v for n, v in self.facts.items() if v is not None and n in rules.ruleset.facts}

    def unknown_value(self, item: Item) -> str | None:
        """How "unknown / skipped" is stored: the scale's unknown option, else null."""
        if item.type == "choice":
            options = self.ci.instrument.scales[item.scale or ""].options
            return next((o.value for o in options if o.unknown), None)
        return None

    # ------------------------------------------------------------------ moving

    def advance(self) -> None:
        """Go to the next shown item, or (after a change from the summary) back towards it."""
        if self.from_summary or self.cursor is None:
            self.cursor = self.resume_point()
            return
        later = [k for k in self._visible if self.order.index(k) > self.cursor]
        self.cursor = self.order.index(later[0]) if later else self.resume_point()

    def back(self) -> bool:
        """Go to the shown item before the current one; ``False`` at the first question."""
        limit = len(self.order) if self.cursor is None else self.cursor
        earlier = [k for k in self._visible if self.order.index(k) < limit]
        if not earlier:
            return False
        self.cursor = self.order.index(earlier[-1])
        self.from_summary = False
        return True

    def goto(self, item_id: str) -> None:
        """Change one answer from the summary, then come back to it."""
        if item_id not in self.order:
            raise StoreError(f"no item {item_id!r}", self.aid)
        self.cursor = self.order.index(item_id)
        self.from_summary = True
