"""The expression language's syntax and types: frozen nodes, ``parse``, ``render``, the
three-valued ``UNKNOWN`` and ``Interval``, the types and the compiled ``Expression``.

May import: errors / stdlib (``ast`` for parsing only, ``difflib``). ``expr`` is the
module to import; the compiler (``_compile``, ``_functions``) builds on this one.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ..errors import ExpressionError

__all__ = [
    "BOOL",
    "CRITICAL_SYMBOL",
    "INT",
    "STR",
    "UNKNOWN",
    "AnswerType",
    "Expression",
    "GroupType",
    "Interval",
    "LevelType",
    "Type",
    "parse",
    "render",
]

MAX_LENGTH: Final = 2000
CRITICAL_SYMBOL: Final = "@critical"  # the symbol critical() reads: which critical rules fired
MAX_INT: Final = 1_000_000_000
MAX_DEPTH: Final = 48  # far beyond any real condition; keeps compile and render recursion bounded


class _Unknown:
    """The third truth value; a singleton so ``is`` checks are cheap."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:  # noqa: PYI034 - a singleton: always the one instance
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True, slots=True)
class Interval:
    """An integer known only to lie in ``[lo, hi]`` because some answers are unknown."""

    lo: int
    hi: int

    @staticmethod
    def of(lo: int, hi: int) -> int | Interval:
        return lo if lo == hi else Interval(lo, hi)


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Type:
    """A static type of the language: bool, int, str, or one of the richer ones below."""

    kind: str

    def __str__(self) -> str:
        return self.kind


BOOL: Final = Type("bool")
INT: Final = Type("int")
STR: Final = Type("str")


@dataclass(frozen=True)
class AnswerType(Type):
    """The answer to a choice item: a string from a closed set of option values."""

    values: tuple[str, ...] = ()

    def __init__(self, values: Sequence[str]) -> None:
        object.__setattr__(self, "kind", "answer")
        object.__setattr__(self, "values", tuple(values))


@dataclass(frozen=True)
class LevelType(Type):
    """A risk level; ordered, so ``level >= 'medium'`` compares ranks, not spelling."""

    levels: tuple[str, ...] = ()

    def __init__(self, levels: Sequence[str]) -> None:
        object.__setattr__(self, "kind", "level")
        object.__setattr__(self, "levels", tuple(levels))


@dataclass(frozen=True)
class GroupType(Type):
    """A repeating group (calendar rows, perpetrators): a list of rows of fields."""

    fields: tuple[tuple[str, Type], ...] = ()

    def __init__(self, fields: Mapping[str, Type]) -> None:
        object.__setattr__(self, "kind", "group")
        object.__setattr__(self, "fields", tuple(fields.items()))

    def field_type(self, name: str) -> Type | None:
        return dict(self.fields).get(name)


# --------------------------------------------------------------------------- syntax

Literal = int | str | bool


@dataclass(frozen=True)
class Node:
    """Base of the syntax tree; ``col`` is 1-based and ignored by equality."""

    col: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True)
class Const(Node):
    value: Literal


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Const, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    values: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    left: Node
    op: str  # == != < <= > >= in "not in"
    right: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # "+" | "-"
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


_CMP_OPS: Final[dict[type[ast.cmpop], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_BOOL_NAMES: Final = {"true": True, "false": False, "True": True, "False": False}


def parse(text: str) -> Node:
    """Parse ``text`` into our own syntax tree, rejecting everything not allowlisted.

    Raises:
        ExpressionError: with the column of the first offending construct.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression", str(text))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", text[:40])
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise ExpressionError("control characters are not allowed", text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError("syntax error", text, exc.offset or 0) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is nested too deeply", text) from None
    if _depth(tree.body) > MAX_DEPTH:
        raise ExpressionError(f"expression is nested deeper than {MAX_DEPTH} levels", text)
    return _convert(tree.body, text)


def _depth(root: ast.AST) -> int:
    """Nesting depth, computed without recursion so hostile input cannot blow the stack."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _convert(node: ast.expr, text: str) -> Node:  # noqa: C901 - one branch per allowed node
    col = node.col_offset + 1
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (bool, str)):
            return Const(value, col=col)
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                raise ExpressionError("integer literal is too large", text, col)
            return Const(value, col=col)
        raise ExpressionError(f"{type(value).__name__} literals are not allowed", text, col)
    if isinstance(node, ast.Name):
        if node.id in _BOOL_NAMES:
            return Const(_BOOL_NAMES[node.id], col=col)
        return Name(node.id, col=col)
    if isinstance(node, ast.List | ast.Tuple):
        items = [_convert(e, text) for e in node.elts]
        if not all(isinstance(i, Const) for i in items):
            raise ExpressionError("a list may hold only literals", text, col)
        return ListLit(tuple(i for i in items if isinstance(i, Const)), col=col)
    if isinstance(node, ast.UnaryOp):
        operand = _convert(node.operand, text)
        if isinstance(node.op, ast.Not):
            return Not(operand, col=col)
        if (
            isinstance(node.op, ast.USub)
            and isinstance(operand, Const)
            and isinstance(operand.value, int)
            and not isinstance(operand.value, bool)
        ):
            return Const(-operand.value, col=col)
        if isinstance(node.op, ast.USub):
            return Arith("-", Const(0, col=col), operand, col=col)
        raise ExpressionError("this unary operator is not allowed", text, col)
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return BoolOp(op, tuple(_convert(v, text) for v in node.values), col=col)
    if isinstance(node, ast.Compare):
        left = _convert(node.left, text)
        parts: list[Node] = []
        for cmpop, right_ast in zip(node.ops, node.comparators, strict=True):
            right = _convert(right_ast, text)
            cmp = _CMP_OPS.get(type(cmpop))
            if cmp is None:
                raise ExpressionError(f"the operator {type(cmpop).__name__} is not allowed", text, col)
            parts.append(Compare(left, cmp, right, col=col))
            left = right
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts), col=col)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        op = "+" if isinstance(node.op, ast.Add) else "-"
        return Arith(op, _convert(node.left, text), _convert(node.right, text), col=col)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only the built-in functions can be called", text, col)
        if node.keywords:
            raise ExpressionError("keyword arguments are not allowed", text, col)
        args = tuple(_convert(a, text) for a in node.args if not isinstance(a, ast.Starred))
        if len(args) != len(node.args):
            raise ExpressionError("starred arguments are not allowed", text, col)
        return Call(node.func.id, args, col=col)
    what = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts",
        ast.Lambda: "lambdas",
        ast.ListComp: "comprehensions",
        ast.SetComp: "comprehensions",
        ast.DictComp: "comprehensions",
        ast.GeneratorExp: "comprehensions",
        ast.JoinedStr: "f-strings",
        ast.IfExp: "conditional expressions",
        ast.NamedExpr: "assignment expressions",
    }.get(type(node))
    if what is None and isinstance(node, ast.BinOp):
        what = f"the operator {type(node.op).__name__}"
    raise ExpressionError(f"{what or type(node).__name__} not allowed", text, col)


def render(node: Node) -> str:
    """Write ``node`` back as text; ``parse(render(n)) == n`` for every tree ``parse`` gives."""
    if isinstance(node, Const):
        return repr(node.value)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, ListLit):
        return "[" + ", ".join(render(i) for i in node.items) + "]"
    if isinstance(node, Not):
        return f"not ({render(node.operand)})"
    if isinstance(node, BoolOp):
        return "(" + f" {node.op} ".join(f"({render(v)})" for v in node.values) + ")"
    if isinstance(node, Compare):
        return f"({render(node.left)}) {node.op} ({render(node.right)})"
    if isinstance(node, Arith):
        return f"({render(node.left)}) {node.op} ({render(node.right)})"
    if isinstance(node, Call):
        return f"{node.func}(" + ", ".join(render(a) for a in node.args) + ")"
    raise TypeError(type(node).__name__)


# --------------------------------------------------------------------- compiled form

Env = Mapping[str, object]
Fn = Callable[[Env], object]


@dataclass(frozen=True)
class Expression:
    """A parsed, checked and compiled expression; evaluate it as often as you like.

    Attributes:
        text: the source text, for traces and error messages.
        type: its static type (``BOOL`` for conditions).
        names: every symbol it reads, so callers can explain "which answers mattered".
    """

    text: str
    type: Type
    names: frozenset[str]
    fn: Fn = field(repr=False, compare=False)

    def evaluate(self, env: Env) -> object:
        """Value under ``env``: ``True``/``False``/``UNKNOWN`` for conditions."""
        return self.fn(env)


def suggest(name: str, candidates: Sequence[str]) -> str | None:
    """The closest candidate to ``name``, for "did you mean …?"."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None
