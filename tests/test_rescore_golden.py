"""Golden diffs: a small store of FREDA 1.0.0 assessments re-scored against 1.1.0, in every format.

The 1.1.0 is the migration demonstration in ``tests/fixtures`` (not a bundled version); the
runs use a content root that adds it beside the bundled content (``helpers.fixture_home``).

``pytest --update-goldens`` rewrites ``tests/golden/rescore/``; review the diff before committing.
Content hashes, the engine version and the (shared) report stylesheet are masked,
so an unrelated edit of a rule file or the CSS does not churn the goldens; every
other byte is compared.
"""

from __future__ import annotations

import re

import pytest
from helpers import TESTS, fixture_home
from test_rescore_support import fill_store, save_results, test_key  # noqa: F401  (test_key: autouse)

from screening import load_instrument
from screening._version import __version__
from screening.cli import run
from screening.content.rules_loader import load_rules

GOLDEN = TESTS / "golden" / "rescore"
FORMATS = [("md", "sv"), ("md", "en"), ("html", "sv"), ("json", "en")]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return str(fixture_home(tmp_path_factory.mktemp("home")))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from screening.store.crypto import reset_default_keyring

    path = tmp_path_factory.mktemp("golden") / "cases.db"
    with pytest.MonkeyPatch.context() as mp:
        from test_rescore_support import TEST_KEY

        mp.setenv("SCREENING_KEY", TEST_KEY)
        reset_default_keyring()
        ci = load_instrument("freda-farlighet@1.0.0")
        records = [
            {"answers": t.answers, "case": f"ÄR-{n + 1:03d}",
             **({"judgement": t.judgement.model_dump()} if t.judgement else {})}
            for n, t in enumerate(ci.instrument.tests)
        ]
        ids = fill_store(path, ci, records)
        save_results(path, ci, load_rules("stockholm"), ids, records)
        # One assessment whose version file is gone, to show how a failure is listed.
        fill_store_extra(path)
        reset_default_keyring()
    return path


def fill_store_extra(path):
    import sqlite3

    from test_rescore_support import STAMP

    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO assessments (id, case_ref, instrument_id, lang, current_revision, created_at, updated_at)"
                 " VALUES (?, 'ÄR-999', 'freda-farlighet', 'sv', 1, ?, ?)", ("f" * 32, STAMP, STAMP))
    conn.execute("INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256,"
                 " created_at, completed_at) VALUES (?, 1, 'completed', '0.9.0', 'x', ?, ?)", ("f" * 32, STAMP, STAMP))
    conn.commit()
    conn.close()


def mask(text: str) -> str:
    # The stylesheet is the report module's; its changes are not this diff's to pin.
    text = re.sub(r"<style>.*?</style>", "<style>(report stylesheet)</style>", text, flags=re.DOTALL)
    text = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text)
    text = re.sub(r"sha256 [0-9a-f]{16}\b", "sha256 <sha16>", text)
    return text.replace(f'"engine_version": "{__version__}"', '"engine_version": "<version>"').replace(
        f"{__version__}", "<version>"
    )


@pytest.mark.parametrize(("fmt", "lang"), FORMATS, ids=[f"{f}-{lang}" for f, lang in FORMATS])
def test_golden_diff(store, home, fmt, lang, capsys, update_goldens):
    args = ["rescore", "--store", str(store), "--instrument", "freda-farlighet", "--format", fmt, "--lang", lang,
            "--home", home]
    assert run(args) == 1  # the failed record sets the exit code
    got = mask(capsys.readouterr().out)
    golden = GOLDEN / f"freda-1.0.0-to-1.1.0.{lang}.{fmt}"
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run pytest --update-goldens"
    assert got == golden.read_text(encoding="utf-8")


def test_the_golden_store_shows_each_kind_of_change(store, home, capsys):
    import json

    args = ["rescore", "--store", str(store), "--instrument", "freda-farlighet", "--format", "json", "--home", home]
    assert run(args) == 1
    diff = json.loads(capsys.readouterr().out)
    counts = diff["counts"]
    assert counts["rose"] >= 1 and counts["review"] >= 1 and counts["other"] >= 1 and counts["failed"] == 1
    rose = diff["changed"]["rose"][0]
    assert rose["old"]["level"] == "medium" and rose["new"]["level"] == "high"
    assert "weapon_access_with_threats" in rose["new"]["critical"]
    assert {"skyddat_boende", "police"} <= set(rose["added"])
