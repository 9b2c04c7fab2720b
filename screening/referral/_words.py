"""What a rule read and a case fact's value, in words in both languages.

May import: the engine's expr, instrument, result, scoring and explanation, this
package's rules / stdlib.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine.expr import UNKNOWN, Interval
from ..engine.instrument import Text
from ..engine.result import Fact
from ..engine.scoring import CompiledInstrument
from .rules import FactSpec, RuleSet

__all__ = ["fact_text", "facts_read", "level_text"]


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
