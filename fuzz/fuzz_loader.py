"""atheris target: the instrument loader (strict YAML → pydantic models → checks → compiled expressions).

Any input may be rejected, but only with ``ScreeningError`` (a located ``SpecError``);
every other exception — ``TypeError``, ``RecursionError``, ``MemoryError`` … — is a
crash for libFuzzer to minimise and keep in ``fuzz/artifacts/``. Run it with
``python fuzz/run.py loader --seconds 60`` (see fuzz/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    import yaml  # noqa: F401  (instrumented too: its scanner is where the odd inputs go)

    from screening.content.loader import parse_instrument
    from screening.errors import ScreeningError


def TestOneInput(data: bytes) -> None:
    try:
        parse_instrument(data, "fuzz.yaml")
    except ScreeningError as exc:
        str(exc)  # building the message must not fail either


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
