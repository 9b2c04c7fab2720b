"""Turn untrusted instrument/rule YAML into plain Python data with line:column marks.

May import: errors, _yaml_compose / pyyaml, pydantic (types only)

Why not ``yaml.safe_load``: it follows YAML 1.1 (``no`` becomes ``False``, ``1.10``
becomes ``1.1``), silently keeps the last of two duplicate keys, expands alias
bombs, and forgets where each value came from. Instrument authors need exact
strings and ``file:line:col`` for every mistake, all at once, so this module
builds the data itself from parser events (``_yaml_compose``), refusing aliases,
tags and duplicate keys on the way. libyaml reads clean files (about thirty times
faster than PyYAML's pure-Python parser, which was most of the time before an
interview's first question); anything else is read by the pure-Python parser,
whose messages and positions are the ones authors see.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import Issue, SpecError
from ._yaml_compose import MAX_DEPTH, Mark, NodePath, _Composer, _dotted, _issue, _PureOnly

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
