"""Reports: the view context built from a result, answers as shown, escaping, rendering
with the sandboxed Jinja templates, and the plain-text presentation used in the terminal.

May import: ``screening.engine``, ``screening.referral``, ``screening.content``,
``screening.errors`` / jinja2, pydantic and the stdlib.
Must not import: store, interview, batch, cli. A new report format is a template plus
an entry in ``_render``/``_escape``.

Modules: ``_answers``, ``_context``, ``_escape``, ``_labels``, ``_render``, ``_time``,
``present``.

The names below are those the old ``screening.report`` module exported; they are
loaded on first use (PEP 562) so importing one module of the package does not
load the rest.
"""

import typing

from .._lazy import exports as _exports
from .._lazy import from_module as _from_module

if typing.TYPE_CHECKING:
    from ._render import (
        FORMATS,
        LANGS,
        PROFILES,
        CaseInfo,
        ReportError,
        environment,
        labels,
        local_zone,
        print_time,
        render_report,
        render_template,
        report_context,
        template_name,
    )

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

__getattr__, __dir__ = _exports(__name__, _from_module("._render", __all__))
