"""Run a re-score over a store or a JSON Lines file: chunks, worker processes, writes, progress.

May import: errors, loader, rules_loader, engine, batch, _* (this package), store._schema / stdlib.

One unit of work is a *chunk*: a range of assessment ids or of file bytes. A
chunk is read, migrated, scored and (with ``--apply``) written by one process —
the parent itself with ``jobs=1``, else a worker (``python -m
screening.batch._worker``) that loads the instruments and rules once and opens
the store itself — in one transaction per chunk; what comes back as JSON is
only what the diff needs: diff entries, counts, output lines. Writing in the
worker keeps the rows off the pipes (serialising them for the parent cost more
than writing them); SQLite's lock takes the chunks' short write transactions in
turn. Workers talk JSON over pipes (no pickle); requests are a few bytes, so the
pipes cannot fill up in both directions at once.
"""

from __future__ import annotations

import collections
import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._version import __version__ as ENGINE_VERSION
from ..errors import ScreeningError
from ._diff import DiffBuilder, entry
from ._jsonl import PrivateLines, count_lines, line_ranges, line_text, output_line, read_range
from ._lean import Lean, Took
from ._pool import Pool, Progress
from ._rescorer import Failed, Rescorer, Unchanged
from ._score import Outcome
from ._store import CHUNK, Filters, Row, chunks, open_reader, open_writer, read_chunk
from ._write import make_row, record_run, write_rows

__all__ = ["Context", "RunConfig", "RunSummary", "build_rescorer", "quiet_gc", "run_jsonl", "run_store"]


@dataclass(frozen=True)
class RunConfig:
    """Everything a worker needs to rebuild the same ``Rescorer`` (plain JSON data)."""

    instrument: str | None = None
    to: str | None = None
    rules: str | None = "stockholm"
    home: str | None = None
    filters: dict[str, str | None] = field(default_factory=dict)
    output: bool = False
    full_results: str = "none"
    apply: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        return cls(**data)


@dataclass
class RunSummary:
    """What a run did: the diff and whether any record failed (exit code 1)."""

    diff: dict[str, Any]
    failed: int
    stored: int
    targets: dict[str, Any]
    rules: Any


def build_rescorer(config: RunConfig) -> Rescorer:
    """The ``Rescorer`` for a run (loads the target version and the rule set once).

    Raises:
        SpecError: the instrument, version or rule set cannot be loaded.
    """
    from ..content.loader import load_instrument
    from ..content.rules_loader import load_rules

    target = None
    if config.instrument is not None:
        ref = config.instrument + (f"@{config.to}" if config.to else "")
        target = load_instrument(ref, config.home)
    rules = load_rules(config.rules, config.home) if config.rules else None
    full: Literal["changed", "none"] = "changed" if config.full_results == "changed" else "none"
    return Rescorer(target, rules, home=config.home, full_results=full)


def _key_for(rescorer: Rescorer) -> Callable[[str], tuple[str, str, str] | None]:
    rules_sha = rescorer.rules.sha256 if rescorer.rules is not None else ""

    def key(instrument_id: str) -> tuple[str, str, str] | None:
        try:
            return (rescorer.target_for(instrument_id).sha256, rules_sha, ENGINE_VERSION)
        except Exception:  # noqa: BLE001 - the record fails on its own later, with a reason
            return None

    return key


@dataclass
class Context:
    """One process's side of a run: the re-scorer, its store connection and caches, reused chunk after chunk."""

    rescorer: Rescorer
    config: RunConfig
    conn: Any = None  # sqlite3.Connection to the store, or None for JSON Lines
    texts: dict[Outcome, bytes] = field(default_factory=dict)  # outcome → its stored JSON text
    parsed: dict[bytes, Outcome] = field(default_factory=dict)  # stored JSON text → outcome
    lean: Lean | None = None  # the usual JSON Lines record's short way (``_lean``); None: every record the general way

    def __post_init__(self) -> None:
        if self.lean is None and not self.config.apply:  # it makes no rows: never for a run that stores
            self.lean = Lean(self.rescorer)

    @classmethod
    def open(cls, config: RunConfig, store: str | None) -> Context:
        """A worker's context: its own ``Rescorer`` and connection (writable with ``apply``)."""
        conn = None
        if store is not None:
            where: Path | str = store if store.startswith(("postgresql://", "postgres://")) else Path(store)
            conn = open_writer(where) if config.apply else open_reader(where)
        return cls(build_rescorer(config), config, conn)


def process(
    ctx: Context, records: Iterable[Any], done: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Re-score records and, with ``apply``, store their rows; the JSON-able response of one chunk.

    ``stored`` is how many rows were new; ``entries`` the diff entries of changed
    and failed assessments; ``tally`` counts the unchanged ones per (instrument,
    version, old level, new level) — most of a large run, so they travel as counts.
    Assessments in ``done`` already have a row under this run's key and get none.
    ``records`` may hold ``Took`` items, done by the lean path. Output lines come back as text.

    Raises:
        StoreError: the chunk's rows could not be written (none of them were).
    """
    rescorer, output, store = ctx.rescorer, ctx.config.output, ctx.config.apply and ctx.conn is not None
    rules_sha = rescorer.rules.sha256 if rescorer.rules is not None else ""
    rows: list[Row] = []
    entries, lines = [], []
    tally: collections.Counter[tuple[str, str, int | None, int | None]] = collections.Counter()
    # Output lines need every record in full; otherwise unchanged ones come back small.
    score = rescorer.one if output else rescorer.step
    for rec in records:
        if rec.__class__ is Took:  # done by the lean path (JSON Lines, nothing stored)
            if rec.item is None:
                tally[rec.key] += 1
            else:
                entries.append(rec.item)
            if output:
                lines.append(rec.line)
            continue
        item = score(rec) if not isinstance(rec, Failed) else rec
        if isinstance(item, Failed):
            entries.append(entry(item))
        else:
            if store and item.record.id not in done:
                rows.append(make_row(item, rules_sha, ENGINE_VERSION, ctx.texts))
            if isinstance(item, Unchanged) or item.change == "unchanged":
                tally[(item.record.instrument, item.target.instrument.version, item.old_rank, item.new_rank)] += 1
            else:
                entries.append(entry(item))
        if output:
            assert not isinstance(item, Unchanged)
            lines.append(line_text(output_line(item)))
    return {
        "stored": write_rows(ctx.conn, rows) if rows else 0,
        "entries": entries,
        "tally": [[*key, n] for key, n in tally.items()],
        "output": lines if output else None,
    }


def process_range(ctx: Context, lo: str, hi: str | None) -> dict[str, Any]:
    records, done = read_chunk(
        ctx.conn, lo, hi, Filters(**ctx.config.filters), _key_for(ctx.rescorer), parsed=ctx.parsed
    )
    return process(ctx, records, done)


def process_lines(ctx: Context, path: Path, start: int, end: int, first: int) -> dict[str, Any]:
    from ._rescorer import StoredAssessment

    lean, output = ctx.lean, ctx.config.output

    def records() -> Iterator[Any]:
        for number, data in read_range(path, start, end, first):
            if isinstance(data, ValueError):
                yield Failed(f"line {number}", "?", str(data), "record")
                continue
            took = lean.take(data, output) if lean is not None else None
            if took is not None:
                yield took
                continue
            try:
                yield StoredAssessment.from_json(data)
            except ValueError as exc:
                yield Failed(f"line {number}", "?", str(exc), "record")

    return process(ctx, records())


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Fewer cycle collections while re-scoring; the previous settings come back afterwards.

    A run allocates millions of short-lived containers, freed by reference counting,
    and almost no cycles (263 collected in 1,000,000 assessments). With the default
    thresholds the collector still ran 11,000 times and spent 9.6 s of a 136 s run
    walking the instruments, rules and memo tables again and again. ``gc.freeze``
    sets what is loaded before the run aside, and a larger first threshold collects
    the rare cycle now and then instead of every 700 allocations.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], 100_000), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


# ---------------------------------------------------------------------------- runs


def _drain(
    responses: Iterable[dict[str, Any]],
    builder: DiffBuilder,
    output: Path | None,
    bar: Progress,
) -> None:
    """Consume every response; the output file appears whole or not at all."""
    out = PrivateLines(output) if output is not None else None
    try:
        _consume(responses, builder, {}, out, bar)
    except BaseException:
        if out is not None:
            out.discard()
        raise
    if out is not None:
        out.close()
    bar.end()


def _consume(
    responses: Iterable[dict[str, Any]],
    builder: DiffBuilder,
    top: dict[tuple[str, str], int],
    out: PrivateLines | None,
    progress: Progress,
) -> None:
    for response in responses:
        builder.stored += response["stored"]
        for item in response["entries"]:
            builder.add(item, top)
        for inst, version, old, new, n in response["tally"]:
            builder.tally(inst, version, old, new, n)
        if out is not None:
            out.write_lines(response["output"] or [])
        progress.step()


def _finish(
    builder: DiffBuilder, rescorer: Rescorer, applied: bool, seen: set[str]
) -> RunSummary:
    targets = {inst: rescorer.target_for(inst) for inst in sorted(seen)}  # each one scored a record
    rules = rescorer.rules
    info = None
    if rules is not None:
        info = {"id": rules.ruleset.id, "version": rules.ruleset.version, "sha256": rules.sha256}
    diff = builder.finish(targets, applied=applied, rules=info, engine_version=ENGINE_VERSION)
    return RunSummary(diff, builder.counts["failed"], builder.stored, targets, rules)


class _Seen(DiffBuilder):
    """A builder that also remembers which instruments and target top levels it met."""

    def __init__(self, rescorer: Rescorer, limit: int) -> None:
        super().__init__(limit)
        self.rescorer = rescorer
        self.instruments: set[str] = set()
        self.tops: dict[tuple[str, str], int] = {}

    def _meet(self, instrument: str) -> None:
        if instrument not in self.instruments:
            self.instruments.add(instrument)
            ci = self.rescorer.target_for(instrument)
            self.tops[(ci.instrument.id, ci.instrument.version)] = len(ci.levels) - 1

    def add(self, item: Any, top: Any = None) -> None:
        if item["kind"] == "rescored":
            self._meet(item["instrument"])
        super().add(item, self.tops)

    def tally(self, instrument: str, version: str, old: int | None, new: int | None, n: int) -> None:
        self._meet(instrument)
        super().tally(instrument, version, old, new, n)


def run_store(
    path: Path | str,
    config: RunConfig,
    *,
    apply: bool = False,
    jobs: int = 1,
    output: Path | None = None,
    limit: int = 10_000,
    progress: bool | None = None,
    chunk: int = CHUNK,
) -> RunSummary:
    """Re-score the completed assessments in a store; with ``apply``, store the new rows.

    Raises:
        StoreError: the store cannot be opened, read or written (a chunk that was
            not written is written by the next run).
        SpecError: the instrument or rule set cannot be loaded.
    """
    if isinstance(path, Path):  # else a postgresql:// URL (``store.store_location``)
        if not path.is_file():
            raise ScreeningError(f"no store at {path}")
        path = path.absolute()
    cfg = RunConfig(**{**config.to_json(), "output": output is not None, "apply": apply})
    ctx = Context(build_rescorer(cfg), cfg, open_writer(path))
    pool = None
    try:
        ranges = chunks(ctx.conn, chunk)
        conn = ctx.conn
        bar = Progress(len(ranges), progress, size=chunk, last=lambda: _count_from(conn, ranges[-1][0]))
        builder = _Seen(ctx.rescorer, limit)
        if jobs > 1:
            pool = Pool(jobs, cfg, path)
            responses: Iterable[dict[str, Any]] = pool.map(
                ({"range": [lo, hi]} for lo, hi in ranges),
                lambda task: process_range(ctx, task["range"][0], task["range"][1]),
            )
        else:
            responses = (process_range(ctx, lo, hi) for lo, hi in ranges)
        with quiet_gc():
            _drain(responses, builder, output, bar)
        if apply and builder.stored:  # a dry run or a no-op writes nothing to the store, not even this
            record_run(ctx.conn, _run_detail(builder, ctx.rescorer), "stored")
    finally:
        if pool is not None:
            pool.close()
        ctx.conn.close()
    return _finish(builder, ctx.rescorer, apply, builder.instruments)


def _count_from(conn: Any, lo: str) -> int:
    """Assessments in the last chunk (for the progress display's total)."""
    return int(conn.execute("SELECT count(*) FROM assessments WHERE id >= ?", (lo,)).fetchone()[0])


def _run_detail(builder: _Seen, rescorer: Rescorer) -> str:
    """What the audit trail says of a run: ids, versions and counts (one record per run, not per case)."""
    c = builder.counts
    target = ", ".join(f"{i} {rescorer.target_for(i).instrument.version}" for i in sorted(builder.instruments)) or "-"
    rules = rescorer.rules
    named = f"{rules.ruleset.id} {rules.ruleset.version}" if rules is not None else "none"
    return (f"batch of {c['total']}: {builder.stored} stored, {c['rose']} rose, {c['failed']} failed;"
            f" {target}; rules {named}")[:200]


def run_jsonl(
    path: Path,
    config: RunConfig,
    *,
    jobs: int = 1,
    output: Path | None = None,
    limit: int = 10_000,
    progress: bool | None = None,
    chunk: int = CHUNK,
) -> RunSummary:
    """Re-score the assessments of a JSON Lines file (nothing is stored; ``output`` gets the results)."""
    cfg = RunConfig(**{**config.to_json(), "output": output is not None, "apply": False})
    ctx = Context(build_rescorer(cfg), cfg)
    ranges = list(line_ranges(path, chunk))
    bar = Progress(len(ranges), progress, size=chunk, last=lambda: count_lines(path, *ranges[-1][:2]))
    builder = _Seen(ctx.rescorer, limit)
    pool = Pool(jobs, cfg, None) if jobs > 1 else None
    try:
        if pool is not None:
            responses: Iterable[dict[str, Any]] = pool.map(
                ({"lines": [str(path.absolute()), a, b, first]} for a, b, first in ranges),
                lambda task: process_lines(ctx, path, task["lines"][1], task["lines"][2], task["lines"][3]),
            )
        else:
            responses = (process_lines(ctx, path, a, b, first) for a, b, first in ranges)
        with quiet_gc():
            _drain(responses, builder, output, bar)
    finally:
        if pool is not None:
            pool.close()
    return _finish(builder, ctx.rescorer, False, builder.instruments)
