"""The re-scorer's side of the case store: read completed assessments in chunks (writes: ``_write``).

May import: errors, the engine's instrument, the store's values and crypto, this package's
_score / stdlib (sqlite3).

Reads never load the store at once: assessments are taken in ranges of their
ids (``CHUNK`` assessments each), each range read with two queries (metadata,
then answers) plus one for the stored results to compare with. Writes are one
``BEGIN IMMEDIATE … COMMIT`` per range with ``INSERT … ON CONFLICT DO NOTHING``
on the result key (assessment, revision, instrument sha, rules sha, engine
version), so a ``kill -9`` at any point loses at most the range in flight and
the re-run fills it in: no duplicates, nothing missing.

Why ranges of ids and not of rowids: assessment ids are random, and every table
the re-scorer touches (answers, results, ``outcomes``) is keyed by the id
first. Walking the ids in order reads and writes each of those B-trees front to
back; walking rowids jumps across them, and a chunk's commit then rewrites a
page per row. Measured on 100,000 assessments: writing the derived rows took
18–30 µs each in rowid order and 3–7 µs in id order.

What is stored per assessment, and why: a compact row in ``outcomes``
(level, status, completeness, critical rules, services — about 150 bytes) for
every re-scored assessment, and the full ``Result`` (about 10–13 kB with its
trace) in ``results`` only when the outcome changed. A full ``Result`` for an
unchanged assessment would say what the stored one already says and cost a
``Result`` build plus two JSON encodings each; the compact row still records
that it was re-scored under these versions, so a re-run finds nothing to do.
The table is part of the store's schema (version 3), which also keeps a
compact row next to every result an interview stores: the outcome a re-score
compares with is always a compact row, never a full result to decrypt and parse.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..engine.instrument import JudgementInput
from ..errors import StoreError
from ..store.crypto import Keyring, default_keyring
from ..store.values import (
    FACT_PREFIX,
    AnswerReader,
    decode,
    open_text,
    reason,
)
from ._score import Outcome

if TYPE_CHECKING:
    from ._rescorer import StoredAssessment

__all__ = [
    "CHUNK",
    "Filters",
    "Row",
    "chunks",
    "open_reader",
    "open_writer",
    "read_chunk",
]

# Assessments per chunk (and per write transaction). Larger chunks rewrite the upper
# B-tree pages of the tables written into the WAL less often: on 100,000 assessments a
# re-score took 11.6 s with 1,000, 11.1 s with 5,000 and 10.9 s with 10,000. A kill -9
# loses at most one chunk of work (about half a second), and 200 chunks per million
# keep --jobs workers evenly busy.
CHUNK = 5000
# Page cache of a re-score connection (KiB): the upper pages of every table a chunk
# reads and writes stay cached from one chunk to the next.
CACHE_KIB = 65_536

Key = tuple[str, str, str]  # (instrument sha, rules sha, engine version) a re-score writes under


@dataclass(frozen=True)
class Filters:
    """Which assessments to re-score; dates compare with the completion time (ISO text)."""

    instrument: str | None = None
    version: str | None = None
    since: str | None = None
    until: str | None = None

    def sql(self, pg: bool = False) -> tuple[str, tuple[object, ...]]:
        """The assessment-level part, for the query (the revision-level part is ``admits``)."""
        if self.instrument is None:
            return "", ()
        # The unary "+" keeps SQLite from using the instrument index: a chunk is an id
        # range, and walking every assessment of the instrument per chunk is quadratic.
        # PostgreSQL has no unary "+" for text, and its planner weighs the two by statistics.
        return (" AND a.instrument_id = ?" if pg else " AND +a.instrument_id = ?"), (self.instrument,)

    def admits(self, version: str, completed_at: str | None) -> bool:
        """Whether an assessment's latest completed revision passes the version and date filters.

        Applied after the latest revision is chosen, never before: an assessment whose
        latest revision is outside the filters is left out, not re-scored on an older one.
        """
        if self.version is not None and version != self.version:
            return False
        if self.since is not None and (completed_at is None or completed_at < self.since):
            return False
        return self.until is None or (completed_at is not None and completed_at < self.until)


class Row(NamedTuple):
    """One derived row to write, as JSON data; ``write_rows`` encodes it (the store's codec seam).

    ``outcome`` is the outcome's JSON text as ``store.values.canonical`` writes it;
    ``result`` is the full ``Result`` (``model_dump(mode="json")``) or ``None``;
    ``result_sha256`` the hash of its canonical ``Result.to_json()`` text.
    """

    assessment_id: str
    revision: int
    instrument_sha256: str
    rules_sha256: str
    engine_version: str
    instrument_version: str
    outcome: bytes
    result: dict[str, object] | None
    result_sha256: str | None


# The completed revisions of each assessment; ``read_chunk`` keeps the latest (a
# correction in progress is a draft; what caseworkers see is the last completed one).
_COMPLETED = " FROM assessments a JOIN revisions r ON r.assessment_id = a.id AND r.status = 'completed'"
# With the covering index of schema 3, named: SQLite would rather walk the id index and
# fetch every row from the table. A store without it (dropped by hand) is still read.
_COMPLETED_COVERED = _COMPLETED.replace("assessments a", "assessments a INDEXED BY assessments_by_id")
_NO_FACTS: Mapping[str, object] = MappingProxyType({})  # an assessment with no case facts stored

Range = tuple[str, "str | None"]  # assessment ids [lo, hi); hi None: to the end


def _range(column: str, hi: str | None) -> str:
    return f" WHERE {column} >= ?" + ("" if hi is None else f" AND {column} < ?")


def _bounds(lo: str, hi: str | None) -> tuple[str, ...]:
    return (lo,) if hi is None else (lo, hi)


def _fail(exc: sqlite3.Error) -> StoreError:
    return StoreError(f"the store could not be read ({reason(exc)})")


def open_writer(path: Path | str) -> sqlite3.Connection:
    """The store's own connection (durable pragmas, key check) with a re-scorer's page cache.

    A ``postgresql://`` URL: the PostgreSQL store's connection (``store._pg``), one per
    process (``--jobs N`` opens N), with the same schema and key checks.
    """
    if isinstance(path, str):
        from ..store import Store

        return Store.open(path).connection  # the Store object is dropped; its connection lives on
    from ..store._schema import connect

    conn = connect(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # this connection only; not stored in the file
    return conn


def open_reader(path: Path | str) -> sqlite3.Connection:
    """A read-only connection for a worker (WAL lets it read while the parent writes)."""
    if isinstance(path, str):  # PostgreSQL: a session whose transactions are read-only
        conn = open_writer(path)
        conn.execute("SET default_transaction_read_only = on")
        return conn
    try:
        # Not `mode=ro`: a read-only connection cannot use the shared WAL index and rebuilds it
        # from the WAL at every read, which gets slower with every chunk the parent writes.
        # `query_only` refuses writes all the same.
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=30)
        conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return conn
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path} for reading ({reason(exc)})") from None


def chunks(conn: sqlite3.Connection, size: int = CHUNK) -> list[Range]:
    """Id ranges ``[lo, hi)`` covering every assessment, ``size`` assessments each, in id order.

    Each bound is found by skipping ``size`` entries of the id index from the last
    one, inside SQLite: 40 ms for a million assessments, where reading every id
    into Python took 460 ms.
    """
    bounds: list[str] = []
    try:
        lo = conn.execute("SELECT min(id) FROM assessments").fetchone()[0]
        while lo is not None:
            bounds.append(lo)
            row = conn.execute(
                "SELECT id FROM assessments WHERE id >= ? ORDER BY id LIMIT 1 OFFSET ?", (lo, size)
            ).fetchone()
            lo = None if row is None else row[0]
    except sqlite3.Error as exc:
        raise _fail(exc) from None
    return list(zip(bounds, [*bounds[1:], None], strict=True))


_first_two = itemgetter(0, 1)
_last_two = itemgetter(2, 3)


def read_chunk(
    conn: sqlite3.Connection,
    lo: str,
    hi: str | None,
    filters: Filters,
    key_for: Callable[[str], Key | None],
    keyring: Keyring | None = None,
    parsed: dict[bytes, Outcome] | None = None,
) -> tuple[list[StoredAssessment], set[str]]:
    """The completed assessments with id in ``[lo, hi)``, and the ids already stored under this run's key.

    ``result`` is the latest stored outcome that was *not* written under the key
    this run writes (``key_for(instrument id)``), so a re-run reports the same
    changes as the first run while storing nothing new; an assessment whose key
    already has a row in ``outcomes`` (every stored result has one there) is in
    the returned set and gets no new row.
    """
    from ._rescorer import StoredAssessment

    ring = keyring or default_keyring(create=False)  # once a chunk: looking it up per value is slow
    pg = getattr(conn, "dialect", "") == "postgresql"
    where, params = filters.sql(pg)
    span, bounds = _range("a.id", hi), _bounds(lo, hi)
    if pg:  # one snapshot for the chunk's three queries, as SQLite's WAL read gives each statement
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        covered = not pg and conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'assessments_by_id'").fetchone()
        # Every completed revision, oldest first: the last one per assessment wins (cheaper
        # than asking SQLite for the latest one per assessment with a subquery).
        latest = {
            row[0]: row
            for row in conn.execute(
                "SELECT a.id, a.case_ref, a.instrument_id, a.assessor, r.revision, r.instrument_version,"
                " r.instrument_sha256, r.judgement, r.completed_at"
                + (_COMPLETED_COVERED if covered else _COMPLETED) + span + where
                + " ORDER BY a.id, r.revision",
                (*bounds, *params),
            )
        }
        meta = [m for m in latest.values() if filters.admits(m[5], m[8])]
        if not meta:
            return [], set()
        # Every answer of the id range, in key order, and only then the wanted revisions: a
        # plain range scan is cheaper than joining each answer back to its revision.
        answers = _stream(
            conn, "SELECT assessment_id, revision, item_id, value FROM answers" + _range("assessment_id", hi)
            + " ORDER BY assessment_id, revision",
            bounds,
        )
        revision_of = {m[0]: m[4] for m in meta}
        by_id: dict[str, dict[str, object]] = {}
        facts_of: dict[str, dict[str, object]] = {}
        reader = AnswerReader(ring)  # per chunk: what it caches (parsed plaintexts) lives no longer
        for (aid, revision), rows in itertools.groupby(answers, key=_first_two):
            if revision_of.get(aid) == revision:
                # Every value is decrypted on its own, bound to its assessment, revision and item.
                values = reader.read(aid, revision, map(_last_two, rows))
                if any(item.startswith(FACT_PREFIX) for item in values):
                    values, facts_of[aid] = _split_facts(values)
                by_id[aid] = values
        done: set[str] = set()
        keys = {inst: key_for(inst) for inst in {m[2] for m in meta}}
        wanted = {m[0]: (m[4], keys[m[2]]) for m in meta}
        stored = _baselines(conn, lo, hi, wanted, done, ring, {} if parsed is None else parsed)
        if pg:
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _fail(exc) from None
    finally:
        if pg and conn.in_transaction:
            conn.execute("ROLLBACK")
    out: list[StoredAssessment] = []
    for aid, case, inst, assessor, revision, version, sha, judgement, completed in meta:
        judged = None
        if judgement is not None:
            judged = JudgementInput.model_validate(decode(aid, "judgement", judgement, revision=revision,
                                                          keyring=ring))
        out.append(  # positional: the field order of StoredAssessment
            StoredAssessment(
                aid, case, inst, version, by_id.get(aid, {}), judged, facts_of.get(aid, _NO_FACTS), stored.get(aid),
                revision, assessor,
                completed, sha,
            )
        )
    return out, done


def _stream(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> Iterator[Any]:
    """Rows of a large query as they come: on PostgreSQL a server-side cursor in key order
    (the answers of a chunk are the bulk of what a re-score reads), inside the chunk's transaction.
    On SQLite the cursor itself (no generator in between: a re-score reads tens of millions of rows)."""
    if getattr(conn, "dialect", "") != "postgresql":
        return conn.execute(sql, params)
    return conn.stream(sql, params)  # type: ignore[attr-defined, no-any-return]  # a PgConnection


def _split_facts(values: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """(answers, known case facts) of one revision's rows; a fact asked and unknown is left out."""
    answers: dict[str, object] = {}
    facts: dict[str, object] = {}
    for item, value in values.items():
        if not item.startswith(FACT_PREFIX):
            answers[item] = value
        elif value is not None:
            facts[item[len(FACT_PREFIX):]] = value
    return answers, facts


def _baselines(
    conn: sqlite3.Connection,
    lo: str,
    hi: str | None,
    wanted: dict[str, tuple[int, Key | None]],
    done: set[str],
    ring: Keyring,
    parsed: dict[bytes, Outcome],
) -> dict[str, Outcome]:
    """assessment id → the ``Outcome`` of its latest stored result outside this run's key.

    Reads the compact outcomes of the id range (the store keeps one next to
    every full result, schema 3); those of assessments the filters left out
    (not in ``wanted``) are skipped here. The same few outcomes recur across a
    large store, so each distinct plaintext is parsed once (``parsed``).
    """
    keys = {
        ident: (isha, rsha, engine)
        for ident, isha, rsha, engine in conn.execute(
            "SELECT id, instrument_sha256, rules_sha256, engine_version FROM outcome_keys"
        )
    }
    rows = conn.execute(
        "SELECT assessment_id, revision, key, created_at, outcome FROM outcomes" + _range("assessment_id", hi),
        _bounds(lo, hi),
    ).fetchall()
    best: dict[str, tuple[str, bytes, int, int]] = {}
    for aid, revision, ident, created, payload in rows:
        want_revision, key = wanted.get(aid, (None, None))
        if revision != want_revision:
            continue
        if key == keys.get(ident):
            done.add(aid)
            continue
        kept = best.get(aid)
        if kept is None or created > kept[0]:  # the newest
            best[aid] = (created, payload, revision, ident)
    out: dict[str, Outcome] = {}
    for aid, (_, payload, revision, ident) in best.items():
        # Bound to its revision and to the hashes its key id names (schema 4).
        plain = open_text(aid, "rescore", payload, revision=revision, key=keys.get(ident, ("", "", "")),
                          keyring=ring)
        found = parsed.get(plain)
        if found is None:
            data = json.loads(plain)
            try:
                found = Outcome.from_json(data) if isinstance(data, dict) else None
            except ValueError:
                found = None
            if found is None:
                continue  # an unreadable old row: compare with a recomputation instead
            if len(parsed) >= 4096:
                parsed.clear()
            parsed[plain] = found
        out[aid] = found
    return out
