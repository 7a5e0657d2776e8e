"""Benchmark: `tracker status` for a national federation — 700 districts × 5 indicators × 26 weeks.

Builds a cluster of 700 districts in a fresh database (SQLite in bench/out/ by default, or the URL in
TRACKER_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench), stores 26 weekly
accepted sheets per district (18,200 submissions, 91,000 figures, some warnings), then times what
the status command does: load the input from the database and apply the rules. Goal: under 1 s.

    .venv/bin/python bench/status.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_DISTRICTS, WEEKS = 700, 26
INDICATORS = """
[[indicators]]
key = "new_unions"
label = "Thành lập CĐCS mới"
label_en = "New grassroots unions founded"
unit = "CĐCS"

[[indicators]]
key = "agreements"
label = "Thỏa ước lao động tập thể ký mới"
label_en = "New collective labour agreements signed"
unit = "bản"

[[indicators]]
key = "congresses"
label = "Đại hội CĐCS hoàn thành"
label_en = "Grassroots congresses completed"
unit = "cuộc"
deadline = "05-31"

[[indicators]]
key = "new_members"
label = "Phát triển đoàn viên mới"
label_en = "New union members"
unit = "người"

[[indicators]]
key = "union_fees"
label = "Thu kinh phí công đoàn"
label_en = "Union fees collected"
unit = "triệu đồng"
kind = "amount"
"""


def write_config(folder: Path, url: str) -> Path:
    lines = [
        "[cluster]", 'id = "bench-national"', 'name = "Tổng Liên đoàn (benchmark)"', "year = 2023",
        'head = { name = "Benchmark", emails = ["head@example.org"] }', "",
        "[database]", f'url = "{url}"', "",
    ]
    for n in range(N_DISTRICTS):
        lines += ["[[districts]]", f'code = "D{n:03d}"', f'name = "LĐLĐ huyện số {n + 1}"', ""]
    path = folder / "bench-status.toml"
    path.write_text("\n".join(lines) + INDICATORS, encoding="utf-8")
    return path


def seed(ctx) -> None:
    from sqlalchemy import insert, select

    from tracker import models
    from tracker.targets import register_targets

    rng = random.Random(2023)
    cid = ctx.settings.cluster.id
    keys = [i.key for i in ctx.settings.indicators]
    with ctx.session(write=True) as s:
        district_ids = dict(s.exec(select(models.District.code, models.District.id)
                                   .where(models.District.cluster_id == cid)).all())
        indicator_ids = dict(s.exec(select(models.Indicator.key, models.Indicator.id)
                                    .where(models.Indicator.cluster_id == cid)).all())
        register_targets(s, cid, 2023, {(c, k): float(rng.randint(20, 3000)) for c in district_ids for k in keys},
                         source="workbook")
        first_friday = date(2023, 1, 6)
        subs, figs, findings = [], [], []
        next_id = 1
        for code, did in district_ids.items():
            totals = dict.fromkeys(keys, 0.0)
            for week in range(WEEKS):
                as_of = first_friday + timedelta(weeks=week)
                received = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(
                    hours=rng.randint(0, 40))
                subs.append({"id": next_id, "cluster_id": cid, "file_hash": f"{code}-{week}", "file_name": "x.xlsx",
                             "stored_path": "", "source": "bench", "received_at": received, "status": "accepted",
                             "district_id": did, "as_of": as_of, "sheet": "Báo cáo", "error_count": 0,
                             "warning_count": 0})
                for row, key in enumerate(keys, start=9):
                    totals[key] += rng.randint(0, 60) if key != "union_fees" else round(rng.uniform(0, 200), 1)
                    figs.append({"cluster_id": cid, "submission_id": next_id, "district_id": did,
                                 "indicator_id": indicator_ids[key], "as_of": as_of, "value": totals[key],
                                 "sheet": "Báo cáo", "cell": f"D{row}"})
                if rng.random() < 0.05:
                    findings.append({"cluster_id": cid, "submission_id": next_id, "severity": "warning",
                                     "code": "jump", "sheet": "Báo cáo", "cell": "D9", "indicator_key": keys[0],
                                     "message_vi": "Số liệu tăng bất thường", "message_en": "Unusual jump"})
                next_id += 1
        s.execute(insert(models.Submission), subs)
        s.execute(insert(models.Figure), figs)
        s.execute(insert(models.Finding), findings)
    print(f"seeded {len(subs):,} submissions, {len(figs):,} figures, {len(findings):,} warnings", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{out / 'bench-status.db'}"
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:  # a PostgreSQL database of its own, emptied first
        from sqlalchemy import create_engine, text

        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))

    from tracker.config import load_settings
    from tracker.context import init_database, open_context
    from tracker.progress import compute
    from tracker.standing import load_input

    config = write_config(out, url)
    ctx = open_context(settings=load_settings(config, env={}))
    t0 = time.perf_counter()
    init_database(ctx)
    seed(ctx)
    print(f"setup {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    as_of = date(2023, 6, 30)
    loads, computes, totals, cpu = [], [], [], []
    for _ in range(args.runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        with ctx.session() as s:
            inp = load_input(s, ctx.settings, as_of)
        t1 = time.perf_counter()
        progress = compute(inp)
        t2 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        progress.to_json()
        loads.append(t1 - t0)
        computes.append(t2 - t1)
        totals.append(t2 - t0)
    assert len(progress.districts) == N_DISTRICTS and len(inp.observations) == N_DISTRICTS * 5 * WEEKS
    t0 = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "tracker"), "--config", str(config), "status", "--as-of",
                           "30/06/2023", "--format", "json"], capture_output=True, cwd=ROOT)
    cli_s = time.perf_counter() - t0
    backend = url.split(":", 1)[0]
    print(f"status, {N_DISTRICTS} districts × 5 indicators × {WEEKS} weeks on {backend}: "
          f"load {statistics.median(loads):.3f} s + compute {statistics.median(computes):.3f} s = "
          f"{statistics.median(totals):.3f} s wall (median of {args.runs}; best {min(totals):.3f} s; "
          f"CPU of this process {statistics.median(cpu):.3f} s); "
          f"whole `tracker status --format json` process {cli_s:.2f} s (exit {done.returncode})")
    verdict = "OK: under 1 s" if statistics.median(totals) < 1 else "SLOW: over 1 s"
    print(f"{verdict} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
