"""Render the re-score diff as JSON, or as Markdown or HTML through the report templates.

May import: instrument, scoring, report, report._escape, _texts / stdlib.

The templates (``reports/rescore.md.j2``, ``rescore.html.j2``) are rendered by the
report module's one environment (autoescape on for HTML, ``StrictUndefined``, a
``finalize`` that refuses a missing value), and every string is cleaned for the
format first (``report._escape``), so a case pseudonym or an authored text can
never become markup. The diff holds pseudonyms, levels, rule and service names:
never an answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from ..engine.instrument import Text
from ..engine.scoring import CompiledInstrument
from ..report._escape import Format, clean_tree, cleaner
from ._texts import LABELS, label

__all__ = ["FORMATS", "render_diff"]

FORMATS = ("md", "html", "json")
_KEEP = frozenset({"change", "kind"})


def render_diff(
    diff: Mapping[str, Any],
    fmt: str,
    *,
    lang: str = "sv",
    targets: Mapping[str, CompiledInstrument] | None = None,
    services: Mapping[str, Text] | None = None,
) -> str:
    """The diff as text in ``fmt`` (``md``, ``html`` or ``json``) and ``lang`` (``sv`` or ``en``)."""
    if fmt == "json":
        return json.dumps(diff, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    from ..report import ReportError, render_template

    if fmt not in ("md", "html"):
        raise ReportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})", "format")
    if lang not in ("sv", "en"):
        raise ReportError(f"unknown language {lang!r} (languages: sv, en)", "lang")
    view = _view(diff, lang, targets or {}, services or {})
    context = cast(dict[str, Any], clean_tree(view, cleaner(cast(Format, fmt)), _KEEP))
    return render_template(f"rescore.{fmt}.j2", context)


def _level_names(ci: CompiledInstrument | None, lang: str) -> dict[int, str]:
    names = {-1: label("no_level").get(lang)}
    if ci is not None:
        names.update({n: lv.label.get(lang) for n, lv in enumerate(ci.instrument.levels)})
    return names


def _view(
    diff: Mapping[str, Any], lang: str, targets: Mapping[str, CompiledInstrument], services: Mapping[str, Text]
) -> dict[str, Any]:
    t = {key: label(key).get(lang) for key in LABELS}

    def service(sid: str) -> str:
        return services[sid].get(lang) if sid in services else sid

    def status(outcome: Mapping[str, Any]) -> str:
        key = f"status_{outcome['status']}"
        text = t.get(key, str(outcome["status"]))
        return text if outcome.get("complete", True) else f"{text}, {t['status_incomplete']}"

    rules = diff.get("rules")
    counts = diff["counts"]
    view: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "applied": bool(diff["applied"]),
        "summary": diff["summary"][lang],
        "targets": [f"{x['id']} {x['version']} (sha256 {x['sha256'][:16]})" for x in diff["targets"]] or ["-"],
        "rules": f"{rules['id']} {rules['version']} (sha256 {rules['sha256'][:16]})" if rules else t["none"],
        "engine": str(diff["engine_version"]),
        "counts": [
            {"label": t[key], "value": str(counts[key])}
            for key in ("total", "rose", "review", "fell", "referrals", "other", "unchanged", "failed", "stored")
        ],
        "matrices": [],
        "sections": [],
        "failed": [
            {"case": f["case"], "id": f["id"][:12], "reason": f["reason"]} for f in diff["failed"]
        ],
    }
    for m in diff["matrices"]:
        names = _level_names(targets.get(m["instrument"]), lang)
        size = len(m["levels"]) - 1
        order = [*range(size), -1]
        header = [names.get(n, m["levels"][i]) for i, n in enumerate(order)]
        view["matrices"].append(
            {
                "title": f"{m['instrument']} {m['version']}",
                "header": header,
                "rows": [{"label": header[i], "cells": [str(c) for c in row]} for i, row in enumerate(m["rows"])],
            }
        )
    for change, items in diff["changed"].items():
        if not items:
            continue
        entries = []
        for item in items:
            names = _level_names(targets.get(item["instrument"]), lang)
            old, new = item["old_rank"], item["new_rank"]
            entries.append(
                {
                    "case": item["case"],
                    "id": item["id"][:12],
                    "versions": f"{item['from']} → {item['to']}",
                    "old": names.get(-1 if old is None else old, "-") + f" ({status(item['old'])})",
                    "new": names.get(-1 if new is None else new, "-") + f" ({status(item['new'])})",
                    "added": ", ".join(service(s) for s in item.get("added", [])) or t["none"],
                    "removed": ", ".join(service(s) for s in item.get("removed", [])) or t["none"],
                    "reasons": [r[lang] for r in item.get("reasons", [])],
                }
            )
        view["sections"].append({"change": change, "title": t[change], "entries": entries})
    return view
