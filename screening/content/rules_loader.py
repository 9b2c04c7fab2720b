"""Load rule sets and service catalogues from YAML, checked against the instruments.

May import: errors, checks, instrument, rules, referral, rules_checks, loader, yamlsafe / stdlib.

A rule set names its catalogue by id (``rules/services/<id>.yaml``); the bundled
set is Stockholm's, and another municipality's loads the same way. Loading runs
every static check, so ``screening validate`` reports unknown services, rules
that can never fire, overlaps under ``unique`` and uncovered levels — located.
Commands that use one instrument load with ``check="in use"``: the same checks,
for the tables of the instrument in use, just before they are first used.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from ..engine.checks import Problem
from ..engine.instrument import Text
from ..engine.scoring import CompiledInstrument
from ..errors import Issue, SpecError
from ..referral._evaluate import CompiledRuleSet, CompiledTable
from ..referral.rules import Catalogue, LegalTable, RuleSet
from ..referral.rules_checks import check_catalogue, check_ruleset
from .loader import _located, content_root, list_instruments, load_instrument_file, validate_model
from .yamlsafe import Document, load_yaml, load_yaml_file, peek_top_level

__all__ = ["find_rules", "legal_table_path", "load_catalogue_file", "load_legal_table", "load_rules", "load_rules_file"]


LEGAL_TABLE = "legal"  # rules/legal.yaml: the table of legal grounds, beside the rule sets but not one


def legal_table_path(catalogue_path: str | os.PathLike[str] | None = None) -> Path:
    """``rules/legal.yaml`` beside a catalogue's ``rules/services/``, else the bundled one."""
    if catalogue_path is not None:
        sibling = Path(catalogue_path).resolve().parent.parent / f"{LEGAL_TABLE}.yaml"
        if sibling.is_file():
            return sibling
    return _bundled_home() / "rules" / f"{LEGAL_TABLE}.yaml"


def _bundled_home() -> Path:
    from importlib import resources

    bundled = resources.files("screening") / "_content"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=4)
def _legal_table(path: Path, mtime_ns: int) -> LegalTable:
    return validate_model(LegalTable, load_yaml_file(path))


def load_legal_table(path: str | os.PathLike[str] | None = None) -> LegalTable:
    """The one table of legal grounds (the law in force, and the provision it replaced)."""
    resolved = Path(path) if path is not None else legal_table_path()
    return _legal_table(resolved, resolved.stat().st_mtime_ns)


def load_catalogue_file(path: str | os.PathLike[str]) -> Catalogue:
    """Load and check one service catalogue, with the legal grounds of ``rules/legal.yaml``.

    A catalogue names legal grounds by id and never restates them, so a change in
    the law is one edit in one table.
    """
    doc = load_yaml_file(path)
    catalogue = validate_model(Catalogue, doc)
    if not catalogue.legal_bases:
        table = load_legal_table(legal_table_path(path))
        catalogue = catalogue.model_copy(update={"legal_bases": dict(table.legal_bases)})
    issues = list(_located(doc, check_catalogue(catalogue)))
    if issues:
        raise SpecError(issues)
    return catalogue


def _latest_instruments(home: str | os.PathLike[str] | None) -> dict[str, CompiledInstrument]:
    """The newest version of each instrument that loads (older versions are not parsed at all).

    Parsing every version cost one strict YAML parse per old version each time a
    rule set was loaded, which an interview does before its first question.
    """
    by_id: dict[str, list[Path]] = {}
    for entry in list_instruments(home):  # sorted by id, then version
        by_id.setdefault(entry.id, []).append(entry.path)
    latest: dict[str, CompiledInstrument] = {}
    for ident, paths in by_id.items():
        for path in reversed(paths):
            try:
                latest[ident] = load_instrument_file(path)
                break
            except SpecError:
                continue  # reported when that instrument itself is validated; an older one serves
    return latest


def find_rules(ref: str, home: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a rule-set id (``rules/<id>.yaml``) or path."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or os.sep in ref:
        return candidate
    path = content_root(home) / "rules" / f"{ref}.yaml"
    if not path.is_file() or ref == LEGAL_TABLE:
        known = sorted(p.stem for p in (content_root(home) / "rules").glob("*.yaml") if p.stem != LEGAL_TABLE)
        raise SpecError([Issue(ref, 0, 0, "", f"no rule set {ref!r} (known: {', '.join(known)})")])
    return path


def load_rules(ref: str, home: str | os.PathLike[str] | None = None) -> CompiledRuleSet:
    """Load a rule set by id or path, with its catalogue, checked against the instruments."""
    return load_rules_file(find_rules(ref, home), home)


def load_rules_file(
    path: str | os.PathLike[str],
    home: str | os.PathLike[str] | None = None,
    *,
    check: Literal["all", "in use"] = "all",
) -> CompiledRuleSet:
    """Load one file under ``rules/``: a rule set, or a catalogue under ``rules/services``.

    Args:
        check: ``"all"`` checks every table against the newest version of every
            instrument now (``screening validate``, the library). ``"in use"``
            checks what all instruments share now and an instrument's own tables
            the first time they are asked for, against the instrument actually in
            use, before any of their rules runs; so a command pays for parsing the
            instrument it uses, not all of them (issue 13, seen 10).
    """
    path = Path(path)
    raw = path.read_bytes() if path.is_file() else b""
    if not raw:
        raise SpecError([Issue(str(path), 0, 0, "", "no such file or empty file")])
    doc = load_yaml(raw, str(path))
    if path.parent.name == "services":
        catalogue = load_catalogue_file(path)
        return CompiledRuleSet(_empty_ruleset(catalogue), catalogue)
    ruleset = validate_model(RuleSet, doc)
    root = path.parent if home is None and path.parent.name == "rules" else content_root(home) / "rules"
    catalogue_path = root / "services" / f"{ruleset.catalogue}.yaml"
    if not catalogue_path.is_file():
        mark = doc.mark_for(("catalogue",))
        raise SpecError([Issue(str(path), mark.line, mark.column, "catalogue", f"no catalogue file {catalogue_path}")])
    catalogue = load_catalogue_file(catalogue_path)
    instruments_home = home if home is not None else root.parent
    sha256 = hashlib.sha256(raw).hexdigest()
    if check == "in use":
        return _CheckedInUse(ruleset, catalogue, sha256, doc, _Instruments(instruments_home))
    instruments = _latest_instruments(instruments_home)
    compiled = CompiledRuleSet(ruleset, catalogue, sha256)
    compiled.instrument_titles = {iid: ci.instrument.title for iid, ci in instruments.items()}
    issues = list(_located(doc, check_ruleset(compiled, instruments)))
    if issues:
        raise SpecError(issues)
    return compiled


class _Instruments(Mapping[str, CompiledInstrument]):
    """Every instrument id under the content root; each parsed the first time it is read."""

    def __init__(self, home: str | os.PathLike[str] | None) -> None:
        self._paths: dict[str, list[Path]] = {}
        for entry in list_instruments(home):  # sorted by id, then version
            self._paths.setdefault(entry.id, []).append(entry.path)
        self._loaded: dict[str, CompiledInstrument | None] = {}

    def __getitem__(self, ident: str) -> CompiledInstrument:
        if ident not in self._loaded:
            self._loaded[ident] = None
            for path in reversed(self._paths.get(ident, [])):  # newest first, as _latest_instruments
                try:
                    self._loaded[ident] = load_instrument_file(path)
                    break
                except SpecError:
                    continue
        found = self._loaded[ident]
        if found is None:
            raise KeyError(ident)
        return found

    def __contains__(self, ident: object) -> bool:
        return ident in self._paths  # known by its directory; Mapping's default would parse it

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def title(self, ident: str) -> Text | None:
        """The newest version's title, read from the top of its file without loading the rest."""
        for path in reversed(self._paths.get(ident, [])):
            try:
                raw = peek_top_level(path.read_bytes(), "title")
                return Text.model_validate(raw) if raw is not None else None
            except (OSError, SpecError, ValidationError):
                continue
        return None


class _Titles(dict[str, Text]):
    """Instrument titles for follow-up texts, read when a text first names the instrument."""

    def __init__(self, instruments: _Instruments) -> None:
        super().__init__()
        self._instruments = instruments

    def get(self, key: str, default: Text | None = None) -> Text | None:  # type: ignore[override]
        if key not in self and key in self._instruments:
            found = self._instruments.title(key)
            if found is not None:
                self[key] = found
        return super().get(key, default)


class _CheckedInUse(CompiledRuleSet):
    """A rule set checked as it is used (``check="in use"`` of load_rules_file).

    At load: everything but the instrument-specific tables. The first time
    ``tables_for(ci)`` is asked (by the engine, before any rule runs): the tables
    for that instrument, against ``ci`` itself. Problems are located in the rule
    set's file exactly as a full check locates them.
    """

    def __init__(
        self, ruleset: RuleSet, catalogue: Catalogue, sha256: str, doc: Document, instruments: _Instruments
    ) -> None:
        super().__init__(ruleset, catalogue, sha256)
        self._doc = doc
        self._instruments = instruments
        self.instrument_titles = _Titles(instruments)
        self._checked: set[tuple[str, str]] = set()
        self._check(None)

    def tables_for(self, ci: CompiledInstrument) -> tuple[CompiledTable, ...]:
        key = (ci.instrument.id, ci.sha256)
        if key not in self._checked:
            self._check(ci)
            self._checked.add(key)
            self.instrument_titles.setdefault(ci.instrument.id, ci.instrument.title)
        return super().tables_for(ci)

    def _check(self, ci: CompiledInstrument | None) -> None:
        ident = ci.instrument.id if ci is not None else "*"
        keep = [n for n, table in enumerate(self.ruleset.tables) if table.instrument in ("*", ident)]
        part = CompiledRuleSet(
            self.ruleset.model_copy(update={"tables": [self.ruleset.tables[n] for n in keep]}), self.catalogue
        )
        instruments = _Override(self._instruments, ci)
        problems = (_renumber(problem, keep) for problem in check_ruleset(part, instruments))
        issues = list(_located(self._doc, problems))
        if issues:
            raise SpecError(issues)


class _Override(Mapping[str, CompiledInstrument]):
    """The instruments, with the one in use standing for its id (it may be older or a file)."""

    def __init__(self, base: _Instruments, ci: CompiledInstrument | None) -> None:
        self._base = base
        self._ci = ci

    def __getitem__(self, ident: str) -> CompiledInstrument:
        if self._ci is not None and ident == self._ci.instrument.id:
            return self._ci
        return self._base[ident]

    def __contains__(self, ident: object) -> bool:
        return ident in self._base or (self._ci is not None and ident == self._ci.instrument.id)

    def __iter__(self) -> Iterator[str]:
        extra = [self._ci.instrument.id] if self._ci is not None and self._ci.instrument.id not in self._base else []
        return iter([*self._base, *extra])

    def __len__(self) -> int:
        return len(list(iter(self)))


def _renumber(problem: Problem, keep: list[int]) -> Problem:
    """A problem in a table of the part, located at that table's place in the whole rule set."""
    loc = tuple(problem.loc)
    if len(loc) >= 2 and loc[0] == "tables" and isinstance(loc[1], int):
        return dataclasses.replace(problem, loc=("tables", keep[loc[1]], *loc[2:]))
    return problem


def _empty_ruleset(catalogue: Catalogue) -> RuleSet:
    """A catalogue validated alone is wrapped in a rule set with no tables to evaluate."""
    return RuleSet.model_construct(
        id=catalogue.id,
        version=catalogue.version,
        title=catalogue.title,
        catalogue=catalogue.id,
        facts={},
        incomplete_support=[],
        tables=[],
    )
