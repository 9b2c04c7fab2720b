"""Worker processes and the progress display of a re-score run.

May import: errors / stdlib (subprocess, select), rich (the progress display, imported only when shown).

The pool starts ``python -m screening.batch._worker`` processes and hands them
chunks as JSON lines; see ``_run`` for what a chunk is and who writes it.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ScreeningError

if TYPE_CHECKING:
    from ._run import RunConfig

__all__ = ["Pool", "Progress"]


class Pool:
    """Worker processes, with the parent as the last worker when it has nothing else to do.

    With ``jobs`` processes in all, ``jobs - 1`` are workers and the parent is the
    last: on a machine with ``jobs`` cores nobody waits for a core. Each worker has
    two chunks queued; the parent first takes in whatever a worker has finished
    (adding it to the diff is the parent's job anyway), and scores a chunk
    itself only when no response is waiting, so the workers are never kept waiting.
    """

    def __init__(self, jobs: int, config: RunConfig, store: Path | str | None) -> None:
        env = dict(os.environ)
        # Workers must import this very `screening`, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "screening.batch._worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            )
            for _ in range(jobs - 1)
        ]
        self.buffers = {proc.pid: bytearray() for proc in self.procs}
        self.queued = dict.fromkeys(self.procs, 0)
        init = {"config": config.to_json(), "store": None if store is None else str(store)}
        for proc in self.procs:
            self._send(proc, init)
            self.queued[proc] = 1
        while any(self.queued.values()):
            self._poll(None)

    def _send(self, proc: subprocess.Popen[bytes], data: dict[str, Any]) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(data).encode("utf-8") + b"\n")
            proc.stdin.flush()
        except OSError:
            raise ScreeningError("a re-score worker stopped; nothing of its chunk was stored, run again") from None

    def _poll(self, timeout: float | None) -> list[dict[str, Any]]:
        """The responses that are complete, waiting up to ``timeout`` seconds for one (``None``: until one is)."""
        busy = {proc.stdout.fileno(): proc for proc in self.procs if self.queued[proc] and proc.stdout is not None}
        out: list[dict[str, Any]] = []
        if not busy:
            return out
        ready, _, _ = select.select(list(busy), [], [], timeout)
        for fd in ready:
            proc = busy[fd]
            buffer = self.buffers[proc.pid]
            # A worker writes a response in one go, so once it has begun, read to its end:
            # the pipe holds 64 KiB and the worker waits until we take the rest.
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise ScreeningError("a re-score worker stopped; nothing of its chunk was stored, run again")
                buffer += chunk
                if chunk.endswith(b"\n"):
                    break
            while (end := buffer.find(b"\n")) >= 0:
                data = json.loads(bytes(buffer[:end]))
                del buffer[: end + 1]
                if "error" in data:
                    raise ScreeningError(f"a re-score worker failed: {data['error']}")
                self.queued[proc] -= 1
                out.append(dict(data))
        return out

    def map(
        self, tasks: Iterable[dict[str, Any]], local: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Every task's response, in no particular order (the diff and the rows do not depend on it)."""
        todo = iter(tasks)

        def refill() -> None:
            for proc in self.procs:
                while self.queued[proc] < 2:
                    task = next(todo, None)
                    if task is None:
                        return
                    self._send(proc, task)
                    self.queued[proc] += 1

        refill()
        while True:
            done = self._poll(0)
            yield from done
            refill()
            if done:
                continue
            task = next(todo, None)
            if task is not None:
                yield local(task)
                continue
            if not any(self.queued.values()):
                return
            yield from self._poll(None)

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung worker
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


class Progress:
    """How far a run is: count, rate and time left, on a terminal only (stderr).

    A re-score of 50,000 assessments showed only ``[#####] 40%`` (issue 13). This
    is rich's progress display, nothing hand-drawn: the bar, ``done/total``
    assessments, the rate per second and the time left. Piped or redirected, it
    shows nothing. The run advances it once per chunk of ``size`` assessments;
    ``last()`` says how many the last chunk holds, asked only when it is shown.
    """

    def __init__(
        self, chunks: int, enabled: bool | None = None, *, size: int = 1, last: Callable[[], int] | None = None
    ) -> None:
        self.chunks = chunks
        self.done = 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._size = size
        self._display: Any = None
        if self.enabled and chunks:
            self.total = (chunks - 1) * size + (last() if last is not None else size)
            self._display, self._task = _display(self.total)

    def step(self, n: int = 1) -> None:
        self.done += n
        if self._display is not None:
            self._display.update(self._task, completed=min(self.done * self._size, self.total))

    def end(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None


def _display(total: int) -> tuple[Any, Any]:
    """A started rich Progress on stderr with one task of ``total`` assessments."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TaskProgressColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class Rate(ProgressColumn):
        """Assessments per second (rich's own speed column counts bytes)."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

    display = RichProgress(
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        Rate(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr, force_terminal=True),  # shown only when enabled
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = display.add_task("", total=total)
    display.start()
    return display, task
