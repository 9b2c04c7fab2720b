"""Static checks of rule sets: every problem located, with a suggestion where one helps."""

from __future__ import annotations

import pytest
from rules_helpers import FIXTURES, demo_home

from screening import SpecError
from screening.cli import run
from screening.content.rules_loader import load_rules

BASE = (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8")


def load_with(tmp_path, old: str, new: str, catalogue: str = "stockholm"):
    assert old in BASE, old
    home = demo_home(tmp_path, BASE.replace(old, new, 1), catalogue)
    return load_rules("demo-rules", home)


def issues_of(tmp_path, old: str, new: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_with(tmp_path, old, new)
    return [str(i) for i in info.value.issues]


def test_the_fixture_itself_is_valid(tmp_path):
    rules = load_with(tmp_path, "id: demo-rules", "id: demo-rules")
    assert rules.ruleset.id == "demo-rules"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # an unknown service, with a suggestion
        (
            "refer: [rvc, relationsvaldsteam]",
            "refer: [rvcc, relationsvaldsteam]",
            "unknown service 'rvcc' (did you mean 'rvc'?)",
        ),
        # an unknown instrument
        (
            "    instrument: demo\n    hit_policy: unique",
            "    instrument: demoo\n    hit_policy: unique",
            "unknown instrument 'demoo'",
        ),
        # a condition on an unknown item
        ("when: \"fired('q4_alone')\"", "when: \"q44 == 'yes'\"", "unknown name 'q44'"),
        # a condition on an unknown level
        ("when: \"level == 'medium'\"", "when: \"level == 'medum'\"", "'medum' is not a risk level"),
        # a rule that can never fire
        ("when: \"fired('q4_alone')\"", "when: \"level > 'high'\"", "this rule can never fire"),
        # overlapping rules under a unique hit policy
        (
            "when: \"level == 'medium'\"",
            "when: \"level >= 'medium'\"",
            "overlaps rule 'medium' under hit policy 'unique'",
        ),
        # a follow-up to an unknown consultation target
        ("target: origo", "target: origoo", "unknown consultation target 'origoo'"),
        # wording that claims a referral was made
        (
            "reason: {sv: Hög nivå, en: High level}",
            "reason: {sv: Hög nivå, en: The police has been contacted}",
            "claims that something was sent",
        ),
        # a rule that recommends nothing
        ("refer: [healthcare]", "refer: []", "recommends nothing"),
        # a reassessment period for an unknown level
        ("reassess_after_days: {low: 90,", "reassess_after_days: {lowest: 90,", "unknown level 'lowest'"),
        # incomplete results need more than information
        (
            "incomplete_support: [relationsvaldsteam]",
            "incomplete_support: [information]",
            "need more than an information service",
        ),
    ],
)
def test_static_check(tmp_path, old, new, expected):
    issues = issues_of(tmp_path, old, new)
    assert any(expected in i for i in issues), issues
    assert all(i.startswith(str(tmp_path / "rules" / "demo-rules.yaml") + ":") for i in issues), issues
    assert all(":0:0:" not in i for i in issues), issues


def test_level_without_any_recommendation(tmp_path):
    text = BASE.replace("when: \"level == 'low'\"", "when: \"level == 'medium' and not complete\"")
    text = text.replace("when: \"fired('q4_alone')\"", "when: \"level == 'high' and fired('q4_alone')\"")
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    messages = [i.message for i in info.value.issues]
    assert any("no rule recommends any service at level 'low'" in m for m in messages), messages


def test_honour_table_may_not_recommend_family_contact(tmp_path):
    text = BASE.replace("    hit_policy: collect\n", "    hit_policy: collect\n    honour_context: \"q1 == 'yes'\"\n")
    text = text.replace("refer: [healthcare]", "refer: [familjesamtal]")
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    assert any("contacts the family" in i.message for i in info.value.issues)


def test_violence_tables_need_the_children_fact(tmp_path):
    text = BASE.replace(
        "  children_in_household: {type: bool, label: {sv: Barn i hushållet, en: Children in the household},"
        ' question: {sv: "Finns det barn i hushållet?", en: "Are there children in the household?"}}\n', ""
    )
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    assert any("children_in_household" in i.message for i in info.value.issues)


def test_all_problems_are_reported_at_once(tmp_path):
    text = BASE.replace("refer: [rvc, relationsvaldsteam]", "refer: [rvcc, relationsvaldsteam]")
    text = text.replace("target: origo", "target: origoo")
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    assert len(info.value.issues) >= 2


def test_validate_command_reports_rule_errors_with_exit_1(tmp_path, capsys):
    home = demo_home(tmp_path, BASE.replace("refer: [rvc, relationsvaldsteam]", "refer: [rvcc, relationsvaldsteam]"))
    code = run(["validate", str(home / "rules" / "demo-rules.yaml"), "--home", str(home)])
    out = capsys.readouterr()
    assert code == 1
    assert "unknown service 'rvcc'" in out.out + out.err
    assert "Traceback" not in out.out + out.err


def test_derive_must_name_a_declared_fact_and_fit_its_type(tmp_path):
    text = BASE.replace(
        "    reassess_after_days:",
        "    derive:\n      childen_in_household: \"q1 == 'yes'\"\n    reassess_after_days:",
        1,
    )
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    issues = [str(i) for i in info.value.issues]
    assert any("unknown case fact 'childen_in_household'" in i and "children_in_household" in i for i in issues), issues
