"""Turn untrusted instrument/rule YAML into plain Python data with line:column marks.

May import: errors / pyyaml, pydantic (types only)

Why not ``yaml.safe_load``: it follows YAML 1.1 (``no`` becomes ``False``, ``1.10``
becomes ``1.1``), silently keeps the last of two duplicate keys, expands alias
bombs, and forgets where each value came from. Instrument authors need exact
strings and ``file:line:col`` for every mistake, all at once, so this module
composes the node graph with a guarded loader and builds the data itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Issue, SpecError

if TYPE_CHECKING:
    import pydantic

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Document", "Mark", "issues_from_validation", "load_yaml", "load_yaml_file"]

MAX_BYTES = 1_000_000
MAX_DEPTH = 64

NodePath = tuple[str | int, ...]

_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_NULL = frozenset({"null", "Null", "NULL", "~", ""})
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")  # [0-9], not \d: no Unicode digits
_KIND = {bool: "a boolean", int: "an integer", type(None): "null"}


@dataclass(frozen=True)
class Mark:
    """A 1-based position, because editors and humans count from one."""

    line: int
    column: int


@dataclass(frozen=True)
class Document:
    """A loaded file: its data plus where every value and key was written.

    Attributes:
        source: file name used in every message.
        data: plain Python (dict/list/str/int/bool/None) - never floats or dates.
        marks: path -> start of the value node at that path; ``()`` is the root.
        key_marks: path -> start of the key node of that mapping entry.
    """

    source: str
    data: object
    marks: Mapping[NodePath, Mark]
    key_marks: Mapping[NodePath, Mark]
    quoted: frozenset[NodePath] = frozenset()
    problems: tuple[Issue, ...] = ()

    def mark_for(self, loc: Sequence[str | int], *, prefer_key: bool = False) -> Mark:
        """Return the mark of the deepest node of ``loc`` present in the document.

        Absent parts are skipped because pydantic inserts union tags (``choice``,
        ``function-after[...]``) and names missing fields; the deepest existing
        node is then the most useful place to point an author at.

        Args:
            loc: a pydantic error location.
            prefer_key: point at the key, not its value: for an extra key the key
                itself is what the author must fix.
        """
        path: NodePath = ()
        for part in loc:
            if (*path, part) in self.marks:
                path = (*path, part)
        if prefer_key and path in self.key_marks:
            return self.key_marks[path]
        return self.marks.get(path, Mark(0, 0))


class _Position(Protocol):
    """What the pure-Python and the libyaml marks have in common (0-based)."""

    line: int
    column: int


def _mark(pos: _Position | None) -> Mark:
    """Convert a 0-based PyYAML mark; 0:0 means "unknown", as in Issue."""
    return Mark(pos.line + 1, pos.column + 1) if pos is not None else Mark(0, 0)


def _issue(source: str, pos: _Position | None, message: str, loc: str = "") -> Issue:
    mark = _mark(pos)
    return Issue(source, mark.line, mark.column, loc, message)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses aliases, anchors, tags and deep nesting.

    Checks happen on events, before any node is shared or expanded, so an alias
    bomb costs time proportional to its text, and the recursive composer never
    goes deeper than MAX_DEPTH collections (no RecursionError).
    """

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source
        self.issues: list[Issue] = []
        self._depth = 0

    def flag(self, pos: _Position | None, message: str) -> None:
        """Record a problem and keep composing, so the author sees them all."""
        self.issues.append(_issue(self.source, pos, message))

    def _peek(self) -> yaml.Event:
        return self.peek_event()  # type: ignore[no-untyped-call,no-any-return]

    def compose_single(self) -> Node | None:
        """Compose exactly one document; ``None`` when the stream has none."""
        self.get_event()  # type: ignore[no-untyped-call]  # StreamStartEvent
        if self.check_event(yaml.StreamEndEvent):
            return None
        root = self.compose_document()
        if not self.check_event(yaml.StreamEndEvent):
            self.flag(self._peek().start_mark, "only one document allowed per file")
        return root

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """Vet the next event, then let PyYAML compose it (see class docstring)."""
        event = self._peek()
        if isinstance(event, yaml.AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            self.flag(event.start_mark, "an alias (*...) is not allowed")  # the name may be personal text
            return ScalarNode("tag:yaml.org,2002:null", "")  # placeholder; we raise
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            self.flag(event.start_mark, "an anchor (&...) is not allowed")
            event.anchor = None  # never registered, so never shared
        tag: str | None = getattr(event, "tag", None)
        if tag is not None:
            self.flag(event.start_mark, "an explicit tag is not allowed")
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self.flag(event.start_mark, f"nesting is deeper than {MAX_DEPTH} levels")
            raise SpecError(self.issues)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    """Walks a composed node tree into plain data, recording marks and issues."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[Issue] = []
        self.marks: dict[NodePath, Mark] = {}
        self.key_marks: dict[NodePath, Mark] = {}
        self.quoted: set[NodePath] = set()

    def flag(self, node: Node, path: NodePath, message: str) -> None:
        self.issues.append(_issue(self.source, node.start_mark, message, _dotted(path)))

    def build(self, node: Node, path: NodePath) -> object:
        """Convert one node; depth is already capped by the loader."""
        self.marks[path] = _mark(node.start_mark)
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return self._scalar(node, path)

    def _scalar(self, node: Node, path: NodePath) -> object:
        """Resolve narrowly (YAML 1.2 core minus floats): ``no`` stays a string."""
        value: str = node.value
        if isinstance(node, ScalarNode) and node.style in ("'", '"'):
            self.quoted.add(path)
        if not isinstance(node, ScalarNode) or node.style is not None:
            return value
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        if value in _NULL:
            return None
        if _INT.fullmatch(value):
            try:
                return int(value)
            except ValueError:  # beyond sys.get_int_max_str_digits()
                self.flag(node, path, "integer has too many digits")
        return value

    def _key(self, node: Node, path: NodePath) -> str | None:
        """Return the key as str, or flag it: only strings can name fields."""
        if isinstance(node, ScalarNode):
            key = self._scalar(node, path)
            if node.style is None and key == "<<":
                self.flag(node, path, "merge key '<<' is not allowed")
            elif isinstance(key, str):
                return key
            else:
                kind = _KIND.get(type(key), "a number")
                self.flag(node, path, f"mapping key must be a string, not {kind}")
            return None
        kind = "a sequence" if isinstance(node, SequenceNode) else "a mapping"
        self.flag(node, path, f"mapping key must be a string, not {kind}")
        return None

    def _mapping(self, node: MappingNode, path: NodePath) -> dict[str, object]:
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                self.build(value_node, (*path, "<bad key>"))  # find issues inside
                continue
            child = (*path, key)
            if key in out:
                first = self.key_marks[child].line
                self.flag(key_node, child, f"duplicate key {key[:80]!r} (first at line {first})")
                self.build(value_node, (*path, "<duplicate>"))
                continue
            self.key_marks[child] = _mark(key_node.start_mark)
            out[key] = self.build(value_node, child)
        return out


def _yaml_issue(exc: yaml.YAMLError, source: str, text: str) -> Issue:
    """Describe a PyYAML error in the author's terms, with its position."""
    if isinstance(exc, yaml.MarkedYAMLError):
        message = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            message += f" ({exc.context})"
        return _issue(source, exc.problem_mark or exc.context_mark, message)
    if isinstance(exc, yaml.reader.ReaderError):  # has only a character index
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        code = exc.character if isinstance(exc.character, int) else 0
        return Issue(source, line, column, "", f"character #x{code:04x} not allowed")
    return Issue(source, 0, 0, "", "invalid YAML")


def _compose(text: str, source: str) -> tuple[Node | None, list[Issue]]:
    """Compose the single document, turning every parser failure into SpecError."""
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text, source)  # the reader rejects bad characters here
        return loader.compose_single(), loader.issues
    except yaml.YAMLError as exc:
        earlier = loader.issues if loader else []
        raise SpecError([*earlier, _yaml_issue(exc, source, text)]) from None
    except RecursionError:  # belt and braces: the depth cap should come first
        raise SpecError([Issue(source, 0, 0, "", "nesting is too deep")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _too_big(source: str) -> SpecError:
    return SpecError([Issue(source, 0, 0, "", f"file is larger than {MAX_BYTES} bytes")])


def _decode(data: bytes, source: str) -> str:
    """Decode strict UTF-8, pointing at the first bad byte (no UnicodeDecodeError)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError([Issue(source, line, column, "", "file is not valid UTF-8")]) from None


def load_yaml(text: str | bytes, source: str = "<string>", *, lenient: bool = False) -> Document:
    """Load one strict YAML document.

    Args:
        text: the YAML text, or its UTF-8 bytes.
        source: the name used in every Issue.
        lenient: when the text parsed but broke a strictness rule (a duplicate key,
            an alias, a tag), return the document with those ``problems`` instead of
            raising, so the caller can validate it too and report every problem of
            the file at once. Syntax errors and caps still raise.

    Returns:
        The data with its marks.

    Raises:
        SpecError: with every problem found, located; nothing else is raised.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _too_big(source)
        text = _decode(text, source)
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_big(source)
    root, issues = _compose(text, source)
    builder = _Builder(source)
    data = builder.build(root, ()) if root is not None else None
    fatal = bool(issues) or data is None
    issues += builder.issues
    if data is None and not issues:
        issues.append(Issue(source, 1, 1, "", "empty document"))
    if issues and (fatal or not lenient):
        raise SpecError(issues)
    return Document(
        source,
        data,
        MappingProxyType(builder.marks),
        MappingProxyType(builder.key_marks),
        frozenset(builder.quoted),
        tuple(issues),
    )


def load_yaml_file(path: str | os.PathLike[str]) -> Document:
    """Load a YAML file, refusing oversized files before reading them.

    Raises:
        SpecError: for unreadable, oversized, non-UTF-8 or invalid files.
    """
    source = os.fspath(path)
    try:
        if Path(path).stat().st_size > MAX_BYTES:
            raise _too_big(source)
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may grow after stat
    except OSError as exc:
        raise SpecError([Issue(source, 0, 0, "", f"cannot read file ({exc.strerror or exc})")]) from None
    return load_yaml(data, source)


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's msg, minus the one template that echoes an input value."""
    if error["type"] == "union_tag_invalid":
        ctx = error.get("ctx", {})
        return f"unknown tag for {ctx.get('discriminator')}; expected one of {ctx.get('expected_tags')}"
    return str(error["msg"])


def issues_from_validation(error: pydantic.ValidationError, doc: Document) -> list[Issue]:
    """Locate each pydantic error in the file.

    Only ``msg`` is used, never ``input_value``: a value in a file may be long or
    sensitive, and the location already tells the author where to look.
    """
    issues = []
    for err in error.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        at_key = err["type"] == "extra_forbidden" or loc[-1:] == ("[key]",)
        mark = doc.mark_for(loc, prefer_key=at_key)
        issues.append(Issue(doc.source, mark.line, mark.column, _dotted(loc), _message(err)))
    return issues
