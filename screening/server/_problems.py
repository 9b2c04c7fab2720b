"""Errors as RFC 9457 problem details (``application/problem+json``), never a traceback.

May import: errors, report / starlette, fastapi, stdlib.

Every error a client can get has a stable ``type`` (``urn:screening:problem:<kind>``,
listed in ``KINDS`` and in docs/server.md), a title in the language the client
asked for (``Accept-Language``: Swedish first, English otherwise), and a ``detail``
that is the same located message the CLI prints (the item id and allowed values,
``file:line:col``), built by the library's exceptions, which never carry an
answer's content. Unexpected exceptions become a plain 500 with a request number;
the log line names the exception's type and that number, nothing else.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from ..engine.pnr import looks_like_personnummer
from ..errors import AnswerError, AssessmentLocked, JudgementError, ScreeningError, SpecError, StoreError

__all__ = ["KINDS", "Problem", "install", "problem_response", "safe_id"]

_log = logging.getLogger("screening.server")
_numbers = itertools.count(1)

#: kind → (HTTP status, Swedish title, English title)
KINDS: dict[str, tuple[int, str, str]] = {
    "unauthenticated": (401, "Inloggning krävs", "Sign-in required"),
    "csrf-failed": (403, "Formuläret kom inte från den här sidan", "The request did not come from this site"),
    "forbidden": (403, "Din roll får inte göra detta", "Your role may not do this"),
    "not-found": (404, "Finns inte, eller inte för ditt team", "Not found, or not your team's"),
    "method-not-allowed": (405, "Metoden stöds inte här", "Method not allowed here"),
    "draft-locked": (409, "Utkastet är öppet någon annanstans", "The draft is open elsewhere"),
    "store-refused": (409, "Ärendelagret sparade inget", "The case store saved nothing"),
    "too-large": (413, "Begäran är för stor", "The request is too large"),
    "unsupported-media-type": (415, "Fel innehållstyp", "Unsupported content type"),
    "request-invalid": (422, "Begäran är inte giltig", "The request is not valid"),
    "answer-invalid": (422, "Svaret passar inte frågan", "The answer does not fit the item"),
    "judgement-refused": (422, "Bedömningen godtas inte", "The judgement is refused"),
    "instrument-invalid": (422, "Instrumentet är inte giltigt", "The instrument is not valid"),
    "report-invalid": (422, "Rapporten kan inte göras", "The report cannot be made"),
    "too-many-attempts": (429, "För många försök; vänta en stund", "Too many attempts; wait a while"),
    "internal": (500, "Ett fel i servern; inget visas om det", "A server error; nothing about it is shown"),
}
_STATUS_KIND = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                413: "too-large", 415: "unsupported-media-type", 422: "request-invalid", 429: "too-many-attempts"}


class Problem(Exception):
    """Raised by the server's own code: a kind, a detail and extra members (never personal data)."""

    def __init__(self, kind: str, detail: str = "", *, headers: Mapping[str, str] | None = None,
                 **extra: object) -> None:
        super().__init__(kind)
        self.kind, self.detail, self.extra, self.headers = kind, detail, extra, dict(headers or {})


def _swedish(request: Request) -> bool:
    accept = request.headers.get("accept-language", "sv")
    first = accept.split(",")[0].strip().lower()
    return first.startswith("sv") or first in ("", "*")


def problem_response(request: Request, kind: str, detail: str = "", *,
                     headers: Mapping[str, str] | None = None, **extra: object) -> JSONResponse:
    status, sv, en = KINDS[kind]
    body: dict[str, object] = {"type": f"urn:screening:problem:{kind}", "title": sv if _swedish(request) else en,
                               "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers={"Cache-Control": "no-store", **(headers or {})})


def _from_library(request: Request, exc: ScreeningError) -> JSONResponse:
    if isinstance(exc, AnswerError):
        return problem_response(request, "answer-invalid", str(exc), item_id=exc.item_id,
                                allowed=list(exc.allowed or ()))
    if isinstance(exc, JudgementError):
        return problem_response(request, "judgement-refused", str(exc))
    if isinstance(exc, SpecError):
        issues = [{"file": i.source, "line": i.line, "column": i.column, "where": i.loc, "message": i.message}
                  for i in exc.issues]
        return problem_response(request, "instrument-invalid", str(exc), issues=issues)
    if isinstance(exc, AssessmentLocked):
        return problem_response(request, "draft-locked", str(exc))
    if isinstance(exc, StoreError):
        return problem_response(request, "store-refused", str(exc))
    from ..report import ReportError

    if isinstance(exc, ReportError):
        return problem_response(request, "report-invalid", str(exc))
    return problem_response(request, "request-invalid", str(exc))


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def safe_id(text: str, instead: str = "(a key that is not a field)") -> str:
    """An id the client sent, as an error may show it: echoed only when it is shaped like an id.

    The keys of an unknown field (or of an answers or facts mapping) and the ids in a
    URL are the client's text, which may be a name or a personnummer; the same
    words as the engine uses for an answer key that is not an item id.
    """
    return text if _NAME.fullmatch(text) and not looks_like_personnummer(text) else instead


def _safe_loc(part: object) -> str:
    return str(part) if isinstance(part, int) else safe_id(str(part))


def install(app: FastAPI) -> None:
    """Turn every exception the app can meet into a problem response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc.kind, exc.detail, headers=exc.headers, **exc.extra)

    async def on_library(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ScreeningError)
        return _from_library(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Where and what, never the input: a body holds answers.
        errors = [{"loc": [_safe_loc(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": ""}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1
                                                                 else "")
        return problem_response(request, "request-invalid", detail, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = _STATUS_KIND.get(exc.status_code, "request-invalid")
        return problem_response(request, kind, headers=exc.headers)

    async def on_any(request: Request, exc: Exception) -> JSONResponse:
        number = next(_numbers)
        _log.error("request %d failed: %s", number, type(exc).__name__)
        return problem_response(request, "internal", f"request {number}")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(ScreeningError, on_library)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_any)
