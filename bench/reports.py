"""Benchmark: the weekly report and the review pack of one cluster (Cluster No. 1, six districts).

Stores half a year of weekly sheets (6 districts × 27 as-of dates × 5 indicators, with lineage) in a
fresh SQLite database under bench/out/ (or TRACKER_DATABASE_URL), then times, in-process and after
the imports:
- weekly: ``build_weekly(ctx, 30/06/2023)`` — database read, 6 chart PNGs, the workbook, the e-mail;
- review: ``build_review(ctx, "2023-H1")`` — 8 PNGs, the PDF, the PPTX, the workbook, the draft text;
and once each the whole command in a fresh process (`tracker report weekly|review`, imports included).
Goals: weekly < 3 s, review pack < 10 s.

    .venv/bin/python bench/reports.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out" / "reports"


def setup() -> Path:
    from tests.conftest import write_config
    from tests.test_report_factories import store_sample
    from tracker.context import init_database, open_context

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    url = os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{OUT / 'bench.db'}"
    config = write_config(OUT, url)
    ctx = open_context(config)
    init_database(ctx)
    with ctx.session(write=True) as session:
        n = store_sample(session, ctx.settings)
    print(f"stored {n} figures in {url.split('@')[-1]}", file=sys.stderr)
    return config


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time is what matters on a machine shared with others)."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    config = setup()

    from tracker.context import open_context
    from tracker.reporting.weekly import build_weekly
    from tracker.workflows.review import build_review

    ctx = open_context(config)
    weekly = timed(lambda: build_weekly(ctx, date(2023, 6, 30), OUT / "weekly"), args.runs)
    review = timed(lambda: build_review(ctx, "2023-H1", OUT / "review"), args.runs)

    cold: dict[str, tuple[float, float]] = {}
    for name, argv in (("weekly", ["report", "weekly", "--as-of", "30/06/2023", "-o", str(OUT / "cli-weekly")]),
                       ("review", ["report", "review", "--period", "2023-H1", "-o", str(OUT / "cli-review")])):
        t, before = time.perf_counter(), os.times()
        subprocess.run([str(ROOT / ".venv" / "bin" / "tracker"), "--config", str(config), *argv], check=True,
                       capture_output=True)
        after = os.times()
        cold[name] = (time.perf_counter() - t, (after.children_user + after.children_system)
                      - (before.children_user + before.children_system))

    def line(name: str, runs: tuple[list[float], list[float]], goal: float) -> str:
        wall, cpu = runs
        return (f"{name:<7} in-process: median {statistics.median(wall):5.2f} s wall, "
                f"{statistics.median(cpu):5.2f} s CPU (first {wall[0]:5.2f} s) | fresh CLI process: "
                f"{cold[name][0]:5.2f} s wall, {cold[name][1]:5.2f} s CPU | goal < {goal:.0f} s")

    print(line("weekly", weekly, 3))
    print(line("review", review, 10))
    print(f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
