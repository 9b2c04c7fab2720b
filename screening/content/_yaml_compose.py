"""The strict composer: parser events to plain data, marks and issues (used by ``yamlsafe``).

May import: errors / pyyaml.

Aliases, anchors, tags and nesting deeper than MAX_DEPTH are refused on the event;
keys must be strings and unique. The same composer reads libyaml's events and
PyYAML's pure-Python ones, so both paths of ``yamlsafe`` refuse the same things
with the same words; ``fast`` marks the libyaml path, which gives up
(``_PureOnly``) where the two parsers place something differently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from ..errors import Issue, SpecError

__all__ = ["MAX_DEPTH", "Mark", "NodePath"]

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


class _Position(Protocol):
    """What the pure-Python and the libyaml marks have in common (0-based)."""

    line: int
    column: int


class _Events(Protocol):
    """An event stream: libyaml's ``CParser`` or PyYAML's pure-Python parser."""

    def check_event(self, *choices: type[yaml.Event]) -> bool: ...
    def peek_event(self) -> Any: ...  # a yaml.Event; both parsers say "or None" at the stream's end
    def get_event(self) -> Any: ...
    def dispose(self) -> None: ...


class _PureOnly(Exception):
    """The fast path met something the two parsers place or word differently."""


_QUOTED = ("'", '"')


def _mark(pos: _Position | None) -> Mark:
    """Convert a 0-based PyYAML mark; 0:0 means "unknown", as in Issue."""
    return Mark(pos.line + 1, pos.column + 1) if pos is not None else Mark(0, 0)


def _issue(source: str, pos: _Position | None, message: str, loc: str = "") -> Issue:
    mark = _mark(pos)
    return Issue(source, mark.line, mark.column, loc, message)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


class _Composer:
    """Builds plain data, marks and issues straight from parser events (no node graph).

    Aliases, anchors, tags and deep nesting are refused on the event, before
    anything is shared or expanded, so an alias bomb costs time proportional to
    its text and recursion never goes deeper than MAX_DEPTH collections. Those
    structural problems go to ``strict`` (they make the file unusable); problems
    with the data itself (duplicate or non-string keys) go to ``issues``.
    """

    def __init__(self, events: _Events, source: str, *, fast: bool = False) -> None:
        self.events = events
        self.source = source
        self.fast = fast  # libyaml's events: refuse what the parsers disagree on (_PureOnly)
        self._flow = 0
        self.strict: list[Issue] = []
        self.issues: list[Issue] = []
        self.marks: dict[NodePath, Mark] = {}
        self.key_marks: dict[NodePath, Mark] = {}
        self.quoted: set[NodePath] = set()
        self._depth = 0

    def document(self) -> object:
        """The single document's data; ``None`` for an empty stream."""
        events = self.events
        events.get_event()  # StreamStartEvent
        if events.check_event(yaml.StreamEndEvent):
            return None
        events.get_event()  # DocumentStartEvent
        data = self.node(())
        events.get_event()  # DocumentEndEvent
        if not events.check_event(yaml.StreamEndEvent):
            self._strict(events.peek_event().start_mark, "only one document allowed per file")
        return data

    def _strict(self, pos: _Position | None, message: str) -> None:
        self.strict.append(_issue(self.source, pos, message))

    def _flag(self, pos: _Position | None, path: NodePath, message: str) -> None:
        self.issues.append(_issue(self.source, pos, message, _dotted(path)))

    def _event(self) -> yaml.Event:
        """The next node's first event, vetted (see the class docstring)."""
        event: yaml.Event = self.events.get_event()
        if isinstance(event, yaml.AliasEvent):
            self._strict(event.start_mark, "an alias (*...) is not allowed")  # the name may be personal text
            return event
        if getattr(event, "anchor", None) is not None:
            self._strict(event.start_mark, "an anchor (&...) is not allowed")
        if getattr(event, "tag", None) is not None:
            self._strict(event.start_mark, "an explicit tag is not allowed")
        return event

    def node(self, path: NodePath, record: bool = True) -> object:
        """Read one node; ``record=False`` inside a complex key, which is refused, not used."""
        event = self._event()
        if isinstance(event, yaml.CollectionStartEvent):
            if record:
                self.marks[path] = _mark(event.start_mark)
            return self._collection(event, path, record)
        if record:  # an alias stands for null at 0:0 ("unknown"): it is refused anyway
            self.marks[path] = _mark(None if isinstance(event, yaml.AliasEvent) else event.start_mark)
        return self._scalar(event, path, record)

    def _scalar(self, event: yaml.Event, path: NodePath, record: bool) -> object:
        """Resolve narrowly (YAML 1.2 core minus floats): ``no`` stays a string."""
        if not isinstance(event, yaml.ScalarEvent):  # an alias
            return None
        value: str = event.value
        style = event.style or None  # libyaml says '' for plain, PyYAML None
        if self.fast and self._flow and not value and style is None:
            raise _PureOnly  # an unwritten value in a flow collection: the two place it differently
        if style is not None:
            if record and style in _QUOTED:
                self.quoted.add(path)
            return value
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        if value in _NULL:
            return None
        if _INT.fullmatch(value):
            try:
                return int(value)
            except ValueError:  # beyond sys.get_int_max_str_digits()
                if record:
                    self._flag(event.start_mark, path, "integer has too many digits")
        return value

    def _collection(self, event: yaml.Event, path: NodePath, record: bool) -> object:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self._strict(event.start_mark, f"nesting is deeper than {MAX_DEPTH} levels")
            raise SpecError(self.strict)
        flow = bool(getattr(event, "flow_style", False))
        self._flow += flow
        try:
            if isinstance(event, yaml.SequenceStartEvent):
                items: list[object] = []
                while not self.events.check_event(yaml.SequenceEndEvent):
                    items.append(self.node((*path, len(items)), record))
                self.events.get_event()
                return items
            return self._mapping(path, record)
        finally:
            self._depth -= 1
            self._flow -= flow

    def _mapping(self, path: NodePath, record: bool) -> dict[str, object]:
        out: dict[str, object] = {}
        first_line: dict[str, int] = {}
        while not self.events.check_event(yaml.MappingEndEvent):
            key_event = self._event()
            key = self._key(key_event, path, record)
            if key is None:
                self.node((*path, "<bad key>"), record)  # find issues inside
                continue
            child = (*path, key)
            start = _mark(key_event.start_mark)
            if key in out:
                if record:
                    message = f"duplicate key {key[:80]!r} (first at line {first_line[key]})"
                    self._flag(key_event.start_mark, child, message)
                self.node((*path, "<duplicate>"), record)
                continue
            first_line[key] = start.line
            if record:
                self.key_marks[child] = start
            out[key] = self.node(child, record)
        self.events.get_event()
        return out

    def _key(self, event: yaml.Event, path: NodePath, record: bool) -> str | None:
        """Return the key as str, or flag it: only strings can name fields."""
        if isinstance(event, yaml.CollectionStartEvent):
            self._collection(event, path, record=False)  # vetted, never used
            kind = "a sequence" if isinstance(event, yaml.SequenceStartEvent) else "a mapping"
            if record:
                self._flag(event.start_mark, path, f"mapping key must be a string, not {kind}")
            return None
        key = self._scalar(event, path, record)
        pos = event.start_mark if isinstance(event, yaml.ScalarEvent) else None
        if isinstance(event, yaml.ScalarEvent) and not event.style and key == "<<":
            message = "merge key '<<' is not allowed"
        elif isinstance(key, str):
            return key
        else:
            message = f"mapping key must be a string, not {_KIND.get(type(key), 'a number')}"
        if record:
            self._flag(pos, path, message)
        return None
