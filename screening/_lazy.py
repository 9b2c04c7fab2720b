"""Names a package loads from its modules on first use (PEP 562), written once.

May import: stdlib only.

``import screening`` and the packages that took over public modules (``engine``,
``store``, ``report``, …) re-export names without importing what they come from,
so ``screening --help`` loads neither pydantic nor the engine. Each package gives
``exports`` where its names live and takes back its ``__getattr__`` and ``__dir__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["exports", "from_module"]


def exports(
    package: str, where: Mapping[str, tuple[str, str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: name → (relative module, attribute), loaded once."""

    def getattr_(name: str) -> object:
        found = where.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = found
        value = getattr(importlib.import_module(module, package), attr)
        setattr(sys.modules[package], name, value)  # the next look-up is a plain attribute
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return getattr_, dir_


def from_module(module: str, names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Every name from one module, under its own name."""
    return {name: (module, name) for name in names}
