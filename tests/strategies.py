"""Hypothesis builders: random valid instruments, answers for them, and expression trees.

Instruments are generated as data together with a small ``Spec`` that says what
the generator knows independently of the engine: each item's known values in
order of points (so "raising an answer" is well defined), the levels, and the
policy. Every scale orders its known options ``no`` ≤ ``partly`` ≤ ``yes`` by
points and every count and critical rule looks at ``yes`` (or ``yes``/``partly``),
so raising an answer can only raise what the instrument computes — the property
the monotonicity tests check.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

from helpers import build_instrument, text, to_yaml
from hypothesis import strategies as st

from screening.engine.expr import Arith, BoolOp, Call, Compare, Const, ListLit, Name, Node, Not

__all__ = [
    "LEVEL_NAMES",
    "Spec",
    "answers",
    "expression_trees",
    "instruments",
    "python_expressions",
    "raise_pairs",
]

LEVEL_NAMES = ("low", "moderate", "high", "severe")


@dataclass
class Spec:
    """A generated instrument and what the generator knows about it."""

    data: dict[str, Any]
    items: list[str]
    known: dict[str, list[str]]  # item → known values, lowest points first
    unknown: dict[str, list[str]]  # item → values of its unknown options
    levels: list[str]
    policy: str
    max_unknown: int
    has_show_if: bool = False

    @property
    def yaml(self) -> str:
        return to_yaml(self.data)


@st.composite
def _scale(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], list[str]]:
    """A scale whose known options have non-decreasing points: no ≤ partly ≤ yes, no ≤ 0 ≤ yes."""
    values = ["no", "partly", "yes"] if draw(st.booleans()) else ["no", "yes"]
    points = [draw(st.integers(-2, 0))]
    for _ in values[1:]:
        points.append(points[-1] + draw(st.integers(0, 4)))
    # 0 within [no, yes]: a skipped item (which adds 0) then stays inside the range the
    # loader computes from the points alone (see test_engine.py for the case outside).
    points[-1] = max(points[-1], 0)
    unknown = ["unknown"] + (["declined"] if draw(st.booleans()) else [])
    options = [{"value": v, "label": text(v), "points": p} for v, p in zip(values, points, strict=True)]
    options += [{"value": u, "label": text(u), "unknown": True} for u in unknown]
    order = draw(st.permutations(range(len(options))))  # option order must not matter
    return {"options": [options[i] for i in order]}, values, unknown


def _range(
    scales: dict[str, dict[str, Any]], item_scale: dict[str, str], covered: list[str], kind: str, gated: set[str]
) -> tuple[int, int]:
    """The score range worked out from the data, without the engine.

    An item behind a show_if may be skipped and then adds nothing, so 0 is one
    of the values it can add.
    """
    lo = hi = 0
    for ident in covered:
        known = [o for o in scales[item_scale[ident]]["options"] if not o.get("unknown")]
        pts = [o["points"] for o in known] if kind == "sum" else [int(o["value"] == "yes") for o in known]
        if ident in gated:
            pts.append(0)
        lo, hi = lo + min(pts), hi + max(pts)
    return lo, hi


@st.composite
def _bands(draw: st.DrawFn, score: str, lo: int, hi: int, n_levels: int) -> dict[str, Any]:
    """Gap-free bands over [lo, hi] whose levels never go down."""
    k = draw(st.integers(0, min(n_levels - 1, hi - lo)))
    cuts = sorted(draw(st.lists(st.integers(lo + 1, hi), min_size=k, max_size=k, unique=True))) if k else []
    starts = [lo, *cuts]
    ends = [c - 1 for c in cuts] + [hi]
    levels = sorted(draw(st.lists(st.integers(0, n_levels - 1), min_size=k + 1, max_size=k + 1, unique=True)))
    ranges = [
        {"level": LEVEL_NAMES[lv], "min": s, "max": e} for lv, s, e in zip(levels, starts, ends, strict=True)
    ]
    ranges[0]["min"] -= draw(st.integers(0, 2))  # a band may start below the least score
    ranges[-1]["max"] += draw(st.integers(0, 2))  # …and end above the largest
    return {"score": score, "ranges": ranges}


@st.composite
def _critical(draw: st.DrawFn, items: list[str], partly: set[str], scores: dict[str, tuple[int, int]],
              n_levels: int, index: int) -> dict[str, Any]:
    """One monotone critical rule: it can only start to hold when answers go up."""
    x, y, z = (draw(st.sampled_from(items)) for _ in range(3))
    kind = draw(st.sampled_from(["one", "two", "count", "any", "score", "partly"]))
    if kind == "one":
        when = f"{x} == 'yes'"
    elif kind == "two":
        when = f"{x} == 'yes' and {y} == 'yes'"
    elif kind == "count":
        chosen = sorted({x, y, z})
        when = f"count('yes', {', '.join(chosen)}) >= {draw(st.integers(1, len(chosen)))}"
    elif kind == "any":
        when = f"any_of('yes', {x}, {y}) or {z} == 'yes'"
    elif kind == "score":
        score = draw(st.sampled_from(sorted(scores)))
        lo, hi = scores[score]
        when = f"{score} >= {draw(st.integers(lo, hi + 1))}"
    else:
        when = f"{x} in ['yes', 'partly']" if x in partly else f"not {x} in ['no']"
    return {
        "id": f"rule{index}",
        "when": when,
        "raise_to": LEVEL_NAMES[draw(st.integers(0, n_levels - 1))],
        "reason": text(f"rule {index}"),
    }


@st.composite
def instruments(
    draw: st.DrawFn,
    *,
    policies: tuple[str, ...] = ("raise_only", "raise_or_lower", "required"),
    critical: bool = True,
    show_if: bool = False,
    min_items: int = 1,
    max_items: int = 7,
    min_levels: int = 1,
) -> Spec:
    """A random valid weighted/count instrument with monotone bands and rules."""
    n_scales = draw(st.integers(1, 3))
    scales: dict[str, dict[str, Any]] = {}
    scale_values: dict[str, tuple[list[str], list[str]]] = {}
    for s in range(n_scales):
        scale, known, unknown = draw(_scale())
        scales[f"s{s}"] = scale
        scale_values[f"s{s}"] = (known, unknown)
    n = draw(st.integers(min_items, max_items))
    ids = [f"i{j}" for j in range(n)]
    item_scale = {ident: draw(st.sampled_from(sorted(scales))) for ident in ids}
    items: list[dict[str, Any]] = []
    with_show_if = False
    for j, ident in enumerate(ids):
        entry: dict[str, Any] = {"id": ident, "text": text(f"Fråga {ident}"), "scale": item_scale[ident]}
        if show_if and j > 0 and draw(st.integers(0, 3)) == 0:
            earlier = ids[draw(st.integers(0, j - 1))]
            entry["show_if"] = draw(st.sampled_from([f"{earlier} == 'yes'", f"{earlier} != 'no'"]))
            with_show_if = True
        items.append(entry)
    split = draw(st.integers(1, n))
    sections = [{"id": "first", "title": text("Del 1"), "items": items[:split]}]
    if split < n:
        sections.append({"id": "second", "title": text("Del 2"), "items": items[split:]})
    summed = ids if draw(st.booleans()) else sorted(draw(st.sets(st.sampled_from(ids), min_size=1)))
    scores = [
        {"id": "yes_count", "label": text("Antal ja"), "kind": "count", "values": ["yes"]},
        {"id": "points", "label": text("Poäng"), "kind": "sum", **({} if summed == ids else {"items": summed})},
    ]
    gated = {entry["id"] for entry in items if "show_if" in entry}
    ranges = {
        "yes_count": _range(scales, item_scale, ids, "count", gated),
        "points": _range(scales, item_scale, summed, "sum", gated),
    }
    n_levels = draw(st.integers(min_levels, len(LEVEL_NAMES)))
    banded = draw(st.sampled_from(sorted(ranges)))
    bands = draw(_bands(banded, *ranges[banded], n_levels))
    partly = {i for i in ids if "partly" in scale_values[item_scale[i]][0]}
    rules = []
    if critical:
        rules = [draw(_critical(ids, partly, ranges, n_levels, r)) for r in range(draw(st.integers(0, 3)))]
    policy = draw(st.sampled_from(policies))
    max_unknown = draw(st.integers(0, 3))
    data = build_instrument(
        model="weighted",
        scales=scales,
        sections=sections,
        scores=scores,
        levels=[{"id": name, "label": text(name)} for name in LEVEL_NAMES[:n_levels]],
        bands=bands,
        critical=rules,
        missing={"max_unknown": max_unknown},
        judgement={"policy": policy},
    )
    return Spec(
        data=data,
        items=ids,
        known={i: list(scale_values[item_scale[i]][0]) for i in ids},
        unknown={i: list(scale_values[item_scale[i]][1]) for i in ids},
        levels=list(LEVEL_NAMES[:n_levels]),
        policy=policy,
        max_unknown=max_unknown,
        has_show_if=with_show_if,
    )


_OMIT = object()


@st.composite
def answers(draw: st.DrawFn, spec: Spec, *, complete: bool = False) -> dict[str, object]:
    """Answers for ``spec``: known values, and unless ``complete`` also unknowns.

    An unknown answer is written in each of the ways a caller can: an ``unknown:
    true`` option value, ``None``, or a missing key.
    """
    out: dict[str, object] = {}
    for ident in spec.items:
        choices: list[object] = list(spec.known[ident])
        if not complete:
            choices += [*spec.unknown[ident], None, _OMIT]
        value = draw(st.sampled_from(choices))
        if value is not _OMIT:
            out[ident] = value
    return out


@st.composite
def raise_pairs(draw: st.DrawFn, spec: Spec, base: dict[str, object]) -> tuple[str, str]:
    """An item with a known answer and a value with at least as many points."""
    known = [i for i in spec.items if base.get(i) in spec.known[i]]
    ident = draw(st.sampled_from(known))
    order = spec.known[ident]
    higher = order[order.index(str(base[ident])) :]
    return ident, draw(st.sampled_from(higher))


# --- expression trees -------------------------------------------------------------

_NAMES = (
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
    .filter(lambda s: not keyword.iskeyword(s) and s not in ("true", "false") and not keyword.issoftkeyword(s))
)
_CONSTS = st.one_of(
    st.integers(-1_000_000_000, 1_000_000_000),
    st.text(max_size=8),
    st.booleans(),
).map(lambda v: Const(v))
_LEAVES = st.one_of(_NAMES.map(lambda n: Name(n)), _CONSTS)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    ops = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
    return st.one_of(
        children.map(lambda c: Not(c)),
        st.builds(lambda op, vs: BoolOp(op, tuple(vs)), st.sampled_from(["and", "or"]),
                  st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda left, op, right: Compare(left, op, right), children, st.sampled_from(ops), children),
        st.builds(lambda op, left, right: Arith(op, left, right), st.sampled_from(["+", "-"]), children, children),
        st.builds(lambda f, args: Call(f, tuple(args)), _NAMES, st.lists(children, max_size=3)),
        st.lists(_CONSTS, max_size=3).map(lambda items: ListLit(tuple(items))),
    )


def expression_trees() -> st.SearchStrategy[Node]:
    """Trees of the syntax ``parse`` can produce (kept shallow: Python caps parentheses)."""
    return st.recursive(_LEAVES, _extend, max_leaves=12)


# --- arbitrary Python expressions (a superset of the language) ---------------------------

_VALID_LEAVES = st.one_of(
    st.sampled_from(["a", "b", "total", "final_level", "true"]),
    st.integers(-5, 10).map(str),
    st.sampled_from(["yes", "no", "high"]).map(repr),
)
_PY_LEAVES = st.one_of(
    _VALID_LEAVES,
    _VALID_LEAVES,
    st.sampled_from(["x", "__class__", "None", "...", "1.5", "1j", "b'x'", "'{a}'", str(10**12)]),
)
_BINARY = ["+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^", "and", "or",
           "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"]
_UNARY = ["not ", "-", "+", "~", "await ", "*"]


def _py_extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.builds(lambda op, ab: f"({ab[0]}) {op} ({ab[1]})", st.sampled_from(_BINARY), pair),
        st.builds(lambda op, ab: f"{ab[0]} {op} {ab[1]}", st.sampled_from(["is", "is not", "==", "<", "in"]), pair),
        st.builds(lambda op, a: f"{op}({a})", st.sampled_from(_UNARY), children),
        st.builds(lambda f, args: f"{f}({', '.join(args)})",
                  st.sampled_from(["count", "any_of", "known", "rows", "fired", "max_of", "open", "len"]),
                  st.lists(children, max_size=3)),
        st.builds(lambda a, attr: f"({a}).{attr}", children, st.sampled_from(["x", "__class__", "gi_frame"])),
        st.builds(lambda ab: f"({ab[0]})[{ab[1]}]", pair),
        st.builds(lambda a: f"[{a}, {a}]", children),
        st.builds(lambda a: f"({a},)", children),
        st.builds(lambda ab: f"{{{ab[0]}: {ab[1]}}}", pair),
        st.builds(lambda a: f"lambda: {a}", children),
        st.builds(lambda a: f"[y for y in ({a})]", children),
        st.builds(lambda ab: f"({ab[0]}) if ({ab[1]}) else ({ab[0]})", pair),
        st.builds(lambda a: f"(z := {a})", children),
        st.builds(lambda a: f"f'{{{a}}}'", children),
        st.builds(lambda a: f"count(key={a})", children),
    )


def python_expressions() -> st.SearchStrategy[str]:
    """Syntactically valid Python expressions, most of them outside our language."""
    return st.recursive(_PY_LEAVES, _py_extend, max_leaves=8)
