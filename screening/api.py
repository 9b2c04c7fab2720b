"""Library workflows that read files: score an answers file, load answers with locations.

May import: errors, instrument, loader, engine, yamlsafe / stdlib.

Kept out of the engine so the engine stays pure; the CLI and other systems call
these when their answers live in YAML or JSON files.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from .assessment import assess
from .content.loader import load_instrument
from .content.rules_loader import find_rules, load_rules_file
from .content.yamlsafe import load_yaml_file
from .engine.instrument import MAX_RATIONALE, JudgementInput
from .engine.pnr import looks_like_personnummer
from .engine.result import Result
from .engine.scoring import CompiledInstrument
from .errors import AnswerError, Issue, JudgementError, SpecError
from .referral import CompiledRuleSet

__all__ = [
    "DEFAULT_RULES",
    "judgement_input",
    "load_answers",
    "parse_fact",
    "resolve_level",
    "resolve_rules",
    "score_file",
]

DEFAULT_RULES = "stockholm"
MAX_FACT_DIGITS = 18  # any case fact is far smaller; int() of thousands of digits is slow or refused


def resolve_rules(
    ref: str | None, home: str | os.PathLike[str] | None, *, check: Literal["all", "in use"] = "in use"
) -> CompiledRuleSet | None:
    """``"default"`` → the bundled Stockholm rule set if present; ``None``/``"none"`` → no rules.

    A command uses one instrument, so by default the rule set is checked for the
    instrument in use (``load_rules_file``'s ``check``); ``"all"`` checks it against
    every instrument, as when a municipality chooses its rule set (``config set``).
    """
    if ref is None or ref == "none":
        return None
    if ref == "default":
        try:
            path = find_rules(DEFAULT_RULES, home)
        except SpecError:
            return None
        return load_rules_file(path, home, check=check)
    return load_rules_file(find_rules(ref, home), home, check=check)


def parse_fact(text: str) -> tuple[str, object]:
    """``name=value`` from the command line: ``true``/``false``, integers, or a word."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise AnswerError(text[:32], "a case fact is written name=value")
    value: object = raw
    digits = raw.removeprefix("-")
    if raw in ("true", "false"):
        value = raw == "true"
    elif digits.isascii() and digits.isdigit():
        if len(digits) > MAX_FACT_DIGITS:
            raise AnswerError(name[:64], f"a number of at most {MAX_FACT_DIGITS} digits")
        value = int(raw)
    return name, value


def judgement_input(
    ci: CompiledInstrument,
    level: object,
    rationale: object,
    *,
    lang: str = "sv",
    acknowledged: Mapping[str, str] | None = None,
) -> JudgementInput | None:
    """The assessor's judgement from what a person typed; ``None`` when neither part was given.

    A judgement is applied or refused, never dropped: a level without a rationale,
    a blank or too long rationale, or a level the instrument does not have is an
    error. The messages are in Swedish and English and never repeat what was typed
    (a rationale is personal data, and a mistyped level may be one too).

    Args:
        ci: the instrument the judgement is about.
        level: a level id, its label in Swedish or English (any case), or the
            interview's key for it in ``lang`` (see ``resolve_level``).
        rationale: why; at most ``MAX_RATIONALE`` characters.
        lang: the session language, which decides the keys.
        acknowledged: critical rule id → why the assessor judges it not to hold,
            for the critical rules an unknown answer could make hold above the
            judged level (``decide`` refuses the judgement without them).

    Raises:
        JudgementError: one part without the other, or either part unusable.
    """
    if level is None and rationale is None:
        if acknowledged:
            raise JudgementError(
                "Skäl för kritiska regler utan bedömning. / Reasons for critical rules were given without a judgement."
            )
        return None
    if level is None or (isinstance(level, str) and not level.strip()):
        raise JudgementError("En motivering utan bedömd nivå. / A rationale was given without a level.")
    if not isinstance(level, str) or not (rationale is None or isinstance(rationale, str)):
        raise JudgementError("Nivå och motivering ska vara text. / The level and the rationale must be text.")
    if rationale is None or not rationale.strip():
        raise JudgementError("En bedömning behöver en motivering. / A judgement needs a rationale.")
    text = rationale.strip()
    if len(text) > MAX_RATIONALE:
        raise JudgementError(
            f"Motiveringen har {len(text)} tecken, högst {MAX_RATIONALE} går. / "
            f"The rationale has {len(text)} characters; at most {MAX_RATIONALE} are allowed."
        )
    reasons = _acknowledgements(ci, acknowledged or {})
    return JudgementInput(level=resolve_level(ci, level, lang=lang), rationale=text, acknowledged=reasons)


_RULE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def _acknowledgements(ci: CompiledInstrument, given: Mapping[str, str]) -> dict[str, str]:
    """Reasons per critical rule, checked: a known rule, a reason of bounded length (neither echoed)."""
    rules = {critical.id for critical in ci.instrument.critical}
    out: dict[str, str] = {}
    for rule, reason in given.items():
        if rule not in rules:
            known = ", ".join(sorted(rules)) or "–"
            # The key is the caller's text (over HTTP: anything): echoed only when shaped like a rule id.
            if _RULE_ID.fullmatch(rule) and not looks_like_personnummer(rule):
                raise JudgementError(f"Ingen kritisk regel {rule!r} (finns: {known}). / "
                                     f"No critical rule {rule!r} (there are: {known}).")
            raise JudgementError(f"En kvittering nämner en kritisk regel som inte finns (finns: {known}). / "
                                 f"An acknowledgement names a critical rule that does not exist (there are: {known}).")
        text = reason.strip() if isinstance(reason, str) else ""
        if not text or len(text) > MAX_RATIONALE:
            raise JudgementError(
                f"Skälet för {rule} ska vara 1–{MAX_RATIONALE} tecken. / "
                f"The reason for {rule} must be 1–{MAX_RATIONALE} characters."
            )
        out[rule] = text
    return out


def resolve_level(ci: CompiledInstrument, text: str, *, lang: str = "sv") -> str:
    """The level id ``text`` names: the id, a label in either language (any case), or a key.

    Ids and labels come first, so a key never shadows a level's own name; keys are
    the digits the interview's judgement prompt shows (1 for the lowest level), the
    same in both languages.

    Raises:
        JudgementError: the instrument takes no judgement, or no level matches; the
            message lists the levels in words.
    """
    inst = ci.instrument
    if inst.judgement.policy == "none" or not inst.levels:
        raise JudgementError(f"{inst.id} ger ingen nivå att bedöma. / {inst.id} gives no level to judge.")
    wanted = _fold(text)
    for level in inst.levels:
        if wanted in (level.id, _fold(level.label.sv), _fold(level.label.en)):
            return level.id
    if wanted.isascii() and wanted.isdigit() and 1 <= int(wanted) <= len(inst.levels):
        return inst.levels[int(wanted) - 1].id  # the digit the interview's judgement prompt shows
    sv, en = (", ".join(f"{level.label.get(lg)} ({level.id})" for level in inst.levels) for lg in ("sv", "en"))
    raise JudgementError(f"Okänd nivå; välj en av: {sv}. / Unknown level; choose one of: {en}.")


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


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
    lang: str = "sv",
    acknowledged: Mapping[str, str] | None = None,
) -> Result:
    """Load an instrument and an answers file and assess them.

    ``judgement`` is a level id, its label in either language or its key in
    ``lang`` (see ``judgement_input``); with it, a ``rationale`` is required.

    Raises:
        SpecError: the instrument or the answers file is not valid YAML/JSON.
        AnswerError: an answer does not fit its item; the message names the file.
        JudgementError: a judgement without a rationale (or the reverse), an unknown
            level, or a judgement the instrument's policy refuses.
    """
    ci = load_instrument(instrument, home)
    if texts is not None:
        from .content.texts import load_texts

        ci = load_texts(ci, texts)
    given = judgement_input(ci, judgement, rationale, lang=lang, acknowledged=acknowledged)
    answers = load_answers(answers_path)
    ruleset = resolve_rules(rules, home)
    try:
        return assess(ci, answers, judgement=given, assessor=assessor, rules=ruleset, facts=facts)
    except AnswerError as exc:
        raise AnswerError(f"{Path(answers_path)}: {exc.item_id}", exc.reason, exc.allowed) from None
