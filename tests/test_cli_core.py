"""The core commands: --help, instruments, show, validate, score, schema, and the boundary.

Run in-process through ``screening.cli.run`` (it returns the exit code) with
capsys, and once as a child process where a traceback would be visible. The
instrument is the demo fixture, installed under a ``--home`` content directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import DEMO, run_python, write_tree

from screening.cli import run

CANARY = "CANARY-19121212-1212"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A content directory holding the demo instrument as instruments/demo/1.0.0.yaml."""
    root = tmp_path / "home"
    write_tree(root, {"instruments/demo/1.0.0.yaml": DEMO.read_bytes()})
    return root


def answers_file(tmp_path: Path, body: str) -> Path:
    return write_tree(tmp_path, {"answers.yaml": body})["answers.yaml"]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--help")
    assert code == 0, err
    for command in ("instruments", "show", "validate", "score", "schema"):
        assert command in out


def test_help_in_a_child_process() -> None:
    proc = run_python("from screening.cli import main; main()", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "score" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_instruments_lists_id_version_and_items(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "instruments", "--home", str(home))
    assert code == 0, err
    (line,) = [ln for ln in out.splitlines() if ln.startswith("demo")]
    assert line.split()[:4] == ["demo", "1.0.0", "5", "items"]
    assert "Demoinstrument" in line


def test_show_json_lists_every_item_with_its_allowed_values(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "show", "demo", "--format", "json", "--home", str(home))
    assert code == 0, err
    data = json.loads(out)
    allowed = {entry["id"]: entry["allowed"] for entry in data["items"]}
    yn = ["yes", "no", "unknown"]
    assert allowed == {"q1": yn, "q2": yn, "q3": yn, "q4": yn, "view": ["low", "high"]}
    assert data["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert data["instrument"]["id"] == "demo"


def test_show_text_in_both_languages(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, sv, _ = cli(capsys, "show", "demo", "--home", str(home))
    _, en, _ = cli(capsys, "show", "demo", "--lang", "en", "--home", str(home))
    assert "Fråga ett" in sv and "Question one" in en


def test_show_an_unknown_instrument_suggests_a_close_one(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "show", "dmeo", "--home", str(home))
    assert code == 1
    assert "did you mean 'demo'" in err
    assert "Traceback" not in err


def test_validate_the_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "validate", str(DEMO))
    assert code == 0, out + err
    assert "ok" in out and "1 golden vectors" in out


def test_validate_a_bad_file_gives_located_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = DEMO.read_text(encoding="utf-8").replace("raise_to: medium", "raise_to: meduim").replace(
        "points: 1}", "points: 1, wieght: 2}"
    )
    write_tree(tmp_path, {"bad.yaml": bad})
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "validate", "bad.yaml")
    assert code == 1
    lines = [ln for ln in (out + err).splitlines() if ln.startswith("bad.yaml:")]
    assert lines and all(ln.split(":")[1].isdigit() and ln.split(":")[2].isdigit() for ln in lines)
    assert any("wieght" in ln for ln in lines)
    assert "Traceback" not in out + err


def test_validate_a_failing_golden_vector_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = DEMO.read_text(encoding="utf-8").replace("final_level: low, status", "final_level: high, status")
    assert wrong != DEMO.read_text(encoding="utf-8")
    write_tree(tmp_path, {"wrong.yaml": wrong})
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "validate", "wrong.yaml")
    assert code == 1
    assert "final_level: expected 'high', got 'low'" in out + err


def test_score_json_has_the_documented_top_level_keys(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = answers_file(tmp_path, 'q1: "yes"\nq2: "no"\nq4: "yes"\nview: low\n')
    code, out, err = cli(capsys, "score", "demo", str(path), "--format", "json", "--home", str(home))
    assert code == 0, err
    data = json.loads(out)
    for key in ("instrument", "scores", "computed_level", "final_level", "complete", "warnings", "trace"):
        assert key in data, key
    assert data["instrument"]["id"] == "demo"
    assert data["instrument"]["version"] == "1.0.0"
    assert data["instrument"]["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert data["scores"]["total"]["value"] == 2
    assert (data["computed_level"], data["final_level"], data["complete"]) == ("medium", "medium", True)
    assert data["trace"]


def test_score_by_path_and_text_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = answers_file(tmp_path, 'q1: "no"\nq2: "no"\nq4: "no"\nview: low\n')
    code, out, err = cli(capsys, "score", str(DEMO), str(path), "--format", "text", "--lang", "en")
    assert code == 0, err
    assert "Low" in out


def test_score_accepts_json_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps({"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no"})
    path = write_tree(tmp_path, {"answers.json": body})["answers.json"]
    code, out, err = cli(capsys, "score", str(DEMO), str(path))
    assert code == 0, err
    assert json.loads(out)["scores"]["total"]["value"] == 3


def test_score_with_a_judgement_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = answers_file(tmp_path, 'q1: "no"\nq2: "no"\nq4: "no"\n')
    code, out, err = cli(
        capsys, "score", str(DEMO), str(path),
        "--judgement", "high", "--rationale", "Samtal med barnen", "--assessor", "hl01",
    )
    assert code == 0, err
    judgement = json.loads(out)["judgement"]
    assert judgement == {
        "level": "high", "rationale": "Samtal med barnen", "assessor": "hl01", "direction": "raised", "acknowledged": {}
    }


def test_an_answer_outside_the_scale_names_item_and_values_but_not_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = answers_file(tmp_path, f'q1: "{CANARY}"\nq2: "no"\n')
    code, out, err = cli(capsys, "score", str(DEMO), str(path))
    assert code == 1
    assert "q1" in err and "yes, no, unknown" in err
    assert CANARY not in out + err
    assert "Traceback" not in out + err


def test_the_same_in_a_child_process_shows_no_traceback(tmp_path: Path) -> None:
    path = answers_file(tmp_path, f'q1: "{CANARY}"\n')
    proc = run_python("from screening.cli import main; main()", "score", str(DEMO), str(path))
    assert proc.returncode == 1
    assert "q1" in proc.stderr and "yes, no, unknown" in proc.stderr
    assert CANARY not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("given", [("--judgement", "high"), ("--rationale", "Samtal")])
def test_judgement_and_rationale_go_together(
    given: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = answers_file(tmp_path, 'q1: "no"\n')
    code, _, err = cli(capsys, "score", str(DEMO), str(path), *given)
    assert code == 2
    assert "--judgement" in err and "--rationale" in err


def test_a_judgement_against_the_policy_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = answers_file(tmp_path, 'q1: "yes"\nq2: "yes"\nq3: "yes"\nq4: "no"\n')
    code, _, err = cli(capsys, "score", str(DEMO), str(path), "--judgement", "low", "--rationale", "r")
    assert code == 1
    assert "only to raise" in err


def test_an_answers_file_that_is_not_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = answers_file(tmp_path, "- q1\n- q2\n")
    code, _, err = cli(capsys, "score", str(DEMO), str(path))
    assert code == 1
    assert "answers.yaml:1:1" in err


def test_unknown_command_and_option_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "frobnicate")[0] == 2
    assert cli(capsys, "schema", "--bogus")[0] == 2


@pytest.mark.parametrize("which", ["instrument", "result"])
def test_schema_prints_json_schema(which: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "schema", which)
    assert code == 0, err
    schema = json.loads(out)
    assert schema["type"] == "object"
    assert "properties" in schema
    expected = {"instrument": {"id", "version", "scales", "sections"}, "result": {"final_level", "trace", "instrument"}}
    assert expected[which] <= set(schema["properties"])


def test_schema_all_and_a_bad_choice(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "schema")
    assert code == 0
    assert set(json.loads(out)) == {"instrument", "result"}
    assert cli(capsys, "schema", "bogus")[0] == 2


def test_an_unexpected_exception_is_a_neutral_message_and_exit_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import screening.api

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"secret detail {CANARY}")

    monkeypatch.setattr(screening.api, "score_file", boom)
    path = answers_file(tmp_path, 'q1: "no"\n')
    code, out, err = cli(capsys, "score", str(DEMO), str(path))
    assert code == 70
    assert "incident" in err and "RuntimeError" in err
    assert CANARY not in out + err
    assert "Traceback" not in out + err


def test_an_unexpected_exception_in_a_child_process_has_no_traceback(tmp_path: Path) -> None:
    code = (
        "import screening.api, sys\n"
        "def boom(*a, **k): raise KeyError('" + CANARY + "')\n"
        "screening.api.score_file = boom\n"
        "from screening.cli import main\n"
        "main()\n"
    )
    path = answers_file(tmp_path, 'q1: "no"\n')
    proc = run_python(code, "score", str(DEMO), str(path))
    assert proc.returncode == 70
    assert "Traceback" not in proc.stderr
    assert CANARY not in proc.stdout + proc.stderr
