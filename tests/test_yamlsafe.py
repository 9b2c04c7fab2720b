"""Tests for screening.content.yamlsafe: strict, safe YAML with line:column marks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screening.content import yamlsafe
from screening.content.yamlsafe import (
    MAX_BYTES,
    MAX_DEPTH,
    Document,
    Mark,
    issues_from_validation,
    load_yaml,
    load_yaml_file,
)
from screening.errors import Issue, SpecError


def issues_of(text: str | bytes) -> tuple[Issue, ...]:
    """Load text that must fail and return its issues."""
    with pytest.raises(SpecError) as info:
        load_yaml(text, source="spec.yaml")
    assert info.value.issues, "SpecError must carry at least one issue"
    return info.value.issues


def where(issue: Issue) -> tuple[int, int]:
    return issue.line, issue.column


# --- plain data and marks --------------------------------------------------


def test_loads_plain_data_in_document_order_with_marks() -> None:
    doc = load_yaml("b: 1\na:\n  - x\n  - {k: v}\n", source="f.yaml")
    assert doc.source == "f.yaml"
    assert doc.data == {"b": 1, "a": ["x", {"k": "v"}]}
    assert isinstance(doc.data, dict)
    assert list(doc.data) == ["b", "a"]
    assert doc.marks[()] == Mark(1, 1)
    assert doc.marks[("b",)] == Mark(1, 4)
    assert doc.marks[("a", 0)] == Mark(3, 5)
    assert doc.marks[("a", 1, "k")] == Mark(4, 9)
    assert doc.key_marks[("a",)] == Mark(2, 1)
    assert doc.key_marks[("a", 1, "k")] == Mark(4, 6)


# --- duplicate keys ----------------------------------------------------------


def test_duplicate_keys_everywhere_are_reported_at_once() -> None:
    text = (
        "weight: 1\n"  # 1
        "name: a\n"  # 2
        "weight: 2\n"  # 3  top level duplicate
        "nested:\n"  # 4
        "  x: 1\n"  # 5
        "  x: 2\n"  # 6  nested duplicate
        "items:\n"  # 7
        "  - id: q1\n"  # 8
        "    id: q2\n"  # 9  duplicate inside a list item
    )
    issues = issues_of(text)
    assert [(i.line, i.column, i.loc, i.message) for i in issues] == [
        (3, 1, "weight", "duplicate key 'weight' (first at line 1)"),
        (6, 3, "nested.x", "duplicate key 'x' (first at line 5)"),
        (9, 5, "items.0.id", "duplicate key 'id' (first at line 8)"),
    ]


def test_duplicate_key_in_flow_mapping() -> None:
    (issue,) = issues_of("{a: 1, b: 2, a: 3}")
    assert where(issue) == (1, 14)
    assert "duplicate key 'a'" in issue.message


# --- anchors, aliases, merge keys, bombs ------------------------------------


def test_anchor_alias_and_merge_key_are_rejected_at_their_position() -> None:
    text = "base: &b {x: 1}\nother: *b\nthird:\n  <<: *b\n"
    issues = issues_of(text)
    found = {(i.line, i.column): i.message for i in issues}
    # The anchor's name is not repeated: an unquoted answer like "&Anna …" is read as one.
    assert found[(1, 7)] == "an anchor (&...) is not allowed"
    assert found[(2, 8)] == "an alias (*...) is not allowed"
    assert found[(4, 3)] == "merge key '<<' is not allowed"
    assert found[(4, 7)] == "an alias (*...) is not allowed"


def test_anchor_alone_is_rejected() -> None:
    (issue,) = issues_of("a: &x 1\nb: 2\n")
    assert where(issue) == (1, 4)
    assert "anchor" in issue.message


def test_alias_bomb_is_rejected() -> None:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "\n".join(rows) + "\n"
    issues = issues_of(bomb)
    assert any(i.message == "an alias (*...) is not allowed" for i in issues)
    assert len(issues) == 9 + 8 * 9  # every anchor and alias, none expanded


# --- depth and size ----------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_flow_nesting_is_rejected(depth: int) -> None:
    (issue,) = issues_of("[" * depth)
    assert issue.message == f"nesting is deeper than {MAX_DEPTH} levels"
    assert where(issue) == (1, MAX_DEPTH + 1)


def test_depth_limit_is_exact() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    doc = load_yaml(ok)
    assert isinstance(doc.data, list)
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert "nesting is deeper" in issues_of(too_deep)[0].message


def test_deep_block_nesting_is_rejected() -> None:
    text = "".join(" " * i + "k:\n" for i in range(200))
    assert "nesting is deeper" in issues_of(text)[-1].message


def test_size_cap_for_text_and_bytes() -> None:
    big = "a: " + "x" * MAX_BYTES
    for text in (big, big.encode()):
        (issue,) = issues_of(text)
        assert issue.message == "file is larger than 1000000 bytes"


def test_size_cap_on_file_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_BYTES + 1)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("file was opened")

    monkeypatch.setattr(yamlsafe, "open", no_open, raising=False)
    with pytest.raises(SpecError) as info:
        load_yaml_file(path)
    assert info.value.issues[0].message == "file is larger than 1000000 bytes"
    assert info.value.issues[0].source == str(path)


# --- tags --------------------------------------------------------------------


def test_python_tags_are_rejected_without_side_effect(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    text = (
        f"a: !!python/object/apply:os.system ['touch {canary}']\n"
        f"b: !!python/object/apply:subprocess.call [[touch, {canary}]]\n"
        f"c: !!python/name:os.system\n"
    )
    issues = issues_of(text)
    assert [where(i) for i in issues] == [(1, 4), (2, 4), (3, 4)]
    assert issues[0].message == "an explicit tag is not allowed"
    assert not canary.exists()


@pytest.mark.parametrize("text", ["a: !foo x", "a: !!str 1", "a: ! x", "a: !!map {b: 1}", "!!seq [1]"])
def test_any_explicit_tag_is_rejected(text: str) -> None:
    (issue,) = issues_of(text)
    assert "explicit tag" in issue.message


# --- keys --------------------------------------------------------------------


def test_complex_key_is_rejected() -> None:
    (issue,) = issues_of("? - a\n: x\n")
    assert where(issue) == (1, 3)
    assert issue.message == "mapping key must be a string, not a sequence"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("1: x", "an integer"), ("true: x", "a boolean"), ("null: x", "null")],
)
def test_non_string_keys_are_rejected(text: str, kind: str) -> None:
    (issue,) = issues_of("ok: 1\n" + text)
    assert where(issue) == (2, 1)
    assert issue.message == f"mapping key must be a string, not {kind}"


def test_all_non_string_keys_reported_and_quoted_keys_allowed() -> None:
    issues = issues_of("1: x\ntrue: x\nnull: x\n{a: 1}: x\n")
    assert [i.line for i in issues] == [1, 2, 3, 4]
    assert load_yaml("'1': x\n\"true\": y\nyes: z").data == {
        "1": "x",
        "true": "y",
        "yes": "z",
    }


# --- scalar resolution -------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("-0", 0),
        ("0755", "0755"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1.10", "1.10"),
        ("1.5", "1.5"),
        ("1e3", "1e3"),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("2026-01-01", "2026-01-01"),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("tRUE", "tRUE"),
        ("\u0663", "\u0663"),  # Arabic-Indic digit three stays text
        ('"yes"', "yes"),
        ('"true"', "true"),
        ("'42'", "42"),
        ("''", ""),
        ('"null"', "null"),
        ("|\n  42", "42\n"),
        (">\n  true", "true\n"),
    ],
)
def test_scalar_resolution(scalar: str, expected: object) -> None:
    value = load_yaml(f"v: {scalar}\n").data
    assert value == {"v": expected}
    assert isinstance(value, dict)
    assert type(value["v"]) is type(expected)


def test_huge_integer_is_an_issue_not_a_crash() -> None:
    (issue,) = issues_of("v: " + "9" * 5000)
    assert issue.message == "integer has too many digits"


# --- document structure and syntax -------------------------------------------


def test_multiple_documents_are_rejected() -> None:
    (issue,) = issues_of("a: 1\n---\nb: 2\n")
    assert where(issue) == (2, 1)
    assert "one document" in issue.message


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n", b""])
def test_empty_document(text: str | bytes) -> None:
    (issue,) = issues_of(text)
    assert issue.message == "empty document"


def test_bad_utf8_bytes() -> None:
    (issue,) = issues_of(b"a: 1\nb: caf\xc3\n")
    assert (issue.line, issue.column, issue.message) == (
        2,
        7,
        "file is not valid UTF-8",
    )


def test_bad_utf8_file_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe: x\n")
    with pytest.raises(SpecError, match="not valid UTF-8"):
        load_yaml_file(path)
    with pytest.raises(SpecError, match="cannot read file"):
        load_yaml_file(tmp_path / "missing.yaml")


def test_file_loads_with_its_name_as_source(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: yes\n", encoding="utf-8")
    doc = load_yaml_file(os.fspath(path))
    assert (doc.data, doc.source) == ({"a": "yes"}, str(path))


def test_tab_indentation_gives_line_and_column() -> None:
    (issue,) = issues_of("a:\n\tb: 1\n")
    assert where(issue) == (2, 1)
    assert "'\\t'" in issue.message


def test_invalid_syntax_gives_line_and_column() -> None:
    (issue,) = issues_of("a: [1, 2\nb: 3\n")
    assert where(issue) == (2, 2)
    assert "expected ',' or ']'" in issue.message


def test_control_character_gives_line_and_column() -> None:
    (issue,) = issues_of("a: 1\nb: x\x07\n")
    assert (issue.line, issue.column, issue.message) == (
        2,
        5,
        "character #x0007 not allowed",
    )


def test_problems_of_different_kinds_are_reported_together() -> None:
    issues = issues_of("a: &x 1\nb: !!str y\nc: 1\nc: 2\n")
    assert [i.line for i in issues] == [1, 2, 4]


# --- pydantic errors ---------------------------------------------------------

CANARY = "CANARY-7f3a-secret"
MODEL_TEXT = (
    "items:\n"  # 1
    "  - id: q1\n"  # 2
    "    scale:\n"  # 3
    "      weight: 3\n"  # 4
    "      label: ok\n"  # 5
    "  - id: q2\n"  # 6
    "    scale:\n"  # 7
    "      label: fine\n"  # 8
    "      wieght: 2\n"  # 9  typo: extra key + missing weight
    "  - id: q3\n"  # 10
    "    scale:\n"  # 11
    f"      weight: {CANARY}\n"  # 12  wrong type
    "      label: x\n"  # 13
)


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    weight: int
    label: str


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str
    scale: Scale


class Instrument(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    items: list[Item]


def test_validation_errors_are_located_without_input_values() -> None:
    doc = load_yaml(MODEL_TEXT, source="inst.yaml")
    with pytest.raises(ValidationError) as info:
        Instrument.model_validate(doc.data)
    issues = sorted(issues_from_validation(info.value, doc))
    located = [(i.line, i.column, i.loc) for i in issues]
    assert located == [
        (8, 7, "items.1.scale.weight"),  # missing: the mapping that lacks it
        (9, 7, "items.1.scale.wieght"),  # extra: the key itself
        (12, 15, "items.2.scale.weight"),  # wrong type: the value
    ]
    assert all(i.source == "inst.yaml" for i in issues)
    for issue in issues:
        assert CANARY not in str(issue)
    assert CANARY in str(info.value)  # proves the canary could have leaked


def test_mark_for_skips_parts_not_in_the_document() -> None:
    doc = load_yaml(MODEL_TEXT)
    loc = ("items", 1, "function-after[check()]", "scale", "choice", "label")
    assert doc.mark_for(loc) == Mark(8, 14)
    assert doc.mark_for(("items", 1, "scale", "label"), prefer_key=True) == Mark(8, 7)
    assert doc.mark_for(("nothing", "here")) == Mark(1, 1)


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["choice"]


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["text"]


class Holder(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    item: Choice | Text = Field(discriminator="kind")


def test_union_tag_message_does_not_echo_the_tag_value() -> None:
    doc = load_yaml(f"item:\n  kind: {CANARY}\n")
    with pytest.raises(ValidationError) as info:
        Holder.model_validate(doc.data)
    assert CANARY in str(info.value)
    (issue,) = issues_from_validation(info.value, doc)
    assert CANARY not in str(issue)
    assert (issue.line, issue.column, issue.loc) == (2, 3, "item")
    assert "'choice'" in issue.message


# --- robustness --------------------------------------------------------------

_TOKENS = [
    *"[]{}:,-?&*!|>'\"#%@`~ \t\n\r\\a1",
    ": ",
    "- ",
    "&a ",
    "*a",
    "!!str ",
    "!!python/object:os.system ",
    "<<",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\n  ",
    "yes",
    "\ufeff",
    "\x85",
    "\u2028",
]


def _loads_or_spec_error(text: str | bytes) -> None:
    try:
        assert isinstance(load_yaml(text), Document)
    except SpecError as exc:
        assert exc.issues
        assert all(isinstance(i.line, int) for i in exc.issues)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_spec_error(text: str) -> None:
    _loads_or_spec_error(text)


@settings(max_examples=300, deadline=None)
@given(st.binary())
def test_arbitrary_bytes_raise_only_spec_error(data: bytes) -> None:
    _loads_or_spec_error(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join))
def test_yaml_like_text_raises_only_spec_error(text: str) -> None:
    _loads_or_spec_error(text)


# --- libyaml and the pure-Python parser agree --------------------------------
# libyaml reads the files (about thirty times faster, which is most of the time to
# the first question); a file it refuses is read again by PyYAML for our messages.
# These tests hold the two paths to the same data, marks and issues.

REPO = Path(__file__).resolve().parents[1]
_ALL_YAML = sorted(
    p.relative_to(REPO)
    for d in ("instruments", "rules", "examples", "tests")
    for p in (REPO / d).rglob("*.y*ml")
)


def _outcome(text: str | bytes) -> object:
    try:
        doc = load_yaml(text, "spec.yaml", lenient=True)
    except SpecError as exc:
        return ("error", exc.issues)
    return (doc.data, dict(doc.marks), dict(doc.key_marks), doc.quoted, doc.problems)


def _both(text: str | bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = _outcome(text)
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_FastParser", None)
        pure = _outcome(text)
    return fast, pure


def test_libyaml_is_used_when_present() -> None:
    import yaml

    assert yaml.__with_libyaml__ and yamlsafe._FastParser is not None


@pytest.mark.parametrize("path", _ALL_YAML, ids=str)
def test_every_file_in_the_repository_loads_the_same_with_libyaml(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, pure = _both((REPO / path).read_bytes(), monkeypatch)
    assert fast == pure


@pytest.mark.parametrize(
    "text",
    [
        "å: [1, 'ö', \"ä\"]\nb: {c: d, c: e}\n",  # columns count characters, not bytes
        "a: &x 1\nb: *x\n? [k, *x]\n: v\n",  # alias inside a refused complex key
        "*x : 1\n",
        "a: [1, 2\nb: 3\n",  # libyaml words this differently; ours is kept
        "a:\n\tb: 1\n",
        "a: 1\n---\nb: 2\n",
        "\ufeffa: 1\n",
        "a: b\x85c: d\n",
        "k: |\n  lit\n  more\nf: >\n  folded\n  text\n",
        "'q': 1\n\"<<\": 2\n<<: 3\n",
        "[" * (MAX_DEPTH + 1),
    ],
)
def test_the_two_parsers_agree_on_tricky_text(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, pure = _both(text, monkeypatch)
    assert fast == pure


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*_TOKENS, "å", "key", "x: y\n"]), max_size=40).map(lambda t: "".join(t) + "\n"))
def test_the_two_parsers_agree_on_yaml_like_text(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, pure = _both(text, monkeypatch)
    assert fast == pure


_SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())
_DATA = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_DATA, st.sampled_from([None, True, False]), st.booleans(), st.sampled_from([None, "'", '"', "|", ">"]))
def test_the_two_parsers_agree_on_written_yaml(data: object, flow: bool | None, uni: bool, style: str | None) -> None:
    import yaml

    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=uni, default_style=style)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, pure = _both(text, monkeypatch)
    assert fast == pure


@pytest.mark.parametrize("path", [p for p in _ALL_YAML if p.parts[0] in ("instruments", "rules")], ids=str)
def test_bundled_content_takes_the_fast_path(path: Path) -> None:
    assert yamlsafe._compose_fast((REPO / path).read_text(encoding="utf-8"), str(path)) is not None


@pytest.mark.parametrize("path", [p for p in _ALL_YAML if p.parts[0] == "instruments"], ids=str)
def test_peek_top_level_reads_the_title_as_a_full_load_does(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (REPO / path).read_bytes()
    title = load_yaml(data).data["title"]  # type: ignore[index]
    assert yamlsafe.peek_top_level(data, "title") == title
    assert yamlsafe.peek_top_level(data, "no_such_key") is None
    monkeypatch.setattr(yamlsafe, "_FastParser", None)
    assert yamlsafe.peek_top_level(data, "title") == title
