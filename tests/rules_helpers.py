"""Shared helpers for the referral tests: a content home with the demo instrument."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def demo_home(tmp: Path, rules_text: str | None = None, catalogue: str = "stockholm") -> Path:
    """A content directory with the demo instrument, a catalogue and a rule set."""
    (tmp / "instruments" / "demo").mkdir(parents=True)
    (tmp / "rules" / "services").mkdir(parents=True)
    shutil.copy(FIXTURES / "demo.yaml", tmp / "instruments" / "demo" / "1.0.0.yaml")
    for name in ("stockholm", "goteborg"):
        shutil.copy(ROOT / "rules" / "services" / f"{name}.yaml", tmp / "rules" / "services" / f"{name}.yaml")
    text = (
        rules_text if rules_text is not None else (FIXTURES / "rules" / "demo-rules.yaml").read_text(encoding="utf-8")
    )
    (tmp / "rules" / "demo-rules.yaml").write_text(
        text.replace("catalogue: stockholm", f"catalogue: {catalogue}"), encoding="utf-8"
    )
    return tmp
