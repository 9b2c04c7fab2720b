"""Migrations between instrument versions: every change type, chains, and the static checks."""

from __future__ import annotations

import pytest
from helpers import FREDA_DEMO, build_instrument, fixture_home, item, text, to_yaml, write_tree
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_rescore_support import compile_yaml

from screening import list_instruments, load_instrument
from screening.cli import run
from screening.content.migration import MigrationError, plan_migration
from screening.content.migration_checks import check_migrations

SCALES = {
    "yn": {
        "options": [
            {"value": "yes", "label": text("Ja"), "points": 1},
            {"value": "no", "label": text("Nej")},
            {"value": "unknown", "label": text("Vet ej"), "unknown": True},
        ]
    },
    "freq": {
        "options": [
            {"value": "never", "label": text("Aldrig")},
            {"value": "sometimes", "label": text("Ibland"), "points": 1},
            {"value": "often", "label": text("Ofta"), "points": 2},
        ]
    },
    "freq2": {
        "options": [
            {"value": "never", "label": text("Aldrig")},
            {"value": "rarely", "label": text("Sällan"), "points": 1},
            {"value": "often", "label": text("Ofta"), "points": 2},
        ]
    },
}


def version(ver: str, items: list[dict], migrations: list[dict] | None = None, **extra):
    data = build_instrument(
        version=ver,
        scales=SCALES,
        sections=[{"id": "main", "title": text("Frågor"), "items": items}],
        scores=[{"id": "total", "label": text("Poäng"), "kind": "sum"}],
        bands={"score": "total", "ranges": [
            {"level": "low", "min": 0, "max": 1}, {"level": "medium", "min": 2, "max": 3},
            {"level": "high", "min": 4, "max": 30}]},
        **extra,
    )
    if migrations is not None:
        data["migrations"] = migrations
    return data


def plan(old: dict, new: dict, extra: dict | None = None):
    versions = {old["version"]: compile_yaml(old).instrument, **(extra or {})}
    target = compile_yaml(new).instrument
    problems = list(check_migrations(target, versions))
    assert problems == [], [p.message for p in problems]
    return plan_migration(old["version"], target, versions)


V1 = version("1.0.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon"), item("gone")])


# ---------------------------------------------------------------- each change type


def test_rename_carries_the_answer_under_the_new_id():
    v2 = version("1.1.0", [item("a"), item("b2"), item("c", scale="freq"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "renamed": {"b": "b2"}}])
    notes = []
    out = plan(V1, v2).apply({"a": "yes", "b": "no", "c": "often"}, notes)
    assert out == {"a": "yes", "b2": "no", "c": "often"}
    assert ("renamed", "b", "b2") in notes


def test_recode_maps_old_values_and_keeps_the_others():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq2"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "recoded": {"c": {"sometimes": "rarely"}}}])
    p = plan(V1, v2)
    assert p.apply({"c": "sometimes"}) == {"c": "rarely"}
    assert p.apply({"c": "often"}) == {"c": "often"}


def test_split_follows_the_value_map_carries_the_rest_and_never_invents_no():
    v2 = version(
        "1.1.0",
        [item("a"), item("b"), item("c", scale="freq"), item("weapon_used"), item("weapon_threat"), item("gone")],
        [{"from_version": "1.0.0", "split": {"weapon": {
            "into": ["weapon_used", "weapon_threat"],
            "values": {"yes": {"weapon_used": None, "weapon_threat": None}},
        }}}],
    )
    p = plan(V1, v2)
    # "no" covered both: both are no. "yes" says one of them happened: both are not asked (unknown).
    assert p.apply({"weapon": "no"}) == {"weapon_used": "no", "weapon_threat": "no"}
    assert p.apply({"weapon": "yes"}) == {}
    assert p.apply({"weapon": "unknown"}) == {"weapon_used": "unknown", "weapon_threat": "unknown"}
    assert p.apply({"weapon": None}) == {"weapon_used": None, "weapon_threat": None}


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        ("any_yes", ["yes", "no"], "yes"),
        ("any_yes", ["no", "no"], "no"),
        ("any_yes", ["no", "unknown"], None),
        ("any_yes", ["no", None], None),
        ("all_yes", ["yes", "yes"], "yes"),
        ("all_yes", ["yes", "no"], "no"),
        ("all_yes", ["yes", "unknown"], None),
    ],
)
def test_merge_is_three_valued_and_undecided_is_not_asked(rule, values, expected):
    v2 = version("1.1.0", [item("ab"), item("c", scale="freq"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "merged": {"ab": {"from": ["a", "b"], "rule": rule}}}])
    out = plan(V1, v2).apply(dict(zip(["a", "b"], values, strict=True)))
    assert out.get("ab") == expected
    assert ("ab" in out) == (expected is not None)


def test_removed_items_are_dropped_and_added_items_are_not_asked():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon"), item("new")],
                 [{"from_version": "1.0.0", "removed": ["gone"], "added": ["new"]}])
    notes = []
    out = plan(V1, v2).apply({"a": "no", "gone": "yes"}, notes)
    assert out == {"a": "no"}
    assert ("removed", "gone", "") in notes and ("added", "", "new") in notes


def test_a_new_item_counts_as_unknown_never_as_no():
    from screening import assess

    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon"), item("gone"), item("new")],
                 [{"from_version": "1.0.0", "added": ["new"]}], missing={"max_unknown": 0})
    answers = plan(V1, v2).apply({"a": "no", "b": "no", "c": "never", "weapon": "no", "gone": "yes"})
    result = assess(compile_yaml(v2), answers)
    assert result.completeness.unknown_items == ["new"]
    assert result.scores["total"].min == 1 and result.scores["total"].max == 2  # "new" might be yes
    assert result.status == "incomplete"


def test_levels_map_renamed_levels():
    v2 = version("1.1.0", V1["sections"][0]["items"], [{"from_version": "1.0.0", "levels": {"medium": "elevated"}}],
                 levels=[{"id": "low", "label": text("Låg")}, {"id": "elevated", "label": text("Förhöjd")},
                         {"id": "high", "label": text("Hög")}])
    v2["bands"]["ranges"][1]["level"] = "elevated"
    assert plan(V1, v2).level("medium") == "elevated"
    assert plan(V1, v2).level("high") == "high"


def test_same_version_is_an_empty_plan_and_identity_copies():
    p = plan_migration("1.0.0", compile_yaml(V1).instrument, {})
    assert p.steps == () and p.apply({"a": "yes"}) == {"a": "yes"}


def test_chains_of_declared_migrations_are_followed():
    v2 = version("1.1.0", [item("a"), item("b2"), item("c", scale="freq"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "renamed": {"b": "b2"}}])
    v3 = version("2.0.0", [item("a"), item("b3"), item("c", scale="freq"), item("weapon"), item("gone")],
                 [{"from_version": "1.1.0", "renamed": {"b2": "b3"}}])
    extra = {"1.1.0": compile_yaml(v2).instrument}
    p = plan(V1, v3, extra)
    assert [s.target for s in p.steps] == ["1.1.0", "2.0.0"]
    assert p.apply({"b": "yes"}) == {"b3": "yes"}


def test_no_declared_path_is_an_error_naming_the_versions():
    v2 = version("1.1.0", V1["sections"][0]["items"])
    with pytest.raises(MigrationError, match=r"no migration path from 1\.0\.0"):
        plan_migration("1.0.0", compile_yaml(v2).instrument, {"1.0.0": compile_yaml(V1).instrument})
    with pytest.raises(MigrationError, match="not a known version"):
        plan_migration("0.9.0", compile_yaml(v2).instrument, {})


# ---------------------------------------------------------------- static checks


def problems(new: dict, old: dict = V1) -> list[tuple[str, str]]:
    found = check_migrations(compile_yaml(new).instrument, {old["version"]: compile_yaml(old).instrument})
    return [(".".join(map(str, p.loc)), p.message) for p in found]


def test_every_old_and_new_item_must_be_accounted_for():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon"), item("fresh")],
                 [{"from_version": "1.0.0"}])
    found = problems(v2)
    assert ("migrations.0", "item 'gone' of 1.0.0 is not accounted for: rename, split, merge or remove it") in found
    assert ("migrations.0", "new item 'fresh' is not accounted for: list it under 'added' (not asked)") in found


def test_unknown_ids_values_and_versions_are_located():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq2"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "renamed": {"bb": "b"}, "recoded": {"c": {"sometimes": "seldom"}}},
                  {"from_version": "0.5.0"}])
    found = dict(problems(v2))
    assert "no item 'bb' in t 1.0.0" in found["migrations.0.renamed.bb"]
    assert found["migrations.0.recoded.c.sometimes"] == "'seldom' is not a value of 'c' in 1.1.0: recode it"
    assert found["migrations.1.from_version"].startswith("no older version 0.5.0 of t")


def test_an_unmapped_old_value_must_be_recoded():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq2"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0"}])
    assert ("migrations.0", "'sometimes' is not a value of 'c' in 1.1.0: recode it") in problems(v2)


def test_an_item_cannot_have_two_fates_or_two_sources():
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon"), item("gone")],
                 [{"from_version": "1.0.0", "renamed": {"a": "b"}, "removed": ["a"]}])
    found = [m for _, m in problems(v2)]
    assert "old item 'a' is both renamed and removed" in found
    assert "item 'b' gets answers from carried over and a rename" in found


def test_a_changed_type_must_be_removed_and_added():
    v2 = version("1.1.0", [item("a"), item("b"), {"id": "c", "type": "number", "min": 0, "max": 5,
                 "text": text("Antal")}, item("weapon"), item("gone")], [{"from_version": "1.0.0"}])
    assert any("changed type (choice → number)" in m for _, m in problems(v2))


def test_validate_reports_migration_problems_located_in_the_file(tmp_path, capsys):
    v2 = version("1.1.0", [item("a"), item("b"), item("c", scale="freq"), item("weapon")],
                 [{"from_version": "1.0.0"}])
    files = write_tree(tmp_path, {"instruments/t/1.0.0.yaml": to_yaml(V1), "instruments/t/1.1.0.yaml": to_yaml(v2)})
    assert run(["validate", str(files["instruments/t/1.1.0.yaml"])]) == 1
    err = capsys.readouterr().out
    assert "1.1.0.yaml:" in err and "migrations.0: item 'gone' of 1.0.0 is not accounted for" in err
    line = next(x for x in err.splitlines() if "gone" in x)
    assert line.split(":")[1].isdigit()  # file:line:col


# ------------------------------------- the migration demonstration (tests/fixtures, not bundled)


def test_demo_freda_1_1_0_validates_beside_the_bundled_1_0_0(tmp_path, capsys):
    # Its golden vectors and its migration are checked as a bundled version's would be.
    home = fixture_home(tmp_path)
    assert run(["validate", str(home / "instruments" / "freda-farlighet" / "1.1.0.yaml")]) == 0, capsys.readouterr()
    assert "freda-farlighet@1.1.0" not in {f"{f.id}@{f.version}" for f in list_instruments()}


def test_demo_freda_1_1_0_migration_carries_a_1_0_0_assessment():
    old = load_instrument("freda-farlighet@1.0.0")
    new = load_instrument(str(FREDA_DEMO))
    assert list(check_migrations(new.instrument, {"1.0.0": old.instrument})) == []
    p = plan_migration("1.0.0", new.instrument, {"1.0.0": old.instrument})
    answers = dict(old.instrument.tests[0].answers, controlling="yes", believes_capable="yes", own_view="high")
    out = p.apply(answers)
    assert out["believes_could_kill"] == "yes" and "believes_capable" not in out
    assert out["own_view"] == "great"
    assert out["controlling"] == "yes" and "economic_control" not in out  # not asked, never "no"
    assert "violent_to_others" not in out
    new.check_answers(out)  # fits 1.1.0
    assert p.apply(dict(answers, controlling="no"))["economic_control"] == "no"


def test_an_instrument_with_migrations_round_trips_through_the_model():
    data = version("1.1.0", V1["sections"][0]["items"],
                   [{"from_version": "1.0.0", "merged": {"x": {"from": ["a", "b"], "rule": "any_yes"}}}])
    inst = compile_yaml(data).instrument
    assert inst.migrations[0].merged["x"].sources == ["a", "b"]
    assert inst.migrations[0].model_dump(by_alias=True)["merged"]["x"]["from"] == ["a", "b"]


@given(
    answers=st.dictionaries(st.sampled_from("abcdefghij"), st.sampled_from(["yes", "no", "unknown"])),
    renames=st.dictionaries(st.sampled_from("abcdefghijk"), st.sampled_from("abcdefghijk"), max_size=3),
)
@example(answers={"a": "yes", "b": "no", "c": "no", "d": "no", "e": "no"}, renames={"a": "b"})  # a taken name
@example(answers={"a": "yes", "b": "no", "c": "no", "d": "no", "e": "no", "f": "no", "g": "no", "h": "no",
                  "i": "no"}, renames={"a": "b", "b": "a"})  # a swap
@settings(max_examples=300)
def test_the_quick_rename_equals_the_general_one(answers, renames):
    """The C-speed copy-and-move path gives the general rename's answers, swaps and taken names included."""
    from screening.content.migration import MigrationStep

    step = MigrationStep(source="1", target="2", carry={}, split={}, merged=(), removed=frozenset(), added=(),
                         levels={}, identity=False, renames=renames)
    assert step.apply(answers) == {renames.get(k, k): v for k, v in answers.items()}
