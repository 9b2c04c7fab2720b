"""The explanation trace: every step from answers to the final level, in words.

May import: expr, instrument, scoring, result, phrases, engine (types) / stdlib.

Built only for a full ``assess`` (the batch fast path skips it). Each step names
the item, score, band or rule it is about, in both languages, so a colleague
reading the case file months later can follow how the level came about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from .expr import UNKNOWN, Interval
from .instrument import JudgementInput, Text
from .phrases import phrase, points, unknowns
from .result import OwnViewResult, TraceStep
from .scoring import CompiledInstrument, Evaluation

if TYPE_CHECKING:
    from ._decide import Decision

__all__ = ["STEP_MEMO_LIMIT", "explain"]

# Trace steps are frozen and depend on few values (an item and its answer, a score's
# range, the decision), so ``explain`` builds each once per instrument and reuses it:
# wording two languages and validating a model for every step of every result was
# most of the cost of a full result. The memo is cleared when it reaches this size.
STEP_MEMO_LIMIT = 65_536
_MEMOS: WeakKeyDictionary[CompiledInstrument, dict[tuple[object, ...], Any]] = WeakKeyDictionary()


def _item_label(ci: CompiledInstrument, key: str) -> Text:
    """The question as the caseworker saw it, quoted; never its id."""
    item = ci.items[key]
    return Text(sv=f"”{item.text.sv}”", en=f"“{item.text.en}”")


def _answer_words(ci: CompiledInstrument, key: str, value: object) -> Text:
    """An answer in words: an option's label, a number of rows, a value; never a raw value id or a row dump."""
    if value is UNKNOWN:
        return phrase("unknown_value")
    if value is None:
        return phrase("no_answer")
    if isinstance(value, list | tuple):
        return phrase("one_row") if len(value) == 1 else phrase("n_rows", n=len(value))
    if ci.items[key].type != "choice":
        return plain_words(value)
    return _option_label(ci, key, value)


def plain_words(value: object) -> Text:
    """A value that is not an instrument answer (a case fact, a score) in words."""
    if value is UNKNOWN:
        return phrase("unknown_value")
    if value is None:
        return phrase("no_answer")
    if isinstance(value, bool):
        return phrase("word_yes") if value else phrase("word_no")
    if isinstance(value, Interval):
        return Text(sv=f"{value.lo}–{value.hi}", en=f"{value.lo}–{value.hi}")
    return Text(sv=str(value), en=str(value))


def symbol_label(ci: CompiledInstrument, name: str) -> Text:
    """A score's label (or an item's question) for a name a rule reads; the name itself only as a last resort."""
    for score in ci.instrument.scores:
        if score.id == name:
            return score.label
    if name in ci.items:
        return _item_label(ci, name)
    return Text(sv=name, en=name)


def _skipped(ci: CompiledInstrument, ev: Evaluation, key: str) -> Text:
    """Why a question was not asked, in words: the questions its condition reads, with their answers."""
    names = sorted((n for n in ci.show_if[key].names if n in ci.items), key=list(ci.items).index)
    if not names:
        return phrase("skipped_plain", item=_item_label(ci, key))
    parts = [
        phrase("item_answered", item=_item_label(ci, n), answer=_answer_words(ci, n, ev.env.get(n))) for n in names
    ]
    depends = Text(sv=", ".join(t.sv for t in parts), en=", ".join(t.en for t in parts))
    return phrase("skipped", item=_item_label(ci, key), depends=depends)


def _option_label(ci: CompiledInstrument, key: str, value: object) -> Text:
    item = ci.items[key]
    if item.type == "choice":
        for opt in ci.instrument.scales[item.scale or ""].options:
            if opt.value == value:
                return Text(sv=f"'{opt.label.sv}'", en=f"'{opt.label.en}'")
    return Text(sv=str(value), en=str(value))


def explain(
    ci: CompiledInstrument,
    ev: Evaluation,
    d: Decision,
    judgement: JudgementInput | None,
    own: OwnViewResult | None,
    unmet: list[tuple[object, Text]],
) -> list[TraceStep]:
    """The trace for one evaluation, in interview order then decision order."""
    inst = ci.instrument
    steps: list[TraceStep] = []
    memo = _MEMOS.get(ci)
    if memo is None or len(memo) >= STEP_MEMO_LIMIT:
        memo = _MEMOS[ci] = {}
    fixed = memo.get(("fixed",))
    if fixed is None:  # per instrument: the scores' labels and the items that feed a score
        fixed = memo[("fixed",)] = (
            {s.id: s.label for s in inst.scores},
            frozenset(key for _, rows in ci.scores for key, *_ in rows),
        )
    labels, scored = fixed
    for key in ev.skipped_items:
        steps.append(TraceStep(kind="skipped", ref=key, text=_skipped(ci, ev, key)))
    steps.extend(_score_steps(ci, ev, memo, labels))
    for key in ev.unknown_items:
        if key not in scored:
            steps.append(TraceStep(kind="unknown", ref=key, text=phrase("unknown_plain", item=_item_label(ci, key))))
    band_key = ("band", ev.computed, ev.scores.get(inst.bands.score) if inst.bands else None)
    band = memo.get(band_key)
    if band is None:
        band = memo[band_key] = _band_steps(ci, ev)
    steps.extend(band)
    for code, indexes in (("critical", ev.fired), ("critical_possible", ev.possible)):
        for i in indexes:
            step = memo.get((code, i))
            if step is None:
                crit, _, level = ci.critical[i]
                step = memo[(code, i)] = TraceStep(
                    kind="critical",
                    ref=crit.id,
                    text=phrase(code, reason=crit.reason, level=ci.instrument.levels[level].label),
                )
            steps.append(step)
    if judgement is None:
        # Without a judgement the decision's steps follow from these few values alone.
        decided = ("decision", d.status, d.final, d.lo, d.hi, bool(d.blocked), len(ev.unknown_items))
        decision = memo.get(decided)
        if decision is None:
            decision = memo[decided] = _decision_steps(ci, ev, d, judgement)
        steps.extend(decision)
    else:
        steps.extend(_decision_steps(ci, ev, d, judgement))
    if own is not None and own.level is not None and own.answer is not None:
        comparison = {"person_lower": "own_view_lower", "person_higher": "own_view_higher"}.get(
            own.direction or "", "own_view_same"
        )
        steps.append(
            TraceStep(
                kind="own_view",
                ref=inst.own_view.item if inst.own_view else "",
                text=phrase(
                    "own_view",
                    answer=_option_label(ci, inst.own_view.item, own.answer) if inst.own_view else own.answer,
                    level=inst.levels[ci.levels.index(own.level)].label,
                    comparison=phrase(comparison),
                ),
            )
        )
    for req, message in unmet:
        steps.append(
            TraceStep(kind="requirement", ref=getattr(req, "id", ""), text=phrase("requirement", message=message))
        )
    return steps


def _score_steps(
    ci: CompiledInstrument, ev: Evaluation, memo: dict[tuple[object, ...], Any], labels: dict[str, Text]
) -> list[TraceStep]:
    """Each scored answer that gives points or is unknown, then each score (steps from ``memo``)."""
    steps: list[TraceStep] = []
    env = ev.env
    for score_id, rows in ci.scores:
        n_unknown = 0
        # Per item, the step each value gives (``False``: none, the answer gave no points),
        # made on first sight: the same answer to the same question gives the same step.
        known: tuple[dict[object, TraceStep | bool], ...] | None = memo.get(("steps", score_id))
        if known is None:
            known = memo[("steps", score_id)] = tuple({None: False} for _ in rows)
        for (key, table, least, most), said in zip(rows, known, strict=True):
            v = env[key]
            step = said.get(v)
            if step is None:
                step = said[v] = _answer_step(ci, score_id, key, v, table, least, most, labels[score_id])
            if v is UNKNOWN:
                n_unknown += 1
            if step:
                steps.append(step)  # type: ignore[arg-type]
        lo, hi = ev.scores[score_id]
        step = memo.get(("score", score_id, lo, hi, n_unknown))
        if step is None:
            text = (
                phrase("score", score=labels[score_id], value=lo)
                if lo == hi
                else phrase("score_range", score=labels[score_id], least=lo, most=hi, unknowns=unknowns(n_unknown))
            )
            step = memo[("score", score_id, lo, hi, n_unknown)] = TraceStep(kind="score", ref=score_id, text=text)
        steps.append(step)
    return steps


def _answer_step(
    ci: CompiledInstrument, score_id: str, key: str, v: object, table: dict[str, int], least: int, most: int,
    label: Text,
) -> TraceStep | bool:
    """The step of one scored answer (unknown, or giving points), or ``False`` when it gives none."""
    if v is UNKNOWN:
        return TraceStep(
            kind="unknown",
            ref=key,
            text=phrase("unknown", item=_item_label(ci, key), least=least, most=most, score=label),
        )
    if v is None or not table[v]:  # type: ignore[index]
        return False
    return TraceStep(
        kind="answer",
        ref=key,
        text=phrase(
            "answer",
            item=_item_label(ci, key),
            answer=_option_label(ci, key, v),
            points=points(table[v]),  # type: ignore[index]
            score=label,
        ),
    )


def judgement_discrepancy(ci: CompiledInstrument, ev: Evaluation, d: Decision) -> Text | None:
    """Why a judgement sits well below what the answers show, in words; ``None`` if it does not.

    Two cases, neither inventing a cut-off: the judged level is below the lowest
    level the bands allow; or it is the lowest level while a score already holds
    more than half the points it can give (15 of 20 "yes", judged low). Like the
    person's own view, the gap is a prompt to discuss protection and say why.
    """
    levels = ci.instrument.levels
    if d.judged is None or len(levels) < 2:
        return None
    if ev.computed is not None and d.judged < ev.computed[0]:
        return phrase("judgement_discrepancy", level=levels[d.judged].label, computed=levels[ev.computed[0]].label)
    if d.judged > 0:
        return None
    labels = {s.id: s.label for s in ci.instrument.scores}
    for score_id, rows in ci.scores:
        most = sum(row[3] for row in rows)
        have = ev.scores[score_id][0]
        if most > 0 and have * 2 > most:
            return phrase(
                "judgement_discrepancy_count",
                level=levels[d.judged].label,
                score=labels[score_id],
                value=have,
                most=most,
            )
    return None


def _band_steps(ci: CompiledInstrument, ev: Evaluation) -> list[TraceStep]:
    bands = ci.instrument.bands
    if bands is None or ev.computed is None:
        return []
    label = next(s.label for s in ci.instrument.scores if s.id == bands.score)
    lo, _hi = ev.scores[bands.score]
    if ev.computed[0] == ev.computed[1]:
        band = next(b for b in bands.ranges if b.min <= lo <= b.max)
        text = phrase(
            "band", score=label, value=lo, low=band.min, high=band.max, level=ci.instrument.levels[ev.computed[0]].label
        )
    else:
        text = phrase(
            "band_range",
            score=label,
            low=ci.instrument.levels[ev.computed[0]].label,
            high=ci.instrument.levels[ev.computed[1]].label,
        )
    return [TraceStep(kind="band", ref=bands.score, text=text)]


def _decision_steps(
    ci: CompiledInstrument, ev: Evaluation, d: Decision, judgement: JudgementInput | None
) -> list[TraceStep]:
    levels = ci.instrument.levels
    steps: list[TraceStep] = []
    if judgement is not None and d.judged is not None:
        steps.append(
            TraceStep(
                kind="judgement",
                ref=judgement.level,
                text=phrase(
                    "judgement",
                    level=levels[d.judged].label,
                    direction=phrase(f"direction_{d.direction}"),
                    rationale=judgement.rationale,
                ),
            )
        )
        if d.floor is not None and d.judged < d.floor:
            steps.append(
                TraceStep(
                    kind="judgement",
                    ref=levels[d.floor].id,
                    text=phrase("judgement_below_floor", level=levels[d.judged].label, floor=levels[d.floor].label),
                )
            )
        rules = {rule.id: rule for rule, _, _ in ci.critical}
        for rid in d.acknowledged:
            steps.append(
                TraceStep(
                    kind="judgement",
                    ref=rid,
                    text=phrase(
                        "judgement_acknowledged", reason=rules[rid].reason, why=judgement.acknowledged.get(rid, "")
                    ),
                )
            )
        gap = judgement_discrepancy(ci, ev, d)
        if gap is not None:
            steps.append(TraceStep(kind="judgement", ref=levels[d.judged].id, text=gap))
    if d.status == "concluded" and d.final is not None:
        text = phrase("final_concluded", level=levels[d.final].label)
    elif d.status == "indeterminate" and d.lo is not None and d.hi is not None:
        text = phrase("final_indeterminate", low=levels[d.lo].label, high=levels[d.hi].label)
    elif d.status == "incomplete" and d.blocked:
        text = phrase("final_blocked")
    elif d.status == "incomplete":
        text = phrase(
            "final_incomplete", unknowns=unknowns(len(ev.unknown_items)), limit=ci.instrument.missing.max_unknown
        )
    elif d.status == "judgement_required":
        text = phrase("final_judgement_required")
    else:
        text = phrase("final_no_level")
    steps.append(TraceStep(kind="final", ref=d.status, text=text))
    return steps
