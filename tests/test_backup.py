"""Backups and restore on the real database (SQLite file, or PostgreSQL with pg_dump) and real files.

A backup is taken while a real `tracker ingest` process stores sheets; restored installs are checked by
`tracker verify`, `tracker status` and the weekly report; damaged backups are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, write_config
from tests.intake_factory import report_for
from tracker.backup.manifest import MANIFEST, loads
from tracker.backup.restore import DamagedBackup, check_backup, restore_backup
from tracker.backup.take import take_backup
from tracker.config import load_settings
from tracker.context import init_database, open_context
from tracker.intake.ingest import ingest_bytes
from tracker.workflows.verify import verify_archive

TRACKER = str(Path(sys.executable).parent / "tracker")
JUNE_30 = date(2023, 6, 30)
DISTRICTS = ("HBT", "HM", "BD", "LB", "HK", "DD")


def figures(week: int, i: int = 0) -> dict:
    return {"new_unions": week + i, "agreements": week // 2, "congresses": 2 * week, "new_members": 50 * week + i,
            "union_fees": 80.5 * week}


def sheets(count: int, rejected_every: int = 0) -> list[tuple[str, bytes]]:
    """``count`` distinct weekly sheets of the six districts, the last week ending 30/06/2023; every n-th has a
    fraction in a count (rejected)."""
    out = []
    weeks = -(-count // 6)
    for n in range(count):
        district, week = DISTRICTS[n % 6], n // 6 + 1
        figs = figures(week, n)
        if rejected_every and n % rejected_every == rejected_every - 1:
            figs["new_unions"] = 12.5
        as_of = JUNE_30 - timedelta(weeks=weeks - week)
        out.append((f"{district} tuần {week}.xlsx", report_for(district, as_of, figs)))
    return out


def make_ctx(folder: Path, db_url: str, **replace: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = write_config(folder, db_url, replace=replace or None)
    ctx = open_context(settings=load_settings(path, env={}))
    init_database(ctx)
    return ctx


@pytest.fixture
def new_pg_databases():
    """Makes new, empty PostgreSQL databases (restore targets); drops them at the end."""
    made: list[str] = []
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT") if PG_URL else None

    def make() -> str:
        name = f"tracker_restore_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        from tracker.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def restored_context(backup: Path, target: Path, new_pg_databases):
    """Restore ``backup`` into ``target`` (and a new database on PostgreSQL); a Context on the restored copy."""
    url = new_pg_databases() if PG_URL else None
    restored = restore_backup(backup, target, database_url=url)
    settings = load_settings(restored.config, env={"TRACKER_DATABASE_URL": url or f"sqlite:///{restored.database}"})
    return open_context(settings=settings)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- what a backup holds ----------------------------------------------------------------------------------------

def test_a_backup_holds_the_database_files_config_and_a_manifest_of_every_file(ctx, tmp_path):
    for name, data in sheets(4, rejected_every=4):
        ingest_bytes(ctx, data, name)
    report = take_backup(ctx, tmp_path / "backups")

    folder = report.path
    assert folder.parent == tmp_path / "backups" and folder.name.startswith("cum-1-")
    manifest = loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest.counts == {"submissions": 4, "accepted": 3, "figures": 15, "archive_files": 3,
                               "quarantine_files": 3}  # a rejected sheet: original, error report, annotated copy
    assert manifest.database["dialect"] == ("postgresql" if PG_URL else "sqlite")
    assert manifest.database["revision"] and manifest.database["clusters"] == ["cum-1"]
    assert manifest.product_version == "0.1.0"
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted([*manifest.files, MANIFEST])
    for name, entry in manifest.files.items():
        assert sha256(folder / name) == entry.sha256 and (folder / name).stat().st_size == entry.size
    assert (folder / "config" / "config.toml").read_bytes() == ctx.settings.source.read_bytes()
    archived = sorted(p.relative_to(ctx.settings.paths.archive).as_posix()
                      for p in ctx.settings.paths.archive.rglob("*") if p.is_file())
    assert sorted(n.removeprefix("archive/") for n in manifest.files if n.startswith("archive/")) == archived
    assert not [p for p in (tmp_path / "backups").iterdir() if p.name.startswith(".")]  # no partial left


def test_backup_then_restore_gives_the_same_status_and_weekly_report(ctx, cli, tmp_path, new_pg_databases):
    for name, data in sheets(30, rejected_every=7):
        ingest_bytes(ctx, data, name)
    done = cli("backup")
    assert done.exit_code == 0, done.stderr
    backup = Path(done.stdout.strip())
    assert backup.parent == ctx.settings.backup.dir == tmp_path / "data" / "backups"

    target = tmp_path / "elsewhere" / "khôi phục"
    args = ["restore", str(backup), "--to", str(target)]
    if PG_URL:
        args += ["--database-url", new_pg_databases()]
    done = cli(*args, config=None)  # a dead disk leaves no config: restore needs none
    assert done.exit_code == 0, done.stderr
    config = target / "config.toml"
    _apply_printed_changes(done.stdout, config)
    assert f"tracker --config {config} status" in done.stdout

    def outputs(config_path: Path | None, folder: Path):
        status = cli("status", "--as-of", "30/06/2023", "--format", "json", config=config_path)
        weekly = cli("report", "weekly", "--as-of", "30/06/2023", "-o", str(folder), config=config_path)
        assert status.exit_code == 0 and weekly.exit_code == 0, status.stderr + weekly.stderr
        body = _MADE_AT.sub("(made at)", (folder / "email.txt").read_text(encoding="utf-8"))
        return json.loads(status.stdout), _workbook_values(folder), body

    before = outputs(ctx.settings.source, tmp_path / "weekly-before")
    after = outputs(config, tmp_path / "weekly-after")
    assert sum(d["reported_this_week"] for d in before[0]["districts"]) >= 5
    assert after == before
    assert cli("verify", config=config).exit_code == 0
    # The copy proves its figures from its own archive, not from the live one its records name.
    next((target / "data" / "archive").rglob("*.xlsx")).unlink()
    done = cli("verify", config=config)
    assert done.exit_code == 1 and "the archived file is missing" in done.stdout
    assert str(target / "data" / "archive") in done.stdout


def _apply_printed_changes(printed: str, config: Path) -> None:
    """Do what `tracker restore` says: set the printed keys in the restored config."""
    section, changes = None, {}
    for line in printed.splitlines():
        if m := re.fullmatch(r"  \[(\w+)\]", line):
            section = m.group(1)
        elif (m := re.fullmatch(r'  (\w+) = "(.*)"', line)) and section:
            changes[(section, m.group(1))] = m.group(2)
    content, current = [], None
    for line in config.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\[(\w+)\]", line):
            current = m.group(1)
        key = line.split("=", 1)[0].strip()
        if (current, key) in changes:
            line = f'{key} = "{changes.pop((current, key))}"'
        content.append(line)
    assert not changes, changes
    config.write_text("\n".join(content) + "\n", encoding="utf-8")


# When the report was made (not what it says): "Lập lúc 30/06/2023 08:00", "…được chấp nhận, lúc 08:00 30/06/2023".
_MADE_AT = re.compile(r"(Lập lúc \d\d/\d\d/\d{4} \d\d:\d\d|chấp nhận, lúc \d\d:\d\d \d\d/\d\d/\d{4})")


def _workbook_values(folder: Path) -> dict:
    from openpyxl import load_workbook

    (path,) = folder.glob("*.xlsx")
    book = load_workbook(path)
    return {ws.title: [[_MADE_AT.sub("(made at)", c.value) if isinstance(c.value, str) else c.value for c in row]
                       for row in ws.iter_rows()] for ws in book.worksheets}


# -- consistency while sheets arrive ------------------------------------------------------------------------------

def test_a_backup_taken_while_an_ingest_runs_is_consistent(tmp_path, db_url, new_pg_databases):
    ctx = make_ctx(tmp_path / "live", db_url, **{"keep = 14": "keep = 1000"})
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    files = []
    for name, data in sheets(150, rejected_every=10):
        path = incoming / name
        path.write_bytes(data)
        files.append(str(path))
    ingest = subprocess.Popen([TRACKER, "--config", str(ctx.settings.source), "ingest", *files],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    taken = []
    try:
        while ingest.poll() is None:
            taken.append(take_backup(ctx, tmp_path / "backups"))
    finally:
        stderr = ingest.communicate(timeout=120)[1]
    assert ingest.returncode == 1, stderr  # 15 sheets rejected, as meant
    taken.append(take_backup(ctx, tmp_path / "backups"))

    during = [r for r in taken if 0 < r.manifest.counts["submissions"] < 150]
    assert during, [r.manifest.counts for r in taken]  # the ingest really ran while backups were taken
    for report in taken:  # each sheet of the snapshot has its own file in the backup: original (+ 2 if rejected)
        c = report.manifest.counts
        assert c["archive_files"] >= c["accepted"], c
        assert c["quarantine_files"] >= 3 * (c["submissions"] - c["accepted"]), c
    checked = [*during[:: max(1, len(during) // 3)][:3], taken[-1]]
    for i, report in enumerate(checked):
        restored = restored_context(report.path, tmp_path / f"restored-{i}", new_pg_databases)
        counts = report.manifest.counts
        with restored.engine.connect() as conn:
            per_submission = conn.execute(text(
                "SELECT s.id, s.status, s.stored_path, count(f.id) FROM submission s "
                "LEFT JOIN figure f ON f.submission_id = s.id GROUP BY s.id, s.status, s.stored_path")).all()
        assert len(per_submission) == counts["submissions"]
        for _sid, status, stored, n in per_submission:
            assert n == (5 if status == "accepted" else 0)  # every submission has all its figures
            if status == "rejected":  # its quarantined original came along too
                assert (restored.settings.paths.quarantine / Path(stored).parent.name / Path(stored).name).is_file()
        result = verify_archive(restored)  # every accepted sheet's file is there, with the bytes received
        assert result.ok, [d.text() for d in result.differences]
        assert result.files == counts["accepted"] and result.figures == counts["figures"]
    assert taken[-1].manifest.counts == {"submissions": 150, "accepted": 135, "figures": 675, "archive_files": 135,
                                         "quarantine_files": 45}


# -- damage, rotation, links --------------------------------------------------------------------------------------

def _flip_one_byte(path: Path, at: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[min(at, len(data) - 1)] ^= 0x01
    path.unlink()  # a new file: the previous backup's hard link to the old content stays intact
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("victim", ["archive", "database", "config", "manifest"])
def test_a_backup_with_one_byte_changed_is_refused_naming_the_file(ctx, cli, tmp_path, victim):
    for name, data in sheets(3):
        ingest_bytes(ctx, data, name)
    backup = take_backup(ctx, tmp_path / "backups").path
    manifest = loads((backup / MANIFEST).read_text(encoding="utf-8"))
    name = {"archive": next(n for n in manifest.files if n.startswith("archive/")),
            "database": manifest.database["file"], "config": "config/config.toml", "manifest": MANIFEST}[victim]
    _flip_one_byte(backup / name, at=40)

    target = tmp_path / "restored"
    done = cli("restore", str(backup), "--to", str(target), config=None)
    assert done.exit_code == 1
    assert f"{name}: " in done.stderr and "bị hỏng" in done.stderr and "damaged" in done.stderr
    assert not target.exists()
    with pytest.raises(DamagedBackup):
        check_backup(backup)


def test_a_file_missing_from_a_backup_or_added_to_it_is_named(ctx, tmp_path):
    for name, data in sheets(2):
        ingest_bytes(ctx, data, name)
    backup = take_backup(ctx, tmp_path / "backups").path
    archived = sorted((backup / "archive").rglob("*.xlsx"))
    archived[0].unlink()
    (backup / "archive" / "thêm.xlsx").write_bytes(b"x")
    with pytest.raises(DamagedBackup) as caught:
        check_backup(backup)
    text_ = "\n".join(caught.value.lines)
    assert archived[0].relative_to(backup).as_posix() + ": thiếu tệp" in text_
    assert "archive/thêm.xlsx: tệp lạ" in text_


def test_restore_never_writes_into_a_folder_that_is_not_empty(ctx, cli, tmp_path):
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    backup = take_backup(ctx, tmp_path / "backups").path
    live = tmp_path / "live"
    live.mkdir()
    (live / "tracker.db").write_bytes(b"live data")
    done = cli("restore", str(backup), "--to", str(live), config=None)
    assert done.exit_code == 2 and "not empty" in done.stderr
    assert [p.name for p in live.iterdir()] == ["tracker.db"] and (live / "tracker.db").read_bytes() == b"live data"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("restore", str(backup), "--to", str(empty), config=None).exit_code == 0  # an empty folder will do


def test_restore_without_a_target_makes_a_new_folder_named_after_the_backup(ctx, cli, tmp_path, monkeypatch):
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    backup = take_backup(ctx, tmp_path / "backups").path
    monkeypatch.chdir(tmp_path)
    done = cli("restore", str(backup), config=None)
    assert done.exit_code == 0, done.stderr
    target = tmp_path / f"restored-{backup.name}"
    assert done.stdout.startswith(f"Đã khôi phục vào / restored into {target}\n")
    assert (target / "config.toml").is_file() and len(list((target / "data" / "archive").rglob("*.xlsx"))) == 1
    assert cli("restore", str(backup), config=None).exit_code == 2  # the second time it is not empty any more


def test_unchanged_files_are_linked_from_the_previous_backup_and_only_the_newest_are_kept(tmp_path, db_url):
    ctx = make_ctx(tmp_path / "live", db_url, **{"keep = 14": "keep = 2"})
    batches = sheets(9)
    for name, data in batches[:6]:
        ingest_bytes(ctx, data, name)
    first = take_backup(ctx)
    for name, data in batches[6:]:
        ingest_bytes(ctx, data, name)
    second = take_backup(ctx)
    assert (first.stats.copied, first.stats.linked) == (6, 0)
    assert (second.stats.copied, second.stats.linked) == (3, 6)  # only the three new sheets copied
    for name in first.manifest.files:
        if name.startswith("archive/"):
            assert (first.path / name).stat().st_ino == (second.path / name).stat().st_ino
    live_file = next(ctx.settings.paths.archive.rglob("*.xlsx"))
    assert all(live_file.stat().st_ino != (b / "archive" / live_file.relative_to(ctx.settings.paths.archive)).stat()
               .st_ino for b in (first.path, second.path))  # never linked to the live archive

    third = take_backup(ctx)
    assert third.deleted == [first.path] and not first.path.exists()
    assert sorted(p.name for p in ctx.settings.backup.dir.iterdir()) == sorted([second.path.name, third.path.name])
    assert check_backup(second.path) and check_backup(third.path)  # each one complete on its own
    shutil.rmtree(second.path)
    assert check_backup(third.path).counts["archive_files"] == 9


def test_an_unfinished_backup_is_never_taken_for_one_and_is_cleared_next_time(ctx, tmp_path):
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    root = tmp_path / "backups"
    dead = root / ".cum-1-20230630-233000.partial"
    (dead / "archive").mkdir(parents=True)
    (dead / "archive" / "half.xlsx").write_bytes(b"half")
    other = root / ".cum-2-20230630-233000.partial"  # another cluster's, maybe being written right now
    other.mkdir()
    report = take_backup(ctx, root)
    assert report.previous is None and not dead.exists() and other.exists()

    broken = make_ctx(tmp_path / "broken", db_url="sqlite:///" + str(tmp_path / "broken" / "tracker.db"))
    (tmp_path / "broken" / "tracker.db").unlink()
    from tracker.errors import TrackerError

    with pytest.raises(TrackerError):
        take_backup(broken, root)
    assert sorted(p.name for p in root.iterdir()) == sorted([report.path.name, other.name])


# -- the job ------------------------------------------------------------------------------------------------------

def test_the_backup_job_runs_and_is_recorded_in_jobs_list(ctx, cli, tmp_path):
    from tests.test_scheduler import drop_job_stores

    drop_job_stores(ctx.engine)
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    done = cli("jobs", "run", "backup")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("backup: thành công / ok")
    listed = json.loads(cli("jobs", "list", "--format", "json").stdout)
    job = next(j for j in listed["jobs"] if j["name"] == "backup")
    assert job["schedule"] == ["30 23 * * *"] and job["next_run"].endswith("23:30:00+07:00")
    assert job["last_run"]["outcome"] == "ok" and job["last_run"]["trigger"] == "manual"
    counts = job["last_run"]["counts"]
    assert counts["submissions"] == 1 and counts["figures"] == 5 and counts["copied"] == 1
    (made,) = list(ctx.settings.backup.dir.iterdir())
    assert counts["backup"] == made.name
    table = cli("jobs", "list").stdout
    assert re.search(r"^backup\s+30 23 \* \* \*", table, re.M)


def test_a_backup_while_another_runs_is_refused(ctx, cli):
    from jobs.lock import job_lock

    with job_lock(ctx, "backup"):
        done = cli("backup")
    assert done.exit_code == 2 and "backup" in done.stderr


# -- PostgreSQL only ----------------------------------------------------------------------------------------------

pg_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set TRACKER_TEST_DATABASE_URL")


@pg_only
def test_without_pg_dump_on_the_path_the_backup_names_what_is_missing(ctx, cli, tmp_path, monkeypatch):
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    done = cli("backup", "--to", str(tmp_path / "backups"))
    assert done.exit_code == 2
    assert "pg_dump" in done.stderr and "postgresql-client" in done.stderr
    assert list((tmp_path / "backups").iterdir()) == []


@pg_only
def test_a_postgresql_restore_goes_only_into_an_empty_database(ctx, cli, tmp_path, new_pg_databases):
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    backup = take_backup(ctx, tmp_path / "backups").path
    done = cli("restore", str(backup), "--to", str(tmp_path / "r1"), "--database-url", ctx.settings.database.url,
               config=None)
    assert done.exit_code == 2 and "empty database" in done.stderr and not (tmp_path / "r1").exists()

    done = cli("restore", str(backup), "--to", str(tmp_path / "r2"), config=None)  # no database given
    assert done.exit_code == 0
    assert "createdb" in done.stdout and "pg_restore --no-owner" in done.stdout
    assert (tmp_path / "r2" / "data" / "database.pgdump").is_file()
    url = new_pg_databases()
    command = next(line.strip() for line in done.stdout.splitlines() if line.strip().startswith("pg_restore"))
    dbname = make_url(url).database
    command = re.sub(r"--dbname=\S+", f"--dbname={make_url(url).set(drivername='postgresql').render_as_string(False)}",
                     command)
    assert subprocess.run(command, shell=True, env=os.environ).returncode == 0  # the printed command works
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM figure")).scalar() == 5, dbname


def test_restore_names_the_working_folders_the_copy_still_shares_with_the_live_installation(tmp_path, db_url, cli):
    inbox = tmp_path / "shared-inbox"
    ctx = make_ctx(tmp_path / "live", db_url, **{'inbox = "data/inbox"': f'inbox = "{inbox}"'})
    ingest_bytes(ctx, sheets(1)[0][1], "a.xlsx")
    backup = take_backup(ctx).path
    done = cli("restore", str(backup), "--to", str(tmp_path / "copy"), config=None)
    assert done.exit_code == 0, done.stderr
    assert "still the live installation's" in done.stdout and f"  paths.inbox = {inbox}\n" in done.stdout
    assert "paths.reports" not in done.stdout  # reports/ is relative to the config: inside the copy
