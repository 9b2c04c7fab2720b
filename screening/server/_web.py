"""The web interview's frame: templates, language, sign-in pages, the case list, quick exit, errors.

May import: accounts, report (its Jinja environment), store, errors, interview (the session and its
texts, never the terminal), _access, _auth, _problems, _webtexts, _webflow, _webend / fastapi,
starlette, jinja2, stdlib.

Pages are rendered on the server from the ``web/`` templates through the report
package's Jinja environment (autoescape, ``StrictUndefined``, ``None`` refused), so
the same escaping that keeps a report safe keeps a page safe. Every form is a POST
followed by a 303 redirect (POST/redirect/GET): what the page said was saved is
committed, and Back or Reload never posts again. Forms carry the session's CSRF
token in a ``csrf`` field (checked by ``Authenticator`` like the API's header).
Errors become pages in the reader's language with the right status, never a
traceback and never the value typed (it may be personal data).

Language: Swedish unless ``?lang=en`` was chosen (remembered in a cookie for the
browser session). Quick exit (the button on every page, or Esc) loads the neutral
page with ``location.replace``, and that page ends the sign-in session, so Back
leads to the sign-in page, never to a case (case pages are ``no-store``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..accounts import Principal, check_password, end_session, start_session
from ..engine.scoring import CompiledInstrument
from ..errors import AssessmentLocked, ScreeningError, StoreError
from . import _access
from ._auth import COOKIE, client_address
from ._problems import Problem
from ._webforms import W
from ._webtexts import t

if TYPE_CHECKING:
    from ._app import Server

__all__ = ["PAGE_CSP", "W", "Web", "web_dir", "web_router"]

PAGE_CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
LANG_COOKIE = "screening_lang"
_log = logging.getLogger("screening.server")
_STATIC = {"web.css": "text/css; charset=utf-8", "web.js": "text/javascript; charset=utf-8"}
_ERRORS = {"not-found": (404, "not_found"), "forbidden": (403, "forbidden"), "csrf-failed": (403, "csrf"),
           "draft-locked": (409, "locked")}


def web_dir() -> Path:
    """The page templates: installed in the wheel, or at the top of a checkout (like ``reports/``)."""
    from importlib import resources

    bundled = resources.files("screening") / "_content" / "web"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2] / "web"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    from ..report import environment

    return environment().overlay(loader=jinja2.FileSystemLoader(str(web_dir())))


class Web:
    """Rendering and the guard every page goes through."""

    def __init__(self, srv: Server) -> None:
        self.srv = srv
        self.static = {name: (web_dir() / "static" / name).read_bytes() for name in _STATIC}
        # The pages name the files with their content's hash, so a browser may keep them: no request per page.
        self.version = hashlib.sha256(b"".join(self.static.values())).hexdigest()[:12]
        self._newest: dict[str, CompiledInstrument] | None = None

    def instruments(self) -> dict[str, CompiledInstrument]:
        """The newest version of every installed instrument (read once: the server's content is fixed)."""
        if self._newest is None:
            content = self.srv.content
            self._newest = {i: content.instrument(i) for i in sorted({i for i, _, _ in content.listing()})}
        return self._newest

    def page(self, request: Request, lang: str, template: str, *, who: Principal | None = None, status: int = 200,
             title: str = "", **context: Any) -> HTMLResponse:
        other = "en" if lang == "sv" else "sv"
        html = _environment().get_template(template).render(
            lang=lang, other_lang=other, other_url=f"{request.url.path}?lang={other}",
            tr=functools.partial(t, lang=lang), user=who.name if who else "", csrf=(who.csrf or "") if who else "",
            title=title or t("app", lang), v=self.version, **context)
        response = HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_CSP})
        if request.query_params.get("lang") in ("sv", "en"):
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/", httponly=True,
                                secure=self.srv.config.secure_cookies)
        return response

    def message(self, request: Request, lang: str, key: str, status: int, who: Principal | None = None,
                **params: object) -> HTMLResponse:
        return self.page(request, lang, "message.html.j2", who=who, status=status, title=t("error_title", lang),
                         text=t(key, lang, **params))

    def guard(self, request: Request, form: dict[str, str], handler: Callable[..., Response], *args: str) \
            -> Response:
        """Sign the request in (or send it to the sign-in page), run the page, turn errors into pages."""
        lang = lang_of(request)
        if form:
            request.state.csrf_form = form.get("csrf", "")
        who: Principal | None = None
        try:
            who = self.srv.authenticate.identify(request)
            return handler(W(request, lang, who, self.srv.stores.get(), form), *args)
        except Problem as exc:
            if exc.kind == "unauthenticated":
                return RedirectResponse("/web/signin", status_code=303)
            status, key = _ERRORS.get(exc.kind, (422, "error_title"))
            return self.message(request, lang, key, status, who)
        except AssessmentLocked:
            return self.message(request, lang, "locked", 409, who)
        except StoreError:
            return self.message(request, lang, "store_failed", 409, who)
        except ScreeningError:
            return self.message(request, lang, "error_title", 422, who)
        except Exception as exc:  # noqa: BLE001 - a bug: a page in the reader's language, the log names its type
            _log.error("web page %s failed: %s", request.url.path[:80], type(exc).__name__)
            return self.message(request, lang, "internal", 500, who)


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "sv"


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (first value of each; files ignored); the body limit has already held."""
    data = await request.form(max_files=0, max_fields=200)
    return {k: v for k, v in data.items() if isinstance(v, str)}


def web_router(srv: Server) -> APIRouter:  # noqa: C901 - one closure per page
    from ._webend import end_routes
    from ._webflow import flow_routes
    from ._webgroup import group_page, group_routes

    router = APIRouter(include_in_schema=False)
    web = Web(srv)

    async def get(request: Request, handler: Callable[..., Response], *args: str) -> Response:
        return await run_in_threadpool(web.guard, request, {}, handler, *args)

    async def post(request: Request, handler: Callable[..., Response], *args: str) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(web.guard, request, form or {"csrf": ""}, handler, *args)

    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/web/cases", status_code=303)

    @router.get("/web/static/{name}")
    def static(name: str) -> Response:
        if name not in _STATIC:
            raise Problem("not-found")
        return Response(web.static[name], media_type=_STATIC[name],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    @router.get("/web/signin")
    def signin_page(request: Request) -> Response:
        return web.page(request, lang_of(request), "signin.html.j2", title=t("sign_in", lang_of(request)),
                        error="", name="", notice=t("signed_out", lang_of(request))
                        if request.query_params.get("out") else "")

    @router.post("/web/signin")
    async def signin(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(_signin, request, form)

    def _signin(request: Request, form: dict[str, str]) -> Response:
        lang = lang_of(request)
        name, password = form.get("name", "").strip()[:64], form.get("password", "")[:1024]

        def again(key: str, status: int, **params: object) -> Response:
            return web.page(request, lang, "signin.html.j2", status=status, title=t("sign_in", lang),
                            error=t(key, lang, **params), name=name, notice="")

        if not name or not password:
            return again("fill_both", 422)
        address = client_address(request)
        try:
            srv.limiter.check(name, address)
        except Problem as exc:
            return again("sign_in_wait", 429, n=exc.headers.get("Retry-After", "60"))
        store = srv.stores.get()
        account = store.account(name)
        if account is None or not check_password(account, password):
            srv.limiter.failed(name, address)
            return again("sign_in_failed", 401)
        srv.limiter.succeeded(name, address)
        sid, _ = start_session(store, account)
        response = RedirectResponse("/web/cases", status_code=303)
        response.set_cookie(COOKIE, sid, httponly=True, secure=srv.config.secure_cookies, samesite="strict",
                            path="/", max_age=8 * 3600)
        return response

    def _end(request: Request, response: Response) -> Response:
        sid = request.cookies.get(COOKIE)
        if sid:
            end_session(srv.stores.get(), sid)
        response.delete_cookie(COOKIE, path="/", secure=srv.config.secure_cookies, httponly=True,
                               samesite="strict")
        return response

    @router.post("/web/signout")
    async def signout(request: Request) -> Response:
        def out(w: W) -> Response:
            return _end(request, RedirectResponse("/web/signin?out=1", status_code=303))

        return await post(request, out)

    @router.get("/web/exit")
    def quick_exit(request: Request) -> Response:
        """The neutral page; it also ends the session, so nothing of a case is one Back away."""
        response = web.page(request, lang_of(request), "neutral.html.j2", title=t("neutral_title", lang_of(request)))
        response.headers["Clear-Site-Data"] = '"cache"'
        return _end(request, response)

    @router.get("/web/cases")
    async def cases(request: Request) -> Response:
        return await get(request, lambda w: _cases(web, w))

    @router.post("/web/cases")
    async def new_case(request: Request) -> Response:
        return await post(request, lambda w: _new_case(web, w))

    flow_routes(router, web, get, post, group_page)
    group_routes(router, web, get, post)
    end_routes(router, web, get, post)
    return router


def _cases(web: Web, w: W, *, error: str = "", ref: str = "", status: int = 200) -> Response:
    _access.require(w.store, w.request, w.who, "cases:read", "list cases")
    if w.who.team is None:
        return web.message(w.request, w.lang, "no_team", 403, w.who)
    with w.store.acting_as(w.who.name):
        found = list(w.store.list_assessments(team=w.who.team))
        _access.log(w.store, w.request, w.who, f"list {len(found)} cases", None, allowed=True)
    found.sort(key=lambda i: i.updated_at, reverse=True)
    found.sort(key=lambda i: i.status != "draft")
    titles = {i: ci.instrument.title.get(w.lang) for i, ci in web.instruments().items()}
    rows = [{"id": i.id, "ref": i.case_ref, "instrument": titles.get(i.instrument_id, i.instrument_id),
             "draft": i.status == "draft", "updated": i.updated_at[:16].replace("T", " ")} for i in found]
    choices = sorted(titles.items(), key=lambda kv: kv[1])
    return web.page(w.request, w.lang, "cases.html.j2", who=w.who, status=status, title=w.tr("cases"), rows=rows,
                    instruments=choices, error=error, ref=ref, may_write=w.who.may("cases:write"))


def _new_case(web: Web, w: W) -> Response:
    from ..engine.pnr import looks_like_personnummer
    from ..store.values import check_case_ref

    _access.require(w.store, w.request, w.who, "cases:write", "start an assessment")
    if w.who.team is None:
        return web.message(w.request, w.lang, "no_team", 403, w.who)
    ref = w.form.get("case_ref", "").strip()[:200]
    if ref and looks_like_personnummer(ref):
        return _cases(web, w, error=w.tr("ref_pnr"), status=422)  # never echoed back into the field
    if ref:
        try:
            check_case_ref(ref)
        except StoreError:
            return _cases(web, w, error=w.tr("ref_bad"), ref=ref, status=422)
    ci = web.srv.content.instrument(w.form.get("instrument", "")[:100])
    path = next((p for i, v, p in web.srv.content.listing() if i == ci.instrument.id
                 and v == ci.instrument.version), None)
    with w.store.acting_as(w.who.name):
        info = w.store.create_assessment(ci, case_ref=ref or None, assessor=w.who.name, lang=w.lang,
                                         instrument_path=path, team=w.who.team)
        _access.log(w.store, w.request, w.who, "start an assessment", info.id, allowed=True)
    return RedirectResponse(f"/web/cases/{info.id}", status_code=303)
