"""Benchmark: batch re-scoring of a large store against a hand-written floor, in the same run.

Generates a case store of ``--n`` completed assessments (default 1,000,000) of a
20-item yes/no instrument (``bench-count`` 1.0.0, written to a temporary content
directory with a 1.1.0 that renames an item, moves both cut-offs and adds a
critical rule), then times, on identical copies of the store:

(a) the floor: plain Python reading the answers from SQLite in one sequential
    scan, decrypting each with the store's codec (as any correct reader must),
    scoring them with a hand-written function of the 1.1.0 rules and writing one
    sealed result row per assessment back in one transaction;
(b) ``screening rescore --apply`` to 1.1.0 with referrals, as a library call in
    a fresh process, with ``--jobs 1`` and ``--jobs 2`` (the process reports its
    own and its workers' peak RSS from ``getrusage``);
(c) the real CLI once, in a subprocess, on a smaller store (``--cli-n``), next to
    the floor on that store.

Targets (printed, not asserted; issue 19): (b) jobs 1 within 1.3× of (a); jobs 2
within 0.8× of (a); peak memory under 300 MB at any store size.

How the store is generated: the store's own schema is created by opening it
with ``screening.store._store.Store``; then rows go in with ``executemany`` straight in
SQL, 50,000 assessments a transaction (``synchronous=OFF`` while generating —
benchmark data, not case data): ``assessments``, ``revisions`` as drafts,
``answers`` (one sealed JSON value per row, as the store writes them), the full
1.0.0 ``Result`` of each assessment with its compact outcome (what an interview
stores on completion, so the re-score compares with a stored result as it would
in a real store), and finally one ``UPDATE`` that completes every revision (the
triggers then freeze the answers).

    python bench/bench_rescore.py [--n 1000000] [--cli-n 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ITEMS = [f"q{n:02d}" for n in range(1, 21)]


def _text(words: str) -> str:
    return "{sv: " + json.dumps(words) + ", en: " + json.dumps(words) + "}"


def instrument_yaml(version: str) -> str:
    """The bench instrument; 1.1.0 renames q20, moves the cut-offs and adds a critical rule."""
    new = version != "1.0.0"
    items = [("q20_weapon" if new and i == "q20" else i) for i in ITEMS]
    lines = [
        "id: bench-count", f"version: {version}", f"title: {_text('Benchmark instrument')}",
        f"description: {_text('Twenty yes/no questions, counted.')}", f"intro: {_text('Synthetic.')}",
        "model: count",
        "source: {manual: Bench, edition: '1', publisher: screening bench, paraphrased: true, note: "
        + _text("Synthetic") + "}",
        "scales:", "  yn:", "    options:",
        "      - {value: 'yes', label: " + _text("Ja") + ", points: 1}",
        "      - {value: 'no', label: " + _text("Nej") + "}",
        "      - {value: unknown, label: " + _text("Vet ej") + ", unknown: true}",
        "sections:", "  - id: main", f"    title: {_text('Questions')}", "    items:",
    ]
    lines += [f"      - {{id: {i}, scale: yn, text: {_text('Question ' + i)}}}" for i in items]
    lines += [
        "scores:", f"  - {{id: yes_count, label: {_text('Yes answers')}, kind: count, values: ['yes']}}",
        "levels:", f"  - {{id: low, label: {_text('Low')}}}", f"  - {{id: medium, label: {_text('Medium')}}}",
        f"  - {{id: high, label: {_text('High')}}}",
        "bands:", "  score: yes_count", "  ranges:",
        f"    - {{level: low, min: 0, max: {4 if new else 5}}}",
        f"    - {{level: medium, min: {5 if new else 6}, max: {9 if new else 10}}}",
        f"    - {{level: high, min: {10 if new else 11}, max: 20}}",
        "critical:",
        f"  - {{id: first, when: \"q01 == 'yes'\", raise_to: medium, reason: {_text('First question')}}}",
    ]
    if new:
        lines.append(
            f"  - {{id: combined, when: \"q03 == 'yes' and q11 == 'yes'\", raise_to: high, reason: {_text('Both')}}}"
        )
    lines += ["missing: {max_unknown: 2}", "judgement: {policy: raise_only}"]
    if new:
        lines += ["migrations:", "  - {from_version: 1.0.0, renamed: {q20: q20_weapon}}"]
    return "\n".join(lines) + "\n"


def rules_yaml(ident: str) -> str:
    """A referral rule set for the bench instrument (two ids: same rules, different hash)."""
    def rule(rid: str, when: str, refer: str, urgency: str) -> str:
        return f"      - {{id: {rid}, when: \"{when}\", refer: [{refer}], urgency: {urgency}, reason: {_text(rid)}}}"

    return "\n".join([
        f"id: {ident}", "version: 1.0.0", f"title: {_text('Bench rules')}", "catalogue: stockholm",
        "incomplete_support: [relationsvaldsteam]", "tables:", "  - id: bench", "    instrument: bench-count",
        "    hit_policy: collect", "    rules:",
        rule("low", "level >= 'low'", "information", "planned"),
        rule("medium", "level >= 'medium'", "rvc, relationsvaldsteam", "within_days"),
        rule("high", "level >= 'high'", "skyddat_boende, police", "immediate"),
    ]) + "\n"


def make_home(root: Path) -> Path:
    home = root / "home"
    (home / "instruments" / "bench-count").mkdir(parents=True, exist_ok=True)
    (home / "rules" / "services").mkdir(parents=True, exist_ok=True)
    for version in ("1.0.0", "1.1.0"):
        (home / "instruments" / "bench-count" / f"{version}.yaml").write_text(instrument_yaml(version))
    for ident in ("bench", "bench-b"):
        (home / "rules" / f"{ident}.yaml").write_text(rules_yaml(ident))
    shutil.copy(REPO / "rules" / "services" / "stockholm.yaml", home / "rules" / "services" / "stockholm.yaml")
    return home


# ---------------------------------------------------------------------------- generation


def generate(path: Path | str, n: int, home: Path, *, seed: int = 7, p_yes: float = 0.3,
             p_unknown: float = 0.005) -> None:
    """``n`` completed 1.0.0 assessments, written with executemany straight into the store's schema.

    ``path`` may be a ``postgresql://`` URL: the same rows through the store's PostgreSQL adapter.
    """
    from screening.assessment import assess
    from screening.content.loader import load_instrument
    from screening.content.rules_loader import load_rules
    from screening.engine.result import compact_outcome
    from screening.store._store import Store
    from screening.store.crypto import default_keyring
    from screening.store.values import encode, outcome_key

    ci = load_instrument("bench-count@1.0.0", home)
    rules = load_rules("bench", home)
    Store.open(path, create=True).close()  # the store creates its own schema and registers the key
    ring = default_keyring()
    rnd = random.Random(seed)
    pg = isinstance(path, str)
    if pg:
        from typing import cast

        from screening.store._pg import PgConnection

        conn = cast(sqlite3.Connection, PgConnection.connect(str(path)))
        conn.execute("SET synchronous_commit = off")  # a generator's rows, not a caseworker's answers
    else:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -400000")
    values = ["yes", "no", "unknown"]
    weights = [p_yes, 1 - p_yes - p_unknown, p_unknown]
    stamp = "2025-01-15T10:00:00.000Z"
    batch = 50_000
    for start in range(0, n, batch):
        ids = [f"{rnd.getrandbits(128):032x}" for _ in range(min(batch, n - start))]
        answers = {aid: dict(zip(ITEMS, rnd.choices(values, weights, k=len(ITEMS)), strict=True)) for aid in ids}
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO assessments (id, case_ref, instrument_id, lang, current_revision, created_at, updated_at)"
            " VALUES (?, ?, 'bench-count', 'sv', 1, ?, ?)",
            ((aid, f"ref-{aid[:8]}", stamp, stamp) for aid in ids),
        )
        conn.executemany(
            "INSERT INTO revisions (assessment_id, revision, status, instrument_version, instrument_sha256,"
            " created_at) VALUES (?, 1, 'draft', '1.0.0', ?, ?)",
            ((aid, ci.sha256, stamp) for aid in ids),
        )
        conn.executemany(
            "INSERT INTO answers (assessment_id, revision, item_id, value, partial, answered_at)"
            " VALUES (?, 1, ?, ?, 0, ?)",
            (
                (aid, item, encode(aid, f"answer:{item}", value, revision=1, keyring=ring), stamp)  # as the store does
                for aid in ids
                for item, value in answers[aid].items()
            ),
        )
        stored = []
        for aid in ids:
            result = assess(ci, answers[aid], rules=rules, assessed_at=stamp)
            data = result.model_dump(mode="json")
            digest = hashlib.sha256(result.to_json().encode("utf-8")).hexdigest()
            key = (aid, ci.sha256, rules.sha256, result.engine_version)
            stored.append((key, encode(aid, "result", data, revision=1, key=key[1:], keyring=ring),
                           encode(aid, "rescore", compact_outcome(data), revision=1, key=key[1:], keyring=ring),
                           digest))
        conn.executemany(  # the full result and its compact outcome, as Store.complete writes them
            "INSERT INTO results (assessment_id, revision, instrument_sha256, rules_sha256, engine_version, result,"
            " result_sha256, created_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
            ((*key, full, digest, stamp) for key, full, _, digest in stored),
        )
        ident = outcome_key(conn, ci.sha256, rules.sha256, stored[0][0][3], "1.0.0")
        conn.executemany(
            "INSERT INTO outcomes (assessment_id, revision, key, outcome, result_sha256, created_at)"
            " VALUES (?, 1, ?, ?, ?, ?)",
            ((key[0], ident, compact, digest, stamp) for key, _, compact, digest in stored),
        )
        conn.execute(
            "UPDATE revisions SET status = 'completed', completed_at = ? WHERE status = 'draft'", (stamp,)
        )
        conn.execute("COMMIT")
    if not pg:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


# ---------------------------------------------------------------------------- the floor


def floor(path: Path) -> float:
    """Hand-written: one sequential scan of the answers, decrypt, score 1.1.0 by hand, write sealed results at once.

    Decrypting each answer (the store's ``decode``) is what any correct reader of the
    store must do; the result value is sealed like every stored result.
    """
    from screening.store.crypto import default_keyring
    from screening.store.values import decode, encode

    ring = default_keyring()
    band = [(0, 4, "low"), (5, 9, "medium"), (10, 20, "high")]
    level_of = {v: lv for lo, hi, lv in band for v in range(lo, hi + 1)}
    rank = {"low": 0, "medium": 1, "high": 2}
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS floor_results (assessment_id TEXT PRIMARY KEY, level BLOB) STRICT")
    rows = conn.execute("SELECT assessment_id, item_id, value FROM answers")
    out = []
    for aid, group in itertools.groupby(rows, key=lambda r: r[0]):
        answers = {
            ("q20_weapon" if item == "q20" else item): decode(aid, f"answer:{item}", value, revision=1, keyring=ring)
            for _, item, value in group
        }
        values = answers.values()
        yes = sum(v == "yes" for v in values)
        unknown = sum(v != "yes" and v != "no" for v in values)
        level = level_of[yes]
        if answers.get("q01") == "yes" and rank[level] < 1:
            level = "medium"
        if answers.get("q03") == "yes" and answers.get("q11") == "yes":
            level = "high"
        if unknown:
            level = "incomplete" if unknown > 2 else "indeterminate"
        out.append((aid, encode(aid, "result", level, revision=1, keyring=ring)))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT OR IGNORE INTO floor_results VALUES (?, ?)", out)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------- the re-scorer


def child_run(store: Path, home: Path, jobs: int, rules: str) -> None:
    """Runs in a fresh process: time one library re-score and report time and peak memory as JSON."""
    from screening.batch._run import RunConfig, run_store

    config = RunConfig(instrument="bench-count", to="1.1.0", rules=rules, home=str(home),
                       filters={"instrument": "bench-count"})
    start = time.perf_counter()
    summary = run_store(store, config, apply=True, jobs=jobs, progress=False)
    seconds = time.perf_counter() - start
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of the big bench
    # process would report the parent's peak. Workers are started by this small process.
    own = _hwm_mb()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "self_mb": own, "workers_mb": workers,
                      "counts": summary.diff["counts"]}))


def _hwm_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(store: Path, home: Path, jobs: int, rules: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(store), "--home", str(home), "--jobs", str(jobs), "--rules", rules],
        check=True, capture_output=True, text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def copy_store(src: Path, dst: Path) -> Path:
    """A consistent copy (the source is closed and checkpointed), on disk before any timing starts.

    Without the fsync the kernel writes the copy back while the next timed run
    commits, and that run's first fsync waits for gigabytes it did not write.
    """
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return dst


def drop_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def cli_run(store: Path, home: Path, out: Path) -> float:
    cmd = [sys.executable, "-m", "screening", "rescore", "--store", str(store), "--instrument", "bench-count",
           "--to", "1.1.0", "--rules", "bench", "--home", str(home), "--apply", "--format", "json", "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="assessments in the store")
    parser.add_argument("--cli-n", type=int, default=20_000, help="assessments for the real CLI run")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--rules", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_run(args.child, args.home, args.jobs, args.rules)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-rescore-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        home = make_home(root)
        base = root / "base.db"
        if not base.exists():
            t = time.perf_counter()
            generate(base, args.n, home)
            print(f"generated {args.n:,} assessments in {time.perf_counter() - t:.1f} s "
                  f"({base.stat().st_size / 1e6:,.0f} MB)")
        a = copy_store(base, root / "floor.db")
        floor_s = floor(a)
        drop_store(a)  # one copy on disk at a time: a million assessments with results are ~10 GB
        print(f"(a) floor, hand-written:       {floor_s:8.2f} s  ({args.n / floor_s:,.0f} assessments/s)")
        results = {}
        for jobs in (1, 2):
            store = copy_store(base, root / f"jobs{jobs}.db")
            got = run_child(store, home, jobs, "bench")
            drop_store(store)
            results[jobs] = got
            ratio = float(got["seconds"]) / floor_s  # type: ignore[arg-type]
            print(f"(b) rescore --apply --jobs {jobs}:  {got['seconds']:8.2f} s  ratio to floor {ratio:.2f}  "
                  f"peak RSS: parent {got['self_mb']:.0f} MB, workers {got['workers_mb']:.0f} MB")
        print(f"    counts: {results[1]['counts']}")
        small = root / "small.db"
        if not small.exists():
            generate(small, args.cli_n, home, seed=11)
        floor_small = floor(copy_store(small, root / "small-floor.db"))
        cli_s = cli_run(copy_store(small, root / "small-cli.db"), home, root / "small-diff.json")
        print(f"(c) CLI subprocess, n={args.cli_n:,}: {cli_s:.2f} s (floor {floor_small:.2f} s, "
              f"ratio {cli_s / floor_small:.2f}, includes interpreter start and loading)")
        print(f"targets: jobs 1 ≤ 1.3× floor: {float(results[1]['seconds']) <= 1.3 * floor_s}; "  # type: ignore[arg-type]
              f"jobs 2 ≤ 0.8× floor: {float(results[2]['seconds']) <= 0.8 * floor_s}; "  # type: ignore[arg-type]
              f"peak < 300 MB: {max(float(r[k]) for r in results.values() for k in ('self_mb', 'workers_mb')) < 300}")  # type: ignore[arg-type]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for name in ("floor.db", "jobs1.db", "jobs2.db", "small-floor.db", "small-cli.db"):
                for suffix in ("", "-wal", "-shm"):
                    (root / (name + suffix)).unlink(missing_ok=True)


def _bench_key() -> None:
    """A throwaway key, so the bench never touches the user's key file; kept with ``--keep`` stores."""
    import base64

    if "SCREENING_KEY" in os.environ or "--child" in sys.argv:
        return
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    saved = Path(keep) / "bench.key" if keep else None
    if saved is not None and saved.is_file():
        os.environ["SCREENING_KEY"] = saved.read_text().strip()
        return
    os.environ["SCREENING_KEY"] = base64.b64encode(os.urandom(32)).decode()
    if saved is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(os.environ["SCREENING_KEY"])


if __name__ == "__main__":
    os.umask(0o077)  # benchmark stores are synthetic, but stores are owner-only all the same
    os.environ.setdefault("PYTHONHASHSEED", "0")
    _bench_key()
    main()
