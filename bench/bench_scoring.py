"""Benchmark: scoring answer sets with the engine against a hand-written scorer, in the same run.

Run: ``python bench/bench_scoring.py [--n 100000] [--seed 1] [--profile]``

A 20-item weighted instrument (yes/no/unknown, 1–4 points for "yes"), four bands
and three critical rules — ``strangled == 'yes'``, ``threat_kill == 'yes' and
weapon == 'yes'``, ``count('yes', a, b, c) >= 2`` — scores ``--n`` random complete
answer sets. The same sets go through ``hand_written`` (plain Python of the same
spec: score, band level, critical floor, final level). Every path is checked to
agree with it on every answer set before anything is timed. Timed, each against
the hand-written function on the same sets:

1. the hot path the brief names for batch re-scoring: ``ci.evaluate(answers)`` +
   ``engine.decide(ci, ev, None)``;
2. ``engine.summarize(ci, answers)``, the precomputed fast path the batch
   re-scorer now calls (falls back to 1. for anything but complete answers);
3. the full ``assess`` (answer validation + ``Result`` + trace).

4. ``engine.summarize_referrals`` with a small referral rule set (Stockholm
   catalogue) and a children fact, against a hand-written function that also
   computes the same recommended services in the same order (issue 3).

5. unknown answers (``--unknown``, default 10 % of the items, written as the
   unknown option, ``None`` or left out): ``summarize`` against an interval-aware
   hand-written scorer (``_handwritten.interval``), and ``summarize_referrals``
   against the same plus referrals (``_handwritten.interval_referrals``);
6. the rule-count series: rule sets of 5, 50 and 200 rules that read every item,
   ``summarize_referrals`` against a hand-written loop over the same rules, cold (a
   fresh rule set, each set once: mostly memo misses) and warm, and the full
   ``assess`` per call;
7. the full result: ``assess`` with a rule set, and ``Result.to_json()`` against
   pydantic's own ``model_dump_json`` of the same result.

Every series checks the engine against its hand-written baseline on every timed set
first (the full engine, ``assess``, on a sample), then times both in the same run.

Target: the engine's scoring entry point — ``summarize``, what batch re-scoring
and ``rescore`` call — reaches at least half the hand-written rate, and so does
scoring plus referrals. Path 1 builds everything an explanation needs and is
reported for information. With ``--profile`` a cProfile of (1) is printed.
Also timed: ``screening --help`` in a subprocess (best of 5) against
``python -c pass``. Nothing is asserted; the table is the output.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import _handwritten as hw  # noqa: E402
import yaml  # noqa: E402  (after the path set-up, like the other bench scripts)

from screening import CompiledInstrument, assess, parse_instrument  # noqa: E402
from screening.assessment import summarize_referrals  # noqa: E402
from screening.content.rules_loader import load_rules_file  # noqa: E402
from screening.engine import decide, summarize  # noqa: E402

LEVELS = ["low", "moderate", "high", "severe"]
ITEMS: list[tuple[str, int]] = [
    ("strangled", 4), ("threat_kill", 3), ("weapon", 3), ("a", 1), ("b", 2), ("c", 1),
    ("jealousy", 2), ("control", 2), ("separation", 1), ("escalation", 3), ("drugs", 1),
    ("alcohol", 1), ("forced_sex", 4), ("stalking", 2), ("suicidal", 2), ("children", 3),
    ("pregnant", 1), ("unemployed", 1), ("fear", 2), ("isolation", 1),
]
TOTAL = sum(w for _, w in ITEMS)
BANDS = [(0, 9, 0), (10, 19, 1), (20, 29, 2), (30, TOTAL, 3)]
RULES = [
    ("strangulation", "strangled == 'yes'", 3),
    ("threat_with_weapon", "threat_kill == 'yes' and weapon == 'yes'", 2),
    ("two_of_abc", "count('yes', a, b, c) >= 2", 1),
]
TARGET = 0.5


def text(words: str) -> dict[str, str]:
    return {"sv": words, "en": words}


def instrument_yaml() -> str:
    scales = {
        f"w{w}": {
            "options": [
                {"value": "yes", "label": text("Ja"), "points": w},
                {"value": "no", "label": text("Nej"), "points": 0},
                {"value": "unknown", "label": text("Vet ej"), "unknown": True},
            ]
        }
        for w in sorted({w for _, w in ITEMS})
    }
    data: dict[str, Any] = {
        "id": "bench-weighted",
        "version": "1.0.0",
        "title": text("Benchmark"),
        "description": text("Benchmark"),
        "intro": text("Benchmark"),
        "model": "weighted",
        "source": {"manual": "bench", "edition": "1", "publisher": "bench", "paraphrased": True, "note": text("n")},
        "scales": scales,
        "sections": [{"id": "main", "title": text("Frågor"),
                      "items": [{"id": i, "text": text(i), "scale": f"w{w}"} for i, w in ITEMS]}],
        "scores": [{"id": "risk", "label": text("Risk"), "kind": "sum"}],
        "levels": [{"id": lv, "label": text(lv)} for lv in LEVELS],
        "bands": {"score": "risk", "ranges": [{"level": LEVELS[lv], "min": lo, "max": hi} for lo, hi, lv in BANDS]},
        "critical": [{"id": rid, "when": when, "raise_to": LEVELS[lv], "reason": text(rid)} for rid, when, lv in RULES],
        "missing": {"max_unknown": 0},
        "judgement": {"policy": "raise_only"},
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


WEIGHTS = tuple(ITEMS)


def hand_written(answers: dict[str, str]) -> tuple[int, int, int, int]:
    """Score, band level, critical floor (-1: none) and final level, straight from the spec."""
    score = 0
    for item, weight in WEIGHTS:
        if answers[item] == "yes":
            score += weight
    level = 3 if score >= 30 else 2 if score >= 20 else 1 if score >= 10 else 0
    floor = -1
    if answers["strangled"] == "yes":
        floor = 3
    if floor < 2 and answers["threat_kill"] == "yes" and answers["weapon"] == "yes":
        floor = 2
    if floor < 1 and (answers["a"] == "yes") + (answers["b"] == "yes") + (answers["c"] == "yes") >= 2:
        floor = 1
    return score, level, floor, max(level, floor)


RULES_YAML = """
id: bench-rules
version: 1.0.0
title: {sv: Bench, en: Bench}
catalogue: stockholm
facts:
  children_in_household: {type: bool, label: {sv: Barn, en: Children}, question: {sv: 'Barn?', en: 'Children?'}}
incomplete_support: [relationsvaldsteam]
tables:
  - id: bench
    instrument: bench-weighted
    hit_policy: collect
    violence_disclosed: "risk >= 1"
    rules:
      - {id: info, when: "level >= 'low'", refer: [information], reason: {sv: I, en: I}}
      - {id: support, when: "level >= 'moderate'", refer: [rvc], urgency: within_days, reason: {sv: S, en: S}}
      - {id: protect, when: "level >= 'high'", refer: [skyddat_boende, police], urgency: immediate,
         reason: {sv: P, en: P}}
      - {id: care, when: "fired('strangulation')", refer: [healthcare], urgency: immediate, reason: {sv: H, en: H}}
"""


def hand_written_referrals(answers: dict[str, str], children: bool) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The hand-written scorer plus the same referrals, most urgent first."""
    score, _, floor, final = hand_written(answers)
    immediate = []
    if final >= 2:
        immediate += ["skyddat_boende", "police"]
    if floor == 3:
        immediate.append("healthcare")
    if children and score >= 1:
        immediate.append("orosanmalan")
    within = ["rvc"] if final >= 1 else []
    return (score, final), (*immediate, *within, "information")


def load_bench_rules(tmp: Path, instrument_text: str, rules_yaml: str = RULES_YAML):  # type: ignore[no-untyped-def]
    (tmp / "instruments" / "bench-weighted").mkdir(parents=True, exist_ok=True)
    (tmp / "rules" / "services").mkdir(parents=True, exist_ok=True)
    (tmp / "instruments" / "bench-weighted" / "1.0.0.yaml").write_text(instrument_text, encoding="utf-8")
    catalogue = (REPO / "rules" / "services" / "stockholm.yaml").read_text(encoding="utf-8")
    (tmp / "rules" / "services" / "stockholm.yaml").write_text(catalogue, encoding="utf-8")
    (tmp / "rules" / "bench-rules.yaml").write_text(rules_yaml, encoding="utf-8")
    return load_rules_file(tmp / "rules" / "bench-rules.yaml", tmp)


def answer_sets(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    ids = [i for i, _ in ITEMS]
    return [{i: "yes" if rng.random() < 0.35 else "no" for i in ids} for _ in range(n)]


def unknown_sets(n: int, seed: int, share: float) -> list[dict[str, str | None]]:
    """Answer sets where each item is unknown with probability ``share``, written each way a caller can."""
    rng = random.Random(seed)
    out: list[dict[str, str | None]] = []
    for _ in range(n):
        answers: dict[str, str | None] = {}
        for item, _ in ITEMS:
            if rng.random() < share:
                way = rng.random()
                if way < 0.6:
                    answers[item] = "unknown"
                elif way < 0.8:
                    answers[item] = None
                # else: left out
            else:
                answers[item] = "yes" if rng.random() < 0.35 else "no"
        out.append(answers)
    return out


def verify(ci: CompiledInstrument, sets: Sequence[dict[str, str]], full_sample: int) -> None:
    """Every path agrees with the hand-written scorer (``assess`` on the first ``full_sample``)."""
    for n, answers in enumerate(sets):
        score, level, floor, final = hand_written(answers)
        ev = ci.evaluate(answers)
        d = decide(ci, ev, None)
        want_floor = None if floor < 0 else floor
        engine = (ev.scores["risk"], ev.computed, d.floor, d.final)
        if engine != ((score, score), (level, level), want_floor, final):
            raise SystemExit(f"evaluate+decide disagrees on set {n}: {answers}")
        quick = summarize(ci, answers)
        if quick != (final, "concluded", (score,), want_floor):
            raise SystemExit(f"summarize disagrees on set {n}: {quick} vs {(final, score, want_floor)}")
        if n < full_sample:
            result = assess(ci, answers)
            if (result.scores["risk"].value, result.final_level, result.critical_level) != (
                score, LEVELS[final], None if floor < 0 else LEVELS[floor]
            ):
                raise SystemExit(f"assess disagrees on set {n}")


def rate(fn: Callable[[dict[str, str]], object], sets: Sequence[dict[str, str]], repeat: int = 3) -> float:
    """Answer sets per second, best of ``repeat`` passes over all sets."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for answers in sets:
            fn(answers)
        best = min(best, time.perf_counter() - start)
    return len(sets) / best


def best_of(cmd: list[str], runs: int = 5) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env, cwd=REPO)
        best = min(best, time.perf_counter() - start)
    return best


def profile(fn: Callable[[dict[str, str]], object], sets: Sequence[dict[str, str]]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for answers in sets:
        fn(answers)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="answer sets (default 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--assess-n", type=int, default=0, help="sets for the full assess timing (default: all)")
    parser.add_argument("--quick", action="store_true", help="check assess on 5,000 sets only, not on all")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the hot path")
    parser.add_argument("--unknown", type=float, default=0.1, help="share of unknown answers (default 0.1)")
    parser.add_argument("--full-n", type=int, default=20_000, help="sets for the full-result timings")
    args = parser.parse_args(argv)

    ci = parse_instrument(instrument_yaml(), "bench-weighted.yaml")
    sets = answer_sets(args.n, args.seed)
    started = time.perf_counter()
    checked = min(len(sets), 5_000) if args.quick else len(sets)
    verify(ci, sets, checked)
    print(f"verified {len(sets):,} answer sets against the hand-written scorer ({checked:,} of them "
          f"also through assess) in {time.perf_counter() - started:.1f} s")

    hot = lambda answers: decide(ci, ci.evaluate(answers), None)  # noqa: E731
    fast = lambda answers: summarize(ci, answers)  # noqa: E731
    full = lambda answers: assess(ci, answers)  # noqa: E731
    assess_sets = sets[: args.assess_n] if args.assess_n else sets

    baseline = rate(hand_written, sets)
    rows = [
        ("hand-written function", len(sets), baseline, baseline),
        ("evaluate + decide (hot path)", len(sets), rate(hot, sets), baseline),
        ("summarize (batch fast path)", len(sets), rate(fast, sets), baseline),
    ]
    assess_baseline = baseline if assess_sets is sets else rate(hand_written, assess_sets)
    rows.append(("assess (Result + trace)", len(assess_sets), rate(full, assess_sets, repeat=1), assess_baseline))

    print()
    print(f"{'path':<32}{'sets':>10}{'sets/s':>14}{'engine/hand':>14}")
    for name, count, value, base in rows:
        print(f"{name:<32}{count:>10,}{value:>14,.0f}{value / base:>14.3f}")
    ratio = rows[2][2] / baseline
    verdict = "met" if ratio >= TARGET else f"MISSED by {TARGET / ratio:.1f}x (needs {TARGET:.0%}, has {ratio:.1%})"
    print(f"\ntarget: summarize (the engine's scoring path) >= {TARGET:.0%} of the hand-written rate: {verdict}")
    print(f"        evaluate + decide (everything an explanation needs) reaches {rows[1][2] / baseline:.1%}")

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rules = load_bench_rules(Path(tmp), instrument_yaml())
    rci = rules_instrument = parse_instrument(instrument_yaml(), "bench-weighted.yaml")
    del rules_instrument
    children = [n % 3 == 0 for n in range(len(sets))]
    paired = list(zip(sets, children, strict=True))
    for answers, kids in paired[:20_000]:
        (_, final), services = hand_written_referrals(answers, kids)
        summary, got = summarize_referrals(rci, rules, answers, {"children_in_household": kids})
        if (summary[0], got) != (final, services):
            raise SystemExit(f"summarize_referrals disagrees: {summary} {got} vs {final} {services}")
    facts = [{"children_in_household": kids} for _, kids in paired]

    def rate_pairs(fn: Callable[[int], object], repeat: int = 3) -> float:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for n in range(len(sets)):
                fn(n)
            best = min(best, time.perf_counter() - start)
        return len(sets) / best

    hand_ref = rate_pairs(lambda n: hand_written_referrals(sets[n], children[n]))
    engine_ref = rate_pairs(lambda n: summarize_referrals(rci, rules, sets[n], facts[n]))
    print(f"\n{'scoring + referrals':<32}{'sets':>10}{'sets/s':>14}{'engine/hand':>14}")
    print(f"{'hand-written function':<32}{len(sets):>10,}{hand_ref:>14,.0f}{1.0:>14.3f}")
    print(f"{'summarize_referrals':<32}{len(sets):>10,}{engine_ref:>14,.0f}{engine_ref / hand_ref:>14.3f}")
    ref_ratio = engine_ref / hand_ref
    ref_verdict = "met" if ref_ratio >= TARGET else f"MISSED (has {ref_ratio:.1%})"
    print(f"target: scoring + referrals >= {TARGET:.0%} of the hand-written rate: {ref_verdict}")

    series_unknown(ci, rci, rules, args)
    series_rule_count(sets, children, args)
    series_full_result(rci, rules, sets, facts, args)

    python = best_of([sys.executable, "-c", "pass"])
    cli = best_of([sys.executable, "-m", "screening", "--help"])
    print(f"\n{'start-up (best of 5)':<32}{'seconds':>10}{'ratio':>14}")
    print(f"{'python -c pass':<32}{python:>10.3f}{1.0:>14.2f}")
    print(f"{'screening --help':<32}{cli:>10.3f}{cli / python:>14.2f}")

    if args.profile:
        print("\ncProfile of evaluate + decide (by own time):")
        print(profile(hot, sets[:20_000]))
    return 0


def rate_calls(fn: Callable[[int], object], n: int, repeat: int = 3) -> float:
    """Calls per second of ``fn(0) … fn(n-1)``, best of ``repeat`` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for k in range(n):
            fn(k)
        best = min(best, time.perf_counter() - start)
    return n / best


def paired(
    hand: Callable[[int], object], engine: Callable[[int], object], n: int, repeat: int = 5
) -> tuple[float, float]:
    """Calls per second of two functions over ``0 … n-1``, best of ``repeat`` passes each, interleaved.

    On a shared machine the load changes from second to second; passes that take
    turns see the same load, so the ratio between the two is what it is.
    """
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for which, fn in enumerate((hand, engine)):
            start = time.perf_counter()
            for k in range(n):
                fn(k)
            best[which] = min(best[which], time.perf_counter() - start)
    return n / best[0], n / best[1]


def row(name: str, count: int, value: float, base: float) -> None:
    print(f"{name:<32}{count:>10,}{value:>14,.0f}{value / base:>14.3f}")


def series_unknown(ci: CompiledInstrument, rci: CompiledInstrument, rules: Any, args: argparse.Namespace) -> None:
    """Unknown answers: the engine against interval-aware hand-written scorers, checked first."""
    sets = unknown_sets(args.n, args.seed + 1, args.unknown)
    kids = [n % 3 == 0 for n in range(len(sets))]
    facts = [{"children_in_household": k} for k in kids]
    for n, answers in enumerate(sets):
        want = hw.interval(answers)
        if summarize(ci, answers) != want:
            raise SystemExit(f"summarize disagrees with the interval scorer on unknown set {n}: {answers}")
        want_ref = hw.interval_referrals(answers, kids[n])
        if summarize_referrals(rci, rules, answers, facts[n]) != want_ref:
            raise SystemExit(f"summarize_referrals disagrees on unknown set {n}: {answers}")
        if n < args.full_n:
            result = assess(rci, answers, rules=rules, facts=facts[n])
            final = None if result.final_level is None else LEVELS.index(result.final_level)
            if (final, result.status, tuple(r.service for r in result.referrals)) != (want[0], want[1], want_ref[1]):
                raise SystemExit(f"assess disagrees with the interval scorer on unknown set {n}")
    share = sum(v in (None, "unknown") for a in sets for v in a.values()) + sum(len(ITEMS) - len(a) for a in sets)
    print(f"\nunknown answers: {share / (len(sets) * len(ITEMS)):.1%} of all items; verified {len(sets):,} sets "
          f"(summarize, summarize_referrals; {min(len(sets), args.full_n):,} through assess)")
    complete = answer_sets(args.n, args.seed)
    plain, base = paired(lambda k: hand_written(complete[k]), lambda k: hw.interval(sets[k]), len(sets))
    base, engine = paired(lambda k: hw.interval(sets[k]), lambda k: summarize(ci, sets[k]), len(sets))
    base_ref, engine_ref = paired(
        lambda k: hw.interval_referrals(sets[k], kids[k]),
        lambda k: summarize_referrals(rci, rules, sets[k], facts[k]),
        len(sets),
    )
    print(f"{'unknown answers':<32}{'sets':>10}{'sets/s':>14}{'engine/hand':>14}")
    row("hand-written, interval-aware", len(sets), base, base)
    print(f"{'  (of the plain hand-written)':<32}{'':>10}{'':>14}{base / plain:>14.3f}")
    row("summarize", len(sets), engine, base)
    row("hand-written + referrals", len(sets), base_ref, base_ref)
    row("summarize_referrals", len(sets), engine_ref, base_ref)
    verdict = "met" if engine / base >= 0.5 else "MISSED"
    print(f"target: summarize >= 50% of the interval-aware hand-written: {verdict}; "
          f"summarize_referrals >= 30%: {'met' if engine_ref / base_ref >= 0.3 else 'MISSED'}")


def series_rule_count(sets: Sequence[dict[str, str]], children: Sequence[bool], args: argparse.Namespace) -> None:
    """5, 50 and 200 referral rules that read every item: per-call cost should grow linearly.

    ``cold``: a fresh rule set, each set once (a batch run's first pass: mostly memo
    misses); ``warm``: the same sets again (memo hits). Both against the hand-written
    loop over the same rules.
    """
    import tempfile

    print(f"\n{'rules':<7}{'hand µs':>9}{'cold µs':>10}{'cold/hand':>11}{'warm µs':>10}{'warm/hand':>11}"
          f"{'assess ms':>11}")
    cold_n = min(len(sets), args.full_n)
    facts = [{"children_in_household": k} for k in children]
    for count in (5, 50, 200):
        with tempfile.TemporaryDirectory() as tmp:
            checked = load_bench_rules(Path(tmp), instrument_yaml(), hw.many_rules_yaml(count))
        with tempfile.TemporaryDirectory() as tmp:
            fresh = load_bench_rules(Path(tmp), instrument_yaml(), hw.many_rules_yaml(count))
        base, cold, warm, full = _one_rule_count(count, checked, fresh, sets, children, facts, cold_n)
        print(f"{count:<7}{1e6 / base:>9.2f}{1e6 / cold:>10.2f}{cold / base:>11.3f}{1e6 / warm:>10.2f}"
              f"{warm / base:>11.3f}{1e3 / full:>11.3f}")


def _one_rule_count(
    count: int, checked: Any, fresh: Any, sets: Sequence[dict[str, str]], children: Sequence[bool],
    facts: Sequence[dict[str, bool]], cold_n: int,
) -> tuple[float, float, float, float]:
    ci = parse_instrument(instrument_yaml(), "bench-weighted.yaml")
    hand = hw.many_rules_referrals(count)
    for n, answers in enumerate(sets):
        (final, services) = hand(answers, children[n])
        summary, got = summarize_referrals(ci, checked, answers, facts[n])
        if (summary[0], got) != (final, services):
            raise SystemExit(f"{count} rules: summarize_referrals disagrees on set {n}: {got} vs {services}")
    cold = rate_calls(lambda k: summarize_referrals(ci, fresh, sets[k], facts[k]), cold_n, repeat=1)
    base, warm = paired(
        lambda k: hand(sets[k], children[k]), lambda k: summarize_referrals(ci, fresh, sets[k], facts[k]), cold_n
    )
    full = rate_calls(lambda k: assess(ci, sets[k], rules=fresh, facts=facts[k]), cold_n // 10, repeat=1)
    return base, cold, warm, full


def series_full_result(
    ci: CompiledInstrument, rules: Any, sets: Sequence[dict[str, str]], facts: Sequence[dict[str, bool]],
    args: argparse.Namespace,
) -> None:
    """The full result (what the interview, the library and a server return) and its JSON."""
    n = min(len(sets), args.full_n)
    base, full = paired(
        lambda k: hw.interval_referrals(sets[k], facts[k]["children_in_household"]),
        lambda k: assess(ci, sets[k], rules=rules, facts=facts[k]),
        n,
        repeat=2,
    )
    results = [assess(ci, sets[k], rules=rules, facts=facts[k]) for k in range(min(n, 2_000))]
    for result in results:
        if result.to_json() != result.to_json_python():
            raise SystemExit("to_json and the standard library's canonical JSON disagree")
    dump_json, to_json = paired(lambda k: results[k].model_dump_json(), lambda k: results[k].to_json(), len(results))
    print(f"\n{'full result':<32}{'sets':>10}{'per s':>14}{'ratio':>14}")
    row("hand-written + referrals", n, base, base)
    row("assess (Result, trace, referrals)", n, full, base)
    row("pydantic model_dump_json", len(results), dump_json, dump_json)
    row("Result.to_json()", len(results), to_json, dump_json)


if __name__ == "__main__":
    sys.exit(main())
