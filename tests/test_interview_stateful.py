"""C11: a stateful model of the interview: what was committed is exactly what the store holds.

Hypothesis drives the interview session (the object the terminal loop uses)
with answers, skips, back, jumps from the summary, failing commits and
reopening the store, and checks after every step that the store, the session
and a plain dict of committed answers agree, and that the questions shown
follow the skip logic computed independently from that dict.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from helpers import build_instrument, item, text, to_yaml
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from screening import AnswerError, StoreError
from screening.content.loader import parse_instrument
from screening.interview._session import Session
from screening.store._store import Store

CI = parse_instrument(
    to_yaml(
        build_instrument(
            sections=[
                {
                    "id": "s",
                    "title": text("Allt"),
                    "items": [
                        item("a"),
                        item("b"),
                        item("c", show_if="b == 'yes'"),
                        {"id": "n", "type": "number", "min": 0, "max": 3, "text": text("Antal")},
                        {"id": "t", "type": "text", "text": text("Fritext")},
                        item("d"),
                    ],
                }
            ],
            bands=None,
        )
    ),
    "stateful.yaml",
)

VALUES = {
    "choice": st.sampled_from(["yes", "no", "unknown"]),
    "number": st.integers(min_value=-1, max_value=4),  # -1 and 4 are refused
    "text": st.text(min_size=1, max_size=30),
}


def expected_visible(model: dict[str, object]) -> list[str]:
    """The oracle: ``c`` is hidden exactly when ``b`` is a known "no" (unknown asks it)."""
    return [key for key in CI.order if not (key == "c" and model.get("b") == "no")]


class InterviewModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="screening-stateful-"))
        self.store = Store.open(self.dir / "s.db", create=True)
        self.aid = self.store.create_assessment(CI).id
        self.session = Session(self.store, CI, self.aid)
        self.model: dict[str, object] = {}
        self.fail_next_commit = False
        self.store._commit = self._commit  # type: ignore[method-assign]

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _commit(self) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise sqlite3.OperationalError("disk I/O error")
        Store._commit(self.store)

    # ------------------------------------------------------------------ rules

    def _record(self, key: str, value: object) -> None:
        """What the interview does with a confirmed answer: commit, then remember and move on."""
        failing = self.fail_next_commit
        try:
            self.session.record(key, value)
        except AnswerError:
            assert CI.items[key].type == "number" and not 0 <= value <= 3  # type: ignore[operator]
            return
        except StoreError:
            assert failing, "only the injected failure may stop a commit"
            return
        assert not failing, "an injected failure must not be acknowledged"
        # A blank text answer is stored as unknown (None), as the instrument's check does: nothing
        # was said, and a blank must never read as an answer.
        self.model[key] = None if isinstance(value, str) and not value.strip() else value
        self.session.advance()

    @precondition(lambda self: self.session.current() is not None)
    @rule(data=st.data())
    def answer(self, data) -> None:
        current = self.session.current()
        self._record(current.id, data.draw(VALUES[current.type]))

    @precondition(lambda self: self.session.current() is not None)
    @rule()
    def skip(self) -> None:
        current = self.session.current()
        self._record(current.id, self.session.unknown_value(current))

    @rule()
    def back(self) -> None:
        before = self.session.cursor
        moved = self.session.back()
        assert moved == (before != CI.order.index(self.session.visible[0]))

    @precondition(lambda self: self.session.current() is None)
    @rule(data=st.data())
    def change_from_summary(self, data) -> None:
        key = data.draw(st.sampled_from(self.session.visible))
        self.session.goto(key)

    @rule()
    def break_the_disk_once(self) -> None:
        self.fail_next_commit = True

    @rule()
    def save_and_resume(self) -> None:
        self.store.close()
        self.store = Store.open(self.dir / "s.db")
        self.store._commit = self._commit  # type: ignore[method-assign]
        self.session = Session(self.store, CI, self.aid)
        first_unanswered = next((k for k in expected_visible(self.model) if k not in self.model), None)
        resumed = self.session.current()
        assert (resumed.id if resumed else None) == first_unanswered

    # ------------------------------------------------------------------ invariants

    @invariant()
    def store_equals_model(self) -> None:
        # The session's own read: a public read is an audited view (a write), which the
        # injected disk failure meant for the next answer would hit instead.
        stored = {k: v for k, (v, _) in self.store._session_answer_rows(self.aid).items()}
        assert stored == self.model
        assert self.session.answers == self.model

    @invariant()
    def shown_questions_follow_the_skip_logic(self) -> None:
        assert list(self.session.visible) == expected_visible(self.model)
        current = self.session.current()
        assert current is None or current.id in self.session.visible


InterviewModel.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestInterviewModel = InterviewModel.TestCase
