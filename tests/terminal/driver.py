"""Spawn ``python -m screening`` in a pseudo-terminal and talk to it like a caseworker.

The child gets this checkout on ``PYTHONPATH`` and an isolated store/home, so a
test never touches the user's real case store. Screens are matched on the
interview's own phrases ("Fråga 3 av 5", "✓ Sparat"), which is also what a
person sees.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[2]

QUESTION = re.compile(r"(?:Fråga|Question) (\d+) (?:av|of) (\d+)")
ACK = re.compile(r"✓ (?:Sparat|Saved): ")
ROW_ACK = re.compile(r"✓ (?:Rad|Row) (\d+) (?:sparad|saved)")

__all__ = ["ACK", "QUESTION", "ROW_ACK", "answer_facts", "child_env", "fact_keys", "facts_asked", "finish", "spawn_cli"]


def child_env(**extra: str) -> dict[str, str]:
    """Environment for the child: this checkout importable, UTF-8, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUTF8"] = "1"
    env["LANG"] = env.get("LANG", "C.UTF-8")
    env["TERM"] = "xterm"
    env["SCREENING_KEY_BURST_GAP"] = "0"  # a test types like a machine; test_typing sets a person's pace
    env.update(extra)
    return env


def spawn_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 20,
    umask: int | None = None,
    sigint_ignored: bool = False,
) -> pexpect.spawn:
    """Start ``python -m screening ARGS`` in a 40x120 pseudo-terminal.

    ``umask``: the child's; ``sigint_ignored``: start it with SIGINT ignored, as a job from a
    non-interactive shell is.
    """

    def preexec() -> None:
        if umask is not None:
            os.umask(umask)
        if sigint_ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    child = pexpect.spawn(
        sys.executable,
        ["-m", "screening", *args],
        env=dict(env) if env is not None else child_env(),
        cwd=str(cwd or REPO),
        encoding="utf-8",
        codec_errors="replace",
        timeout=timeout,
        dimensions=(40, 120),
        preexec_fn=preexec,
    )
    child.delaybeforesend = None  # we wait for prompts ourselves
    return child


def finish(child: pexpect.spawn, timeout: float = 20) -> tuple[str, int | None]:
    """Read until the child exits; return the rest of its output and its exit status."""
    child.expect(pexpect.EOF, timeout=timeout)
    rest = child.before
    child.ptyproc.delayafterclose = 0  # it has exited; do not wait 0.1 s
    child.close()
    return rest, child.exitstatus if child.signalstatus is None else -child.signalstatus


def facts_asked(instrument: str | Path, rules: str = "default", home: Path | None = None) -> list[tuple[str, object]]:
    """(name, declaration) of the case facts the interview asks first, in the order it asks them."""
    from screening.api import resolve_rules
    from screening.content.loader import find_instrument, load_instrument_file
    from screening.interview._facts import facts_to_ask

    ci = load_instrument_file(find_instrument(str(instrument), home))
    ruleset = resolve_rules(rules, home)
    return [(name, ruleset.ruleset.facts[name]) for name in facts_to_ask(ci, ruleset)] if ruleset else []


def fact_keys(instrument: str | Path, rules: str = "default", home: Path | None = None) -> str:
    """What a script types to answer every case fact with "not known" (for piped input)."""
    return "?\n" * len(facts_asked(instrument, rules, home))


def answer_facts(
    child: pexpect.spawn,
    instrument: str | Path,
    values: Mapping[str, str] | None = None,
    *,
    rules: str = "default",
    home: Path | None = None,
) -> None:
    """Answer the case facts asked before the first question: ``values`` by name, the rest "not known"."""
    given = dict(values or {})
    for name, spec in facts_asked(instrument, rules, home):
        child.expect_exact(spec.question.sv)  # type: ignore[attr-defined]
        key = given.pop(name, "?")
        if spec.type == "int":  # type: ignore[attr-defined]
            child.expect_exact("Svar (heltal")
            child.send(key + "\r")
        else:
            child.expect_exact("> ")
            child.send(key)
        child.expect(ACK)
    assert not given, f"not asked: {sorted(given)}"
