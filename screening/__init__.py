"""screening: structured risk screening for violence in close relationships.

Instruments are YAML data, scored by a pure engine into risk levels with an
explanation, mapped to recommended referrals, and rendered as reports. Only the
names in ``__all__`` are supported API; module paths may change.

Every name but the errors is loaded on first use (PEP 562), so ``import
screening`` — and ``screening --help`` or ``screening cases`` — pays for neither
pydantic, the engine, Jinja nor SQLite until a command needs them.
"""

import typing

from ._lazy import exports as _exports
from ._version import __version__
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

if typing.TYPE_CHECKING:
    from .api import load_answers, score_file
    from .assessment import assess
    from .content.loader import list_instruments, load_instrument, load_instrument_file, parse_instrument
    from .content.rules_loader import load_rules, load_rules_file
    from .content.texts import load_texts
    from .engine import summarize
    from .engine.instrument import Instrument, Item, JudgementInput, Text
    from .engine.result import Referral, Result
    from .engine.scoring import CompiledInstrument
    from .files import FileWriteError, write_private
    from .interview import Outcome as InterviewOutcome
    from .interview import Prompter, run_interview
    from .referral import CompiledRuleSet
    from .report import CaseInfo, ReportError, render_report
    from .store import AssessmentInfo, SavedResult, Store, default_store_path

_LAZY = {
    "CompiledInstrument": ("engine.scoring", "CompiledInstrument"),
    "CompiledRuleSet": ("referral", "CompiledRuleSet"),
    "Instrument": ("engine.instrument", "Instrument"),
    "Item": ("engine.instrument", "Item"),
    "JudgementInput": ("engine.instrument", "JudgementInput"),
    "Referral": ("engine.result", "Referral"),
    "Result": ("engine.result", "Result"),
    "Text": ("engine.instrument", "Text"),
    "assess": ("assessment", "assess"),
    "list_instruments": ("content.loader", "list_instruments"),
    "load_answers": ("api", "load_answers"),
    "load_instrument": ("content.loader", "load_instrument"),
    "load_instrument_file": ("content.loader", "load_instrument_file"),
    "load_rules": ("content.rules_loader", "load_rules"),
    "load_rules_file": ("content.rules_loader", "load_rules_file"),
    "load_texts": ("content.texts", "load_texts"),
    "parse_instrument": ("content.loader", "parse_instrument"),
    "score_file": ("api", "score_file"),
    "summarize": ("engine", "summarize"),
    "AssessmentInfo": ("store", "AssessmentInfo"),
    "CaseInfo": ("report", "CaseInfo"),
    "FileWriteError": ("files", "FileWriteError"),
    "InterviewOutcome": ("interview", "Outcome"),
    "Prompter": ("interview", "Prompter"),
    "ReportError": ("report", "ReportError"),
    "SavedResult": ("store", "SavedResult"),
    "Store": ("store", "Store"),
    "default_store_path": ("store", "default_store_path"),
    "render_report": ("report", "render_report"),
    "run_interview": ("interview", "run_interview"),
    "write_private": ("files", "write_private"),
}

__all__ = [
    "AnswerError",
    "AssessmentInfo",
    "AssessmentLocked",
    "CaseInfo",
    "CompiledInstrument",
    "CompiledRuleSet",
    "ExpressionError",
    "FileWriteError",
    "Instrument",
    "InterviewInterrupted",
    "InterviewOutcome",
    "Issue",
    "Item",
    "JudgementError",
    "JudgementInput",
    "Prompter",
    "Referral",
    "ReportError",
    "Result",
    "SavedResult",
    "ScreeningError",
    "SpecError",
    "Store",
    "StoreError",
    "Text",
    "__version__",
    "assess",
    "default_store_path",
    "list_instruments",
    "load_answers",
    "load_instrument",
    "load_instrument_file",
    "load_rules",
    "load_rules_file",
    "load_texts",
    "parse_instrument",
    "render_report",
    "run_interview",
    "score_file",
    "summarize",
    "write_private",
]

__getattr__, __dir__ = _exports(__name__, {name: (f".{module}", attr) for name, (module, attr) in _LAZY.items()})
