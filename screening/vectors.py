"""Run an instrument's golden vectors: answers with a hand-worked expected outcome.

May import: errors, instrument, scoring, engine / stdlib.

``screening validate`` runs these for every instrument, so a change in the engine
or in the YAML that moves a level fails loudly (the QRISK lesson: compare against
outcomes worked out independently).
"""

from __future__ import annotations

from dataclasses import dataclass

from .assessment import assess
from .engine.scoring import CompiledInstrument
from .errors import ScreeningError

__all__ = ["VectorFailure", "run_vectors"]


@dataclass(frozen=True)
class VectorFailure:
    index: int
    name: str
    field: str
    expected: object
    actual: object

    def __str__(self) -> str:
        return f"tests.{self.index} ({self.name}): {self.field}: expected {self.expected!r}, got {self.actual!r}"


def run_vectors(ci: CompiledInstrument) -> list[VectorFailure]:
    """Every mismatch between a golden vector's expectation and the engine."""
    failures: list[VectorFailure] = []
    for index, vector in enumerate(ci.instrument.tests):
        try:
            result = assess(ci, vector.answers, judgement=vector.judgement)
        except ScreeningError as exc:
            failures.append(VectorFailure(index, vector.name, "error", None, str(exc)))
            continue
        expect = vector.expect
        actual: dict[str, object] = {
            "computed_level": result.computed_level,
            "final_level": result.final_level,
            "status": result.status,
            "complete": result.complete,
            "critical": sorted(result.critical),
            "critical_possible": sorted(result.critical_possible),
            "level_range": None if result.level_range is None else (result.level_range.min, result.level_range.max),
            "requirements_unmet": sorted(result.requirements_unmet),
            "unknown": result.completeness.unknown,
        }
        for field, got in actual.items():
            want = getattr(expect, field)
            if field in ("critical", "critical_possible", "requirements_unmet") and want is not None:
                want = sorted(want)
            if want is not None and want != got:
                failures.append(VectorFailure(index, vector.name, field, want, got))
        if "computed_level" in expect.model_fields_set and expect.computed_level is None and result.computed_level:
            failures.append(VectorFailure(index, vector.name, "computed_level", None, result.computed_level))
        for score_id, want_score in expect.scores.items():
            got_score = result.scores[score_id].value
            if got_score != want_score:
                failures.append(VectorFailure(index, vector.name, f"scores.{score_id}", want_score, got_score))
    return failures
