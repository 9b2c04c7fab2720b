"""``screening serve``: the HTTP API (``screening.server``) under uvicorn, on this machine's address.

May import: the library, ``server`` (inside the command only) / typer, uvicorn (inside the command only).

The command builds a ``ServerConfig`` from its options, opens the store through
``create_app`` (a missing or unreadable store is a clear error before anything
listens) and binds the socket itself, so a port in use is one line and exit 1,
not a uvicorn traceback. fastapi, uvicorn and argon2 are imported here, inside
the command, so ``screening --help`` does not pay for them.

What it deliberately does not do:

* **No access log from uvicorn** (``access_log=False``): uvicorn's access line
  prints the request path with its query string, and a query may carry a case
  pseudonym. Every access to a case is already in the store's tamper-evident
  audit trail ("access" records, ``screening audit access``), with who, role,
  team and outcome — more than an access line says and without the query.
* **No tracebacks in the log**: uvicorn's and the server's log lines go through a
  formatter that drops exception text and stacks (an exception's message or a
  frame can hold an answer); the server's own problem responses number an
  unexpected error so support can find it.
* **No ``X-Forwarded-For``** (``proxy_headers=False``): the trusted sign-on header is
  accepted only from the proxy's own address, which must stay the address the
  server sees. Behind a proxy the access log's "from where" is the proxy; the
  proxy's own log has the client's address (docs/server.md).
* **No TLS**: that is the reverse proxy's job; binding beyond loopback prints a
  warning saying so.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from . import app
from ._shared import HomeOption, StoreOption, store_setting

__all__ = ["serve_cmd"]


class _NoTraceback(logging.Formatter):
    """A log line without exception text or stack: they can carry an answer."""

    def formatException(self, ei: Any) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return super().format(record)


def log_config() -> dict[str, Any]:
    """uvicorn's logging: its own lines and the server's, to stderr, no access log, no tracebacks."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"()": _NoTraceback, "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "screening": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def _bind(host: str, port: int) -> Any:
    """A listening socket on (host, port), or a ``ScreeningError`` saying why not."""
    import socket

    from ..errors import ScreeningError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ScreeningError(f"okänd adress / unknown address {host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ScreeningError(f"kan inte lyssna på / cannot listen on {host}:{port}: {exc.strerror}"
                             + (" (porten används redan / the port is already in use)"
                                if exc.errno in (98, 48, 10048) else "")) from None
    sock.set_inheritable(True)
    return sock


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; default this machine only.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free one).")]
    = 8000,
    store: StoreOption = None,
    home: HomeOption = None,
    rules: Annotated[
        str, typer.Option("--rules", help="Referral rule set: default, none, or a rule set id or path.")
    ] = "default",
    trust_header: Annotated[
        str | None,
        typer.Option("--trust-header", metavar="NAME",
                     help="Accept the signed-in account's name in this header (e.g. X-Remote-User) from a trusted "
                          "proxy; off by default."),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option("--trusted-proxy", metavar="ADDR",
                     help="Address of the reverse proxy the header is accepted from (repeatable); default 127.0.0.1 "
                          "and ::1."),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1024, metavar="BYTES", help="Largest request body in bytes (413 above).")
    ] = 256 * 1024,
    insecure_cookies: Annotated[
        bool, typer.Option("--insecure-cookies",
                           help="Session cookies without Secure, for plain HTTP on this machine only (tests).")
    ] = False,
) -> None:
    """Serve the HTTP API (JSON, OpenAPI at /openapi.json) over the case store; see docs/server.md."""
    import signal

    try:
        import uvicorn

        from ..server import ServerConfig, create_app
    except ImportError:
        from ..errors import ScreeningError

        raise ScreeningError("servern behöver / the server needs: pip install 'screening[server]'") from None

    overrides: dict[str, Any] = {}
    if trusted_proxy:
        overrides["trusted_proxies"] = frozenset(trusted_proxy)
    config = ServerConfig(store=store or store_setting(), home=home, rules=rules, trust_header=trust_header,
                          max_body=max_body, secure_cookies=not insecure_cookies, **overrides)
    application = create_app(config)  # StoreError / SpecError: exit 1 with the located message
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    if not _loopback(host):
        typer.echo(f"Varning: {host} nås från andra datorer; TLS sköts av en omvänd proxy framför servern. / "
                   f"Warning: {host} is reachable from other machines; TLS is the reverse proxy's job.", err=True)
    typer.echo(f"Lyssnar på / listening on http://{host}:{bound} (Ctrl-C stoppar / stops)", err=True)
    server = uvicorn.Server(uvicorn.Config(application, log_config=log_config(), access_log=False,
                                           proxy_headers=False, server_header=False, date_header=True,
                                           lifespan="on", timeout_graceful_shutdown=10))
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler it found.
    # Ours asks uvicorn to stop: a signal before uvicorn took over still stops it, and the re-raised
    # one after a clean stop does nothing more, so the command exits 0 instead of dying by the signal.
    def stop(*_: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not server.started:
        from ..errors import ScreeningError

        raise ScreeningError("servern startade inte / the server did not start")
    typer.echo("Servern stoppad. / Server stopped.", err=True)

