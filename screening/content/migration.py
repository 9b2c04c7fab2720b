"""Carry answers from one instrument version to another: static checks, plans, and apply.

May import: errors, instrument, migration_spec, checks, scoring, loader, yamlsafe / stdlib.

A version declares its migrations in YAML (``migrations:``, see
``migration_spec.Migration``); ``screening validate`` checks each against both
versions so a migration that loses an item or maps an answer onto a value the
new scale lacks fails when it is written, not during a night-time batch. At run
time a ``MigrationPlan`` chains the declared steps (1.0.0 → 1.1.0 → 1.2.0) and
translates answer dicts; it never invents an answer: a new item is *not asked*
(unknown), and a combination it cannot decide is not asked either.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..engine.checks import Problem
from ..engine.instrument import Instrument, Item
from ..engine.migration_spec import Migration
from ..errors import Issue, ScreeningError

__all__ = [
    "MigrationError",
    "MigrationPlan",
    "MigrationStep",
    "Note",
    "check_migrations",
    "migration_issues",
    "plan_migration",
]

# (operation, old item id, new item id): what a migration did to one answered item.
Note = tuple[str, str, str]


class MigrationError(ScreeningError):
    """Answers cannot be carried from one version to another (no declared path)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _choice_values(inst: Instrument, item: Item) -> frozenset[str] | None:
    if item.type != "choice" or item.scale not in inst.scales:
        return None
    return frozenset(o.value for o in inst.scales[item.scale].options)


def _ordered(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


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
        if old is None or _ordered(mig.from_version) >= _ordered(inst.version):
            known = ", ".join(sorted(v for v in versions if _ordered(v) < _ordered(inst.version))) or "none"
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


# ---------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class MigrationStep:
    """One declared migration, flattened for applying it many times."""

    source: str
    target: str
    carry: Mapping[str, tuple[str, Mapping[str, str]]]  # old id → (new id, recode)
    split: Mapping[str, tuple[tuple[str, ...], Mapping[str, Mapping[str, str | None]]]]
    merged: tuple[tuple[str, tuple[str, ...], str], ...]  # (new id, sources, rule)
    removed: frozenset[str]
    added: tuple[str, ...]
    levels: Mapping[str, str]
    identity: bool
    renames: Mapping[str, str] | None  # set when renaming is all the step does (the common, fast case)

    @classmethod
    def build(cls, old: Instrument, new: Instrument, mig: Migration) -> MigrationStep:
        merged_from = {s for m in mig.merged.values() for s in m.sources}
        carry = {
            o: (mig.renamed.get(o, o), dict(mig.recoded.get(o, {})))
            for o in (i.id for i in old.items())
            if o not in mig.split and o not in mig.removed and o not in merged_from
        }
        simple = not (mig.split or mig.merged or mig.removed) and not any(r for _, r in carry.values())
        identity = simple and all(o == n for o, (n, _) in carry.items())
        return cls(
            source=old.version,
            target=new.version,
            carry=carry,
            split={o: (tuple(s.into), {v: dict(t) for v, t in s.values.items()}) for o, s in mig.split.items()},
            merged=tuple((n, tuple(m.sources), m.rule) for n, m in mig.merged.items()),
            removed=frozenset(mig.removed),
            added=tuple(mig.added),
            levels=dict(mig.levels),
            identity=identity,
            renames={o: n for o, (n, _) in carry.items() if o != n} if simple else None,
        )

    def apply(self, answers: Mapping[str, object], notes: list[Note] | None = None) -> dict[str, object]:
        """The answers under the target version; ``notes`` collects what touched an answer."""
        if self.identity:
            return dict(answers)
        renames = self.renames
        if renames is not None and notes is None:
            # A few renames: copy at C speed and move those keys (the order of keys carries
            # no meaning). Not for a swap or a name already taken: the general way below.
            if len(renames) * 4 < len(answers) and renames.keys().isdisjoint(renames.values()):
                quick = dict(answers)
                for old, new in renames.items():
                    if old in quick:
                        if new in quick:
                            break
                        quick[new] = quick.pop(old)
                else:
                    return quick
            return {renames.get(k, k): v for k, v in answers.items()}
        out: dict[str, object] = {}
        for key, value in answers.items():
            moved = self.carry.get(key)
            if moved is not None:
                out[moved[0]] = self._carry(key, value, moved, notes)
            elif key in self.split:
                self._split(key, value, out, notes)
            elif key in self.removed:
                if notes is not None:
                    notes.append(("removed", key, ""))
            elif not any(key in sources for _, sources, _ in self.merged):
                out[key] = value  # not an item of the source version: the target's check names it
        for new, sources, rule in self.merged:
            values = [answers.get(s) for s in sources]
            if any(s in answers for s in sources):
                merged = _merge(values, rule)
                if merged is not None:
                    out[new] = merged
                if notes is not None:
                    notes.append(("merged", ",".join(sources), new))
        if notes is not None:
            notes.extend(("added", "", new) for new in self.added)
        return out

    @staticmethod
    def _carry(key: str, value: object, moved: tuple[str, Mapping[str, str]], notes: list[Note] | None) -> object:
        new, recode = moved
        if recode and isinstance(value, str) and value in recode:
            value = recode[value]
            if notes is not None:
                notes.append(("recoded", key, new))
        if new != key and notes is not None:
            notes.append(("renamed", key, new))
        return value

    def _split(self, key: str, value: object, out: dict[str, object], notes: list[Note] | None) -> None:
        targets, table = self.split[key]
        row = table.get(value, {}) if isinstance(value, str) else {}
        for new in targets:
            got = row.get(new, value)
            if got is not None or (new not in row and value is None):
                out[new] = got
        if notes is not None:
            notes.append(("split", key, ",".join(targets)))


def _merge(values: list[object], rule: str) -> str | None:
    """Three-valued any/all over yes/no; anything undecided is not asked (``None``)."""
    if rule == "any_yes":
        if "yes" in values:
            return "yes"
        return "no" if all(v == "no" for v in values) else None
    if "no" in values:
        return "no"
    return "yes" if all(v == "yes" for v in values) else None


@dataclass(frozen=True)
class MigrationPlan:
    """The chain of steps from one version to another (empty when they are the same)."""

    source: str
    target: str
    steps: tuple[MigrationStep, ...]

    def apply(self, answers: Mapping[str, object], notes: list[Note] | None = None) -> dict[str, object]:
        if not self.steps:
            return dict(answers)
        out = self.steps[0].apply(answers, notes)  # each step returns a new dict: no copy first
        for step in self.steps[1:]:
            out = step.apply(out, notes)
        return out

    def level(self, level: str) -> str:
        """An old level id under the target version."""
        for step in self.steps:
            level = step.levels.get(level, level)
        return level


def plan_migration(source: str, target: Instrument, versions: Mapping[str, Instrument]) -> MigrationPlan:
    """The shortest chain of declared migrations from ``source`` to ``target``'s version.

    Args:
        source: the version the answers were given under.
        target: the version to carry them to.
        versions: every known version of the instrument (``target`` included or not).

    Raises:
        MigrationError: no chain of declared migrations leads there.
    """
    every = dict(versions)
    every[target.version] = target
    if source == target.version:
        return MigrationPlan(source, target.version, ())
    if source not in every:
        raise MigrationError(f"{target.id} {source} is not a known version")
    # Breadth-first over "Y declares a migration from X" edges, oldest first for determinism.
    frontier, came = [source], {source: ""}
    while frontier and target.version not in came:
        nxt: list[str] = []
        for version in frontier:
            for later in sorted(every, key=_ordered):
                if later not in came and any(m.from_version == version for m in every[later].migrations):
                    came[later] = version
                    nxt.append(later)
        frontier = nxt
    if target.version not in came:
        raise MigrationError(f"{target.id} {target.version} declares no migration path from {source}")
    chain = [target.version]
    while chain[-1] != source:
        chain.append(came[chain[-1]])
    chain.reverse()
    steps = []
    for old, new in itertools.pairwise(chain):
        mig = next(m for m in every[new].migrations if m.from_version == old)
        steps.append(MigrationStep.build(every[old], every[new], mig))
    return MigrationPlan(source, target.version, tuple(steps))
