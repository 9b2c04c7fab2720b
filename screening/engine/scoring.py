"""Pure scoring: answers → item values → scores (with intervals) → level range.

May import: errors, expr, instrument, checks / stdlib.

``CompiledInstrument`` is built once per instrument (expressions compiled, point
tables flattened) and then scores any number of answer sets; batch re-scoring
and the benchmark call ``evaluate`` millions of times, so the hot loop works on
plain dicts and tuples and builds no pydantic objects. Unknown answers widen a
score into an interval; they are never counted as "no".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import AnswerError
from . import expr
from ._functions import date_interval
from .checks import score_items, symbols_for
from .expr import UNKNOWN, Interval
from .instrument import Instrument, Item
from .pnr import looks_like_personnummer

__all__ = ["CompiledInstrument", "Evaluation"]

MAX_TEXT = 20_000
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What scoring found, before judgement and wording.

    ``env`` maps item and score ids to values; ``UNKNOWN`` marks unknown answers and
    ``None`` skipped ones. Level fields are indexes into ``instrument.levels``.
    ``unknown_items`` are the unknown answers that count against ``max_unknown``;
    ``unknown_answers`` every shown item whose answer is unknown, counted or not.
    """

    env: dict[str, object]
    unknown_items: tuple[str, ...]
    skipped_items: tuple[str, ...]
    scores: dict[str, tuple[int, int]]
    computed: tuple[int, int] | None
    fired: tuple[int, ...]
    possible: tuple[int, ...]
    unknown_answers: tuple[str, ...] = ()


class CompiledInstrument:
    """An instrument ready to score: expressions compiled, point tables flattened."""

    def __init__(self, instrument: Instrument, sha256: str = "") -> None:
        self.instrument = instrument
        self.sha256 = sha256
        self.texts_sha256: str | None = None  # set when licensed wording is overlaid
        self.levels = instrument.level_ids()
        self.items: dict[str, Item] = {i.id: i for i in instrument.items()}
        self.order = tuple(self.items)
        self.known: dict[str, dict[str, int]] = {}
        self.unknown_options: dict[str, frozenset[str]] = {}
        for item in self.items.values():
            if item.type == "choice":
                scale = instrument.scales[item.scale or ""]
                self.known[item.id] = {o.value: o.points for o in scale.options if not o.unknown}
                self.unknown_options[item.id] = frozenset(o.value for o in scale.options if o.unknown)
        # Every value a choice item takes, for check_answers' common case (one set look-up).
        self.choice_values = {key: frozenset(known) | self.unknown_options[key] for key, known in self.known.items()}
        self.show_if = {
            i.id: expr.compile_expression(i.show_if, symbols_for(instrument, upto=i.id))
            for i in self.items.values()
            if i.show_if
        }
        self.scores = tuple(self._score_table(s.id) for s in instrument.scores)
        everything = symbols_for(instrument)
        without_fired = symbols_for(instrument, critical=False)
        self.critical = tuple(
            (c, expr.compile_expression(c.when, without_fired), self.levels.index(c.raise_to))
            for c in instrument.critical
        )
        self.raise_to = tuple(level for _, _, level in self.critical)  # each critical rule's level
        with_level = dict(everything, final_level=expr.LevelType(self.levels))
        self.requirements = tuple((r, expr.compile_expression(r.check, with_level)) for r in instrument.requirements)
        self.bands: tuple[tuple[int, int, int], ...] = ()
        if instrument.bands:
            self.bands = tuple((b.min, b.max, self.levels.index(b.level)) for b in instrument.bands.ranges)
        # Unknowns that matter: items feeding a score or a critical rule (an unknown
        # own-view or free-text answer cannot make the level incomplete).
        scored = {key for _, rows in self.scores for key, *_ in rows}
        named = {name for _, cond, _ in self.critical for name in cond.names}
        self.counted = frozenset(
            i.id for i in self.items.values() if i.type in ("choice", "number") and i.id in scored | named
        )
        # _walk's loop without skip logic: each item with its unknown options and whether it counts.
        self.uncounted = len(self.counted) < len(self.items)  # some unknown answer would count for nothing
        self._plain_walk = tuple((key, self.unknown_options.get(key), key in self.counted) for key in self.order)
        from ._fast import FastPath

        self.fast = FastPath(self)

    def _score_table(self, score_id: str) -> tuple[str, tuple[tuple[str, dict[str, int], int, int], ...]]:
        score = next(s for s in self.instrument.scores if s.id == score_id)
        rows = []
        for item in score_items(self.instrument, score):
            table = dict(self.known[item.id])
            if score.kind == "count":
                table = {v: int(v in (score.values or ())) for v in table}
            rows.append((item.id, table, min(table.values()), max(table.values())))
        return score.id, tuple(rows)

    # ------------------------------------------------------------------ answers

    def check_answers(self, answers: Mapping[str, object]) -> dict[str, object]:
        """Validate and normalise answers; raise ``AnswerError`` naming the item.

        ``None`` means "not answered" and is dropped. The rejected value is never
        put in the error: it may be a name or an identity number.
        """
        clean: dict[str, object] = {}
        choice_values = self.choice_values
        for key, value in answers.items():
            allowed = choice_values.get(key)
            if allowed is not None and value.__class__ is str and value in allowed:
                clean[key] = value  # a choice item's own option: what _check_value would return
                continue
            item = self.items.get(key)
            if item is None:
                # Echo the key only if it looks like an id: a mis-indented line of free
                # text read as a key must not end up in an error message.
                shown = str(key) if _ID.fullmatch(str(key)) else "(a key that is not an item id)"
                suggestion = expr.suggest(shown, self.order) if shown == str(key) else None
                hint = f"; did you mean {suggestion!r}?" if suggestion else ""
                raise AnswerError(shown, f"no such item in {self.instrument.id}{hint}")
            if isinstance(value, str) and item.type == "text" and not value.strip():
                continue  # blank free text is no answer: known() must not be satisfied by "   "
            if value is not None:
                clean[key] = self._check_value(item, value)
        return clean

    def allowed(self, item: Item) -> tuple[str, ...]:
        """The answer values an item takes, in words for error messages."""
        if item.type == "choice":
            scale = self.instrument.scales[item.scale or ""]
            return tuple(o.value for o in scale.options)
        if item.type == "number":
            return (f"an integer from {item.min} to {item.max}",)
        if item.type == "date":
            return ("a date YYYY-MM-DD, or YYYY-MM or YYYY when approximate",)
        if item.type == "group":
            return (f"a list of at most {item.max_rows} rows",)
        return ("text",)

    def _check_value(self, item: Item, value: object, where: str = "") -> object:
        where = where or item.id
        if item.type == "choice":
            if isinstance(value, str) and (value in self.known[item.id] or value in self.unknown_options[item.id]):
                return value
        elif item.type == "number":
            if type(value) is int and item.min is not None and item.max is not None and item.min <= value <= item.max:
                return value
        elif item.type == "date":
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, str) and _is_date(value):
                return value
        elif item.type == "text":
            if isinstance(value, str) and item.pseudonym and looks_like_personnummer(value):
                raise AnswerError(
                    where, "en pseudonym, aldrig ett personnummer / a pseudonym, never a personal identity number"
                )
            if isinstance(value, str) and len(value) <= MAX_TEXT:
                return value
        elif isinstance(value, list) and len(value) <= item.max_rows:
            return [self._check_row(item, row, f"{where}[{n}]") for n, row in enumerate(value)]
        raise AnswerError(where, "answer not allowed", self.allowed(item))

    def _check_row(self, group: Item, row: object, where: str) -> dict[str, object]:
        fields = {f.id: f for f in group.fields or ()}
        if not isinstance(row, dict):
            raise AnswerError(where, "each row must be a mapping of fields", sorted(fields))
        out: dict[str, object] = {}
        for key, value in row.items():
            field = fields.get(key)
            if field is None:
                raise AnswerError(f"{where}.{str(key)[:64]}", "no such field", sorted(fields))
            if value is not None:
                out[key] = self._check_field(field, value, f"{where}.{key}")
        return out

    def _check_field(self, field: Item, value: object, where: str) -> object:
        if field.type == "choice":
            scale = self.instrument.scales[field.scale or ""]
            if isinstance(value, str) and value in {o.value for o in scale.options}:
                return value
            raise AnswerError(where, "answer not allowed", tuple(o.value for o in scale.options))
        return self._check_value(field, value, where)

    # ------------------------------------------------------------------ scoring

    def evaluate(self, answers: Mapping[str, object]) -> Evaluation:
        """Score already-checked answers (see ``check_answers``)."""
        env, unknown, skipped, maybe, masked = self._walk(answers)
        # When every item counts, the unknown answers are the counted unknowns, in the same order.
        unknown_answers = tuple([k for k in self.order if env[k] is UNKNOWN]) if self.uncounted else tuple(unknown)
        scores: dict[str, tuple[int, int]] = {}
        for score_id, rows in self.scores:
            lo = hi = 0
            if not maybe:  # no gate unknown (always so without skip logic): the plain sum
                for key, table, least, most in rows:
                    v = env[key]
                    if v is UNKNOWN:
                        lo += least
                        hi += most
                    elif v is not None:
                        pts = table[v]  # type: ignore[index]
                        lo += pts
                        hi += pts
                scores[score_id] = (lo, hi)
                env[score_id] = lo if lo == hi else Interval(lo, hi)
                continue
            for key, table, least, most in rows:
                v = env[key]
                if v is None:
                    continue
                if v is UNKNOWN:
                    if key in maybe:  # it may also have been skipped, scoring 0
                        lo += min(least, 0)
                        hi += max(most, 0)
                    else:
                        lo += least
                        hi += most
                else:
                    pts = table[v]  # type: ignore[index]
                    if key in maybe:  # answered, but its gate is unknown: skipped would be 0
                        lo += min(pts, 0)
                        hi += max(pts, 0)
                    else:
                        lo += pts
                        hi += pts
            scores[score_id] = (lo, hi)
            env[score_id] = lo if lo == hi else Interval(lo, hi)
        computed = None
        if self.bands:
            lo, hi = scores[self.instrument.bands.score]  # type: ignore[union-attr]
            computed = (self._band(lo), self._band(hi))
        fired: list[int] = []
        possible: list[int] = []
        states: dict[str, object] = {}
        crit_env = {**env, **masked} if masked else env
        for n, (crit, cond, _) in enumerate(self.critical):
            state = cond.fn(crit_env)
            states[crit.id] = state
            if state is True:
                fired.append(n)
            elif state is UNKNOWN:
                possible.append(n)
        env["@critical"] = states
        return Evaluation(
            env, tuple(unknown), tuple(skipped), scores, computed, tuple(fired), tuple(possible), unknown_answers
        )

    def _walk(
        self, answers: Mapping[str, object]
    ) -> tuple[dict[str, object], list[str], list[str], set[str], dict[str, object]]:
        """The answers in interview order: env, unknown and skipped items, items behind an unknown gate.

        An answer whose gate is unknown may belong to a question that should have been
        skipped: skip conditions and critical rules see it as unknown (``masked``: it is
        the answer or nothing), so a range never claims more than every completion gives.
        Scores and the trace keep the answer itself (scored as "the answer or 0").
        """
        env: dict[str, object] = {}
        unknown: list[str] = []
        skipped: list[str] = []
        maybe: set[str] = set()  # asked because the skip condition was unknown
        masked: dict[str, object] = {}
        get = answers.get
        if not self.show_if:
            # No skip logic (most screening forms): nothing is hidden, masked or maybe.
            for key, unknown_options, is_counted in self._plain_walk:
                value = get(key, UNKNOWN)
                if value.__class__ is str:
                    if unknown_options is not None and value in unknown_options:
                        value = UNKNOWN
                elif value.__class__ is list:
                    value = self._group_env(key, value)
                env[key] = value
                if value is UNKNOWN and is_counted:
                    unknown.append(key)
            return env, unknown, skipped, maybe, masked
        show_if = self.show_if
        counted = self.counted
        for key in self.order:
            cond = show_if.get(key)
            if cond is not None:
                shown = cond.fn({**env, **masked} if masked else env)
                if shown is False:
                    env[key] = None
                    skipped.append(key)
                    continue
                if shown is UNKNOWN:
                    maybe.add(key)
            value = answers.get(key, UNKNOWN)
            if value.__class__ is str and key in self.unknown_options and value in self.unknown_options[key]:
                value = UNKNOWN
            elif value.__class__ is list:
                value = self._group_env(key, value)
            env[key] = value
            if key in maybe and value is not UNKNOWN:
                masked[key] = UNKNOWN
            if value is UNKNOWN and key in counted:
                unknown.append(key)
        return env, unknown, skipped, maybe, masked

    def _group_env(self, key: str, rows: list[dict[str, object]]) -> tuple[dict[str, object], ...]:
        """Rows with unknown-options of choice fields turned into ``UNKNOWN``."""
        item = self.items[key]
        unknown_fields = {
            f.id: frozenset(o.value for o in self.instrument.scales[f.scale or ""].options if o.unknown)
            for f in item.fields or ()
            if f.type == "choice"
        }
        out = []
        for row in rows:
            clean = dict(row)
            for fid, unk in unknown_fields.items():
                if clean.get(fid) in unk:
                    clean[fid] = UNKNOWN
            out.append(clean)
        return tuple(out)

    def _band(self, value: int) -> int:
        for low, high, level in self.bands:
            if low <= value <= high:
                return level
        # Outside every band cannot happen after load checks; fail safe to the top.
        return self.bands[-1][2]


def _is_date(text: str) -> bool:
    """A day ``YYYY-MM-DD``, or an approximate date ``YYYY-MM`` / ``YYYY`` (an interval to the calendar functions)."""
    return date_interval(text) is not None
