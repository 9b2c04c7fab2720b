"""Case facts in the interview: asked first, immediate danger first, each committed before it is confirmed.

May import: instrument, referral, rules, _session, _texts / stdlib.

The referral rules read case facts (children in the household, the person's age,
an honour context, immediate danger, …) that no instrument item asks. Without
them the safety rules can only warn ("children unknown"), so the interview asks
every fact the rule set declares and the instrument does not ask or derive
itself, before the first question. "Unknown" is always an answer and is stored
as such: it is never read as "no". Immediate danger is asked first, and a "yes"
shows the 112 advice at once, before anything else is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AnswerError, AssessmentLocked, StoreError
from ..referral._words import fact_text
from ._session import assign_keys
from ._texts import BACK, COMMANDS, ENTER, HELP, HIDE, SKIP, UNKNOWN_KEY, in_language

if TYPE_CHECKING:
    from ..engine.scoring import CompiledInstrument
    from ..referral import CompiledRuleSet
    from ..referral.rules import FactSpec
    from ._run import _Flow

__all__ = ["DANGER_FACT", "ask_facts", "ask_one_fact", "describe_fact", "facts_to_ask"]

DANGER_FACT = "immediate_danger"
_NOTHING = object()


def facts_to_ask(ci: CompiledInstrument, rules: CompiledRuleSet | None) -> list[str]:
    """The declared facts this interview asks: not an item of the instrument, not derived from one.

    Immediate danger comes first; the rest keep the rule set's order.
    """
    if rules is None:
        return []
    derived = {name for table in rules.tables_for(ci) for name, _ in table.derive}
    names = [n for n in rules.ruleset.facts if n not in ci.items and n not in derived]
    return sorted(names, key=lambda n: n != DANGER_FACT)


def ask_facts(flow: _Flow, rules: CompiledRuleSet | None) -> None:
    """Ask every fact not yet recorded (a resumed draft asks only what is missing)."""
    names = [n for n in facts_to_ask(flow.s.ci, rules) if n not in flow.s.facts]
    if not names or rules is None:
        return
    flow.p.show("")
    flow.p.show(flow.say("facts_intro"))
    n = 0
    while n < len(names):
        if ask_one_fact(flow, rules, names[n]):
            n += 1
        elif n > 0:
            n -= 1  # "<": the fact before this one, asked again
        else:
            flow.p.show(flow.say("first_question"))


def ask_one_fact(flow: _Flow, rules: CompiledRuleSet, name: str) -> bool:
    """Ask one fact until it is committed; ``False`` when the caseworker asked to go back."""
    spec = rules.ruleset.facts[name]
    flow.p.new_question()
    flow.p.show("")
    flow.p.show(flow.text(spec.question.get(flow.lang)))
    current = flow.s.facts.get(name, _NOTHING)
    if current is not _NOTHING:
        flow.p.show(flow.say("current", answer=describe_fact(spec, current, flow.lang)))
    while True:
        value = _read(flow, spec, current)
        if value is BACK:
            return False
        try:
            flow.s.record_fact(rules, name, value)
        except AssessmentLocked:
            raise
        except AnswerError:
            flow.p.show(flow.say("bad_answer", hint=_hint(flow, spec)))
            continue
        except StoreError as exc:
            flow.p.show(flow.say("save_failed", reason=in_language(exc.message, flow.lang, "store_problem")))
            continue
        flow.p.show(flow.say("saved", answer=describe_fact(spec, value, flow.lang)))
        if name == DANGER_FACT and value is True:
            flow.p.show(flow.say("danger_advice"))
        return True


def describe_fact(spec: FactSpec, value: object, lang: str) -> str:
    """A fact's value in words in ``lang``, as the report says it: never a value id."""
    return fact_text(spec, value).get(lang).capitalize()


def _hint(flow: _Flow, spec: FactSpec) -> str:
    if spec.type == "int":
        return flow.say("number_hint", lo=spec.min, hi=spec.max)
    return flow.say("choice_hint")


def _choices(flow: _Flow, spec: FactSpec) -> dict[str, object]:
    """key → value for a yes/no or choice fact; ``?`` is always "not known"."""
    if spec.type == "bool":
        return {flow.say("yes_key"): True, flow.say("no_key"): False}
    labels = spec.value_labels or {}
    values = list(spec.values or ())
    keys = assign_keys([(labels[v], None, False) for v in values], flow.lang)
    return dict(zip(keys, values, strict=True))


def _read(flow: _Flow, spec: FactSpec, current: object) -> object:
    """One value (``None`` for not known), or ``BACK``; commands other than back are handled here."""
    if spec.type == "int":
        return _read_number(flow, spec, current)
    choices = _choices(flow, spec)
    shown = [f"[{k}] {describe_fact(spec, v, flow.lang)}" for k, v in choices.items()]
    flow.p.show("  " + "   ".join([*shown, f"[{UNKNOWN_KEY}] {describe_fact(spec, None, flow.lang)}"]))
    while True:
        key = flow.p.read_key("> ")
        if key in (ENTER, "\n") and current is not _NOTHING:
            return current
        if key in (UNKNOWN_KEY, SKIP):
            return None
        if key.lower() in choices:
            return choices[key.lower()]
        if key == BACK:
            return BACK
        if not _command(flow, key):
            flow.p.show(flow.say("press_key"))


def _read_number(flow: _Flow, spec: FactSpec, current: object) -> object:
    while True:
        line = flow.p.read_line(flow.say("fact_number_prompt", lo=spec.min, hi=spec.max)).strip()
        if line in ("", ENTER) and current is not _NOTHING:
            return current
        if line in (UNKNOWN_KEY, SKIP):
            return None
        if line.isascii() and line.isdigit() and len(line) <= 3:
            number = int(line)
            if spec.min is not None and spec.max is not None and spec.min <= number <= spec.max:
                return number
        if line == BACK:
            return BACK
        if not _command(flow, line):
            flow.p.show(flow.say("bad_answer", hint=_hint(flow, spec)))


def _command(flow: _Flow, entry: str) -> bool:
    """Quit and hide leave the flow; help shows the legend. ``False``: not a command."""
    if entry == HELP:
        flow.p.show(flow.say("legend"))
        return True
    if entry == HIDE or entry in COMMANDS:
        flow.command(entry, None)
        return True
    return False
