"""Benchmark: a whole federation in one database — ingest, the weekly cycle, status, reports, memory.

    .venv/bin/python bench/scale.py [--scale city|national] [--db sqlite|postgresql|both] [--workers 2]

For each database (SQLite file, and a PostgreSQL database created for the run and dropped at the end;
admin URL from ``TRACKER_BENCH_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``):

1. ``init`` of every cluster (one config per cluster, data from ``bench/generate.py``);
2. ingest of the first 25 weeks through ``tracker.workflows.pull`` (the inbox pull, as real uploads):
   half of the clusters in ONE process, the other half in ``--workers`` processes at once;
3. the weekly cycle of week 26 (30/06/2023) for every cluster, in ``--workers`` long-lived processes
   (as one scheduler per cluster would run it): the ``pull`` job, the status (load + rules + JSON),
   the ``weekly-report`` job (workbook, charts, e-mail through the outbox into ``.eml`` files);
4. ``tracker status --format json`` of one cluster as a fresh process; the review pack of one
   cluster; the federation overview (every cluster side by side: ``tracker.overview``).

Every phase runs in a child process; the parent samples the memory of the whole process tree
(every process, the reader's worker included) 20 times a second, and takes CPU time from the
children's rusage. Each figure is printed beside a floor measured in the same run: python-calamine
alone reading the same files, the database insert of the same rows (one transaction per sheet),
matplotlib drawing the same number of bare charts, the SQL read of the same figures.
Results also go to ``bench/out/scale-<scale>-<db>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import deliver, federation, generate, sheet_files, weeks, write_configs  # noqa: E402
from bench.ingest import calamine_alone  # noqa: E402

OUT = ROOT / "bench" / "out"
JUNE_30 = date(2023, 6, 30)
RUN_DATE = date(2023, 7, 3)  # the Monday the weekly report of week 26 is due
PG_ADMIN = os.environ.get("TRACKER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- measuring a child process -------------------------------------------------------------------------------------


@dataclass
class Measure:
    wall: float
    cpu: float  # user + system seconds of the child and every descendant it waited for
    peak_tree_mb: float  # largest sum of RSS over the whole process tree (sampled)
    peak_process_mb: float  # largest single process (sampled, and the children's rusage)
    result: dict = field(default_factory=dict)


def _tree(pid: int) -> tuple[int, int]:
    """(sum of RSS, largest RSS) in bytes of ``pid`` and all its descendants."""
    total = biggest = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                rss = int(fh.read().split()[1]) * PAGE
            children: list[str] = []
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    children += fh.read().split()
        except OSError:
            continue
        total += rss
        biggest = max(biggest, rss)
        stack += [int(c) for c in children]
    return total, biggest


def measure(argv: list[str], env: dict | None = None) -> Measure:
    """Run ``argv``; its last stdout line is a JSON result. Raises with its stderr when it fails."""
    import resource

    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, biggest = _tree(proc.pid)
            peaks[0], peaks[1] = max(peaks[0], total), max(peaks[1], biggest)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv[:6]))} … exited {proc.returncode}:\n{stderr[-4000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    biggest_kb = max(peaks[1] / 1024, result.get("maxrss_kb", 0), result.get("children_maxrss_kb", 0))
    _ = resource  # the child reports its own and its children's ru_maxrss (KiB on Linux)
    return Measure(wall, cpu, peaks[0] / 2**20, biggest_kb / 1024, result)


def phase(run: Path, name: str, *extra: str) -> Measure:
    return measure([sys.executable, str(Path(__file__)), "--phase", name, "--run", str(run), *extra])


# -- the phases (run in a child process) --------------------------------------------------------------------------


def _contexts(run: Path, ids: list[str] | None = None):
    from tracker.context import open_context

    paths = sorted((run / "configs").glob("*.toml"))
    if ids is not None:
        wanted = set(ids)
        paths = [p for p in paths if p.stem in wanted]
    return [open_context(p) for p in paths]


def _in_workers(fn, items: list, workers: int) -> list:
    """``fn(chunk)`` for ``workers`` round-robin chunks of ``items``, each in a forked process; results joined.

    Each worker closes the intake reader before it ends, so its worker process is waited for and
    counted in the CPU time and peak memory of this process's children."""
    if workers <= 1 or len(items) <= 1:
        return [fn(items)]
    from multiprocessing import get_context

    mp = get_context("fork")
    queue = mp.Queue()
    chunks = [items[i::workers] for i in range(workers)]

    def target(chunk, q) -> None:
        from tracker.db import dispose_engines

        dispose_engines()  # never share the parent's connections
        try:
            q.put(("ok", fn(chunk)))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            import traceback

            q.put(("error", "".join(traceback.format_exception(exc))))

    procs = [mp.Process(target=target, args=(chunk, queue)) for chunk in chunks if chunk]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    errors = [r for kind, r in results if kind == "error"]
    if errors:
        raise RuntimeError(errors[0])
    return [r for _, r in results]


def _close_reader() -> None:
    from tracker.intake.reader import close_reader

    close_reader()


def phase_init(run: Path, args) -> dict:
    from tracker.context import init_database

    ctxs = _contexts(run)
    for ctx in ctxs:
        init_database(ctx)
    return {"clusters": len(ctxs)}


def _pull_chunk(run: Path, ids: list[str]) -> dict:
    from tracker.workflows.pull import pull

    counts = {"files": 0, "accepted": 0, "rejected": 0, "duplicate": 0, "failed": 0}
    started = time.perf_counter()
    for ctx in _contexts(run, ids):
        report = pull(ctx)
        counts["files"] += len(report.items)
        for k in ("accepted", "rejected", "duplicate", "failed"):
            counts[k] += getattr(report, k)
    counts["work_s"] = time.perf_counter() - started  # after the imports and the process start
    _close_reader()
    return counts


def phase_pull(run: Path, args) -> dict:
    parts = _in_workers(lambda ids: _pull_chunk(run, ids), args.clusters.split(","), args.workers)
    out = {k: sum(p[k] for p in parts) for k in parts[0] if k != "work_s"}
    out["work_s"] = max(p["work_s"] for p in parts)
    return out


def _cycle_chunk(run: Path, ids: list[str]) -> list[dict]:
    from jobs.tasks import execute
    from tracker.progress import compute
    from tracker.standing import load_input

    out = []
    for ctx in _contexts(run, ids):
        row: dict = {"cluster": ctx.cluster_id}
        t = time.perf_counter()
        pulled = execute(ctx, "pull", trigger="manual", run_date=RUN_DATE)
        row["pull_s"] = time.perf_counter() - t
        row["pull"] = {k: pulled.counts.get(k) for k in ("files", "accepted", "rejected")}
        t = time.perf_counter()
        with ctx.session() as session:
            progress = compute(load_input(session, ctx.settings, JUNE_30))
        json.dumps(progress.to_json(), ensure_ascii=False)
        row["status_s"] = time.perf_counter() - t
        t = time.perf_counter()
        weekly = execute(ctx, "weekly-report", trigger="manual", as_of=JUNE_30, run_date=RUN_DATE)
        row["weekly_s"] = time.perf_counter() - t
        if pulled.outcome not in ("ok", "error") or weekly.outcome != "ok":
            raise RuntimeError(f"{ctx.cluster_id}: pull {pulled.outcome}, weekly-report {weekly.outcome}: "
                               f"{weekly.error or pulled.error}")
        out.append(row)
    _close_reader()
    return out


def phase_cycle(run: Path, args) -> dict:
    ids = [p.stem for p in sorted((run / "configs").glob("*.toml"))]
    parts = _in_workers(lambda chunk: _cycle_chunk(run, chunk), ids, args.workers)
    return {"clusters": [row for part in parts for row in part]}


def phase_review(run: Path, args) -> dict:
    from tracker.workflows.review import build_review

    ctx = _contexts(run, [args.clusters])[0]
    t = time.perf_counter()
    pack = build_review(ctx, "2023-H1", run / "review")
    return {"seconds": time.perf_counter() - t, "charts": len(pack.charts)}


def phase_overview(run: Path, args) -> dict:
    try:
        from tracker.reporting.overview_book import build_overview
    except ImportError:
        return {}
    t = time.perf_counter()
    result = build_overview(sorted((run / "configs").glob("*.toml")), JUNE_30, run / "overview")
    return {"seconds": time.perf_counter() - t, "clusters": len(result.overview.clusters)}


def phase_floors(run: Path, args) -> dict:
    """What the same work costs at its cheapest: calamine reading the files, the bare DB inserts, matplotlib
    drawing bare charts, the SQL read of one cluster's figures."""
    out: dict = {}
    files = [Path(line) for line in Path(args.files).read_text().splitlines() if line]
    out["calamine_s"] = calamine_alone(files)
    out["files"] = len(files)

    ctx = _contexts(run)[0]
    out["insert_s"] = _insert_floor(ctx, len(files))
    out["sql_read_s"], out["sql_rows"] = _read_floor(ctx)
    bars = len(ctx.settings.districts)
    out["chart_s"] = _chart_floor(bars, dpi=100)
    out["chart_review_s"] = _chart_floor(bars, dpi=120)
    return out


def _insert_floor(ctx, n: int) -> float:
    """The rows one accepted sheet stores (a submission, five figures), one transaction per sheet, plain
    Core statements on the same engine; the scratch cluster is removed afterwards."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert

    from tracker import models

    cid = f"floor-{uuid.uuid4().hex[:8]}"
    sub, fig = models.Submission.__table__, models.Figure.__table__
    with ctx.engine.begin() as conn:
        conn.execute(insert(models.Cluster.__table__), [{"id": cid, "name": "floor", "year": 2023,
                                                         "timezone": "Asia/Ho_Chi_Minh", "head_name": "",
                                                         "head_emails": [], "updated_at": datetime.now(UTC)}])
        district = conn.execute(insert(models.District.__table__).returning(models.District.__table__.c.id),
                                {"cluster_id": cid, "code": "X", "name": "X", "emails": [], "position": 0}
                                ).scalar_one()
        indicators = [conn.execute(insert(models.Indicator.__table__).returning(models.Indicator.__table__.c.id),
                                   {"cluster_id": cid, "key": f"k{i}", "label": "x", "label_en": "x", "unit": "",
                                    "kind": "count", "weight": 1.0, "deadline": None, "position": i}).scalar_one()
                      for i in range(5)]
    stmt_sub, stmt_fig = insert(sub).returning(sub.c.id), insert(fig)
    t = time.perf_counter()
    with ctx.engine.connect() as conn:
        conn.info["write"] = True
        for k in range(n):
            with conn.begin():
                sid = conn.execute(stmt_sub, {
                    "cluster_id": cid, "file_hash": uuid.uuid4().hex, "file_name": f"{k}.xlsx", "stored_path": "",
                    "source": "inbox", "sender": None, "message_id": None, "received_at": datetime.now(UTC),
                    "status": "accepted", "district_id": district, "as_of": JUNE_30, "sheet": "Báo cáo",
                    "error_count": 0, "warning_count": 0, "superseded_by_id": None}).scalar_one()
                conn.execute(stmt_fig, [{"cluster_id": cid, "submission_id": sid, "district_id": district,
                                         "indicator_id": i, "as_of": JUNE_30, "value": float(k), "period_value": None,
                                         "note": None, "sheet": "Báo cáo", "cell": f"F{9 + j}"}
                                        for j, i in enumerate(indicators)])
    elapsed = time.perf_counter() - t
    with ctx.engine.begin() as conn:
        for table in (fig, sub, models.Indicator.__table__, models.District.__table__):
            conn.execute(delete(table).where(table.c.cluster_id == cid))
        conn.execute(delete(models.Cluster.__table__).where(models.Cluster.__table__.c.id == cid))
    return elapsed


def _read_floor(ctx) -> tuple[float, int]:
    """The driver fetching one cluster's figures with their submission's date (what status must read)."""
    from sqlalchemy import text

    sql = text("SELECT f.submission_id, f.indicator_id, f.value, s.as_of, s.received_at FROM figure f "
               "JOIN submission s ON s.id = f.submission_id WHERE s.cluster_id = :cid AND s.status = 'accepted'")
    best = float("inf")
    rows = 0
    with ctx.engine.connect() as conn:
        for _ in range(5):
            t = time.perf_counter()
            rows = len(conn.execute(sql, {"cid": ctx.cluster_id}).all())
            best = min(best, time.perf_counter() - t)
    return best, rows


def _chart_floor(bars: int, dpi: int) -> float:
    """One bare horizontal bar chart of the reports' size with ``bars`` bars, saved as PNG (best of 3)."""
    from matplotlib.figure import Figure

    from tracker.reporting.charts import SIZE

    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        fig = Figure(figsize=SIZE, layout="constrained")
        ax = fig.add_subplot()
        ax.barh(range(bars), [50 + 7 * i for i in range(bars)])
        ax.set_yticks(range(bars), labels=[f"Đơn vị {i}" for i in range(bars)])
        ax.set_title("Tỷ lệ thực hiện theo đơn vị")
        fig.savefig(io.BytesIO(), format="png", dpi=dpi)
        best = min(best, time.perf_counter() - t)
    return best


PHASES = {"init": phase_init, "pull": phase_pull, "cycle": phase_cycle, "review": phase_review,
          "overview": phase_overview, "floors": phase_floors}


def child(args) -> None:
    import logging
    import resource

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    run = Path(args.run)
    result = PHASES[args.phase](run, args)
    _close_reader()
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result))


# -- the parent -----------------------------------------------------------------------------------------------------


def pg_create_database() -> tuple[str, str] | None:
    """A fresh PostgreSQL database for one benchmark run: (name, url), or None when no server answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tracker_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so and go on
        print(f"PostgreSQL not available ({str(exc).splitlines()[0]}): skipped", file=sys.stderr)
        return None
    return name, make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def pg_drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _load() -> float:
    return os.getloadavg()[0]


def bench_one(scale: str, backend: str, data: Path, workers: int) -> dict | None:
    fed = federation(scale)
    run = OUT / "run" / f"{scale}-{backend}"
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
        return _bench(fed, run, url, data, workers, backend)
    finally:
        if pg_name:
            from tracker.db import dispose_engines

            dispose_engines()
            pg_drop_database(pg_name)


def _bench(fed, run: Path, url: str, data: Path, workers: int, backend: str) -> dict:
    ids = [c.id for c in fed.clusters]
    write_configs(fed, run / "configs", url)
    loads = [_load()]
    r: dict = {"scale": fed.scale, "backend": backend, "clusters": len(ids), "districts": fed.districts,
               "workers": workers, "cpus": os.cpu_count()}
    say = lambda text: print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)  # noqa: E731

    r["init"] = asdict(phase(run, "init"))
    say(f"init {len(ids)} clusters: {r['init']['wall']:.1f} s")

    history = weeks()[:-1]
    single, parallel = ids[: len(ids) // 2], ids[len(ids) // 2:]
    single_files: list[Path] = []
    for group in (single, parallel):
        for cid in group:
            files = list(sheet_files(data, cid, history))
            deliver(files, run / "configs" / "data" / cid / "inbox")
            if group is single:
                single_files += files
    r["ingest_one"] = asdict(phase(run, "pull", "--clusters", ",".join(single), "--workers", "1"))
    loads.append(_load())
    say(f"ingest, one process: {r['ingest_one']['result']['files']} sheets in {r['ingest_one']['wall']:.1f} s")
    r["ingest_parallel"] = asdict(phase(run, "pull", "--clusters", ",".join(parallel), "--workers", str(workers)))
    loads.append(_load())
    say(f"ingest, {workers} processes: {r['ingest_parallel']['result']['files']} sheets in "
        f"{r['ingest_parallel']['wall']:.1f} s")

    list_file = run / "floor-files.txt"  # a per-sheet cost: 1,000 sheets are plenty
    list_file.write_text("\n".join(map(str, single_files[:: max(1, len(single_files) // 1000)])))
    r["floors"] = asdict(phase(run, "floors", "--files", str(list_file)))
    say("floors measured")

    for cid in ids:
        deliver(list(sheet_files(data, cid, [JUNE_30])), run / "configs" / "data" / cid / "inbox")
    r["cycle"] = asdict(phase(run, "cycle", "--workers", str(workers)))
    loads.append(_load())
    say(f"weekly cycle of {len(ids)} clusters: {r['cycle']['wall']:.1f} s")

    # The same work as fresh `tracker` processes (one command per cluster, as a cron line or a shell loop
    # would run it), and the memory of an idle scheduler (deploy/ runs one per cluster).
    config = run / "configs" / f"{ids[0]}.toml"
    tracker = [str(Path(sys.executable).parent / "tracker"), "--config", str(config)]
    cold = {"status": ["status", "--as-of", "30/06/2023", "--format", "json"], "pull": ["pull"],
            "weekly": ["report", "weekly", "--as-of", "30/06/2023", "-o", str(run / "cli-weekly")]}
    r["cold"] = {}
    for name, argv in cold.items():
        t = time.perf_counter()
        done = subprocess.run(tracker + argv, capture_output=True, text=True)
        r["cold"][name] = time.perf_counter() - t
        assert done.returncode == 0, done.stderr
    r["status_cli_s"] = r["cold"]["status"]
    r["scheduler_idle_mb"] = _idle_scheduler_mb(tracker)
    r["review"] = asdict(phase(run, "review", "--clusters", ids[0]))
    say(f"review pack: {r['review']['result']['seconds']:.1f} s")
    r["overview"] = asdict(phase(run, "overview"))
    loads.append(_load())
    r["load"] = loads
    return r


def _idle_scheduler_mb(tracker: list[str], seconds: float = 6.0) -> float:
    """RSS of `tracker scheduler run` (with its children) once started and idle."""
    import signal

    proc = subprocess.Popen(tracker + ["scheduler", "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, until = 0, time.monotonic() + seconds
    while time.monotonic() < until and proc.poll() is None:
        peak = max(peak, _tree(proc.pid)[0])
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return peak / 2**20


def _fmt_mb(mb: float) -> str:
    return f"{mb:,.0f} MB"


def report(r: dict) -> str:
    """The figures of one run, each beside its floor."""
    lines = []
    one, par, fl, cyc = r["ingest_one"], r["ingest_parallel"], r["floors"]["result"], r["cycle"]
    n1, n2 = one["result"]["files"], par["result"]["files"]
    rate1, rate2 = n1 / one["wall"], n2 / par["wall"]
    cal_ms = fl["calamine_s"] / fl["files"] * 1000
    ins_ms = fl["insert_s"] / fl["files"] * 1000
    rows = cyc["result"]["clusters"]
    weekly = [c["weekly_s"] for c in rows]
    status = [c["status_s"] for c in rows]
    pulls = [c["pull_s"] for c in rows]
    cycle_files = sum(c["pull"]["files"] or 0 for c in rows)
    charts = 6
    peak_tree = max(m["peak_tree_mb"] for m in (one, par, cyc, r["review"], r["init"]))
    peak_proc = max(m["peak_process_mb"] for m in (one, par, cyc, r["review"], r["init"]))
    load = r["load"]
    lines.append(f"== {r['scale']} on {r['backend']}: {r['clusters']} clusters, {r['districts']} districts; "
                 f"{r['cpus']} CPUs, load average {min(load):.1f}–{max(load):.1f} during the run ==")
    lines.append(f"init, every cluster in one process  {r['init']['wall']:7.2f} s")
    work1, work2 = n1 / one["result"]["work_s"], n2 / par["result"]["work_s"]
    lines.append(f"ingest, one process    {n1:6d} sheets {one['wall']:6.1f} s = {rate1:5.0f} sheets/s end to end, "
                 f"{work1:5.0f}/s after start-up ({one['cpu'] / n1 * 1000:.1f} ms CPU/sheet incl. reader worker; "
                 f"goal ≥ 100/s {'OK' if work1 >= 100 else 'MISSED'})")
    lines.append(f"ingest, {r['workers']} processes    {n2:5d} sheets {par['wall']:6.1f} s = {rate2:5.0f} sheets/s "
                 f"end to end, "
                 f"{work2:5.0f}/s after start-up ({work2 / r['workers']:.0f}/s per process, "
                 f"{par['cpu'] / n2 * 1000:.1f} ms CPU/sheet)")
    lines.append(f"   floors: calamine alone {cal_ms:.2f} ms/sheet ({1000 / cal_ms:.0f}/s), DB insert of the same rows "
                 f"{ins_ms:.2f} ms/sheet ({1000 / ins_ms:.0f}/s); one-process ingest after start-up is "
                 f"{1000 / work1 / (cal_ms + ins_ms):.1f}× their sum")
    lines.append(f"weekly cycle, {r['clusters']} clusters, {r['workers']} processes  {cyc['wall']:7.1f} s "
                 f"(CPU {cyc['cpu']:.0f} s): pull {cycle_files} sheets + status + weekly report & e-mail per cluster")
    lines.append(f"   per cluster (median): pull {statistics.median(pulls):.2f} s, "
                 f"status {statistics.median(status) * 1000:.0f} ms, "
                 f"weekly report {statistics.median(weekly):.2f} s (max {max(weekly):.2f} s); "
                 f"sum of weekly reports {sum(weekly):.0f} s")
    lines.append(f"   floor: matplotlib, {charts} bare charts of the same size {fl['chart_s'] * charts:.2f} s "
                 f"per cluster; SQL read of one cluster's {fl['sql_rows']} figures {fl['sql_read_s'] * 1000:.1f} ms")
    lines.append(f"status of one cluster, fresh `tracker status --format json` process {r['status_cli_s']:.2f} s "
                 f"(in-process {statistics.median(status) * 1000:.0f} ms)")
    cold = r["cold"]
    per = cold["pull"] + cold["status"] + cold["weekly"]
    lines.append(f"   the cycle as fresh processes per cluster: `pull` {cold['pull']:.2f} s + "
                 f"`status` {cold['status']:.2f} s + `report weekly` {cold['weekly']:.2f} s = {per:.1f} s → "
                 f"{r['clusters']} clusters, {r['workers']} at a time ≈ {per * r['clusters'] / r['workers']:.0f} s "
                 f"(estimate)")
    lines.append(f"   one idle `tracker scheduler run` {r['scheduler_idle_mb']:.0f} MB → one per cluster "
                 f"(deploy/cluster-tracker@.service) × {r['clusters']} ≈ "
                 f"{r['scheduler_idle_mb'] * r['clusters'] / 1024:.1f} GB before any job runs")
    rv = r["review"]["result"]
    lines.append(f"review pack of one cluster                {rv['seconds']:7.2f} s ({rv['charts']} charts; floor: "
                 f"matplotlib {rv['charts']} bare charts {fl['chart_review_s'] * rv['charts']:.2f} s)")
    ov = r["overview"]["result"]
    if ov.get("seconds") is not None:
        lines.append(f"overview of all {ov['clusters']} clusters (tracker overview)  {ov['seconds']:7.2f} s "
                     f"(sum of in-process status loads {sum(status):.2f} s)")
    lines.append(f"peak memory: whole process tree {_fmt_mb(peak_tree)}, largest process {_fmt_mb(peak_proc)} "
                 f"(goal < 1 GB {'OK' if peak_tree < 1024 else 'MISSED'})")
    if r["scale"] == "national":
        verdict = "OK" if cyc["wall"] < 300 else "MISSED"
        lines.append(f"national weekly cycle {cyc['wall']:.0f} s (goal < 300 s {verdict})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "city", "national"), default="city")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--clusters", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return

    started = time.perf_counter()
    data = generate(args.scale, OUT / args.scale, workers=args.workers)
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for backend in backends:
        print(f"{args.scale} on {backend}…", file=sys.stderr, flush=True)
        r = bench_one(args.scale, backend, data, args.workers)
        if r is None:
            continue
        (OUT / f"scale-{args.scale}-{backend}.json").write_text(json.dumps(r, indent=1, default=str))
        print(report(r), flush=True)
    print(f"(bench/scale.py --scale {args.scale} took {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
