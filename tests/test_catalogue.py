"""The services catalogue (issue 12, item 8): proposed services, target groups by age and
gender, the static target-group check, contacts with a source and a date, one legal table."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import FIXTURES, ROOT, demo_home

from screening import SpecError, assess, load_instrument, render_report
from screening.cli import run
from screening.content.rules_loader import load_legal_table, load_rules
from screening.content.yamlsafe import load_yaml_file
from screening.referral._evaluate import GENDER_FACT

CITIES = ("stockholm", "goteborg")
INSTRUMENTS = ("freda-kortfragor", "freda-beskrivning", "freda-farlighet", "patriark", "hedersindikatorer")
BASE = (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8")
GENDER_FACT_YAML = (
    "  gender: {type: choice, values: [woman, man, other], value_labels: {woman: {sv: kvinna, en: woman},"
    " man: {sv: man, en: man}, other: {sv: annan könsidentitet, en: another gender identity}},"
    ' label: {sv: Kön, en: Gender}, question: {sv: "Vilket kön?", en: "Which gender?"}}\n'
)


@pytest.fixture(scope="module")
def rulesets():
    return {city: load_rules(city) for city in CITIES}


@pytest.fixture(scope="module")
def instruments():
    return {iid: load_instrument(iid) for iid in INSTRUMENTS}


def neutral(ci) -> dict[str, object]:
    answers: dict[str, object] = {}
    for item in ci.items.values():
        if item.type == "choice":
            scale = ci.instrument.scales[item.scale]
            answers[item.id] = next(o.value for o in scale.options if not o.unknown and o.points == 0)
        elif item.type == "group":
            answers[item.id] = []
    return answers


def services(result) -> list[str]:
    return [r.service for r in result.referrals]


# ---------------------------------------------------------------- Seen: the lämna-program


@pytest.mark.parametrize("city", CITIES)
def test_the_lamna_program_is_proposed_and_never_recommended_as_available(rulesets, instruments, city):
    """Seen: "the lämna-program is offered as an existing service in both cities"."""
    catalogue = rulesets[city].catalogue
    assert catalogue.services["lamna_program"].status == "proposed"
    ci = instruments["freda-farlighet"]
    answers = neutral(ci) | {"separated": "yes", "controlling": "yes", "own_view": "medium"}
    from screening import JudgementInput

    judgement = JudgementInput(level="medium", rationale="Samlad bedömning av underlaget.")
    facts = {"children_in_household": False, "age": 40, "gender": "woman"}
    result = assess(ci, answers, rules=rulesets[city], facts=facts, judgement=judgement)
    assert "leaving" in {s.ref for s in result.trace if s.kind == "rule"}
    assert "lamna_program" not in services(result)
    notes = [w for w in result.warnings if w.code == "service_proposed"]
    assert len(notes) == 1
    assert "föreslagen – finns ännu inte" in notes[0].text.sv
    assert "proposed – does not exist yet" in notes[0].text.en
    # the need the rule saw is still met by a support service that exists
    tiers = {catalogue.services[s].tier for s in services(result)}
    assert "support" in tiers
    for lang, words in (("sv", "föreslagen – finns ännu inte"), ("en", "proposed – does not exist yet")):
        for fmt in ("md", "txt", "html"):
            text = render_report(result, instrument=ci, fmt=fmt, lang=lang)
            assert words in text, (fmt, lang)


# ---------------------------------------------------------------- Seen: men and Kriscentrum för kvinnor


@pytest.mark.parametrize(
    ("gender", "present", "absent"),
    [
        ("man", {"kriscentrum_man", "stodcentrum"}, {"kriscentrum"}),
        ("woman", {"kriscentrum", "stodcentrum"}, {"kriscentrum_man"}),
        ("other", {"stodcentrum"}, {"kriscentrum", "kriscentrum_man"}),
        (None, {"kriscentrum", "kriscentrum_man", "stodcentrum"}, set()),  # unknown never removes a service
    ],
)
def test_goteborg_never_sends_a_man_to_the_crisis_centre_for_women(rulesets, instruments, gender, present, absent):
    """Seen: "Göteborg sends men to Kriscentrum för kvinnor"."""
    ci = instruments["freda-kortfragor"]
    answers = neutral(ci) | {"physical_past_year": "yes"}
    facts: dict[str, object] = {"children_in_household": False, "age": 35}
    if gender is not None:
        facts["gender"] = gender
    result = assess(ci, answers, rules=rulesets["goteborg"], facts=facts)
    assert present <= set(services(result))
    assert not absent & set(services(result))
    if gender == "man":
        words = [s.text.sv for s in result.trace]
        assert any("Kriscentrum för kvinnor rekommenderas inte" in w and "man" in w for w in words), words


@pytest.mark.parametrize("city", CITIES)
def test_a_man_with_an_incomplete_result_gets_support_he_can_use(rulesets, instruments, city):
    ci = instruments["freda-kortfragor"]
    result = assess(ci, {"physical_past_year": "yes"}, rules=rulesets[city], facts={"gender": "man", "age": 40})
    catalogue = rulesets[city].catalogue
    assert not result.complete
    used = [catalogue.services[s] for s in services(result)]
    assert any(s.tier == "support" for s in used)
    assert all(s.fits(40, "man") for s in used)


# ---------------------------------------------------------------- Seen: description, age 16, incomplete


@pytest.mark.parametrize("city", CITIES)
def test_description_age_16_incomplete_has_a_support_or_child_protection_path(rulesets, instruments, city):
    """Seen: "description, age 16, incomplete: no referral at all"."""
    ci = instruments["freda-beskrivning"]
    result = assess(ci, {"insults": "sometimes"}, rules=rulesets[city], facts={"age": 16})
    assert not result.complete
    catalogue = rulesets[city].catalogue
    kinds = {(catalogue.services[s].tier, catalogue.services[s].role) for s in services(result)}
    assert any(tier == "support" or role == "child_report" for tier, role in kinds), services(result)
    # nothing the person is known to be outside of (RVC is 18+)
    assert all(catalogue.services[s].fits(16, None) for s in services(result))


def test_filtering_that_removes_every_support_says_so(tmp_path):
    """Target groups never leave disclosed violence silently without support."""
    text = BASE.replace("  honour_context:", GENDER_FACT_YAML + "  honour_context:", 1)
    text = text.replace("refer: [rvc, relationsvaldsteam]", "refer: [kvinnojourer]")
    rules = load_rules("demo-rules", demo_home(tmp_path, text))
    ci = load_instrument("demo", tmp_path)
    answers = {"q1": "yes", "q2": "yes", "q3": "no", "q4": "no", "view": "low"}  # two yes: medium
    for_woman = assess(ci, answers, rules=rules, facts={"gender": "woman", "children_in_household": False})
    assert "kvinnojourer" in services(for_woman)
    assert not [w for w in for_woman.warnings if w.code == "no_support_in_target_group"]
    result = assess(ci, answers, rules=rules, facts={"gender": "man", "children_in_household": False})
    assert "kvinnojourer" not in services(result)
    warnings = [w for w in result.warnings if w.code == "no_support_in_target_group"]
    assert len(warnings) == 1
    assert "ingen stödinsats återstår" in warnings[0].text.sv
    assert "no support service is left" in warnings[0].text.en


# ---------------------------------------------------------------- static check: validate with file:line


def _issues(tmp_path, text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_rules("demo-rules", demo_home(tmp_path, text))
    return [str(i) for i in info.value.issues]


def test_a_rule_that_can_refer_only_people_outside_the_target_group_fails(tmp_path):
    text = BASE.replace("when: \"fired('q4_alone')\"", "when: \"fired('q4_alone') and age >= 27\"")
    text = text.replace("refer: [healthcare]", "refer: [healthcare, origo]")
    issues = _issues(tmp_path, text)
    path = str(tmp_path / "rules" / "demo-rules.yaml")
    hits = [i for i in issues if "outside the target group of 'origo'" in i]
    assert hits, issues
    line = text.splitlines().index(next(t for t in text.splitlines() if "refer: [healthcare, origo]" in t)) + 1
    assert hits[0].startswith(f"{path}:{line}:"), hits


def test_a_rule_inside_the_target_group_passes(tmp_path):
    text = BASE.replace("when: \"fired('q4_alone')\"", "when: \"fired('q4_alone') and age >= 20\"")
    text = text.replace("refer: [healthcare]", "refer: [healthcare, origo]")
    load_rules("demo-rules", demo_home(tmp_path, text))  # 20–26 is inside Origo's 13–26


def test_a_rule_for_men_referring_to_a_line_for_women_fails_and_the_cli_says_where(tmp_path, capsys):
    text = BASE.replace("  honour_context:", GENDER_FACT_YAML + "  honour_context:", 1)
    text = text.replace("when: \"fired('q4_alone')\"", "when: \"fired('q4_alone') and gender == 'man'\"")
    text = text.replace("refer: [healthcare]", "refer: [healthcare, kvinnofridslinjen]")
    home = demo_home(tmp_path, text)
    code = run(["validate", str(home / "rules" / "demo-rules.yaml"), "--home", str(home)])
    out = capsys.readouterr()
    assert code == 1
    line = text.splitlines().index(next(t for t in text.splitlines() if "kvinnofridslinjen]" in t)) + 1
    assert re.search(
        rf"demo-rules\.yaml:{line}:\d+: .*outside the target group of 'kvinnofridslinjen'", out.out + out.err
    )


def test_gendered_services_need_the_gender_fact(tmp_path):
    issues = _issues(tmp_path, BASE.replace("refer: [healthcare]", "refer: [healthcare, kvinnofridslinjen]"))
    assert any("declare a choice fact 'gender'" in i for i in issues), issues


def test_incomplete_support_must_take_everyone(tmp_path):
    text = BASE.replace("  honour_context:", GENDER_FACT_YAML + "  honour_context:", 1)
    issues = _issues(
        tmp_path, text.replace("incomplete_support: [relationsvaldsteam]", "incomplete_support: [kvinnojourer]")
    )
    assert any("no incomplete_support service takes" in i and "'man'" in i for i in issues), issues


def test_a_proposed_service_cannot_be_incomplete_support(tmp_path):
    issues = _issues(
        tmp_path, BASE.replace("incomplete_support: [relationsvaldsteam]", "incomplete_support: [lamna_program]")
    )
    assert any("proposed" in i for i in issues), issues


# ---------------------------------------------------------------- property: target groups and proposed services


def _answers_for(ci, draw) -> dict[str, object]:
    answers: dict[str, object] = {}
    for item in ci.items.values():
        if draw(st.integers(0, 5)) == 0:
            continue  # unanswered
        if item.type == "choice":
            values = [o.value for o in ci.instrument.scales[item.scale].options]
            answers[item.id] = draw(st.sampled_from(values))
        elif item.type == "number":
            answers[item.id] = draw(st.integers(item.min or 0, item.max or 0))
        elif item.type == "group":
            answers[item.id] = []
    return answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_referral_outside_a_target_group_and_no_proposed_service(rulesets, instruments, data):
    ci = instruments[data.draw(st.sampled_from(INSTRUMENTS), label="instrument")]
    city = data.draw(st.sampled_from(CITIES), label="city")
    answers = _answers_for(ci, data.draw)
    age = data.draw(st.one_of(st.none(), st.integers(0, 120)), label="age")
    gender = data.draw(st.sampled_from([None, "woman", "man", "other"]), label="gender")
    facts: dict[str, object] = {}
    for name, value in (("age", age), (GENDER_FACT, gender)):
        if value is not None:
            facts[name] = value
    for name in ("children_in_household", "honour_context", "immediate_danger", "perpetrator_wants_help"):
        value = data.draw(st.sampled_from([None, True, False]), label=name)
        if value is not None:
            facts[name] = value
    result = assess(ci, answers, rules=rulesets[city], facts=facts)
    catalogue = rulesets[city].catalogue
    for ref in result.referrals:
        service = catalogue.services[ref.service]
        assert service.status == "available", ref.service
        if service.role != "child_report":  # its target group is the child, not the person screened
            assert service.fits(age if age is not None else object(), gender), (ref.service, age, gender)
    for follow in result.follow_up:
        if follow.kind == "consultation" and follow.target in catalogue.services:
            target = catalogue.services[follow.target]
            assert target.status == "available"
            assert target.fits(age if age is not None else object(), gender), (follow.target, age, gender)


# ---------------------------------------------------------------- contacts: a source and a checked date


@pytest.mark.parametrize("city", CITIES)
def test_every_contact_carries_a_source_and_a_checked_date(city):
    data = load_yaml_file(ROOT / "rules" / "services" / f"{city}.yaml").data
    contacts = [(sid, c) for sid, s in data["services"].items() for c in s.get("contact", [])]
    assert contacts
    for sid, contact in contacts:
        assert contact["source"].startswith("https://"), sid
        checked = dt.date.fromisoformat(contact["checked"])
        assert dt.date(2025, 1, 1) <= checked <= dt.date.today(), sid
        if contact["kind"] == "web":
            assert contact["value"].startswith("https://"), sid


PHONE = re.compile(r"(?<![\d§])(?:\+46|0\d{1,3}-|1\d{2} ?\d{2}\b|112\b|1177\b)")


@pytest.mark.parametrize("city", CITIES)
def test_no_number_or_address_outside_a_sourced_contact(rulesets, city):
    """Descriptions name services in words; numbers and addresses live only in ``contact``."""
    for sid, service in rulesets[city].catalogue.services.items():
        for field in ("name", "description", "purpose", "target_group"):
            text = getattr(service, field)
            for words in (text.sv, text.en):
                if sid == "emergency" and field == "name":
                    continue  # "112 vid akut fara" is the service's name; its contact carries the source
                assert not PHONE.search(words) or sid == "emergency", (sid, field, words)
                assert "http" not in words and "www." not in words, (sid, field, words)


def test_reports_never_print_contacts(rulesets, instruments):
    ci = instruments["freda-kortfragor"]
    result = assess(
        ci, neutral(ci) | {"physical_past_year": "yes"}, rules=rulesets["stockholm"], facts={"gender": "woman"}
    )
    assert "kvinnofridslinjen" in services(result)
    for fmt in ("md", "txt", "html"):
        for profile in ("case-file", "referral"):
            text = render_report(result, instrument=ci, fmt=fmt, lang="sv", profile=profile)
            assert "020-50 50 50" not in text and "kvinnofridslinjen.se" not in text


# ---------------------------------------------------------------- the law in force, in one table


def test_one_legal_table_used_by_both_catalogues_and_the_reports(rulesets):
    from screening.report._render import labels

    table = load_legal_table(ROOT / "rules" / "legal.yaml")
    for city in CITIES:
        assert rulesets[city].catalogue.legal_bases == table.legal_bases
        raw = (ROOT / "rules" / "services" / f"{city}.yaml").read_text(encoding="utf-8")
        assert "legal_bases:" not in raw and "OSL" not in raw
    raw_labels = (ROOT / "reports" / "labels.yaml").read_text(encoding="utf-8")
    assert "legal_basis_consent:" not in raw_labels
    merged = labels()
    for key, basis in table.legal_bases.items():
        assert basis.reference.sv in merged[f"legal_basis_{key}"].sv
        assert basis.reference.en in merged[f"legal_basis_{key}"].en


def test_the_repealed_social_services_act_is_never_cited_as_in_force():
    """SoL 2001:453 appears only as the former provision (SoL 2025:400 replaced it on 1 July 2025)."""
    from screening.engine.phrases import PHRASES

    texts = [t for pair in PHRASES.values() for t in pair]
    paths = [*sorted((ROOT / "rules").rglob("*.yaml")), *sorted((ROOT / "instruments").rglob("*.yaml"))]
    for path in [*paths, ROOT / "reports" / "labels.yaml"]:
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    for text in texts:
        for match in re.finditer(r"2001:453", text):
            before = text[max(0, match.start() - 80) : match.start()].lower()
            assert any(w in before for w in ("tidigare", "formerly", "ersatte", "replaced")), text
    assert "2025:400" in load_legal_table(ROOT / "rules" / "legal.yaml").laws["sol"].sv


def test_validate_checks_the_legal_table_and_locates_its_errors(tmp_path, capsys):
    home = demo_home(tmp_path)
    legal = home / "rules" / "legal.yaml"
    legal.write_text((ROOT / "rules" / "legal.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert run(["validate", str(legal), "--home", str(home)]) == 0
    assert "ok" in capsys.readouterr().out
    legal.write_text(legal.read_text(encoding="utf-8").replace("checked: 2026-12-06", "checked: yesterday"), "utf-8")
    assert run(["validate", str(legal), "--home", str(home)]) == 1
    out = capsys.readouterr()
    assert re.search(r"legal\.yaml:\d+:\d+: checked", out.out + out.err), out.out + out.err


def test_the_legal_table_is_not_a_rule_set():
    with pytest.raises(SpecError) as info:
        load_rules("legal")
    assert "known: goteborg, stockholm" in str(info.value)
