"""The web interview's questions: case facts first, then one question per page, repeating groups by row.

May import: engine, interview (``Session``, facts, dates, texts; never the terminal), report,
store, _access, _webforms, _webtexts / fastapi, stdlib.

The order and the skip logic are the terminal interview's own (``Session.visible``,
``facts_to_ask``: immediate danger first). Each form names the item it answers and
carries a tag of that item's stored answer as the page showed it (``seen``): a
POST whose tag no longer matches was made on a stale page (another tab, Back, a
double click) and changes nothing — except the exact same answer, which is
simply confirmed again — and the page says what happened. A draft held by a
terminal interview refuses every write (409), as a second terminal would be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..engine.instrument import Item
from ..interview._facts import DANGER_FACT, describe_fact, facts_to_ask
from ..interview._session import Session
from ..store import AssessmentInfo
from . import _access
from ._webforms import describe, fact_tag, fact_view, field_view, parse_fact, parse_field, state_tag

if TYPE_CHECKING:
    from ..referral import CompiledRuleSet
    from ._web import Web
    from ._webforms import W

__all__ = ["Case", "flow_routes", "open_case", "previous", "url_of"]


@dataclass
class Case:
    """One draft as a page sees it: the store's info, the session, the rules, the facts asked."""

    info: AssessmentInfo
    s: Session
    rules: CompiledRuleSet | None
    facts: list[str]

    @property
    def base(self) -> str:
        return f"/web/cases/{self.info.id}"

    @property
    def danger(self) -> bool:
        return self.s.facts.get(DANGER_FACT) is True

    def common(self, w: W) -> dict[str, Any]:
        """What every case page shows: the case, the instrument, and the 112 advice while danger is known."""
        inst = self.s.ci.instrument
        return {"case_ref": self.info.case_ref, "instrument_title": inst.title.get(w.lang), "base": self.base,
                "danger": w.tr("danger_advice") if self.danger else ""}


def open_case(web: Web, w: W, aid: str, *, write: bool, what: str) -> Case:
    """Authorise (and log) the access, then load the draft's session on its pinned instrument."""
    info = _access.case(w.store, w.request, w.who, "cases:write" if write else "cases:read", aid, what)
    ci = web.srv.content.pinned(info)
    rules = web.srv.content.rules
    return Case(info, Session(w.store, ci, aid), rules, facts_to_ask(ci, rules))


def url_of(case: Case, *, after: str | None = None) -> str:
    """Where the interview goes on: the first open fact, the next question after ``after``, or the summary."""
    open_facts = [n for n in case.facts if n not in case.s.facts]
    if open_facts:
        return f"{case.base}/facts/{open_facts[0]}"
    s = case.s
    if after is not None and after in s.order:
        later = [k for k in s.visible if s.order.index(k) > s.order.index(after)]
        if later:
            return f"{case.base}/q/{later[0]}"
    first = next_open(s)
    return f"{case.base}/q/{first}" if first is not None else f"{case.base}/summary"


def next_open(s: Session) -> str | None:
    """The first shown item without a final answer (the session's cursor is only right when it was made)."""
    point = s.resume_point()
    return None if point is None else s.order[point]


def previous(case: Case, item_id: str) -> str:
    s = case.s
    earlier = [k for k in s.visible if s.order.index(k) < s.order.index(item_id)] if item_id in s.order else []
    if earlier:
        return f"{case.base}/q/{earlier[-1]}"
    return f"{case.base}/facts/{case.facts[-1]}" if case.facts else ""


def _draft(case: Case) -> Response | None:
    if case.info.status != "draft":
        return RedirectResponse(f"{case.base}/result", status_code=303)
    return None


Get = Callable[..., Awaitable[Response]]
OnGroup = Callable[..., Response]


def flow_routes(router: APIRouter, web: Web, get: Get, post: Get, on_group: OnGroup) -> None:
    @router.get("/web/cases/{aid}")
    async def resume(request: Request, aid: str) -> Response:
        def page(w: W) -> Response:
            case = open_case(web, w, aid, write=False, what="read the case")
            if case.info.status != "draft":
                return RedirectResponse(f"{case.base}/result", status_code=303)
            return RedirectResponse(url_of(case), status_code=303)

        return await get(request, page)

    @router.get("/web/cases/{aid}/facts/{name}")
    async def fact_get(request: Request, aid: str, name: str) -> Response:
        return await get(request, lambda w: _fact(web, w, aid, name))

    @router.post("/web/cases/{aid}/facts/{name}")
    async def fact_post(request: Request, aid: str, name: str) -> Response:
        return await post(request, lambda w: _fact(web, w, aid, name))

    @router.get("/web/cases/{aid}/q/{item_id}")
    async def question_get(request: Request, aid: str, item_id: str) -> Response:
        return await get(request, lambda w: _question(web, w, aid, item_id, on_group))

    @router.post("/web/cases/{aid}/q/{item_id}")
    async def question_post(request: Request, aid: str, item_id: str) -> Response:
        return await post(request, lambda w: _question(web, w, aid, item_id, on_group))



def _fact(web: Web, w: W, aid: str, name: str) -> Response:
    posting = w.request.method == "POST"
    case = open_case(web, w, aid, write=posting, what=f"{'set' if posting else 'read'} fact {name[:40]}")
    if (moved := _draft(case)) is not None:
        return moved
    if case.rules is None or name not in case.facts:
        return web.message(w.request, w.lang, "not_found", 404, w.who)
    spec = case.rules.ruleset.facts[name]
    ret = (w.form.get("ret") if posting else w.request.query_params.get("ret")) == "summary"
    error, status, typed = "", 200, None
    if posting:
        value, error, typed = parse_fact(spec, w.form, w.lang)
        stale = w.form.get("seen", "") != fact_tag(case.s, name) and case.s.facts.get(name, _UNSET) != value
        if not error and stale:  # another tab set it meanwhile: nothing changed, said so
            status = 409
        elif not error:
            with w.store.acting_as(w.who.name):
                case.s.record_fact(case.rules, name, value)
            if ret:
                return RedirectResponse(f"{case.base}/summary", status_code=303)
            later = case.facts[case.facts.index(name) + 1:]
            target = f"{case.base}/facts/{later[0]}" if later else url_of(case)
            return RedirectResponse(target + f"?saved_fact={name}", status_code=303)
        else:
            status = 422
    n = case.facts.index(name) + 1
    current = case.s.facts.get(name, _UNSET)
    saved = w.request.query_params.get("saved_fact", "")
    notice = ""
    if status == 409:
        notice = w.tr("stale", answer=describe_fact(spec, current, w.lang) if current is not _UNSET
                      else w.tr("no_answer"))
    elif saved in case.facts and saved in case.s.facts:
        saved_spec = case.rules.ruleset.facts[saved]
        notice = w.tr("saved_answer", answer=describe_fact(saved_spec, case.s.facts[saved], w.lang))
    field = fact_view(spec, name, current if current is not _UNSET else None, current is not _UNSET, w.lang,
                      error=error, typed=typed)
    return web.page(w.request, w.lang, "fact.html.j2", who=w.who, status=status, title=field["label"],
                    progress=w.tr("fact_progress", n=n, total=len(case.facts)), intro=w.tr("facts_intro") if n == 1
                    else "", q=field, notice=notice, ret="summary" if ret else "", seen=fact_tag(case.s, name),
                    notice_role="alert" if status == 409 else "status",
                    previous=f"{case.base}/facts/{case.facts[n - 2]}" if n > 1 else "", **case.common(w))


_UNSET = object()


def _question(web: Web, w: W, aid: str, item_id: str, on_group: OnGroup) -> Response:
    posting = w.request.method == "POST"
    case = open_case(web, w, aid, write=posting, what=f"{'answer' if posting else 'read'} {item_id[:40]}")
    if (moved := _draft(case)) is not None:
        return moved
    s = case.s
    item = s.ci.items.get(item_id)
    if item is None or item_id not in s.order:
        return web.message(w.request, w.lang, "not_found", 404, w.who)
    if item.type == "group":
        return on_group(web, w, case, item)
    ret = (w.form.get("ret") if posting else w.request.query_params.get("ret")) == "summary"
    error, notice, status, typed = "", "", 200, ""
    if posting:
        value, error, typed = parse_field(s, item, w.form, "value", w.lang, unknown_button=True)
        if not error:
            seen, now = w.form.get("seen", ""), state_tag(s, item_id)
            if seen != now and not (item_id in s.answers and s.answers[item_id] == value
                                    and item_id not in s.partial):
                notice = w.tr("stale", answer=describe(s, item, s.answers[item_id], w.lang)
                              if item_id in s.answers else w.tr("no_answer"))
                status = 409
            else:
                total = len(s.visible)
                with w.store.acting_as(w.who.name):
                    s.record(item_id, value)
                if ret:
                    first = next_open(s)
                    target = f"{case.base}/q/{first}?ret=summary" if first is not None else f"{case.base}/summary"
                    return RedirectResponse(target, status_code=303)
                target = url_of(case, after=item_id)
                sep = "&" if "?" in target else "?"
                return RedirectResponse(f"{target}{sep}saved={item_id}&was={total}", status_code=303)
        else:
            status = 422
    return _question_page(web, w, case, item, error=error, notice=notice, status=status, typed=typed, ret=ret)


def _question_page(web: Web, w: W, case: Case, item: Item, *, error: str, notice: str, status: int,
                   typed: str, ret: bool) -> Response:
    s = case.s
    position = s.visible.index(item.id) + 1 if item.id in s.visible else len(s.visible)
    total = len(s.visible)
    q = w.request.query_params
    change = ""
    was = q.get("was", "")
    if was.isdigit() and int(was) != total:  # a skip decided: said, never a silent jump
        diff = total - int(was)
        change = w.tr(("total_fewer" if diff < 0 else "total_more") + ("_one" if abs(diff) == 1 else ""),
                      total=total, n=abs(diff))
    saved = q.get("saved", "")
    if not notice and saved in s.ci.items and saved in s.answers:
        notice = w.tr("saved_answer", answer=describe(s, s.ci.items[saved], s.answers[saved], w.lang))
    section = next(sec for sec in s.ci.instrument.sections if any(i.id == item.id for i in sec.items))
    first_in_section = section.items[0].id == item.id
    field = field_view(s, item, "value", w.lang, current=s.answers.get(item.id, _UNSET), has=item.id in s.answers,
                       error=error, typed=typed, is_question=True)
    return web.page(w.request, w.lang, "question.html.j2", who=w.who, status=status, title=field["label"],
                    progress=w.tr("progress", n=position, total=total), change=change,
                    section=section.title.get(w.lang), section_intro=section.intro.get(w.lang)
                    if first_in_section and section.intro else "", q=field, notice=notice,
                    notice_role="alert" if status == 409 else "status", seen=state_tag(s, item.id),
                    ret="summary" if ret else "", previous=previous(case, item.id), **case.common(w))
