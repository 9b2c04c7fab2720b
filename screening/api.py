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
from .referral import CompiledRuleSet
from .result import Result
from .rules_loader import find_rules, load_rules, load_rules_file
from .yamlsafe import load_yaml_file

__all__ = ["DEFAULT_RULES", "load_answers", "parse_fact", "resolve_rules", "score_file"]

DEFAULT_RULES = "stockholm"


def resolve_rules(ref: str | None, home: str | os.PathLike[str] | None) -> CompiledRuleSet | None:
    """``"default"`` → the bundled Stockholm rule set if present; ``None``/``"none"`` → no rules."""
    if ref is None or ref == "none":
        return None
    if ref == "default":
        try:
            path = find_rules(DEFAULT_RULES, home)
        except SpecError:
            return None
        return load_rules_file(path, home)
    return load_rules(ref, home)


def parse_fact(text: str) -> tuple[str, object]:
    """``name=value`` from the command line: ``true``/``false``, integers, or a word."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise AnswerError(text[:32], "a case fact is written name=value")
    value: object = raw
    if raw in ("true", "false"):
        value = raw == "true"
    elif raw.lstrip("-").isdigit():
        value = int(raw)
    return name.strip(), value


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
    rules: str | None = "default",
    facts: dict[str, object] | None = None,
    texts: str | os.PathLike[str] | None = None,
) -> Result:
    """Load an instrument and an answers file and assess them.

    Raises:
        SpecError: the instrument or the answers file is not valid YAML/JSON.
        AnswerError: an answer does not fit its item; the message names the file.
    """
    ci = load_instrument(instrument, home)
    if texts is not None:
        from .texts import load_texts

        ci = load_texts(ci, texts)
    answers = load_answers(answers_path)
    given = JudgementInput(level=judgement, rationale=rationale) if judgement and rationale else None
    ruleset = resolve_rules(rules, home)
    try:
        return assess(ci, answers, judgement=given, assessor=assessor, rules=ruleset, facts=facts)
    except AnswerError as exc:
        raise AnswerError(f"{Path(answers_path)}: {exc.item_id}", exc.reason, exc.allowed) from None
