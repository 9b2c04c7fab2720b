"""atheris target: the expression language (parse, type-check against an instrument's symbols, evaluate).

The symbols are those of the bundled FREDA-style danger assessment, so names,
answer values, levels and group fields are real. An input is rejected only
with ``ExpressionError``; an accepted expression is evaluated on an empty and a
full answer set and must return ``True``, ``False`` or ``UNKNOWN`` (or an int for
``expect=None``). Anything else is a crash. ``python fuzz/run.py expr --seconds 60``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

with atheris.instrument_imports():
    from screening.content.loader import load_instrument_file
    from screening.engine import expr
    from screening.engine.checks import symbols_for
    from screening.errors import ExpressionError

_CI = load_instrument_file(next((REPO / "instruments" / "freda-farlighet").glob("*.yaml")))
_SYMBOLS = symbols_for(_CI.instrument, critical=False)  # fired() needs the referral env
_EMPTY = _CI.evaluate(_CI.check_answers({}))
_FULL = _CI.evaluate(_CI.check_answers({
    key: _CI.instrument.scales[item.scale or ""].options[0].value
    for key, item in _CI.items.items() if item.type == "choice"
}))


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    expect = expr.BOOL if fdp.ConsumeBool() else None
    text = fdp.ConsumeUnicodeNoSurrogates(4096)
    try:
        compiled = expr.compile_expression(text, _SYMBOLS, expect)
    except ExpressionError as exc:
        str(exc)
        return
    for ev in (_EMPTY, _FULL):
        value = compiled.evaluate(ev.env)
        if expect is not None and value not in (True, False, expr.UNKNOWN):
            raise AssertionError(f"a condition evaluated to {type(value).__name__}")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
