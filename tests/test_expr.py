"""The expression language: syntax tree, type checks, and three-valued evaluation.

Oracles are independent of the engine: truth tables are Kleene's, and every
count/any_of/all_of result with unknown answers is checked against brute force
over all completions of the unknown answers (true in all → true, false in all →
false, otherwise unknown).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import pytest

from screening.engine.expr import (
    BOOL,
    INT,
    UNKNOWN,
    AnswerType,
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Expression,
    GroupType,
    Interval,
    LevelType,
    ListLit,
    Name,
    Not,
    Type,
    compile_expression,
    parse,
    render,
)
from screening.errors import ExpressionError, ScreeningError

YN = AnswerType(["yes", "no"])
LEVELS = LevelType(["low", "medium", "high"])
CALENDAR = GroupType({"date": Type("date"), "severity": INT, "kind": AnswerType(["physical", "threat"])})
SYMBOLS: dict[str, Type] = {
    "a": YN,
    "b": YN,
    "c": YN,
    "freq": AnswerType(["never", "sometimes", "often"]),
    "age": INT,
    "notes": Type("text"),
    "born": Type("date"),
    "calendar": CALENDAR,
    "total": INT,
    "final_level": LEVELS,
    "@critical": AnswerType(["strangled", "weapon"]),
}


def ev(text: str, env: Mapping[str, object], symbols: Mapping[str, Type] = SYMBOLS) -> object:
    return compile_expression(text, symbols).evaluate(env)


def error(text: str, symbols: Mapping[str, Type] = SYMBOLS) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, symbols)
    return info.value


def completions(env: Mapping[str, object]) -> Iterator[dict[str, object]]:
    """Every way to replace the UNKNOWN answers of ``env`` by a known yes/no."""
    unknown = [k for k, v in env.items() if v is UNKNOWN]
    for values in itertools.product(["yes", "no"], repeat=len(unknown)):
        yield {**env, **dict(zip(unknown, values, strict=True))}


def brute_force(text: str, env: Mapping[str, object]) -> object:
    """The three-valued answer by definition: what every completion agrees on."""
    outcomes = {ev(text, full) for full in completions(env)}
    assert outcomes <= {True, False}, "a fully known env must give a plain truth value"
    return outcomes.pop() if len(outcomes) == 1 else UNKNOWN


THREE = ["yes", "no", UNKNOWN]


# --- syntax ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a == 'yes'", Compare(Name("a"), "==", Const("yes"))),
        ("a != 'no'", Compare(Name("a"), "!=", Const("no"))),
        ("not a == 'yes'", Not(Compare(Name("a"), "==", Const("yes")))),
        ("a in ['yes', 'no']", Compare(Name("a"), "in", ListLit((Const("yes"), Const("no"))))),
        ("a not in ('yes',)", Compare(Name("a"), "not in", ListLit((Const("yes"),)))),
        ("total >= -3", Compare(Name("total"), ">=", Const(-3))),
        ("-total", Arith("-", Const(0), Name("total"))),
        ("total + 1 - age", Arith("-", Arith("+", Name("total"), Const(1)), Name("age"))),
        ("true", Const(True)),
        ("False", Const(False)),
        ("count('yes', a, b)", Call("count", (Const("yes"), Name("a"), Name("b")))),
        ("x or y or z", BoolOp("or", (Name("x"), Name("y"), Name("z")))),
        (
            "1 < total <= 3",
            BoolOp("and", (Compare(Const(1), "<", Name("total")), Compare(Name("total"), "<=", Const(3)))),
        ),
    ],
)
def test_parse_builds_our_own_tree(text: str, tree: object) -> None:
    assert parse(text) == tree


def test_parse_records_one_based_columns_but_equality_ignores_them() -> None:
    node = parse("a == 'yes' and  b == 'no'")
    assert isinstance(node, BoolOp)
    assert [v.col for v in node.values] == [1, 17]
    assert node == BoolOp("and", (Compare(Name("a"), "==", Const("yes")), Compare(Name("b"), "==", Const("no"))))


@pytest.mark.parametrize(
    "text",
    [
        "a == 'yes'",
        "not (a == 'yes' or b != 'no')",
        "count(['yes', 'no'], a, b) >= 2 and total - 1 < 3",
        "final_level in ['medium', 'high']",
        "-(total + -2) == 0",
        "'it''s' == notes",
        "a == \"say 'hi'\"",
        "true and not false",
    ],
)
def test_render_round_trips(text: str) -> None:
    tree = parse(text)
    assert parse(render(tree)) == tree


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_expression_is_an_error(text: str) -> None:
    with pytest.raises(ExpressionError, match="empty"):
        parse(text)


def test_non_string_is_an_error_not_a_crash() -> None:
    with pytest.raises(ExpressionError):
        parse(None)  # type: ignore[arg-type]


def test_syntax_error_has_a_column() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a == == 'yes'")
    assert info.value.column == 6
    assert "syntax error" in str(info.value)
    with pytest.raises(ExpressionError, match="syntax error"):
        parse("a == 'yes' and")


# --- type checks at load time ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column", "suggestion"),
    [
        ("aa == 'yes'", "unknown name 'aa'", 1, "a"),
        ("a == 'yes' and totl > 1", "unknown name 'totl'", 16, "total"),
        ("a == 'yse'", "not an answer value", 6, "yes"),
        ("a in ['yes', 'maybe']", "not an answer value", 14, None),
        ("final_level >= 'meduim'", "not a risk level", 16, "medium"),
        ("cuont('yes', a)", "unknown function 'cuont'", 1, "count"),
        ("count('maybe', a, b) > 0", "not an answer value of 'a'", 16, None),
        ("count(a) > 0", "takes 2 or more arguments", 1, None),
        ("known(a, b)", "takes 1 arguments", 1, None),
        ("a < 'yes'", "cannot be ordered", 5, None),
        ("total == 'high'", "cannot compare int with str", 1, None),
        ("a == 1", "1 is not an answer value", 6, None),
        ("not a", "expected bool, got answer", 5, None),
        ("total + a > 1", "expected int, got answer", 9, None),
        ("notes == 'x'", "cannot compare text", 1, None),
        ("notes == born", "cannot compare text with date", 1, None),
        ("total", "expected a bool expression, got int", 1, None),
        ("a in 'yes'", "needs a list literal", 6, None),
        ("['yes'] == a", "list may only stand on the right", 1, None),
        ("rows(a) > 1", "expected a repeating group", 6, None),
        ("rows_where(calendar, 'kidn', 'threat') > 0", "no field 'kidn'", 22, "kind"),
        ("rows_where(calendar, 'kind', 'verbal') > 0", "not an answer value", 30, None),
        ("max_of(calendar, 'kind') > 1", "expected int", 18, None),
        ("fired('stangled')", "no critical rule 'stangled'", 7, "strangled"),
        ("fired(a)", "critical rule id in quotes", 7, None),
        ("count(x='yes') > 0", "keyword arguments", 1, None),
    ],
)
def test_type_errors_are_located_with_suggestions(
    text: str, message: str, column: int, suggestion: str | None
) -> None:
    err = error(text)
    assert message in err.message
    assert err.column == column, f"column {err.column} in {text!r}"
    if suggestion is not None:
        assert err.suggestion == suggestion
        assert f"did you mean {suggestion!r}" in str(err)
    assert err.text == text
    assert isinstance(err, ScreeningError)


def test_internal_symbols_are_not_names() -> None:
    err = error("critical == 'x'")
    assert "@critical" not in str(err)


def test_compile_records_every_name_read() -> None:
    compiled = compile_expression("a == 'yes' or count('yes', b, c) > total", SYMBOLS)
    assert isinstance(compiled, Expression)
    assert compiled.names == frozenset({"a", "b", "c", "total"})
    assert compiled.type == BOOL


def test_expect_none_allows_any_type() -> None:
    compiled = compile_expression("total + 2", SYMBOLS, expect=None)
    assert compiled.type == INT
    assert compiled.evaluate({"total": 3}) == 5


# --- three-valued logic ------------------------------------------------------------

_KLEENE = {True: 2, UNKNOWN: 1, False: 0}
_BACK = {2: True, 1: UNKNOWN, 0: False}


@pytest.mark.parametrize(("x", "y"), list(itertools.product(THREE, THREE)))
def test_and_or_not_follow_kleene(x: object, y: object) -> None:
    env = {"a": x, "b": y}
    left = {"yes": True, "no": False}.get(x, UNKNOWN)  # type: ignore[call-overload]
    right = {"yes": True, "no": False}.get(y, UNKNOWN)  # type: ignore[call-overload]
    assert ev("a == 'yes' and b == 'yes'", env) is _BACK[min(_KLEENE[left], _KLEENE[right])]
    assert ev("a == 'yes' or b == 'yes'", env) is _BACK[max(_KLEENE[left], _KLEENE[right])]
    assert ev("not a == 'yes'", env) is _BACK[2 - _KLEENE[left]]


def test_missing_key_is_unknown_not_no() -> None:
    assert ev("a == 'no'", {}) is UNKNOWN
    assert ev("a != 'yes'", {}) is UNKNOWN
    assert ev("a in ['no']", {}) is UNKNOWN


def test_unknown_has_no_truth_value() -> None:
    with pytest.raises(TypeError):
        bool(UNKNOWN)
    assert type(UNKNOWN)() is UNKNOWN
    assert repr(UNKNOWN) == "UNKNOWN"


@pytest.mark.parametrize(
    "text",
    [
        "count('yes', a, b, c) >= 2",
        "count('yes', a, b, c) > 0",
        "count('yes', a, b, c) == 1",
        "count('yes', a, b, c) != 1",
        "count('yes', a, b, c) < 2",
        "count('yes', a, b, c) <= 0",
        "count('no', a, b) + count('yes', c) >= 2",
        "2 <= count('yes', a, b, c)",
        "count('yes', a, b, c) in [0, 3]",
        "count('yes', a, b, c) not in [1]",
        "any_of('yes', a, b, c)",
        "all_of('yes', a, b, c)",
        "a == 'yes' and b == 'yes'",
        "a == 'yes' or (b == 'no' and c == 'yes')",
        "not any_of('no', a, b)",
        "a in ['yes'] or c not in ['yes']",
    ],
)
def test_unknown_answers_give_exactly_what_all_completions_agree_on(text: str) -> None:
    for values in itertools.product(THREE, repeat=3):
        env = dict(zip("abc", values, strict=True))
        assert ev(text, env) is brute_force(text, env), f"{text} with {env}"


@pytest.mark.parametrize(
    "text",
    [
        # A value list that holds every known value of the scale: an unknown answer
        # is then certainly in it. The engine may stay undecided here (an interval),
        # but it must never claim the opposite of what every completion says.
        "count(['yes', 'no'], a, b) == 2",
        "all_of(['yes', 'no'], a, b)",
        "any_of(['yes', 'no'], a) and count('yes', b, c) >= 1",
    ],
)
def test_three_valued_results_are_never_contradicted_by_a_completion(text: str) -> None:
    for values in itertools.product(THREE, repeat=3):
        env = dict(zip("abc", values, strict=True))
        got = ev(text, env)
        if got is not UNKNOWN:
            assert got is brute_force(text, env), f"{text} with {env}"


@pytest.mark.parametrize(
    ("interval", "text", "expected"),
    [
        (Interval(1, 3), "total >= 2", UNKNOWN),
        (Interval(2, 3), "total >= 2", True),
        (Interval(0, 1), "total >= 2", False),
        (Interval(0, 1), "total < 2", True),
        (Interval(1, 3), "total == 0", False),
        (Interval(1, 3), "total != 0", True),
        (Interval(1, 3), "total == 2", UNKNOWN),
        (Interval(1, 3), "total in [5, 6]", False),
        (Interval(1, 3), "total in [3, 6]", UNKNOWN),
        (Interval(1, 3), "total not in [5]", True),
        (Interval(1, 3), "total + 2 >= 3", True),
        (Interval(1, 3), "total - 5 < 0", True),
        (Interval(1, 3), "age - total >= 7", True),
        (Interval(1, 3), "age - total >= 8", UNKNOWN),
    ],
)
def test_score_intervals_compare_three_valued(interval: Interval, text: str, expected: object) -> None:
    assert ev(text, {"total": interval, "age": 10}) is expected


def test_interval_of_collapses_a_point() -> None:
    assert Interval.of(2, 2) == 2
    assert Interval.of(1, 2) == Interval(1, 2)


# --- skipped (not applicable) items ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 'yes'", False),
        ("a != 'yes'", True),
        ("a in ['yes', 'no']", False),
        ("a not in ['yes']", True),
        ("known(a)", False),
        ("unknown(a)", False),
        ("any_of('yes', a, b)", False),
        ("count('yes', a, b) == 0", True),
        ("all_of('no', a, b)", False),
    ],
)
def test_a_skipped_item_is_not_applicable_rather_than_unknown(text: str, expected: object) -> None:
    assert ev(text, {"a": None, "b": "no"}) is expected


def test_known_and_unknown() -> None:
    assert ev("known(a)", {"a": "no"}) is True
    assert ev("unknown(a)", {"a": "no"}) is False
    assert ev("known(a)", {}) is False
    assert ev("unknown(a)", {}) is True
    assert ev("known(notes) and unknown(born)", {"notes": "x"}) is True


# --- levels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rank", "text", "expected"),
    [
        (1, "final_level >= 'medium'", True),
        (0, "final_level >= 'medium'", False),
        (2, "final_level > 'medium'", True),
        (1, "'high' > final_level", True),
        (1, "final_level == 'medium'", True),
        (2, "final_level in ['medium', 'high']", True),
        (0, "final_level in ['medium', 'high']", False),
        (UNKNOWN, "final_level >= 'medium'", UNKNOWN),
    ],
)
def test_levels_compare_by_rank_not_spelling(rank: object, text: str, expected: object) -> None:
    # 'high' < 'low' < 'medium' alphabetically; ranks must win.
    assert ev(text, {"final_level": rank}) is expected


# --- functions over groups -----------------------------------------------------------


def rows(*spec: tuple[object, object, object]) -> tuple[dict[str, object], ...]:
    return tuple({"date": d, "severity": s, "kind": k} for d, s, k in spec)


def test_rows_and_rows_where() -> None:
    cal = rows(("2024-01-01", 1, "physical"), ("2024-02-01", 2, "threat"), ("2024-03-01", 3, UNKNOWN))
    assert ev("rows(calendar) == 3", {"calendar": cal}) is True
    assert ev("rows_where(calendar, 'kind', 'physical') >= 1", {"calendar": cal}) is True
    # one row's kind is unknown: 1 or 2 physical rows
    assert ev("rows_where(calendar, 'kind', 'physical') >= 2", {"calendar": cal}) is UNKNOWN
    assert ev("rows_where(calendar, 'kind', ['physical', 'threat']) >= 2", {"calendar": cal}) is True
    assert ev("rows(calendar) > 0", {}) is UNKNOWN
    assert ev("rows(calendar) > 0", {"calendar": None}) is False


def test_max_of() -> None:
    cal = rows(("2024-01-01", 1, "physical"), ("2024-02-01", 4, "threat"))
    assert ev("max_of(calendar, 'severity') == 4", {"calendar": cal}) is True
    assert ev("max_of(calendar, 'severity') == 0", {"calendar": ()}) is True
    gap = rows(("2024-01-01", 1, "physical"), ("2024-02-01", None, "threat"))
    assert ev("max_of(calendar, 'severity') >= 1", {"calendar": gap}) is UNKNOWN


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # two recent incidents against one in the half year before: escalating
        ([("2024-01-01", 1), ("2024-09-01", 1), ("2024-10-01", 1)], True),
        # same number, but more severe recently
        ([("2024-01-01", 1), ("2024-10-01", 3)], True),
        # fewer and milder recently
        ([("2024-01-01", 3), ("2024-02-01", 3), ("2024-10-01", 1)], False),
        # violence that starts in the latest half year (two incidents, none before) is escalation (issue 13, 12)
        ([("2024-09-01", 1), ("2024-10-01", 2)], True),
        # ... but one recent incident after a quiet year is not a trend
        ([("2023-06-01", 2), ("2024-10-01", 2)], False),
        # approximate dates are intervals: the same month is certainly within the half year
        ([("2024-09", 3), ("2024-09", 4)], True),
        # an approximate year may fall in either half year: left open, never guessed
        ([("2024-01-10", 3), ("2024", 3)], UNKNOWN),
        # a single incident is no trend; no incidents neither
        ([("2024-10-01", 5)], False),
        ([], False),
        # an unknown severity leaves the trend open
        ([("2024-01-01", 1), ("2024-10-01", None)], UNKNOWN),
    ],
)
def test_escalating_is_anchored_at_the_latest_incident(spec: list[tuple[object, object]], expected: object) -> None:
    cal = rows(*[(d, s, "physical") for d, s in spec])
    assert ev("escalating(calendar, 'date', 'severity')", {"calendar": cal}) is expected


def test_escalating_needs_a_date_and_a_number_field() -> None:
    assert "expected" in error("escalating(calendar, 'severity', 'date')").message


def test_fired_reads_critical_states() -> None:
    assert ev("fired('strangled')", {"@critical": {"strangled": True}}) is True
    assert ev("fired('strangled')", {"@critical": {"strangled": UNKNOWN}}) is UNKNOWN
    assert ev("fired('weapon')", {"@critical": {"strangled": True}}) is False


def test_answer_values_of_other_items_are_checked_per_item() -> None:
    assert ev("freq in ['sometimes', 'often']", {"freq": "often"}) is True
    assert "not an answer value" in error("count('yes', a, freq) > 0").message
