"""Benchmark: what ``screening serve`` adds to a scoring call, and answers/s into the store from 32 clients.

Starts the real command (``python -m screening serve --port 0``, uvicorn, one
process) on a fresh store in a temporary directory and drives it over TCP from
this process, one thread and one keep-alive ``http.client`` connection per
client, signed in with a system account's API token (what a case system uses).

(a) Scoring: ``POST /api/score`` with the FREDA short questions' example answers
    and the bundled rule set, at 1, 8 and 32 concurrent clients: requests/s and
    p50/p99 latency, next to the baseline in the same run — ``screening.assess``
    called directly in this process on the same answers, the same instrument and
    rule set (calls/s, p50/p99), and ``assess(…).to_json()``, since the server also
    serialises the result (about 16 KB here). ``GET /api/me`` at one client is printed too: the
    cost of HTTP plus the token check with no work, to see where added time goes.
    Target (printed, not asserted): the server adds at most 2 ms to the p50 at
    one client.
(b) Answers: 32 clients at once, each starts a FREDA description case (51
    items) and answers every item it is shown, one ``PUT`` each, committed
    before the reply. Answers/s over the whole run; then the store is opened and
    every case's stored answers are compared with what its client had
    acknowledged, and the answer rows are counted: nothing may be lost. An answer
    refused with 409 ``store-refused`` ("not saved (database is locked); try
    again": SQLite's 5 s busy timeout ran out) was not acknowledged, so the
    client sends it again, as a case system should; the count is printed.

    python bench/bench_server.py [--n 3000] [--clients 32] [--keep DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def quantiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)


class Client:
    """One keep-alive connection with the token; ``call`` returns (status, parsed body, seconds)."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object, float]:
        data = None if body is None else json.dumps(body).encode()
        start = time.perf_counter()
        self.conn.request(method, path, body=data, headers=self.headers)
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - start
        return response.status, json.loads(raw) if raw else None, elapsed


def start_server(store: Path, env: dict[str, str], logs: Path) -> tuple[subprocess.Popen[bytes], int]:
    err = logs / "server.err"
    with err.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "screening", "serve", "--store", str(store), "--port", "0"],
                                stdout=subprocess.DEVNULL, stderr=sink, env=env, cwd=logs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server stopped: " + err.read_text(encoding="utf-8"))
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", err.read_text(encoding="utf-8"))
        if found:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", int(found[1]), timeout=5)
                conn.request("GET", "/api/me")
                if conn.getresponse().status == 401:
                    return proc, int(found[1])
            except OSError:
                pass
        time.sleep(0.02)
    raise SystemExit("the server did not become ready")


def run_clients(count: int, work: object) -> float:
    """Run ``work(index)`` in ``count`` threads started together; the wall time of all of them."""
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        barrier.wait()
        try:
            work(index)  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def bench_scoring(port: int, token: str, n: int) -> None:
    from screening import assess
    from screening.api import load_answers, resolve_rules
    from screening.content.loader import load_instrument

    answers = load_answers(REPO / "examples" / "freda-kortfragor.yaml")
    ci, rules = load_instrument("freda-kortfragor"), resolve_rules("default", None)
    body = {"instrument": "freda-kortfragor", "answers": answers}

    for _ in range(200):  # warm up: imports, caches
        assess(ci, answers, rules=rules)
    direct: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        assess(ci, answers, rules=rules)
        direct.append(time.perf_counter() - start)
    d50, d99 = quantiles(direct)
    d_rate = n / sum(direct)
    serialised: list[float] = []  # what the server also does: the result as JSON (about 16 KB here)
    for _ in range(n):
        start = time.perf_counter()
        assess(ci, answers, rules=rules).to_json()
        serialised.append(time.perf_counter() - start)
    j50, j99 = quantiles(serialised)
    # Connected only now: uvicorn closes a keep-alive connection idle for 5 s.
    warm = Client(port, token)
    for _ in range(200):  # the server's side: its content cache, the thread pool, the store connections
        assert warm.call("POST", "/api/score", body)[0] == 200
    me = [warm.call("GET", "/api/me")[2] for _ in range(min(n, 1000))]
    m50, m99 = quantiles(me)

    print("(a) scoring: FREDA short questions, example answers, bundled rule set")
    print(f"    assess() directly, 1 thread: {d_rate:8.0f} calls/s   p50 {d50:6.2f} ms   p99 {d99:6.2f} ms")
    print(f"    assess().to_json() directly:     {n / sum(serialised):8.0f} calls/s   p50 {j50:6.2f} ms   "
          f"p99 {j99:6.2f} ms")
    print(f"    GET /api/me (HTTP + token, no work), 1 client: p50 {m50:6.2f} ms   p99 {m99:6.2f} ms")
    for clients in (1, 8, 32):
        per = max(1, n // clients)
        lat: list[list[float]] = [[] for _ in range(clients)]
        conns = [Client(port, token) for _ in range(clients)]

        def work(i: int, per: int = per, lat: list[list[float]] = lat, conns: list[Client] = conns) -> None:
            for _ in range(per):
                status, _, seconds = conns[i].call("POST", "/api/score", body)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                lat[i].append(seconds)

        wall = run_clients(clients, work)
        flat = [s for row in lat for s in row]
        p50, p99 = quantiles(flat)
        rate = len(flat) / wall
        print(f"    POST /api/score, {clients:2d} client(s):  {rate:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"
              f"   = {rate / d_rate:5.2f}× direct calls/s, p50 +{p50 - d50:5.2f} ms over assess"
              f" (+{p50 - j50:5.2f} over assess+to_json)")
        for c in conns:
            c.conn.close()
    warm.conn.close()


def bench_answers(port: int, token: str, clients: int, store: Path) -> None:
    from screening.content.loader import load_instrument
    from screening.store import Store

    ci = load_instrument("freda-beskrivning")
    acked: list[dict[str, str]] = [{} for _ in range(clients)]
    retried = [0] * clients
    ids: list[str] = ["" for _ in range(clients)]
    conns = [Client(port, token) for _ in range(clients)]

    def work(i: int) -> None:
        status, view, _ = conns[i].call("POST", "/api/cases", {"instrument": "freda-beskrivning",
                                                               "case_ref": f"bench-{i}"})
        assert status == 201 and isinstance(view, dict), status
        ids[i], item, n = view["id"], view["progress"]["next"], 0
        while item is not None:
            allowed = ci.allowed(ci.items[item])
            value = allowed[(i + n) % len(allowed)]
            status, view, _ = conns[i].call("PUT", f"/api/cases/{ids[i]}/answers/{item}", {"value": value})
            if status == 409 and isinstance(view, dict) and view.get("type", "").endswith("store-refused"):
                retried[i] += 1  # "not saved (database is locked); try again": what a client should do
                continue
            if status != 200 or not isinstance(view, dict):
                raise RuntimeError(f"status {status}: {view}")
            acked[i][item] = value
            item, n = view["progress"]["next"], n + 1

    wall = run_clients(clients, work)
    total = sum(len(a) for a in acked)
    for c in conns:
        c.conn.close()
    with Store.open(store) as st:
        lost = sum(1 for i in range(clients) if st.answers(ids[i]) != acked[i])
        marks = ",".join("?" * clients)
        rows = st.connection.execute(f"SELECT count(*) FROM answers WHERE assessment_id IN ({marks})",
                                     ids).fetchone()[0]
    print(f"(b) answers: {clients} clients at once, FREDA description (51 items), one PUT per answer")
    print(f"    {total} answers acknowledged in {wall:.2f} s = {total / wall:6.0f} answers/s "
          f"({clients} cases created in the same run; {sum(retried)} answers refused with 409 "
          f"'database is locked' and sent again)")
    print(f"    store after: {rows} answer rows for {total} acknowledged; cases whose stored answers differ "
          f"from the acknowledged ones: {lost}" + ("   OK, nothing lost" if rows == total and lost == 0
                                                   else "   LOST ANSWERS"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="scoring calls per concurrency level")
    parser.add_argument("--clients", type=int, default=32, help="clients answering at once in (b)")
    parser.add_argument("--keep", type=Path, help="keep the store, its key and the server's log here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-server-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env.update(PYTHONPATH=str(REPO), SCREENING_KEY_FILE=str(work / "key"), XDG_CONFIG_HOME=str(work / "config"),
               XDG_STATE_HOME=str(work / "state"))
    os.environ.update(env)
    from screening.accounts import SYSTEM_SCOPES, add_user, issue_token
    from screening.store import Store

    store = work / "server.db"
    with Store.open(store, create=True) as st:
        add_user(st, "bench", "system", team="bench", scopes=SYSTEM_SCOPES)
        token = issue_token(st, "bench")
    proc, port = start_server(store, env, work)
    try:
        print(f"screening serve on 127.0.0.1:{port}, {os.cpu_count()} CPUs, client and server on the same machine")
        bench_scoring(port, token, args.n)
        bench_answers(port, token, args.clients, store)
    finally:
        proc.terminate()
        proc.wait(30)
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
