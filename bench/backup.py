"""Benchmark: backup, verify and restore of a whole federation's data (docs/backups.md), time and size.

    .venv/bin/python bench/backup.py [--scale national|city] [--db sqlite|postgresql|both] [--workers 2]

For each database (SQLite file, and a PostgreSQL database created for the run and dropped at the end;
admin URL from ``TRACKER_BENCH_PG_URL``): every cluster of ``bench/generate.py`` initialised and its 26
weeks of sheets ingested through the inbox pull (``bench/scale.py``'s phases); then, each step in a
child process (wall clock, CPU, peak memory of the process tree):

1. the backup of one cluster (first: every file copied), and the same again (the next night, nothing new:
   every file hard-linked from the previous backup);
2. the nightly backup of every cluster, one after the other, into the shared ``[backup] dir`` — each holds
   a dump of the whole database the clusters share — on the first night and on the next, with the disk
   they use (a hard-linked file counted once);
3. ``verify`` of every cluster: every archived accepted sheet read again and compared with the database;
4. the restore of one cluster's backup into an empty folder (and an empty PostgreSQL database), every
   SHA-256 checked first.

Floors measured in the same run: copying the database file (SQLite) or ``pg_dump`` alone (PostgreSQL),
copying and hashing one cluster's files with ``shutil.copytree`` + hashlib, and python-calamine alone
reading the same sheets as ``verify``. Results also go to ``bench/out/backup-<scale>-<db>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import deliver, federation, generate, sheet_files, write_configs  # noqa: E402
from bench.scale import OUT, Measure, measure, pg_create_database, pg_drop_database  # noqa: E402
from bench.scale import phase as scale_phase  # noqa: E402

MB = 2**20


def phase(run: Path, name: str, *extra: str) -> Measure:
    return measure([sys.executable, str(Path(__file__)), "--phase", name, "--run", str(run), *extra])


# -- the phases (in a child process) ---------------------------------------------------------------------------------

def _contexts(run: Path, ids: list[str]):
    from tracker.context import open_context

    return [open_context(run / "configs" / f"{cid}.toml") for cid in ids]


def phase_backup(run: Path, args) -> dict:
    from tracker.backup.take import take_backup

    rows = []
    for ctx in _contexts(run, args.clusters.split(",")):
        t = time.perf_counter()
        report = take_backup(ctx)
        db = report.manifest.database["file"]
        rows.append({"cluster": ctx.cluster_id, "seconds": time.perf_counter() - t, "bytes": report.size,
                     "db_bytes": report.manifest.files[db].size, "files": len(report.manifest.files),
                     "copied": report.stats.copied, "linked": report.stats.linked,
                     "bytes_copied": report.stats.bytes_copied, "path": str(report.path)})
    return {"backups": rows}


def phase_verify(run: Path, args) -> dict:
    from tracker.workflows.verify import verify_archive

    rows = []
    for ctx in _contexts(run, args.clusters.split(",")):
        t = time.perf_counter()
        report = verify_archive(ctx)
        rows.append({"cluster": ctx.cluster_id, "seconds": time.perf_counter() - t, "files": report.files,
                     "figures": report.figures, "differences": len(report.differences)})
    return {"verified": rows}


def phase_restore(run: Path, args) -> dict:
    from tracker.backup.restore import restore_backup

    t = time.perf_counter()
    restored = restore_backup(Path(args.backup), Path(args.to), database_url=args.database_url or None)
    return {"seconds": time.perf_counter() - t, "files": restored.files}


def phase_floors(run: Path, args) -> dict:
    """The same bytes moved by the plainest means: the database file copied (SQLite) or ``pg_dump`` alone
    (PostgreSQL); one cluster's folders copied and hashed; calamine alone reading its sheets."""
    from bench.ingest import calamine_alone
    from tracker.backup import database

    ctx = _contexts(run, [args.clusters])[0]
    s = ctx.settings
    scratch = run / "floor"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    out: dict = {}
    t = time.perf_counter()
    if database.dialect_of(s.database.url) == "sqlite":
        shutil.copyfile(database.sqlite_path(s.database.url), scratch / "copy.db")
    else:
        uri, env = database.libpq(s.database.url)
        subprocess.run(["pg_dump", "--format=custom", f"--file={scratch / 'dump'}", f"--dbname={uri}"],
                       env={**os.environ, **env}, check=True)
    out["db_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for name, folder in (("archive", s.paths.archive), ("quarantine", s.paths.quarantine)):
        shutil.copytree(folder, scratch / name)
        for path in (scratch / name).rglob("*"):
            if path.is_file():
                hashlib.sha256(path.read_bytes()).hexdigest()
    out["files_s"] = time.perf_counter() - t
    sheets = sorted(s.paths.archive.rglob("*.xlsx"))
    out["calamine_s"], out["sheets"] = calamine_alone(sheets), len(sheets)
    shutil.rmtree(scratch)
    return out


PHASES = {"backup": phase_backup, "verify": phase_verify, "restore": phase_restore, "floors": phase_floors}


def child(args) -> None:
    import logging
    import resource

    from tracker.intake.reader import close_reader

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = PHASES[args.phase](Path(args.run), args)
    close_reader()
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result))


# -- the parent -------------------------------------------------------------------------------------------------------

def disk_usage(folder: Path) -> int:
    """Bytes used by the files under ``folder``, each hard-linked file counted once."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        st = path.lstat()
        if path.is_file() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def bench_one(scale: str, backend: str, data: Path, workers: int) -> dict | None:
    run = OUT / "run" / f"backup-{scale}-{backend}"
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    pg_name = None
    if backend == "postgresql":
        created = pg_create_database()
        if created is None:
            return None
        pg_name, url = created
    else:
        url = f"sqlite:///{run / 'data' / 'tracker.db'}"
    try:
        return _bench(scale, run, url, data, workers, backend)
    finally:
        if pg_name:
            pg_drop_database(pg_name)
            pg_drop_database(f"{pg_name}_restored")


def _bench(scale: str, run: Path, url: str, data: Path, workers: int, backend: str) -> dict:
    fed = federation(scale)
    ids = [c.id for c in fed.clusters]
    write_configs(fed, run / "configs", url)
    say = lambda text: print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    r: dict = {"scale": scale, "backend": backend, "clusters": len(ids), "districts": fed.districts,
               "cpus": os.cpu_count(), "load": [os.getloadavg()[0]]}
    scale_phase(run, "init")
    for cid in ids:
        deliver(list(sheet_files(data, cid)), run / "configs" / "data" / cid / "inbox")
    ingest = scale_phase(run, "pull", "--clusters", ",".join(ids), "--workers", str(workers))
    r["ingested"] = ingest.result["files"]
    say(f"ingested {ingest.result['files']} sheets in {ingest.wall:.0f} s")
    backups = run / "configs" / "data" / "backups"
    first, rest = ids[0], ",".join(ids)

    r["one_first"] = asdict(phase(run, "backup", "--clusters", first))
    r["one_again"] = asdict(phase(run, "backup", "--clusters", first))
    say(f"one cluster: {r['one_first']['wall']:.1f} s, again {r['one_again']['wall']:.1f} s")
    before = disk_usage(backups)
    r["all_first"] = asdict(phase(run, "backup", "--clusters", rest))
    r["disk_after_first_night"] = disk_usage(backups)
    r["disk_first_night"] = r["disk_after_first_night"] - before
    r["load"].append(os.getloadavg()[0])
    say(f"every cluster, first night: {r['all_first']['wall']:.0f} s")
    r["all_again"] = asdict(phase(run, "backup", "--clusters", rest))
    r["disk_next_night"] = disk_usage(backups) - r["disk_after_first_night"]
    say(f"every cluster, next night: {r['all_again']['wall']:.0f} s")
    r["verify"] = asdict(phase(run, "verify", "--clusters", rest))
    r["load"].append(os.getloadavg()[0])
    say(f"verify of every cluster: {r['verify']['wall']:.0f} s")

    latest = r["all_again"]["result"]["backups"][0]["path"]
    restore_args = ["--backup", latest, "--to", str(run / "restored")]
    if backend == "postgresql":
        from sqlalchemy.engine import make_url

        target = make_url(url)
        target = target.set(database=f"{target.database}_restored").render_as_string(hide_password=False)
        _create_database(target)
        restore_args += ["--database-url", target]
    r["restore"] = asdict(phase(run, "restore", *restore_args))
    r["floors"] = asdict(phase(run, "floors", "--clusters", first))
    r["load"].append(os.getloadavg()[0])
    return r


def _create_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bench.scale import PG_ADMIN

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
    admin.dispose()


def report(r: dict) -> str:
    """The figures of one run; ``wall`` includes the child's start-up, ``in-process`` is the work itself."""
    one, again = r["one_first"]["result"]["backups"][0], r["one_again"]["result"]["backups"][0]
    first_rows, next_rows = r["all_first"]["result"]["backups"], r["all_again"]["result"]["backups"]
    verified = r["verify"]["result"]["verified"]
    fl = r["floors"]["result"]
    sheets = sum(v["files"] for v in verified)
    figures = sum(v["figures"] for v in verified)
    differences = sum(v["differences"] for v in verified)
    verify_s = sum(v["seconds"] for v in verified)
    load = r["load"]
    peak = max(r[k]["peak_tree_mb"] for k in ("one_first", "all_first", "all_again", "verify", "restore"))
    first_s, next_s = sum(x["seconds"] for x in first_rows), sum(x["seconds"] for x in next_rows)
    per_first = statistics.median(x["seconds"] for x in first_rows[1:] or first_rows)
    per_next = statistics.median(x["seconds"] for x in next_rows)
    db_floor = "database file copied" if r["backend"] == "sqlite" else "pg_dump alone"
    return "\n".join([
        f"== {r['scale']} on {r['backend']}: {r['clusters']} clusters, {r['districts']} districts, {r['ingested']} "
        f"sheets ingested; {r['cpus']} CPUs, load average {min(load):.1f}–{max(load):.1f} during the run ==",
        f"backup of one cluster, first      {one['seconds']:6.2f} s in-process ({r['one_first']['wall']:.1f} s wall, "
        f"CPU {r['one_first']['cpu']:.1f} s): {one['bytes'] / MB:.1f} MB = database {one['db_bytes'] / MB:.1f} MB "
        f"+ {one['copied']} files copied",
        f"   floor: {db_floor} {fl['db_s']:.2f} s; its files copied and hashed (copytree + sha256) "
        f"{fl['files_s']:.2f} s",
        f"   the same cluster next night    {again['seconds']:6.2f} s: {again['copied']} files copied, "
        f"{again['linked']} linked; new on disk {(again['db_bytes'] + again['bytes_copied']) / MB:.1f} MB "
        f"(the database)",
        f"every cluster, first night        {first_s:6.0f} s in-process ({r['all_first']['wall']:.0f} s wall, CPU "
        f"{r['all_first']['cpu']:.0f} s; median {per_first:.2f} s a cluster): "
        f"{r['disk_first_night'] / MB:,.0f} MB on disk",
        f"every cluster, next night         {next_s:6.0f} s in-process (median {per_next:.2f} s a cluster): "
        f"{r['disk_next_night'] / MB:,.0f} MB more on disk = {len(next_rows)} dumps of the shared database "
        f"({next_rows[0]['db_bytes'] / MB:.1f} MB each)",
        f"   14 nights kept (default keep): ≈ {(r['disk_first_night'] + 13 * r['disk_next_night']) / 2**30:.1f} GB "
        f"(first night + 13 nights with nothing new; new sheets add their own size once)",
        f"verify of every cluster           {verify_s:6.0f} s in-process ({r['verify']['wall']:.0f} s wall, CPU "
        f"{r['verify']['cpu']:.0f} s incl. the reader's worker): {sheets} sheets, {figures} figures, "
        f"{differences} differences = {verify_s / max(sheets, 1) * 1000:.1f} ms a sheet (floor: calamine alone "
        f"{fl['calamine_s'] / max(fl['sheets'], 1) * 1000:.2f} ms a sheet)",
        f"restore of one cluster's backup   {r['restore']['result']['seconds']:6.2f} s in-process "
        f"({r['restore']['result']['files']} files; every SHA-256 checked first"
        f"{', then pg_restore' if r['backend'] == 'postgresql' else ''})",
        f"peak memory of the process tree   {peak:.0f} MB",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "city", "national"), default="national")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--clusters", help=argparse.SUPPRESS)
    parser.add_argument("--backup", help=argparse.SUPPRESS)
    parser.add_argument("--to", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    started = time.perf_counter()
    data = generate(args.scale, OUT / args.scale, workers=args.workers)
    for backend in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        print(f"backup at {args.scale} scale on {backend}…", file=sys.stderr, flush=True)
        r = bench_one(args.scale, backend, data, args.workers)
        if r is None:
            continue
        (OUT / f"backup-{args.scale}-{backend}.json").write_text(json.dumps(r, indent=1, default=str))
        print(report(r), flush=True)
    print(f"(bench/backup.py --scale {args.scale} took {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
