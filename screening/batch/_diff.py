"""The re-score diff: counts, the old × new level matrix, who changed and why, who failed.

May import: instrument, scoring, batch, _texts / stdlib.

Built from one small JSON-able *entry* per assessment (``entry``), so the same
builder serves an in-process run and one whose workers are other processes.
Memory stays bounded whatever the store size: counts and matrices are
aggregates, and the lists keep the ``limit`` most urgent entries (a heap on
rose → review → fell → referrals → other, highest new level first); every
entry is in ``--output`` when a complete list is needed.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..engine.instrument import Text
from ..engine.scoring import CompiledInstrument
from ._rescorer import CHANGES, Failed, Rescored
from ._texts import phrase

__all__ = ["DiffBuilder", "build_diff", "entry"]

SCHEMA = 1
NONE = "-"


def entry(item: Rescored | Failed) -> dict[str, Any]:
    """The diff's view of one re-scored assessment: pseudonym, levels, services, reasons; no answers."""
    if isinstance(item, Failed):
        return {"kind": "failed", "id": item.record_id, "case": item.case, "reason": item.reason, "stage": item.stage}
    rec = item.record
    out: dict[str, Any] = {
        "kind": "rescored",
        "id": rec.id,
        "case": rec.case,
        "instrument": rec.instrument,
        "from": rec.version,
        "to": item.target.instrument.version,
        "change": item.change,
        "baseline": item.baseline,
        "old": item.old.to_json(),
        "new": item.new.to_json(),
        "old_rank": item.old_rank,
        "new_rank": item.new_rank,
    }
    if item.change != "unchanged":
        out["added"] = list(item.referrals_added)
        out["removed"] = list(item.referrals_removed)
        out["judgement_dropped"] = item.judgement_dropped
        out["reasons"] = [{"sv": r.sv, "en": r.en} for r in item.reasons]
    return out


class DiffBuilder:
    """Aggregates entries into the diff; ``finish`` returns it as JSON-able data."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.matrix: dict[tuple[str, str], Counter[tuple[int, int]]] = {}
        self.listed: list[tuple[_Desc, int, dict[str, Any]]] = []
        self.failed: list[tuple[_Desc, int, dict[str, Any]]] = []
        self.rose_top = 0
        self._seq = itertools.count()
        self.stored = 0

    def add(self, item: Mapping[str, Any], top: Mapping[tuple[str, str], int] | None = None) -> None:
        """Count one entry; ``top`` maps (instrument, version) to its highest level rank."""
        if item["kind"] == "failed":
            self.counts["failed"] += 1
            self._keep(self.failed, (str(item["case"]), str(item["id"])), dict(item))
            return
        self.counts["total"] += 1
        change = item["change"]
        self.counts[change] += 1
        cell = self.matrix.setdefault((item["instrument"], item["to"]), Counter())
        old, new = item["old_rank"], item["new_rank"]
        cell[(-1 if old is None else old, -1 if new is None else new)] += 1
        if change == "unchanged":
            return
        if change == "rose" and top is not None and new == top.get((item["instrument"], item["to"])):
            self.rose_top += 1
        rank = CHANGES.index(change)
        self._keep(self.listed, (rank, -(new if new is not None else -1), item["case"], item["id"]), dict(item))

    def tally(self, instrument: str, version: str, old: int | None, new: int | None, n: int) -> None:
        """Count ``n`` unchanged assessments at once (they are not listed, only counted)."""
        self.counts["total"] += n
        self.counts["unchanged"] += n
        cell = self.matrix.setdefault((instrument, version), Counter())
        cell[(-1 if old is None else old, -1 if new is None else new)] += n

    def _keep(self, heap: list[Any], key: tuple[Any, ...], value: dict[str, Any]) -> None:
        # A max-heap on the key (negated through a wrapper) keeps the `limit` smallest keys.
        wrapped = (_Desc(key), next(self._seq), value)
        if len(heap) < self.limit:
            heapq.heappush(heap, wrapped)
        elif wrapped[0] > heap[0][0]:
            heapq.heapreplace(heap, wrapped)

    def finish(
        self,
        targets: Mapping[str, CompiledInstrument],
        *,
        applied: bool,
        rules: Mapping[str, str] | None,
        engine_version: str,
    ) -> dict[str, Any]:
        """The diff as data (the ``--format json`` output and the templates' source)."""
        changed = sum(self.counts[c] for c in CHANGES if c != "unchanged")
        listed = [v for _, _, v in sorted(self.listed, key=lambda w: w[0].key)]
        lists: dict[str, list[dict[str, Any]]] = {c: [] for c in CHANGES if c != "unchanged"}
        for item in listed:
            lists[item["change"]].append(item)
        matrices = []
        for (inst, version), cells in sorted(self.matrix.items()):
            ci = targets.get(inst)
            levels = list(ci.levels) if ci is not None else sorted({k for pair in cells for k in pair if k >= 0})
            size = len(levels)
            matrices.append(
                {
                    "instrument": inst,
                    "version": version,
                    "levels": [*(str(lv) for lv in levels), NONE],
                    "rows": [[cells.get((o, n), 0) for n in [*range(size), -1]] for o in [*range(size), -1]],
                }
            )
        counts = {key: self.counts[key] for key in ("total", *CHANGES, "failed")}
        counts["stored"] = self.stored
        return {
            "schema": SCHEMA,
            "applied": applied,
            "targets": [
                {"id": ci.instrument.id, "version": ci.instrument.version, "sha256": ci.sha256}
                for _, ci in sorted(targets.items())
            ],
            "rules": dict(rules) if rules else None,
            "engine_version": engine_version,
            "counts": counts,
            "matrices": matrices,
            "changed": lists,
            "listed": len(listed),
            "changed_total": changed,
            "failed": [v for _, _, v in sorted(self.failed, key=lambda w: w[0].key)],
            "summary": self._summary(targets, changed, len(listed), applied),
        }

    def _summary(
        self, targets: Mapping[str, CompiledInstrument], changed: int, shown: int, applied: bool
    ) -> dict[str, str]:
        c = self.counts
        names = ", ".join(f"{ci.instrument.id} {ci.instrument.version}" for _, ci in sorted(targets.items())) or "-"
        top: Text | str = ""
        if self.rose_top:
            if len(targets) == 1:
                ci = next(iter(targets.values()))
                level = ci.instrument.levels[-1].label if ci.instrument.levels else Text(sv="-", en="-")
            else:
                level = Text(sv="högsta nivån", en="the highest level")
            top = phrase("summary_top", n=self.rose_top, level=level)
        parts = [
            phrase(
                "summary", total=c["total"], target=names, rose=c["rose"], rose_top=top, review=c["review"],
                fell=c["fell"], referrals=c["referrals"], failed=c["failed"],
            ),
            phrase("summary_applied", stored=self.stored) if applied else phrase("summary_action"),
        ]
        if shown < changed:
            parts.append(phrase("summary_more", shown=shown, changed=changed))
        return {"sv": " ".join(p.sv for p in parts), "en": " ".join(p.en for p in parts)}


class _Desc:
    """Reverses the order of a key, so ``heapq`` (a min-heap) can keep the smallest keys."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.key > other.key)

    def __gt__(self, other: _Desc) -> bool:
        return bool(self.key < other.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def build_diff(
    items: Iterable[Rescored | Failed],
    *,
    limit: int = 10_000,
    applied: bool = False,
    rules: Mapping[str, str] | None = None,
    engine_version: str | None = None,
) -> dict[str, Any]:
    """The diff of any stream of ``rescore`` results (the library's diff builder).

    Args:
        items: what ``batch.rescore`` yielded.
        limit: at most this many assessments listed (the most urgent are kept).
        applied: whether the new results were stored (it changes the summary line).
        rules: ``{"id", "version", "sha256"}`` of the rule set, for the report header.
        engine_version: defaults to this engine's.
    """
    from .._version import __version__

    builder = DiffBuilder(limit)
    targets: dict[str, CompiledInstrument] = {}
    tops: dict[tuple[str, str], int] = {}
    for item in items:
        if isinstance(item, Rescored):
            ci = item.target
            targets.setdefault(ci.instrument.id, ci)
            tops[(ci.instrument.id, ci.instrument.version)] = len(ci.levels) - 1
        builder.add(entry(item), tops)
    return builder.finish(targets, applied=applied, rules=rules, engine_version=engine_version or __version__)
