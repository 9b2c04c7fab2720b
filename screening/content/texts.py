"""Licensed wording: overlay official item texts on an instrument without touching its structure.

May import: errors, instrument, scoring, loader, yamlsafe / pydantic, stdlib.

Instrument wording is copyrighted, so the bundled files carry our own paraphrase.
An organisation with a licence keeps the official texts in a separate file keyed by
item id (``texts.yaml``) and loads it at run time. Scoring is untouched: the
structure's SHA-256 stays the one stamped into results, and the overlay's own hash
is recorded next to it so a report says which wording was shown.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..engine.checks import Problem
from ..engine.expr import suggest
from ..engine.instrument import Id, InstrumentId, Model, NonEmpty, SemVer, Text, Value
from ..engine.scoring import CompiledInstrument
from ..errors import SpecError
from .loader import _located, validate_model
from .yamlsafe import load_yaml

__all__ = ["ItemTexts", "TextOverlay", "apply_texts", "load_texts"]


class ItemTexts(Model):
    text: Text | None = None
    help: Text | None = None


class TextOverlay(Model):
    """Official wording for one instrument version, keyed by item id."""

    instrument: InstrumentId
    version: SemVer
    licence: NonEmpty
    items: dict[Id, ItemTexts] = {}
    options: dict[Id, dict[Value, Text]] = {}


def load_texts(ci: CompiledInstrument, path: str | os.PathLike[str]) -> CompiledInstrument:
    """Return ``ci`` with the overlay in ``path`` applied (every problem located)."""
    raw = Path(path).read_bytes()
    doc = load_yaml(raw, str(path))
    overlay = validate_model(TextOverlay, doc)
    problems = list(_problems(ci, overlay))
    if problems:
        raise SpecError(_located(doc, iter(problems)))
    return apply_texts(ci, overlay, hashlib.sha256(raw).hexdigest())


def _problems(ci: CompiledInstrument, overlay: TextOverlay) -> list[Problem]:
    inst = ci.instrument
    out: list[Problem] = []
    if (overlay.instrument, overlay.version) != (inst.id, inst.version):
        out.append(
            Problem(
                ("instrument",), f"texts are for {overlay.instrument} {overlay.version}, not {inst.id} {inst.version}"
            )
        )
    for key in overlay.items:
        if key not in ci.items:
            out.append(Problem(("items", key), f"unknown item {key!r}", suggest(key, ci.order), at_key=True))
    for scale, values in overlay.options.items():
        if scale not in inst.scales:
            out.append(
                Problem(
                    ("options", scale), f"unknown scale {scale!r}", suggest(scale, sorted(inst.scales)), at_key=True
                )
            )
            continue
        known = [o.value for o in inst.scales[scale].options]
        for value in values:
            if value not in known:
                out.append(
                    Problem(("options", scale, value), f"unknown option {value!r}", suggest(value, known), at_key=True)
                )
    return out


def apply_texts(ci: CompiledInstrument, overlay: TextOverlay, texts_sha256: str) -> CompiledInstrument:
    """A new compiled instrument whose texts come from ``overlay``; scoring is unchanged."""
    inst = ci.instrument
    sections = []
    for section in inst.sections:
        items = []
        for item in section.items:
            patch = overlay.items.get(item.id)
            update = {k: v for k, v in (("text", patch.text), ("help", patch.help)) if v is not None} if patch else {}
            items.append(item.model_copy(update=update))
        sections.append(section.model_copy(update={"items": items}))
    scales = {}
    for sid, scale in inst.scales.items():
        labels = overlay.options.get(sid, {})
        options = [o.model_copy(update={"label": labels[o.value]}) if o.value in labels else o for o in scale.options]
        scales[sid] = scale.model_copy(update={"options": options})
    new = CompiledInstrument(inst.model_copy(update={"sections": sections, "scales": scales}), ci.sha256)
    new.texts_sha256 = texts_sha256
    return new
