"""A real server and a real browser for the web interview's tests.

The server is ``uvicorn`` serving ``create_app`` in a subprocess on a free port of
127.0.0.1 (one per test module; its store holds the accounts of tests/server: anna in
team a, bo in team b, password ``PASSWORD``). The browser is Debian's Chromium driven
by Selenium through Debian's ``chromium-driver`` (no browser download), headless, with a
fresh profile per browser so no cache or cookie leaks between tests. ``Browser.kill``
ends chromedriver and every Chromium process of that profile with SIGKILL, as a crash
would. Tests skip when Chromium, chromedriver or Selenium are missing (``.ci/run``
installs them).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # pragma: no cover - .ci/run installs it
    webdriver = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    webdriver is None or not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists(),
    reason="needs selenium, chromium and chromium-driver (.ci/run installs them)",
)

if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # where pytest puts it for tests/server (a package)
from server.conftest import PASSWORD, make_store  # noqa: E402  (the accounts of the server tests)

__all__ = ["PASSWORD", "Browser", "WebSite"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebSite:
    """The running server: its base URL, its store file and the key the store is sealed with."""

    url: str
    store_path: Path
    key: str
    process: subprocess.Popen[bytes]

    @contextlib.contextmanager
    def store(self) -> Iterator[Any]:
        """The server's store opened in the test process (with the server's key)."""
        from screening.store import Store
        from screening.store.crypto import reset_default_keyring

        old = os.environ.get("SCREENING_KEY")
        os.environ["SCREENING_KEY"] = self.key
        reset_default_keyring()
        try:
            with Store.open(self.store_path) as st:
                yield st
        finally:
            if old is None:
                os.environ.pop("SCREENING_KEY", None)
            else:
                os.environ["SCREENING_KEY"] = old
            reset_default_keyring()


def start_server(tmp: Path) -> WebSite:
    """``uvicorn`` serving the app in a subprocess; returns once it answers."""
    from screening.store.crypto import reset_default_keyring

    key = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "SCREENING_KEY": key, "XDG_CONFIG_HOME": str(tmp / "config"),
           "XDG_STATE_HOME": str(tmp / "state"), "XDG_DATA_HOME": str(tmp / "data")}
    env.pop("SCREENING_KEY_FILE", None)
    path = tmp / "web.db"
    old = os.environ.get("SCREENING_KEY")
    os.environ["SCREENING_KEY"] = key
    reset_default_keyring()
    try:
        make_store(path)
    finally:
        os.environ.pop("SCREENING_KEY", None) if old is None else os.environ.__setitem__("SCREENING_KEY", old)
        reset_default_keyring()
    port = _free_port()
    code = ("import sys, uvicorn; from pathlib import Path; from screening.server import ServerConfig, create_app; "
            "uvicorn.run(create_app(ServerConfig(store=Path(sys.argv[1]), secure_cookies=False, login_attempts=50)),"
            " host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', access_log=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(port)], env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        if proc.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return WebSite(f"http://127.0.0.1:{port}", path, key, proc)


@dataclass
class Browser:
    """One headless Chromium with its own profile; ``kill`` ends it like a crash."""

    driver: Any
    profile: Path
    pids: list[int] = field(default_factory=list)

    def kill(self) -> None:
        """SIGKILL chromedriver and every Chromium process using this profile (found by its own flag)."""
        victims = {self.driver.service.process.pid}
        marker = f"--user-data-dir={self.profile}".encode()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (entry / "cmdline").read_bytes():
                        victims.add(int(entry.name))
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.driver.service.process.wait(5)

    def quit(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def new_browser(lang: str = "sv", *, javascript: bool = True) -> Browser:
    from selenium.webdriver.chrome.options import Options

    profile = Path(tempfile.mkdtemp(prefix="screening-chromium-"))
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1100,1000", f"--user-data-dir={profile}", f"--lang={lang}"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    return Browser(driver, profile)


@pytest.fixture(scope="module")
def web_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    site = start_server(tmp_path_factory.mktemp("web"))
    yield site
    site.process.terminate()
    site.process.wait(10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    made = new_browser()
    yield made
    made.quit()
