"""The ASGI app: its parts, middleware, sign-in endpoints and routers.

May import: the server's own modules, accounts, store / fastapi, starlette, stdlib.

``create_app(config)`` builds one app for one store; the CLI's ``screening serve``
hands it to uvicorn, and the tests call it through httpx's ASGI transport or
start ``screening serve`` itself. Nothing is global: two apps on two stores in
one process do not share a connection, a cache or a login counter.
"""


import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .._version import __version__
from ..accounts import Principal, check_password, end_session, start_session
from ..store import Store
from ._auth import COOKIE, Authenticator, LoginLimiter, client_address
from ._config import ServerConfig
from ._content import Content
from ._limits import BodyLimit, SecurityHeaders
from ._models import Login
from ._problems import Problem, install
from ._stores import StorePool

__all__ = ["Server", "create_app"]


class Server:
    """What every endpoint of one app shares: settings, stores, content, sign-in."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stores = StorePool(config.store)
        self.content = Content(config.home, config.rules)
        self.authenticate = Authenticator(config, self.stores)
        self.limiter = LoginLimiter(config.login_attempts, config.login_window)

    @property
    def who(self) -> Callable[..., Awaitable[Principal]]:
        """The dependency that signs a request in (``Depends(server.who)``)."""
        return self.authenticate


def _session_router(srv: Server) -> APIRouter:
    router = APIRouter(tags=["sign-in"])

    @router.post("/api/session")
    def sign_in(body: Login, request: Request) -> JSONResponse:
        """Sign in with a built-in account; sets the session cookie and returns the CSRF token."""
        address = client_address(request)
        srv.limiter.check(body.name, address)
        store = srv.stores.get()
        account = store.account(body.name)
        if not check_password(account, body.password) or account is None:
            srv.limiter.failed(body.name, address)
            raise Problem("unauthenticated", "wrong name or password, or the account is disabled")
        srv.limiter.succeeded(body.name, address)
        sid, csrf = start_session(store, account)
        response = JSONResponse({"name": account.name, "role": account.role, "team": account.team, "csrf": csrf})
        response.set_cookie(COOKIE, sid, httponly=True, secure=srv.config.secure_cookies, samesite="strict",
                            path="/", max_age=8 * 3600)
        return response

    @router.delete("/api/session", status_code=204)
    def sign_out(request: Request, who: Annotated[Principal, Depends(srv.who)]) -> Response:
        """End the browser session (a token or sign-on request has none to end)."""
        sid = request.cookies.get(COOKIE)
        if sid and who.via == "session":
            end_session(srv.stores.get(), sid)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/", secure=srv.config.secure_cookies, httponly=True, samesite="strict")
        return response

    @router.get("/api/me")
    def me(who: Annotated[Principal, Depends(srv.who)]) -> dict[str, Any]:
        """Who the request is signed in as, and what the account may do."""
        return {"name": who.name, "role": who.role, "team": who.team, "via": who.via,
                "permissions": sorted(who.permissions)}

    return router


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The HTTP API over one store (see docs/server.md for the endpoints and how to deploy it).

    Raises:
        StoreError: the store cannot be opened (checked here, so ``serve`` fails at once).
        SpecError: the rule set does not load.
    """
    from ._audit_routes import audit_router
    from ._cases import cases_router
    from ._rescore_routes import rescore_router
    from ._stateless import stateless_router
    from ._web import web_router

    config = config or ServerConfig()
    Store.open(config.store).close()  # fail now, with the store's own message, not on the first request
    srv = Server(config)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        srv.stores.close()

    app = FastAPI(title="screening", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Structured risk screening (FREDA, PATRIARK, honour-violence indicators) for "
                              "Swedish social services. Errors are RFC 9457 problem details.")
    app.state.server = srv
    install(app)
    app.include_router(_session_router(srv))
    app.include_router(stateless_router(srv))
    app.include_router(cases_router(srv))
    app.include_router(audit_router(srv))
    app.include_router(web_router(srv))  # the web interview's pages and their /web/static files
    app.include_router(rescore_router(srv))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=config.max_body)
    return app
