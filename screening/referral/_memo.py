"""The memo of the referral fast path: everything a rule set's outcome reads, as a key.

May import: this package's ``_safety`` (the names it reads); the engine and ``_evaluate`` for types only / stdlib.
Used by ``CompiledRuleSet.memo_for`` and ``fast_for`` in batch re-scoring.

The recommended services are a pure function of the decision (final level, status,
completeness, the top of the level range, the critical floor), the score ranges,
answers and case facts the rules read; the key holds exactly those, unknown answers
included (the instrument's fast path gives the decision for them too). A case fact of
the wrong kind never reaches the memo: ``True`` hashes like ``1``, so a key with one
could answer for the other, which ``check_facts`` would refuse.

When the rules read many answers, keys hardly repeat (twenty yes/no items are a
million keys) and most calls miss. A miss therefore costs what the services need and
no more: one evaluation and one lean recommendation (``CompiledRuleSet.recommend``
with ``lean``: no trace, no facts in words, no near misses), not a full ``assess``
with its ``Result``. That was the cliff between 50 and 200 rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING

from ._safety import AGE_FACT, CHILDREN_FACT, GENDER_FACT, HONOUR_FACT

if TYPE_CHECKING:
    from ..engine._fast import FastPath, Quick, Summary
    from ..engine.scoring import CompiledInstrument
    from ._evaluate import CompiledTable
    from .rules import RuleSet

__all__ = ["MEMO_LIMIT", "ReferralMemo", "build_memo", "env_reads", "no_hit"]

SAFETY_NAMES = (AGE_FACT, CHILDREN_FACT, GENDER_FACT, HONOUR_FACT)  # what the safety rules read by name

MEMO_LIMIT = 65_536
KeyMaker = Callable[[Mapping[str, object], Mapping[str, object]], "tuple[Summary, tuple[object, ...]] | None"]

Hit = tuple["Summary", tuple[str, ...]]


def build_memo(ci: CompiledInstrument, tables: tuple[CompiledTable, ...], ruleset: RuleSet) -> ReferralMemo | None:
    """The memo for a rule set's tables on ``ci``, or ``None`` when a key cannot capture what they read.

    The key holds the items the rules read, the own-view item, every declared fact and
    an answer the safety rules read under a fact's name; a repeating group, a date or
    free text cannot be a key.
    """
    # The safety rules and target groups read facts from the environment, where an
    # answer of the same name stands when the caller gave no such fact.
    names = set(env_reads(tables, ruleset))
    reads = {n for n in names if n in ci.items}
    if any("fired(" in rule.when for ct in tables for rule, _ in ct.rules):
        # fired('x') reads which critical rules held: key on the answers they read.
        reads |= {n for _, cond, _ in ci.critical for n in cond.names if n in ci.items}
    if ci.instrument.own_view:
        reads.add(ci.instrument.own_view.item)
    if reads & ci.show_if.keys():
        # A gated answer is what it is only when shown: key on what the conditions read too.
        reads |= {n for cond in ci.show_if.values() for n in cond.names}
    if any(ci.items[n].type in ("group", "date", "text") for n in reads):
        return None
    scores = tuple(i for i, score in enumerate(ci.instrument.scores) if score.id in names)
    facts = tuple((name, spec.type) for name, spec in ruleset.facts.items())
    return ReferralMemo(ci.fast, tuple(sorted(reads)), scores, facts)


def env_reads(tables: tuple[CompiledTable, ...], ruleset: RuleSet) -> tuple[str, ...]:
    """Every name a recommendation reads of the scored environment, sorted.

    The names in the tables' conditions, their derived facts and their violence and
    honour conditions, every declared fact, and what the safety rules and target groups
    read by name (age, gender, children, honour context). With the level, status,
    completeness, discrepancy, the critical rules' states and the given facts, these
    values decide a full recommendation, words and trace included (``assess`` memoises
    it on them).
    """
    names: set[str] = {*ruleset.facts, *SAFETY_NAMES}
    for ct in tables:
        for _, cond in ct.rules:
            names |= cond.names
        for extra in (ct.violence, ct.honour):
            if extra is not None:
                names |= extra.names
        for _, source in ct.derive:
            names |= source.names
    return tuple(sorted(names))


def no_hit(answers: Mapping[str, object], facts: Mapping[str, object]) -> None:
    return None


class ReferralMemo:
    """The keys of one (instrument, rule set) pair, their tables, and the hot-loop closure ``fast``.

    Two tables: complete answer sets are keyed by the instrument's complete-only fast
    path (the cheapest), everything else the fast path takes by ``quick`` (unknown
    answers included). ``facts`` is every declared case fact with its kind (``bool``,
    ``int``, ``choice``).
    """

    def __init__(
        self,
        fast_path: FastPath,
        names: tuple[str, ...],
        scores: tuple[int, ...],
        facts: tuple[tuple[str, str], ...],
    ) -> None:
        self.table: dict[tuple[object, ...], tuple[str, ...]] = {}
        self.complete_table: dict[tuple[object, ...], tuple[str, ...]] = {}
        table, complete_table = self.table, self.complete_table
        quick, complete = fast_path.quick, fast_path.complete
        self.key: KeyMaker
        self.complete_key: KeyMaker
        if len(scores) <= 1 and len(facts) == 1 and facts[0][1] == "bool":
            self.complete_key, self.key = _common_keys(fast_path, names, scores, facts[0][0])
        else:
            self.key = _key_maker(quick, names, scores, facts)
            self.complete_key = _complete_key_maker(complete, names, scores, facts)
        key_of, complete_key_of = self.key, self.complete_key

        def fast(answers: Mapping[str, object], given: Mapping[str, object]) -> Hit | None:
            made = complete_key_of(answers, given)
            if made is not None:
                services = complete_table.get(made[1])
            else:
                made = key_of(answers, given)
                if made is None:
                    return None
                services = table.get(made[1])
            return None if services is None else (made[0], services)

        self.fast = fast

    def store(self, answers: Mapping[str, object], given: Mapping[str, object], services: tuple[str, ...]) -> None:
        """Remember ``services`` under every key the answers have (none if the fast path cannot take them)."""
        for make, table in ((self.complete_key, self.complete_table), (self.key, self.table)):
            made = make(answers, given)
            if made is not None:
                if len(table) >= MEMO_LIMIT:
                    table.clear()
                table[made[1]] = services


def _common_keys(
    fast_path: FastPath, names: tuple[str, ...], scores: tuple[int, ...], fact: str
) -> tuple[KeyMaker, KeyMaker]:
    """Both keys for the common shape (at most one score read, one yes/no case fact), made lean.

    The complete key: final level and floor (status and completeness follow from the
    instrument for a complete set), the score total, the fact, the answers read.
    """
    complete, quick = fast_path.complete, fast_path.quick
    score = scores[0] if scores else None
    read = fast_path.read
    # A complete set holds exactly the items the fast path reads: itemgetter cannot miss.
    names_get: Callable[[Mapping[str, object]], object] = (
        (lambda a: None) if not names else itemgetter(*names) if set(names) <= read else
        (lambda a: tuple(map(a.get, names)))
    )

    def complete_key(
        answers: Mapping[str, object], given: Mapping[str, object]
    ) -> tuple[Summary, tuple[object, ...]] | None:
        value = given.get(fact)
        if (value is not None and value is not True and value is not False) or len(given) > (fact in given):
            return None  # of the wrong kind, or an undeclared fact: check_facts refuses it
        s = complete(answers)
        if s is None:
            return None
        return s, (s[0], s[3], None if score is None else s[2][score], value, names_get(answers))

    def general_key(
        answers: Mapping[str, object], given: Mapping[str, object]
    ) -> tuple[Summary, tuple[object, ...]] | None:
        value = given.get(fact)
        if (value is not None and value is not True and value is not False) or len(given) > (fact in given):
            return None
        q = quick(answers)
        if q is None:
            return None
        summary, full, hi, ranges = q
        return summary, (
            summary[0], summary[1], summary[3], full, hi,
            None if score is None else ranges[score], value, tuple(map(answers.get, names)),
        )

    return complete_key, general_key


def _complete_key_maker(
    complete: Callable[[Mapping[str, object]], Summary | None],
    names: tuple[str, ...],
    scores: tuple[int, ...],
    facts: tuple[tuple[str, str], ...],
) -> KeyMaker:
    """The key of a complete answer set: final level and floor (status and completeness follow
    from the instrument for those), the score totals, answers and case facts the rules read."""
    fact_values = _fact_values(facts)

    def make_key(
        answers: Mapping[str, object], given: Mapping[str, object]
    ) -> tuple[Summary, tuple[object, ...]] | None:
        s = complete(answers)
        values = None if s is None else fact_values(given)
        if s is None or values is None:
            return None
        return s, (
            (s[0], s[3])  # noqa: RUF005
            + tuple(map(s[2].__getitem__, scores))
            + tuple(map(answers.get, names))
            + values
        )

    return make_key


def _key_maker(
    quick: Callable[[Mapping[str, object]], Quick | None],
    names: tuple[str, ...],
    scores: tuple[int, ...],
    facts: tuple[tuple[str, str], ...],
) -> KeyMaker:
    """The summary and the memo key of an answer set, or ``None`` when the slow path must decide."""
    fact_values = _fact_values(facts)

    def make_key(
        answers: Mapping[str, object], given: Mapping[str, object]
    ) -> tuple[Summary, tuple[object, ...]] | None:
        q = quick(answers)
        values = None if q is None else fact_values(given)
        if q is None or values is None:
            return None
        summary, complete, hi, ranges = q
        return summary, (
            (summary[0], summary[1], summary[3], complete, hi)  # noqa: RUF005
            + tuple(map(ranges.__getitem__, scores))
            + tuple(map(answers.get, names))
            + values
        )

    return make_key


def _fact_values(facts: tuple[tuple[str, str], ...]) -> Callable[[Mapping[str, object]], tuple[object, ...] | None]:
    """The declared facts' values in order, or ``None`` if one is undeclared or of the wrong kind."""
    names = tuple(name for name, _ in facts)
    declared = frozenset(names)
    kinds = tuple(kind for _, kind in facts)

    def values_of(given: Mapping[str, object]) -> tuple[object, ...] | None:
        if not given.keys() <= declared:
            return None
        values = tuple(map(given.get, names))
        for kind, value in zip(kinds, values, strict=True):
            if value is None:
                continue
            if kind == "bool" and value is not True and value is not False:
                return None
            if kind == "int" and type(value) is not int:
                return None
            if kind == "choice" and value.__class__ is not str:
                return None
        return values

    return values_of
