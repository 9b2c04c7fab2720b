"""Re-score stored assessments after an instrument or rule change, and say who changed.

May import: errors, instrument, result, scoring, engine, referral, loader, migration, _records,
_score, _texts / stdlib.

Stored answers are the source of truth; levels and referrals are derived and can
always be recomputed (the QRISK2/SystmOne lesson: re-score the stored inputs and
list who changed). ``rescore`` takes any iterable of stored assessments — from
the case store, a JSON Lines file, or another system's database — migrates each
one's answers to the target version, scores them and compares with the outcome
stored before. It never stops on a bad record: that record comes out as
``Failed`` with a reason that names items, never answers. Nothing here writes
anything; the store and file adapters (``_store``, ``_jsonl``) do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal, NamedTuple

from ..content.migration import MigrationPlan, Note, plan_migration
from ..engine.instrument import JudgementInput, Text
from ..engine.scoring import CompiledInstrument
from ..errors import JudgementError, ScreeningError
from ..referral import CompiledRuleSet
from ._records import CHANGES, Change, Failed, Rescored, StoredAssessment, Unchanged, pseudonym_ok
from ._score import Outcome, Scorer

__all__ = [
    "CHANGES",
    "Failed",
    "Outcome",
    "Rescored",
    "Rescorer",
    "StoredAssessment",
    "Unchanged",
    "rescore",
]

class Rescorer:
    """Loads each instrument version and migration once and re-scores record after record.

    Args:
        target: the version to score with; ``None``: the latest version of each
            record's instrument (under ``home``).
        rules: the referral rule set, or ``None`` for no referrals.
        home: content directory to find the other versions in.
        versions: extra compiled versions (id → version → instrument), for
            instruments that are not under ``home`` (tests, other systems).
        full_results: build the full ``Result`` for ``changed`` outcomes only
            (the default: the trace explains them), for ``all``, or for ``none``.
    """

    def __init__(
        self,
        target: CompiledInstrument | None,
        rules: CompiledRuleSet | None = None,
        *,
        home: str | os.PathLike[str] | None = None,
        versions: Mapping[str, Mapping[str, CompiledInstrument]] | None = None,
        full_results: Literal["changed", "all", "none"] = "changed",
    ) -> None:
        self.target = target
        self.rules = rules
        self.home = home
        self.full_results = full_results
        self._versions: dict[str, dict[str, CompiledInstrument]] = {k: dict(v) for k, v in (versions or {}).items()}
        self._scanned: set[str] = set()
        self._scorers: dict[str, Scorer] = {}
        self._plans: dict[tuple[str, str, str], MigrationPlan] = {}
        self._routes: dict[tuple[str, str], _Route] = {}
        self._why: dict[tuple[object, ...], tuple[Text, ...]] = {}

    # ------------------------------------------------------------------ lookups

    def versions_of(self, instrument_id: str) -> dict[str, CompiledInstrument]:
        """Every version of an instrument under ``home`` plus those given; loaded once."""
        if instrument_id not in self._scanned:
            from ..content.loader import list_instruments, load_instrument_file

            found = self._versions.setdefault(instrument_id, {})
            for entry in list_instruments(self.home):
                if entry.id == instrument_id and entry.version not in found:
                    try:
                        found[entry.version] = load_instrument_file(entry.path)
                    except ScreeningError:
                        continue  # `screening validate` reports it; records on it fail below
            if self.target is not None and self.target.instrument.id == instrument_id:
                found.setdefault(self.target.instrument.version, self.target)
            self._scanned.add(instrument_id)
        return self._versions[instrument_id]

    def target_for(self, instrument_id: str) -> CompiledInstrument:
        if self.target is not None:
            if self.target.instrument.id != instrument_id:
                raise _Fail("instrument", f"an assessment of {instrument_id}, not of {self.target.instrument.id}")
            return self.target
        versions = self.versions_of(instrument_id)
        if not versions:
            raise _Fail("instrument", f"no instrument {instrument_id!r}")
        from ..content.migration import version_order as _ordered

        return versions[max(versions, key=_ordered)]

    def scorer(self, ci: CompiledInstrument) -> Scorer:
        key = f"{ci.instrument.id}@{ci.instrument.version}:{ci.sha256}"
        if key not in self._scorers:
            self._scorers[key] = Scorer(ci, self.rules)
        return self._scorers[key]

    def plan(self, source: str, target: CompiledInstrument) -> MigrationPlan:
        key = (target.instrument.id, source, target.sha256)
        if key not in self._plans:
            versions = {v: c.instrument for v, c in self.versions_of(target.instrument.id).items()}
            self._plans[key] = plan_migration(source, target.instrument, versions)
        return self._plans[key]

    # ------------------------------------------------------------------ one record

    def one(self, record: StoredAssessment) -> Rescored | Failed:
        """Re-score one assessment; every expected problem becomes a ``Failed``."""
        try:
            return self._rescored(record, self._score(record))
        except _Fail as exc:
            return Failed(record.id, record.case, exc.reason, exc.stage)
        except ScreeningError as exc:
            return Failed(record.id, record.case, str(exc), "migration")

    def step(self, record: StoredAssessment) -> Rescored | Unchanged | Failed:
        """``one``, but an unchanged outcome comes back as a small ``Unchanged`` (a batch's common case).

        Three quarters of a large re-score is unchanged; building a ``Rescored``
        with its reasons for each of them cost more than scoring them.
        """
        try:
            scored = self._score(record)
            if scored.change == "unchanged" and self.full_results != "all":
                return Unchanged(record, scored.target, scored.new, scored.old_rank, scored.new_rank)
            return self._rescored(record, scored)
        except _Fail as exc:
            return Failed(record.id, record.case, exc.reason, exc.stage)
        except ScreeningError as exc:
            return Failed(record.id, record.case, str(exc), "migration")

    def route(self, instrument_id: str, version: str) -> _Route:
        """Target, source, migration plan and scorers for assessments of one version (cached)."""
        key = (instrument_id, version)
        found = self._routes.get(key)
        if found is None:
            target = self.target_for(instrument_id)
            source = self.versions_of(instrument_id).get(version)
            if source is None:
                raise _Fail("instrument", f"{instrument_id} {version} is not a known version")
            plan = self.plan(version, target)
            found = _Route(target, source, plan, self.scorer(target), self.scorer(source))
            self._routes[key] = found
        return found

    def _score(self, record: StoredAssessment) -> _Scored:
        """Migrate and score one assessment and compare with its baseline (what every record needs)."""
        target, source, plan, scorer, source_scorer = self.route(record.instrument, record.version)
        answers = plan.apply(record.answers)
        judgement = record.judgement
        if judgement is not None and plan.steps:
            judgement = JudgementInput(level=plan.level(judgement.level), rationale=judgement.rationale)
        dropped: str | None = None
        try:
            new = scorer.outcome(answers, judgement, record.facts)
        except JudgementError as exc:
            dropped, judgement = exc.reason, None
            new = self._outcome(scorer, answers, None, record.facts, "answers", target)
        except ScreeningError as exc:
            raise _Fail("answers", f"after migration to {target.instrument.version}: {exc}") from None
        baseline: Literal["stored", "recomputed"] = "stored"
        old = record.result
        if old is None:
            baseline = "recomputed"
            old = self._outcome(source_scorer, record.answers, record.judgement, record.facts, "record", source)
        old_rank = _rank(target, plan.level(old.level) if old.level else None)
        new_rank = _rank(target, new.level)
        change = classify(old, new, old_rank, new_rank, dropped is not None)
        return _Scored(
            target, plan, scorer, answers, judgement, new, dropped, old, baseline, old_rank, new_rank, change
        )

    def _rescored(self, record: StoredAssessment, scored: _Scored) -> Rescored:
        """The full ``Rescored``: referral changes, the new ``Result`` when asked for, and why it changed."""
        target, plan, scorer, answers, judgement, new, dropped, old, baseline, old_rank, new_rank, change = scored
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        if new.referrals != old.referrals:  # the same services in the same order, mostly
            added = tuple(s for s in new.referrals if s not in old.referrals)
            removed = tuple(s for s in old.referrals if s not in new.referrals)
        result = None
        notes: tuple[Note, ...] = ()
        reasons: tuple[Text, ...] = ()
        if self.full_results == "all" or (self.full_results == "changed" and change != "unchanged"):
            result = scorer.result(
                answers, judgement, record.facts, assessor=record.assessor, assessed_at=record.completed_at
            )
        if change != "unchanged":
            collected: list[Note] = []
            plan.apply(record.answers, collected)
            notes = tuple(collected)
            reasons = self._reasons(target, old, new, notes, plan, dropped, record.judgement, answers)
        return Rescored(
            record=record, target=target, old=old, new=new, change=change, baseline=baseline,
            old_rank=old_rank, new_rank=new_rank, referrals_added=added, referrals_removed=removed,
            judgement_dropped=dropped is not None, notes=notes, reasons=reasons, result=result, answers=answers,
        )

    def _reasons(
        self,
        target: CompiledInstrument,
        old: Outcome,
        new: Outcome,
        notes: tuple[Note, ...],
        plan: MigrationPlan,
        dropped: str | None,
        judgement: JudgementInput | None,
        answers: Mapping[str, object],
    ) -> tuple[Text, ...]:
        """Why the outcome changed; memoised, since a large run repeats the same few reasons."""
        from ._reasons import not_asked, reasons_for

        missing = not_asked(notes, answers)
        key = (target.sha256, plan.source, old, new, new.scores, new.why, notes, missing, dropped,
               None if judgement is None else judgement.level)
        found = self._why.get(key)
        if found is None:
            found = tuple(reasons_for(target, self.rules, old, new, notes, plan, dropped, judgement, missing))
            if len(self._why) >= 65_536:
                self._why.clear()
            self._why[key] = found
        return found

    def _outcome(
        self,
        scorer: Scorer,
        answers: Mapping[str, object],
        judgement: JudgementInput | None,
        facts: Mapping[str, object],
        stage: Literal["record", "answers"],
        ci: CompiledInstrument,
    ) -> Outcome:
        try:
            return scorer.outcome(answers, judgement, facts)
        except JudgementError:
            if judgement is None:
                raise
            return self._outcome(scorer, answers, None, facts, stage, ci)
        except ScreeningError as exc:
            where = "the stored answers" if stage == "record" else "after migration"
            raise _Fail("answers", f"{where} do not fit {ci.instrument.id} {ci.instrument.version}: {exc}") from None


class _Scored(NamedTuple):
    target: CompiledInstrument
    plan: MigrationPlan
    scorer: Scorer
    answers: dict[str, object]
    judgement: JudgementInput | None
    new: Outcome
    dropped: str | None
    old: Outcome
    baseline: Literal["stored", "recomputed"]
    old_rank: int | None
    new_rank: int | None
    change: Change


class _Route(NamedTuple):
    target: CompiledInstrument
    source: CompiledInstrument
    plan: MigrationPlan
    scorer: Scorer
    source_scorer: Scorer


class _Fail(Exception):
    def __init__(self, stage: Literal["record", "instrument", "migration", "answers"], reason: str) -> None:
        self.stage = stage
        self.reason = reason
        super().__init__(reason)


def _rank(ci: CompiledInstrument, level: str | None) -> int | None:
    return ci.levels.index(level) if level is not None and level in ci.levels else None


def classify(old: Outcome, new: Outcome, old_rank: int | None, new_rank: int | None, dropped: bool = False) -> Change:
    """Which list an assessment goes on; anything that lost a concluded level needs review."""
    if old_rank is not None and new_rank is not None and new_rank != old_rank:
        return "rose" if new_rank > old_rank else "fell"
    if dropped or old_rank != new_rank or old.status != new.status:
        return "review"
    if set(old.referrals) != set(new.referrals):
        return "referrals"
    if old.complete != new.complete:
        return "review"
    if set(old.critical) != set(new.critical):
        return "other"
    return "unchanged"


def rescore(
    records: Iterable[StoredAssessment | Mapping[str, object]],
    target: CompiledInstrument | None,
    rules: CompiledRuleSet | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    versions: Mapping[str, Mapping[str, CompiledInstrument]] | None = None,
    full_results: Literal["changed", "all", "none"] = "changed",
) -> Iterator[Rescored | Failed]:
    """Re-score stored assessments one by one; bad records come out as ``Failed``.

    Args:
        records: ``StoredAssessment`` objects, or mappings in the JSON Lines shape.
        target: the instrument version to score with (``None``: each record's latest).
        rules: the referral rule set (``load_rules``), or ``None``.
        home: content directory holding the older versions and their migrations.
        versions: compiled versions not under ``home`` (id → version → instrument).
        full_results: when to build the full ``Result`` (see ``Rescorer``).

    Yields:
        ``Rescored`` or ``Failed``, in the order of ``records``.
    """
    engine = Rescorer(target, rules, home=home, versions=versions, full_results=full_results)
    for raw in records:
        if isinstance(raw, StoredAssessment):
            yield engine.one(raw)
            continue
        try:
            record = StoredAssessment.from_json(raw)
        except ValueError as exc:
            ident = raw.get("id") if isinstance(raw, Mapping) else None
            case = raw.get("case") if isinstance(raw, Mapping) else None
            # Echo only what is shaped like an id or a pseudonym: a bad record may hold anything.
            ident = ident if isinstance(ident, str) and pseudonym_ok(ident) else "?"
            case = case if isinstance(case, str) and pseudonym_ok(case) else "?"
            yield Failed(ident, case, str(exc), "record")
            continue
        yield engine.one(record)
