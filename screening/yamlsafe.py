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

from .errors import Issue, SpecError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Document",
    "Mark",
    "issues_from_validation",
    "load_yaml",
    "load_yaml_file",
    "peek_top_level",
]

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


class _Events(Protocol):
    """An event stream: libyaml's ``CParser`` or PyYAML's pure-Python parser."""

    def check_event(self, *choices: type[yaml.Event]) -> bool: ...
    def peek_event(self) -> Any: ...  # a yaml.Event; both parsers say "or None" at the stream's end
    def get_event(self) -> Any: ...
    def dispose(self) -> None: ...


try:  # libyaml parses about thirty times faster; it is optional in PyYAML, so is its use here
    from yaml._yaml import CParser as _FastParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastParser = None  # type: ignore[assignment,misc]

# Text libyaml reads differently from PyYAML goes to PyYAML: characters its reader refuses,
# tabs (libyaml accepts some that PyYAML refuses), a byte-order mark (libyaml drops one
# anywhere), the YAML 1.1 line breaks NEL, LS and PS, and a comment glued to a block
# scalar's header (``|#``, which libyaml accepts). The parity tests in test_yamlsafe.py
# look for more.
_PURE_ONLY = re.compile(f"{yaml.reader.Reader.NON_PRINTABLE.pattern}|[\t\x85\u2028\u2029\ufeff]|[|>][-+0-9]*#")


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


def _compose_fast(text: str, source: str) -> tuple[_Composer, object] | None:
    """libyaml's reading of a clean file; ``None`` when PyYAML must read it (see _compose)."""
    if _FastParser is None or _PURE_ONLY.search(text) or not text.endswith("\n"):
        return None  # libyaml ends every stream with a line break, PyYAML only a written one
    parser = _FastParser(text)
    composer = _Composer(parser, source, fast=True)
    try:
        data = composer.document()
    except (yaml.YAMLError, SpecError, RecursionError, _PureOnly):
        return None
    finally:
        parser.dispose()
    return None if composer.strict or composer.issues else (composer, data)


def _compose(text: str, source: str) -> tuple[_Composer, object]:
    """Compose the single document, turning every parser failure into SpecError.

    libyaml (about thirty times faster) reads a file without problems; a file
    with any problem, or with something the two parsers read differently, is read
    by PyYAML's pure-Python parser, whose messages and positions are the ones our
    authors and tests know. So libyaml's own wording never reaches anyone, and
    only files with mistakes pay for a second read.
    """
    fast = _compose_fast(text, source)
    if fast is not None:
        return fast
    loader: yaml.SafeLoader | None = None
    composer: _Composer | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects bad characters here
        composer = _Composer(loader, source)
        return composer, composer.document()
    except yaml.YAMLError as exc:
        earlier = composer.strict if composer else []
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
    composer, data = _compose(text, source)
    issues = list(composer.strict)
    fatal = bool(issues) or data is None
    issues += composer.issues
    if data is None and not issues:
        issues.append(Issue(source, 1, 1, "", "empty document"))
    if issues and (fatal or not lenient):
        raise SpecError(issues)
    return Document(
        source,
        data,
        MappingProxyType(composer.marks),
        MappingProxyType(composer.key_marks),
        frozenset(composer.quoted),
        tuple(issues),
    )


def peek_top_level(text: str | bytes, key: str) -> object:
    """One top-level value of a clean file, read without building the rest (``None`` if absent).

    For showing an instrument's title beside the one in use without loading it;
    not a validation. Raises SpecError when the file is not clean YAML (read it
    with load_yaml for the located problems).
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _too_big("<peek>")
        text = _decode(text, "<peek>")
    if _FastParser is None or _PURE_ONLY.search(text) or not text.endswith("\n"):
        return _peek_slow(text, key)
    parser = _FastParser(text)
    composer = _Composer(parser, "<peek>", fast=True)
    try:
        for _ in range(2):  # StreamStart, DocumentStart
            parser.get_event()
        if parser.check_event(yaml.MappingStartEvent):
            parser.get_event()
            while not parser.check_event(yaml.MappingEndEvent):
                name = composer.node(("<key>",))
                if name == key:
                    value = composer.node((key,))
                    return None if composer.strict or composer.issues else value
                composer.node(("<skip>",), record=False)
    except (yaml.YAMLError, SpecError, RecursionError, _PureOnly):
        pass
    finally:
        parser.dispose()
    return _peek_slow(text, key)


def _peek_slow(text: str, key: str) -> object:
    data = load_yaml(text, "<peek>").data
    return data.get(key) if isinstance(data, dict) else None


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
