"""A team lead's dry-run re-score: what a new instrument version or rule set would change for the team's cases.

May import: batch, store, _access, _problems / fastapi, stdlib.

The re-scorer reads the whole store (the quality team's ``screening rescore``);
over HTTP a team lead sees the store-wide counts (numbers only) and the listed
changes of their own team's cases only — another team's pseudonyms never leave
the server. Nothing is stored: applying stays the quality team's ``rescore
--apply`` on the server's machine, after the team leads have reviewed this diff.
"""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import Principal
from ..store import store_location
from . import _access

if TYPE_CHECKING:
    from ._app import Server

__all__ = ["rescore_router"]


class RescoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    instrument: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    to: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    rules: Literal["default", "none"] = "default"


def rescore_router(srv: "Server") -> APIRouter:
    router = APIRouter(tags=["re-scoring"])

    @router.post("/api/rescore/dry-run")
    def dry_run(request: Request, who: Annotated[Principal, Depends(srv.who)], body: RescoreRequest) \
            -> dict[str, Any]:
        """Re-score every completed assessment in memory; the diff (the team's cases listed), nothing stored."""
        from ..batch._run import RunConfig, run_store

        store = srv.stores.get()
        _access.require(store, request, who, "rescore", "re-score (dry run)")
        if body.to is not None and body.instrument is None:
            from ._problems import Problem

            raise Problem("request-invalid", "to: needs instrument")
        rules = srv.content.rules
        config = RunConfig(instrument=body.instrument, to=body.to,
                           rules=rules.ruleset.id if rules is not None and body.rules == "default" else None,
                           home=None if srv.config.home is None else str(srv.config.home),
                           filters={"instrument": body.instrument})
        summary = run_store(store_location(srv.config.store), config, apply=False)
        diff = summary.diff
        own = {info.id for info in store.list_assessments(team=who.team)} if who.team else set()
        diff["changed"] = {kind: [e for e in entries if e.get("id") in own]
                           for kind, entries in diff["changed"].items()}
        diff["failed"] = [e for e in diff["failed"] if e.get("id") in own]
        diff["listed"] = sum(len(v) for v in diff["changed"].values())
        diff["scope"] = {"counts": "store", "listed": f"team {who.team}"}
        _access.log(store, request, who, f"re-score dry run listing {diff['listed']} cases", None, allowed=True)
        return diff

    return router
