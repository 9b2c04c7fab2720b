"""Run an atheris fuzz target for a number of seconds with a seed corpus made from the bundled content.

    python fuzz/run.py loader --seconds 60
    python fuzz/run.py expr --seconds 600 --jobs 4

Seeds: ``loader`` gets every bundled instrument file and the test fixtures;
``expr`` gets every expression in them (``show_if``, ``when``, ``check``), each
prefixed with the byte that selects a condition. The working corpus lives in
``fuzz/corpus/<target>/`` (libFuzzer adds what it finds there; not committed) and
crashes in ``fuzz/artifacts/<target>/``. Prints libFuzzer's executions and
exec/s, and exits non-zero if the target crashed.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = {"loader": HERE / "fuzz_loader.py", "expr": HERE / "fuzz_expr.py"}


def _instrument_files() -> list[Path]:
    return sorted([*REPO.glob("instruments/*/*.yaml"), *REPO.glob("tests/fixtures/*.yaml")])


def _small_instruments() -> dict[str, str]:
    """Small valid instruments (1–3 kB) from the test helpers: fast seeds that reach every loader stage."""
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    from helpers import build_instrument, item, text, to_yaml

    group = {"id": "g", "type": "group", "text": text("Händelser"), "fields": [
        {"id": "when", "type": "date", "text": text("Datum")}, {"id": "what", "type": "text", "text": text("Vad")}]}
    return {
        "small-count": to_yaml(build_instrument()),
        "small-showif": to_yaml(build_instrument(
            sections=[{"id": "s", "title": text("A"), "items": [
                item("a"), item("b", show_if="a == 'yes'"), item("c", show_if="count('yes', a, b) >= 1"),
                {"id": "n", "type": "number", "min": 0, "max": 9, "text": text("N")}, group]}],
            critical=[{"id": "r", "when": "b == 'yes' and rows(g) > 0", "raise_to": "high", "reason": text("R")}],
        )),
        "small-spj": to_yaml(build_instrument(model="spj", scores=[], bands=None, judgement={"policy": "required"})),
    }


def _expressions() -> list[str]:
    sys.path.insert(0, str(REPO))
    from screening.content.yamlsafe import load_yaml_file

    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("show_if", "when", "check") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in _instrument_files():
        with contextlib.suppress(Exception):  # a fixture that is broken on purpose seeds nothing
            walk(load_yaml_file(path).data)
    return sorted(set(found))


def seed(target: str, corpus: Path) -> int:
    corpus.mkdir(parents=True, exist_ok=True)
    if target == "loader":
        for path in _instrument_files():
            (corpus / f"seed-{path.parent.name}-{path.name}").write_bytes(path.read_bytes())
        for name, text in _small_instruments().items():
            (corpus / f"seed-{name}.yaml").write_text(text, encoding="utf-8")
    else:
        for n, text in enumerate(_expressions()):
            (corpus / f"seed-{n:03d}").write_bytes(b"\x01" + text.encode("utf-8"))
    return sum(1 for _ in corpus.iterdir())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--rss-mb", type=int, default=512, help="libFuzzer's memory limit per process")
    parser.add_argument("--max-len", type=int, default=12_000,
                        help="longest input libFuzzer makes; bigger seeds are read truncated (0: the largest seed)")
    args = parser.parse_args()
    corpus = HERE / "corpus" / args.target
    artifacts = HERE / "artifacts" / args.target
    artifacts.mkdir(parents=True, exist_ok=True)
    n = seed(args.target, corpus)
    print(f"{args.target}: {n} inputs in the corpus, fuzzing for {args.seconds} s", flush=True)
    cmd = [
        sys.executable, str(TARGETS[args.target]), str(corpus),
        f"-max_total_time={args.seconds}", f"-rss_limit_mb={args.rss_mb}", "-timeout=10",
        f"-artifact_prefix={artifacts}/", "-print_final_stats=1", f"-max_len={args.max_len}",
    ]
    if args.jobs > 1:
        cmd += [f"-jobs={args.jobs}", f"-workers={args.jobs}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    log = proc.stdout + proc.stderr
    (artifacts / "last-run.log").write_text(log, encoding="utf-8")
    done = re.findall(r"Done (\d+) runs in (\d+) second", log)
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    speed = re.findall(r"stat::average_exec_per_sec:\s*(\d+)", log)
    crashed = "==ERROR" in log or "Uncaught Python exception" in log or proc.returncode not in (0,)
    runs = execs[-1] if execs else (done[-1][0] if done else "?")
    print(f"{args.target}: executions {runs}, exec/s {speed[-1] if speed else '?'}, "
          f"exit {proc.returncode}, crashed {'yes' if crashed else 'no'} (log: {artifacts / 'last-run.log'})")
    if crashed:
        tail = "\n".join(log.splitlines()[-40:])
        print(tail)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
