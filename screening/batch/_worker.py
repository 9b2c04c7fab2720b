"""A re-score worker process: ``python -m screening.batch._worker`` (started by ``_run``).

May import: _run, _store / stdlib.

Protocol, one JSON object per line: the first request is ``{"config", "store"}``
and is answered ``{"ready": true}``; then each ``{"range": [lo, hi]}`` (store
ids) or ``{"lines": [path, start, end, first]}`` (file bytes) is answered with
the chunk's ``{"stored", "entries", "tally", "output"}`` — with ``apply`` the
worker has written the chunk's rows itself. End of input ends the worker.
Any unexpected failure is answered with its error *type* only — a message or a
traceback could carry an answer — and the worker exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    """Serve requests from stdin until it closes."""
    try:
        from ._run import Context, RunConfig, process_lines, process_range, quiet_gc

        first = json.loads(sys.stdin.readline())
        ctx = Context.open(RunConfig.from_json(first["config"]), first.get("store"))
        _reply({"ready": True})
        with quiet_gc():
            for line in sys.stdin:
                request = json.loads(line)
                if "range" in request:
                    lo, hi = request["range"]
                    _reply(process_range(ctx, lo, hi))
                else:
                    path, start, end, number = request["lines"]
                    _reply(process_lines(ctx, Path(path), start, end, number))
    except Exception as exc:  # noqa: BLE001 - the worker's last line of defence: the type only
        from ..errors import ScreeningError

        text = str(exc) if isinstance(exc, ScreeningError) else type(exc).__name__
        _reply({"error": text})
        return 1
    return 0


def _reply(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
