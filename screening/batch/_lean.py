"""The usual JSON Lines record, re-scored the short way: the same line, diff entry and refusal, less work.

May import: migration, scoring, _jsonl, _records, _rescorer, _score / stdlib.

``Rescorer.one`` takes any stored assessment. For each record it builds a
``StoredAssessment`` (checking every field and walking the record's nesting), an
``Outcome`` from the stored result, a ``Rescored``, and an output dict that
``json.dumps`` then walks again. A large file is mostly one shape: the run's
instrument and version, plain answers, one of a few stored outcomes. At 3.3× a
hand-written loop, most of that time went into work whose result was already
known. ``Lean.take`` skips that work for such records:

* its checks imply that ``StoredAssessment.from_json`` accepts the record. It reads
  only the fields that method reads, takes plain answers and no judgement or case
  facts, so the nesting cannot be deep and is not walked;
* the stored outcome, both ranks, the change and the text of ``previous`` and
  ``result`` are memoised on (stored outcome, new outcome) for each instrument
  version. Migrating and scoring are the general path's own calls (the scorer
  keeps its own memo);
* the output line is built from those texts and the record's answers, id and case.
  Each part is encoded with ``_jsonl.encode``, the encoder ``PrivateLines`` uses, and
  the parts are joined in sorted key order, so the bytes equal ``output_line``'s;
* a changed record still gets its reasons from ``Rescorer._rescored``, because the
  diff lists them.

Any record it does not take returns ``None`` and goes the general way, which gives
it its own outcome or refusal. That covers another shape, an unknown instrument or
version, answers that do not fit, a judgement, and a missing or full stored result.
The record is only read, never changed, so the general path sees it as it came.
``tests/test_rescore_jsonl_fast.py`` checks that both ways give the same bytes.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from ..content.migration import MigrationPlan
from ..engine.scoring import CompiledInstrument
from ._diff import entry
from ._jsonl import encode
from ._records import Change, StoredAssessment, pseudonym_ok
from ._rescorer import Rescored, Rescorer, _rank, _Scored, classify
from ._score import Outcome, Scorer

__all__ = ["Lean", "Took"]

# The fields StoredAssessment.from_json reads; a record with any other goes the general way
# (its nesting must be walked).
_KEYS = frozenset({"id", "case", "instrument", "answers", "result", "judgement", "facts", "revision"})
# Values that do not nest: answers and instrument fields of only these keep a record shallow.
_SCALARS = frozenset({str, int, float, bool, type(None)})
# A run meets a handful of (stored, new) outcome pairs and of changed-record entries; a file
# where they hardly repeat must not grow the memos past a few megabytes (an entry is about 2 KB).
MEMO_LIMIT = 4096


def _plain_encoder() -> Callable[[dict[str, object]], str]:
    """``encode`` for a dict of scalars, with the C encoder made once instead of on every call.

    The settings are ``encode``'s, so the text is the same. There is no check for cycles,
    because a dict of scalars cannot hold one. Without the C module, ``encode`` is used.
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return encode
    made = make(None, None, encode_basestring, None, ":", ",", True, False, True)
    return lambda value: "".join(made(value, 0))


_encode_plain = _plain_encoder()


class Took(NamedTuple):
    """A record done the lean way: the diff's share of it and its output line (if asked for).

    ``item`` is the diff entry of a changed record (``_diff.entry``), ``None`` for an
    unchanged one: that is only counted, under ``key`` (instrument, target version, old
    rank, new rank). Entries made from one memoised entry share its lists: the diff is
    read, never changed.
    """

    item: dict[str, Any] | None
    key: tuple[str, str, int | None, int | None]
    line: str | None


class _Known(NamedTuple):
    """What follows from a (stored outcome, new outcome) pair on one instrument version."""

    old: Outcome
    change: Change
    old_rank: int | None
    new_rank: int | None
    mid: str  # from the change to the id: ',"change":"…","id":'
    tail: str  # instrument, previous and result, as text


class _Way(NamedTuple):
    """One (instrument, version) of the run's records: the general path's route, and a memo."""

    target: CompiledInstrument
    plan: MigrationPlan
    scorer: Scorer
    version: str  # the target's version
    instrument: str  # '{"id":…,"sha256":…,"version":…}'
    known: dict[tuple[object, ...], _Known]
    # Diff entries of changed records by what decides them, when that is known without the record:
    # no full result to build, and a migration whose notes follow from which items were answered
    # (renames only). Else None: each changed record is compared in full.
    entries: dict[tuple[object, ...], dict[str, Any]] | None


class Lean:
    """Re-scores the usual records of a JSON Lines file for one ``Rescorer``; see the module docstring.

    ``taken`` and ``declined`` count records. They measure work, not time, and the
    tests use them to check that ordinary records take this path.
    """

    def __init__(self, rescorer: Rescorer) -> None:
        self.rescorer = rescorer
        self.ways: dict[tuple[str, str], _Way] = {}
        self.taken = 0
        self.declined = 0

    def take(self, data: object, line: bool) -> Took | None:
        """The re-scored record, or ``None`` for the general path to do it (and say why if it fails)."""
        try:
            got = self._take(data, line)
        except Exception:  # noqa: BLE001 - not ours to judge: the general path reports it, or raises as before
            got = None
        if got is None:
            self.declined += 1
        else:
            self.taken += 1
        return got

    def _take(self, data: object, want_line: bool) -> Took | None:
        if not isinstance(data, dict) or not _KEYS.issuperset(data):
            return None
        get = data.get
        ident, case, inst, answers, raw = get("id"), get("case"), get("instrument"), get("answers"), get("result")
        revision = get("revision", 1)
        if not (
            isinstance(ident, str) and ident and isinstance(case, str) and isinstance(inst, dict)
            and isinstance(answers, dict) and isinstance(raw, dict) and len(raw) == 5
            and get("judgement") is None and not get("facts") and revision.__class__ is int
            and _SCALARS.issuperset(map(type, answers.values())) and _SCALARS.issuperset(map(type, inst.values()))
        ):
            return None
        inst_id, version = inst.get("id"), inst.get("version")
        if not (isinstance(inst_id, str) and isinstance(version, str) and pseudonym_ok(case)):
            return None
        way = self.ways.get((inst_id, version)) or self._way(inst_id, version)
        if way is None:
            return None
        critical, referrals, complete = raw["critical"], raw["referrals"], raw["complete"]
        if not (isinstance(critical, list) and isinstance(referrals, list) and complete.__class__ is bool):
            return None
        answers_now = way.plan.apply(answers)
        new = way.scorer.outcome(answers_now, None, {})
        # Equal to a key whose outcome was read before: its level and status are texts (or no level),
        # the lists hold texts only; `complete` is checked above (True == 1 in a key). The new outcome
        # by its compared fields: plain tuples hash and compare in C, the dataclass's methods in Python.
        key = (
            raw["level"], raw["status"], complete, tuple(critical), tuple(referrals),
            new.level, new.status, new.complete, new.critical, new.referrals,
        )
        known = way.known.get(key)
        if known is None:
            known = self._known(way, Outcome.from_json(raw), new)
            if len(way.known) >= MEMO_LIMIT:
                way.known.clear()
            way.known[key] = known
        text = None
        if want_line:
            more = "" if revision == 1 else f',"revision":{revision}'
            text = (
                f'{{"answers":{_encode_plain(answers_now)},"case":{encode_basestring(case)}{known.mid}'
                f"{encode_basestring(ident)}{known.tail}{more}}}"
            )
        tally = (inst_id, way.version, known.old_rank, known.new_rank)
        if known.change == "unchanged":
            return Took(None, tally, text)
        if way.entries is None:
            return Took(entry(self._rescored(data, answers_now, new, way, known)), tally, text)
        # The entry but for its id and case: the reasons follow from the outcomes, the scores,
        # the rules behind the referrals and, through the migration's notes, which items were answered.
        ekey = (key, new.scores, new.why, tuple(answers))
        made = way.entries.get(ekey)
        if made is None:
            made = entry(self._rescored(data, answers_now, new, way, known))
            if len(way.entries) >= MEMO_LIMIT:
                way.entries.clear()
            way.entries[ekey] = made
        return Took({**made, "id": ident, "case": case}, tally, text)

    def _rescored(
        self, data: dict[str, Any], answers_now: dict[str, object], new: Outcome, way: _Way, known: _Known
    ) -> Rescored:
        """The general path's ``Rescored`` of a changed record (the record as ``from_json`` reads it)."""
        inst = data["instrument"]
        sha = inst.get("sha256")
        record = StoredAssessment(
            id=data["id"], case=data["case"], instrument=inst["id"], version=inst["version"], answers=data["answers"],
            facts={}, result=known.old, revision=data.get("revision", 1), sha256=sha if isinstance(sha, str) else None,
        )
        scored = _Scored(
            way.target, way.plan, way.scorer, answers_now, None, new, None, known.old, "stored",
            known.old_rank, known.new_rank, known.change,
        )
        return self.rescorer._rescored(record, scored)

    def _way(self, inst_id: str, version: str) -> _Way | None:
        if self.rescorer.full_results == "all":  # every record gets a full result: the general way
            return None
        try:
            route = self.rescorer.route(inst_id, version)
        except Exception:  # noqa: BLE001 - an unknown instrument or version: the general path refuses it
            return None
        target = route.target
        version_now = target.instrument.version
        inst_text = encode({"id": inst_id, "version": version_now, "sha256": target.sha256})
        plain = self.rescorer.full_results == "none" and all(step.renames is not None for step in route.plan.steps)
        way = _Way(target, route.plan, route.scorer, version_now, inst_text, {}, {} if plain else None)
        self.ways[(inst_id, version)] = way
        return way

    @staticmethod
    def _known(way: _Way, old: Outcome, new: Outcome) -> _Known:
        """The general path's own comparison (``Rescorer._score``) and ``output_line``'s texts."""
        old_rank = _rank(way.target, way.plan.level(old.level) if old.level else None)
        new_rank = _rank(way.target, new.level)
        change = classify(old, new, old_rank, new_rank, False)
        mid = f',"change":{encode(change)},"id":'
        tail = f',"instrument":{way.instrument},"previous":{encode(old.to_json())},"result":{encode(new.to_json())}'
        return _Known(old, change, old_rank, new_rank, mid, tail)
