# ruff: noqa: PLR1730  (plain ifs: faster than max(), and a baseline should be fast)
"""Hand-written baselines for ``bench_scoring.py``: the same spec, in plain Python, no engine.

Kept apart from the benchmark's driver so each stays readable. Everything here is
written from the benchmark instrument's spec (``bench_scoring.ITEMS``, ``BANDS``,
``RULES``, ``RULES_YAML``) and the engine's documented safety rules, never by calling
the engine: the benchmark checks the engine against these, first.

* ``interval`` scores answer sets with unknown answers the way the format says:
  an unknown item adds 0 to the lower and its most points to the upper bound of the
  score; critical rules are three-valued (fired, possibly fired, not fired); too many
  unknowns forbid concluding a low level.
* ``interval_referrals`` adds the referral table of ``RULES_YAML`` over the level the
  rules see (the top of the range while it is unsettled) and the safety rules that
  apply to it (children with possibly disclosed violence; never information only while
  incomplete).
* ``many_rules`` / ``many_rules_referrals`` are the rule-count series: ``n`` rules,
  rule ``k`` reads item ``k mod 20`` and a level, and refers to one of a few services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

ITEMS: list[tuple[str, int]] = [
    ("strangled", 4), ("threat_kill", 3), ("weapon", 3), ("a", 1), ("b", 2), ("c", 1),
    ("jealousy", 2), ("control", 2), ("separation", 1), ("escalation", 3), ("drugs", 1),
    ("alcohol", 1), ("forced_sex", 4), ("stalking", 2), ("suicidal", 2), ("children", 3),
    ("pregnant", 1), ("unemployed", 1), ("fear", 2), ("isolation", 1),
]
LEVELS = ["low", "moderate", "high", "severe"]
MAX_UNKNOWN = 0


def _band(score: int) -> int:
    return 3 if score >= 30 else 2 if score >= 20 else 1 if score >= 10 else 0


def _decision(answers: Mapping[str, object]) -> tuple[int | None, str, int, int, int, int, int]:
    """final (or None), status, score min, score max, floor (-1: none), top of the level range, unknowns."""
    lo = spread = unknown = 0
    get = answers.get
    for item, weight in ITEMS:
        v = get(item)
        if v == "yes":
            lo += weight
        elif v != "no":
            spread += weight
            unknown += 1
    hi = lo + spread
    floor = possible = -1
    s = get("strangled")
    if s == "yes":
        floor = 3
    elif s != "no":
        possible = 3
    t, w = get("threat_kill"), get("weapon")
    if t == "yes" and w == "yes":
        if floor < 2:
            floor = 2
    elif t != "no" and w != "no" and possible < 2:
        possible = 2
    a, b, c = get("a"), get("b"), get("c")
    hits = (a == "yes") + (b == "yes") + (c == "yes")
    if hits >= 2:
        if floor < 1:
            floor = 1
    elif 3 - (a == "no") - (b == "no") - (c == "no") >= 2 and possible < 1:
        possible = 1  # the yes answers and the unknown ones could make two
    low = _band(lo)
    if floor > low:
        low = floor
    high = _band(hi)
    if high < low:
        high = low
    if possible > high:
        high = possible
    if unknown > MAX_UNKNOWN and not (low == high and low > 0):
        return None, "incomplete", lo, hi, floor, high, unknown
    if low == high:
        return low, "concluded", lo, hi, floor, high, unknown
    return None, "indeterminate", lo, hi, floor, high, unknown


def interval(answers: Mapping[str, object]) -> tuple[int | None, str, tuple[int], int | None]:
    """The summary the engine's ``summarize`` gives: final, status, (score or -1,), floor."""
    final, status, lo, hi, floor, _, _ = _decision(answers)
    return final, status, (lo if lo == hi else -1,), (floor if floor >= 0 else None)


def interval_referrals(
    answers: Mapping[str, object], children: bool
) -> tuple[tuple[int | None, str, tuple[int], int | None], tuple[str, ...]]:
    """The summary and the services ``summarize_referrals`` gives, most urgent first."""
    final, status, lo, hi, floor, high, unknown = _decision(answers)
    level = final if final is not None else high
    immediate = []
    if level >= 2:
        immediate += ["skyddat_boende", "police"]
    if floor == 3:
        immediate.append("healthcare")
    if children and hi >= 1:  # violence disclosed (risk >= 1) or possibly so
        immediate.append("orosanmalan")
    within = ["rvc"] if level >= 1 else []
    if (unknown > MAX_UNKNOWN or status != "concluded") and not immediate and not within:
        within.append("relationsvaldsteam")  # never information only while incomplete
    summary = final, status, (lo if lo == hi else -1,), (floor if floor >= 0 else None)
    return summary, (*immediate, *within, "information")


SERVICES = ("rvc", "relationsvaldsteam", "healthcare", "police")


def many_rules_yaml(n: int) -> str:
    """A rule set of ``n`` rules: rule ``k`` reads item ``k mod 20`` and level ``k mod 4``."""
    lines = [
        "id: bench-rules", "version: 1.0.0", "title: {sv: Bench, en: Bench}", "catalogue: stockholm",
        "facts:",
        "  children_in_household: {type: bool, label: {sv: Barn, en: Children},",
        "    question: {sv: 'Barn?', en: 'Children?'}}",
        "incomplete_support: [relationsvaldsteam]",
        "tables:", "  - id: bench", "    instrument: bench-weighted", "    hit_policy: collect",
        '    violence_disclosed: "risk >= 1"', "    rules:",
        "      - {id: info, when: \"level >= 'low'\", refer: [information], reason: {sv: I, en: I}}",
    ]
    for k in range(n - 1):
        item = ITEMS[k % len(ITEMS)][0]
        lines.append(
            f"      - {{id: r{k}, when: \"{item} == 'yes' and level >= '{LEVELS[k % 4]}'\", "
            f"refer: [{SERVICES[k % len(SERVICES)]}], urgency: within_days, reason: {{sv: R, en: R}}}}"
        )
    return "\n".join(lines) + "\n"


def many_rules_referrals(n: int) -> Callable[[Mapping[str, object], bool], tuple[int, tuple[str, ...]]]:
    """The hand-written scorer plus the ``n``-rule table, for complete answer sets."""
    rules = [(ITEMS[k % len(ITEMS)][0], k % 4, SERVICES[k % len(SERVICES)]) for k in range(n - 1)]

    def referrals(answers: Mapping[str, object], children: bool) -> tuple[int, tuple[str, ...]]:
        final, _, lo, _, _, _, _ = _decision(answers)
        assert final is not None
        within: list[str] = []
        for item, level, service in rules:
            if answers[item] == "yes" and final >= level and service not in within:
                within.append(service)
        immediate = ["orosanmalan"] if children and lo >= 1 else []
        return final, (*immediate, *within, "information")

    return referrals
