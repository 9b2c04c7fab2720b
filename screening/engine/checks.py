"""Cross-reference checks of an instrument: everything a per-field validator cannot see.

May import: errors, expr, instrument / stdlib.

Yields every problem (jsonschema's ``iter_errors`` habit) as a ``Problem`` with the
path into the YAML document, so the loader can point at line and column and an
author sees all mistakes in one run. Compiling the expressions happens here too,
which is what makes "unknown id in a condition" a load-time error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..errors import ExpressionError
from . import expr
from .expr import CRITICAL_SYMBOL
from .instrument import RESERVED, Instrument, Item, Score

__all__ = ["Problem", "check_instrument", "item_type", "score_items", "symbols_for"]

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    suggestion: str | None = None
    column_offset: int = 0  # column inside an expression string
    at_key: bool = False  # point at the mapping key itself (an unknown id used as a key)


def item_type(inst: Instrument, item: Item) -> expr.Type:
    """The expression-language type of an item's answer."""
    if item.type == "choice":
        assert item.scale is not None
        scale = inst.scales.get(item.scale)
        return expr.AnswerType(scale.known_values() if scale else ())
    if item.type == "number":
        return expr.INT
    if item.type == "group":
        return expr.GroupType({f.id: item_type(inst, f) for f in item.fields or ()})
    return expr.Type(item.type)


def symbols_for(inst: Instrument, *, upto: str | None = None, critical: bool = True) -> dict[str, expr.Type]:
    """Symbols an expression may read: items (before ``upto`` if given), then scores.

    ``critical=False`` leaves out ``fired()``: critical rules are evaluated together,
    so one cannot depend on another's outcome.
    """
    symbols: dict[str, expr.Type] = {}
    for item in inst.items():
        if item.id == upto:
            return symbols
        symbols[item.id] = item_type(inst, item)
    for score in inst.scores:
        symbols[score.id] = expr.INT
    if critical:
        symbols[CRITICAL_SYMBOL] = expr.AnswerType([c.id for c in inst.critical])
    return symbols


def score_items(inst: Instrument, score: Score) -> list[Item]:
    """The choice items a score covers, in interview order."""
    chosen = [
        (si, item)
        for si, section in enumerate(inst.sections)
        for item in section.items
        if item.type == "choice"
        and (score.sections is None or section.id in score.sections)
        and (score.items is None or item.id in score.items)
    ]
    return [item for _, item in chosen]


def _compile(text: str, symbols: Mapping[str, expr.Type], loc: Loc) -> Iterator[Problem]:
    try:
        expr.compile_expression(text, symbols)
    except ExpressionError as exc:
        yield Problem(loc, f"{exc.message} in expression {text!r}", exc.suggestion, exc.column)


def _unique(pairs: list[tuple[Loc, str]], what: str) -> Iterator[Problem]:
    seen: dict[str, Loc] = {}
    for loc, ident in pairs:
        if ident in seen:
            yield Problem(loc, f"duplicate {what} id {ident!r}")
        seen[ident] = loc


def check_instrument(inst: Instrument) -> Iterator[Problem]:
    """Yield every cross-reference, expression and band problem in ``inst``."""
    yield from _check_ids(inst)
    yield from _check_items(inst)
    yield from _check_scores(inst)
    yield from _check_levels(inst)
    yield from _check_expressions(inst)
    yield from _check_vectors(inst)


def _item_locs(inst: Instrument) -> Iterator[tuple[Loc, Item]]:
    for si, section in enumerate(inst.sections):
        for ii, item in enumerate(section.items):
            yield ("sections", si, "items", ii), item


def _check_ids(inst: Instrument) -> Iterator[Problem]:
    items: list[tuple[Loc, str]] = [((*loc, "id"), item.id) for loc, item in _item_locs(inst)]
    scores: list[tuple[Loc, str]] = [(("scores", i, "id"), s.id) for i, s in enumerate(inst.scores)]
    yield from _unique(items + scores, "item or score")
    yield from _unique([(("sections", i, "id"), s.id) for i, s in enumerate(inst.sections)], "section")
    yield from _unique([(("levels", i, "id"), lv.id) for i, lv in enumerate(inst.levels)], "level")
    yield from _unique([(("critical", i, "id"), c.id) for i, c in enumerate(inst.critical)], "critical")
    for loc, ident in items + scores:
        if ident in RESERVED:
            yield Problem(loc, f"{ident!r} is a reserved word and cannot be an id")
    for loc, item in _item_locs(inst):
        fields = [((*loc, "fields", i, "id"), f.id) for i, f in enumerate(item.fields or ())]
        yield from _unique(fields, "field")


def _check_items(inst: Instrument) -> Iterator[Problem]:
    scales = sorted(inst.scales)
    for loc, item in _item_locs(inst):
        for sub_loc, sub in [(loc, item)] + [((*loc, "fields", i), f) for i, f in enumerate(item.fields or ())]:
            if sub.scale is not None and sub.scale not in inst.scales:
                yield Problem((*sub_loc, "scale"), f"unknown scale {sub.scale!r}", expr.suggest(sub.scale, scales))


def _check_scores(inst: Instrument) -> Iterator[Problem]:
    item_ids = [i.id for i in inst.items()]
    section_ids = [s.id for s in inst.sections]
    for si, score in enumerate(inst.scores):
        for j, ident in enumerate(score.items or ()):
            if ident not in item_ids:
                yield Problem(("scores", si, "items", j), f"unknown item {ident!r}", expr.suggest(ident, item_ids))
        for j, ident in enumerate(score.sections or ()):
            if ident not in section_ids:
                yield Problem(
                    ("scores", si, "sections", j), f"unknown section {ident!r}", expr.suggest(ident, section_ids)
                )
        covered = score_items(inst, score)
        if not covered:
            yield Problem(("scores", si), "this score covers no choice item")
        for item in covered:
            scale = inst.scales.get(item.scale or "")
            if scale and score.values:
                missing = [v for v in score.values if v not in scale.known_values()]
                if missing:
                    yield Problem(
                        ("scores", si, "values"),
                        f"{', '.join(map(repr, missing))} is not a known answer of item {item.id!r}",
                    )


def _score_range(inst: Instrument, score: Score) -> tuple[int, int]:
    lo = hi = 0
    for item in score_items(inst, score):
        scale = inst.scales.get(item.scale or "")
        if scale is None:
            continue
        known = [o for o in scale.options if not o.unknown]
        if score.kind == "sum":
            pts = [o.points for o in known]
        else:
            pts = [1 if o.value in (score.values or ()) else 0 for o in known]
        if item.show_if is not None:
            pts.append(0)  # a skipped item adds nothing
        lo, hi = lo + min(pts), hi + max(pts)
    return lo, hi


def score_range(inst: Instrument, score_id: str) -> tuple[int, int]:
    """Smallest and largest value the score can take over all known answers."""
    score = next(s for s in inst.scores if s.id == score_id)
    return _score_range(inst, score)


def _check_levels(inst: Instrument) -> Iterator[Problem]:
    levels = list(inst.level_ids())
    if inst.judgement.policy != "none" and not levels:
        yield Problem(("judgement", "policy"), "a judgement policy needs levels")
    if inst.judgement.policy == "none" and (inst.bands or inst.critical):
        yield Problem(("judgement", "policy"), "bands and critical rules need a judgement policy other than 'none'")
    for ci, crit in enumerate(inst.critical):
        if crit.raise_to not in levels:
            yield Problem(
                ("critical", ci, "raise_to"), f"unknown level {crit.raise_to!r}", expr.suggest(crit.raise_to, levels)
            )
    if inst.own_view:
        yield from _check_own_view(inst, levels)
    if inst.bands is None:
        return
    yield from _check_bands(inst, levels)


def _check_own_view(inst: Instrument, levels: list[str]) -> Iterator[Problem]:
    assert inst.own_view is not None
    item = next((i for i in inst.items() if i.id == inst.own_view.item), None)
    if item is None or item.type != "choice":
        yield Problem(("own_view", "item"), f"{inst.own_view.item!r} is not a choice item")
        return
    known = inst.scales[item.scale or ""].known_values() if item.scale in inst.scales else ()
    for value, level in inst.own_view.levels.items():
        if value not in known:
            yield Problem(("own_view", "levels", value), f"{value!r} is not a known answer of {item.id!r}")
        if level not in levels:
            yield Problem(("own_view", "levels", value), f"unknown level {level!r}", expr.suggest(level, levels))


def _check_bands(inst: Instrument, levels: list[str]) -> Iterator[Problem]:
    bands = inst.bands
    assert bands is not None
    score_ids = [s.id for s in inst.scores]
    if bands.score not in score_ids:
        yield Problem(("bands", "score"), f"unknown score {bands.score!r}", expr.suggest(bands.score, score_ids))
        return
    lo, hi = score_range(inst, bands.score)
    previous = None
    for bi, band in enumerate(bands.ranges):
        loc: Loc = ("bands", "ranges", bi)
        if band.level not in levels:
            yield Problem((*loc, "level"), f"unknown level {band.level!r}", expr.suggest(band.level, levels))
        if band.min > band.max:
            yield Problem(loc, f"band {band.min}–{band.max} is empty (min > max)")
        if previous is not None:
            if band.min <= previous.max:
                yield Problem((*loc, "min"), f"band overlaps the previous one ({previous.min}–{previous.max})")
            elif band.min > previous.max + 1:
                yield Problem((*loc, "min"), f"gap: no band covers {previous.max + 1}–{band.min - 1}")
            if (
                band.level in levels
                and previous.level in levels
                and levels.index(band.level) < levels.index(previous.level)
            ):
                yield Problem((*loc, "level"), "a higher band cannot give a lower level")
        if band.min > hi:
            yield Problem((*loc, "min"), f"band can never be reached: the score is at most {hi}")
        previous = band
    if bands.ranges[0].min > lo:
        yield Problem(("bands", "ranges", 0, "min"), f"gap: no band covers {lo}–{bands.ranges[0].min - 1}")
    if bands.ranges[-1].max < hi:
        yield Problem(
            ("bands", "ranges", len(bands.ranges) - 1, "max"), f"gap: no band covers {bands.ranges[-1].max + 1}–{hi}"
        )


def _check_expressions(inst: Instrument) -> Iterator[Problem]:
    # An item with an unknown scale is already reported; expressions over it would
    # only repeat that mistake as "not an answer value (allowed: )".
    broken = {i.id for i in inst.items() if i.scale is not None and i.scale not in inst.scales}

    def reads_broken(text: str) -> bool:
        return any(re.search(rf"\b{re.escape(name)}\b", text) for name in broken)

    everything = symbols_for(inst)
    for loc, item in _item_locs(inst):
        if item.show_if is not None and not reads_broken(item.show_if):
            yield from _show_if(inst, item, everything, (*loc, "show_if"))
    without_fired = symbols_for(inst, critical=False)
    for ci, crit in enumerate(inst.critical):
        if not reads_broken(crit.when):
            yield from _compile(crit.when, without_fired, ("critical", ci, "when"))
    with_level = dict(everything, final_level=expr.LevelType(inst.level_ids()))
    for ri, req in enumerate(inst.requirements):
        if not reads_broken(req.check):
            yield from _compile(req.check, with_level, ("requirements", ri, "check"))


def _show_if(inst: Instrument, item: Item, everything: Mapping[str, expr.Type], loc: Loc) -> Iterator[Problem]:
    """A show_if over a *later* item is a different mistake from an unknown name: say so."""
    earlier = symbols_for(inst, upto=item.id)
    problems = list(_compile(item.show_if or "", earlier, loc))
    if not problems:
        return
    try:
        later = expr.compile_expression(item.show_if or "", everything).names - set(earlier)
    except ExpressionError:
        yield from problems
        return
    names = ", ".join(repr(n) for n in sorted(later))
    first = min(
        (m.start() for n in later for m in [re.search(rf"\b{re.escape(n)}\b", item.show_if or "")] if m), default=0
    )
    yield Problem(
        loc, f"{names} is asked after {item.id!r}; show_if may only use earlier items", column_offset=first + 1
    )


def _check_vectors(inst: Instrument) -> Iterator[Problem]:
    item_ids = [i.id for i in inst.items()]
    score_ids = [s.id for s in inst.scores]
    levels = list(inst.level_ids())
    for vi, vector in enumerate(inst.tests):
        for key in vector.answers:
            if key not in item_ids:
                yield Problem(
                    ("tests", vi, "answers", key), f"unknown item {key!r}", expr.suggest(key, item_ids), at_key=True
                )
        for key in vector.expect.scores:
            if key not in score_ids:
                yield Problem(
                    ("tests", vi, "expect", "scores", key),
                    f"unknown score {key!r}",
                    expr.suggest(key, score_ids),
                    at_key=True,
                )
        for field in ("computed_level", "final_level"):
            value = getattr(vector.expect, field)
            if value is not None and value not in levels:
                yield Problem(("tests", vi, "expect", field), f"unknown level {value!r}", expr.suggest(value, levels))
