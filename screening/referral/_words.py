"""What a rule read and a case fact's value, in words in both languages.

May import: errors, the engine's expr, instrument, result, scoring and explanation, this
package's rules / stdlib. Also the case facts: checking the caller's, and as the rules saw them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ..engine.expr import UNKNOWN, Interval
from ..engine.instrument import Text
from ..engine.result import CaseFact, Fact
from ..engine.scoring import CompiledInstrument
from ..errors import AnswerError
from .rules import FactSpec, RuleSet

__all__ = ["case_facts", "check_facts", "fact_text", "facts_read", "level_text"]


def facts_read(
    ci: CompiledInstrument, ruleset: RuleSet, names: frozenset[str], env: Mapping[str, object]
) -> list[Fact]:
    """The facts a rule read, in words: item answers by their labels, scores, level, case facts."""
    from ..engine._explain import _answer_words, _item_label, plain_words, symbol_label

    facts: list[Fact] = []
    for name in sorted(names):
        value = env.get(name, UNKNOWN)
        if name in ci.items:
            answer = _answer_words(ci, name, value)
            item = _item_label(ci, name)
            facts.append(Fact(ref=name, text=Text(sv=f"{item.sv}: {answer.sv}", en=f"{item.en}: {answer.en}")))
        elif name == "level" and ci.levels:
            facts.append(Fact(ref=name, text=level_text(ci, value)))
        else:
            # A case fact by its label, a score by its label: never the bare name, never "ja/yes".
            label = ruleset.facts[name].label if name in ruleset.facts else symbol_label(ci, name)
            shown = plain_words(value)
            facts.append(Fact(ref=name, text=Text(sv=f"{label.sv}: {shown.sv}", en=f"{label.en}: {shown.en}")))
    return facts


def fact_text(spec: FactSpec, value: object) -> Text:
    """A case fact's value in words in both languages (an unknown one says so)."""
    if value is None:
        return Text(sv="vet inte", en="not known")
    if isinstance(value, bool):
        return Text(sv="ja", en="yes") if value else Text(sv="nej", en="no")
    if spec.value_labels is not None and isinstance(value, str) and value in spec.value_labels:
        return spec.value_labels[value]
    return Text(sv=str(value), en=str(value))


def level_text(ci: CompiledInstrument, value: object) -> Text:
    levels = ci.instrument.levels
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(sv=f"nivå: {levels[value].label.sv}", en=f"level: {levels[value].label.en}")
    if isinstance(value, Interval):
        lo, hi = levels[value.lo].label, levels[value.hi].label
        return Text(sv=f"nivå: {lo.sv}–{hi.sv}", en=f"level: {lo.en}–{hi.en}")
    return Text(sv="nivå: ej fastställd", en="level: not set")


def check_facts(ruleset: RuleSet, facts: Mapping[str, object]) -> dict[str, object]:
    """Validate caller-supplied case facts against their declarations (``CompiledRuleSet.check_facts``)."""
    clean: dict[str, object] = {}
    for name, value in facts.items():
        spec = ruleset.facts.get(name)
        if spec is None:
            raise AnswerError(str(name)[:64], "no such case fact", sorted(ruleset.facts))
        if value is None:
            continue
        if spec.type == "bool" and isinstance(value, bool):
            clean[name] = value
        elif spec.type == "int" and type(value) is int and spec.min is not None and spec.max is not None:
            if not spec.min <= value <= spec.max:
                raise AnswerError(name, "case fact out of range", (f"{spec.min}–{spec.max}",))
            clean[name] = value
        elif spec.type == "choice" and isinstance(value, str) and value in (spec.values or ()):
            clean[name] = value
        else:
            allowed = ("true", "false") if spec.type == "bool" else tuple(spec.values or (f"{spec.min}–{spec.max}",))
            raise AnswerError(name, "case fact not allowed", allowed)
    return clean


def case_facts(
    ruleset: RuleSet,
    given: Mapping[str, object],
    env: Mapping[str, object],
    memo: dict[tuple[object, ...], CaseFact],
) -> list[CaseFact]:
    """Every declared fact as the rules saw it, in words: given, derived from an answer, or unknown.

    ``memo`` keeps each fact in words once per value (they are frozen and few).
    """
    out: list[CaseFact] = []
    for name, spec in ruleset.facts.items():
        value = env.get(name, UNKNOWN)
        source: Literal["given", "derived", "unknown"] = (
            "given" if name in given else "unknown" if value is UNKNOWN or value is None else "derived"
        )
        known = None if source == "unknown" else value
        if not (known is None or isinstance(known, (bool, int, str))):
            known, source = None, "unknown"
        key = (name, known.__class__, known, source)  # the class too: True is not 1
        fact = memo.get(key)
        if fact is None:
            fact = memo[key] = CaseFact(
                name=name, label=spec.label, value=known, text=fact_text(spec, known), source=source
            )
        out.append(fact)
    return out
