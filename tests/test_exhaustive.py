"""Exhaustive agreement with a tiny reference scorer written from the instrument's spec.

The spec below (weights, bands, critical rules) is the single source: the YAML is
generated from it, and ``reference`` scores from it in plain Python without calling
engine code. Then

* all 2**20 yes/no patterns of a 20-item weighted instrument go through the engine's
  batch path (``CompiledInstrument.evaluate`` + ``engine.decide``), plus a random
  sample of 2,000 through the full ``assess``;
* all 3**8 yes/no/unknown patterns of an 8-item version go through ``assess`` and
  are compared with brute force over every completion of the unknown answers.

This is test C3 of the reliability plan (the QRISK lesson: compare against an
independent implementation, not against the code itself).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

import pytest
from helpers import build_instrument, text, to_yaml

from screening import CompiledInstrument, assess, parse_instrument
from screening.engine import decide

LEVELS = ["low", "moderate", "high", "severe"]

# (item id, points for "yes"); "no" is 0 and "unknown" is unknown.
ITEMS: list[tuple[str, int]] = [
    ("strangled", 4), ("threat_kill", 3), ("weapon", 3), ("a", 1), ("b", 2), ("c", 1),
    ("jealousy", 2), ("control", 2), ("separation", 1), ("escalation", 3), ("drugs", 1),
    ("alcohol", 1), ("forced_sex", 4), ("stalking", 2), ("suicidal", 2), ("children", 3),
    ("pregnant", 1), ("unemployed", 1), ("fear", 2), ("isolation", 1),
]
TOTAL = sum(w for _, w in ITEMS)  # 40
# Inclusive bands over the weighted sum: (min, max, level index).
BANDS = [(0, 9, 0), (10, 19, 1), (20, 29, 2), (30, TOTAL, 3)]
# Critical rules: (id, condition over the set of "yes" items, level index).
RULES: list[tuple[str, str, Any, int]] = [
    ("strangulation", "strangled == 'yes'", lambda yes: "strangled" in yes, 3),
    ("threat_with_weapon", "threat_kill == 'yes' and weapon == 'yes'",
     lambda yes: "threat_kill" in yes and "weapon" in yes, 2),
    ("two_of_abc", "count('yes', a, b, c) >= 2", lambda yes: len(yes & {"a", "b", "c"}) >= 2, 1),
]


def spec_yaml(items: Sequence[tuple[str, int]], bands: Sequence[tuple[int, int, int]], max_unknown: int) -> str:
    """The instrument for ``items``/``bands``/``RULES`` as YAML (generated from the spec)."""
    scales = {
        f"w{w}": {
            "options": [
                {"value": "yes", "label": text("Ja"), "points": w},
                {"value": "no", "label": text("Nej"), "points": 0},
                {"value": "unknown", "label": text("Vet ej"), "unknown": True},
            ]
        }
        for w in sorted({w for _, w in items})
    }
    return to_yaml(
        build_instrument(
            id="exhaustive",
            model="weighted",
            scales=scales,
            sections=[{"id": "main", "title": text("Frågor"),
                       "items": [{"id": i, "text": text(i), "scale": f"w{w}"} for i, w in items]}],
            scores=[{"id": "risk", "label": text("Risk"), "kind": "sum"}],
            levels=[{"id": lv, "label": text(lv)} for lv in LEVELS],
            bands={"score": "risk", "ranges": [{"level": LEVELS[lv], "min": lo, "max": hi} for lo, hi, lv in bands]},
            critical=[
                {"id": rid, "when": when, "raise_to": LEVELS[lv], "reason": text(rid)} for rid, when, _, lv in RULES
            ],
            missing={"max_unknown": max_unknown},
            judgement={"policy": "raise_only"},
        )
    )


Outcome = tuple[int, int, tuple[str, ...], int | None, int]


def reference(yes: frozenset[str], weights: dict[str, int], bands: Sequence[tuple[int, int, int]]) -> Outcome:
    """Score, band level, fired rules, critical floor and final level of a complete answer set."""
    score = sum(weights[i] for i in yes)
    level = next(lv for lo, hi, lv in bands if lo <= score <= hi)
    fired = tuple(rid for rid, _, holds, _ in RULES if holds(yes))
    floor = max((lv for rid, _, _, lv in RULES if rid in fired), default=None)
    return score, level, fired, floor, max(level, floor if floor is not None else 0)


@pytest.fixture(scope="module")
def big() -> CompiledInstrument:
    return parse_instrument(spec_yaml(ITEMS, BANDS, max_unknown=0), "exhaustive.yaml")


def test_the_spec_is_what_the_engine_loaded(big: CompiledInstrument) -> None:
    assert big.order == tuple(i for i, _ in ITEMS)
    assert big.levels == tuple(LEVELS)
    assert TOTAL == 40 and BANDS[-1][1] == TOTAL


@pytest.mark.slow
def test_all_2_to_the_20_patterns_agree_with_the_reference(big: CompiledInstrument) -> None:
    ids = [i for i, _ in ITEMS]
    weights = dict(ITEMS)
    rule_index = {c.id: n for n, (c, _, _) in enumerate(big.critical)}
    answers = dict.fromkeys(ids, "no")
    yes: set[str] = set()
    evaluate = big.evaluate
    mismatches: list[str] = []
    previous = 0
    for n in range(1 << 20):
        gray = n ^ (n >> 1)  # Gray code: one answer changes per step, edited in place
        changed = gray ^ previous
        if changed:
            ident = ids[changed.bit_length() - 1]
            if gray & changed:
                answers[ident] = "yes"
                yes.add(ident)
            else:
                answers[ident] = "no"
                yes.discard(ident)
        previous = gray
        ev = evaluate(answers)
        d = decide(big, ev, None)
        score, level, fired, floor, final = reference(frozenset(yes), weights, BANDS)
        if not (
            ev.scores["risk"] == (score, score)
            and ev.computed == (level, level)
            and ev.fired == tuple(sorted(rule_index[r] for r in fired))
            and ev.possible == ()
            and d.floor == floor
            and d.final == final
            and d.status == "concluded"
        ) and len(mismatches) < 5:
            mismatches.append(f"yes={sorted(yes)}: engine {ev.scores['risk']} {d}; reference {score} {fired} {final}")
    assert previous == (1 << 19), "the Gray code walk must end after visiting every pattern"
    assert not mismatches, "\n".join(mismatches)


def test_a_random_sample_through_assess_agrees_with_the_reference(big: CompiledInstrument) -> None:
    ids = [i for i, _ in ITEMS]
    weights = dict(ITEMS)
    rng = random.Random(20240517)
    for _ in range(2000):
        mask = rng.getrandbits(20)
        yes = frozenset(ids[b] for b in range(20) if mask >> b & 1)
        score, level, fired, floor, final = reference(yes, weights, BANDS)
        result = assess(big, {i: "yes" if i in yes else "no" for i in ids})
        assert result.scores["risk"].value == score
        assert result.computed_level == LEVELS[level]
        assert sorted(result.critical) == sorted(fired)
        assert result.critical_level == (LEVELS[floor] if floor is not None else None)
        assert result.final_level == LEVELS[final]
        assert result.status == "concluded" and result.complete


# --- three-valued: every yes/no/unknown pattern of 8 items against brute force ----------

SMALL = [
    ("strangled", 4), ("threat_kill", 3), ("weapon", 3), ("a", 1), ("b", 2), ("c", 1), ("jealousy", 2), ("fear", 2),
]
SMALL_TOTAL = sum(w for _, w in SMALL)  # 18
SMALL_BANDS = [(0, 3, 0), (4, 8, 1), (9, 13, 2), (14, SMALL_TOTAL, 3)]
MAX_UNKNOWN = 2


@pytest.mark.slow
def test_all_3_to_the_8_patterns_agree_with_brute_force_over_completions() -> None:
    ci = parse_instrument(spec_yaml(SMALL, SMALL_BANDS, max_unknown=MAX_UNKNOWN), "small.yaml")
    ids = [i for i, _ in SMALL]
    weights = dict(SMALL)
    for values in itertools.product(("yes", "no", "unknown"), repeat=len(ids)):
        answers = dict(zip(ids, values, strict=True))
        unknown = [i for i in ids if answers[i] == "unknown"]
        known_yes = {i for i in ids if answers[i] == "yes"}
        outcomes = []
        for fill in itertools.product((False, True), repeat=len(unknown)):
            yes = frozenset(known_yes | {i for i, f in zip(unknown, fill, strict=True) if f})
            outcomes.append(reference(yes, weights, SMALL_BANDS))
        scores = [o[0] for o in outcomes]
        finals = [o[4] for o in outcomes]
        always = set.intersection(*(set(o[2]) for o in outcomes))
        sometimes = set.union(*(set(o[2]) for o in outcomes)) - always
        lo, hi = min(finals), max(finals)
        if len(unknown) > MAX_UNKNOWN and not (lo == hi and lo > 0):
            status = "incomplete"
        else:
            status = "concluded" if lo == hi else "indeterminate"
        result = assess(ci, answers)
        where = f"answers {answers}"
        assert (result.scores["risk"].min, result.scores["risk"].max) == (min(scores), max(scores)), where
        assert result.level_range is not None
        assert (result.level_range.min, result.level_range.max) == (LEVELS[lo], LEVELS[hi]), where
        assert sorted(result.critical) == sorted(always), where
        assert sorted(result.critical_possible) == sorted(sometimes), where
        assert result.status == status, where
        assert result.final_level == (LEVELS[lo] if status == "concluded" else None), where
        assert result.complete == (len(unknown) <= MAX_UNKNOWN), where
        assert result.completeness.unknown_items == unknown, where
