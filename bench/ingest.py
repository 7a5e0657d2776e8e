"""Benchmark: district sheets through ONE `tracker ingest` command into a fresh SQLite database.

Prints: sheets per second end to end (process start, imports, the reader's worker, checks, one write
transaction per file, archive copies), the marginal cost per sheet ((t300 − t30) / 270), the peak
memory of the command (the largest of the `tracker` process and its reader worker), and the ratio to
the time python-calamine alone needs to read the same files in one process (no checks, no safety).
Goals (issue 3): ≥ 100 sheets/s end to end, marginal ≤ 3 ms per sheet.

    .venv/bin/python bench/ingest.py [--sheets 300] [--small 30] [--repeat 5] [--work-dir DIR]

The sheets are real upload workbooks (the `tracker template` writer, filled in), 6 districts × 50
weeks, generated once into a temporary folder (generation is not timed). Each measurement gets a new
database; the best of ``--repeat`` runs is reported, since other processes on the machine add noise.

The temporary folder (database, archive copies) is made under ``--work-dir`` (default: the system's
temporary folder). Every accepted sheet creates its archive copy there, and creating a file is not
free: on the 2-core machines this was measured on it cost 0.03–0.6 ms, varying from minute to minute.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Runs a command and reports the peak RSS of its process tree (children are waited for, so their
# maximum is included) on the last line of stderr.
_WRAP = ("import json, resource, subprocess, sys\n"
         "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
         "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
         "sys.stderr.write(json.dumps({'code': code, 'peak_kb': usage.ru_maxrss,\n"
         "                             'cpu': usage.ru_utime + usage.ru_stime}) + '\\n')\n")


def make_sheets(folder: Path, n: int) -> list[Path]:
    from tracker.config import load_settings
    from tracker.intake.template import build_template

    settings = load_settings(ROOT / "config.toml", env={})
    paths: list[Path] = []
    week = 0
    while len(paths) < n:
        day = date(2023, 1, 6) + timedelta(days=7 * week)
        for i, d in enumerate(settings.districts):
            if len(paths) >= n:
                break
            figures = {"new_unions": week // 3 + i, "agreements": week // 4, "congresses": min(week * 2, 30),
                       "new_members": 40 * week + 7 * i, "union_fees": round(70.5 * week + i, 1)}
            path = folder / f"bao-cao_{d.code}_{day.isoformat()}.xlsx"
            path.write_bytes(build_template(settings, d.code, day, targets=settings.targets.get(d.code, {}),
                                            figures=figures))
            paths.append(path)
        week += 1
    return paths


def tracker_command() -> list[str]:
    script = Path(sys.executable).parent / "tracker"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from tracker.cli import main; main()"]


def fresh_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///data/tracker.db"', 'url = "sqlite:///data/bench.db"')
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "TRACKER_CONFIG": str(path)}
    env.pop("TRACKER_DATABASE_URL", None)
    subprocess.run(tracker_command() + ["init"], env=env, check=True, capture_output=True)
    return path


def run_ingest(work: Path, files: list[Path]) -> tuple[float, int, float]:
    """Seconds for one `tracker ingest` of ``files`` on a fresh database, its peak RSS in KiB, and the CPU
    seconds of its processes (the command and its reader worker)."""
    config = fresh_config(work)
    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    env.pop("TRACKER_DATABASE_URL", None)
    os.sync()  # the previous run's files are written back now, not while this run creates its own
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAP, *tracker_command(), "ingest", *map(str, files)],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    report = json.loads(done.stderr.strip().splitlines()[-1])
    if report["code"] != 0:
        raise SystemExit(f"tracker ingest exited {report['code']}:\n{done.stderr[-2000:]}")
    return elapsed, report["peak_kb"], report["cpu"]


def calamine_alone(files: list[Path]) -> float:
    """Seconds for python-calamine to read every sheet of every file, in this process."""
    from python_calamine import CalamineWorkbook

    blobs = [f.read_bytes() for f in files]
    start = time.perf_counter()
    for blob in blobs:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(blob))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sheets", type=int, default=300)
    parser.add_argument("--small", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the temporary database, sheets and archive go (default: the system's)")
    args = parser.parse_args()

    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-bench-ingest-", dir=args.work_dir) as tmp:
        tmp_path = Path(tmp)
        sheets = tmp_path / "sheets"
        sheets.mkdir()
        t = time.perf_counter()
        files = make_sheets(sheets, args.sheets)
        print(f"generated {len(files)} sheets in {time.perf_counter() - t:.1f} s (not timed)", file=sys.stderr)

        big, small, cpu_big, cpu_small, peak = [], [], [], [], 0
        for i in range(args.repeat):
            t_big, peak_big, c_big = run_ingest(tmp_path / f"big{i}", files)
            t_small, _, c_small = run_ingest(tmp_path / f"small{i}", files[: args.small])
            big.append(t_big)
            small.append(t_small)
            cpu_big.append(c_big)
            cpu_small.append(c_small)
            peak = max(peak, peak_big)
            print(f"run {i + 1}: {args.sheets} sheets {t_big:.2f} s, {args.small} sheets {t_small:.2f} s",
                  file=sys.stderr)
        t_big, t_small = min(big), min(small)
        calamine = min(calamine_alone(files) for _ in range(args.repeat))

    rate = args.sheets / t_big
    marginal_ms = (t_big - t_small) / (args.sheets - args.small) * 1000
    load = os.getloadavg()[0]
    cpu_marginal_ms = (min(cpu_big) - min(cpu_small)) / (args.sheets - args.small) * 1000
    print(f"sheets:                {args.sheets} in one `tracker ingest` (fresh SQLite database)")
    print(f"end to end:            {t_big:.2f} s  → {rate:.0f} sheets/s   (goal ≥ 100)  "
          f"{'OK' if rate >= 100 else 'MISSED'}")
    print(f"{args.small} sheets:             {t_small:.2f} s (process start, imports, worker start included)")
    print(f"marginal per sheet:    {marginal_ms:.2f} ms   (goal ≤ 3)  {'OK' if marginal_ms <= 3 else 'MISSED'}")
    print(f"CPU time:              {min(cpu_big):.2f} s for {args.sheets} sheets, {min(cpu_small):.2f} s for "
          f"{args.small}; marginal {cpu_marginal_ms:.2f} ms CPU per sheet (command + reader worker, both cores)")
    print(f"peak memory:           {peak / 1024:.0f} MiB (largest process of the command)")
    print(f"calamine alone:        {calamine:.3f} s for the same files ({calamine / args.sheets * 1000:.2f} ms each)")
    print(f"ratio to calamine:     {t_big / calamine:.1f}× end to end, "
          f"{marginal_ms / (calamine / args.sheets * 1000):.1f}× marginal")
    print(f"machine load average:  {load:.1f} on {os.cpu_count()} cores (best of {args.repeat} runs reported)")


if __name__ == "__main__":
    main()
