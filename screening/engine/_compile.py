"""Type-check an expression tree and compile it into closures (three-valued).

May import: errors, _syntax, _functions / stdlib.

Kept apart from ``expr.py`` (syntax) so each stays small. Checking and compiling
happen in one pass: a node is compiled only once its types are known to fit, and
literals are specialised here (a level name becomes its rank), so the closures
do no lookups that could fail at scoring time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import ExpressionError
from ._functions import FUNCTIONS
from ._syntax import (
    BOOL,
    INT,
    STR,
    UNKNOWN,
    AnswerType,
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Env,
    Fn,
    GroupType,
    Interval,
    LevelType,
    ListLit,
    Name,
    Node,
    Not,
    Type,
    suggest,
)

_ORDER_OPS = frozenset({"<", "<=", ">", ">="})


def _bounds(v: object) -> tuple[int, int]:
    if isinstance(v, Interval):
        return v.lo, v.hi
    assert isinstance(v, int)
    return v, v


def compare(op: str, a: object, b: object) -> object:
    """Three-valued comparison over values, ``None`` (not applicable) and intervals."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if op == "in" or op == "not in":
        assert isinstance(b, frozenset)
        if a is None:
            return op == "not in"
        if isinstance(a, Interval):
            hits = [x for x in b if isinstance(x, int) and a.lo <= x <= a.hi]
            res: object = UNKNOWN if hits else False
        else:
            res = a in b
        if op == "not in" and res is not UNKNOWN:
            return not res
        return res
    if a is None or b is None:
        return (a == b) if op == "==" else (a != b) if op == "!=" else False
    if isinstance(a, Interval) or isinstance(b, Interval):
        (alo, ahi), (blo, bhi) = _bounds(a), _bounds(b)
        if op == "==" or op == "!=":
            if ahi < blo or bhi < alo:
                return op == "!="
            return UNKNOWN
        if op in (">", ">="):
            (alo, ahi), (blo, bhi) = (blo, bhi), (alo, ahi)
            op = "<" if op == ">" else "<="
        if op == "<":
            return True if ahi < blo else False if alo >= bhi else UNKNOWN
        return True if ahi <= blo else False if alo > bhi else UNKNOWN
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    assert isinstance(a, int) and isinstance(b, int)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _add(op: str, a: object, b: object) -> object:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if a is None or b is None:
        return None
    (alo, ahi), (blo, bhi) = _bounds(a), _bounds(b)
    if op == "+":
        return Interval.of(alo + blo, ahi + bhi)
    return Interval.of(alo - bhi, ahi - blo)


class Compiler:
    """One expression's checker and compiler; collects the names it reads."""

    def __init__(self, text: str, symbols: Mapping[str, Type]) -> None:
        self.text = text
        self.symbols = symbols
        self.names: set[str] = set()

    def fail(self, message: str, node: Node, suggestion: str | None = None) -> ExpressionError:
        return ExpressionError(message, self.text, node.col, suggestion)

    def compile(self, node: Node) -> tuple[Type, Fn]:
        method: Callable[[Node], tuple[Type, Fn]] = getattr(self, "_" + type(node).__name__)
        return method(node)

    # -- leaves

    def _Const(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Const)
        value = node.value
        typ = BOOL if isinstance(value, bool) else INT if isinstance(value, int) else STR
        return typ, lambda env: value

    def _Name(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Name)
        typ = self.symbols.get(node.id)
        if typ is None or node.id.startswith("@"):
            visible = [s for s in self.symbols if not s.startswith("@")]
            raise self.fail(f"unknown name {node.id!r}", node, suggest(node.id, visible))
        self.names.add(node.id)
        key = node.id

        def get(env: Env) -> object:
            return env.get(key, UNKNOWN)

        return typ, get

    def _ListLit(self, node: Node) -> tuple[Type, Fn]:
        raise self.fail("a list may only stand on the right of 'in'", node)

    # -- operators

    def _Not(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Not)
        typ, fn = self.compile(node.operand)
        self._expect(typ, BOOL, node.operand)

        def neg(env: Env) -> object:
            v = fn(env)
            return UNKNOWN if v is UNKNOWN else not v

        return BOOL, neg

    def _BoolOp(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, BoolOp)
        fns: list[Fn] = []
        for value in node.values:
            typ, fn = self.compile(value)
            self._expect(typ, BOOL, value)
            fns.append(fn)
        decisive = node.op == "or"  # the value that settles the whole expression
        parts = tuple(fns)
        if len(parts) == 2:
            # The common ``a and b``, unrolled: the same answer as the loop below, with
            # less interpreter work (referral rule sets evaluate hundreds of these).
            first, second = parts
            settled = not decisive

            def boolop2(env: Env) -> object:
                a = first(env)
                if a is decisive:
                    return decisive
                b = second(env)
                if b is decisive:
                    return decisive
                return UNKNOWN if a is UNKNOWN or b is UNKNOWN else settled

            return BOOL, boolop2

        def boolop(env: Env) -> object:
            result: object = not decisive
            for part in parts:
                v = part(env)
                if v is decisive:
                    return decisive
                if v is UNKNOWN:
                    result = UNKNOWN
            return result

        return BOOL, boolop

    def _Arith(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Arith)
        lt, lf = self.compile(node.left)
        rt, rf = self.compile(node.right)
        self._expect(lt, INT, node.left)
        self._expect(rt, INT, node.right)
        op = node.op
        return INT, lambda env: _add(op, lf(env), rf(env))

    def _Compare(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Compare)
        op = node.op
        lt, lf = self.compile(node.left)
        if op in ("in", "not in"):
            if not isinstance(node.right, ListLit):
                raise self.fail(f"'{op}' needs a list literal on its right", node.right)
            members = frozenset(self._literal(lt, item, op) for item in node.right.items)
            return BOOL, lambda env: compare(op, lf(env), members)
        if isinstance(node.right, Const) and lt.kind in ("answer", "level", "str"):
            const = self._literal(lt, node.right, op)
            key = node.left.id if isinstance(node.left, Name) else None
            return BOOL, self._compare_const(op, lf, const, key)
        if isinstance(node.left, Const) and not isinstance(node.right, Const):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            return self._Compare(Compare(node.right, flipped, node.left, col=node.col))
        rt, rf = self.compile(node.right)
        self._check_pair(lt, rt, op, node)
        if isinstance(node.right, Const) and isinstance(node.left, Name) and op in _ORDER_OPS:
            return BOOL, self._compare_const(op, lf, node.right.value, node.left.id)  # a score against a number
        return BOOL, lambda env: compare(op, lf(env), rf(env))

    @staticmethod
    def _compare_const(op: str, fn: Fn, const: object, key: str | None = None) -> Fn:
        """A comparison with a literal; ``key``: the left side is that name, read inline.

        Reading the name inline and taking plain integers (a level, a score without
        unknowns) straight to Python's operator give the same answers as ``compare``
        with one closure call instead of three.
        """
        if op == "==":
            if key is not None:

                def eq_name(env: Env) -> object:
                    v = env.get(key, UNKNOWN)
                    return UNKNOWN if v is UNKNOWN else v == const

                return eq_name

            def eq(env: Env) -> object:
                v = fn(env)
                return UNKNOWN if v is UNKNOWN else v == const

            return eq
        if key is not None and const.__class__ is int and op in _ORDER_OPS:
            fast_op = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}[op]

            def order_name(env: Env) -> object:
                v = env.get(key, UNKNOWN)
                if v.__class__ is int:
                    return fast_op(v, const)
                return compare(op, v, const)

            return order_name
        return lambda env: compare(op, fn(env), const)

    def _literal(self, typ: Type, item: Node, op: str) -> object:
        """Check one literal against the other side's type; return its runtime value."""
        assert isinstance(item, Const)
        value = item.value
        if isinstance(typ, LevelType):
            if not isinstance(value, str) or value not in typ.levels:
                raise self.fail(
                    f"{value!r} is not a risk level (levels: {', '.join(typ.levels)})",
                    item,
                    suggest(str(value), typ.levels),
                )
            return typ.levels.index(value)
        if isinstance(typ, AnswerType):
            if op in _ORDER_OPS:
                raise self.fail(f"answers cannot be ordered with '{op}'", item)
            if not isinstance(value, str) or value not in typ.values:
                raise self.fail(
                    f"{value!r} is not an answer value here (allowed: {', '.join(typ.values)})",
                    item,
                    suggest(str(value), typ.values),
                )
            return value
        literal_type = BOOL if isinstance(value, bool) else INT if isinstance(value, int) else STR
        self._check_pair(typ, literal_type, op, item)
        return value

    def _check_pair(self, lt: Type, rt: Type, op: str, node: Node) -> None:
        if lt.kind != rt.kind and not {lt.kind, rt.kind} <= {"answer", "str"}:
            raise self.fail(f"cannot compare {lt} with {rt}", node)
        if lt.kind in ("text", "date", "group"):
            raise self.fail(f"a {lt} cannot be compared; use known() or the group functions", node)
        if isinstance(lt, LevelType) and isinstance(rt, LevelType) and lt.levels != rt.levels:
            raise self.fail("the two sides use different level scales", node)
        if op in _ORDER_OPS and lt.kind not in ("int", "level"):
            raise self.fail(f"'{op}' needs numbers or levels, not {lt}", node)

    def _expect(self, got: Type, want: Type, node: Node) -> None:
        if got.kind != want.kind:
            raise self.fail(f"expected {want}, got {got}", node)

    # -- functions

    def _Call(self, node: Node) -> tuple[Type, Fn]:
        assert isinstance(node, Call)
        spec = FUNCTIONS.get(node.func)
        if spec is None:
            raise self.fail(f"unknown function {node.func!r}", node, suggest(node.func, sorted(FUNCTIONS)))
        return spec(self, node)

    # helpers used by the function table

    def name_arg(self, node: Node, kinds: Sequence[str], what: str) -> tuple[str, Type]:
        if not isinstance(node, Name):
            raise self.fail(f"expected {what} here", node)
        typ, _ = self._Name(node)
        if typ.kind not in kinds:
            raise self.fail(f"{node.id!r} is a {typ}, expected {what}", node)
        return node.id, typ

    def values_arg(self, node: Node) -> tuple[str, ...]:
        items = node.items if isinstance(node, ListLit) else (node,)
        values: list[str] = []
        for item in items:
            if not isinstance(item, Const) or not isinstance(item.value, str):
                raise self.fail("expected an answer value or a list of answer values", item)
            values.append(item.value)
        return tuple(values)

    def check_values(self, values: Sequence[str], typ: Type, node: Node) -> None:
        allowed = typ.values if isinstance(typ, AnswerType) else ()
        for v in values:
            if v not in allowed:
                raise self.fail(
                    f"{v!r} is not an answer value of {getattr(node, 'id', '?')!r} (allowed: {', '.join(allowed)})",
                    node,
                    suggest(v, allowed),
                )

    def group_field(self, group: GroupType, node: Node, kinds: Sequence[str]) -> tuple[str, Type]:
        if not isinstance(node, Const) or not isinstance(node.value, str):
            raise self.fail("expected a field name in quotes", node)
        ftype = group.field_type(node.value)
        names = [n for n, _ in group.fields]
        if ftype is None:
            raise self.fail(f"no field {node.value!r} in this group", node, suggest(node.value, names))
        if ftype.kind not in kinds:
            raise self.fail(f"field {node.value!r} is a {ftype}, expected {'/'.join(kinds)}", node)
        return node.value, ftype
