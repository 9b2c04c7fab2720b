"""Library workflows that read files: score an answers file, load answers with locations.

May import: errors, instrument, loader, engine, yamlsafe / stdlib.

Kept out of the engine so the engine stays pure; the CLI and other systems call
these when their answers live in YAML or JSON files.
"""

from __future__ import annotations

import os
from pathlib import Path

from .engine import assess
from .errors import AnswerError, Issue, SpecError
from .instrument import JudgementInput
from .loader import load_instrument
from .result import Result
from .yamlsafe import load_yaml_file

__all__ = ["load_answers", "score_file"]


def load_answers(path: str | os.PathLike[str]) -> dict[str, object]:
    """Read a YAML or JSON mapping of item id → answer (strict YAML, no surprises)."""
    doc = load_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise SpecError([Issue(str(path), 1, 1, "", "answers must be a mapping of item id to answer")])
    return dict(doc.data)


def score_file(
    instrument: str,
    answers_path: str | os.PathLike[str],
    *,
    judgement: str | None = None,
    rationale: str | None = None,
    assessor: str | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Result:
    """Load an instrument and an answers file and assess them.

    Raises:
        SpecError: the instrument or the answers file is not valid YAML/JSON.
        AnswerError: an answer does not fit its item; the message names the file.
    """
    ci = load_instrument(instrument, home)
    answers = load_answers(answers_path)
    given = JudgementInput(level=judgement, rationale=rationale) if judgement and rationale else None
    try:
        return assess(ci, answers, judgement=given, assessor=assessor)
    except AnswerError as exc:
        raise AnswerError(f"{Path(answers_path)}: {exc.item_id}", exc.reason, exc.allowed) from None
