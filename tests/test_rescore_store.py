"""``screening rescore`` over a case store: dry run, apply, idempotence, bad records, workers, files."""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rescore_support import (  # noqa: F401  (test_key: autouse)
    STAMP,
    connect,
    digest,
    dump,
    fill_store,
    plain,
    save_results,
    tables,
    test_key,
    yes_no_versions,
)

from screening import load_instrument
from screening.batch._run import RunConfig, run_store
from screening.cli import run
from screening.content.rules_loader import load_rules
from screening.store._store import Store

ANSWERS = [
    {"a": "yes", "b": "no", "c": "no", "d": "no"},  # 1 yes: low → medium
    {"a": "no", "b": "no", "c": "no", "d": "no"},  # 0 yes: low → low
    {"a": "yes", "b": "yes", "c": "no", "d": "no"},  # 2 yes: medium → high
    {"a": "yes", "b": "yes", "c": "yes", "d": "yes"},  # 4 yes: high → high
    {"a": "no", "b": "no", "c": "no", "d": "unknown"},  # low → indeterminate
]


@pytest.fixture
def home(tmp_path):
    yes_no_versions(tmp_path)
    return tmp_path


@pytest.fixture
def store(store_at, home):
    """A store of five completed assessments, on each backend (tests/pg_fixtures.py)."""
    path = store_at
    ci = load_instrument("t@1.0.0", home)
    records = [{"answers": a, "case": f"ref-{n}"} for n, a in enumerate(ANSWERS)]
    fill_store(path, ci, records)
    return path


def cli(store, home, *args):
    return run(["rescore", "--store", str(store), "--home", str(home), "--instrument", "t", "--rules", "none", *args])


def everything(path):
    return {t: dump(path, t, skip=()) for t in tables(path)}


def test_dry_run_writes_nothing_and_shows_the_diff(store, home, capsys):
    before = everything(store)
    assert cli(store, home, "--format", "json") == 0
    diff = json.loads(capsys.readouterr().out)
    assert everything(store) == before
    assert dump(store, "outcomes") == []
    assert diff["applied"] is False
    assert {k: diff["counts"][k] for k in ("total", "rose", "review", "unchanged", "failed", "stored")} == {
        "total": 5, "rose": 2, "review": 1, "unchanged": 2, "failed": 0, "stored": 0}
    assert [e["case"] for e in diff["changed"]["rose"]] == ["ref-2", "ref-0"]  # the highest new level first
    assert diff["matrices"][0]["rows"][0] == [1, 1, 0, 1]  # low → low, medium, -, no level


def test_apply_stores_one_compact_row_each_and_rerunning_finds_nothing_new(store, home, capsys):
    answers = digest(store, "answers")
    assert cli(store, home, "--apply", "--format", "json") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["counts"]["stored"] == 5
    rows = dump(store, "outcomes")
    assert len(rows) == 5 and len({r[:5] for r in rows}) == 5
    assert dump(store, "results") == []  # compact rows only, unless --full-results
    assert cli(store, home, "--apply", "--format", "json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["counts"]["stored"] == 0
    assert dump(store, "outcomes") == rows
    # The second run compares with the same baseline, so it reports the same changes.
    assert second["changed"] == first["changed"]
    assert digest(store, "answers") == answers


def test_full_results_are_stored_for_changes_and_read_back_by_the_store(store, home, capsys):
    assert cli(store, home, "--apply", "--full-results", "--format", "json") == 0
    capsys.readouterr()
    with Store.open(store) as st:
        first = st.find("ref-0")[0]
        (sha, result), = st.results(first.id)
        assert result.instrument.version == "1.1.0" and result.final_level == "medium"
        assert result.assessed_at == STAMP  # the completion time: results are reproducible
        assert st.results(st.find("ref-1")[0].id) == []  # unchanged: no full result
    rows = {r[0]: r for r in dump(store, "outcomes")}
    assert rows[first.id][-1] == sha  # the compact row points at the full result


def test_an_unchanged_instrument_is_a_no_op(store_at, home, capsys):
    path = store_at
    ci = load_instrument("t@1.0.0", home)
    rules = load_rules("stockholm")
    records = [{"answers": a} for a in ANSWERS]
    ids = fill_store(path, ci, records)
    save_results(path, ci, rules, ids, records)
    before = everything(path)
    args = ["rescore", "--store", str(path), "--home", str(home), "--instrument", "t", "--to", "1.0.0"]
    assert run([*args, "--apply", "--format", "json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["counts"]["unchanged"] == 5 and diff["counts"]["stored"] == 0
    after = everything(path)
    assert after == before  # the compact rows stored with the results included


def test_bad_records_are_listed_and_exit_1(store, home, capsys):
    conn = connect(store)
    conn.execute("INSERT INTO assessments (id, case_ref, instrument_id, lang, current_revision, created_at, updated_at)"
                 " VALUES ('bad1', 'ref-bad1', 't', 'sv', 1, ?, ?)", (STAMP, STAMP))
    conn.execute("INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256,"
                 " created_at, completed_at) VALUES ('bad1', 1, 'completed', '0.1.0', 'x', ?, ?)", (STAMP, STAMP))
    conn.commit()
    conn.close()
    with Store.open(store) as st:  # an answer the instrument never had
        info = st.create_assessment(load_instrument("t@1.0.0", home), case_ref="ref-bad2")
        st.record_answer(info.id, "zz", "yes")
        st.complete(info.id)
    assert cli(store, home, "--apply", "--format", "json") == 1
    diff = json.loads(capsys.readouterr().out)
    assert diff["counts"]["failed"] == 2 and diff["counts"]["total"] == 5 and diff["counts"]["stored"] == 5
    reasons = {f["case"]: f["reason"] for f in diff["failed"]}
    assert "0.1.0 is not a known version" in reasons["ref-bad1"]
    assert "zz: no such item" in reasons["ref-bad2"]


def test_two_workers_store_the_same_rows_and_report_the_same_diff(tmp_path, home, capsys, store_at, another_store_at):
    bench = __import__("test_rescore_support").bench_module()
    paths = [store_at, another_store_at]  # --jobs 2 on PostgreSQL: one connection each
    for path in paths:
        bench.generate(path, 1500, bench.make_home(tmp_path / "bench"), seed=3)
    bhome = tmp_path / "bench" / "home"
    diffs = []
    for jobs, path in zip((1, 2), paths, strict=True):
        args = ["rescore", "--store", str(path), "--home", str(bhome), "--instrument", "bench-count",
                "--rules", "bench", "--apply", "--format", "json", "--jobs", str(jobs), "--chunk", "200"]
        assert run(args) == 0
        diffs.append(json.loads(capsys.readouterr().out))
    assert plain(paths[0], "outcomes") == plain(paths[1], "outcomes")
    assert diffs[0] == diffs[1]
    assert diffs[0]["counts"]["total"] == 1500 and diffs[0]["counts"]["rose"] > 0


def test_filters_by_version_and_completion_date(store_at, home, capsys):
    path = store_at
    ci = load_instrument("t@1.0.0", home)
    fill_store(path, ci, [
        {"answers": ANSWERS[0], "completed_at": "2025-01-10T10:00:00.000Z"},
        {"answers": ANSWERS[0], "completed_at": "2025-02-10T10:00:00.000Z"},
        {"answers": ANSWERS[0], "completed_at": "2025-03-10T10:00:00.000Z"},
    ])
    assert cli(path, home, "--since", "2025-02-01", "--until", "2025-03-01", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["counts"]["total"] == 1
    assert cli(path, home, "--from-version", "1.1.0", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["counts"]["total"] == 0
    assert cli(path, home, "--since", "last week") == 2


def test_filters_apply_to_the_latest_completed_revision_only(tmp_path, store_at, home, capsys):
    """A corrected assessment is re-scored on its latest completed revision, or not at all."""
    path = store_at
    ci = load_instrument("t@1.0.0", home)
    with Store.open(path, create=True) as st:
        info = st.create_assessment(ci, case_ref="ref-corrected")
        for item, value in ANSWERS[0].items():
            st.record_answer(info.id, item, value)
        st.complete(info.id, completed_at="2025-01-10T10:00:00.000Z")
        st.correct(info.id)
        st.record_answer(info.id, "b", "yes")
        st.complete(info.id, completed_at="2025-03-10T10:00:00.000Z")
        draft = st.create_assessment(ci, case_ref="ref-draft")  # never completed: never re-scored
        st.record_answer(draft.id, "a", "yes")
    # The first revision is in January, but the assessment's latest one is in March.
    assert cli(path, home, "--until", "2025-02-01", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["counts"]["total"] == 0
    assert cli(path, home, "--since", "2025-03-01", "--format", "json", "--output", str(tmp_path / "o.jsonl")) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["total"] == 1
    (line,) = (tmp_path / "o.jsonl").read_text().splitlines()
    assert json.loads(line)["answers"] == {**ANSWERS[0], "b": "yes"} and json.loads(line)["revision"] == 2


def test_usage_errors_exit_2(store, home):
    assert run(["rescore", "--store", str(store), "--to", "1.1.0"]) == 2
    assert run(["rescore", "--input", str(store), "--apply"]) == 2


def test_reports_and_output_files_are_owner_only_and_quiet_without_a_terminal(store, home, tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out, lines = tmp_path / "diff.html", tmp_path / "all.jsonl"
        assert cli(store, home, "--format", "html", "-o", str(out), "--output", str(lines), "--lang", "en") == 0
    finally:
        os.umask(old)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("5 assessments re-scored against t 1.1.0")
    for path in (out, lines):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = {r["case"]: r for r in map(json.loads, lines.read_text().splitlines())}  # in id order
    assert len(records) == 5 and records["ref-0"]["instrument"]["version"] == "1.1.0"
    assert records["ref-0"]["answers"] == ANSWERS[0] and records["ref-0"]["previous"]["level"] == "low"
    assert not list(tmp_path.glob(".*.tmp"))
    # The output is valid input for the next re-score; compared with itself nothing changed.
    assert run(["rescore", "--input", str(lines), "--home", str(home), "--instrument", "t", "--rules", "none",
                "--format", "json", "--jobs", "2", "--chunk", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["unchanged"] == 5


VALUES = st.sampled_from(["yes", "no", "unknown", None])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sets=st.lists(st.fixed_dictionaries({}, optional={k: VALUES for k in "abcd"}), min_size=1, max_size=12),
       full=st.booleans())
def test_rescoring_never_changes_a_stored_answer(tmp_path_factory, sets, full):
    base = tmp_path_factory.mktemp("prop")
    yes_no_versions(base)
    path = base / "p.db"
    fill_store(path, load_instrument("t@1.0.0", base), [{"answers": a} for a in sets])
    before = {t: digest(path, t) for t in ("answers", "revisions", "assessments")}
    config = RunConfig(instrument="t", rules="stockholm", home=str(base), full_results="changed" if full else "none")
    run_store(path, config, apply=True, progress=False)
    run_store(path, config, apply=True, progress=False)
    assert {t: digest(path, t) for t in ("answers", "revisions", "assessments")} == before


def test_a_progress_display_only_when_asked_for_or_on_a_terminal(tmp_path, home, capsys):
    store = _big_store(tmp_path, home, n=5)
    config = RunConfig(instrument="t", rules=None, home=str(home))
    run_store(store, config, progress=True, chunk=2)
    err = capsys.readouterr().err
    assert "5/5" in err and "100%" in err  # assessments, not chunks
    run_store(store, config)  # stderr is not a terminal under pytest: quiet
    assert capsys.readouterr().err == ""


def _big_store(tmp_path, home, n=3000):
    path = tmp_path / "big.db"
    if "create" in inspect.signature(Store.open).parameters:
        Store.open(path, create=True).close()
    ci = load_instrument("t@1.0.0", home)
    fill_store(path, ci, [{"answers": ANSWERS[k % len(ANSWERS)], "case": f"ref-{k}"} for k in range(n)])
    return path


def _rescore_args(path, home):
    return ["-m", "screening", "rescore", "--store", str(path), "--home", str(home), "--instrument", "t",
            "--rules", "none", "--chunk", "100"]


@pytest.mark.terminal
def test_on_a_terminal_the_progress_shows_the_count_the_rate_and_the_time_left(tmp_path, home):
    """Issue 13: a re-score of 50,000 assessments showed only ``[#####] 40%``."""
    import re
    import sys

    import pexpect
    from helpers import python_env

    path = _big_store(tmp_path, home)
    child = pexpect.spawn(sys.executable, _rescore_args(path, home), env=python_env(TERM="xterm"),
                          encoding="utf-8", codec_errors="replace", timeout=120, dimensions=(40, 120))
    child.expect(pexpect.EOF)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)
    child.close()
    assert child.exitstatus == 0, screen
    assert re.search(r"\b3,?000/3,?000\b", screen), screen  # the count, in assessments
    assert re.search(r"[0-9,]+/s", screen), screen  # the rate
    assert "100%" in screen


def test_piped_the_progress_shows_nothing(tmp_path, home):
    import subprocess
    import sys

    from helpers import python_env

    path = _big_store(tmp_path, home, n=500)
    proc = subprocess.run([sys.executable, *_rescore_args(path, home)], capture_output=True, text=True,
                          env=python_env(), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout and "/s" not in proc.stdout


def test_the_cli_chunk_default_is_the_library_one():
    import inspect

    from screening.batch._store import CHUNK
    from screening.cli._rescore import rescore_cmd

    assert inspect.signature(rescore_cmd).parameters["chunk"].default == CHUNK


def test_an_applied_run_leaves_one_audit_record_and_a_dry_run_none(store, home, capsys):
    from screening.store.audit import verify

    def records():
        with Store.open(store) as st:
            assert verify(st).ok
            return st.connection.execute(
                "SELECT actor, action, assessment, case_ref, detail, outcome FROM audit WHERE action = 'rescore'"
            ).fetchall()

    assert cli(store, home, "--format", "json") == 0
    assert records() == []
    assert cli(store, home, "--apply", "--format", "json") == 0
    capsys.readouterr()
    ((actor, action, assessment, case, detail, outcome),) = records()
    assert (action, assessment, case, outcome) == ("rescore", None, None, "stored")
    assert detail == "batch of 5: 5 stored, 2 rose, 0 failed; t 1.1.0; rules none" and actor


@pytest.mark.sqlite_only  # an SQLite index hint (INDEXED BY)
def test_a_store_without_the_covering_index_is_still_read(store, home, capsys):
    conn = sqlite3.connect(store)
    conn.execute("DROP INDEX assessments_by_id")
    conn.close()
    assert cli(store, home, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["counts"]["total"] == 5
