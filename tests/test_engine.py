"""The engine: data-driven cases, answer checking, results, policies and regressions.

``tests/cases/core/*.yaml`` hold hand-worked cases (instrument + answers (+ judgement)
→ expected scores, levels, status, completeness). Each file names an instrument file
(relative to ``tests/``) or carries the instrument inline as ``instrument_yaml``, so
the spec the expectations were worked out from sits in the same file. A case gives
``answers`` or a ``base`` with ``set``/``drop``; ``expect`` keys are fields of the
result JSON plus the shorthands handled in ``check_expectations``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import DEMO, TESTS, build_instrument, compile_instrument, item, text, yes_no_scale

import screening
from screening import AnswerError, CompiledInstrument, JudgementInput, Result, SpecError, assess
from screening.content.yamlsafe import load_yaml_file
from screening.engine import decide
from screening.vectors import run_vectors

CASES = TESTS / "cases" / "core"
_compiled: dict[str, CompiledInstrument] = {}


def _instrument(path: Path, doc: dict[str, Any]) -> CompiledInstrument:
    key = f"{path}:{doc.get('instrument', '')}"
    if key not in _compiled:
        if "instrument_yaml" in doc:
            _compiled[key] = screening.parse_instrument(doc["instrument_yaml"], f"{path.name}#instrument_yaml")
        else:
            _compiled[key] = screening.load_instrument_file(TESTS / doc["instrument"])
    return _compiled[key]


def case_params() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = load_yaml_file(path).data
        assert isinstance(doc, dict), path
        for case in doc["cases"]:
            params.append(pytest.param(path, doc, case, id=f"{path.stem}: {case['name']}"))
    return params


def build_answers(doc: dict[str, Any], case: dict[str, Any]) -> dict[str, object]:
    answers = dict(case["answers"]) if "answers" in case else dict(doc["bases"][case["base"]])
    answers.update(case.get("set", {}))
    for key in case.get("drop", []):
        answers.pop(key)
    return answers


def check_expectations(result: Result, expect: dict[str, Any]) -> None:
    data = result.model_dump(mode="json")
    for key, want in expect.items():
        if key == "score_values":
            got = {score: result.scores[score].value for score in want}
            assert got == want, key
        elif key == "score_ranges":
            got = {score: [result.scores[score].min, result.scores[score].max] for score in want}
            assert got == want, key
        elif key in ("skipped_items", "unknown_items", "unknown_answers"):
            assert data["completeness"][key] == want, key
        elif key == "warnings_include":
            codes = Counter(w.code for w in result.warnings)
            assert not Counter(want) - codes, f"warnings {dict(codes)} lack some of {want}"
        elif key == "judgement_direction":
            assert result.judgement is not None and result.judgement.direction == want, key
        else:
            assert key in data, f"unknown expectation {key!r}"
            assert data[key] == want, key


@pytest.mark.parametrize(("path", "doc", "case"), case_params())
def test_case(path: Path, doc: dict[str, Any], case: dict[str, Any]) -> None:
    ci = _instrument(path, doc)
    answers = build_answers(doc, case)
    judgement = JudgementInput(**case["judgement"]) if "judgement" in case else None
    expect = dict(case["expect"])
    error = expect.pop("error", None)
    contains = expect.pop("error_contains", None)
    if error is not None:
        with pytest.raises(getattr(screening, error)) as info:
            assess(ci, answers, judgement=judgement)
        if contains:
            assert contains in str(info.value)
        return
    result = assess(ci, answers, judgement=judgement)
    check_expectations(result, expect)


def test_case_files_exist_and_cover_every_policy() -> None:
    policies = set()
    for path in sorted(CASES.glob("*.yaml")):
        doc = load_yaml_file(path).data
        assert isinstance(doc, dict) and doc["cases"], path
        policies.add(_instrument(path, doc).instrument.judgement.policy)
    assert policies == {"none", "raise_only", "raise_or_lower", "required"}


# --- answers ----------------------------------------------------------------------

CANARY = "CANARY-19121212-1212"


def typed_instrument() -> CompiledInstrument:
    """One item of every type, for answer checking."""
    items = [
        item("choice"),
        {"id": "age", "type": "number", "text": text("Ålder"), "min": 0, "max": 120},
        {"id": "when", "type": "date", "text": text("Datum")},
        {"id": "notes", "type": "text", "text": text("Anteckningar")},
        {
            "id": "calendar",
            "type": "group",
            "text": text("Kalender"),
            "max_rows": 2,
            "fields": [
                {"id": "date", "type": "date", "text": text("Datum")},
                {"id": "kind", "text": text("Typ"), "scale": "yn"},
                {"id": "severity", "type": "number", "text": text("Grad"), "min": 1, "max": 5},
            ],
        },
    ]
    return compile_instrument(
        sections=[{"id": "main", "title": text("Allt"), "items": items}],
        scores=[{"id": "total", "label": text("Antal ja"), "kind": "count", "values": ["yes"]}],
        bands={
            "score": "total",
            "ranges": [{"level": "low", "min": 0, "max": 0}, {"level": "high", "min": 1, "max": 1}],
        },
    )


@pytest.mark.parametrize(
    ("answers", "where", "allowed"),
    [
        ({"choice": CANARY}, "choice", "yes, no, unknown"),
        ({"choice": 1}, "choice", "yes, no, unknown"),
        ({"choice": True}, "choice", "yes, no, unknown"),
        ({"age": 121}, "age", "an integer from 0 to 120"),
        ({"age": -1}, "age", "an integer from 0 to 120"),
        ({"age": True}, "age", "an integer from 0 to 120"),
        ({"age": "40"}, "age", "an integer from 0 to 120"),
        ({"when": "2024-02-30"}, "when", "a date YYYY-MM-DD, or YYYY-MM or YYYY when approximate"),
        ({"when": "20240101"}, "when", "a date YYYY-MM-DD, or YYYY-MM or YYYY when approximate"),
        ({"notes": 5}, "notes", "text"),
        ({"calendar": [{}, {}, {}]}, "calendar", "a list of at most 2 rows"),
        ({"calendar": "x"}, "calendar", "a list of at most 2 rows"),
        ({"calendar": [CANARY]}, "calendar[0]", "date, kind, severity"),
        ({"calendar": [{"kind": CANARY}]}, "calendar[0].kind", "yes, no, unknown"),
        ({"calendar": [{"severity": 9}]}, "calendar[0].severity", "an integer from 1 to 5"),
        ({"calendar": [{"bogus": 1}]}, "calendar[0].bogus", "date, kind, severity"),
    ],
)
def test_a_bad_answer_names_the_item_and_allowed_values_but_not_the_value(
    answers: dict[str, object], where: str, allowed: str
) -> None:
    ci = typed_instrument()
    with pytest.raises(AnswerError) as info:
        assess(ci, answers)
    err = info.value
    assert err.item_id == where
    assert f"(allowed: {allowed})" in str(err)
    assert CANARY not in str(err) and CANARY not in repr(err.args)
    assert "Traceback" not in str(err)


def test_an_unknown_item_is_an_answer_error_with_a_suggestion() -> None:
    with pytest.raises(AnswerError, match="did you mean 'choice'"):
        assess(typed_instrument(), {"choise": "yes"})


def test_a_long_unknown_item_id_is_cut_short_in_the_error() -> None:
    with pytest.raises(AnswerError) as info:
        assess(typed_instrument(), {"x" * 500: "yes"})
    assert len(info.value.item_id) <= 64


def test_good_answers_of_every_type_are_normalised() -> None:
    ci = typed_instrument()
    result = assess(
        ci,
        {
            "choice": "yes",
            "age": 40,
            "when": dt.date(2024, 5, 17),
            "notes": "Anteckning",
            "calendar": [{"date": "2024-01-01", "kind": "yes", "severity": 2}],
        },
    )
    assert result.answers["when"] == "2024-05-17"
    assert result.answers["age"] == 40
    assert result.answers["calendar"] == [{"date": "2024-01-01", "kind": "yes", "severity": 2}]
    assert result.final_level == "high"


def test_none_means_not_answered_and_is_dropped() -> None:
    result = assess(typed_instrument(), {"choice": None, "age": None})
    assert "choice" not in result.answers and "age" not in result.answers
    assert result.completeness.unknown_items == ["choice"]


def test_an_unknown_option_is_kept_as_given_but_scored_as_unknown() -> None:
    result = assess(typed_instrument(), {"choice": "unknown"})
    assert result.answers["choice"] == "unknown"
    assert (result.scores["total"].min, result.scores["total"].max) == (0, 1)
    assert result.final_level is None


# --- the result record --------------------------------------------------------------


def demo() -> CompiledInstrument:
    return screening.load_instrument_file(DEMO)


def test_result_json_is_canonical_and_round_trips() -> None:
    ci = demo()
    answers = {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"}
    result = assess(ci, answers, assessor="hl01", assessed_at="2024-05-17T10:00:00+02:00")
    text_json = result.to_json()
    assert text_json.endswith("\n")
    data = json.loads(text_json)
    assert list(data) == sorted(data)
    assert Result.model_validate_json(text_json) == result
    ref = data["instrument"]
    assert (ref["id"], ref["version"], ref["sha256"]) == ("demo", "1.0.0", ci.sha256)
    assert ref["title"] == {"sv": "Demoinstrument", "en": "Demo instrument"}
    assert data["assessed_at"] == "2024-05-17T10:00:00+02:00"
    assert data["engine_version"] == screening.__version__
    assert data["schema_version"] == 1


def test_to_json_writes_the_standard_librarys_bytes_for_any_text() -> None:
    """``to_json`` comes from pydantic's serializer; the canonical bytes are the standard library's.

    Quotes, backslashes, control characters, non-Latin script, U+2028, an emoji, and
    a group row whose keys arrive unsorted.
    """
    ci = demo()
    for rationale in ('"citat" \\ och \x00\x1f\x7f\t\n', "åäö ÅÄÖ ελληνικά 中文 \u2028 🙂"):
        result = assess(
            ci,
            {"q1": "yes", "q2": "unknown", "view": "high"},
            judgement=JudgementInput(level="high", rationale=rationale),
            assessor=rationale,
        )
        assert result.to_json() == result.to_json_python()
    data = result.model_dump(mode="json")
    data["answers"]["rows"] = [{"when": "2024", "kind": "hot", "a": None}, {"z": 1, "b": "x"}]
    odd = Result.model_validate(data)
    assert odd.to_json() == odd.to_json_python()
    assert list(json.loads(odd.to_json())["answers"]["rows"][0]) == ["a", "kind", "when"]


def test_the_engine_reads_no_clock() -> None:
    result = assess(demo(), {"q1": "no"})
    assert result.assessed_at is None
    assert result.to_json() == assess(demo(), {"q1": "no"}).to_json()


def test_result_validates_against_its_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = assess(demo(), {"q1": "yes", "q2": "unknown"}, judgement=JudgementInput(level="high", rationale="r"))
    jsonschema.validate(json.loads(result.to_json()), Result.model_json_schema())


def test_the_trace_explains_every_step_in_both_languages() -> None:
    result = assess(demo(), {"q1": "yes", "q2": "no", "q4": "yes", "view": "low"},
                    judgement=JudgementInput(level="high", rationale="Samtal"))
    kinds = {step.kind for step in result.trace}
    assert {"answer", "skipped", "score", "band", "critical", "judgement", "final"} <= kinds
    for step in result.trace:
        assert step.text.sv.strip() and step.text.en.strip()
    refs = {step.ref for step in result.trace}
    assert {"q1", "q3", "total", "q4_alone"} <= refs


def test_trace_of_an_unknown_answer_says_so() -> None:
    result = assess(demo(), {"q1": "unknown", "q2": "no", "q4": "no"})
    assert any(step.kind == "unknown" and step.ref == "q1" for step in result.trace)


def test_requirements_unmet_are_listed_and_warned() -> None:
    ci = compile_instrument(
        requirements=[
            {"id": "a_known", "check": "known(a) or final_level >= 'high'", "message": text("Fråga a måste besvaras")},
        ],
        missing={"max_unknown": 1},
    )
    result = assess(ci, {"b": "no", "c": "no"})
    assert result.requirements_unmet == ["a_known"]
    assert "requirement_unmet" in [w.code for w in result.warnings]
    assert assess(ci, {"a": "no", "b": "no", "c": "no"}).requirements_unmet == []


def test_decide_is_the_same_decision_as_assess() -> None:
    ci = demo()
    for answers in ({"q1": "yes", "q2": "yes", "q3": "unknown"}, {"q4": "yes", "q1": "no", "q2": "no"}, {}):
        decision = decide(ci, ci.evaluate(ci.check_answers(answers)), None)
        result = assess(ci, answers)
        name = (lambda i: None if i is None else ci.levels[i])  # noqa: E731
        assert name(decision.final) == result.final_level
        assert decision.status == result.status
        assert decision.complete == result.complete
        assert decision.precautionary == (decision.final if decision.final is not None else decision.hi)


def test_an_instrument_without_bands_needs_a_judgement() -> None:
    ci = compile_instrument(bands=None)
    result = assess(ci, {"a": "yes", "b": "no", "c": "no"})
    assert result.status == "judgement_required" and result.final_level is None
    judged = assess(ci, {"a": "yes", "b": "no", "c": "no"}, judgement=JudgementInput(level="medium", rationale="r"))
    assert judged.final_level == "medium" and judged.judgement is not None
    assert judged.judgement.direction == "set"


# --- golden vectors ----------------------------------------------------------------------


def test_the_demo_golden_vectors_pass() -> None:
    assert run_vectors(demo()) == []


def test_a_wrong_golden_vector_is_reported() -> None:
    ci = compile_instrument(
        tests=[
            {"name": "a alone", "answers": {"a": "yes", "b": "no", "c": "no"},
             "expect": {"scores": {"total": 1}, "final_level": "high", "status": "concluded"}},
        ]
    )
    (failure,) = run_vectors(ci)
    assert (failure.field, failure.expected, failure.actual) == ("final_level", "high", "medium")
    assert "tests.0 (a alone): final_level" in str(failure)


# --- regressions: cases the engine must get right ------------------------------------------


def test_fired_in_a_critical_rule_sees_the_other_rules() -> None:
    """``fired('r1')`` inside another critical rule must not silently read as false.

    Either the loader rejects ``fired()`` in critical rules (a located error), or it
    works; a rule that can never fire is the one outcome that is not allowed.
    """
    rules = [
        {"id": "r1", "when": "a == 'yes'", "raise_to": "medium", "reason": text("r1")},
        {"id": "r2", "when": "fired('r1') and b == 'yes'", "raise_to": "high", "reason": text("r2")},
    ]
    bands = {"score": "total", "ranges": [{"level": "low", "min": 0, "max": 3}]}
    try:
        ci = compile_instrument(critical=rules, bands=bands)
    except SpecError as exc:
        assert any(i.loc == "critical.1.when" for i in exc.issues)
        return
    result = assess(ci, {"a": "yes", "b": "yes", "c": "no"})
    assert result.critical == ["r1", "r2"]
    assert result.final_level == "high"


def test_bands_must_cover_the_score_of_a_skipped_item() -> None:
    """A skipped item adds 0, not its least points: here total can be 1 (a = no, b skipped).

    The bands start at 2, so the loader must reject them (a band gap), instead of the
    engine crashing or quietly putting the score in the top band.
    """
    with pytest.raises(SpecError) as info:
        compile_instrument(
            scales={"yn": yes_no_scale(yes=2, no=1)},
            sections=[{"id": "main", "title": text("x"), "items": [item("a"), item("b", show_if="a == 'yes'")]}],
            scores=[{"id": "total", "label": text("Summa"), "kind": "sum"}],
            bands={
                "score": "total",
                "ranges": [{"level": "low", "min": 2, "max": 3}, {"level": "high", "min": 4, "max": 4}],
            },
        )
    assert any(i.loc.startswith("bands") for i in info.value.issues), [str(i) for i in info.value.issues]


def test_an_unknown_gate_never_lowers_the_level() -> None:
    """A protective item (negative points) behind a show_if, with the gate unknown.

    violence = no → support is skipped → total 0 → medium. With violence unknown both
    completions are possible: no → 0 (medium), yes → 1 − 2 = −1 (low). The range must
    reach medium; concluding low would let an unknown answer lower the level.
    """
    protective = {
        "options": [
            {"value": "yes", "label": text("Ja"), "points": -2},
            {"value": "no", "label": text("Nej"), "points": 0},
            {"value": "unknown", "label": text("Vet ej"), "unknown": True},
        ]
    }
    ci = compile_instrument(
        scales={"yn": yes_no_scale(yes=1, no=0), "protective": protective},
        sections=[
            {
                "id": "main",
                "title": text("x"),
                "items": [item("violence"), item("support", scale="protective", show_if="violence == 'yes'")],
            }
        ],
        scores=[{"id": "total", "label": text("Summa"), "kind": "sum"}],
        bands={
            "score": "total",
            "ranges": [
                {"level": "low", "min": -2, "max": -1},
                {"level": "medium", "min": 0, "max": 0},
                {"level": "high", "min": 1, "max": 1},
            ],
        },
        missing={"max_unknown": 1},
    )
    known = assess(ci, {"violence": "no", "support": "yes"})
    assert known.final_level == "medium"
    open_result = assess(ci, {"violence": "unknown", "support": "yes"})
    assert open_result.level_range is not None
    assert open_result.levels.index(open_result.level_range.max) >= open_result.levels.index("medium")
    assert open_result.final_level != "low"


def test_a_critical_answer_behind_an_unknown_gate_is_possible_not_certain() -> None:
    """Found by the range property: ``weapon`` is asked only if ``partner == 'yes'``.

    With the gate unknown, weapon = yes may be an answer to a question that should
    have been skipped (partner = no gives no critical rule and low). The critical rule
    is possible, not fired: the range is low–high and the result is not concluded,
    instead of claiming "high whatever the gate is" when one completion gives low.
    """
    ci = compile_instrument(
        scales={"yn": yes_no_scale(yes=0, no=0)},
        sections=[{"id": "main", "title": text("x"),
                   "items": [item("partner"), item("weapon", show_if="partner == 'yes'")]}],
        scores=[{"id": "total", "label": text("Summa"), "kind": "sum"}],
        bands={"score": "total", "ranges": [{"level": "low", "min": 0, "max": 0}]},
        critical=[{"id": "weapon", "when": "weapon == 'yes'", "raise_to": "high", "reason": text("Vapen")}],
        missing={"max_unknown": 1},
    )
    assert assess(ci, {"partner": "no", "weapon": "yes"}).final_level == "low"  # skipped: not counted
    assert assess(ci, {"partner": "yes", "weapon": "yes"}).critical == ["weapon"]
    open_result = assess(ci, {"partner": "unknown", "weapon": "yes"})
    assert open_result.critical == []
    assert open_result.level_range is not None
    assert (open_result.level_range.min, open_result.level_range.max) == ("low", "high")
    assert open_result.status != "concluded" and open_result.final_level != "low"


def test_build_instrument_helper_is_valid_and_overridable() -> None:
    data = build_instrument(bands=None, critical=[])
    assert "bands" not in data and data["critical"] == []
    assert compile_instrument().order == ("a", "b", "c")
