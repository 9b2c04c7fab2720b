"""Make text safe for each report format before it reaches a template.

May import: stdlib / markupsafe (a Jinja dependency).

A report carries text nobody checked: free-text answers, the judgement
rationale, the assessor's name, the case reference. Whatever they contain must
print as the same characters, never as markup, links, terminal control or
reordered text. The context builder runs every string through ``clean_tree``
for the target format, so a template cannot forget to escape:

* all formats: C0/C1 control characters, bidi overrides and other invisible
  format characters are shown as ``\\uXXXX`` (a reader sees something was there);
* HTML: the text is escaped here already (defence in depth; autoescape is on too,
  and escaped text is never escaped twice);
* Markdown: every character with meaning in CommonMark/GFM inline syntax is
  backslash-escaped, and bare URLs and e-mail addresses are broken up, so data
  cannot become a link, an image, HTML, emphasis, a heading or a list;
* Markdown and plain text: line breaks in data become `` / `` so data can never
  start a line of its own (a fake "Final level:" line or a heading).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Literal

from markupsafe import Markup, escape

__all__ = ["Format", "clean_tree", "cleaner", "escape_markdown", "flatten", "strip_controls"]

Format = Literal["html", "md", "txt"]

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Backslash-escapable in CommonMark; these start links, images, HTML, entities,
# emphasis, code, headings, tables, strikethrough and block quotes.
_MD_ALWAYS = re.compile(r"([\\`*_\[\]<>&#|~])")
_MD_LIST_MARK = re.compile(r"^(\s*)([-+=])")
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])")
_MD_URL = re.compile(r"(?i)(:)(?=//)|\b(www)(\.)|(@)")


def strip_controls(text: str) -> str:
    """Show control and invisible format characters as ``\\uXXXX``; keep ``\\n`` and ``\\t``."""
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def flatten(text: str) -> str:
    """One line: line breaks become `` / `` and tabs a space, so data never starts a line."""
    if "\n" not in text and "\r" not in text and "\t" not in text:
        return text
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return " / ".join(line for line in lines if line).replace("\t", " ")


def escape_markdown(text: str) -> str:
    """Backslash-escape ``text`` so CommonMark/GFM renders exactly these characters."""
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_URL.sub(_break_autolink, text)
    # At the start of a line "-", "+", "=" and "1." / "1)" open lists or headings.
    text = _MD_LIST_MARK.sub(r"\1\\\2", text)
    return _MD_ORDERED.sub(r"\1\\\2", text)


def _break_autolink(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\:"
    if match.group(2):
        return match.group(2) + "\\."
    return "\\@"


def cleaner(fmt: Format) -> Callable[[str], str]:
    """The string transformation for ``fmt`` (see the module docstring)."""
    if fmt == "html":
        return lambda s: escape(strip_controls(s))
    if fmt == "md":
        return _clean_md
    return lambda s: flatten(strip_controls(s))


def _clean_md(text: str) -> str:
    return escape_markdown(flatten(strip_controls(text)))


def clean_tree(value: object, clean: Callable[[str], str], keep: frozenset[str] = frozenset()) -> object:
    """Apply ``clean`` to every string in nested dicts/lists; keys in ``keep`` stay as they are.

    ``keep`` holds identifier fields the templates compare (``profile``,
    ``status``); they come from closed vocabularies, not from people.
    """
    if type(value) is str:
        return clean(value)
    if isinstance(value, Markup):
        return value
    if isinstance(value, Mapping):
        return {k: (v if k in keep else clean_tree(v, clean, keep)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v, clean, keep) for v in value]
    return value
