"""Static checks of the migrations an instrument version declares (``screening validate``).

May import: errors, the engine's checks, instrument and migration_spec, and this
package's loader, yamlsafe and migration / stdlib.

Each declared migration is checked against both versions, so a migration that loses
an item or maps an answer onto a value the new scale lacks fails when it is written,
not during a night-time batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..engine.checks import Problem
from ..engine.instrument import Instrument, Item
from ..engine.migration_spec import Migration
from ..errors import Issue
from .migration import version_order

__all__ = ["check_migrations", "migration_issues"]


def _choice_values(inst: Instrument, item: Item) -> frozenset[str] | None:
    if item.type != "choice" or item.scale not in inst.scales:
        return None
    return frozenset(o.value for o in inst.scales[item.scale].options)


def _exists(
    inst: Instrument, items: Mapping[str, Item], item_id: str, loc: tuple[str | int, ...], choice: bool
) -> Iterator[Problem]:
    from ..engine.expr import suggest

    item = items.get(item_id)
    if item is None:
        yield Problem(loc, f"no item {item_id!r} in {inst.id} {inst.version}", suggest(item_id, list(items)))
    elif choice and item.type != "choice":
        yield Problem(loc, f"item {item_id!r} is not a choice item")


# ---------------------------------------------------------------------------- checks


def check_migrations(inst: Instrument, versions: Mapping[str, Instrument]) -> Iterator[Problem]:
    """Every problem in ``inst.migrations``, checked against the versions they name.

    Args:
        inst: the newer version, holding the migrations.
        versions: version → instrument for the other versions of the same id.
    """
    for n, mig in enumerate(inst.migrations):
        at = ("migrations", n)
        old = versions.get(mig.from_version)
        if old is None or version_order(mig.from_version) >= version_order(inst.version):
            known = ", ".join(sorted(v for v in versions if version_order(v) < version_order(inst.version))) or "none"
            yield Problem((*at, "from_version"), f"no older version {mig.from_version} of {inst.id} (older: {known})")
            continue
        yield from _StepCheck(old, inst, mig, at).run()
    seen: set[str] = set()
    for n, mig in enumerate(inst.migrations):
        if mig.from_version in seen:
            yield Problem(("migrations", n, "from_version"), f"a second migration from {mig.from_version}")
        seen.add(mig.from_version)


class _StepCheck:
    """The checks of one migration: every old item accounted for, every value mapped."""

    def __init__(self, old: Instrument, new: Instrument, mig: Migration, at: tuple[str | int, ...]) -> None:
        self.old, self.new, self.mig, self.at = old, new, mig, at
        self.old_items = {i.id: i for i in old.items()}
        self.new_items = {i.id: i for i in new.items()}

    def run(self) -> Iterator[Problem]:
        yield from self._references()
        yield from self._coverage()
        yield from self._values()
        yield from self._levels()

    def _old(self, item_id: str, loc: tuple[str | int, ...], choice: bool = False) -> Iterator[Problem]:
        yield from _exists(self.old, self.old_items, item_id, loc, choice)

    def _new(self, item_id: str, loc: tuple[str | int, ...], choice: bool = False) -> Iterator[Problem]:
        yield from _exists(self.new, self.new_items, item_id, loc, choice)

    def _references(self) -> Iterator[Problem]:
        m, at = self.mig, self.at
        for old, new in m.renamed.items():
            yield from self._old(old, (*at, "renamed", old))
            yield from self._new(new, (*at, "renamed", old))
            if old in self.old_items and new in self.new_items and self.old_items[old].type != self.new_items[new].type:
                yield Problem((*at, "renamed", old), f"{old!r} and {new!r} are items of different types")
        for old in m.recoded:
            yield from self._old(old, (*at, "recoded", old), choice=True)
        for old, split in m.split.items():
            yield from self._old(old, (*at, "split", old), choice=True)
            for k, new in enumerate(split.into):
                yield from self._new(new, (*at, "split", old, "into", k), choice=True)
        for new, merge in m.merged.items():
            yield from self._new(new, (*at, "merged", new), choice=True)
            for k, old in enumerate(merge.sources):
                yield from self._old(old, (*at, "merged", new, "from", k), choice=True)
        for k, old in enumerate(m.removed):
            yield from self._old(old, (*at, "removed", k))
        for k, new in enumerate(m.added):
            yield from self._new(new, (*at, "added", k))

    def _coverage(self) -> Iterator[Problem]:
        """Each old item has exactly one fate, and each new item exactly one source."""
        fates = self._fates()
        for old, ways in fates.items():
            if len(ways) > 1:
                yield Problem(self.at, f"old item {old!r} is both {' and '.join(ways)}")
        for old in self.old_items:
            if old not in fates and old not in self.new_items:
                yield Problem(
                    self.at,
                    f"item {old!r} of {self.old.version} is not accounted for: rename, split, merge or remove it",
                )
        sources = self._sources(fates)
        for new, ways in sources.items():
            if len(ways) > 1:
                yield Problem(self.at, f"item {new!r} gets answers from {' and '.join(ways)}")
        for new in self.new_items:
            if new not in sources:
                yield Problem(self.at, f"new item {new!r} is not accounted for: list it under 'added' (not asked)")

    def _fates(self) -> dict[str, list[str]]:
        m = self.mig
        fates: dict[str, list[str]] = {}
        for old in m.renamed:
            fates.setdefault(old, []).append("renamed")
        for old in m.split:
            fates.setdefault(old, []).append("split")
        for merge in m.merged.values():
            for old in merge.sources:
                fates.setdefault(old, []).append("merged")
        for old in m.removed:
            fates.setdefault(old, []).append("removed")
        return fates

    def _sources(self, fates: dict[str, list[str]]) -> dict[str, list[str]]:
        m = self.mig
        sources: dict[str, list[str]] = {}
        for old in self.old_items:
            if old not in fates and old in self.new_items:
                sources.setdefault(old, []).append("carried over")
        for new in m.renamed.values():
            sources.setdefault(new, []).append("a rename")
        for split in m.split.values():
            for new in split.into:
                sources.setdefault(new, []).append("a split")
        for new in m.merged:
            sources.setdefault(new, []).append("a merge")
        for new in m.added:
            sources.setdefault(new, []).append("added")
        return sources

    def _values(self) -> Iterator[Problem]:
        """Every old answer value lands on a value of the new item's scale."""
        m, at = self.mig, self.at
        moved = {old: m.renamed.get(old, old) for old in self.old_items if old not in m.split and old not in m.removed}
        for old, new in moved.items():
            if any(old in merge.sources for merge in m.merged.values()):
                continue
            yield from self._carry(old, new, (*at, "recoded", old) if old in m.recoded else at)
        for old, split in m.split.items():
            old_values = self._values_of(self.old, self.old_items.get(old))
            for value, targets in split.values.items():
                loc = (*at, "split", old, "values", value)
                if old_values is not None and value not in old_values:
                    yield Problem(loc, f"{value!r} is not a value of {old!r}")
                for new, target in targets.items():
                    if new not in split.into:
                        yield Problem(loc, f"{new!r} is not one of the items {old!r} is split into")
                    elif target is not None:
                        yield from self._lands(target, new, loc)
            for value in sorted((old_values or frozenset()) - set(split.values)):
                for new in split.into:
                    yield from self._lands(value, new, (*at, "split", old))
        for new, merge in m.merged.items():
            for old in (new, *merge.sources):
                inst = self.new if old == new else self.old
                values = self._values_of(inst, (self.new_items if old == new else self.old_items).get(old))
                if values is not None and not {"yes", "no"} <= values:
                    yield Problem(
                        (*at, "merged", new), f"rule {merge.rule} needs 'yes' and 'no' in the scale of {old!r}"
                    )

    def _values_of(self, inst: Instrument, item: Item | None) -> frozenset[str] | None:
        return None if item is None else _choice_values(inst, item)

    def _lands(self, value: str, new: str, loc: tuple[str | int, ...]) -> Iterator[Problem]:
        values = self._values_of(self.new, self.new_items.get(new))
        if values is not None and value not in values:
            yield Problem(loc, f"{value!r} is not a value of {new!r} in {self.new.version}: recode it")

    def _carry(self, old: str, new: str, loc: tuple[str | int, ...]) -> Iterator[Problem]:
        old_item, new_item = self.old_items.get(old), self.new_items.get(new)
        if old_item is None or new_item is None:
            return
        if old_item.type != new_item.type:
            yield Problem(
                loc, f"item {old!r} changed type ({old_item.type} → {new_item.type}): remove it and add a new item"
            )
            return
        recode = self.mig.recoded.get(old, {})
        old_values = _choice_values(self.old, old_item) or frozenset()
        for value, target in recode.items():
            at_value = (*loc, value) if recode else loc
            if value not in old_values:
                yield Problem(at_value, f"{value!r} is not a value of {old!r} in {self.old.version}")
            yield from self._lands(target, new, at_value)
        for value in sorted(old_values - set(recode)):
            yield from self._lands(value, new, loc)
        if old_item.type == "group":
            old_fields = {f.id for f in old_item.fields or ()}
            new_fields = {f.id for f in new_item.fields or ()}
            for missing in sorted(old_fields - new_fields):
                yield Problem(loc, f"field {missing!r} of group {old!r} is gone: remove the group and add a new one")

    def _levels(self) -> Iterator[Problem]:
        old_levels = {lv.id for lv in self.old.levels}
        new_levels = {lv.id for lv in self.new.levels}
        for old, new in self.mig.levels.items():
            if old not in old_levels:
                yield Problem((*self.at, "levels", old), f"no level {old!r} in {self.old.version}")
            if new not in new_levels:
                yield Problem((*self.at, "levels", old), f"no level {new!r} in {self.new.version}")
        for old in sorted(old_levels - set(self.mig.levels) - new_levels):
            yield Problem(
                self.at, f"level {old!r} of {self.old.version} does not exist any more: map it under 'levels'"
            )


def migration_issues(path: str | os.PathLike[str], inst: Instrument) -> list[Issue]:
    """Located problems of the migrations in one instrument file (for ``screening validate``).

    The other versions are read from the same directory; one that does not load
    is skipped here (it is reported when it is validated itself).
    """
    if not inst.migrations:
        return []
    from ..errors import SpecError
    from .loader import _located, load_instrument_file
    from .yamlsafe import load_yaml_file

    versions: dict[str, Instrument] = {}
    for other in sorted(Path(path).parent.glob("*.yaml")):
        if other.resolve() == Path(path).resolve():
            continue
        try:
            loaded = load_instrument_file(other).instrument
        except SpecError:
            continue
        if loaded.id == inst.id:
            versions[loaded.version] = loaded
    doc = load_yaml_file(path)
    return list(_located(doc, check_migrations(inst, versions)))
