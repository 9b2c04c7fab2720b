"""Hardening of the command line and the library boundary (issue 15: 1, 3, 4, 11, 13; issue 13: 4, 5, 8, 11).

Each test is named after what a caseworker, an attacker or a typo did; each failed
before its fix. The CLI runs in-process through ``screening.cli.run`` (it returns
the exit code), and as a child process where the real streams matter (a closed
pipe). Bundled instruments are scored with ``--rules none``, so a rule set being
edited elsewhere cannot change what these tests see.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DEMO, REPO, build_instrument, item, python_env, text, to_yaml, write_tree, yes_no_scale
from terminal.scripted import ScriptedPrompter

import screening
from screening import (
    AnswerError,
    FileWriteError,
    JudgementError,
    JudgementInput,
    ScreeningError,
    SpecError,
    assess,
    load_instrument,
    load_instrument_file,
    parse_instrument,
    score_file,
    write_private,
)
from screening.cli import EXIT_PIPE_CLOSED, run
from screening.cli._shared import report_format
from screening.engine.instrument import MAX_RATIONALE
from screening.errors import printable
from screening.interview._run import run_interview
from screening.store._store import Store

PNR = "19121212-1212"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def answers_file(tmp_path: Path, body: str, name: str = "answers.yaml") -> Path:
    return write_tree(tmp_path, {name: body})[name]


@pytest.fixture
def demo_answers(tmp_path: Path) -> Path:
    return answers_file(tmp_path, 'q1: "no"\nq2: "no"\nq4: "no"\n')


# ------------------------------------------------ 15.1 / 13.5: a judgement is applied or refused


@pytest.mark.parametrize("rationale", ["", "   "])
def test_a_judgement_with_a_blank_rationale_is_refused_not_dropped(
    rationale: str, demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "score", str(DEMO), str(demo_answers), "--rules", "none",
        "--judgement", "high", "--rationale", rationale,
    )
    assert code == 1, out
    assert out == ""  # no result with a lower level than the assessor meant
    assert "motivering" in err and "rationale" in err


def test_the_library_refuses_a_judgement_without_a_rationale(demo_answers: Path) -> None:
    with pytest.raises(JudgementError, match="rationale"):
        score_file(str(DEMO), demo_answers, judgement="high", rules="none")
    with pytest.raises(JudgementError, match="level"):
        score_file(str(DEMO), demo_answers, rationale="Samtal med barnen", rules="none")


@pytest.mark.parametrize(
    ("given", "lang"),
    [
        ("high", "sv"),  # the level id
        ("Hög", "sv"),  # the Swedish label, as the summary shows it
        ("  hÖG ", "sv"),  # any case, stray spaces
        ("High", "en"),  # the English label
        ("Hög", "en"),  # a label in the other language is still that level
        ("3", "sv"),  # the digit the interview shows for it
        ("3", "en"),  # the same digit in English
    ],
)
def test_a_judgement_is_the_level_id_its_label_in_either_language_or_its_key(
    given: str, lang: str, demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "score", str(DEMO), str(demo_answers), "--rules", "none",
        "--judgement", given, "--rationale", "Samtal", "--lang", lang,
    )
    assert code == 0, err
    result = json.loads(out)
    assert (result["judgement"]["level"], result["final_level"]) == ("high", "high")


def test_the_label_shown_on_screen_is_accepted_for_a_bundled_instrument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = answers_file(tmp_path, 'violence_increased: "no"\n')
    code, out, err = cli(
        capsys, "score", "freda-farlighet", str(path), "--rules", "none",
        "--judgement", "Hög farlighet", "--rationale", "Samlad bild.",
    )
    assert code == 0, err
    assert json.loads(out)["final_level"] == "high"


def test_an_unknown_level_lists_the_levels_in_words_and_does_not_echo_the_input(
    demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = "Extremt CANARY"
    code, out, err = cli(
        capsys, "score", str(DEMO), str(demo_answers), "--rules", "none", "--judgement", typed, "--rationale", "r"
    )
    assert code == 1 and out == ""
    assert "Låg (low), Medel (medium), Hög (high)" in err
    assert "Low (low), Medium (medium), High (high)" in err
    assert "CANARY" not in err
    assert "incident" not in err


def test_the_library_raises_judgement_error_for_a_label_it_does_not_know(demo_answers: Path) -> None:
    with pytest.raises(JudgementError):
        score_file(str(DEMO), demo_answers, judgement="Hög farlighet", rationale="r", rules="none")
    with pytest.raises(JudgementError):
        score_file(str(DEMO), demo_answers, judgement=3, rationale="r", rules="none")  # type: ignore[arg-type]


# ------------------------------------------------ 15.3: one rationale limit, stated and enforced where typed


def test_score_refuses_a_rationale_over_the_limit_and_says_the_limit(
    demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["score", str(DEMO), str(demo_answers), "--rules", "none", "--judgement", "high", "--rationale"]
    code, out, err = cli(capsys, *args, "x" * (MAX_RATIONALE + 1))
    assert code == 1 and out == ""
    assert str(MAX_RATIONALE) in err and "incident" not in err
    code, out, err = cli(capsys, *args, "x" * MAX_RATIONALE)
    assert code == 0, err
    assert len(json.loads(out)["judgement"]["rationale"]) == MAX_RATIONALE


def test_the_interview_refuses_a_too_long_rationale_and_lets_the_assessor_type_again(tmp_path: Path) -> None:
    ci = load_instrument_file(DEMO)
    with Store.open(tmp_path / "cases.db", create=True) as st:
        info = st.create_assessment(ci)
        st.lock(info.id)
        # q1 yes, q2 no, q4 yes, own view low, go on from the summary, judge: 3 (high), rationale.
        script = ["j", "n", "j", "l", "", "j", "3", "y" * (MAX_RATIONALE + 1), "Samlad bild."]
        prompter = ScriptedPrompter(script)
        outcome = run_interview(st, ci, info.id, prompter, lang="sv")
        assert outcome.status == "completed"
        assert f"högst {MAX_RATIONALE}" in prompter.screen
        assert outcome.result is not None and outcome.result.judgement is not None
        assert outcome.result.judgement.rationale == "Samlad bild."
        assert outcome.result.final_level == "high"


def test_the_interview_says_so_in_english_too(tmp_path: Path) -> None:
    ci = load_instrument_file(DEMO)
    with Store.open(tmp_path / "cases.db", create=True) as st:
        info = st.create_assessment(ci, lang="en")
        st.lock(info.id)
        script = ["y", "n", "y", "l", "", "y", "3", "y" * (MAX_RATIONALE + 1), "Overall picture."]
        prompter = ScriptedPrompter(script)
        outcome = run_interview(st, ci, info.id, prompter, lang="en")
        assert outcome.status == "completed"
        assert f"at most {MAX_RATIONALE}" in prompter.screen


# ------------------------------------------------ 15.4: reports never replace a device, a pipe or a socket


def test_report_output_onto_a_fifo_is_refused_and_the_fifo_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "r.json"
    answers = answers_file(tmp_path, 'q1: "no"\nq2: "no"\nq4: "no"\n')
    assert run(["score", str(DEMO), str(answers), "--rules", "none"]) == 0
    result.write_text(capsys.readouterr().out, encoding="utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = cli(capsys, "report", str(result), "--instrument", str(DEMO), "-o", str(fifo))
    assert code == 1
    assert "not a regular file" in err and "incident" not in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    code, _, err = cli(capsys, "score", str(DEMO), str(answers), "--rules", "none", "--report", str(tmp_path / "x.md"))
    assert code == 0, err  # a new path is fine


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can make a device node")
def test_a_device_node_is_never_replaced_even_as_root(tmp_path: Path) -> None:
    full = tmp_path / "full"
    os.mknod(full, 0o600 | stat.S_IFCHR, os.makedev(1, 7))  # a private /dev/full, never the real one
    with pytest.raises(FileWriteError, match="not a regular file"):
        write_private(full, "rapport")
    assert stat.S_ISCHR(full.lstat().st_mode)


def test_a_symlink_to_a_fifo_is_refused_and_one_to_a_file_is_still_replaced(tmp_path: Path) -> None:
    fifo, plain = tmp_path / "fifo", tmp_path / "plain.txt"
    os.mkfifo(fifo)
    plain.write_text("old", encoding="utf-8")
    to_fifo, to_plain = tmp_path / "to-fifo", tmp_path / "to-plain"
    to_fifo.symlink_to(fifo)
    to_plain.symlink_to(plain)
    with pytest.raises(FileWriteError, match="not a regular file"):
        write_private(to_fifo, "x")
    assert to_fifo.is_symlink()
    write_private(to_plain, "new")
    assert not to_plain.is_symlink() and plain.read_text(encoding="utf-8") == "old"


def test_an_export_onto_a_fifo_is_refused_too(tmp_path: Path) -> None:
    from screening.batch._jsonl import PrivateLines

    fifo = tmp_path / "export.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(FileWriteError, match="not a regular file"):
        PrivateLines(fifo)
    assert [p.name for p in tmp_path.iterdir()] == ["export.jsonl"]  # no temporary file left behind


# ------------------------------------------------ 15.11: bounded --fact parsing, escaped messages


def test_a_fact_with_thousands_of_digits_is_a_clear_error_not_a_crash(
    demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "score", str(DEMO), str(demo_answers), "--fact", "age=" + "9" * 5000)
    assert code == 1, err
    assert "age" in err and "digits" in err and "incident" not in err
    assert len(err) < 500


@pytest.mark.parametrize("raw", ["age=²", "age=-", "age=٣"])
def test_a_fact_with_odd_digits_is_a_word_not_a_crash(raw: str, demo_answers: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "score", str(DEMO), str(demo_answers), "--fact", raw)
    assert code == 1 and "incident" not in err


def test_a_fact_name_with_escape_sequences_is_shown_escaped(
    demo_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07\u202e"  # no '=': refused by the parser itself, whatever the rule set
    code, _, err = cli(capsys, "score", str(DEMO), str(demo_answers), "--fact", hostile)
    assert code == 1
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "\\x1b[2J" in err and "\\u202e" in err


def test_every_screening_error_text_is_printable() -> None:
    from screening.files import FileWriteError as Fwe
    from screening.report._render import ReportError

    hostile = "a\x1b[31mb\rc\u2066d"
    errors: list[ScreeningError] = [
        ScreeningError(hostile), AnswerError(hostile, hostile, (hostile,)), JudgementError(hostile),
        SpecError([screening.Issue(hostile, 1, 1, hostile, hostile)]), Fwe(hostile, hostile), ReportError(hostile),
    ]
    for exc in errors:
        text = str(exc)
        assert all(ch == "\n" or ch.isprintable() for ch in text), type(exc).__name__
        assert "\u2066" not in text and "\\x1b[31m" in text
    assert printable("Hög\nrisk") == "Hög\nrisk"  # Swedish letters and line breaks unchanged
    assert printable(printable(hostile)) == printable(hostile)


# ------------------------------------------------ 15.13: closed pipes, and only ScreeningError from the library


def _with_closed_stdout(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a standard output nobody reads (``… | head -1`` once head has exited)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-c", "from screening.cli import main; main()", *args],
            stdout=write_end, stderr=subprocess.PIPE, text=True, env=env or python_env(), check=False,
        )
    finally:
        os.close(write_end)


def test_a_closed_pipe_ends_quietly_like_any_unix_tool() -> None:
    proc = _with_closed_stdout("show", "patriark", "--format", "json")
    assert proc.returncode == EXIT_PIPE_CLOSED == 141
    assert proc.stderr == ""


def test_audit_verify_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    with Store.open(db, create=True) as st:
        st.create_assessment(load_instrument_file(DEMO), case_ref="c1")
    proc = _with_closed_stdout("audit", "verify", "--store", str(db), env=python_env(**_xdg()))
    assert proc.returncode == EXIT_PIPE_CLOSED
    assert proc.stderr == ""


def _xdg() -> dict[str, str]:
    return {k: os.environ[k] for k in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda ci: assess(ci, {}, judgement={"level": "high", "rationale": "r"}), JudgementError),  # type: ignore[arg-type]
        (lambda ci: assess(ci, {}, judgement="high"), JudgementError),  # type: ignore[arg-type]
        (lambda ci: assess(ci, ["q1"]), AnswerError),  # type: ignore[arg-type]
        (lambda ci: assess(ci, None), AnswerError),  # type: ignore[arg-type]
        (lambda ci: assess(ci, {}, facts=["age"]), AnswerError),  # type: ignore[arg-type]
    ],
    ids=["judgement-dict", "judgement-str", "answers-list", "answers-none", "facts-list"],
)
def test_bad_data_through_assess_is_a_screening_error(call, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        call(load_instrument(str(DEMO)))


def test_bad_judgement_data_through_score_file_is_a_screening_error(demo_answers: Path) -> None:
    for level, rationale in [("Hög farlighet", "r"), ("high", "r" * (MAX_RATIONALE + 1)), ("high", 7)]:
        with pytest.raises(JudgementError):
            score_file(str(DEMO), demo_answers, judgement=level, rationale=rationale, rules="none")  # type: ignore[arg-type]
    with pytest.raises(AnswerError):
        score_file(str(DEMO), demo_answers, facts=["age"], rules="none")  # type: ignore[arg-type]


def test_judgement_input_states_the_limit() -> None:
    JudgementInput(level="high", rationale="r" * MAX_RATIONALE)
    assert MAX_RATIONALE == 4000


# ------------------------------------------------ 13.4: --report picks the format from the extension


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [("X.html", None, "html"), ("x.HTM", None, "html"), ("x.md", None, "md"), ("x.txt", None, "txt"),
     ("x.rapport", None, "txt"), ("X.html", "md", "md"), (None, None, "txt")],
)
def test_report_format_comes_from_the_extension_unless_given(name: str | None, fmt: str | None, expected: str) -> None:
    assert report_format(Path(name) if name else None, fmt) == expected


def test_interview_report_html_is_written_as_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import screening.cli._interview as interview_cli

    seen: dict[str, object] = {}

    def fake_run(*args: object) -> int:
        seen["path"], seen["fmt"] = args[-2], args[-1]
        return 0

    monkeypatch.setattr(interview_cli, "_run", fake_run)
    report = tmp_path / "X.html"
    code, _, err = cli(capsys, "interview", str(DEMO), "--report", str(report), "--store", str(tmp_path / "c.db"),
                       "--rules", "none")
    assert code == 0, err
    assert seen == {"path": report, "fmt": "html"}
    code, _, err = cli(capsys, "interview", str(DEMO), "--report", str(report), "--format", "md",
                       "--store", str(tmp_path / "c.db"), "--rules", "none")
    assert code == 0, err
    assert seen["fmt"] == "md"


# ------------------------------------------------ 13.8: no personnummer in a pseudonym field


def test_a_personnummer_as_a_perpetrator_pseudonym_is_refused_naming_the_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"perpetrators": [{"pseudonym": "F1", "t1_now": "yes"}, {"pseudonym": f"Bror {PNR}"}]}
    path = answers_file(tmp_path, json.dumps(body), "answers.json")
    code, out, err = cli(capsys, "score", "patriark", str(path), "--rules", "none")
    assert code == 1 and out == ""
    assert "perpetrators[1].pseudonym" in err and "personnummer" in err
    assert PNR not in err


@pytest.mark.parametrize("pnr", [PNR, "191212121212", "121212-1212", "121212+1212"])
def test_a_personnummer_as_a_victim_pseudonym_is_refused(pnr: str) -> None:
    ci = load_instrument("patriark")
    with pytest.raises(AnswerError, match=r"victims\[0\]\.pseudonym"):
        ci.check_answers({"victims": [{"pseudonym": pnr}]})
    assert ci.check_answers({"victims": [{"pseudonym": "Syster 1"}]})  # a pseudonym is fine


def test_the_interview_refuses_a_personnummer_pseudonym_as_typed_and_asks_again(tmp_path: Path) -> None:
    severity = {"options": [{"value": "low", "label": text("Lindrig")}, {"value": "high", "label": text("Svår")}]}
    fields = [
        {"id": "name", "type": "text", "pseudonym": True, "text": text("Pseudonym")},
        {"id": "sev", "scale": "sev", "text": text("Allvar")},
    ]
    group = {"id": "people", "type": "group", "text": text("Förövare"), "fields": fields}
    data = build_instrument(
        sections=[{"id": "s", "title": text("Avsnitt"), "items": [item("a"), group, item("b")]}],
        scales={"yn": yes_no_scale(), "sev": severity}, bands=None,
    )
    ci = parse_instrument(to_yaml(data), "t.yaml")
    with Store.open(tmp_path / "cases.db", create=True) as st:
        info = st.create_assessment(ci)
        st.lock(info.id)
        prompter = ScriptedPrompter(["j", PNR, "F1", "s", "", "n", "."])
        run_interview(st, ci, info.id, prompter, lang="sv")
        assert st.answers(info.id) == {"a": "yes", "people": [{"name": "F1", "sev": "high"}], "b": "no"}
    assert "aldrig ett personnummer" in prompter.screen
    assert PNR not in prompter.screen


def test_pseudonym_belongs_to_text_fields_only() -> None:
    data = build_instrument()
    data["sections"][0]["items"][0]["pseudonym"] = True  # a choice item
    with pytest.raises(SpecError, match="pseudonym"):
        parse_instrument(to_yaml(data), "t.yaml")


def test_the_bundled_pseudonym_fields_are_flagged() -> None:
    ci = load_instrument("patriark")
    flagged = {(group.id, f.id) for group in ci.items.values() for f in group.fields or () if f.pseudonym}
    assert flagged == {("perpetrators", "pseudonym"), ("victims", "pseudonym")}


# ------------------------------------------------ 13.11: j/N in Swedish, --version, py.typed


def _store_with_case(tmp_path: Path) -> Path:
    db = tmp_path / "cases.db"
    with Store.open(db, create=True) as st:
        st.create_assessment(load_instrument_file(DEMO), case_ref="c1")
    return db


@pytest.mark.parametrize("answer", ["j", "ja", "J", "y", "yes"])
def test_cases_delete_asks_j_n_in_swedish_and_accepts_j(
    answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    db = _store_with_case(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer + "\n"))
    code, out, err = cli(capsys, "cases", "delete", "c1", "--store", str(db))
    assert code == 0, err
    assert "[j/N]" in out and "[y/N]" not in out
    with Store.open(db) as st:
        assert st.find("c1") == []


@pytest.mark.parametrize("answer", ["", "n", "nej", "jo"])
def test_cases_delete_keeps_the_case_unless_the_answer_is_yes(
    answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    db = _store_with_case(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer + "\n"))
    code, _, _ = cli(capsys, "cases", "delete", "c1", "--store", str(db))
    assert code != 0
    with Store.open(db) as st:
        assert len(st.find("c1")) == 1


def test_cases_delete_asks_y_n_in_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    db = _store_with_case(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = cli(capsys, "cases", "delete", "c1", "--store", str(db), "--lang", "en")
    assert code == 0, err
    assert "[y/N]" in out


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--version")
    assert code == 0, err
    assert out == f"screening {screening.__version__}\n"


def test_the_package_is_marked_typed() -> None:
    marker = REPO / "screening" / "py.typed"
    assert marker.is_file()
    ignored = subprocess.run(["git", "check-ignore", "-q", str(marker)], cwd=REPO, capture_output=True, check=False)
    # 1: not ignored, so hatch's `packages = ["screening"]` puts it in the wheel; 128: not a git checkout.
    assert ignored.returncode in (1, 128)
