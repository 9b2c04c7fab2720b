"""What changed between two versions of an instrument or of a referral rule set.

May import: errors, instrument, rules, migration_spec / pydantic, stdlib.

Before anyone re-scores stored assessments, a reviewer should see the change
itself: items added, removed or reworded, options and points, bands, critical
rules, levels, policies; rules added, removed or changed. The diff works on
the validated models (so formatting and comments do not show up) and names
every change by a dotted path an author can find in the YAML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..engine.instrument import Instrument, Item, Text
from .rules import RuleSet

__all__ = ["SpecChange", "diff_instruments", "diff_rulesets", "render_changes"]

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class SpecChange:
    """One difference: where (a dotted path), what kind, and the values before and after."""

    kind: Kind
    path: str
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "old": self.old, "new": self.new}


def _plain(value: object) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _field(path: str, old: object, new: object) -> Iterator[SpecChange]:
    if isinstance(old, Text) and isinstance(new, Text):  # one change per language, so a reviewer sees which
        for lang in ("sv", "en"):
            yield from _field(f"{path}.{lang}", old.get(lang), new.get(lang))
        return
    a, b = _plain(old), _plain(new)
    if a != b:
        yield SpecChange("changed", path, a, b)


def _keyed(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """The members present in both, with their old and new values."""
    for key in old:
        if key in new:
            yield key, old[key], new[key]


def _members(path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[SpecChange]:
    for key, value in old.items():
        if key not in new:
            yield SpecChange("removed", f"{path}.{key}", _plain(value), None)
    for key, value in new.items():
        if key not in old:
            yield SpecChange("added", f"{path}.{key}", None, _plain(value))


def _fields(path: str, old: BaseModel, new: BaseModel, skip: frozenset[str] = frozenset()) -> Iterator[SpecChange]:
    for name in type(old).model_fields:
        if name not in skip:
            yield from _field(f"{path}.{name}", getattr(old, name), getattr(new, name))


# ---------------------------------------------------------------------------- instruments


def _options(inst: Instrument, item: Item) -> dict[str, Any]:
    if item.type != "choice" or item.scale not in inst.scales:
        return {}
    return {o.value: o for o in inst.scales[item.scale].options}


def diff_instruments(old: Instrument, new: Instrument) -> list[SpecChange]:
    """Every difference between two instrument versions, in document order.

    Items are compared with their *effective* options (the scale they use), so a
    changed point value shows up on every item it moves.
    """
    out: list[SpecChange] = []
    skip = frozenset(
        {"sections", "scales", "scores", "levels", "bands", "critical", "requirements", "tests", "migrations"}
    )
    out.extend(_fields("", old, new, skip))
    old_items = {i.id: i for i in old.items()}
    new_items = {i.id: i for i in new.items()}
    out.extend(_members("items", old_items, new_items))
    for key, a, b in _keyed(old_items, new_items):
        out.extend(_fields(f"items.{key}", a, b, frozenset({"scale"})))
        oa, ob = _options(old, a), _options(new, b)
        out.extend(_members(f"items.{key}.options", oa, ob))
        for value, x, y in _keyed(oa, ob):
            out.extend(_fields(f"items.{key}.options.{value}", x, y, frozenset({"value", "keys"})))
    out.extend(_members("scales", old.scales, new.scales))
    for kind in ("scores", "levels", "critical", "requirements"):
        a_map = {x.id: x for x in getattr(old, kind)}
        b_map = {x.id: x for x in getattr(new, kind)}
        out.extend(_members(kind, a_map, b_map))
        for key, x, y in _keyed(a_map, b_map):
            out.extend(_fields(f"{kind}.{key}", x, y, frozenset({"id"})))
    if set(old.level_ids()) == set(new.level_ids()):
        out.extend(_field("levels.order", old.level_ids(), new.level_ids()))
    out.extend(_field("bands.score", old.bands.score if old.bands else None, new.bands.score if new.bands else None))
    a_bands = {b.level: f"{b.min}–{b.max}" for b in (old.bands.ranges if old.bands else [])}
    b_bands = {b.level: f"{b.min}–{b.max}" for b in (new.bands.ranges if new.bands else [])}
    out.extend(_members("bands", a_bands, b_bands))
    for key, x, y in _keyed(a_bands, b_bands):
        out.extend(_field(f"bands.{key}", x, y))
    out.extend(_field("tests.count", len(old.tests), len(new.tests)))
    a_mig = {m.from_version: m for m in old.migrations}
    b_mig = {m.from_version: m for m in new.migrations}
    out.extend(_members("migrations", a_mig, b_mig))
    return out


# ---------------------------------------------------------------------------- rule sets


def diff_rulesets(old: RuleSet, new: RuleSet) -> list[SpecChange]:
    """Every difference between two rule sets: metadata, facts, tables and their rules."""
    out: list[SpecChange] = list(_fields("", old, new, frozenset({"facts", "tables"})))
    out.extend(_members("facts", old.facts, new.facts))
    for key, x, y in _keyed(old.facts, new.facts):
        out.extend(_fields(f"facts.{key}", x, y))
    a_tables = {t.id: t for t in old.tables}
    b_tables = {t.id: t for t in new.tables}
    out.extend(_members("tables", a_tables, b_tables))
    for tid, a, b in _keyed(a_tables, b_tables):
        out.extend(_fields(f"tables.{tid}", a, b, frozenset({"id", "rules"})))
        a_rules = {r.id: r for r in a.rules}
        b_rules = {r.id: r for r in b.rules}
        out.extend(_members(f"tables.{tid}.rules", a_rules, b_rules))
        for rid, x, y in _keyed(a_rules, b_rules):
            out.extend(_fields(f"tables.{tid}.rules.{rid}", x, y, frozenset({"id"})))
        if set(a_rules) == set(b_rules):
            out.extend(_field(f"tables.{tid}.rules.order", list(a_rules), list(b_rules)))
    return out


# ---------------------------------------------------------------------------- output


def _short(value: Any, width: int = 160) -> str:
    if isinstance(value, dict) and isinstance(value.get("text"), dict):
        value = value["text"]  # an added or removed item: its question says what it is
    if isinstance(value, dict) and set(value) == {"sv", "en"}:
        text = f"{value['sv']} / {value['en']}"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_changes(title: str, changes: list[SpecChange], fmt: str = "text") -> str:
    """The changes as lines of text (``+`` added, ``-`` removed, ``~`` changed) or as JSON."""
    if fmt == "json":
        data = {"title": title, "changes": [c.to_json() for c in changes]}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    lines = [title, f"{len(changes)} change(s)" if changes else "no changes"]
    for c in changes:
        path = c.path.lstrip(".")
        if c.kind == "changed":
            lines.append(f"~ {path}: {_short(c.old)} → {_short(c.new)}")
        elif c.kind == "added":
            lines.append(f"+ {path}: {_short(c.new)}")
        else:
            lines.append(f"- {path}: {_short(c.old)}")
    return "\n".join(lines) + "\n"

