"""Hypothesis properties of the engine, the loader and the expression parser.

The instruments come from ``strategies.instruments``: random scales with integer
points, count and sum scores, gap-free monotone bands computed from the score
range, and optional monotone critical rules. The properties are the safety rules
of the format: raising an answer never lowers anything; unknowns only widen;
critical rules only raise; judgement policies hold; results do not depend on
answer order, hash seed or repetition; bad input gives only our own errors.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from helpers import DEMO, compile_data, python_env, run_python, to_yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from strategies import Spec, answers, expression_trees, instruments, python_expressions, raise_pairs

from screening import JudgementError, JudgementInput, Result, ScreeningError, assess, parse_instrument
from screening.engine import summarize
from screening.engine.expr import INT, AnswerType, LevelType, Node, compile_expression, parse, render
from screening.errors import ExpressionError

# No deadline: the project forbids wall-clock limits in tests. One bug per test is
# shrunk and reported (report_multiple_bugs=False) to keep a failing run short.
PROPERTY = settings(
    max_examples=150, deadline=None, report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ = settings(
    max_examples=300, deadline=None, report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow]
)


def rank(result: Result, level: str | None) -> int:
    assert level is not None
    return result.levels.index(level)


@st.composite
def scored(draw: st.DrawFn, complete: bool = False, **kwargs: Any) -> tuple[Spec, Any, dict[str, object]]:
    spec = draw(instruments(**kwargs))
    return spec, compile_data(spec.data), draw(answers(spec, complete=complete))


# --- monotonicity -------------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_raising_an_answer_never_lowers_a_score_or_the_level(data: st.DataObject) -> None:
    spec, ci, base = data.draw(scored(complete=False))
    assume(any(base.get(i) in spec.known[i] for i in spec.items))
    ident, value = data.draw(raise_pairs(spec, base))
    before = assess(ci, base)
    after = assess(ci, {**base, ident: value})
    for score_id, old in before.scores.items():
        new = after.scores[score_id]
        assert new.min >= old.min and new.max >= old.max, (score_id, old, new)
    assert before.level_range is not None and after.level_range is not None
    assert rank(after, after.level_range.min) >= rank(before, before.level_range.min)
    assert rank(after, after.level_range.max) >= rank(before, before.level_range.max)
    if before.critical_level is not None:
        assert after.critical_level is not None
        assert rank(after, after.critical_level) >= rank(before, before.critical_level)
    assert set(before.critical) <= set(after.critical)


@PROPERTY
@given(st.data())
def test_raising_a_complete_answer_set_never_lowers_the_final_level(data: st.DataObject) -> None:
    spec, ci, base = data.draw(scored(complete=True, policies=("raise_only", "raise_or_lower")))
    ident, value = data.draw(raise_pairs(spec, base))
    before = assess(ci, base)
    after = assess(ci, {**base, ident: value})
    assert before.status == after.status == "concluded"
    assert rank(after, after.final_level) >= rank(before, before.final_level)
    if before.computed_level is not None:
        assert after.computed_level is not None
        assert rank(after, after.computed_level) >= rank(before, before.computed_level)


# --- unknown answers only widen -----------------------------------------------------------


@PROPERTY
@given(st.data())
def test_an_unknown_answer_never_lowers_the_top_of_the_range(data: st.DataObject) -> None:
    spec, ci, base = data.draw(scored(show_if=True))
    known = [i for i in spec.items if base.get(i) in spec.known[i]]
    assume(known)
    ident = data.draw(st.sampled_from(known))
    how = data.draw(st.sampled_from(["option", "none", "missing"]))
    changed = dict(base)
    if how == "missing":
        del changed[ident]
    else:
        changed[ident] = spec.unknown[ident][0] if how == "option" else None
    before, after = assess(ci, base), assess(ci, changed)
    for score_id, old in before.scores.items():
        new = after.scores[score_id]
        assert new.max >= old.max, (score_id, old, new)
    assert before.level_range is not None and after.level_range is not None
    top = rank(after, after.level_range.max)
    assert top >= rank(before, before.level_range.max)
    if before.final_level is not None:
        assert top >= rank(before, before.final_level)
    assert after.completeness.unknown >= before.completeness.unknown
    if not before.complete:
        assert not after.complete


@PROPERTY
@given(st.data())
def test_the_range_covers_every_completion_of_the_unknown_answers(data: st.DataObject) -> None:
    """Filling in an unknown answer lands inside the range reported with it unknown."""
    spec, ci, base = data.draw(scored(show_if=True))
    unknown = [i for i in spec.items if base.get(i) not in spec.known[i]]
    assume(unknown)
    filled = dict(base)
    for ident in unknown:
        filled[ident] = data.draw(st.sampled_from(spec.known[ident]))
    open_result, full = assess(ci, base), assess(ci, filled)
    assert open_result.level_range is not None and full.level_range is not None
    lo, hi = rank(open_result, open_result.level_range.min), rank(open_result, open_result.level_range.max)
    assert lo <= rank(full, full.level_range.min) <= rank(full, full.level_range.max) <= hi
    for score_id, wide in open_result.scores.items():
        point = full.scores[score_id]
        assert wide.min <= point.min <= point.max <= wide.max


# --- critical rules only raise -----------------------------------------------------------


@PROPERTY
@given(st.data())
def test_critical_rules_only_raise(data: st.DataObject) -> None:
    spec, ci, given_answers = data.draw(scored(complete=True, policies=("raise_only", "raise_or_lower")))
    result = assess(ci, given_answers)
    assert result.status == "concluded"
    final = rank(result, result.final_level)
    assert result.computed_level is not None
    assert final >= rank(result, result.computed_level)
    if result.critical_level is not None:
        assert final >= rank(result, result.critical_level)
    bands_only = compile_data({**spec.data, "critical": []})
    plain = assess(bands_only, given_answers)
    assert final >= rank(plain, plain.final_level)
    assert plain.computed_level == result.computed_level
    if not result.critical:
        assert result.final_level == plain.final_level


# --- judgement policies --------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_raise_only_refuses_a_lower_judgement_and_keeps_a_higher_one(data: st.DataObject) -> None:
    spec, ci, given_answers = data.draw(scored(complete=True, policies=("raise_only",), min_levels=2))
    result = assess(ci, given_answers)
    computed = rank(result, result.final_level)
    judged = data.draw(st.integers(0, len(spec.levels) - 1))
    judgement = JudgementInput(level=spec.levels[judged], rationale="Bedömning efter samtal.")
    if judged < computed:
        with pytest.raises(JudgementError):
            assess(ci, given_answers, judgement=judgement)
    else:
        judged_result = assess(ci, given_answers, judgement=judgement)
        assert judged_result.final_level == spec.levels[judged]
        assert judged_result.judgement is not None
        assert judged_result.judgement.direction == ("confirmed" if judged == computed else "raised")
        assert judged_result.computed_level == result.computed_level


@PROPERTY
@given(st.data())
def test_required_policy_leaves_the_level_to_the_assessor(data: st.DataObject) -> None:
    spec, ci, given_answers = data.draw(scored(policies=("required",)))
    result = assess(ci, given_answers)
    assert result.status == "judgement_required"
    assert result.final_level is None
    judged = data.draw(st.sampled_from(spec.levels))
    judgement = JudgementInput(level=judged, rationale="Strukturerad bedömning.")
    try:
        judged_result = assess(ci, given_answers, judgement=judgement)
    except JudgementError:
        # refused only when incomplete answers would conclude the lowest level, or when an
        # unknown answer could fire a critical rule above the judged level (issue 12)
        raise_to = {c.id: spec.levels.index(c.raise_to) for c in ci.instrument.critical}
        above = [r for r in result.critical_possible if raise_to[r] > spec.levels.index(judged)]
        assert above or (not result.complete and judged == spec.levels[0] and len(spec.levels) > 1)
        return
    assert judged_result.status == "concluded"
    floor = rank(result, result.critical_level) if result.critical_level else 0
    assert judged_result.final_level == spec.levels[max(spec.levels.index(judged), floor)]


@st.composite
def too_many_unknowns(draw: st.DrawFn) -> tuple[Spec, Any, dict[str, object]]:
    spec = draw(instruments(policies=("raise_only", "raise_or_lower"), min_items=2))
    assume(spec.max_unknown < len(spec.items))
    ci = compile_data(spec.data)
    missing = draw(st.sets(st.sampled_from(spec.items), min_size=spec.max_unknown + 1))
    given_answers = draw(answers(spec, complete=True))
    for ident in missing:
        given_answers[ident] = draw(st.sampled_from([None, *spec.unknown[ident]]))
    return spec, ci, given_answers


@PROPERTY
@given(too_many_unknowns(), st.data())
def test_too_many_unknowns_is_incomplete_and_never_the_lowest_level(
    case: tuple[Spec, Any, dict[str, object]], data: st.DataObject
) -> None:
    spec, ci, given_answers = case
    result = assess(ci, given_answers)
    assert not result.complete
    assert result.completeness.unknown > spec.max_unknown
    assert "incomplete" in [w.code for w in result.warnings]
    assert result.level_range is not None
    lo, hi = rank(result, result.level_range.min), rank(result, result.level_range.max)
    if lo == hi and lo > 0:
        # a level above the lowest that no unknown answer can move still stands
        assert result.status == "concluded"
        assert result.final_level == spec.levels[lo]
    else:
        assert result.status == "incomplete"
        assert result.final_level is None
    assert result.final_level != spec.levels[0] or len(spec.levels) == 1
    judged = data.draw(st.sampled_from(spec.levels))
    judgement = JudgementInput(level=judged, rationale="Bedömning.")
    try:
        judged_result = assess(ci, given_answers, judgement=judgement)
    except JudgementError:
        return
    if len(spec.levels) > 1:
        assert judged_result.final_level != spec.levels[0]


# --- the fast path gives the full engine's answer -------------------------------------


@FUZZ
@given(st.data())
def test_the_fast_path_gives_the_full_engines_answer_unknowns_included(data: st.DataObject) -> None:
    """``summarize`` (the batch path) against ``assess`` on random instruments and answers.

    Unknown answers come in every form (an unknown option, ``None``, left out) and
    stay on the fast path whenever it applies at all (skip logic included: shown, hidden
    or behind an unknown condition; critical rules that read answers only): a faster
    wrong answer is worse than a slow one.
    """
    _, ci, base = data.draw(scored(complete=False, show_if=data.draw(st.booleans())))
    full = assess(ci, base)
    final = None if full.final_level is None else rank(full, full.final_level)
    floor = None if full.critical_level is None else rank(full, full.critical_level)
    totals = tuple(-1 if s.value is None else s.value for s in full.scores.values())
    assert summarize(ci, base) == (final, full.status, totals, floor)
    assert full.to_json() == full.to_json_python()  # pydantic's serializer writes the canonical bytes
    event(f"fast path applies: {ci.fast.usable}")
    if ci.fast.usable:
        assert ci.fast.summary(base) == (final, full.status, totals, floor)
    else:
        assert ci.fast.summary(base) is None


# --- determinism ---------------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_answer_order_does_not_matter(data: st.DataObject) -> None:
    _spec, ci, given_answers = data.draw(scored(show_if=True))
    shuffled = dict(data.draw(st.permutations(list(given_answers.items()))))
    assert assess(ci, shuffled).to_json() == assess(ci, given_answers).to_json()


@PROPERTY
@given(st.data())
def test_same_inputs_give_byte_identical_json(data: st.DataObject) -> None:
    spec, ci, given_answers = data.draw(scored(show_if=True))
    first = assess(ci, given_answers).to_json()
    assert assess(ci, given_answers).to_json() == first
    from_yaml = parse_instrument(spec.yaml, "generated.yaml")
    again = parse_instrument(spec.yaml, "generated.yaml")
    assert assess(again, given_answers).to_json() == assess(from_yaml, given_answers).to_json()
    assert json.loads(assess(again, given_answers).to_json())["instrument"]["sha256"] == from_yaml.sha256
    # the YAML route and the data route score alike (only the file hash differs)
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "instrument"}  # noqa: E731
    assert strip(assess(from_yaml, given_answers).to_json()) == strip(first)


_SEED_CHILD = r"""
import json, sys
from screening import parse_instrument, assess
cases = json.load(open(sys.argv[1], encoding="utf-8"))
out = [assess(parse_instrument(c["yaml"], "generated.yaml"), c["answers"]).to_json() for c in cases]
sys.stdout.write(json.dumps(out))
"""


@pytest.mark.slow
def test_results_do_not_depend_on_the_hash_seed(tmp_path: Any) -> None:
    """Score the same generated inputs in child processes under three PYTHONHASHSEEDs."""
    cases: list[dict[str, object]] = []

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        spec = data.draw(instruments(show_if=True))
        cases.append({"yaml": spec.yaml, "answers": data.draw(answers(spec))})

    collect()
    # Inputs that lean on sets: value lists, several unknowns, and the demo instrument.
    cases.append({"yaml": DEMO.read_text(encoding="utf-8"), "answers": {"q2": "unknown", "q4": None}})
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    outputs = set()
    for seed in ("0", "1", "4242"):
        proc = run_python(_SEED_CHILD, str(path), env=python_env(PYTHONHASHSEED=seed))
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1, "results differ between hash seeds"
    in_process = [assess(parse_instrument(c["yaml"], "generated.yaml"), c["answers"]).to_json() for c in cases]  # type: ignore[arg-type]
    assert json.loads(outputs.pop()) == in_process


# --- only our own errors -----------------------------------------------------------------


def _loads_or_spec_error(data: str | bytes) -> None:
    try:
        parse_instrument(data, "fuzz.yaml")
    except ScreeningError as exc:
        assert str(exc)


@FUZZ
@given(st.one_of(st.text(), st.binary()))
def test_loader_raises_only_our_errors_on_arbitrary_input(data: str | bytes) -> None:
    _loads_or_spec_error(data)


_YAMLISH = st.text(alphabet=st.sampled_from(list("abcdefgnoy0123456789:-[]{},'\"&*!|>#\n  \t.%@`?~")), max_size=200)


@FUZZ
@given(_YAMLISH)
def test_loader_raises_only_our_errors_on_yaml_like_input(data: str) -> None:
    _loads_or_spec_error(data)


@FUZZ
@given(st.data())
def test_loader_raises_only_our_errors_on_mutated_text(data: st.DataObject) -> None:
    spec = data.draw(instruments(show_if=True))
    lines = spec.yaml.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "insert", "char", "swap", "dedent"]))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "insert":
            lines.insert(i, data.draw(_YAMLISH) + "\n")
        elif action == "char" and lines[i]:
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:j] + data.draw(st.characters()) + lines[i][j + 1 :]
        elif action == "swap":
            k = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        else:
            lines[i] = lines[i].lstrip()
    _loads_or_spec_error("".join(lines))


_JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.text(max_size=12),
              st.sampled_from(["yes", "i0", "s0", "low", "points", "yes_count", "i0 == 'yes'", "count('yes', i0)"])),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@FUZZ
@given(st.data())
def test_loader_raises_only_our_errors_on_mutated_data(data: st.DataObject) -> None:
    """Replace a random value anywhere in a valid instrument by random data."""
    spec = data.draw(instruments(show_if=True))
    doc = json.loads(json.dumps(spec.data))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)[1:]))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(_JUNK)
    _loads_or_spec_error(to_yaml(doc))


_SYMBOLS = {
    "a": AnswerType(["yes", "no"]),
    "b": AnswerType(["yes", "no", "partly"]),
    "total": INT,
    "final_level": LevelType(["low", "high"]),
}
_TOKENS = st.lists(
    st.sampled_from([
        "a", "b", "total", "final_level", "'yes'", "'no'", "'high'", "1", "-", "+", "(", ")", "[", "]", ",",
        "==", "!=", "<", ">=", "in", "not", "and", "or", "count(", "any_of(", "known(", "rows(", "fired(",
        "true", "is", "**", ".", "lambda", ":", "if", "else", "for", "f'", "{", "}", "*", "__class__", "x",
    ]),
    max_size=25,
).map(" ".join)


@FUZZ
@given(st.one_of(st.text(max_size=300), _TOKENS, python_expressions(), python_expressions()))
def test_expression_parser_raises_only_expression_errors(source: str) -> None:
    # Anything but ExpressionError escapes and fails the test.
    with contextlib.suppress(ExpressionError):
        parse(source)
    with contextlib.suppress(ExpressionError):
        compile_expression(source, _SYMBOLS)


@FUZZ
@given(expression_trees())
def test_parse_render_round_trip(tree: Node) -> None:
    source = render(tree)
    assume(len(source) <= 2000)
    assert parse(source) == tree


def test_strategies_produce_what_the_properties_need() -> None:
    """Guard against vacuous properties: the generators reach the interesting cases."""
    seen: dict[str, int] = {"critical": 0, "indeterminate": 0, "incomplete": 0, "skipped": 0, "multi_level": 0}

    # derandomize: a count over random draws may fall short once in a while (seen once
    # while working on issue 19); the same 200 examples every run cannot flake.
    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def sample(data: st.DataObject) -> None:
        spec, ci, given_answers = data.draw(scored(show_if=True, policies=("raise_only",)))
        result = assess(ci, given_answers)
        seen["critical"] += bool(result.critical)
        seen["indeterminate"] += result.status == "indeterminate"
        seen["incomplete"] += result.status == "incomplete"
        seen["skipped"] += bool(result.completeness.skipped_items)
        seen["multi_level"] += len({b["level"] for b in spec.data["bands"]["ranges"]}) > 1

    sample()
    assert all(count >= 5 for count in seen.values()), seen
