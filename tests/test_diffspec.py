"""``screening diff``: what changed between two instrument versions or two rule sets."""

from __future__ import annotations

import json

from helpers import FREDA_DEMO, REPO, fixture_home, write_tree

from screening import load_instrument
from screening.cli import run
from screening.content.rules_loader import load_rules
from screening.referral.diffspec import diff_instruments, diff_rulesets, render_changes


def paths(changes):
    return {(c.kind, c.path.lstrip(".")) for c in changes}


def test_freda_1_0_0_to_1_1_0_lists_every_kind_of_change():
    old = load_instrument("freda-farlighet@1.0.0").instrument
    new = load_instrument(str(FREDA_DEMO)).instrument  # the migration demonstration (tests/fixtures)
    found = paths(diff_instruments(old, new))
    assert ("changed", "version") in found
    assert ("removed", "items.believes_capable") in found
    assert ("added", "items.believes_could_kill") in found
    assert ("added", "items.economic_control") in found
    assert ("added", "items.violent_to_others") in found
    assert ("changed", "items.controlling.text.sv") in found and ("changed", "items.controlling.text.en") in found
    assert ("removed", "items.own_view.options.low") in found and ("added", "items.own_view.options.small") in found
    assert ("added", "critical.weapon_access_with_threats") in found
    assert ("changed", "critical.separation_with_control.when") in found
    assert ("added", "migrations.1.0.0") in found
    assert not any(p.startswith("items.strangled") for _, p in found)  # unchanged items stay silent


def test_points_bands_levels_and_policy_changes_show(tmp_path):
    from test_rescore_support import yes_no_versions

    files = yes_no_versions(tmp_path)
    a = load_instrument(str(files["1.0.0"])).instrument
    b = load_instrument(str(files["1.1.0"])).instrument
    changes = {c.path.lstrip("."): c for c in diff_instruments(a, b)}
    assert changes["bands.low"].old == "0–1" and changes["bands.low"].new == "0–0"
    assert changes["bands.high"].new == "2–4"
    policy = b.model_copy(update={"judgement": b.judgement.model_copy(update={"policy": "raise_or_lower"})})
    assert ("changed", "judgement") in paths(diff_instruments(b, policy))


def test_the_same_version_has_no_changes():
    inst = load_instrument("freda-farlighet@1.0.0").instrument
    assert diff_instruments(inst, inst) == []
    assert "no changes" in render_changes("x", [])


def test_rule_sets_added_removed_and_changed_rules(tmp_path):
    text = (REPO / "rules" / "stockholm.yaml").read_text(encoding="utf-8")
    changed = text.replace("version: 1.0.0", "version: 1.1.0", 1).replace(
        "reassess_after_days: {low: 90, medium: 30, high: 7}", "reassess_after_days: {low: 60, medium: 30, high: 7}"
    ).replace("      - id: leaving\n", "      - id: leaving_now\n")
    files = write_tree(tmp_path, {"rules/stockholm.yaml": changed})
    (tmp_path / "rules" / "services").mkdir()
    (tmp_path / "rules" / "services" / "stockholm.yaml").write_text(
        (REPO / "rules" / "services" / "stockholm.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    a = load_rules("stockholm").ruleset
    b = load_rules(str(files["rules/stockholm.yaml"]), REPO).ruleset
    found = paths(diff_rulesets(a, b))
    assert ("changed", "version") in found
    assert ("changed", "tables.danger.reassess_after_days") in found
    assert ("removed", "tables.danger.rules.leaving") in found and ("added", "tables.danger.rules.leaving_now") in found


def test_cli_diff_text_and_json(capsys, tmp_path):
    home = ["--home", str(fixture_home(tmp_path))]
    assert run(["diff", "freda-farlighet@1.0.0", "freda-farlighet@1.1.0", *home]) == 0
    out = capsys.readouterr().out
    assert out.startswith("freda-farlighet 1.0.0 → freda-farlighet 1.1.0\n")
    assert "+ critical.weapon_access_with_threats:" in out
    assert "~ critical.capable_of_killing.when: believes_capable == 'yes' → believes_could_kill == 'yes'" in out
    assert run(["diff", "freda-farlighet@1.0.0", "freda-farlighet@1.1.0", "--format", "json", *home]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"kind": "added", "path": "items.violent_to_others"}.items() <= next(
        c for c in data["changes"] if c["path"] == "items.violent_to_others"
    ).items()
    assert run(["diff", "stockholm", "goteborg"]) == 0
    assert "~ catalogue: stockholm → goteborg" in capsys.readouterr().out


def test_cli_diff_refuses_to_compare_an_instrument_with_a_rule_set(capsys):
    assert run(["diff", "freda-farlighet@1.0.0", "stockholm"]) == 1
    assert "cannot compare an instrument with a rule set" in capsys.readouterr().err
