"""Carry answers from one instrument version to another: plans, and apply.

May import: errors, the engine's instrument and migration_spec / stdlib. The static
checks of declared migrations are in ``migration_checks``.

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
from collections.abc import Mapping
from dataclasses import dataclass

from ..engine.instrument import Instrument
from ..engine.migration_spec import Migration
from ..errors import ScreeningError

__all__ = [
    "MigrationError",
    "MigrationPlan",
    "MigrationStep",
    "Note",
    "plan_migration",
    "version_order",
]

# (operation, old item id, new item id): what a migration did to one answered item.
Note = tuple[str, str, str]


class MigrationError(ScreeningError):
    """Answers cannot be carried from one version to another (no declared path)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def version_order(version: str) -> tuple[int, ...]:
    """``1.10.0`` sorts after ``1.9.0``."""
    return tuple(int(p) for p in version.split("."))


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
            for later in sorted(every, key=version_order):
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
