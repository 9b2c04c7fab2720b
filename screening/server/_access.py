"""Authorisation against the role's permissions and the case's team, and the access log.

May import: accounts, engine (``pnr``), store, errors, _problems, _auth / fastapi, stdlib.

Every request that touches a case goes through ``case``: it finds the case, checks
the permission and the team, and writes one "access" record to the audit trail —
who (the record's actor), role, team, what, from where, and ``allowed`` or
``refused`` — before anything else happens, so a refused request leaves its
record and changes nothing. Another team's case and a case that does not exist
look the same (404), so ids cannot be probed; a missing permission on one's own
team's case is a 403.
"""

from __future__ import annotations

import re

from fastapi import Request

from ..accounts import Principal
from ..engine.pnr import looks_like_personnummer
from ..errors import StoreError
from ..store import AssessmentInfo, Store
from ._auth import client_address
from ._problems import Problem

__all__ = ["case", "log", "require"]


def log(store: Store, request: Request, who: Principal, what: str, assessment_id: str | None, *,
        allowed: bool) -> None:
    """Write one "access" record (ids, role, team, action and address; never content).

    ``what`` may hold an id from the URL (an item or fact name), which is the
    client's text: control and format characters and anything shaped like a
    personnummer are masked, so the record is still written (the audit trail
    refuses such a detail, and with it the request — which then left no record).
    """
    what = "".join(c if c.isprintable() else "?" for c in what)
    if looks_like_personnummer(what):
        what = re.sub(r"[0-9]", "#", what)
    detail = f"{what} by {who.role} of {who.team or '-'} via {who.via} from {client_address(request)[:64]}"
    with store.acting_as(who.name):
        store.audit("access", assessment_id, detail=detail[:200], outcome="allowed" if allowed else "refused")


def require(store: Store, request: Request, who: Principal, permission: str, what: str) -> None:
    """Refuse (403) a request the role may not make; a refusal is logged."""
    if not who.may(permission):
        log(store, request, who, what, None, allowed=False)
        raise Problem("forbidden", f"the role {who.role} may not {what}")


def case(store: Store, request: Request, who: Principal, permission: str, assessment_id: str,
         what: str) -> AssessmentInfo:
    """The assessment, if ``who`` may do ``permission`` on it; logged either way.

    Raises:
        Problem: 404 (no such case, or another team's), 403 (the role may not).
    """
    info: AssessmentInfo | None = None
    team: str | None = None
    if len(assessment_id) == 32 and all(c in "0123456789abcdef" for c in assessment_id):
        try:
            info = store.get(assessment_id)
            team = store.case_team(assessment_id)
        except StoreError:
            info = None
    if info is None:
        log(store, request, who, what, None, allowed=False)
        raise Problem("not-found", "no such case for your team")
    if team is None or team != who.team:
        log(store, request, who, what, assessment_id, allowed=False)
        raise Problem("not-found", "no such case for your team")
    if not who.may(permission):
        log(store, request, who, what, assessment_id, allowed=False)
        raise Problem("forbidden", f"the role {who.role} may not {what}")
    log(store, request, who, what, assessment_id, allowed=True)
    return info


