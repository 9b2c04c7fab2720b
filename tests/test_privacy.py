"""No leaks: crashes give an id and an ids-only incident file, logs keep allow-listed fields, deletion leaves nothing.

Also: every pydantic model hides its input in errors, typer never shows locals,
and every file the program writes is owner-only under umask 022.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import python_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from test_privacy_support import file_bytes, isolated_user, raw, text_instrument

import screening
from screening import AssessmentLocked, StoreError, assess
from screening.cli import app, run
from screening.engine.instrument import JudgementInput
from screening.privacy import ALLOWED_FIELDS, PrivacyFilter, incident_text, install
from screening.store._store import Store, check_case_ref, new_case_ref

CANARIES = ("CANARY-PNR-19850101-1236", "CANARY-FRITEXT-7f3a", "CANARY-NAMN")
PNR, TEXT, NAME = CANARIES


@pytest.fixture
def user(tmp_path, monkeypatch):
    yield from isolated_user(tmp_path, monkeypatch)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def no_canary(text: str) -> bool:
    return not any(c in text for c in CANARIES) and "19850101" not in text


# ---------------------------------------------------------------- crashes (V2)


def _explode(*args: object, **kwargs: object) -> object:
    secret = f"{NAME} sa {PNR}"  # a local variable holding personal data
    try:
        raise ValueError(TEXT)
    except ValueError as inner:
        raise KeyError(secret) from inner


def test_a_crash_shows_an_id_and_writes_an_ids_only_incident_file(user, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("screening.api.score_file", _explode)
    answers = tmp_path / "answers.yaml"
    answers.write_text("a: 'yes'\n")
    old = os.umask(0o022)
    try:
        code = run(["score", "demo", str(answers)])
    finally:
        os.umask(old)
    out, err = capsys.readouterr()
    assert code == 70
    assert no_canary(out + err) and "Traceback" not in err
    incident = re.search(r"incident ([0-9a-f]{12})", err)
    assert incident is not None
    path = user.incidents / f"{incident[1]}.log"
    assert str(path) in err
    assert mode(path) == 0o600
    assert {mode(d) for d in (path.parent, path.parent.parent, user.state)} == {0o700}
    report = path.read_text(encoding="utf-8")
    assert no_canary(report)
    assert "exception: builtins.KeyError" in report and "caused by: builtins.ValueError" in report
    assert re.search(r"screening/cli/_core\.py:\d+ in score_cmd", report)
    assert re.search(r"test_privacy\.py:\d+ in _explode", report)
    assert str(Path.home()) not in report and str(tmp_path) not in report


def test_incident_text_follows_the_chain_without_messages():
    try:
        try:
            {}[PNR]
        except KeyError:
            raise RuntimeError(NAME) from None
    except RuntimeError as exc:
        text = incident_text(exc, "0123456789ab")
    assert no_canary(text)
    assert "exception: builtins.RuntimeError" in text and "while handling" not in text


def test_a_crash_in_a_child_process_prints_no_traceback(user, tmp_path):
    code = f"""
import screening.api, sys
def boom(*a, **k):
    answer = {TEXT!r}
    raise RuntimeError(answer)
screening.api.score_file = boom
from screening.cli import main
main(["score", "demo", "x.yaml"])
"""
    env = python_env(XDG_STATE_HOME=str(user.state), XDG_CONFIG_HOME=str(user.config))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 70
    assert "Traceback" not in proc.stderr and no_canary(proc.stdout + proc.stderr)
    (incident,) = user.incidents.iterdir()
    assert no_canary(incident.read_text())


def test_the_excepthook_is_neutral_too(user, capsys):
    from screening.cli import _excepthook

    try:
        raise ValueError(TEXT)
    except ValueError as exc:
        _excepthook(ValueError, exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "incident" in err and no_canary(err)


def test_typer_never_shows_locals_or_pretty_tracebacks():
    assert app.pretty_exceptions_enable is False
    assert app.pretty_exceptions_show_locals is False


def _screening_models() -> list[type[BaseModel]]:
    for info in pkgutil.walk_packages(screening.__path__, "screening."):
        if not info.name.endswith("__main__"):  # importing it would run the CLI
            importlib.import_module(info.name)
    found: list[type[BaseModel]] = []
    todo = [BaseModel]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("screening.") and "[" not in sub.__name__:
                found.append(sub)
    return found


# The bundled label table (reports/labels.yaml) is our own text, never personal data.
_NO_PERSONAL_INPUT: set[str] = set()


def test_every_pydantic_model_hides_its_input_in_errors():
    models = _screening_models()
    assert len(models) > 20, "the walk must find the instrument and result models"
    exposed = sorted(
        f"{m.__module__}.{m.__qualname__}" for m in models
        if not m.model_config.get("hide_input_in_errors")
        and f"{m.__module__}.{m.__qualname__}" not in _NO_PERSONAL_INPUT
    )
    assert exposed == []


def test_a_judgement_validation_error_does_not_echo_the_rationale():
    with pytest.raises(ValidationError) as info:
        JudgementInput.model_validate({"level": 7, "rationale": TEXT})
    assert no_canary(str(info.value))


# ---------------------------------------------------------------- logging (V3)

# Free text around a canary (a space makes it text, not an identifier a pseudonym field may hold).
_TEXTS = st.text(max_size=40).flatmap(
    lambda pad: st.sampled_from(CANARIES).map(lambda c: f"{pad} {c}{pad[::-1]}")
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(msg=_TEXTS, arg=_TEXTS, other=_TEXTS, allowed=st.dictionaries(st.sampled_from(ALLOWED_FIELDS), _TEXTS))
def test_the_log_filter_keeps_only_allow_listed_checked_fields(msg, arg, other, allowed):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    handler.addFilter(PrivacyFilter())
    logger = logging.getLogger("screening.test-filter")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        try:
            raise ValueError(other)
        except ValueError:
            logger.exception(msg + " %s", arg, extra={"note": other, "answer": other, **allowed})
    finally:
        logger.removeHandler(handler)
    (record,) = records
    text = logging.Formatter("%(message)s").format(record)
    assert no_canary(text)
    for key in ("note", "answer"):
        assert not hasattr(record, key)
    for key in ALLOWED_FIELDS:
        if key in allowed:
            assert getattr(record, key) == "<redacted>", "every value here embeds a canary in free text"
    assert record.exc_info is None and record.exc_text is None and record.args == ()


def test_install_puts_the_filter_on_the_root_handlers_once():
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install()
        install()
        assert sum(isinstance(f, PrivacyFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)
        logging.captureWarnings(False)


# ---------------------------------------------------------------- deletion (V12)


def _case(st: Store, ref: str) -> tuple[str, list[bytes]]:
    ci = text_instrument()
    aid = st.create_assessment(ci, case_ref=ref).id
    st.record_answer(aid, "t", TEXT)
    st.record_answer(aid, "a", "yes")
    st.set_judgement(aid, JudgementInput(level="high", rationale=NAME))
    st.complete(aid, result=assess(ci, st.answers(aid), judgement=st.judgement(aid)))
    conn = st.connection
    blobs = [bytes(v) for (v,) in conn.execute("SELECT value FROM answers WHERE assessment_id = ?", (aid,))]
    blobs += [bytes(v) for (v,) in conn.execute("SELECT judgement FROM revisions WHERE assessment_id = ?", (aid,))]
    blobs += [bytes(v) for (v,) in conn.execute("SELECT result FROM results WHERE assessment_id = ?", (aid,))]
    return aid, blobs


def test_a_deleted_case_leaves_no_trace_but_its_pseudonymous_audit_records(user, capsys):
    with Store.open(user.store, create=True) as st:
        gone, blobs = _case(st, "c1")
        kept, _ = _case(st, "c2")
        before = file_bytes(st.path)
    assert all(any(b in data for data in before.values()) for b in blobs), "the blobs were on disk before"
    assert run(["cases", "delete", "c1", "--yes", "--store", str(user.store), "--lang", "en"]) == 0
    assert "Deleted 1 assessment(s) of c1" in capsys.readouterr().out
    after = file_bytes(user.store)
    residual = sum(data.count(b) for b in blobs for data in after.values())
    assert residual == 0
    assert after["-wal"] == b""
    with Store.open(user.store) as st:
        assert st.find("c1") == [] and st.answers(kept)["t"] == TEXT
        from screening.store.audit import extract, verify

        assert verify(st).ok
        records = extract(st, "c1")
        assert records[-1].action == "delete" and records[-1].assessment == gone
        assert all(no_canary(f"{r.detail} {r.actor}") for r in records)


def test_deletion_is_the_only_way_rows_go(user):
    with Store.open(user.store, create=True) as st:
        aid, _ = _case(st, "c1")
        for sql in ("DELETE FROM answers", "DELETE FROM results", "DELETE FROM revisions", "DELETE FROM assessments"):
            with pytest.raises(sqlite3.IntegrityError, match=r"completed|never deleted|only with screening cases"):
                st.connection.execute(sql)
        assert st.answers(aid)["t"] == TEXT


def test_a_case_open_in_an_interview_is_not_deleted(user):
    with Store.open(user.store, create=True) as st, Store.open(user.store) as other:
        aid = st.create_assessment(text_instrument(), case_ref="c1").id
        st.lock(aid)
        with pytest.raises(AssessmentLocked):
            other.delete_assessment(aid)
        assert st.get(aid).case_ref == "c1"
        with pytest.raises(StoreError, match="no such assessment"):
            other.delete_assessment("0" * 32)


def test_deletion_says_so_when_another_reader_keeps_old_pages(user, capsys):
    with Store.open(user.store, create=True) as st:
        _case(st, "c1")
    reader = raw(user.store)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM answers").fetchone()
    try:
        assert run(["cases", "delete", "c1", "--yes", "--store", str(user.store), "--lang", "en"]) == 0
        assert "another program has the store open" in capsys.readouterr().err
    finally:
        reader.close()


def test_cases_delete_asks_first_and_refuses_unknown_refs(user, capsys, monkeypatch):
    with Store.open(user.store, create=True) as st:
        _case(st, "c1")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    assert run(["cases", "delete", "c1", "--store", str(user.store)]) == 130
    with Store.open(user.store) as st:
        assert st.find("c1")
    assert run(["cases", "delete", "nobody", "--yes", "--store", str(user.store)]) == 1
    assert run(["cases", "delete", "19850101-1236", "--yes", "--store", str(user.store)]) == 1
    assert no_canary(capsys.readouterr().err)


# ---------------------------------------------------------------- files (D8, V4)


def test_every_file_the_program_writes_is_owner_only_under_umask_022(user, monkeypatch, tmp_path, capsys):
    """Store, WAL, SHM, locks, key file (new and rotated), incident file, report: stat them all."""
    old = os.umask(0o022)
    try:
        with Store.open(user.store, create=True) as st:  # creates the key file and the store
            aid, _ = _case(st, "c1")
            st.lock(aid)
            seen = {p: mode(p) for p in user.root.rglob("*") if p.is_file()}  # WAL, SHM and lock exist now
            st.unlock(aid)
        assert run(["key", "rotate"]) == 0, capsys.readouterr().err
        with monkeypatch.context() as patch:
            patch.setattr("screening.api.score_file", _explode)
            assert run(["score", "demo", "x.yaml"]) == 70
        result = tmp_path / "out" / "result.json"
        result.parent.mkdir()
        ci = text_instrument()
        result.write_text(assess(ci, {"a": "yes"}).to_json())
        report = result.parent / "report.md"
        home = tmp_path / "home"
        from test_privacy_support import write_instrument_home

        write_instrument_home(home)
        assert run(["report", str(result), "-o", str(report), "--format", "md", "--home", str(home)]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    ours = [p for p in user.root.rglob("*") if p.is_file() and home not in p.parents and p != result]
    seen.update({p: mode(p) for p in [*ours, report]})
    names = {p.name for p in seen}
    assert {"key", "screening.db", "screening.db-wal", "screening.db-shm", f"{aid}.lock", "report.md"} <= names
    assert any(p.suffix == ".log" and p.parent == user.incidents for p in seen)
    loose = {str(p): oct(m) for p, m in seen.items() if m & 0o077}
    assert loose == {}
    dirs = {user.config / "screening", user.state / "screening", user.incidents, user.store.parent,
            user.config, user.state, user.data}
    assert {str(d): oct(mode(d)) for d in dirs if mode(d) & 0o077} == {}


# ---------------------------------------------------------------- pseudonyms (V7)


def test_random_references_cannot_be_traced_and_personnummer_are_refused():
    refs = {new_case_ref() for _ in range(1000)}
    assert len(refs) == 1000 and all(re.fullmatch(r"ref-[0-9a-f]{8}", r) for r in refs)
    for pnr in ("19850101-1236", "850101-1236", "8501011236", "198501011236", "850161+1236", PNR):
        with pytest.raises(StoreError, match="personal identity number") as info:
            check_case_ref(pnr)
        assert "1236" not in str(info.value)
