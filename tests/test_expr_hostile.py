"""Hostile expressions: every escape route is rejected when the file loads, with no effect.

The language is an allowlist over ``ast`` (no attributes, subscripts, calls to
anything but the function table), so the classic sandbox escapes cannot even be
written. These tests keep it that way: each hostile text must give an
``ExpressionError`` (never another exception), be rejected by the loader as a
located ``SpecError``, and leave no trace — no canary file, and (checked in a
child process with an audit hook) no process start, shell, network or write.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import build_instrument, issues_of, item, python_env, run_python, text, to_yaml

from screening.engine.expr import INT, AnswerType, Type, compile_expression, parse
from screening.errors import ExpressionError, SpecError

SYMBOLS: dict[str, Type] = {"a": AnswerType(["yes", "no"]), "b": AnswerType(["yes", "no"]), "total": INT}

HOSTILE = [
    "__import__('os').system('touch CANARY')",
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__.__mro__[1].__subclasses__()[0]",
    "x.gi_frame",
    "(x for x in a).gi_frame.f_back.f_globals",
    "9**9**6",
    "'a'*10**9",
    "10**100 > total",
    "lambda: 1",
    "(lambda: __import__('os').system('touch CANARY'))()",
    "[x for x in a]",
    "{x: 1 for x in a}",
    "{x for x in a}",
    "any(x for x in a)",
    "f'{a}'",
    "f'{__import__(\"os\").system(\"touch CANARY\")}' == a",
    "a.upper() == 'YES'",
    "a.__class__",
    "a[0] == 'y'",
    "a['x']",
    "eval('1') == 1",
    "exec('import os')",
    "open('CANARY', 'w')",
    "getattr(a, '__class__')",
    "globals()",
    "vars()",
    "breakpoint()",
    "print('x')",
    "input()",
    "compile('1', '', 'eval')",
    "__builtins__",
    "__import__",
    "a if b else total",
    "(y := 1)",
    "a is b",
    "a is not b",
    "a is None",
    "await a",
    "(yield)",
    "a << 1",
    "a @ b",
    "~total",
    "+total",
    "total * 2 > 1",
    "total / 2 > 1",
    "total // 2 > 1",
    "total % 2 == 1",
    "a | b",
    "a & b",
    "a ^ b",
    "...",
    "None",
    "1.5 > total",
    "1j == total",
    "b'x' == a",
    "count(*a)",
    "count(**a)",
    "count('yes', a, key=a) > 0",
    "{'a': 1}",
    "{1, 2}",
    "a == 'yes'\x00",
    "a == 'yes'\x1b[2J",
    "total > 1" + "0" * 20,
    "total > " + "9" * 5000,
    "a == 'yes' and " * 200 + "a == 'yes'",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expression_gives_only_an_expression_error(hostile: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(hostile, SYMBOLS)
    err = info.value
    assert err.message
    assert "Traceback" not in str(err)


def hostile_instrument(hostile: str, where: str) -> str:
    """An otherwise valid instrument with ``hostile`` in a critical rule or a show_if."""
    if where == "critical":
        data = build_instrument(
            critical=[{"id": "evil", "when": hostile, "raise_to": "high", "reason": text("x")}]
        )
    else:
        items = [item("a"), item("b", show_if=hostile), item("c")]
        data = build_instrument(sections=[{"id": "main", "title": text("Frågor"), "items": items}])
    return to_yaml(data)


@pytest.mark.parametrize("where", ["critical", "show_if"])
@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expression_is_rejected_at_load_without_side_effect(
    hostile: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    issues = issues_of(hostile_instrument(hostile, where), "bad.yaml")
    loc = "critical.0.when" if where == "critical" else "sections.0.items.1.show_if"
    assert any(i.loc == loc and i.line > 0 for i in issues), [str(i) for i in issues]
    assert not (tmp_path / "CANARY").exists()
    assert list(tmp_path.iterdir()) == []


DEEP = [
    "- " * 990 + "total == 1",
    "not " * 495 + "a == 'yes'",
    "not " * 200 + "a == 'yes'",
    "(" * 150 + "a == 'yes'" + ")" * 150,
    "total" + " - (total" * 180 + ")" * 180 + " > 1",
    "-(" * 400 + "total" + ")" * 400 + " > 1",
]


@pytest.mark.parametrize("hostile", DEEP, ids=["minus990", "not495", "not200", "parens150", "sub180", "negparens400"])
def test_deep_but_short_expressions_never_escape_as_recursion_errors(hostile: str) -> None:
    """Nesting within the length limit must be a located error or work, never a crash.

    Unary minus and ``not`` nest one level per two to four characters, so 2,000
    characters reach the interpreter's default recursion limit of 1,000 frames.
    """
    try:
        compiled = compile_expression(hostile, SYMBOLS)
    except ExpressionError:
        return
    except RecursionError:
        pytest.fail(f"RecursionError escaped from compile_expression for {hostile[:24]!r}…")
    try:
        compiled.evaluate({"a": "yes", "total": 1})
    except RecursionError:
        pytest.fail(f"RecursionError escaped from evaluate for {hostile[:24]!r}…")


@pytest.mark.parametrize("hostile", DEEP[:2], ids=["minus990", "not495"])
def test_deep_expression_in_an_instrument_is_a_located_error_not_a_crash(hostile: str) -> None:
    data = build_instrument(critical=[{"id": "deep", "when": hostile, "raise_to": "high", "reason": text("x")}])
    try:
        from screening import parse_instrument

        parse_instrument(to_yaml(data), "bad.yaml")
    except SpecError as exc:
        assert any(i.loc == "critical.0.when" for i in exc.issues)
    except RecursionError:
        pytest.fail("RecursionError escaped from parse_instrument")


def test_python_truth_names_are_only_booleans() -> None:
    # True/False/true/false are literals; None and other builtins are not names.
    assert compile_expression("true != false", SYMBOLS).evaluate({}) is True
    for name in ("None", "print", "open", "__name__", "self"):
        with pytest.raises(ExpressionError):
            compile_expression(f"{name} == 1", SYMBOLS)


def test_strings_stay_data() -> None:
    # A string that looks like code is just a value that is not in the scale.
    with pytest.raises(ExpressionError, match="not an answer value"):
        compile_expression("a == \"__import__('os').system('touch CANARY')\"", SYMBOLS)
    assert parse("'__class__' == 'x'") is not None


_AUDIT_CHILD = r"""
import json, sys
BAD_PREFIXES = ("os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "subprocess.",
                "socket.", "ctypes.", "shutil.", "os.remove", "os.unlink", "os.rename", "exec", "marshal.")
BAD_IMPORTS = {"subprocess", "ctypes", "socket", "pickle", "marshal", "shutil"}
seen = []
def hook(event, args):
    if event.startswith(BAD_PREFIXES):
        seen.append(event)
    elif event == "import" and args[0] in BAD_IMPORTS:
        seen.append("import " + args[0])
    elif event == "open" and isinstance(args[1], str) and any(c in args[1] for c in "wax+"):
        seen.append("open for writing")
import screening
from screening.errors import SpecError
texts = json.load(sys.stdin)
# Warm up first: lazy imports (the function table) run module code, which is an
# "exec" audit event of its own and not what this test is about.
warm = screening.parse_instrument(texts.pop(0), "warm.yaml")
screening.assess(warm, {})
sys.addaudithook(hook)
rejected = 0
for t in texts:
    try:
        screening.parse_instrument(t, "bad.yaml")
    except SpecError:
        rejected += 1
    except BaseException as exc:
        seen.append("escaped " + type(exc).__name__)
print(json.dumps({"rejected": rejected, "events": sorted(set(seen))}))
"""


def test_loading_hostile_instruments_starts_no_process_and_writes_nothing(tmp_path: Path) -> None:
    import subprocess

    warm = to_yaml(
        build_instrument(
            critical=[
                {"id": "ok", "when": "count('yes', a, b) >= 2 and a == 'yes'", "raise_to": "high", "reason": text("x")}
            ]
        )
    )
    texts = [warm] + [hostile_instrument(h, w) for h in HOSTILE for w in ("critical", "show_if")]
    proc = subprocess.run(
        [sys.executable, "-c", _AUDIT_CHILD],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=python_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["events"] == []
    assert report["rejected"] == len(texts) - 1
    assert list(tmp_path.iterdir()) == []


def test_cli_validate_rejects_a_hostile_file_without_side_effect(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(hostile_instrument(HOSTILE[0], "critical"), encoding="utf-8")
    proc = run_python("from screening.cli import main; main()", "validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad.yaml:" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "CANARY").exists()
