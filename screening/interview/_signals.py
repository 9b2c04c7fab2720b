"""The interview flow's signals: no answer yet, keep the stored answer, the cursor moved.

May import: nothing. Shared by ``_run`` (the flow) and ``_group`` (repeating groups),
which is why they live apart from both.
"""

from __future__ import annotations

__all__ = ["KEEP", "MOVED", "NONE"]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NONE = _Sentinel("NONE")
KEEP = _Sentinel("KEEP")
MOVED = _Sentinel("MOVED")
