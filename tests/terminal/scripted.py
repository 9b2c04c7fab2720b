"""Prompters for tests: a fixed script of keys and lines, and an autopilot that answers anything.

Both record everything the interview showed, so a test can check the screen
(``screen``) as well as the store.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import deque
from collections.abc import Callable, Iterable

HIDE = "\x18"
ENTER = "\r"

_KEYS = re.compile(r"\[(.)\]")
_RANGE = re.compile(r"(-?\d+)–(-?\d+)")

HOSTILE_TEXTS = (
    "Han sa [/b] att [link=http://x]klicka[/link]",
    "\x1b[2J\x1b[31mrött\x1b[0m",
    "rad ett\rrad två",
    "höger\u202etill vänster\u2066",
    "{{7*7}} <script>alert(1)</script>",
    "vanlig text med åäö",
)


class ScriptedPrompter:
    """Answers from a script; an item that is an exception is raised instead (Ctrl-C, EOF)."""

    def __init__(self, script: Iterable[str | BaseException] = ()) -> None:
        self.script: deque[str | BaseException] = deque(script)
        self.lines: list[str] = []
        self.prompts: list[str] = []
        self.hidden_at: int | None = None
        self.before_read: Callable[[ScriptedPrompter], None] | None = None

    @property
    def screen(self) -> str:
        return "\n".join(self.lines)

    def show(self, text: str) -> None:
        self.lines.append(text)

    def hide(self) -> None:
        self.hidden_at = len(self.lines)

    def new_question(self) -> None:
        pass

    def _next(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.before_read is not None:
            self.before_read(self)
        if not self.script:
            raise EOFError
        entry = self.script.popleft()
        if isinstance(entry, BaseException):
            raise entry
        return entry

    def read_key(self, prompt: str) -> str:
        return self._next(prompt)

    def read_line(self, prompt: str) -> str:
        return self._next(prompt)


class Autopilot(ScriptedPrompter):
    """Answers whatever is asked with random valid input, then finishes the interview.

    Choices: a random key shown in the last ``[k] label`` line (the highest level
    for a judgement, which every policy accepts). Numbers within the shown range,
    dates, free text from ``HOSTILE_TEXTS``. Groups get one or two rows. The
    summary is accepted as it is.
    """

    def __init__(self, seed: int = 0, *, judge: bool = True) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.judge = judge
        self.answered = 0
        self._reads_since_row = 0
        self._row = 0

    def _last(self, needle: str) -> int:
        return max((n for n, line in enumerate(self.lines) if needle in line), default=-1)

    def read_key(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self._reads_since_row += 1
        options = max(n for n, line in enumerate(self.lines) if _KEYS.search(line))
        keys = _KEYS.findall(self.lines[options])
        line = self.lines[options]
        if self._ending_group():
            return ENTER
        if "[j] ja" in line or "[y] yes" in line:
            return keys[0] if self.judge else keys[1]
        if line.startswith(("Välj nivå", "Choose a level")):
            return keys[-1]
        self.answered += 1
        return self.rng.choice(keys)

    def read_line(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self._reads_since_row += 1
        if self._ending_group():
            return ""
        if "Enter" in prompt:  # the summary
            return ""
        if prompt.startswith(("Motivering", "Rationale")):
            return "Bedömt utifrån svaren och samtalet."
        self.answered += 1
        bounds = _RANGE.search(prompt)
        if bounds and ("heltal" in prompt or "number" in prompt):
            return str(self.rng.randint(int(bounds.group(1)), int(bounds.group(2))))
        if "ÅÅÅÅ" in prompt or "YYYY" in prompt:  # a day in the past half year: inside any date window
            return (dt.date.today() - dt.timedelta(days=self.rng.randint(0, 180))).isoformat()
        return self.rng.choice(HOSTILE_TEXTS)

    def show(self, text: str) -> None:
        super().show(text)
        if text.startswith(("Ny rad", "New row")):
            self._row = int(text.split()[2])
            self._reads_since_row = 0
        elif text.startswith(("Rad 1 –", "Row 1 –")):
            self._row = 1
            self._reads_since_row = 0

    def _ending_group(self) -> bool:
        """At the first field of row 2 or 3: end the group with an empty answer."""
        return self._reads_since_row == 1 and self._row >= 2 + (self.rng.random() < 0.5)
