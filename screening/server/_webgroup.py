"""Repeating groups on the web (perpetrators, people at risk, the incident calendar): rows added, changed, deleted.

May import: engine, interview (``Session``), _webflow, _webforms / fastapi, stdlib.

As in the terminal, every saved row is committed at once and the group stays
*partial* until the caseworker says the list is complete, so a closed tab loses at
most the row being typed. A group that was complete stays complete when a row is
changed from the summary. Every row form and delete button carries the tag of the
list it was made from: a stale one (another tab, Back, a double click) changes
nothing, so a delete never hits a row that moved, and a re-sent new row is not added
twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..engine.instrument import Item
from ._webflow import Case, Get, open_case, previous, url_of
from ._webforms import OMIT, W, describe, field_view, parse_field, state_tag

if TYPE_CHECKING:
    from ._web import Web

__all__ = ["group_page", "group_routes"]


def group_routes(router: APIRouter, web: Web, get: Get, post: Get) -> None:
    @router.get("/web/cases/{aid}/q/{item_id}/row/{n}")
    async def row_get(request: Request, aid: str, item_id: str, n: int) -> Response:
        return await get(request, lambda w: _row(web, w, aid, item_id, n))

    @router.post("/web/cases/{aid}/q/{item_id}/row/{n}")
    async def row_post(request: Request, aid: str, item_id: str, n: int) -> Response:
        return await post(request, lambda w: _row(web, w, aid, item_id, n))

    @router.post("/web/cases/{aid}/q/{item_id}/row/{n}/delete")
    async def row_delete(request: Request, aid: str, item_id: str, n: int) -> Response:
        return await post(request, lambda w: _delete(web, w, aid, item_id, n))


def _rows(case: Case, item: Item) -> list[dict[str, Any]]:
    stored = case.s.answers.get(item.id)
    return [dict(r) for r in stored] if isinstance(stored, list) else []


def _partial(case: Case, item: Item) -> bool:
    """Keep a complete group complete (a change from the summary); otherwise still being answered."""
    return not (item.id in case.s.answers and item.id not in case.s.partial)


def _open(web: Web, w: W, aid: str, item_id: str, what: str) -> tuple[Case, Item] | Response:
    case = open_case(web, w, aid, write=w.request.method == "POST", what=f"{what} {item_id[:40]}")
    if case.info.status != "draft":
        return RedirectResponse(f"{case.base}/result", status_code=303)
    item = case.s.ci.items.get(item_id)
    if item is None or item.type != "group":
        return web.message(w.request, w.lang, "not_found", 404, w.who)
    return case, item


def group_page(web: Web, w: W, case: Case, item: Item, *, notice: str = "", status: int = 200) -> Response:
    """The rows so far with change and delete, "add a row", and how to finish the list (GET and POST)."""
    s = case.s
    ret = (w.form.get("ret") if w.request.method == "POST" else w.request.query_params.get("ret")) == "summary"
    if w.request.method == "POST" and not notice:
        action = w.form.get("action", "")
        rows = _rows(case, item)
        value: object = rows if action == "done" else [] if action == "none" else None
        if action not in ("done", "none", "unknown") or (action == "none" and rows):
            return web.message(w.request, w.lang, "choose_one", 422, w.who)
        if w.form.get("seen", "") != state_tag(s, item.id) and action != "done":
            notice, status = w.tr("stale_row"), 409
        else:
            total = len(s.visible)
            with w.store.acting_as(w.who.name):
                s.record(item.id, value)
            target = f"{case.base}/summary" if ret else url_of(case, after=item.id)
            sep = "&" if "?" in target else "?"
            return RedirectResponse(f"{target}{sep}saved={item.id}&was={total}", status_code=303)
    q = w.request.query_params
    if not notice and q.get("row_saved", "").isdigit():
        notice = w.tr("row_saved", n=q["row_saved"])
    if not notice and q.get("row_deleted", "").isdigit():
        notice = w.tr("row_deleted", n=q["row_deleted"])
    rows = _rows(case, item)
    fields = item.fields or []
    shown = [{"n": n, "cells": [{"label": f.text.get(w.lang), "value": describe(s, f, r[f.id], w.lang)
                                 if f.id in r else "—"} for f in fields]} for n, r in enumerate(rows, 1)]
    position = s.visible.index(item.id) + 1 if item.id in s.visible else len(s.visible)
    return web.page(w.request, w.lang, "group.html.j2", who=w.who, status=status, title=item.text.get(w.lang),
                    label=item.text.get(w.lang), help=item.help.get(w.lang) if item.help else "",
                    progress=w.tr("progress", n=position, total=len(s.visible)), rows=shown,
                    can_add=len(rows) < item.max_rows, item_id=item.id, seen=state_tag(s, item.id),
                    notice=notice, notice_role="alert" if status == 409 else "status", ret="summary" if ret else "",
                    current=w.tr("current_answer", answer=describe(s, item, s.answers[item.id], w.lang))
                    if item.id in s.answers and item.id not in s.partial else "",
                    previous=previous(case, item.id), **case.common(w))


def _row(web: Web, w: W, aid: str, item_id: str, n: int) -> Response:
    opened = _open(web, w, aid, item_id, "change a row of" if n else "add a row to")
    if isinstance(opened, Response):
        return opened
    case, item = opened
    s = case.s
    rows = _rows(case, item)
    ret = "?ret=summary" if (w.form.get("ret") or w.request.query_params.get("ret")) == "summary" else ""
    if not 0 <= n <= len(rows) or (n == 0 and len(rows) >= item.max_rows):
        return RedirectResponse(f"{case.base}/q/{item.id}{ret}", status_code=303)
    fields = item.fields or []
    base_row = rows[n - 1] if n else {}
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    status = 200
    if w.request.method == "POST":
        row: dict[str, object] = {}
        for f in fields:
            value, error, entry = parse_field(s, f, w.form, f"f_{f.id}", w.lang)
            if error:
                errors[f.id], typed[f.id] = error, entry
            elif value is not OMIT:
                row[f.id] = value
            typed.setdefault(f.id, entry)
        if not errors:
            new = [*rows[: n - 1], row, *rows[n:]] if n else [*rows, row]
            if w.form.get("seen", "") != state_tag(s, item.id):
                if not n and rows and rows[-1] == row:  # the same new row sent twice: added once
                    return RedirectResponse(f"{case.base}/q/{item.id}{ret}", status_code=303)
                return group_page(web, _as_get(w), case, item, notice=w.tr("stale_row"), status=409)
            with w.store.acting_as(w.who.name):
                s.record(item.id, new, partial=_partial(case, item))
            sep = "&" if ret else "?"
            return RedirectResponse(f"{case.base}/q/{item.id}{ret}{sep}row_saved={n or len(new)}", status_code=303)
        status = 422
    views = [field_view(s, f, f"f_{f.id}", w.lang, current=base_row.get(f.id), has=f.id in base_row,
                        error=errors.get(f.id, ""), typed=typed.get(f.id, "")) for f in fields]
    errs = [{"id": v["id"], "label": v["label"], "error": v["error"]} for v in views if v["error"]]
    return web.page(w.request, w.lang, "row.html.j2", who=w.who, status=status,
                    title=f"{item.text.get(w.lang)} – {w.tr('row_n', n=n) if n else w.tr('new_row')}",
                    label=item.text.get(w.lang), heading=w.tr("row_n", n=n) if n else w.tr("new_row"),
                    fields=views, errors=errs, seen=state_tag(s, item.id), action=f"{case.base}/q/{item.id}/row/{n}",
                    back=f"{case.base}/q/{item.id}{ret}", ret="summary" if ret else "", **case.common(w))


def _delete(web: Web, w: W, aid: str, item_id: str, n: int) -> Response:
    opened = _open(web, w, aid, item_id, "delete a row of")
    if isinstance(opened, Response):
        return opened
    case, item = opened
    rows = _rows(case, item)
    ret = "?ret=summary" if w.form.get("ret") == "summary" else ""
    if w.form.get("seen", "") != state_tag(case.s, item.id) or not 1 <= n <= len(rows):
        return group_page(web, _as_get(w), case, item, notice=w.tr("stale_row"), status=409)
    with w.store.acting_as(w.who.name):
        case.s.record(item.id, [*rows[: n - 1], *rows[n:]], partial=_partial(case, item))
    sep = "&" if ret else "?"
    return RedirectResponse(f"{case.base}/q/{item.id}{ret}{sep}row_deleted={n}", status_code=303)


def _as_get(w: W) -> W:
    """The same request shown as a page (its form not acted on again)."""
    return W(w.request, w.lang, w.who, w.store, {})
