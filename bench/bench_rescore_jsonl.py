"""Benchmark: ``rescore --input FILE.jsonl --output …`` against a hand-written streaming floor, in the same run.

Writes ``--n`` records (default 1,000,000) of the 20-item ``bench-count`` instrument
of ``bench_rescore.py`` (1.0.0, each with its stored compact outcome) as JSON Lines,
then times, alternating, ``--rounds`` times:

(a) the floor: plain Python streaming the file line by line — ``json.loads``, the
    1.1.0 migration (one renamed item) and rules scored by a hand-written function,
    the same referral table, one output line of the same shape ``json.dumps``-ed and
    written, the file fsynced at the end;
(b) ``run_jsonl`` with ``--jobs 1`` and an output file, in a fresh process (the
    library call behind ``screening rescore --input … --output …``), which reports
    its own peak RSS (``VmHWM``).

Targets (printed, not asserted): (b) within 1.5× of (a); peak under 300 MB.

    python bench/bench_rescore_jsonl.py [--n 1000000] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rescore import ITEMS, REPO, _hwm_mb, make_home

sys.path.insert(0, str(REPO))

REFERRALS = {  # rules_yaml in bench_rescore: services per level, in the catalogue's order
    "low": ["information"],
    "medium": ["information", "rvc", "relationsvaldsteam"],
    "high": ["information", "rvc", "relationsvaldsteam", "skyddat_boende", "police"],
}


def generate(path: Path, n: int, home: Path, seed: int = 7) -> None:
    """``n`` records with the 1.0.0 outcome the re-scorer itself gives (it is the stored baseline)."""
    from screening.batch._score import Scorer
    from screening.content.loader import load_instrument
    from screening.content.rules_loader import load_rules

    ci = load_instrument("bench-count@1.0.0", home)
    scorer = Scorer(ci, load_rules("bench", home))
    rnd = random.Random(seed)
    values, weights = ["yes", "no", "unknown"], [0.3, 0.695, 0.005]
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(n):
            answers = dict(zip(ITEMS, rnd.choices(values, weights, k=len(ITEMS)), strict=True))
            record = {"id": f"a{k:08d}", "case": f"ref-{k:08d}",
                      "instrument": {"id": "bench-count", "version": "1.0.0"}, "answers": answers,
                      "result": scorer.outcome(answers).to_json()}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def floor(src: Path, dst: Path) -> float:
    """Hand-written streaming re-score of the whole file (see the module docstring)."""
    band = [(0, 4, "low"), (5, 9, "medium"), (10, 20, "high")]
    level_of = {v: lv for lo, hi, lv in band for v in range(lo, hi + 1)}
    rank = {"low": 0, "medium": 1, "high": 2}
    start = time.perf_counter()
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8") as fout:
        for raw in fin:
            rec = json.loads(raw)
            answers = rec["answers"]
            if "q20" in answers:
                answers["q20_weapon"] = answers.pop("q20")
            values = answers.values()
            yes = sum(v == "yes" for v in values)
            unknown = sum(v != "yes" and v != "no" for v in values)
            level = level_of[yes]
            critical = []
            if answers.get("q01") == "yes":
                critical.append("first")
                if rank[level] < 1:
                    level = "medium"
            if answers.get("q03") == "yes" and answers.get("q11") == "yes":
                critical.append("combined")
                level = "high"
            status = "concluded" if not unknown else "incomplete" if unknown > 2 else "indeterminate"
            new = {"level": level if not unknown else None, "status": status, "complete": unknown <= 2,
                   "critical": critical, "referrals": REFERRALS[level]}
            old = rec.get("result")
            out = {"id": rec["id"], "case": rec["case"],
                   "instrument": {"id": "bench-count", "version": "1.1.0", "sha256": "0" * 64},
                   "answers": answers, "result": new, "previous": old,
                   "change": "unchanged" if old == new else "rose"}
            fout.write(json.dumps(out, ensure_ascii=False) + "\n")
        fout.flush()
        os.fsync(fout.fileno())
    return time.perf_counter() - start


def child_run(src: Path, home: Path, out: Path) -> None:
    """In a fresh process: one ``run_jsonl`` with an output file; time and peak memory as JSON."""
    from screening.batch._run import RunConfig, run_jsonl

    config = RunConfig(instrument="bench-count", to="1.1.0", rules="bench", home=str(home))
    start = time.perf_counter()
    summary = run_jsonl(src, config, jobs=1, output=out, progress=False)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "mb": _hwm_mb(), "counts": summary.diff["counts"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="records in the file")
    parser.add_argument("--rounds", type=int, default=3, help="floor / rescore pairs, alternating")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep the input file")
    parser.add_argument("--child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_run(*args.child)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-jsonl-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        home = make_home(root)
        src = root / f"in-{args.n}.jsonl"
        if not src.exists():
            t = time.perf_counter()
            generate(src, args.n, home)
            took = time.perf_counter() - t
            print(f"generated {args.n:,} records in {took:.1f} s ({src.stat().st_size / 1e6:,.0f} MB)")
        for round_ in range(1, args.rounds + 1):
            f = floor(src, root / "floor-out.jsonl")
            got = subprocess.run(
                [sys.executable, __file__, "--child", str(src), str(home), str(root / "rescore-out.jsonl")],
                check=True, capture_output=True, text=True,
            )
            res = json.loads(got.stdout.strip().splitlines()[-1])
            print(f"round {round_}: floor {f:7.2f} s, rescore {res['seconds']:7.2f} s, "
                  f"ratio {res['seconds'] / f:.2f}, peak RSS {res['mb']:.0f} MB")
            for name in ("floor-out.jsonl", "rescore-out.jsonl"):
                (root / name).unlink(missing_ok=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.umask(0o077)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
