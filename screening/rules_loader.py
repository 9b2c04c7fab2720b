"""Load rule sets and service catalogues from YAML, checked against the instruments.

May import: errors, rules, referral, rules_checks, loader, yamlsafe / stdlib.

A rule set names its catalogue by id (``rules/services/<id>.yaml``); the bundled
set is Stockholm's, and another municipality's loads the same way. Loading runs
every static check, so ``screening validate`` reports unknown services, rules
that can never fire, overlaps under ``unique`` and uncovered levels — located.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from .errors import Issue, SpecError
from .loader import _located, content_root, list_instruments, load_instrument_file, validate_model
from .referral import CompiledRuleSet
from .rules import Catalogue, LegalTable, RuleSet
from .rules_checks import check_catalogue, check_ruleset
from .scoring import CompiledInstrument
from .yamlsafe import load_yaml, load_yaml_file

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
    return Path(__file__).resolve().parent.parent


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


def load_rules_file(path: str | os.PathLike[str], home: str | os.PathLike[str] | None = None) -> CompiledRuleSet:
    """Load one file under ``rules/``: a rule set, or a catalogue under ``rules/services``."""
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
    instruments = _latest_instruments(home if home is not None else root.parent)
    compiled = CompiledRuleSet(ruleset, catalogue, hashlib.sha256(raw).hexdigest())
    compiled.instrument_titles = {iid: ci.instrument.title for iid, ci in instruments.items()}
    issues = list(_located(doc, check_ruleset(compiled, instruments)))
    if issues:
        raise SpecError(issues)
    return compiled


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
