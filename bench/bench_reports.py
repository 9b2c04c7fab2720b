"""Benchmark: HTML reports per second, against baselines measured in the same run.

Renders the case-file HTML report for the golden vectors of every bundled
instrument (plus the test fixtures), round-robin, at least 1,000 times, and
prints reports per second. Two baselines run on the same data in the same
process: a bare ``str.format`` of the same headline fields, and a trivial Jinja
template; the ratios say how much the full report costs relative to them.
Target: ≥ 500 reports/s on one core. No pass/fail: the numbers are printed.

    python bench/bench_reports.py [--n 2000] [--fmt html]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import jinja2  # noqa: E402

from screening import assess, list_instruments, load_instrument_file  # noqa: E402
from screening.report._render import CaseInfo, environment, render_report  # noqa: E402

CASE = CaseInfo("ÄR-2025-0042", assessor="Handläggare A", assessed_at="2025-03-14T09:30:00+01:00")
TEMPLATE = "{title} {reference} {level} {status} {unknown} {referrals}\n"


def _workload() -> list[tuple[object, object]]:
    paths = [f.path for f in list_instruments()]
    paths += [REPO / "tests" / "fixtures" / "demo.yaml", REPO / "tests" / "golden" / "inputs" / "report-fixture.yaml"]
    work = []
    for path in paths:
        ci = load_instrument_file(path)
        for vector in ci.instrument.tests:
            work.append((ci, assess(ci, vector.answers, judgement=vector.judgement, assessed_at=CASE.assessed_at)))
    return work


def _timed(fn, n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(n)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="reports to render (at least 1000)")
    parser.add_argument("--fmt", default="html", choices=["html", "md", "txt"])
    args = parser.parse_args()
    n = max(args.n, 1000)
    work = _workload()
    environment()  # compiled once, as in production; the first render warms the template cache
    render_report(work[0][1], instrument=work[0][0], fmt=args.fmt, case=CASE)

    def reports(count: int) -> None:
        for i in range(count):
            ci, result = work[i % len(work)]
            render_report(result, instrument=ci, fmt=args.fmt, case=CASE)

    def formatted(count: int) -> None:
        for i in range(count):
            result = work[i % len(work)][1]
            TEMPLATE.format(
                title=result.instrument.title.sv, reference=CASE.reference, level=result.final_level,
                status=result.status, unknown=result.completeness.unknown, referrals=len(result.referrals),
            )

    trivial = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
        "<p>{{ title }} {{ reference }} {{ level }} {{ status }} {{ unknown }} {{ referrals }}</p>"
    )

    def jinja_trivial(count: int) -> None:
        for i in range(count):
            result = work[i % len(work)][1]
            trivial.render(
                title=result.instrument.title.sv, reference=CASE.reference, level=result.final_level or "",
                status=result.status, unknown=result.completeness.unknown, referrals=len(result.referrals),
            )

    size = sum(len(render_report(r, instrument=c, fmt=args.fmt, case=CASE)) for c, r in work) / len(work)
    t_report = _timed(reports, n)
    t_format = _timed(formatted, n)
    t_jinja = _timed(jinja_trivial, n)
    rate = n / t_report
    print(f"workload: {len(work)} scored golden vectors, mean report size {size / 1024:.1f} KiB ({args.fmt})")
    print(f"full {args.fmt} report:    {rate:10.0f} reports/s  ({n} in {t_report:.2f} s)")
    print(f"baseline str.format:  {n / t_format:10.0f} /s   ratio report/baseline = {t_format / t_report:.4f}")
    print(f"baseline tiny Jinja:  {n / t_jinja:10.0f} /s   ratio report/baseline = {t_jinja / t_report:.4f}")
    print(f"target >= 500 reports/s on one core: {'met' if rate >= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
