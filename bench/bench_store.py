"""Benchmark: the case store on SQLite and on PostgreSQL, side by side in one run (issue 17).

Measures, on each backend:

(a) answers committed per second with 1 and with 8 writer processes, each answering
    its own drafts through ``Store.record_answer`` (one transaction per answer, durable
    when it returns: SQLite WAL with ``synchronous=FULL``; PostgreSQL with
    ``synchronous_commit=on``), and the latency of each answer (p50, p99);
(b) ``rescore --apply`` (the library's ``run_store``, ``--jobs 1``, in a fresh process)
    of ``--n`` completed assessments generated as ``bench_rescore.py`` does, next to
    that benchmark's hand-written floor (on the SQLite copy of the same store).

Then the ratios PostgreSQL / SQLite. Targets (printed, not asserted; the issue's, for a
2-core machine): the PostgreSQL re-score within 2× the SQLite one; an answer committed in
≤ 5 ms p99 with 8 writers. A throwaway PostgreSQL cluster is started for the run
(``tests/pg_cluster.py``) unless ``--pg-url`` names a database (it must be empty).

    python bench/bench_store.py [--n 20000] [--answers 400] [--pg-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

WRITERS = (1, 8)


# ---------------------------------------------------------------------------- (a) answers per second


def writer_child(location: str, answers: int, tag: str) -> None:
    """One writer process: wait for "go" on stdin, answer ``answers`` questions, print latencies as JSON."""
    from helpers import DEMO

    from screening import StoreError, load_instrument_file
    from screening.store import Store

    where: str | Path = location if location.startswith("postgresql://") else Path(location)
    ci = load_instrument_file(DEMO)
    items = ["q1", "q2", "q4", "view"]
    values = {"q1": "yes", "q2": "no", "q4": "no", "view": "low"}
    with Store.open(where) as st:
        drafts = [st.create_assessment(ci, case_ref=f"{tag}-{k}").id for k in range(max(1, answers // 40))]
        for aid in drafts:
            st.lock(aid)
        print("ready", flush=True)
        sys.stdin.readline()
        lat = []
        retries = 0
        start = time.perf_counter()
        for n in range(answers):
            aid, item = drafts[n % len(drafts)], items[(n // len(drafts)) % len(items)]
            t = time.perf_counter()
            while True:  # "not saved; try again" (SQLite's busy timeout): the time until saved counts
                try:
                    st.record_answer(aid, item, values[item])
                    break
                except StoreError as exc:
                    if "try again" not in exc.message:
                        raise
                    retries += 1
            lat.append(time.perf_counter() - t)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "lat": lat, "retries": retries}), flush=True)


def answers_per_second(location: str, writers: int, answers: int) -> dict[str, float]:
    procs = [subprocess.Popen([sys.executable, __file__, "--writer", location, "--answers", str(answers),
                               "--tag", f"w{writers}-{k}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env())
             for k in range(writers)]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"writer failed to start: {line}")
    start = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    lat: list[float] = []
    retries = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f"writer failed ({proc.returncode})")
        got = json.loads(out.strip().splitlines()[-1])
        lat += got["lat"]
        retries += got["retries"]
    wall = time.perf_counter() - start
    lat.sort()
    return {"per_s": len(lat) / wall, "p50_ms": statistics.median(lat) * 1000,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "retries": retries}


# ---------------------------------------------------------------------------- (b) re-score


def rescore_child(location: str, home: Path, jobs: int) -> None:
    from screening.batch._run import RunConfig, run_store

    config = RunConfig(instrument="bench-count", to="1.1.0", rules="bench", home=str(home),
                       filters={"instrument": "bench-count"})
    where: str | Path = location if location.startswith("postgresql://") else Path(location)
    start = time.perf_counter()
    summary = run_store(where, config, apply=True, jobs=jobs, progress=False)
    print(json.dumps({"seconds": time.perf_counter() - start, "counts": summary.diff["counts"]}))


def rescore(location: str, home: Path, jobs: int = 1) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--rescore", location, "--home", str(home), "--jobs", str(jobs)],
                         check=True, capture_output=True, text=True, env=_env())
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------------------- the run


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests"), *filter(None, [env.get("PYTHONPATH")])])
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="assessments to re-score (the issue: 200,000)")
    parser.add_argument("--answers", type=int, default=400, help="answers per writer process")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="w", help=argparse.SUPPRESS)
    parser.add_argument("--rescore", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer is not None:
        writer_child(args.writer, args.answers, args.tag)
        return
    if args.rescore is not None:
        rescore_child(args.rescore, args.home, args.jobs)
        return

    import bench_rescore
    from pg_cluster import Cluster

    from screening.store import Store

    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    cluster = None
    try:
        if args.pg_url:
            urls = [args.pg_url]
        else:
            cluster = Cluster.start()
            urls = [cluster.create_database(f"bench_{k}") for k in range(3)]
        print(f"PostgreSQL: {'given' if args.pg_url else 'throwaway cluster'}; SQLite: {root}; "
              f"{os.cpu_count()} CPUs")
        # (a) answers committed per second
        table: dict[tuple[str, int], dict[str, float]] = {}
        for writers in WRITERS:
            for backend in ("sqlite", "postgresql"):
                if backend == "sqlite":
                    location = str(root / f"answers-{writers}.db")
                elif cluster is not None:
                    location = cluster.create_database(f"answers_{writers}")
                else:
                    location = urls[0]
                Store.open(location if backend == "postgresql" else Path(location), create=True).close()
                got = answers_per_second(location, writers, args.answers)
                table[(backend, writers)] = got
                print(f"(a) {backend:10s} {writers} writer(s): {got['per_s']:8.0f} answers/s  "
                      f"p50 {got['p50_ms']:6.2f} ms  p99 {got['p99_ms']:6.2f} ms  "
                      f"busy, tried again: {got['retries']:.0f}")
        for writers in WRITERS:
            s, p = table[("sqlite", writers)], table[("postgresql", writers)]
            print(f"    ratio PostgreSQL/SQLite, {writers} writer(s): throughput {p['per_s'] / s['per_s']:.2f}, "
                  f"p99 {p['p99_ms'] / s['p99_ms']:.2f}")
        # (b) re-score
        home = bench_rescore.make_home(root)
        sqlite_store = root / "rescore.db"
        t = time.perf_counter()
        bench_rescore.generate(sqlite_store, args.n, home)
        print(f"generated {args.n:,} assessments for SQLite in {time.perf_counter() - t:.1f} s")
        pg_store = urls[-1] if cluster is not None else urls[0]
        t = time.perf_counter()
        bench_rescore.generate(pg_store, args.n, home)
        print(f"generated {args.n:,} assessments for PostgreSQL in {time.perf_counter() - t:.1f} s")
        floor_s = bench_rescore.floor(bench_rescore.copy_store(sqlite_store, root / "floor.db"))
        print(f"(b) floor, hand-written (SQLite): {floor_s:8.2f} s  ({args.n / floor_s:,.0f} assessments/s)")
        runs = {}
        for backend, location in (("sqlite", str(sqlite_store)), ("postgresql", pg_store)):
            got = rescore(location, home)
            runs[backend] = float(got["seconds"])  # type: ignore[arg-type]
            print(f"(b) rescore --apply {backend:10s}: {runs[backend]:8.2f} s  ({args.n / runs[backend]:,.0f}/s)  "
                  f"ratio to floor {runs[backend] / floor_s:.2f}  counts {got['counts']}")
        print(f"    ratio PostgreSQL/SQLite, rescore: {runs['postgresql'] / runs['sqlite']:.2f}")
        print(f"targets: PostgreSQL re-score ≤ 2× SQLite: {runs['postgresql'] <= 2 * runs['sqlite']}; "
              f"p99 ≤ 5 ms with 8 writers on PostgreSQL: {table[('postgresql', 8)]['p99_ms'] <= 5}")
    finally:
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if "SCREENING_KEY" not in os.environ and "--writer" not in sys.argv and "--rescore" not in sys.argv:
        import base64

        os.environ["SCREENING_KEY"] = base64.b64encode(os.urandom(32)).decode()  # a throwaway key
    main()
