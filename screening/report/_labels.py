"""The reports' words: the translation table ``reports/labels.yaml`` and the legal-basis labels.

May import: the engine's instrument (``Text``), the content package's loader,
yamlsafe and rules_loader / pydantic, stdlib.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import ConfigDict, RootModel

from ..engine.instrument import Text
from ..referral.rules import LegalBasis

__all__ = ["labels", "package_reports"]


class _LabelTable(RootModel[dict[str, Text]]):
    model_config = ConfigDict(hide_input_in_errors=True)



def package_reports() -> Path:
    """The templates shipped with the package: trusted, unlike ``$SCREENING_HOME`` or an override directory."""
    from importlib import resources

    bundled = resources.files("screening") / "_content" / "reports"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[2] / "reports"


@functools.lru_cache(maxsize=1)
def labels() -> dict[str, Text]:
    """The translation table ``reports/labels.yaml`` (validated: both languages for every key)."""
    from ..content.loader import validate_model
    from ..content.yamlsafe import load_yaml_file

    doc = load_yaml_file(package_reports() / "labels.yaml")
    table = dict(validate_model(_LabelTable, doc).root)
    table.update(_legal_labels())
    return table


def _legal_labels() -> dict[str, Text]:
    """``legal_basis_<id>`` labels from ``rules/legal.yaml``, the one table of legal grounds.

    The wording is the table's own (label, provision in force, former provision):
    the reports never restate a legal reference.
    """
    from ..content.rules_loader import load_legal_table

    path = package_reports().parent / "rules" / "legal.yaml"
    table = load_legal_table(path if path.is_file() else None)

    def words(basis: LegalBasis, lang: str) -> str:
        label = basis.label.get(lang)
        refs = [basis.reference.get(lang)] + ([basis.former.get(lang)] if basis.former else [])
        return f"{label[:1].lower()}{label[1:]} ({'; '.join(refs)})"

    return {
        f"legal_basis_{key}": Text(sv=words(basis, "sv"), en=words(basis, "en"))
        for key, basis in table.legal_bases.items()
    }
