"""Reports: a Result rendered as HTML, Markdown or plain text, for the case file or a partner.

May import: errors, _version, the engine's models, this package's _context, _escape,
_labels and _time / jinja2, markupsafe, pydantic, stdlib.

The report is what survives the interview: it goes into the case file and parts
of it may go to a referral partner, so it must say exactly what the engine
found and never leak what the reader should not see. Hence:

* one Jinja environment, built in ``environment()`` and cached: autoescape is
  decided by a function that is on for everything but our Markdown and text
  templates (``select_autoescape`` by extension misses ``x.html.j2``),
  ``StrictUndefined`` plus a ``finalize`` that refuses ``None`` (a missing
  value is an error, never an empty risk level);
* templates a user supplies (``templates=DIR``) run in an
  ``ImmutableSandboxedEnvironment``;
* all text is cleaned for the format before it reaches a template
  (``_escape``), and the referral profile's context never contains free
  text or protected answers at all (``_context``).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .._version import __version__
from ..engine.pnr import looks_like_personnummer
from ..engine.result import Result
from ..engine.scoring import CompiledInstrument
from ..errors import ScreeningError
from ._context import ViewInput, build_context
from ._escape import Format, clean_tree, cleaner
from ._labels import labels, package_reports
from ._time import print_time

__all__ = [
    "FORMATS",
    "LANGS",
    "PROFILES",
    "CaseInfo",
    "ReportError",
    "environment",
    "labels",
    "local_zone",
    "print_time",
    "render_report",
    "render_template",
    "report_context",
    "template_name",
]

Lang = Literal["sv", "en"]
Profile = Literal["case-file", "referral"]
FORMATS: tuple[Format, ...] = ("html", "md", "txt")
LANGS: tuple[Lang, ...] = ("sv", "en")
PROFILES: tuple[Profile, ...] = ("case-file", "referral")

# Template variables the templates compare against fixed words; never cleaned.
_IDENTIFIERS = frozenset({"profile", "status", "state", "type", "urgency", "kind", "direction"})
_PLAIN_SUFFIXES = (".md.j2", ".txt.j2")
# YYMMDD-XXXX, YYMMDD+XXXX, YYYYMMDD-XXXX and the same without separator; day 61–91
# is a samordningsnummer. Digits next to the match must not be digits.


class ReportError(ScreeningError):
    """A report cannot be made as asked (bad case data, wrong instrument, bad template)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


@dataclass(frozen=True)
class CaseInfo:
    """Who and what the report is about, as far as a report may say.

    Attributes:
        reference: the case pseudonym; a personal identity number is refused,
            because reports travel further than the case system.
        assessor: who assessed; defaults to the judgement's assessor.
        assessed_at: ISO date-time of the assessment; defaults to the result's.
        protected_identity: the person has protected personal data
            (skyddade personuppgifter): protected items are shown in no profile.
        audit_checkpoint: the store's audit checkpoint (``N:hex``) when the report
            was written, printed in the footer so a truncated trail can be detected.
    """

    reference: str
    assessor: str | None = None
    assessed_at: str | None = None
    protected_identity: bool = False
    audit_checkpoint: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reference, str) or not self.reference.strip():
            raise ReportError("a case reference (pseudonym) is required", "case.reference")
        if len(self.reference) > 128:
            raise ReportError("at most 128 characters", "case.reference")
        if looks_like_personnummer(self.reference):
            raise ReportError(
                "looks like a personal identity number; use the case pseudonym instead", "case.reference"
            )
        if self.assessor is not None and len(self.assessor) > 200:
            raise ReportError("at most 200 characters", "case.assessor")
        if self.audit_checkpoint is not None and not re.fullmatch(r"[0-9]{1,12}:[0-9a-f]{16}", self.audit_checkpoint):
            raise ReportError("expected an audit checkpoint such as 42:0123456789abcdef", "case.audit_checkpoint")
        if self.assessed_at is not None and not _is_iso_time(self.assessed_at):
            raise ReportError("expected an ISO date or date-time such as 2025-03-14T09:30", "case.assessed_at")


def _is_iso_time(text: str) -> bool:
    import datetime as dt

    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True




def _autoescape(name: str | None) -> bool:
    # On for every template that is not one of our plain formats, whatever its name.
    return not (name or "").endswith(_PLAIN_SUFFIXES)


def _finalize(value: object) -> object:
    if value is None:
        raise ReportError("a template printed a missing value (None)")
    return value


@functools.lru_cache(maxsize=8)
def environment(override: str | None = None) -> jinja2.Environment:
    """The one Jinja environment for reports, compiled once and cached.

    Args:
        override: a directory of templates supplied from outside the package.
            Its templates take precedence, may extend ``default:<name>``, and the
            whole environment is then sandboxed (``ImmutableSandboxedEnvironment``).
    """
    default = jinja2.FileSystemLoader(str(package_reports()))
    options: dict[str, Any] = {
        "undefined": jinja2.StrictUndefined,
        "autoescape": _autoescape,
        "finalize": _finalize,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "auto_reload": False,
    }
    if override is None:
        return jinja2.Environment(loader=default, **options)
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(override), jinja2.PrefixLoader({"default": default}, delimiter=":"), default]
    )
    return ImmutableSandboxedEnvironment(loader=loader, **options)


def template_name(fmt: str) -> str:
    """The template file for a format: ``report.html.j2``, ``report.md.j2``, ``report.txt.j2``."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})", "fmt")
    return f"report.{fmt}.j2"


def report_context(
    result: Result,
    *,
    instrument: CompiledInstrument | None = None,
    fmt: str = "html",
    lang: str = "sv",
    profile: str = "case-file",
    case: CaseInfo | None = None,
    timezone: str | None = None,
    printed_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The cleaned template context for a report (what ``render_report`` renders).

    Raises:
        ReportError: unknown format, language or profile, or an instrument that
            is not the one the result was scored with.
        SpecError: the instrument could not be loaded.
    """
    template_name(fmt)
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r} (languages: {', '.join(LANGS)})", "lang")
    if profile not in PROFILES:
        raise ReportError(f"unknown profile {profile!r} (profiles: {', '.join(PROFILES)})", "profile")
    ci, notices = _instrument_for(result, instrument, lang)
    table = labels()
    protected = bool(case and case.protected_identity)
    if protected:
        notices.insert(0, table["notice_protected_identity"].get(lang))
    judged_by = result.judgement.assessor if result.judgement else None
    view = ViewInput(
        result=result,
        ci=ci,
        lang=lang,
        profile=profile,
        reference=case.reference if case else None,
        assessor=(case.assessor if case and case.assessor else None) or judged_by,
        assessed_at=(case.assessed_at if case and case.assessed_at else None) or result.assessed_at,
        protected_identity=protected,
        notices=tuple(notices),
        engine_version=__version__,
        audit_checkpoint=case.audit_checkpoint if case else None,
        printed_at=printed_at or print_time(),
        zone=local_zone(timezone),
    )
    raw = build_context(view, table)
    if fmt != "html":
        del raw["print"]  # the page margins exist only on the printed HTML page
    cleaned = clean_tree(raw, cleaner(cast(Format, fmt)), _IDENTIFIERS)
    assert isinstance(cleaned, dict)
    cleaned["t"] = _label_view(lang, fmt)
    return cleaned


@functools.lru_cache(maxsize=16)
def _label_view(lang: str, fmt: str) -> Mapping[str, object]:
    """The fixed labels in one language, cleaned for one format; read-only and shared by every render."""
    clean = cleaner(cast(Format, fmt))
    return MappingProxyType({key: clean(text.get(lang)) for key, text in labels().items()})


def _instrument_for(
    result: Result, given: CompiledInstrument | None, lang: str
) -> tuple[CompiledInstrument, list[str]]:
    """The instrument to label the report with, and a notice when its content changed."""
    ref = result.instrument
    if given is None:
        from ..content.loader import load_instrument

        given = load_instrument(f"{ref.id}@{ref.version}")
    inst = given.instrument
    if (inst.id, inst.version) != (ref.id, ref.version):
        raise ReportError(
            f"the result was scored with {ref.id} {ref.version}, not {inst.id} {inst.version}", "instrument"
        )
    notices: list[str] = []
    if given.sha256 != ref.sha256:
        text = labels()["notice_hash_mismatch"].get(lang)
        notices.append(text.format(expected=ref.sha256[:16] or "—", actual=given.sha256[:16] or "—"))
    return given, notices


def local_zone(name: str | None) -> dt.tzinfo | None:
    """The time zone reports show times in: ``name`` (IANA, e.g. ``Europe/Stockholm``), else the system's (None).

    Raises:
        ReportError: an unknown zone name.
    """
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {name!r} (for example Europe/Stockholm)", "timezone") from None


def render_template(name: str, context: dict[str, Any], *, templates: str | os.PathLike[str] | None = None) -> str:
    """Render one report template with a prepared context (see ``report_context``).

    Raises:
        ReportError: the template is missing, uses an undefined value, breaks the
            sandbox or has a syntax error; the message names the template, never data.
    """
    env = environment(None if templates is None else str(Path(templates).resolve()))
    try:
        return env.get_template(name).render(context)
    except ReportError:
        raise
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"no template {exc.name!r}", "templates") from None
    except jinja2.UndefinedError as exc:
        raise ReportError(f"{name}: undefined value ({_safe_message(exc)})", "templates") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"{exc.name or name}:{exc.lineno}: {exc.message}", "templates") from None
    except jinja2.exceptions.SecurityError as exc:
        raise ReportError(f"{name}: not allowed in a report template ({_safe_message(exc)})", "templates") from None
    except Exception as exc:
        if templates is None:
            raise  # a bug in a shipped template: let the CLI report an incident
        raise ReportError(f"{name}: the template failed ({type(exc).__name__})", "templates") from None


def _safe_message(exc: Exception) -> str:
    # Jinja's messages name attributes and types, not values; keep them short anyway.
    return str(exc)[:200]


def render_report(
    result: Result,
    *,
    instrument: CompiledInstrument | None = None,
    fmt: str = "html",
    lang: str = "sv",
    profile: str = "case-file",
    case: CaseInfo | None = None,
    templates: str | os.PathLike[str] | None = None,
    timezone: str | None = None,
    printed_at: dt.datetime | None = None,
) -> str:
    """Render ``result`` as a report.

    Args:
        result: an assessment result (``assess`` or ``Result.model_validate_json``).
        instrument: the compiled instrument; loaded by id and version when omitted.
            A content hash different from the result's is stated in the report.
        fmt: ``html`` (self-contained, prints on A4), ``md`` or ``txt``.
        lang: ``sv`` (default) or ``en``.
        profile: ``case-file`` (everything) or ``referral`` (what a partner needs:
            no free text, no protected items, no answers). Chosen explicitly.
        case: case pseudonym, assessor, time and the protected-identity flag.
        templates: a directory of replacement templates (rendered sandboxed).
        timezone: the zone times are shown in (IANA name); default the system's.
            Stored times are UTC; the report shows local time with the zone's name.
        printed_at: when the report is made (default now); printed on every page.

    Returns:
        The report text.

    Raises:
        ReportError: a bad argument, wrong instrument or broken template.
        SpecError: the instrument could not be loaded.
    """
    context = report_context(
        result, instrument=instrument, fmt=fmt, lang=lang, profile=profile, case=case, timezone=timezone,
        printed_at=printed_at,
    )
    return render_template(template_name(fmt), context, templates=templates)
