"""Licensed wording loads from a separate file keyed by item id, without touching the structure."""

from __future__ import annotations

import pytest

from screening import SpecError, assess, load_instrument
from screening.content.texts import load_texts


def test_overlay_replaces_texts_and_keeps_scoring(tmp_path):
    ci = load_instrument("freda-kortfragor")
    item = ci.order[0]
    path = tmp_path / "texts.yaml"
    path.write_text(
        f"instrument: freda-kortfragor\nversion: {ci.instrument.version}\nlicence: Licens 2026-123\n"
        f"items:\n  {item}:\n    text: {{sv: OFFICIELL TEXT, en: OFFICIAL TEXT}}\n",
        encoding="utf-8",
    )
    licensed = load_texts(ci, path)
    assert licensed.items[item].text.sv == "OFFICIELL TEXT"
    assert ci.items[item].text.sv != "OFFICIELL TEXT"  # the bundled instrument is untouched
    answers = {item: "yes"}
    a, b = assess(ci, answers), assess(licensed, answers)
    assert a.final_level == b.final_level and a.scores == b.scores
    assert b.instrument.sha256 == a.instrument.sha256
    assert b.instrument.texts_sha256 and a.instrument.texts_sha256 is None


def test_overlay_errors_are_located_with_suggestions(tmp_path):
    ci = load_instrument("freda-kortfragor")
    item = ci.order[0]
    path = tmp_path / "texts.yaml"
    path.write_text(
        f"instrument: freda-kortfragor\nversion: {ci.instrument.version}\nlicence: L\n"
        f"items:\n  {item}x:\n    text: {{sv: A, en: B}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_texts(ci, path)
    issue = info.value.issues[0]
    assert issue.line == 5 and issue.suggestion == item
