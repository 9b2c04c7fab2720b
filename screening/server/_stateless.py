"""Endpoints that touch no case: instruments and the rule set, scoring, validation, reports.

May import: api, assessment, content, engine, fhir, report, _access, _app's ``Server`` (typing only),
_models, _problems / fastapi, stdlib.

The same functions the CLI's ``score``, ``validate`` and ``report`` call, so an
answer set gives the same result here as on a laptop. Scoring stores nothing and
reads no case, so it writes no audit record; the permission is still checked.
"""


from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from ..accounts import Principal
from ..api import judgement_input
from ..assessment import assess
from ..engine.result import Result
from ..engine.scoring import CompiledInstrument
from ..errors import SpecError
from . import _access
from ._models import ReportRequest, ScoreRequest, ValidateRequest
from ._problems import Problem

if TYPE_CHECKING:
    from ._app import Server

__all__ = ["REPORT_CSP", "REPORT_TYPES", "result_response", "stateless_router"]

REPORT_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                "txt": "text/plain; charset=utf-8"}
#: A report is self-contained: its own inline style, nothing loaded, nothing run.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
_FHIR_JSON = "application/fhir+json"


def result_response(result: Result, status: int = 200) -> Response:
    return Response(result.to_json(), status_code=status, media_type="application/json")


def report_response(text: str, fmt: str) -> Response:
    headers = {"Content-Security-Policy": REPORT_CSP} if fmt == "html" else {}
    return Response(text, media_type=REPORT_TYPES[fmt], headers=headers)


def _describe(ci: CompiledInstrument) -> dict[str, Any]:
    inst = ci.instrument
    return {"id": inst.id, "version": inst.version, "sha256": ci.sha256,
            "title": {"sv": inst.title.get("sv"), "en": inst.title.get("en")}}


def stateless_router(srv: "Server") -> APIRouter:
    router = APIRouter(tags=["instruments and scoring"])
    Who = Annotated[Principal, Depends(srv.who)]

    def allow(request: Request, who: Principal, permission: str, what: str) -> None:
        _access.require(srv.stores.get(), request, who, permission, what)

    @router.get("/api/instruments")
    def instruments(request: Request, who: Who) -> list[dict[str, Any]]:
        """Every installed instrument version: id, version, content hash and title in both languages."""
        allow(request, who, "instruments:read", "list instruments")
        return [_describe(srv.content.instrument(i, v)) for i, v, _ in srv.content.listing()]

    @router.get("/api/instruments/{instrument_id}", response_model=None)
    def instrument(request: Request, who: Who, instrument_id: str,
                   version: Annotated[str | None, Query(max_length=40)] = None,
                   format: Annotated[Literal["json", "fhir"], Query()] = "json",
                   lang: Annotated[Literal["sv", "en"], Query()] = "sv") -> Response:
        """An instrument as our JSON, or as a FHIR R4 ``Questionnaire`` (``format=fhir``, SDC weights)."""
        allow(request, who, "instruments:read", "read an instrument")
        ci = srv.content.instrument(instrument_id, version)
        if format == "fhir":
            from ..fhir import questionnaire

            return JSONResponse(questionnaire(ci, lang=lang), media_type=_FHIR_JSON)
        return JSONResponse({**_describe(ci), "instrument": ci.instrument.model_dump(mode="json")})

    @router.get("/api/rulesets")
    def rulesets(request: Request, who: Who) -> list[dict[str, Any]]:
        """The rule set this server recommends referrals with (none when started with ``--rules none``)."""
        allow(request, who, "instruments:read", "list rule sets")
        rules = srv.content.rules
        if rules is None:
            return []
        return [{"id": rules.ruleset.id, "version": rules.ruleset.version, "sha256": rules.sha256,
                 "catalogue": rules.catalogue.id}]

    @router.get("/api/rulesets/{ruleset_id}")
    def ruleset(request: Request, who: Who, ruleset_id: str) -> dict[str, Any]:
        allow(request, who, "instruments:read", "read a rule set")
        rules = srv.content.rules
        if rules is None or rules.ruleset.id != ruleset_id:
            raise Problem("not-found", "no such rule set on this server")
        return {"id": rules.ruleset.id, "version": rules.ruleset.version, "sha256": rules.sha256,
                "ruleset": rules.ruleset.model_dump(mode="json")}

    @router.post("/api/score", response_model=None)
    def score(request: Request, who: Who, body: ScoreRequest) -> Response:
        """Score an answer set: the full result (level, explanation, referrals). Nothing is stored."""
        allow(request, who, "score", "score answers")
        ci = srv.content.instrument(body.instrument, body.version)
        judgement = None
        if body.judgement is not None:
            j = body.judgement
            judgement = judgement_input(ci, j.level, j.rationale, lang=body.lang, acknowledged=j.acknowledged)
        rules = srv.content.rules if body.rules == "default" else None
        return result_response(assess(ci, body.answers, judgement=judgement, rules=rules,
                                      facts=body.facts or None))

    @router.post("/api/score/fhir", response_model=None)
    def score_fhir(request: Request, who: Who, response: Annotated[dict[str, Any], Body()],
                   rules: Annotated[Literal["default", "none"], Query()] = "default") -> Response:
        """Score a FHIR ``QuestionnaireResponse`` to one of our instruments (its ``questionnaire`` names which).

        The ``Questionnaire`` to fill is ``GET /api/instruments/{id}?format=fhir``; its case-facts
        group, when answered, gives the rule set's facts.
        """
        from ..fhir import answers_from_response, facts_from_response, instrument_ref

        allow(request, who, "score", "score answers")
        ref, version = instrument_ref(response)
        ci = srv.content.instrument(ref, version)
        answers = answers_from_response(ci, response)
        ruleset = srv.content.rules if rules == "default" else None
        facts = facts_from_response(ci, ruleset, response) if ruleset is not None else None
        return result_response(assess(ci, answers, rules=ruleset, facts=facts or None))

    @router.post("/api/validate")
    def validate(request: Request, who: Who, body: ValidateRequest) -> dict[str, Any]:
        """Check an instrument's YAML: ``valid``, or every issue with its ``file:line:col``."""
        from ..content.loader import parse_instrument

        allow(request, who, "validate", "validate an instrument")
        try:
            ci = parse_instrument(body.yaml, body.name)
        except SpecError as exc:
            return {"valid": False, "issues": [
                {"file": i.source, "line": i.line, "column": i.column, "where": i.loc, "message": i.message,
                 "text": str(i)} for i in exc.issues]}
        return {"valid": True, "issues": [], "instrument": _describe(ci)}

    @router.post("/api/report", response_model=None)
    def report(request: Request, who: Who, body: ReportRequest) -> Response:
        """Render a result (as ``/api/score`` returned it) as a report: HTML (prints on A4), Markdown or text."""
        from pydantic import ValidationError

        from ..report import render_report

        allow(request, who, "report", "render a report")
        try:
            result = Result.model_validate(body.result)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(result)"
            raise Problem("request-invalid", f"result.{where}: {first['msg']}") from None
        ci = srv.content.instrument(result.instrument.id, result.instrument.version)
        text = render_report(result, instrument=ci, fmt=body.format, lang=body.lang, profile=body.profile)
        return report_response(text, body.format)

    return router
