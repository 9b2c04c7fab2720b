"""The case endpoints: start, answer one item at a time, facts, judge, complete, correct, read, report, delete.

May import: api, assessment, interview (``Session``), report, store, _access, _content, _models,
_problems, _stateless / fastapi, stdlib.

Each write is the store's own transaction, committed before the reply (as in the
terminal interview), so a 2xx means the answer is on disk; a client that lost the
reply may send it again and gets the same state (an answer is a value per item,
not an event). Every request first passes ``_access.case`` (permission, team, the
access record). The draft is refused (409) while a terminal interview or another
process holds it, exactly as a second terminal would be.
"""


from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from ..accounts import Principal
from ..api import judgement_input
from ..assessment import assess
from ..engine.instrument import JudgementInput
from ..engine.result import Result
from ..interview import Session
from ..store import AssessmentInfo, Store
from ..store.values import now
from . import _access
from ._models import AnswerBody, FactBody, JudgementBody, NewCase
from ._problems import Problem, safe_id
from ._stateless import report_response, result_response

if TYPE_CHECKING:
    from ._app import Server

__all__ = ["case_view", "cases_router"]

_Status = Literal["draft", "completed"]
#: A revision number as a client may ask for one: bounded, so it fits SQLite's integer (a bigger one was a
#: 500) and never has the ten or twelve digits the audit trail refuses as a personnummer (a 409).
_Revision = Annotated[int | None, Query(ge=1, le=99_999)]


def _info(info: AssessmentInfo) -> dict[str, Any]:
    return {"id": info.id, "case_ref": info.case_ref, "instrument": info.instrument_id,
            "version": info.instrument_version, "sha256": info.instrument_sha256, "lang": info.lang,
            "status": info.status, "revision": info.revision, "created_at": info.created_at,
            "updated_at": info.updated_at, "completed_at": info.completed_at}


def case_view(srv: "Server", store: Store, info: AssessmentInfo) -> dict[str, Any]:
    """The case's metadata and progress: which items are shown, answered, next; the facts still open."""
    session = Session(store, srv.content.pinned(info), info.id)
    facts_open: list[str] = []
    if srv.content.rules is not None:
        from ..interview._facts import facts_to_ask

        facts_open = [n for n in facts_to_ask(session.ci, srv.content.rules) if n not in session.facts]
    current = session.current()
    return {**_info(info), "progress": {
        "shown": list(session.visible), "answered": [k for k in session.visible if k in session.answers
                                                     and k not in session.partial],
        "next": None if current is None else current.id, "facts_to_ask": facts_open}}


def cases_router(srv: "Server") -> APIRouter:  # noqa: C901 - one closure per endpoint
    router = APIRouter(tags=["cases"])
    Who = Annotated[Principal, Depends(srv.who)]

    def open_case(request: Request, who: Principal, permission: str, aid: str, what: str) \
            -> tuple[Store, AssessmentInfo]:
        store = srv.stores.get()
        return store, _access.case(store, request, who, permission, aid, what)

    def session_of(store: Store, info: AssessmentInfo) -> Session:
        return Session(store, srv.content.pinned(info), info.id)

    @router.get("/api/cases")
    def list_cases(request: Request, who: Who, status: Annotated[_Status | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
        """The team's assessments, drafts first, newest first within each; ``limit`` at a time from ``offset``."""
        store = srv.stores.get()
        _access.require(store, request, who, "cases:read", "list cases")
        if who.team is None:
            return []
        with store.acting_as(who.name):
            found = list(store.list_assessments(team=who.team, status=status))
            shown = max(0, min(limit, len(found) - offset))
            _access.log(store, request, who, f"list {shown} cases", None, allowed=True)
        drafts = sorted((i for i in found if i.status == "draft"), key=lambda i: i.created_at, reverse=True)
        done = sorted((i for i in found if i.status != "draft"), key=lambda i: i.created_at, reverse=True)
        return [_info(i) for i in (*drafts, *done)[offset:offset + limit]]

    @router.post("/api/cases", status_code=201)
    def create(request: Request, who: Who, body: NewCase) -> JSONResponse:
        """Start an assessment for a case pseudonym (a personnummer is refused) in the signed-in team."""
        store = srv.stores.get()
        _access.require(store, request, who, "cases:write", "start an assessment")
        if who.team is None:
            raise Problem("forbidden", "the account belongs to no team")
        ci = srv.content.instrument(body.instrument, body.version)
        path = next((p for i, v, p in srv.content.listing() if i == ci.instrument.id
                     and v == ci.instrument.version), None)
        with store.acting_as(who.name):
            info = store.create_assessment(ci, case_ref=body.case_ref, assessor=who.name, lang=body.lang,
                                           instrument_path=path, team=who.team)
            _access.log(store, request, who, "start an assessment", info.id, allowed=True)
            return JSONResponse(case_view(srv, store, info), status_code=201,
                                headers={"Location": f"/api/cases/{info.id}"})

    @router.get("/api/cases/{aid}")
    def show(request: Request, who: Who, aid: str) -> dict[str, Any]:
        store, info = open_case(request, who, "cases:read", aid, "read the case")
        with store.acting_as(who.name):
            return case_view(srv, store, info)

    @router.get("/api/cases/{aid}/answers")
    def answers(request: Request, who: Who, aid: str,
                revision: _Revision = None) -> dict[str, Any]:
        """The answers and case facts of a revision (default: the current one); unknown is ``null``."""
        store, _ = open_case(request, who, "cases:read", aid, "read the answers")
        with store.acting_as(who.name):
            rows = store.answer_rows(aid, revision)
            facts = store.facts(aid, revision)
        return {"answers": {k: v for k, (v, _) in rows.items()},
                "partial": sorted(k for k, (_, p) in rows.items() if p), "facts": facts}

    @router.put("/api/cases/{aid}/answers/{item_id}")
    def answer(request: Request, who: Who, aid: str, item_id: str, body: AnswerBody) -> dict[str, Any]:
        """Answer one item; committed before the reply. ``null`` (or the scale's unknown option) is unknown."""
        store, info = open_case(request, who, "cases:write", aid, f"answer {item_id[:40]}")
        with store.acting_as(who.name):
            session = session_of(store, info)
            if item_id not in session.ci.items:
                raise Problem("not-found", f"the instrument has no item {safe_id(item_id, '(that id)')!r}")
            session.record(item_id, body.value, partial=body.partial)
            return case_view(srv, store, store.get(aid))

    @router.put("/api/cases/{aid}/facts/{name}")
    def fact(request: Request, who: Who, aid: str, name: str, body: FactBody) -> dict[str, Any]:
        """Set a case fact the rule set declares (``null``: asked, not known)."""
        store, info = open_case(request, who, "cases:write", aid, f"set fact {name[:40]}")
        rules = srv.content.rules
        if rules is None or name not in rules.ruleset.facts:
            raise Problem("not-found", f"the rule set declares no case fact {safe_id(name, '(that name)')!r}")
        with store.acting_as(who.name):
            session_of(store, info).record_fact(rules, name, body.value)
            return case_view(srv, store, info)

    @router.put("/api/cases/{aid}/judgement")
    def judge(request: Request, who: Who, aid: str, body: JudgementBody) -> dict[str, Any]:
        """Record the professional judgement (level, rationale, acknowledgements); checked against the policy."""
        store, info = open_case(request, who, "cases:write", aid, "record the judgement")
        with store.acting_as(who.name):
            session = session_of(store, info)
            judgement = judgement_input(session.ci, body.level, body.rationale, lang=info.lang,
                                        acknowledged=body.acknowledged)
            _assess(srv, session, judgement, who)  # refused here (422) if the policy does not allow it
            store.set_judgement(aid, judgement)
            return case_view(srv, store, info)

    @router.delete("/api/cases/{aid}/judgement", status_code=204)
    def clear_judgement(request: Request, who: Who, aid: str) -> Response:
        store, _ = open_case(request, who, "cases:write", aid, "clear the judgement")
        with store.acting_as(who.name):
            store.set_judgement(aid, None)
        return Response(status_code=204)

    @router.post("/api/cases/{aid}/complete", response_model=None)
    def complete(request: Request, who: Who, aid: str) -> Response:
        """Score the draft and freeze it, storing the result in the same transaction; returns the result."""
        store, info = open_case(request, who, "cases:write", aid, "complete the assessment")
        with store.acting_as(who.name):
            session = session_of(store, info)
            result = _assess(srv, session, store.judgement(aid), who)
            store.complete(aid, result=result)
        return result_response(result)

    @router.post("/api/cases/{aid}/corrections", status_code=201)
    def correct(request: Request, who: Who, aid: str) -> dict[str, Any]:
        """Start a correction: a new draft revision with the old answers; the completed one is kept."""
        store, _ = open_case(request, who, "cases:write", aid, "start a correction")
        with store.acting_as(who.name):
            store.correct(aid)
            return case_view(srv, store, store.get(aid))

    @router.get("/api/cases/{aid}/result", response_model=None)
    def result(request: Request, who: Who, aid: str, revision: _Revision = None) \
            -> Response:
        """The stored result of a completed revision (default: the current one)."""
        store, _ = open_case(request, who, "cases:read", aid, "read the result")
        with store.acting_as(who.name):
            stored = store.results(aid, revision)
        if not stored:
            raise Problem("not-found", "the revision has no stored result (complete it first)")
        return result_response(stored[-1][1])

    @router.get("/api/cases/{aid}/report", response_model=None)
    def report(request: Request, who: Who, aid: str,
               format: Annotated[Literal["html", "md", "txt"], Query()] = "html",
               lang: Annotated[Literal["sv", "en"], Query()] = "sv",
               profile: Annotated[Literal["case-file", "referral"], Query()] = "case-file",
               revision: _Revision = None) -> Response:
        """The case-file or referral report of the stored result, with the pinned instrument; audited."""
        from ..report import CaseInfo, render_report

        store, info = open_case(request, who, "report", aid, f"report {profile} {format}")
        with store.acting_as(who.name):
            stored = store.results(aid, revision)
            if not stored:
                raise Problem("not-found", "the revision has no stored result (complete it first)")
            res = stored[-1][1]
            store.audit("report", aid, detail=f"{profile} {format}, revision {revision or info.revision}")
            case = CaseInfo(reference=info.case_ref, assessor=info.assessor, assessed_at=res.assessed_at
                            or info.completed_at, protected_identity=False, audit_checkpoint=str(store.checkpoint()))
        text = render_report(res, instrument=srv.content.pinned(info), fmt=format, lang=lang, profile=profile,
                             case=case)
        return report_response(text, format)

    @router.delete("/api/cases/{aid}", status_code=204)
    def delete(request: Request, who: Who, aid: str) -> Response:
        """Delete the assessment and everything of it but its (pseudonymous) audit records, as the CLI does."""
        store, _ = open_case(request, who, "cases:delete", aid, "delete the case")
        with store.acting_as(who.name):
            # Not compacted here (VACUUM would stall every other request); the values are sealed, and
            # `screening cases delete`/`scrub` on the server's machine compacts the file.
            store.delete_assessment(aid, compact=False)
        return Response(status_code=204)

    return router


def _assess(srv: "Server", session: Session, judgement: JudgementInput | None, who: Principal) -> Result:
    """The result of the draft as it stands, timed now (the engine reads no clock)."""
    return assess(session.ci, session.applicable(), judgement=judgement, assessor=who.name, assessed_at=now(),
                  rules=srv.content.rules, facts=session.known_facts(srv.content.rules))
