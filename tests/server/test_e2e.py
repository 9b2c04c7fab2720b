"""``screening serve`` for real: the command in a subprocess, uvicorn on 127.0.0.1, clients over TCP.

What only a real server shows: an answer acknowledged over the network survives
``kill -9`` of the server mid-interview (each write is committed before the
reply), the session and the case are there after a restart, a case system's
token request works with curl as docs/server.md shows it, SIGTERM stops the
server cleanly (exit 0), and the server's own output never holds an answer
value or a case pseudonym (uvicorn's access log, which prints query strings,
is off). Readiness is polled (``/api/me`` answers 401), never waited for with a
fixed sleep; the server picks a free port (``--port 0``) and says which.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import PASSWORD, make_store

REPO = Path(__file__).resolve().parents[2]
PSEUDONYM = "E2E-Pseudo-4711"
FREE_TEXT = "Samtal med Qwertyson-E2E och skolkuratorn"
WRONG_VALUE = "Blabarssylt-E2E-value"

pytestmark = pytest.mark.slow


class Served:
    """One ``screening serve`` process; ``start`` again after a crash to restart it on the same store."""

    def __init__(self, store: Path, logs: Path) -> None:
        self.store, self.logs = store, logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.runs = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
        self.env["PYTHONPATH"] = str(REPO)

    def start(self, *extra: str) -> str:
        self.stop()
        self.runs += 1
        out = (self.logs / f"stdout{self.runs}").open("wb")
        err_path = self.logs / f"stderr{self.runs}"
        err = err_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "screening", "serve", "--store", str(self.store), "--port", "0",
             "--insecure-cookies", *extra], stdout=out, stderr=err, env=self.env, cwd=self.logs)
        out.close()
        err.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the port it chose, then readiness: both polled
            assert self.proc.poll() is None, err_path.read_text(encoding="utf-8")
            found = re.search(r"listening on http://[^:\s]+:(\d+)", err_path.read_text(encoding="utf-8"))
            if found:
                url = f"http://127.0.0.1:{found[1]}"
                try:
                    if httpx.get(url + "/api/me", timeout=5).status_code == 401:
                        self.url = url
                        return self.url
                except httpx.TransportError:
                    pass
            time.sleep(0.02)
        raise AssertionError("the server did not become ready: " + err_path.read_text(encoding="utf-8"))

    def output(self) -> str:
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.logs.glob("std*")))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, dict[str, str]]]:
    store, logs = tmp_path / "e2e.db", tmp_path / "logs"
    logs.mkdir()
    tokens = make_store(store)
    server = Served(store, logs)
    yield server, tokens
    server.stop()


def signed_in(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/api/session", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client


def test_every_acknowledged_answer_survives_kill_9_mid_interview_and_a_restart(
        served: tuple[Served, dict[str, str]]) -> None:
    server, _ = served
    url = server.start()
    anna = signed_in(url, "anna")
    created = anna.post("/api/cases", json={"instrument": "freda-beskrivning", "case_ref": PSEUDONYM})
    assert created.status_code == 201, created.text
    aid, item = created.json()["id"], created.json()["progress"]["next"]
    shown = len(created.json()["progress"]["shown"])

    acked: dict[str, str] = {}
    enough = threading.Event()
    failed: list[str] = []

    from screening.content.loader import load_instrument

    ci = load_instrument("freda-beskrivning")

    def interview() -> None:
        nonlocal item
        n = 0
        while item is not None:
            allowed = ci.allowed(ci.items[item])
            value = allowed[n % len(allowed)]  # varied, so a value mixed up between items would show
            try:
                response = anna.put(f"/api/cases/{aid}/answers/{item}", json={"value": value})
            except httpx.TransportError:
                return  # the server is gone: this answer was never acknowledged
            if response.status_code != 200:
                failed.append(response.text)
                break
            acked[item] = value
            item = response.json()["progress"]["next"]
            n += 1
            if n == 8:
                enough.set()
        enough.set()

    worker = threading.Thread(target=interview)
    worker.start()
    assert enough.wait(60)
    assert not failed, failed
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)  # mid-interview: the worker is sending the next answer
    worker.join(60)
    assert server.proc.wait(30) == -signal.SIGKILL
    assert 8 <= len(acked) < shown  # it died with the interview unfinished

    url = server.start()  # the same store, a new process
    anna.base_url = httpx.URL(url)
    after = anna.get(f"/api/cases/{aid}/answers")  # the session is in the store: it outlives the process
    assert after.status_code == 200, after.text
    stored = after.json()["answers"]
    assert {k: stored[k] for k in acked} == acked  # every acknowledged answer, with its value
    assert set(stored) - set(acked) <= {item}  # at most the one in flight besides
    view = anna.get(f"/api/cases/{aid}").json()
    assert view["status"] == "draft" and view["progress"]["next"] is not None

    # The interview goes on where it stopped.
    nxt = view["progress"]["next"]
    assert anna.put(f"/api/cases/{aid}/answers/{nxt}", json={"value": "unknown"}).status_code == 200
    anna.close()


def test_a_case_system_with_a_token_scores_and_runs_a_case_with_curl(
        served: tuple[Served, dict[str, str]]) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    server, tokens = served
    url = server.start()
    auth = f"Authorization: Bearer {tokens['sys']}"

    def call(method: str, path: str, body: object = None) -> tuple[int, str]:
        args = [curl, "-sS", "-X", method, "-H", auth, "-w", "\n%{http_code}", url + path]
        if body is not None:
            args[4:4] = ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        proc = subprocess.run(args, input=json.dumps(body) if body is not None else None, capture_output=True,
                              text=True, check=True, timeout=60)
        text, _, status = proc.stdout.rpartition("\n")
        return int(status), text

    some = {"physical_past_year": "yes", "fear": "yes", "current_contact": "yes"}
    status, text = call("POST", "/api/cases", {"instrument": "freda-kortfragor", "case_ref": "E2E-curl-1"})
    assert status == 201, text
    case = json.loads(text)
    answers: dict[str, str] = {}
    while case["progress"]["next"] is not None:
        item = case["progress"]["next"]
        answers[item] = some.get(item, "no")
        status, text = call("PUT", f"/api/cases/{case['id']}/answers/{item}", {"value": answers[item]})
        assert status == 200, text
        case = json.loads(text)
    status, text = call("POST", f"/api/cases/{case['id']}/complete")
    assert status == 200, text
    completed = json.loads(text)

    status, text = call("POST", "/api/score", {"instrument": "freda-kortfragor", "answers": answers})
    assert status == 200, text
    scored = json.loads(text)
    assert scored["instrument"]["id"] == "freda-kortfragor"
    assert (completed["final_level"], completed["answers"]) == (scored["final_level"], scored["answers"])
    status, text = call("GET", f"/api/cases/{case['id']}/report?format=txt&lang=en")
    assert status == 200 and "E2E-curl-1" in text
    status, text = call("GET", f"/api/cases/{case['id']}", None)
    assert status == 200 and json.loads(text)["status"] == "completed"

    bad = subprocess.run([curl, "-sS", "-i", "-H", "Authorization: Bearer scr_wrong", url + "/api/instruments"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert " 401" in bad.stdout.splitlines()[0] and "application/problem+json" in bad.stdout


def test_sigterm_stops_cleanly_and_the_output_holds_no_answer_and_no_pseudonym(
        served: tuple[Served, dict[str, str]]) -> None:
    server, _ = served
    url = server.start()
    anna, greta = signed_in(url, "anna"), signed_in(url, "greta")
    case = anna.post("/api/cases", json={"instrument": "patriark", "case_ref": PSEUDONYM})
    assert case.status_code == 201, case.text
    aid = case.json()["id"]
    assert anna.put(f"/api/cases/{aid}/answers/info_sources", json={"value": FREE_TEXT}).status_code == 200
    wrong = anna.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": PSEUDONYM + "-b"}).json()
    refused = anna.put(f"/api/cases/{wrong['id']}/answers/physical_past_year", json={"value": WRONG_VALUE})
    assert refused.status_code == 422 and WRONG_VALUE not in refused.text
    # The pseudonym in a query string: what uvicorn's access log would print.
    log = greta.get("/api/audit/access", params={"case": PSEUDONYM})
    assert log.status_code == 200 and [r["actor"] for r in log.json()] == ["anna", "anna"]
    assert anna.get("/api/cases", params={"status": "draft"}).status_code == 200
    assert anna.get(f"/api/cases/{aid}/answers").json()["answers"]["info_sources"] == FREE_TEXT

    # A second server on the same port: one clear line and exit 1, no traceback.
    port = url.rsplit(":", 1)[1]
    second = subprocess.run([sys.executable, "-m", "screening", "serve", "--store", str(server.store), "--port",
                             port], capture_output=True, text=True, env=server.env, timeout=120, check=False)
    assert second.returncode == 1
    assert "already in use" in second.stderr and "Traceback" not in second.stderr

    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    output = server.output()
    assert "Server stopped" in output and "Traceback" not in output
    for secret in (PSEUDONYM, FREE_TEXT, "Qwertyson", WRONG_VALUE, aid):
        assert secret not in output, secret
    anna.close()
    greta.close()


def test_a_missing_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-m", "screening", "serve", "--store", str(tmp_path / "none.db"),
                           "--port", "0"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 1
    assert "no case store" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "none.db").exists()


def test_the_sign_on_header_is_believed_only_from_a_trusted_proxy(served: tuple[Served, dict[str, str]]) -> None:
    server, _ = served
    url = server.start("--trust-header", "X-Remote-User")  # the proxy is this machine (the default)
    me = httpx.get(url + "/api/me", headers={"X-Remote-User": "anna"}, timeout=30)
    assert me.status_code == 200 and (me.json()["name"], me.json()["via"]) == ("anna", "header")
    assert httpx.get(url + "/api/me", headers={"X-Remote-User": "nobody"}, timeout=30).status_code == 401
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0

    url = server.start("--trust-header", "X-Remote-User", "--trusted-proxy", "192.0.2.10")  # another proxy
    assert httpx.get(url + "/api/me", headers={"X-Remote-User": "anna"}, timeout=30).status_code == 401
    url_off = server.start()  # off by default: the header means nothing
    assert httpx.get(url_off + "/api/me", headers={"X-Remote-User": "anna"}, timeout=30).status_code == 401
    assert "Varning" not in server.output()  # on loopback there is nothing to warn about


def test_beyond_loopback_it_warns_that_tls_is_the_proxys_job(served: tuple[Served, dict[str, str]]) -> None:
    server, _ = served
    server.start("--host", "0.0.0.0")
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    output = server.output()
    assert "Varning: 0.0.0.0 nås från andra datorer; TLS sköts av en omvänd proxy" in output
    assert "Warning: 0.0.0.0 is reachable from other machines; TLS is the reverse proxy's job." in output
