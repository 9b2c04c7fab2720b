"""The request bodies the API accepts: strict pydantic models, unknown fields refused (no mass assignment).

May import: pydantic / stdlib.

Sizes are bounded here as well as by the body limit, so a client learns which
field was too long or had too many entries instead of a bare 413.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AnswerBody", "FactBody", "JudgementBody", "Login", "NewCase", "ReportRequest", "ScoreRequest",
           "ValidateRequest"]

_Id = Annotated[str, Field(min_length=1, max_length=100)]
_MAX_ANSWERS = 2_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Login(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class JudgementBody(_Strict):
    """The assessor's level and why; ``acknowledged``: critical rule id → why it is judged not to hold."""

    level: Annotated[str, Field(min_length=1, max_length=64)]
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    acknowledged: Annotated[dict[_Id, Annotated[str, Field(max_length=2000)]], Field(max_length=100)] = {}


class ScoreRequest(_Strict):
    instrument: _Id
    version: Annotated[str | None, Field(max_length=40)] = None
    answers: Annotated[dict[_Id, Any], Field(max_length=_MAX_ANSWERS)]
    facts: Annotated[dict[_Id, Any], Field(max_length=100)] = {}
    judgement: JudgementBody | None = None
    rules: Literal["default", "none"] = "default"
    lang: Literal["sv", "en"] = "sv"


class NewCase(_Strict):
    instrument: _Id
    version: Annotated[str | None, Field(max_length=40)] = None
    case_ref: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    lang: Literal["sv", "en"] = "sv"


class AnswerBody(_Strict):
    value: Any
    partial: bool = False


class FactBody(_Strict):
    value: Any


class ReportRequest(_Strict):
    result: dict[str, Any]
    format: Literal["html", "md", "txt"] = "html"
    lang: Literal["sv", "en"] = "sv"
    profile: Literal["case-file", "referral"] = "case-file"


class ValidateRequest(_Strict):
    yaml: Annotated[str, Field(min_length=1, max_length=200_000)]
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")] = "instrument.yaml"
