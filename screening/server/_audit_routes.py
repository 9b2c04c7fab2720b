"""The auditor's endpoint: the access log of a case or of a person, and nothing else.

May import: store, _access, _problems / fastapi, stdlib.

An auditor follows up who opened which case (SoL and the data-protection rules
ask that access be limited and followed up). Reading the log is itself logged
(an "extract" record), so the auditors are audited too.
"""


from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ..accounts import Principal
from ..errors import StoreError
from ..store import check_case_ref
from ..store.audit import Event, accesses, record_many
from . import _access
from ._problems import Problem

if TYPE_CHECKING:
    from ._app import Server

__all__ = ["audit_router"]


def audit_router(srv: "Server") -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/api/audit/access")
    def access_log(request: Request, who: Annotated[Principal, Depends(srv.who)],
                   case: Annotated[str | None, Query(max_length=64)] = None,
                   user: Annotated[str | None, Query(max_length=64)] = None,
                   limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000) -> list[dict[str, Any]]:
        """Access records (who, role, team, what, when, from where, allowed or refused) for ``case`` and/or ``user``."""
        store = srv.stores.get()
        _access.require(store, request, who, "audit:read", "read the access log")
        if case is None and user is None:
            raise Problem("request-invalid", "give case=REF or user=NAME (or both)")
        if case is not None:
            try:
                check_case_ref(case)
            except StoreError as exc:  # a bad question, not a store that saved nothing (409)
                raise Problem("request-invalid", f"case: {exc.message}") from None
        records = accesses(store, case_ref=case, actor=user, limit=limit)
        with store.acting_as(who.name):
            record_many(store, [Event("extract", None, f"access log{' of a case' if case else ''}"
                                      f"{' of ' + user if user else ''}"[:200], "ok", case_ref=case)])
        return [{"seq": r.seq, "at": r.at, "actor": r.actor, "assessment": r.assessment, "case": r.case_ref,
                 "detail": r.detail, "outcome": r.outcome} for r in records]

    return router
