"""The end of a web interview: summary with edit links, the professional judgement, completion, result, reports.

May import: api (``judgement_input``), assessment, engine, errors, interview (facts, texts), report,
store, _access, _webflow, _webforms / fastapi, stdlib.

The checks are the API's and the terminal's: only the levels ``allowed_levels``
allows are offered (the others are named with the reason), the rationale and the
acknowledgement of unknown critical items are asked for, ``judgement_input`` and
``assess`` refuse what the policy does not allow (``JudgementError``, said in the
reader's language), and completing freezes the revision with its result in one
transaction. Reports are the report package's own HTML, served with a
Content-Security-Policy that admits exactly their inline print stylesheet.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import judgement_input
from ..assessment import assess
from ..engine import allowed_levels
from ..engine.instrument import MAX_RATIONALE, JudgementInput
from ..engine.result import Result
from ..errors import JudgementError, ScreeningError
from ..interview._facts import describe_fact
from ..interview._texts import in_language
from ..report.present import label, result_text
from ..store.values import now
from . import _access
from ._webflow import Case, Get, open_case, url_of
from ._webforms import W, describe, judgement_tag

if TYPE_CHECKING:
    from ._web import Web

__all__ = ["end_routes"]

_NONE_LEVEL = "__none__"


def end_routes(router: APIRouter, web: Web, get: Get, post: Get) -> None:
    @router.get("/web/cases/{aid}/summary")
    async def summary(request: Request, aid: str) -> Response:
        return await get(request, lambda w: _summary(web, w, aid))

    @router.get("/web/cases/{aid}/judgement")
    async def judgement_get(request: Request, aid: str) -> Response:
        return await get(request, lambda w: _judgement(web, w, aid))

    @router.post("/web/cases/{aid}/judgement")
    async def judgement_post(request: Request, aid: str) -> Response:
        return await post(request, lambda w: _judgement(web, w, aid))

    @router.post("/web/cases/{aid}/complete")
    async def complete(request: Request, aid: str) -> Response:
        return await post(request, lambda w: _complete(web, w, aid))

    @router.post("/web/cases/{aid}/correct")
    async def correct(request: Request, aid: str) -> Response:
        return await post(request, lambda w: _correct(web, w, aid))

    @router.get("/web/cases/{aid}/result")
    async def result(request: Request, aid: str) -> Response:
        return await get(request, lambda w: _result(web, w, aid))

    @router.get("/web/cases/{aid}/report")
    async def report(request: Request, aid: str) -> Response:
        return await get(request, lambda w: _report(web, w, aid))


def _assess(case: Case, judgement: JudgementInput | None, who: str | None = None, at: str | None = None) -> Result:
    s = case.s
    return assess(s.ci, s.applicable(), judgement=judgement, assessor=who, assessed_at=at, rules=case.rules,
                  facts=s.known_facts(case.rules))


def _refusal(exc: JudgementError, lang: str) -> str:
    words = exc.words.get(lang) if exc.words else None
    return words or in_language(exc.reason, lang, "judgement_not_allowed")


def _summary(web: Web, w: W, aid: str, *, errors: list[str] | None = None, status: int = 200) -> Response:
    case = open_case(web, w, aid, write=False, what="read the summary")
    if case.info.status != "draft":
        return RedirectResponse(f"{case.base}/result", status_code=303)
    s, lang = case.s, w.lang
    facts = []
    if case.rules is not None:
        for name in case.facts:
            spec = case.rules.ruleset.facts[name]
            facts.append({"label": spec.label.get(lang), "href": f"{case.base}/facts/{name}?ret=summary",
                          "value": describe_fact(spec, s.facts[name], lang) if name in s.facts
                          else w.tr("no_answer")})
    sections = []
    for section in s.ci.instrument.sections:
        items = []
        for item in section.items:
            if item.id not in s.visible:
                continue
            value = s.answers.get(item.id)
            answered = item.id in s.answers and item.id not in s.partial
            rows = []
            if item.type == "group" and isinstance(value, list):
                for r in value:
                    rows.append("; ".join(f"{f.text.get(lang)}: {describe(s, f, r[f.id], lang)}"
                                          for f in item.fields or () if f.id in r))
            items.append({"n": s.visible.index(item.id) + 1, "text": item.text.get(lang),
                          "answer": describe(s, item, value, lang) if answered else w.tr("no_answer"),
                          "answered": answered, "rows": rows, "href": f"{case.base}/q/{item.id}?ret=summary"})
        if items:
            sections.append({"title": section.title.get(lang), "entries": items})
    open_count = sum(1 for k in s.visible if k not in s.answers or k in s.partial)
    policy = s.ci.instrument.judgement.policy
    existing = w.store._session_judgement(aid)  # unaudited: the page's access record covers it
    judged = ""
    if existing is not None:
        names = {lv.id: lv.label.get(lang) for lv in s.ci.instrument.levels}
        judged = w.tr("judgement_is", level=names.get(existing.level, existing.level), rationale=existing.rationale)
    return web.page(w.request, lang, "summary.html.j2", who=w.who, status=status, title=w.tr("summary"), facts=facts,
                    sections=sections, unanswered=w.tr("unanswered_left", n=open_count) if open_count else "",
                    resume=url_of(case) if open_count else "",
                    has_judgement=policy != "none", judged=judged, errors=errors or [],
                    notice=w.tr("judgement_saved") if w.request.query_params.get("judged") else "",
                    **case.common(w))


def _judgement(web: Web, w: W, aid: str) -> Response:
    posting = w.request.method == "POST"
    case = open_case(web, w, aid, write=posting, what="record the judgement" if posting else "read the judgement")
    if case.info.status != "draft":
        return RedirectResponse(f"{case.base}/result", status_code=303)
    s, lang = case.s, w.lang
    inst = s.ci.instrument
    policy = inst.judgement.policy
    if policy == "none":
        return RedirectResponse(f"{case.base}/summary", status_code=303)
    levels = inst.levels
    refusals = allowed_levels(s.ci, s.ci.evaluate(s.ci.check_answers(s.applicable())))
    allowed = [lv.id for lv, why in zip(levels, refusals, strict=True) if why is None]
    base = _assess(case, None)
    rules_by_id = {c.id: c for c in inst.critical}
    existing = w.store._session_judgement(aid)
    errors: dict[str, str] = {}
    chosen = existing.level if existing else ""
    rationale = existing.rationale if existing else ""
    acks = dict(existing.acknowledged) if existing else {}
    status = 200
    notice = ""
    seen = w.form.get("seen") if posting else None
    if seen is not None and seen != judgement_tag(existing):  # made before another tab's judgement: refused
        posting, status, notice = False, 409, w.tr("stale_judgement")
    if posting:
        chosen = w.form.get("level", "")
        rationale = w.form.get("rationale", "").strip()[: MAX_RATIONALE + 1]
        acks = {rid: w.form.get(f"ack_{rid}", "").strip()[: MAX_RATIONALE + 1] for rid in base.critical_possible}
        if chosen == _NONE_LEVEL and policy != "required":
            with w.store.acting_as(w.who.name):
                w.store.set_judgement(aid, None)
            return RedirectResponse(f"{case.base}/summary?judged=1", status_code=303)
        if chosen not in allowed:
            errors["level"] = w.tr("choose_one")
        if not rationale:
            errors["rationale"] = w.tr("rationale_needed")
        elif len(rationale) > MAX_RATIONALE:
            errors["rationale"] = w.tr("too_long", max=MAX_RATIONALE)
        for rid, text in acks.items():
            if len(text) > MAX_RATIONALE:
                errors[f"ack_{rid}"] = w.tr("too_long", max=MAX_RATIONALE)
        if not errors:
            floor = s.ci.levels.index(base.critical_level) if base.critical_level else 0
            judged = max(s.ci.levels.index(chosen), floor)
            above = {r for r in base.critical_possible if s.ci.levels.index(rules_by_id[r].raise_to) > judged}
            try:
                judgement = judgement_input(s.ci, chosen, rationale, lang=lang,
                                            acknowledged={r: x for r, x in acks.items() if r in above and x})
                _assess(case, judgement)  # refused here if the policy does not allow it
            except JudgementError as exc:
                errors["level"] = w.tr("judgement_refused", reason=_refusal(exc, lang))
            except ScreeningError:
                errors["level"] = w.tr("judgement_refused", reason=w.tr("judgement_not_allowed"))
            else:
                with w.store.acting_as(w.who.name):
                    w.store.set_judgement(aid, judgement)
                return RedirectResponse(f"{case.base}/summary?judged=1", status_code=303)
        status = 422
    options = [{"value": lv.id, "label": lv.label.get(lang), "checked": lv.id == chosen, "id": f"level-{n}"}
               for n, lv in enumerate(levels) if lv.id in allowed]
    if policy != "required":
        options.append({"value": _NONE_LEVEL, "label": w.tr("no_judgement"), "checked": chosen == _NONE_LEVEL,
                        "id": "level-none"})
    refused = [f"{lv.label.get(lang)}: {_refusal(why, lang)}" for lv, why in zip(levels, refusals, strict=True)
               if why is not None]
    names = {lv.id: lv.label.get(lang) for lv in levels}
    support = label("status_" + base.status, lang)
    if base.level_range is not None:
        low, high = names[base.level_range.min], names[base.level_range.max]
        support += f" ({low})" if low == high else f" ({low}–{high})"
    ack_fields = [{"id": f"ack_{rid}", "label": rules_by_id[rid].reason.get(lang), "value": acks.get(rid, ""),
                   "error": errors.get(f"ack_{rid}", "")} for rid in base.critical_possible]
    error_list = [{"id": "level-0" if k == "level" else k, "error": v} for k, v in errors.items()]
    return web.page(w.request, lang, "judgement.html.j2", who=w.who, status=status, title=w.tr("judgement"),
                    support=w.tr("computed", text=support), required=policy == "required",
                    guidance=inst.judgement.guidance.get(lang) if inst.judgement.guidance else "",
                    options=options, refused=refused, rationale=rationale, acks=ack_fields, errors=error_list,
                    level_error=errors.get("level", ""), rationale_error=errors.get("rationale", ""),
                    seen=judgement_tag(existing), notice=notice, notice_role="alert" if notice else "status",
                    **case.common(w))


def _complete(web: Web, w: W, aid: str) -> Response:
    case = open_case(web, w, aid, write=True, what="complete the assessment")
    if case.info.status != "draft":
        return RedirectResponse(f"{case.base}/result", status_code=303)  # a second click: already done
    s = case.s
    open_count = sum(1 for k in s.visible if k not in s.answers or k in s.partial) + sum(
        1 for n in case.facts if n not in s.facts)
    if open_count:  # as in the terminal: every question shown is answered (unknown is an answer) first
        return _summary(web, w, aid, errors=[w.tr("unanswered_left", n=open_count)], status=422)
    judgement = w.store._session_judgement(aid)
    if s.ci.instrument.judgement.policy == "required" and judgement is None:
        return _summary(web, w, aid, errors=[w.tr("judgement_first")], status=422)
    try:
        result = _assess(case, judgement, w.who.name, now())
    except JudgementError as exc:  # the answers changed since the judgement was saved
        return _summary(web, w, aid, errors=[w.tr("judgement_refused", reason=_refusal(exc, w.lang))], status=422)
    if result.requirements_unmet:
        unmet = set(result.requirements_unmet)
        reasons = [r.message.get(w.lang) for r in s.ci.instrument.requirements if r.id in unmet]
        return _summary(web, w, aid, errors=[w.tr("requirements"), *reasons], status=422)
    with w.store.acting_as(w.who.name):
        w.store.complete(aid, result=result)
    return RedirectResponse(f"{case.base}/result?done=1", status_code=303)


def _correct(web: Web, w: W, aid: str) -> Response:
    """A correction: a new draft revision with the old answers; the completed one is kept (as the API's)."""
    case = open_case(web, w, aid, write=True, what="start a correction")
    if case.info.status == "draft":  # a second click: the correction is already open
        return RedirectResponse(f"{case.base}/summary", status_code=303)
    with w.store.acting_as(w.who.name):
        w.store.correct(aid)
    return RedirectResponse(f"{case.base}/summary", status_code=303)


def _stored(w: W, case: Case) -> Result | None:
    with w.store.acting_as(w.who.name):
        stored = w.store.results(case.info.id, None)
    return stored[-1][1] if stored else None


def _result(web: Web, w: W, aid: str) -> Response:
    case = open_case(web, w, aid, write=False, what="read the result")
    result = _stored(w, case) if case.info.status != "draft" else None
    if result is None:
        return RedirectResponse(f"{case.base}/summary", status_code=303)
    return web.page(w.request, w.lang, "result.html.j2", who=w.who, title=w.tr("result"),
                    blocks=_blocks(result_text(result, w.lang, case.s.ci)), may_correct=w.who.may("cases:write"),
                    notice=w.tr("result_saved") if w.request.query_params.get("done") else "", **case.common(w))


def _blocks(text: str) -> list[dict[str, Any]]:
    """The result's summary text (the terminal's, with its explanation and referrals) as headed lists."""
    blocks: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        bullet = line[2:] if line.startswith("- ") else None
        numbered = re.match(r"^(\d+)\. (.*)$", line)
        if bullet is not None or numbered:
            kind = "ol" if numbered else "ul"
            item = numbered.group(2) if numbered else bullet
            if not blocks or blocks[-1]["kind"] != kind:
                blocks.append({"kind": kind, "items": []})
            blocks[-1]["items"].append(item)
        elif line.endswith(":") and len(line) < 80:
            blocks.append({"kind": "h2", "text": line[:-1]})
        else:
            blocks.append({"kind": "p", "text": line})
    return blocks


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)


def _report(web: Web, w: W, aid: str) -> Response:
    from ..report import CaseInfo, render_report

    profile = "referral" if w.request.query_params.get("profile") == "referral" else "case-file"
    info = _access.case(w.store, w.request, w.who, "report", aid, f"report {profile} html")
    with w.store.acting_as(w.who.name):
        stored = w.store.results(aid, None)
        if not stored:
            return RedirectResponse(f"/web/cases/{aid}/summary", status_code=303)
        res = stored[-1][1]
        w.store.audit("report", aid, detail=f"{profile} html, revision {info.revision} (web)")
        case = CaseInfo(reference=info.case_ref, assessor=info.assessor, assessed_at=res.assessed_at
                        or info.completed_at, protected_identity=False, audit_checkpoint=str(w.store.checkpoint()))
    html = render_report(res, instrument=web.srv.content.pinned(info), fmt="html", lang=w.lang, profile=profile,
                         case=case)
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
                      for m in _STYLE.findall(html))
    bar = (f'<nav class="web-bar" aria-label="{w.tr("reports")}"><a href="/web/cases/{aid}/result">'
           f'{w.tr("result")}</a> <a id="quick-exit" class="quick-exit" href="/web/exit">{w.tr("quick_exit")}</a>'
           "</nav>")
    # The file's own meta policy (inline style only) would block the page's bar; the header below is as strict.
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html, count=1)
    html = html.replace("</head>", f'<link rel="stylesheet" href="/web/static/web.css?v={web.version}">'
                        f'<script src="/web/static/web.js?v={web.version}" defer></script></head>', 1)
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, html, count=1)
    csp = (f"default-src 'none'; style-src 'self' {hashes}; script-src 'self'; img-src 'self' data:; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})
