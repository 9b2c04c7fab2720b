"""The end of an interview: summary with changes, professional judgement, completion, result.

May import: errors, instrument, engine, present, store, interview, _interview_* / stdlib.

Completing freezes the revision and stores the result in one transaction; the
result is computed first, so an answer that no longer fits (it cannot, the
version is pinned) would stop here with nothing frozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..assessment import assess
from ..engine import allowed_levels
from ..engine.instrument import MAX_RATIONALE, JudgementInput
from ..engine.result import Result
from ..errors import AssessmentLocked, JudgementError, StoreError
from ..report.present import label, result_text
from ..store.values import now as utc_now
from ._facts import ask_one_fact, describe_fact, facts_to_ask
from ._group import ROW_KEY, change_row, describe_row
from ._texts import BACK, COMMANDS, ENTER, HELP, HIDE, QUIT, SKIP, in_language

if TYPE_CHECKING:
    from ..referral import CompiledRuleSet
    from ._run import _Flow

__all__ = ["finish"]


class _Back(Exception):
    """Leave the judgement and show the summary again."""


def finish(flow: _Flow, *, assessor: str | None, rules: CompiledRuleSet | None) -> Result | None:
    """Summary, judgement and completion; ``None`` when the flow goes back to the questions."""
    s = flow.s
    if not summary(flow):
        return None
    try:
        judgement = ask_judgement(flow, rules)
    except _Back:
        return None
    now = utc_now()
    result = _assess(flow, judgement, assessor=assessor, assessed_at=now, rules=rules)
    if result.requirements_unmet:
        flow.p.show(flow.say("requirements"))
        unmet = set(result.requirements_unmet)
        for req in s.ci.instrument.requirements:
            if req.id in unmet:
                flow.p.show("  - " + flow.text(req.message.get(flow.lang)))
        return None
    try:
        s.store.complete(s.aid, result=result, completed_at=now)
    except AssessmentLocked:
        raise
    except StoreError as exc:
        flow.p.show(flow.say("save_failed", reason=in_language(exc.message, flow.lang, "store_problem")))
        return None
    flow.p.show(flow.say("completed"))
    flow.p.show(result_text(result, flow.lang, s.ci))
    return result


def summary(flow: _Flow) -> bool:
    """Show every shown item with its answer; ``True`` to go on, ``False`` if the cursor moved."""
    s = flow.s
    flow.p.new_question()
    flow.p.show("")
    flow.p.show(f"== {flow.say('summary')} ==")
    facts = _show_facts(flow)
    section = None
    for n, key in enumerate(s.visible, 1):
        item = s.ci.items[key]
        title = s.section_of(key)
        if title is not section:
            section = title
            flow.p.show(f"{label('section', flow.lang)}: {flow.text(title.get(flow.lang))}")
        answer = flow.describe(item, s.answers.get(key)) if key in s.answers else "—"
        flow.p.show(f"{n:>3}. {flow.text(item.text.get(flow.lang))} — {answer}")
        value = s.answers.get(key)
        if item.type == "group" and isinstance(value, list):
            for r, row in enumerate(value, 1):
                flow.p.show("       " + flow.say("row", n=r, fields=describe_row(flow, item, row)))
            if value:
                flow.p.show("       " + flow.say("summary_rows_hint", n=n))
    while True:
        entry = flow.p.read_line(flow.say("summary_prompt")).strip()
        if entry in ("", ENTER):
            return True
        if entry == HIDE or entry in COMMANDS:
            if entry == HELP:
                flow.p.show(flow.say("legend"))
            elif entry in (BACK, QUIT, HIDE):
                flow.command(entry, None)
                return False
            continue
        if entry.isascii() and entry.isdigit() and 1 <= int(entry) <= len(s.visible):
            s.goto(s.visible[int(entry) - 1])
            return False
        number, mark, row = entry.partition(ROW_KEY)  # "3#2": row 2 of question 3, changed or deleted here
        if mark and number.isascii() and number.isdigit() and 1 <= int(number) <= len(s.visible):
            group = s.ci.items[s.visible[int(number) - 1]]
            if group.type == "group":
                if change_row(flow, group, row):
                    return False
                continue
        fact = entry[1:]
        if entry[:1] in "fF" and fact.isascii() and fact.isdigit() and 1 <= int(fact) <= len(facts):
            assert flow.rules is not None
            ask_one_fact(flow, flow.rules, facts[int(fact) - 1])
            return False
        flow.p.show(flow.say("no_such_number"))


def _show_facts(flow: _Flow) -> list[str]:
    """The case facts the interview asks, numbered F1, F2 …, with their stored values."""
    rules = flow.rules
    names = facts_to_ask(flow.s.ci, rules)
    if not names or rules is None:
        return []
    flow.p.show(f"{flow.say('facts_heading')}:")
    for n, name in enumerate(names, 1):
        spec = rules.ruleset.facts[name]
        value = describe_fact(spec, flow.s.facts[name], flow.lang) if name in flow.s.facts else "—"
        flow.p.show(f"{'F' + str(n):>4}. {flow.text(spec.label.get(flow.lang))} — {flow.text(value)}")
    return names


def ask_judgement(flow: _Flow, rules: CompiledRuleSet | None) -> JudgementInput | None:
    """The assessor's level and rationale where the policy asks for one; committed before it is confirmed."""
    s = flow.s
    inst = s.ci.instrument
    policy = inst.judgement.policy
    if policy == "none":
        return None
    existing = s.store._session_judgement(s.aid)  # unaudited: the session's "view" covers it
    flow.p.show("")
    flow.p.show(flow.say("computed", text=_support(flow, rules)))
    if inst.judgement.guidance is not None:
        flow.p.show(flow.say("judgement_guidance", text=flow.text(inst.judgement.guidance.get(flow.lang))))
    if policy == "required":
        flow.p.show(flow.say("judgement_required"))
    elif existing is None and not _wants_judgement(flow):
        return None
    while True:
        choice = _read_level(flow, existing, optional=policy != "required")
        if choice is None:
            if _save_judgement(flow, None):
                return None
            continue
        rationale = _read_rationale(flow, existing)
        acknowledged = _read_acknowledgements(flow, rules, choice, existing)
        judgement = JudgementInput(level=choice, rationale=rationale, acknowledged=acknowledged)
        try:
            _assess(flow, judgement, assessor=None, assessed_at=None, rules=rules)
        except JudgementError as exc:
            flow.p.show(flow.say("judgement_refused", reason=_refusal(flow, exc)))
            continue
        if _save_judgement(flow, judgement):
            flow.p.show(flow.say("judgement_saved"))
            return judgement


def _wants_judgement(flow: _Flow) -> bool:
    yes, no = flow.say("yes_key"), flow.say("no_key")
    flow.p.show(flow.say("judgement_offer"))
    while True:
        key = flow.p.read_key("> ").lower()
        if key == yes:
            return True
        if key == no:
            return False
        _command(flow, key)


LEVEL_KEYS = "123456789abcdefghijklmnopqrstuvwxyz"
"""Level keys are digits in the levels' order: the same in both languages, and never the
first letter of another level's label ("Inte identifierat" is not chosen by an ``i`` that
could as well mean "Identifierat"; ``v`` is not "Vet inte" in one instrument and "Viss
risk" in another)."""


def _read_level(flow: _Flow, existing: JudgementInput | None, *, optional: bool) -> str | None:
    """A level id the policy allows for this result; ``None`` when an optional judgement is withdrawn.

    Only the allowed levels get a key; the others are named with the reason, in the
    session's language, before anything else is typed (never after the rationale).
    """
    ci = flow.s.ci
    levels = ci.instrument.levels
    refusals = allowed_levels(ci, ci.evaluate(ci.check_answers(flow.s.applicable())))
    names = {lv.id: flow.text(lv.label.get(flow.lang)) for lv in levels}
    by_key = {LEVEL_KEYS[n]: lv.id for n, lv in enumerate(levels) if refusals[n] is None}
    refused = {LEVEL_KEYS[n]: (lv.id, why) for n, lv in enumerate(levels) if (why := refusals[n]) is not None}
    keep = existing is not None and existing.level in by_key.values()
    if existing is not None:
        flow.p.show(
            flow.say(
                "judgement_current",
                level=names.get(existing.level, flow.text(existing.level)),
                rationale=flow.text(existing.rationale),
            )
        )
    choices = "   ".join(f"[{k}] {names[level]}" for k, level in by_key.items())
    flow.p.show(flow.say("level_prompt") + "  " + choices)
    for level, why in refused.values():
        flow.p.show("  " + flow.say("level_not_allowed", level=names[level], reason=_refusal(flow, why)))
    if existing is not None and not keep:
        flow.p.show(flow.say("judgement_current_not_allowed"))
    while True:
        key = flow.p.read_key("> ")
        if key in (ENTER, "\n") and keep:
            assert existing is not None
            return existing.level
        if key == SKIP and optional:
            return None
        if key.lower() in by_key:
            return by_key[key.lower()]
        if key.lower() in refused:
            level, why = refused[key.lower()]
            flow.p.show(flow.say("level_not_allowed", level=names[level], reason=_refusal(flow, why)))
            continue
        _command(flow, key)


def _refusal(flow: _Flow, exc: JudgementError) -> str:
    """Why a judgement is refused, in the session's language (never an English-only reason)."""
    words = exc.words.get(flow.lang) if exc.words else None
    return flow.text(words or in_language(exc.reason, flow.lang, "judgement_not_allowed"))


def _read_rationale(flow: _Flow, existing: JudgementInput | None) -> str:
    while True:
        line = flow.p.read_line(flow.say("rationale_prompt"))
        if line in (HIDE, BACK, QUIT):
            _command(flow, line)
            continue
        text = line.strip()
        if len(text) > MAX_RATIONALE:  # refused here, said so, typed again: never a crash after typing
            flow.p.show(_too_long(flow.lang, len(text)))
            continue
        if text:
            return text
        if existing is not None:
            return existing.rationale
        flow.p.show(flow.say("rationale_needed"))


def _too_long(lang: str, length: int) -> str:
    if lang == "en":
        return (
            f"The rationale has {length} characters; at most {MAX_RATIONALE} are allowed. Nothing was saved; "
            "type a shorter one."
        )
    return (
        f"Motiveringen har {length} tecken; högst {MAX_RATIONALE} går. Inget sparades; "
        "skriv en kortare."
    )


def _read_acknowledgements(
    flow: _Flow, rules: CompiledRuleSet | None, level: str, existing: JudgementInput | None
) -> dict[str, str]:
    """Per critical rule an unknown answer could fire above ``level``: why it is judged not to hold.

    Without a reason the engine refuses the judgement (issue 12); Enter keeps a reason given
    before for the same rule; an empty answer leaves it out, and the refusal then says why.
    """
    ci = flow.s.ci
    base = _assess(flow, None, assessor=None, assessed_at=None, rules=rules)
    floor = ci.levels.index(base.critical_level) if base.critical_level else 0
    judged = max(ci.levels.index(level), floor)
    rules_by_id = {c.id: c for c in ci.instrument.critical}
    above = [r for r in base.critical_possible if ci.levels.index(rules_by_id[r].raise_to) > judged]
    before = existing.acknowledged if existing is not None else {}
    out: dict[str, str] = {}
    if above:
        flow.p.show(flow.say("acknowledge_intro"))
    for rid in above:
        flow.p.show("  " + flow.text(rules_by_id[rid].reason.get(flow.lang)))
        while True:
            line = flow.p.read_line(flow.say("acknowledge_prompt"))
            if line in (HIDE, BACK, QUIT):
                _command(flow, line)
                continue
            text = line.strip()
            if len(text) > MAX_RATIONALE:
                flow.p.show(_too_long(flow.lang, len(text)))
                continue
            if text:
                out[rid] = text
            elif rid in before:
                out[rid] = before[rid]
            break
    return out


def _command(flow: _Flow, key: str) -> None:
    """Commands during the judgement: back to the summary, quit, hide, help; else a hint."""
    if key == BACK:
        raise _Back
    if key == HELP:
        flow.p.show(flow.say("legend"))
    elif key in (HIDE, QUIT):
        flow.command(key, None)
    else:
        flow.p.show(flow.say("press_key"))


def _save_judgement(flow: _Flow, judgement: JudgementInput | None) -> bool:
    try:
        flow.s.store.set_judgement(flow.s.aid, judgement)
    except AssessmentLocked:
        raise
    except StoreError as exc:
        flow.p.show(flow.say("save_failed", reason=in_language(exc.message, flow.lang, "store_problem")))
        return False
    return True


def _assess(
    flow: _Flow,
    judgement: JudgementInput | None,
    *,
    assessor: str | None,
    assessed_at: str | None,
    rules: CompiledRuleSet | None,
) -> Result:
    return assess(
        flow.s.ci,
        flow.s.applicable(),
        judgement=judgement,
        assessor=assessor,
        assessed_at=assessed_at,
        rules=rules,
        facts=flow.s.known_facts(rules),
    )


def _support(flow: _Flow, rules: CompiledRuleSet | None) -> str:
    """The computed status and level range in words, as support for the judgement."""
    result = _assess(flow, None, assessor=None, assessed_at=None, rules=rules)
    names = {lv.id: lv.label.get(flow.lang) for lv in flow.s.ci.instrument.levels}
    text = label("status_" + result.status, flow.lang)
    if result.level_range is not None:
        low, high = names[result.level_range.min], names[result.level_range.max]
        text += f" ({low})" if low == high else f" ({low}–{high})"
    if result.critical:
        reasons = {c.id: c.reason.get(flow.lang) for c in flow.s.ci.instrument.critical}
        text += "; " + "; ".join(reasons.get(key, key) for key in result.critical)
    return flow.text(text)
