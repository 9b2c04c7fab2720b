"""Bad instruments give located errors, all at once, through the library and the CLI.

Each class of mistake is injected into one small valid instrument (``GOOD``, shown
with its line numbers below) and must come back as ``bad.yaml:LINE:COL: …`` from
``screening.parse_instrument(text, "bad.yaml")`` and from ``screening validate
bad.yaml`` (exit 1, no traceback).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import issues_of, run_python

from screening import Issue, SpecError, assess, parse_instrument
from screening.cli import run

GOOD = textwrap.dedent(
    """\
    id: t
    version: 1.0.0
    title: {sv: Test, en: Test}
    description: {sv: Test, en: Test}
    intro: {sv: Test, en: Test}
    model: weighted
    source: {manual: M, edition: "1", publisher: P, paraphrased: true, note: {sv: N, en: N}}
    scales:
      yn:
        options:
          - {value: "yes", label: {sv: Ja, en: "Yes"}, points: 2}
          - {value: "no", label: {sv: Nej, en: "No"}, points: 0}
          - {value: unknown, label: {sv: Vet ej, en: Unknown}, unknown: true}
    sections:
      - id: main
        title: {sv: Frågor, en: Questions}
        items:
          - {id: strangled, text: {sv: S, en: S}, scale: yn}
          - {id: threat, text: {sv: T, en: T}, scale: yn}
          - {id: weapon, text: {sv: W, en: W}, scale: yn, show_if: "threat == 'yes'"}
    scores:
      - {id: total, label: {sv: Summa, en: Sum}, kind: sum}
    levels:
      - {id: low, label: {sv: Låg, en: Low}}
      - {id: medium, label: {sv: Medel, en: Medium}}
      - {id: high, label: {sv: Hög, en: High}}
    bands:
      score: total
      ranges:
        - {level: low, min: 0, max: 1}
        - {level: medium, min: 2, max: 3}
        - {level: high, min: 4, max: 6}
    critical:
      - id: strangulation
        when: "strangled == 'yes'"
        raise_to: high
        reason: {sv: Strypning, en: Strangulation}
    judgement: {policy: raise_only}
    """
)


def swap(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence, so a test cannot silently edit nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, fragment
    return lines[0]


def find(issues: tuple[Issue, ...], line: int, col: int, fragment: str) -> Issue:
    """The issue at ``line:col`` whose text contains ``fragment``."""
    for issue in issues:
        if (issue.line, issue.column) == (line, col) and fragment in str(issue):
            return issue
    listing = "\n".join(str(i) for i in issues)
    raise AssertionError(f"no issue at {line}:{col} containing {fragment!r} in:\n{listing}")


def test_the_good_instrument_loads_and_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ci = parse_instrument(GOOD, "good.yaml")
    assert ci.order == ("strangled", "threat", "weapon")
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run(["validate", "good.yaml"]) == 0
    assert "ok" in capsys.readouterr().out


class Bad(NamedTuple):
    """One mistake: replace ``old`` by ``new`` in GOOD; expect an issue at ``line:col``."""

    old: str
    new: str
    line: int
    col: int
    fragment: str
    suggestion: str | None = None


WHEN = "when: \"strangled == 'yes'\""
STRANGLED = "{id: strangled, text: {sv: S, en: S}, scale: yn}"
HIGH_BAND = "{level: high, min: 4, max: 6}"
MEDIUM_BAND = "{level: medium, min: 2, max: 3}"
CASES: dict[str, Bad] = {
    "duplicate-key": Bad("model: weighted\n", "model: weighted\nmodel: count\n", 7, 1,
                         "duplicate key 'model' (first at line 6)"),
    "duplicate-key-in-flow": Bad("points: 2}", "points: 2, points: 3}", 11, 63, "duplicate key 'points'"),
    "typo-key": Bad("points: 2}", "wieght: 2}", 11, 52, "scales.yn.options.0.wieght: Extra inputs are not permitted"),
    "points-string": Bad("points: 2}", 'points: "3"}', 11, 60,
                         "scales.yn.options.0.points: Input should be a valid integer"),
    "points-yes": Bad("points: 2}", "points: yes}", 11, 60,
                      "scales.yn.options.0.points: Input should be a valid integer"),
    "bool-as-string": Bad("paraphrased: true", "paraphrased: yes", 7, 62,
                          "source.paraphrased: Input should be a valid boolean"),
    "missing-english": Bad("{sv: Hög, en: High}", "{sv: Hög}", 26, 23, "levels.2.label.en: Field required"),
    "unknown-id-in-expression": Bad(WHEN, "when: \"strangeld == 'yes'\"", 35, 12,
                                    "critical.0.when: unknown name 'strangeld'", "strangled"),
    "unknown-value-in-expression": Bad("show_if: \"threat == 'yes'\"", "show_if: \"threat == 'ja'\"", 20, 75,
                                       "'ja' is not an answer value"),
    "overlapping-bands": Bad(MEDIUM_BAND, "{level: medium, min: 1, max: 3}", 31, 28,
                             "bands.ranges.1.min: band overlaps the previous one (0–1)"),
    "gapped-bands": Bad(MEDIUM_BAND, "{level: medium, min: 3, max: 3}", 31, 28,
                        "bands.ranges.1.min: gap: no band covers 2–2"),
    "unreachable-band": Bad(HIGH_BAND, HIGH_BAND + "\n    - {level: high, min: 7, max: 9}", 33, 26,
                            "bands.ranges.3.min: band can never be reached: the score is at most 6"),
    "band-short-of-max": Bad(HIGH_BAND, "{level: high, min: 4, max: 5}", 32, 34,
                             "bands.ranges.2.max: gap: no band covers 6–6"),
    "higher-band-lower-level": Bad(HIGH_BAND, "{level: low, min: 4, max: 6}", 32, 15,
                                   "bands.ranges.2.level: a higher band cannot give a lower level"),
    "unknown-scale": Bad("scale: yn}\n      - {id: weapon", "scale: ynn}\n      - {id: weapon",
                         19, 51, "sections.0.items.1.scale: unknown scale 'ynn'", "yn"),
    "unknown-level-in-raise-to": Bad("raise_to: high", "raise_to: hihg", 36, 15,
                                     "critical.0.raise_to: unknown level 'hihg'", "high"),
    "unknown-band-score": Bad("score: total", "score: totl", 28, 10, "bands.score: unknown score 'totl'", "total"),
    "show-if-later-item": Bad(STRANGLED, STRANGLED[:-1] + ", show_if: \"weapon == 'yes'\"}", 18, 68,
                              "sections.0.items.0.show_if"),
    "malicious-expression": Bad(WHEN, "when: \"__import__('os').system('touch CANARY')\"", 35, 12,
                                "only the built-in functions can be called"),
    "attribute-access": Bad(WHEN, "when: \"strangled.gi_frame\"", 35, 12, "attribute access not allowed"),
}


@pytest.mark.parametrize(("old", "new", "line", "col", "fragment", "suggestion"), CASES.values(), ids=CASES.keys())
def test_bad_instrument_gives_a_located_issue(
    old: str, new: str, line: int, col: int, fragment: str, suggestion: str | None,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    issue = find(issues_of(swap(GOOD, old, new), "bad.yaml"), line, col, fragment)
    assert issue.source == "bad.yaml"
    assert str(issue).startswith(f"bad.yaml:{line}:{col}: ")
    if suggestion is not None:
        assert issue.suggestion == suggestion
        assert f"(did you mean {suggestion!r}?)" in str(issue)
    assert not (tmp_path / "CANARY").exists()


@pytest.mark.parametrize(
    ("old", "new", "line", "col", "fragment"), [c[:5] for c in CASES.values()], ids=CASES.keys()
)
def test_cli_validate_reports_the_same_located_issue(
    old: str, new: str, line: int, col: int, fragment: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad.yaml").write_text(swap(GOOD, old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run(["validate", "bad.yaml"]) == 1
    out = capsys.readouterr()
    shown = out.out + out.err
    assert any(
        ln.startswith(f"bad.yaml:{line}:{col}: ") and fragment in ln for ln in shown.splitlines()
    ), shown
    assert "Traceback" not in shown
    assert not (tmp_path / "CANARY").exists()


def test_cli_validate_in_a_child_process_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(swap(GOOD, "points: 2}", "wieght: 2}"), encoding="utf-8")
    proc = run_python("from screening.cli import main; main()", "validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad.yaml:11:52: scales.yn.options.0.wieght: Extra inputs are not permitted" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_show_if_on_a_later_item_says_so() -> None:
    """A show_if may only use earlier items; 'unknown name' would mislead the author."""
    bad = swap(GOOD, STRANGLED, STRANGLED[:-1] + ", show_if: \"weapon == 'yes'\"}")
    (issue,) = issues_of(bad)
    assert issue.loc == "sections.0.items.0.show_if"
    assert "weapon" in issue.message
    assert "later" in issue.message or "earlier" in issue.message, issue.message


def test_expression_column_points_at_the_name_in_a_plain_scalar() -> None:
    """Without quotes the expression starts at the value's own column (no quote to skip)."""
    bad = swap(GOOD, "when: \"strangled == 'yes'\"", "when: strangeld == 'yes'")
    issue = find(issues_of(bad), 35, 11, "unknown name 'strangeld'")
    assert issue.suggestion == "strangled"


def test_quoted_expression_column_points_at_the_name_after_the_quote() -> None:
    bad = swap(GOOD, "when: \"strangled == 'yes'\"", "when: \"strangled == 'yes' and wepon == 'yes'\"")
    text_line = bad.splitlines()[34]
    issue = find(issues_of(bad), 35, text_line.index("wepon") + 1, "unknown name 'wepon'")
    assert issue.suggestion == "weapon"


# --- YAML 1.1 surprises: what looks like a boolean stays a string --------------------


def test_unquoted_yes_no_option_values_load_as_strings_and_score() -> None:
    text = swap(swap(GOOD, 'value: "yes"', "value: yes"), 'value: "no"', "value: no")
    text = swap(text, 'en: "Yes"', "en: Yes")
    text = swap(text, 'en: "No"', "en: No")
    ci = parse_instrument(text, "yes.yaml")
    options = ci.instrument.scales["yn"].options
    assert [o.value for o in options] == ["yes", "no", "unknown"]
    assert [o.label.en for o in options] == ["Yes", "No", "Unknown"]
    result = assess(ci, {"strangled": "yes", "threat": "no"})
    assert result.scores["total"].value == 2
    assert result.critical == ["strangulation"]


@pytest.mark.parametrize("word", ["on", "off", "y", "n", "NO", "On", "OFF"])
def test_other_yaml_11_booleans_stay_strings_too(word: str) -> None:
    text = swap(GOOD, 'value: "no"', f"value: {word.lower()}")
    text = swap(text, "en: Low}", f"en: {word}}}")
    ci = parse_instrument(text)
    assert ci.instrument.scales["yn"].options[1].value == word.lower()
    assert ci.instrument.levels[0].label.en == word


def test_numbers_that_look_like_floats_or_dates_stay_strings() -> None:
    text = swap(GOOD, 'edition: "1"', "edition: 1.10")
    text = swap(text, "publisher: P", "publisher: 2024-01-01")
    source = parse_instrument(text).instrument.source
    assert source.edition == "1.10"
    assert source.publisher == "2024-01-01"


def test_unquoted_integer_where_text_belongs_is_an_error() -> None:
    text = swap(GOOD, 'edition: "1"', "edition: 1")
    find(issues_of(text), 7, 30, "source.edition: Input should be a valid string")


# --- structure of the YAML itself ---------------------------------------------------


def test_deep_nesting_is_rejected_quickly_and_located() -> None:
    text = swap(GOOD, "intro: {sv: Test, en: Test}", "intro: " + "[" * 500 + "]" * 500)
    issue = find(issues_of(text), 5, 71, "nesting is deeper than 64")
    assert issue.source == "bad.yaml"


def test_deep_block_nesting_is_rejected() -> None:
    deep = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n"
    issues = issues_of("intro:\n" + textwrap.indent(deep, "  "))
    assert any("nesting is deeper than 64" in i.message for i in issues)


def test_alias_and_anchor_are_located() -> None:
    text = swap(GOOD, "title: {sv: Test, en: Test}", "title: &t {sv: Test, en: Test}")
    text = swap(text, "description: {sv: Test, en: Test}", "description: *t")
    issues = issues_of(text)
    find(issues, 3, 8, "an anchor (&...) is not allowed")
    find(issues, 4, 14, "an alias (*...) is not allowed")


_BOMB_CHILD = r"""
import resource, sys
LIMIT = 256 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
import screening
lines = ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i in range(1, 10):
    lines.append(f"l{i}: &{chr(97 + i)} [" + ",".join(["*" + chr(96 + i)] * 9) + "]")
text = "\n".join(lines) + "\n"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    screening.parse_instrument(text, "bomb.yaml")
    print("LOADED")
except screening.SpecError as exc:
    print("REJECTED", len(exc.issues), str(exc).splitlines()[0])
except MemoryError:
    print("MEMORYERROR")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RSS_KIB", before, after)
"""


def test_alias_bomb_is_rejected_with_flat_memory_under_a_256_mib_limit() -> None:
    """A billion-laughs file (10**9 'lol's if expanded) under RLIMIT_AS=256 MiB.

    Expanding it would need far more than the limit, so a loader that expands it
    fails with MemoryError; ours must reject it from the event stream. Peak RSS
    is measured in the child (ru_maxrss, KiB) and must barely move.
    """
    proc = run_python(_BOMB_CHILD)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("REJECTED"), proc.stdout
    assert "bomb.yaml:1:6: an anchor (&...) is not allowed" in lines[0]
    before, after = (int(x) for x in lines[1].split()[1:])
    print(f"alias bomb: peak RSS {before} KiB before, {after} KiB after")
    assert after - before < 32 * 1024, f"peak RSS grew by {after - before} KiB"


# --- every problem at once ----------------------------------------------------------


def test_three_yaml_level_mistakes_give_three_issues() -> None:
    text = swap(GOOD, "model: weighted\n", "model: weighted\nmodel: count\n")
    text = swap(text, "title: {sv: Test, en: Test}", "title: !!str {sv: Test, en: Test}")
    text = swap(text, "points: 2}", "points: 2, points: 3}")
    issues = issues_of(text)
    assert len(issues) == 3, [str(i) for i in issues]
    assert [i.line for i in issues] == [3, 7, 12]


def test_three_field_mistakes_give_three_issues() -> None:
    text = swap(GOOD, "points: 2}", "wieght: 2}")
    text = swap(text, "points: 0}", 'points: "0"}')
    text = swap(text, "{sv: Hög, en: High}", "{sv: Hög}")
    issues = issues_of(text)
    assert len(issues) == 3, [str(i) for i in issues]
    assert [i.line for i in issues] == [11, 12, 26]


def test_three_cross_reference_mistakes_give_three_issues() -> None:
    text = swap(GOOD, "scale: yn, show_if", "scale: ynn, show_if")
    text = swap(text, "raise_to: high", "raise_to: hihg")
    text = swap(text, "{level: medium, min: 2, max: 3}", "{level: medium, min: 3, max: 3}")
    issues = issues_of(text)
    assert len(issues) == 3, [str(i) for i in issues]
    assert [i.line for i in issues] == [20, 31, 36]


def test_an_unknown_scale_does_not_cascade_into_expression_errors() -> None:
    """One mistake, one issue: the critical rule on 'strangled' is not wrong too.

    With the scale unknown the item's answers are unknown, so an expression over it
    cannot be checked; reporting "'yes' is not an answer value (allowed: )" sends
    the author after a second mistake that is not there.
    """
    text = swap(GOOD, "scale: yn}\n      - {id: threat", "scale: ynn}\n      - {id: threat")
    issues = issues_of(text)
    assert [i.loc for i in issues] == ["sections.0.items.0.scale"], [str(i) for i in issues]


def test_mistakes_of_different_stages_are_reported_together() -> None:
    """A duplicate key (found while reading YAML) must not hide a typo or a wrong type.

    The format promises every problem in a file at once; the data with the
    duplicate dropped can still be validated against the model.
    """
    text = swap(GOOD, "model: weighted\n", "model: weighted\nmodel: count\n")
    text = swap(text, "points: 2}", "wieght: 2}")
    text = swap(text, "points: 0}", 'points: "0"}')
    issues = issues_of(text)
    assert len(issues) == 3, [str(i) for i in issues]


# --- not an instrument at all --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("", "empty document"),
        ("- a\n- b\n", "Input should be"),
        ("just text\n", "Input should be"),
        (b"id: t\nversion: \xff\n", "not valid UTF-8"),
        ("id: [unclosed\n", ""),
        ("a: 1\n---\nb: 2\n", "only one document"),
    ],
)
def test_not_an_instrument_is_a_located_spec_error(data: str | bytes, fragment: str) -> None:
    issues = issues_of(data)
    assert any(fragment in str(i) for i in issues), [str(i) for i in issues]
    assert all(i.source == "bad.yaml" for i in issues)


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["validate", "nothere.yaml"]) == 1
    out = capsys.readouterr()
    assert "nothere.yaml" in out.out + out.err
    assert "Traceback" not in out.out + out.err


def test_spec_error_lists_issues_sorted_by_position() -> None:
    text = swap(GOOD, "raise_to: high", "raise_to: hihg")
    text = swap(text, "scale: yn, show_if", "scale: ynn, show_if")
    with pytest.raises(SpecError) as info:
        parse_instrument(text, "bad.yaml")
    lines = str(info.value).splitlines()
    assert [ln.split(": ")[0] for ln in lines] == ["bad.yaml:20:51", "bad.yaml:36:15"]
