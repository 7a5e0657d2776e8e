"""`make bench`: every benchmark, one after the other, with the time each took.

    .venv/bin/python bench/run.py [--scale city|national] [--db sqlite|postgresql|both] [--only NAME ...]

- ``read``     bench/read.py: the safe reader vs python-calamine alone (in-process, no database);
- ``ingest``   bench/ingest.py: one `tracker ingest` of 300 sheets into SQLite, vs calamine alone;
- ``status``   bench/status.py: status of one 700-district cluster (SQLite and PostgreSQL);
- ``reports``  bench/reports.py: weekly report and review pack of Cluster No. 1 (SQLite and PostgreSQL);
- ``scale``    bench/scale.py: a whole federation in one database (``--scale city`` by default, about a
  minute per database; ``--scale national`` generates 18,000 sheets once, then ~10 minutes per database);
- ``backup``   bench/backup.py: backup, verify and restore of the same federation's data (time and size).

PostgreSQL runs get a database of their own, created here and dropped at the end (admin URL from
``TRACKER_BENCH_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); without a
reachable server they are skipped. The machine and its load are printed first: other work on the
machine slows the wall-clock figures (the CPU-time figures much less).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("read", "ingest", "status", "reports", "scale", "backup")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.1f} GiB RAM, Python {platform.python_version()}, "
            f"load average {load}")


def run(title: str, argv: list[str], env: dict[str, str] | None = None) -> float:
    print(f"\n## {title}: {' '.join(argv[1:])}", flush=True)
    extra, env = env or {}, dict(os.environ)
    env.pop("TRACKER_DATABASE_URL", None)  # a database only where this script gives one
    env.update(extra)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env)
    took = time.perf_counter() - started
    state = "" if done.returncode == 0 else f" — FAILED (exit {done.returncode})"
    print(f"({title} took {took:.0f} s{state})", flush=True)
    return took if done.returncode == 0 else -took


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.scale import pg_create_database, pg_drop_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("city", "national"), default="city")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    args = parser.parse_args()
    py = sys.executable
    bench = ROOT / "bench"
    print(machine(), flush=True)
    started = time.perf_counter()
    took: dict[str, float] = {}
    sqlite, postgres = args.db in ("sqlite", "both"), args.db in ("postgresql", "both")

    if "read" in args.only:
        took["read"] = run("read", [py, str(bench / "read.py")])
    if "ingest" in args.only:
        took["ingest"] = run("ingest (SQLite)", [py, str(bench / "ingest.py")])
    for name in ("status", "reports"):
        if name not in args.only:
            continue
        if sqlite:
            took[f"{name} sqlite"] = run(f"{name} (SQLite)", [py, str(bench / f"{name}.py")])
        if postgres and (db := pg_create_database()) is not None:
            try:
                took[f"{name} postgresql"] = run(f"{name} (PostgreSQL)", [py, str(bench / f"{name}.py")],
                                                 {"TRACKER_DATABASE_URL": db[1]})
            finally:
                pg_drop_database(db[0])
    if "scale" in args.only:
        took["scale"] = run(f"scale ({args.scale})", [py, str(bench / "scale.py"), "--scale", args.scale,
                                                      "--db", args.db])
    if "backup" in args.only:
        took["backup"] = run(f"backup ({args.scale})", [py, str(bench / "backup.py"), "--scale", args.scale,
                                                        "--db", args.db])

    print(f"\n{machine()}")
    print("durations: " + ", ".join(f"{k} {abs(v):.0f} s" + (" FAILED" if v < 0 else "") for k, v in took.items())
          + f"; total {time.perf_counter() - started:.0f} s")
    if any(v < 0 for v in took.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
