"""V1 canary sweep: personal canaries in every field, every command and entry point, every channel grepped.

Canaries go into free text, group rows and the judgement rationale. They may show
up only where a person explicitly asked for them: report and export files, the
stdout of ``score`` (the result they asked for) and of a case-file ``report``, and
the interview's own screen (where they were typed). Everything else — stdout and
stderr of every other command, every log record at DEBUG, warnings, $TMPDIR, the
raw database, its WAL and SHM (read while the interview is still running), the
key and lock files, incident files — must hold none. The figures are printed in
the terminal summary ("canary sweep (V1)").
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import pytest
from terminal.driver import ACK, child_env, finish, spawn_cli
from terminal.scripted import ScriptedPrompter
from test_privacy_support import file_bytes, isolated_user, text_instrument, write_instrument_home

from screening import load_answers
from screening.cli import run
from screening.interview._run import run_interview
from screening.report._render import CaseInfo, render_report
from screening.store._store import Store

PNR = "CANARY-PNR-19850101-1236"
TEXT = "CANARY-FRITEXT-7f3a"
NAME = "CANARY-NAMN"
NEEDLES = (PNR, TEXT, NAME, "19850101-1236")
FREE = f"{TEXT} bor hos {NAME}, personnummer {PNR}"

CHANNELS = ("stdout", "stderr", "logs", "warnings", "tmp", "db", "wal", "shm", "incidents", "other files")


@pytest.fixture
def user(tmp_path, monkeypatch):
    yield from isolated_user(tmp_path, monkeypatch)


class Sweep:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.looked: Counter[str] = Counter()
        self.allowed: Counter[str] = Counter()
        self.notes: list[str] = []

    def check(self, channel: str, data: str | bytes, where: str) -> None:
        blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
        found = sum(blob.count(n.encode()) for n in NEEDLES)
        self.looked[channel] += 1
        if found:
            self.hits[channel] += found
            self.notes.append(f"{channel}: {where}")

    def asked_for(self, what: str, data: str | bytes) -> None:
        """An output the person explicitly asked for: canaries are expected there (counted, not failed)."""
        blob = data.encode() if isinstance(data, str) else data
        self.allowed[what] += sum(blob.count(n.encode()) for n in NEEDLES)

    def store_files(self, db: Path, when: str) -> None:
        for part, data in file_bytes(db).items():
            name = db.name + ("" if part == "db" else part)
            self.check({"db": "db", "-wal": "wal", "-shm": "shm"}[part], data, f"{name} {when}")

    def line(self) -> str:
        parts = ", ".join(f"{c} {self.hits[c]}" for c in CHANNELS)
        looked = sum(self.looked.values())
        return f"canary hits per channel: {parts} ({looked} looks; in requested outputs: {sum(self.allowed.values())})"


SWEEP = Sweep()


class _Summary:
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if SWEEP.looked:
            terminalreporter.section("canary sweep (V1)")
            terminalreporter.write_line(SWEEP.line())
            for note in SWEEP.notes[:20]:
                terminalreporter.write_line("  " + note)


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    request.config.pluginmanager.register(_Summary(), "canary-summary")
    yield


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name} {record.getMessage()} {record.__dict__!r}")


def _cli(sweep: Sweep, capsys, args: list[str], *, code: int | None = 0, asked_stdout: bool = False) -> str:
    result = run(args)
    out, err = capsys.readouterr()
    assert code is None or result == code, (args, result, err[-500:])
    if asked_stdout:
        sweep.asked_for(f"stdout of {args[0]}", out)
    else:
        sweep.check("stdout", out, " ".join(args[:2]))
    sweep.check("stderr", err, " ".join(args[:2]))
    return out


def _files(sweep: Sweep, root: Path, skip: set[Path], user_dirs) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path in skip or any(s in path.parents for s in skip):
            continue
        data = path.read_bytes()
        if path.parent == user_dirs.incidents:
            sweep.check("incidents", data, path.name)
        elif path.name.startswith("screening.db"):
            sweep.check({"": "db", "-wal": "wal", "-shm": "shm"}[path.name[len("screening.db"):]], data, path.name)
        else:
            sweep.check("other files", data, str(path.relative_to(root)))


def test_canary_sweep(user, tmp_path, capsys, monkeypatch):
    sweep = SWEEP
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", None)
    home = write_instrument_home(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    inputs: set[Path] = {home, work / "answers.yaml", work / "bad-answers.yaml", work / "bad.yaml"}
    asked: set[Path] = set()
    db = user.store
    keep = _Keep()
    root = logging.getLogger()
    root.addHandler(keep)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _library_and_interview(sweep, db)
            _commands(sweep, capsys, monkeypatch, home, work, db, inputs, asked)
            _terminal_interview(sweep, user, home, tmpdir, asked)
            _commands_after(sweep, capsys, home, work, db, asked)
        for warning in caught:
            sweep.check("warnings", str(warning.message), warning.category.__name__)
        sweep.looked["warnings"] += 1
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
    for record in keep.records:
        sweep.check("logs", record, record[:40])
    sweep.looked["logs"] += 1
    assert keep.records, "the audit trail logs its events at DEBUG: the log channel was really watched"
    for path in tmpdir.rglob("*"):
        if path.is_file():
            sweep.check("tmp", path.read_bytes(), path.name)
    sweep.looked["tmp"] += 1
    _files(sweep, user.root, {*inputs, *asked, tmpdir, work}, user)
    assert sweep.allowed["report files"] > 0, "the requested reports must really contain the canaries"
    print(sweep.line())
    assert sweep.hits == Counter(), sweep.notes


def _library_and_interview(sweep: Sweep, db: Path) -> None:
    """The library: store, scripted interview (files read at every prompt), assess, render_report."""
    ci = text_instrument()
    with Store.open(db, actor="handläggare-1", create=True) as st:
        aid = st.create_assessment(ci, case_ref="c-lib").id
        script = ["j", "n", FREE, "3", "2024-01-05", FREE, "", "", "j", "3", f"Motivering: {FREE}"]
        prompter = ScriptedPrompter(script)
        prompter.before_read = lambda p: sweep.store_files(db, f"during the interview (read {len(p.prompts)})")
        outcome = run_interview(st, ci, aid, prompter)
        assert outcome.status == "completed"
        assert FREE in prompter.screen  # the interview's own screen shows what was typed
        sweep.store_files(db, "after the interview")
        result = st.results(aid)[0][1]
        assert result.judgement is not None and FREE in result.judgement.rationale
        for fmt in ("html", "md", "txt"):
            sweep.asked_for("report files", render_report(result, instrument=ci, fmt=fmt, case=CaseInfo("c-lib")))
            referral = render_report(result, instrument=ci, fmt=fmt, profile="referral", case=CaseInfo("c-lib"))
            sweep.check("stdout", referral, f"referral report ({fmt}) holds no free text")
        st.correct(aid)
        st.record_answer(aid, "t", FREE + " (ändrat)")
        sweep.store_files(db, "after a correction")


def _commands(sweep, capsys, monkeypatch, home, work, db, inputs, asked) -> None:
    h = ["--home", str(home)]
    answers = work / "answers.yaml"
    answers.write_text(json.dumps({"a": "yes", "b": "no", "t": FREE, "n": 2,
                                   "cal": [{"when": "2024-01-05", "what": FREE}]}), encoding="utf-8")
    assert load_answers(answers)["t"] == FREE
    report = work / "score-report.html"
    asked.add(report)
    _cli(sweep, capsys, ["score", "privtest", str(answers), *h, "--judgement", "high", "--rationale", FREE,
                         "--report", str(report), "--case", "c-score"], asked_stdout=True)
    sweep.asked_for("report files", report.read_bytes())
    result_file = work / "result.json"
    asked.add(result_file)
    result_file.write_text(_cli(sweep, capsys, ["score", "privtest", str(answers), *h, "--rationale", FREE,
                                                "--judgement", "high"], asked_stdout=True), encoding="utf-8")
    _cli(sweep, capsys, ["score", "privtest", str(answers), *h, "--format", "text"], asked_stdout=True)
    md = work / "report.md"
    asked.add(md)
    _cli(sweep, capsys, ["report", str(result_file), "-o", str(md), "--format", "md", *h, "--case", "c-score"])
    sweep.asked_for("report files", md.read_bytes())
    _cli(sweep, capsys, ["report", str(result_file), "--format", "txt", *h], asked_stdout=True)
    _cli(sweep, capsys, ["report", str(result_file), "--profile", "referral", "--format", "txt", *h])
    # Error paths: bad answers, a bad instrument, a bad result file, a crash.
    bad_answers = work / "bad-answers.yaml"
    bad_answers.write_text(json.dumps({"a": FREE, "n": FREE, "cal": [{"when": FREE, "what": 5}]}), encoding="utf-8")
    _cli(sweep, capsys, ["score", "privtest", str(bad_answers), *h], code=1)
    bad = work / "bad.yaml"
    bad.write_text(f"id: privtest\nversion: 1.0.0\ntitle: {{sv: '{FREE}', en: 7}}\nintro: '{NAME}'\n",
                   encoding="utf-8")
    _cli(sweep, capsys, ["validate", str(bad)], code=1)
    bad_result = work / "bad-result.json"
    inputs.add(bad_result)
    bad_result.write_text(json.dumps({"answers": {"t": FREE}, "schema_version": FREE}), encoding="utf-8")
    _cli(sweep, capsys, ["report", str(bad_result), *h], code=1)
    _cli(sweep, capsys, ["interview", "privtest", *h, "--case", "19850101-1236", "--store", str(db)], code=1)

    def crash(*args: object, **kwargs: object) -> object:
        held = FREE  # a local holding personal data
        raise ValueError(held)

    with monkeypatch.context() as patch:
        patch.setattr("screening.api.score_file", crash)
        _cli(sweep, capsys, ["score", "privtest", str(answers), *h], code=70)


def _terminal_interview(sweep, user, home, tmpdir, asked) -> None:
    """The real CLI in a pseudo-terminal; the store files are read while it waits for the next answer."""
    report = home.parent / "work" / "interview-report.md"
    asked.add(report)
    env = child_env(XDG_CONFIG_HOME=str(user.config), XDG_STATE_HOME=str(user.state),
                    XDG_DATA_HOME=str(user.data), TMPDIR=str(tmpdir))
    child = spawn_cli(["interview", "privtest", "--home", str(home), "--case", "c-pty", "--assessor", "handl-2",
                       "--report", str(report), "--format", "md"], env=env)
    for key in "jn":
        child.expect_exact("> ")
        child.send(key)
        child.expect(ACK)
    for line in (FREE, "4", "2024-02-01", FREE, ""):
        child.expect(r"Svar \(.*\): ")
        child.send(line + "\r")
        if line == FREE:
            child.expect(r"✓ (Sparat|Rad 1 sparad)")
            sweep.store_files(user.store, "while the terminal interview runs")
    child.expect_exact("Enter för att gå vidare: ")
    child.send("\r")
    child.expect_exact("> ")
    child.send("j")
    child.expect_exact("> ")
    child.send("3")  # Hög
    child.expect_exact("Motivering: ")
    child.send(FREE + "\r")
    rest, status = finish(child)
    assert status == 0, rest
    assert "Granskningsloggens kontrollpunkt" in rest
    sweep.asked_for("report files", report.read_bytes())


def _commands_after(sweep, capsys, home, work, db, asked) -> None:
    h = ["--home", str(home)]
    s = ["--store", str(db)]
    _cli(sweep, capsys, ["cases", *s])
    _cli(sweep, capsys, ["cases", *s, "--status", "completed", "--lang", "en"])
    _cli(sweep, capsys, ["audit", "show", "--case", "c-lib", *s])
    _cli(sweep, capsys, ["audit", "show", "--case", "c-pty", *s, "--format", "json"])
    _cli(sweep, capsys, ["audit", "verify", *s])
    _cli(sweep, capsys, ["key", "show"])
    dry = _cli(sweep, capsys, ["rescore", *s, *h, "--rules", "none"])
    assert "privtest" in dry or "c-pty" in dry, dry[:300]
    export = work / "rescored.jsonl"
    asked.add(export)
    _cli(sweep, capsys, ["rescore", *s, *h, "--rules", "none", "--apply", "--output", str(export)])
    sweep.asked_for("export files", export.read_bytes())
    assert sweep.allowed["export files"] > 0, "the export holds the migrated answers, canaries included"
    sweep.store_files(db, "after rescore --apply")
    _cli(sweep, capsys, ["key", "rotate", *s])
    sweep.store_files(db, "after key rotate")
    _cli(sweep, capsys, ["cases", "delete", "c-lib", "--yes", *s])
    sweep.store_files(db, "after cases delete")
    _cli(sweep, capsys, ["audit", "verify", *s])
