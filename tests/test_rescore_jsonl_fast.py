"""The lean path of ``rescore --input``: the same bytes as the general path, and ordinary records take it.

``batch._lean`` re-scores the usual JSON Lines record without building a
``StoredAssessment`` or a ``Rescored``, and joins the output line from memoised
pieces. Every chunk here is processed twice, by a context with the lean path and
by one without it (``Context.lean = None``: every record through
``StoredAssessment.from_json`` and ``Rescorer.one``), and the two responses —
diff entries in key order, tallies, output lines — must be equal as JSON text.
Work is counted (records taken and declined), never timed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import REPO, build_instrument, item, text, to_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.batch._run import Context, RunConfig, build_rescorer, process_lines, run_jsonl
from screening.batch._score import Scorer
from screening.content.loader import load_instrument
from screening.content.rules_loader import load_rules

ITEMS = {"1.0.0": ["a", "b", "c", "d"], "1.1.0": ["a", "b", "c", "d2", "e"], "1.2.0": ["a", "b", "c", "d2"]}


def _versions(home: Path) -> None:
    """``t`` 1.0.0 → 1.1.0 (renames d, adds e: notes follow from the answered items) → 1.2.0.

    1.2.0 removes e and recodes an unknown c as "no": its notes follow from an answer's value too.
    1.1.0's wider middle band gives records of one (old, new) pair different scores and reasons.
    """
    critical = [{"id": "first", "when": "a == 'yes'", "raise_to": "medium", "reason": text("A")}]

    def bands(cuts: tuple[int, int, int]) -> dict[str, object]:
        low, medium, top = cuts
        return {"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": low}, {"level": "medium", "min": low + 1, "max": medium},
            {"level": "high", "min": medium + 1, "max": top}]}

    def sections(version: str) -> list[dict[str, object]]:
        return [{"id": "main", "title": text("Frågor"), "items": [item(k) for k in ITEMS[version]]}]

    datas = [
        build_instrument(sections=sections("1.0.0"), bands=bands((2, 3, 4)), critical=critical,
                         missing={"max_unknown": 1}),
        build_instrument(version="1.1.0", sections=sections("1.1.0"), bands=bands((0, 3, 5)), critical=critical,
                         missing={"max_unknown": 1},
                         migrations=[{"from_version": "1.0.0", "renamed": {"d": "d2"}, "added": ["e"]}]),
        build_instrument(version="1.2.0", sections=sections("1.2.0"), bands=bands((0, 2, 4)), critical=critical,
                         missing={"max_unknown": 1},
                         migrations=[{"from_version": "1.1.0", "removed": ["e"], "recoded": {"c": {"unknown": "no"}}}]),
    ]
    for data in datas:
        path = home / "instruments" / "t" / f"{data['version']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(data), encoding="utf-8")


def _rules(home: Path) -> None:
    """Referral rules for ``t`` whose services depend on the level and on one answer."""
    def rule(rid: str, when: str, refer: str, urgency: str) -> str:
        words = json.dumps(rid)
        return (f"      - {{id: {rid}, when: \"{when}\", refer: [{refer}], urgency: {urgency},"
                f" reason: {{sv: {words}, en: {words}}}}}")

    (home / "rules" / "services").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "rules" / "services" / "stockholm.yaml", home / "rules" / "services" / "stockholm.yaml")
    (home / "rules" / "trules.yaml").write_text("\n".join([
        "id: trules", "version: 1.0.0", "title: {sv: Regler, en: Rules}", "catalogue: stockholm",
        "incomplete_support: [relationsvaldsteam]", "tables:", "  - id: t", "    instrument: t",
        "    hit_policy: collect", "    rules:",
        rule("low", "level >= 'low'", "information", "planned"),
        rule("medium", "level >= 'medium'", "rvc, relationsvaldsteam", "within_days"),
        rule("high", "level >= 'high'", "skyddat_boende, police", "immediate"),
        rule("bee", "b == 'yes'", "police", "within_days"),
    ]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lean-home")
    _versions(root)
    _rules(root)
    return root


@pytest.fixture(scope="module")
def scorers(home: Path) -> dict[str, Scorer]:
    """Each version's scorer with the rules: the stored outcome an assessment under it would have."""
    rules = load_rules("trules", home)
    return {v: Scorer(load_instrument(f"t@{v}", home), rules) for v in ITEMS}


# (instrument, to, rules, full_results, output): a renames-only plan (entries memoised), a plan
# that removes an item (every changed record compared in full), each record's latest version with
# full results, no rule set, and no output lines (the diff alone).
CONFIGS = [
    ("t", "1.1.0", "trules", "none", True),
    ("t", "1.2.0", "trules", "none", True),
    (None, None, "trules", "changed", True),
    ("t", "1.1.0", None, "none", True),
    ("t", "1.1.0", "trules", "none", False),
]


@pytest.fixture(scope="module")
def contexts(home: Path) -> dict[int, tuple[Context, Context]]:
    """For each config: (lean, general) contexts, kept across examples (their memos only cache)."""
    out = {}
    for n, (inst, to, rules, full, output) in enumerate(CONFIGS):
        cfg = RunConfig(instrument=inst, to=to, rules=rules, home=str(home), full_results=full, output=output)
        lean = Context(build_rescorer(cfg), cfg)
        general = Context(build_rescorer(cfg), cfg)
        general.lean = None
        assert lean.lean is not None
        out[n] = (lean, general)
    return out


def both(pair: tuple[Context, Context], path: Path) -> tuple[str, str]:
    """The chunk's response from the lean and from the general context, as JSON text (key order counts)."""
    size = path.stat().st_size
    lean, general = (json.dumps(process_lines(ctx, path, 0, size, 1), ensure_ascii=False) for ctx in pair)
    return lean, general


def right(scorers: dict[str, Scorer], version: str, answers: dict[str, object]) -> object:
    """The outcome the source version gives (what a store would have kept), or a stand-in if it refuses."""
    try:
        return scorers[version].outcome(answers).to_json()
    except Exception:  # noqa: BLE001 - answers that do not fit: the record fails either way
        return {"level": "low", "status": "concluded", "complete": True, "critical": [], "referrals": []}


# ---------------------------------------------------------------------------- drawn records

GOOD = st.sampled_from(["yes", "no", "no", "unknown"])
BAD = st.sampled_from(["maybe", 1, True, 2.5, None, [], {"x": 1}, ["yes"], ""])
OUTCOME = st.fixed_dictionaries({
    "level": st.sampled_from(["low", "medium", "high", None, "gone"]),
    "status": st.sampled_from(["concluded", "incomplete", "indeterminate"]),
    "complete": st.booleans(),
    "critical": st.sampled_from([[], ["first"]]),
    "referrals": st.sampled_from([[], ["information"], ["information", "rvc", "relationsvaldsteam"],
                                  ["police", "information"]]),
})
# A stored result: right (most), another plausible one, or an odd one the record is refused or recomputed for.
ODD_RESULTS = st.sampled_from([
    None, "medium", [], {"final_level": "low"},
    {"level": "low", "status": "concluded", "complete": 1, "critical": [], "referrals": []},
    {"level": "low", "status": "concluded", "critical": [], "referrals": []},
    {"level": "low", "status": "concluded", "complete": True, "critical": [], "referrals": [], "x": 1},
    {"level": "low", "status": "concluded", "complete": True, "critical": "ab", "referrals": []},
    {"level": "low", "status": "concluded", "complete": True, "critical": [1], "referrals": []},
    {"level": ["low"], "status": "concluded", "complete": True, "critical": [], "referrals": []},
    {"level": "low", "status": 3, "complete": True, "critical": [], "referrals": [{"a": 1}]},
])
EXTRAS = st.sampled_from([
    {}, {}, {}, {"revision": 2}, {"revision": 1}, {"revision": True}, {"revision": False}, {"revision": "2"},
    {"facts": {}}, {"facts": []}, {"facts": 0}, {"facts": {"x": 1}}, {"judgement": None},
    {"judgement": {"level": "high", "rationale": "skäl"}}, {"judgement": {"level": "low", "rationale": " "}},
    {"judgement": "high"}, {"note": "extra field"}, {"assessor": None},
])
MALFORMED = st.sampled_from([
    "not json", "[1, 2]", "7", '"text"', "{", '{"id": "a"} trailing', "   ", '  {"id": "lead"}',
    "\ufeff{}", "[" * 100_000 + "]" * 100_000, '{"id": "a", "id": "b"}', "{}", "null",
])


@st.composite
def lines(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Lines to write: ``("raw", text)`` as is, or ``("record", dict)`` with ``"RIGHT"`` as a placeholder."""
    out: list[tuple[str, object]] = []
    for n in range(draw(st.integers(1, 14))):
        if draw(st.integers(0, 9)) == 0:
            out.append(("raw", draw(MALFORMED)))
            continue
        version = draw(st.sampled_from(["1.0.0", "1.0.0", "1.1.0", "1.2.0", "9.9.9"]))
        inst = draw(st.sampled_from(["t"] * 9 + ["x"]))
        keys = ITEMS.get(version, ITEMS["1.0.0"])
        answers = draw(st.fixed_dictionaries({k: GOOD for k in keys[:2]}, optional={k: GOOD for k in keys[2:]}))
        if draw(st.integers(0, 5)) == 0:
            answers[draw(st.sampled_from([*keys, "zz", "d", "d2"]))] = draw(BAD)
        kind = draw(st.integers(0, 9))
        result: object = "RIGHT" if kind < 6 else draw(OUTCOME) if kind < 9 else draw(ODD_RESULTS)
        rec: dict[str, object] = {
            "id": draw(st.sampled_from([f"a{n}", f"å-\"{n}\\", "", 5, "a\u2028b"])) if kind == 0 else f"a{n}",
            "case": draw(st.sampled_from(["ref-1", "ÄR-001", "19121212-1212", "", "a b", 7])) if kind == 1
            else f"ref-{n}",
            "instrument": {"id": inst, "version": version},
            "answers": answers,
            "result": result,
        }
        if draw(st.integers(0, 3)) == 0:
            rec.update(draw(EXTRAS))
        if draw(st.integers(0, 7)) == 0:
            rec["instrument"] = draw(st.sampled_from([
                {"id": inst, "version": version, "sha256": "0" * 64}, {"id": inst, "version": version, "x": [1]},
                {"id": inst}, "t", {"id": inst, "version": 1}]))
        if draw(st.integers(0, 9)) == 0:
            del rec[draw(st.sampled_from(["id", "case", "instrument", "answers", "result"]))]
        out.append(("record", rec))
    return out


def write(path: Path, drawn: list[tuple[str, object]], scorers: dict[str, Scorer]) -> None:
    texts = []
    for kind, value in drawn:
        if kind == "raw":
            assert isinstance(value, str)
            texts.append(value)
            continue
        assert isinstance(value, dict)
        if value.get("result") == "RIGHT":
            inst = value.get("instrument")
            version = inst.get("version") if isinstance(inst, dict) else None
            answers = value.get("answers", {})
            value = {**value, "result": right(scorers, version if version in scorers else "1.0.0", answers)}
        texts.append(json.dumps(value, ensure_ascii=bool(len(texts) % 2)))
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")


@pytest.mark.parametrize("config", range(len(CONFIGS)))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=lines())
def test_the_lean_path_gives_the_general_paths_bytes(contexts, scorers, tmp_path, config, drawn):
    path = tmp_path / "in.jsonl"
    write(path, drawn, scorers)
    lean, general = both(contexts[config], path)
    assert lean == general


# ---------------------------------------------------------------------------- reading a line

OBJECTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
WRAPS = st.sampled_from([
    lambda t: t.encode(), lambda t: (t + "\n").encode(), lambda t: (t + " \r\n").encode(),
    lambda t: (" " + t).encode(), lambda t: (t + " x").encode(), lambda t: (t + "}").encode(),
    lambda t: ("\ufeff" + t).encode(), lambda t: t.encode("utf-16-le"), lambda t: t.encode("utf-32"),
    lambda t: t.encode()[:-1], lambda t: t.encode() + b"\xff", lambda t: t.encode().replace(b":", b"\x00", 1),
    lambda t: t.replace('"', "'").encode(),
])


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=4), OBJECTS, max_size=4) | OBJECTS, wrap=WRAPS,
       ascii_only=st.booleans())
def test_reading_a_line_is_json_loads(value, wrap, ascii_only):
    from screening.batch._jsonl import _loads

    raw = wrap(json.dumps(value, ensure_ascii=ascii_only))
    try:
        want: object = ("value", json.loads(raw))
    except (ValueError, RecursionError) as exc:
        want = ("error", type(exc), str(exc))
    try:
        got: object = ("value", _loads(raw))
    except (ValueError, RecursionError) as exc:
        got = ("error", type(exc), str(exc))
    # NaN is not equal to itself: compare as text, the way the line is written again.
    assert repr(got) == repr(want)


# ---------------------------------------------------------------------------- chosen records


def ordinary(scorers: dict[str, Scorer], n: int) -> list[str]:
    """``n`` records as a store exports them: known answers, the stored outcome of their own version."""
    out = []
    for k in range(n):
        answers = {key: ("yes" if (k >> bit) & 1 else "no") for bit, key in enumerate(ITEMS["1.0.0"])}
        if k % 7 == 0:
            answers["c"] = "unknown"
        rec = {"id": f"a{k:05d}", "case": f"ref-{k:05d}", "instrument": {"id": "t", "version": "1.0.0"},
               "answers": answers, "result": scorers["1.0.0"].outcome(answers).to_json()}
        if k % 11 == 0:
            rec["revision"] = 2
        out.append(json.dumps(rec, ensure_ascii=False))
    return out


def test_ordinary_records_take_the_lean_path_and_reuse_its_memos(home, scorers, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in ordinary(scorers, 300)), encoding="utf-8")
    cfg = RunConfig(instrument="t", to="1.1.0", rules="trules", home=str(home), output=True)
    lean, general = Context(build_rescorer(cfg), cfg), Context(build_rescorer(cfg), cfg)
    general.lean = None
    got, want = (process_lines(ctx, path, 0, path.stat().st_size, 1) for ctx in (lean, general))
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert lean.lean is not None and (lean.lean.taken, lean.lean.declined) == (300, 0)
    changed = len(got["entries"])
    assert 0 < changed < 300 and len(got["output"]) == 300  # the cut-offs moved: some rose, most did not
    [way] = lean.lean.ways.values()
    # Outcome pairs and changed records' entries are each worked out once, then reused.
    assert len(way.known) < 40 and way.entries is not None and len(way.entries) < changed


def test_records_of_another_shape_go_the_general_way_with_the_same_result(home, scorers, tmp_path):
    rows = ordinary(scorers, 3)
    base = json.loads(rows[0])
    deep: list[object] = []
    for _ in range(70):
        deep = [deep]
    odd = [
        {**base, "judgement": {"level": "high", "rationale": "skäl"}},  # a judgement: policy checks
        {**base, "facts": {"x": 1}},  # case facts: checked against the rule set
        {**base, "revision": True},  # True is an int to from_json, and is written as it came
        {**base, "result": None},  # no stored outcome: recomputed under 1.0.0
        {**base, "result": {**base["result"], "complete": 1}},  # 1 == True in a key: refused all the same
        {**base, "answers": {**base["answers"], "a": "maybe"}},  # an answer that does not fit
        {**base, "answers": {**base["answers"], "group": [{"x": 1}]}},  # nested answers
        {**base, "instrument": {"id": "t", "version": "0.1.0"}},  # an unknown version
        {**base, "case": "19121212-1212"},  # shaped like a personnummer: never echoed
        {**base, "extra": [[[]]]},  # a field from_json does not read: its nesting is walked
        {**base, "extra": deep},  # … and refused when it is too deep
        {**base, "result": {**base["result"], "final_level": "high"}},  # a full result is read as one
    ]
    raw = [json.dumps(r, ensure_ascii=False) for r in odd]
    tail = ('"instrument": {"id": "t", "version": "1.0.0"}, "result": {"level": "low", "status": "concluded",'
            ' "complete": true, "critical": [], "referrals": []}}')
    raw += [  # an id with a lone surrogate (taken: no answers, all not asked), and a NaN answer (refused)
        '{"id": "a\\ud800", "case": "ref-x", "answers": {}, ' + tail,
        '{"id": "n", "case": "ref-n", "answers": {"a": NaN}, ' + tail,
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in [*rows, *raw]), encoding="utf-8")
    cfg = RunConfig(instrument="t", to="1.1.0", rules="trules", home=str(home), output=True)
    lean, general = Context(build_rescorer(cfg), cfg), Context(build_rescorer(cfg), cfg)
    general.lean = None
    got, want = (process_lines(ctx, path, 0, path.stat().st_size, 1) for ctx in (lean, general))
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert lean.lean is not None
    # The three ordinary records and the empty answer set (every item not asked) are taken.
    assert lean.lean.taken == 4 and lean.lean.declined == len(odd) + 1
    assert sum(e["kind"] == "failed" for e in got["entries"]) >= 5


@pytest.mark.parametrize(("to", "values", "level"), [
    ("1.2.0", ["no", "unknown"], "high"),  # only 1.2.0's recoding of an unknown c tells them apart
    ("1.1.0", ["yes", "no"], "low"),  # medium either way (band 1–3), from a score of 2 or of 1
])
def test_records_of_one_outcome_pair_get_their_own_reasons(home, tmp_path, to, values, level):
    # The same items answered, the same stored outcome and the same new outcome.
    stored = {"level": level, "status": "concluded", "complete": True, "critical": [], "referrals": []}
    recs = [{"id": f"a{n}", "case": f"ref-{n}", "instrument": {"id": "t", "version": "1.1.0"},
             "answers": {"a": "no", "b": "yes", "c": c, "d2": "no", "e": "no"}, "result": stored}
            for n, c in enumerate(values * 2)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    cfg = RunConfig(instrument="t", to=to, rules="trules", home=str(home), output=True)
    lean, general = Context(build_rescorer(cfg), cfg), Context(build_rescorer(cfg), cfg)
    general.lean = None
    got, want = (process_lines(ctx, path, 0, path.stat().st_size, 1) for ctx in (lean, general))
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert lean.lean is not None and lean.lean.taken == 4 and len(got["entries"]) == 4
    assert got["entries"][0]["new"] == got["entries"][1]["new"]
    assert got["entries"][0]["reasons"] != got["entries"][1]["reasons"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_whole_run_writes_the_general_paths_file(home, scorers, tmp_path, jobs):
    rows = [*ordinary(scorers, 40), "not json", json.dumps({"id": "b", "case": "ref-b"})]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in rows), encoding="utf-8")
    cfg = RunConfig(instrument="t", to="1.1.0", rules="trules", home=str(home))
    summary = run_jsonl(path, cfg, jobs=jobs, output=tmp_path / "out.jsonl", progress=False, chunk=16)
    with_lines = RunConfig(**{**cfg.to_json(), "output": True})  # what run_jsonl sets with an output file
    general = Context(build_rescorer(with_lines), with_lines)
    general.lean = None
    want = [line + "\n" for line in process_lines(general, path, 0, path.stat().st_size, 1)["output"]]
    got = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    # With workers, chunks come back in the order they are done (Pool.map); each line is the same.
    assert (got if jobs == 1 else sorted(got)) == (want if jobs == 1 else sorted(want))
    assert summary.failed == 2 and summary.diff["counts"]["total"] == 40
