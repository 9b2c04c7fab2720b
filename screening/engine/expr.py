"""A small, safe, typed expression language for conditions in instruments and rules.

May import: errors and the engine's ``_syntax``, ``_compile``, ``_functions`` / stdlib.

The one module to import for the language: it re-exports the syntax and types
(``_syntax``) and adds ``compile_expression``, which runs the compiler (``_compile``).

Why our own: conditions (``show_if``, critical combinations, referral rules) are
written by content authors and must never run code. We parse with ``ast.parse``
and then build *our own* frozen nodes from an allowlist; anything else — calls
to unknown functions, attributes, subscripts, lambdas, comprehensions, ``**``,
f-strings — is rejected with a column. Expressions are checked against a symbol
table when the instrument loads (unknown ids with "did you mean", type errors,
wrong arity, answer values outside the item's scale) and compiled into Python
closures, so scoring never parses and never meets a type error.

Evaluation is three-valued. An unknown answer is ``UNKNOWN``, and a count over
unknown answers is an ``Interval``: ``count('yes', a, b) >= 2`` is true, false or
unknown, never silently false. A skipped (not applicable) item is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ExpressionError
from ._compile import Compiler
from ._syntax import (
    BOOL,
    CRITICAL_SYMBOL,
    INT,
    MAX_DEPTH,
    MAX_INT,
    MAX_LENGTH,
    STR,
    UNKNOWN,
    AnswerType,
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Env,
    Expression,
    Fn,
    GroupType,
    Interval,
    LevelType,
    ListLit,
    Literal,
    Name,
    Node,
    Not,
    Type,
    parse,
    render,
    suggest,
)

# The syntax and types are re-exported: the rest of the engine and the referral
# package read them from here, the language's one door.
__all__ = [
    "BOOL",
    "CRITICAL_SYMBOL",
    "INT",
    "MAX_DEPTH",
    "MAX_INT",
    "MAX_LENGTH",
    "STR",
    "UNKNOWN",
    "AnswerType",
    "Arith",
    "BoolOp",
    "Call",
    "Compare",
    "Const",
    "Env",
    "Expression",
    "Fn",
    "GroupType",
    "Interval",
    "LevelType",
    "ListLit",
    "Literal",
    "Name",
    "Node",
    "Not",
    "Type",
    "compile_expression",
    "parse",
    "render",
    "suggest",
]


def compile_expression(text: str, symbols: Mapping[str, Type], expect: Type | None = BOOL) -> Expression:
    """Parse, type-check against ``symbols`` and compile ``text``.

    Args:
        text: the expression as written in the YAML.
        symbols: every name the expression may read, with its type.
        expect: the type the result must have (``None``: any).

    Raises:
        ExpressionError: located problem, with a suggestion for unknown names.
    """
    node = parse(text)
    compiler = Compiler(text, symbols)
    typ, fn = compiler.compile(node)
    if expect is not None and typ.kind != expect.kind:
        raise ExpressionError(f"expected a {expect} expression, got {typ}", text, node.col)
    return Expression(text, typ, frozenset(compiler.names), fn)

