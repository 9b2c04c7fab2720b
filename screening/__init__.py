"""screening: structured risk screening for violence in close relationships.

Instruments are YAML data, scored by a pure engine into risk levels with an
explanation, mapped to recommended referrals, and rendered as reports. Only the
names in ``__all__`` are supported API; module paths may change.
"""

from ._version import __version__
from .engine import assess
from .errors import (
    AnswerError,
    AssessmentLocked,
    ExpressionError,
    InterviewInterrupted,
    Issue,
    JudgementError,
    ScreeningError,
    SpecError,
    StoreError,
)
from .instrument import Instrument, JudgementInput
from .loader import list_instruments, load_instrument, load_instrument_file, parse_instrument
from .result import Result
from .scoring import CompiledInstrument

__all__ = [
    "AnswerError",
    "AssessmentLocked",
    "CompiledInstrument",
    "ExpressionError",
    "Instrument",
    "InterviewInterrupted",
    "Issue",
    "JudgementError",
    "JudgementInput",
    "Result",
    "ScreeningError",
    "SpecError",
    "StoreError",
    "__version__",
    "assess",
    "list_instruments",
    "load_instrument",
    "load_instrument_file",
    "parse_instrument",
]
