"""The intake commands end to end: one line per file, exit codes 0/1/2, files moved out of the inbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

import pytest

from tests.conftest import PG_URL
from tests.intake_factory import KEYS, report_for, report_xlsx, without_named_styles

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def drop(path, data: bytes):
    """A file that has been sitting in the inbox for a while (not still being copied)."""
    path.write_bytes(data)
    stamp = time.time() - 3600
    os.utime(path, (stamp, stamp))


def test_ingest_prints_one_line_per_file_and_exits_1_when_one_is_rejected(ctx, cli, tmp_path):
    good = tmp_path / "HBT.xlsx"
    good.write_bytes(report_for("HBT", JUNE_30, FIGS))
    bad = tmp_path / "Tây Hồ.xlsx"
    bad.write_bytes(report_xlsx(district="Tây Hồ"))
    result = cli("ingest", good, bad)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "HBT.xlsx: đã chấp nhận (accepted) — HBT, 30/06/2023"
    assert lines[1].startswith("Tây Hồ.xlsx: bị từ chối (rejected) — 30/06/2023; lỗi (errors): Báo cáo!B4: ")
    assert len(lines) == 2 and "bao-cao-loi.txt" in result.stderr


def test_ingest_of_a_file_already_received_succeeds(ctx, cli, tmp_path):
    good = tmp_path / "HBT.xlsx"
    good.write_bytes(report_for("HBT", JUNE_30, FIGS))
    assert cli("ingest", good).exit_code == 0
    again = cli("ingest", good)
    assert again.exit_code == 0 and "đã nhận trước đó (already received)" in again.stdout


def test_ingest_of_a_missing_file_is_a_usage_error(ctx, cli, tmp_path):
    result = cli("ingest", tmp_path / "nope.xlsx")
    assert result.exit_code == 2 and "nope.xlsx" in result.stderr and result.stdout == ""


def test_ingest_of_a_folder_takes_the_files_directly_in_it_in_name_order(ctx, cli, tmp_path):
    folder = tmp_path / "bao cao tuan 26"
    (folder / "cu").mkdir(parents=True)
    (folder / "cu" / "HK.xlsx").write_bytes(report_for("HK", JUNE_30, FIGS))  # a subfolder: not searched
    (folder / "b HM.xlsx").write_bytes(report_for("HM", JUNE_30, FIGS))
    (folder / "a HBT.xlsx").write_bytes(report_for("HBT", JUNE_30, FIGS))
    (folder / "c LB").write_bytes(report_for("LB", JUNE_30, FIGS))  # no extension: content decides
    for skipped in ("~$a HBT.xlsx", ".~lock.b HM.xlsx#", ".DS_Store", "d.xlsx.part"):
        (folder / skipped).write_bytes(b"x")
    result = cli("ingest", folder)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["a HBT.xlsx: đã chấp nhận (accepted) — HBT, 30/06/2023",
                                          "b HM.xlsx: đã chấp nhận (accepted) — HM, 30/06/2023",
                                          "c LB: đã chấp nhận (accepted) — LB, 30/06/2023"]


def test_ingest_of_a_folder_with_no_file_says_so(ctx, cli, tmp_path):
    folder = tmp_path / "trống"
    (folder / "cu").mkdir(parents=True)
    (folder / "~$HBT.xlsx").write_bytes(b"lock")
    result = cli("ingest", folder)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"Không có tệp nào để nhận trong thư mục: {folder}" in result.stderr
    assert f"No file to ingest in folder: {folder}" in result.stderr


def test_ingest_before_init_asks_for_init(cli, tmp_path):
    good = tmp_path / "HBT.xlsx"
    good.write_bytes(report_for("HBT", JUNE_30, FIGS))
    result = cli("ingest", good)
    assert result.exit_code == 2 and "tracker init" in result.stderr


def test_pull_moves_every_file_by_content_and_leaves_temporary_ones(ctx, cli):
    inbox = ctx.settings.paths.inbox
    inbox.mkdir(parents=True)
    hm = report_for("HM", JUNE_30, FIGS)
    drop(inbox / "bao cao tuan 26", hm)  # no extension: content decides
    drop(inbox / "DD.xlsx", report_xlsx(district="DD", as_of="31/06/2023"))
    drop(inbox / "readme.txt", b"not a workbook")
    drop(inbox / "~$DD.xlsx", b"lock")
    drop(inbox / ".hidden.xlsx", report_for("HK", JUNE_30, FIGS))
    (inbox / "just copied.xlsx").write_bytes(report_for("LB", JUNE_30, FIGS))  # written just now
    result = cli("pull")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("[inbox] ") for line in lines)
    assert "bao cao tuan 26: đã chấp nhận (accepted) — HM" in result.stdout
    assert "just copied.xlsx: đã chấp nhận (accepted) — LB" in result.stdout  # after waiting for it to settle
    assert "DD.xlsx: bị từ chối (rejected)" in result.stdout and "readme.txt: bị từ chối" in result.stdout
    assert sorted(p.name for p in inbox.iterdir()) == [".hidden.xlsx", "~$DD.xlsx"]
    assert "2 chấp nhận (accepted)" in result.stderr and "2 bị từ chối (rejected)" in result.stderr
    archived = list(ctx.settings.paths.archive.rglob("*bao cao tuan 26"))
    assert len(archived) == 1 and archived[0].read_bytes() == hm
    quarantined = {p.name for p in ctx.settings.paths.quarantine.rglob("*") if p.is_file()}
    assert {"DD.xlsx", "readme.txt", "DD_can-sua.xlsx", "bao-cao-loi.txt"} <= quarantined


def test_pull_names_a_file_still_being_written_and_leaves_it_for_next_time(ctx, cli):
    from tests.test_intake_pull import still_writing

    inbox = ctx.settings.paths.inbox
    inbox.mkdir(parents=True)
    with still_writing(inbox / "HK.xlsx", every=0.2):
        result = cli("pull")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ("[inbox] HK.xlsx: đang được ghi, sẽ nhận ở lần sau "
                             "(still being written, will be taken next time)\n")
    assert "1 tệp (files): 0 chấp nhận" in result.stderr and "1 đang được ghi (still being written)" in result.stderr
    assert [p.name for p in inbox.iterdir()] == ["HK.xlsx"]


def make_unwritable(folder) -> None:
    """A folder nothing can be written into. Root ignores permission bits, so there it becomes a file:
    creating a district folder under it fails just the same."""
    if os.geteuid() != 0:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o500)
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_bytes(b"")


def test_pull_says_in_one_line_why_a_file_could_not_be_archived_and_keeps_the_traceback_for_debug(ctx, cli):
    inbox, archive = ctx.settings.paths.inbox, ctx.settings.paths.archive
    inbox.mkdir(parents=True)
    drop(inbox / "HBT.xlsx", report_for("HBT", JUNE_30, FIGS))
    make_unwritable(archive)
    try:
        result = cli("pull")
        debug = cli("--debug", "pull")
    finally:
        if archive.is_dir():
            archive.chmod(0o700)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"[inbox] HBT.xlsx: không xử lý được (failed): không đọc hay ghi được "
                                    f"{archive / 'HBT'}: ")
    assert len(result.stdout.splitlines()) == 1 and f" / cannot read or write {archive / 'HBT'}: " in result.stdout
    assert "Error" not in result.stdout  # no exception class names
    assert result.stderr.splitlines() == [result.stderr.strip()] and "1 lỗi xử lý (failed)" in result.stderr
    assert "Traceback" in debug.stderr and debug.stdout == result.stdout
    assert [p.name for p in inbox.iterdir()] == ["HBT.xlsx"]  # left for the next pull


@pytest.fixture
def database_refusing_writes(ctx):
    """The real database refusing writes from now on: SQLite with no room to grow (``max_page_count``:
    "database or disk is full", the error of a full disk), PostgreSQL in read-only transactions."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def refuse(dbapi_conn, _record, _proxy):
        cur = dbapi_conn.cursor()
        if PG_URL:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        else:
            pages = cur.execute("PRAGMA page_count").fetchone()[0]
            cur.execute(f"PRAGMA max_page_count={pages}")
        cur.close()

    event.listen(Pool, "checkout", refuse)
    yield "cơ sở dữ liệu chỉ cho phép đọc" if PG_URL else "cơ sở dữ liệu hoặc ổ đĩa đã đầy"
    event.remove(Pool, "checkout", refuse)


def test_ingest_into_a_full_database_says_so_in_one_line_without_sqlalchemy_details(database_refusing_writes, cli,
                                                                                     tmp_path):
    sheet = tmp_path / "HBT.xlsx"  # long notes: storing them needs new pages
    sheet.write_bytes(report_for("HBT", JUNE_30, FIGS, notes={k: "ghi chú dài " * 800 for k in KEYS}))
    result = cli("ingest", sheet)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"HBT.xlsx: không xử lý được (failed): lỗi cơ sở dữ liệu: "
                                    f"{database_refusing_writes} / database error: ")
    assert len(result.stdout.splitlines()) == 1, result.stdout
    for noise in ("Background on this error", "sqlalche.me", "[SQL:", "Traceback"):
        assert noise not in result.stdout + result.stderr


def test_a_rejected_gnumeric_workbook_prints_no_openpyxl_warning(ctx, config_path, tmp_path):
    sheet = tmp_path / "Tây Hồ.xlsx"
    sheet.write_bytes(without_named_styles(report_xlsx(district="Tây Hồ")))
    done = subprocess.run([sys.executable, "-c", "from tracker.cli import main; main()", "--config", str(config_path),
                           "ingest", str(sheet)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout.startswith("Tây Hồ.xlsx: bị từ chối (rejected)"), done.stderr
    annotated = list(ctx.settings.paths.quarantine.rglob("*_can-sua.xlsx"))
    assert len(annotated) == 1  # the highlighted copy, for which openpyxl opened the upload
    assert "Warning" not in done.stderr and "openpyxl" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [f"  → báo cáo lỗi / error report: {annotated[0].parent / 'bao-cao-loi.txt'}"]


def test_pull_of_an_empty_inbox_succeeds(ctx, cli):
    result = cli("pull")
    assert result.exit_code == 0 and result.stdout == ""


def test_template_command_writes_the_workbook(ctx, cli, tmp_path):
    out = tmp_path / "hbt.xlsx"
    result = cli("template", "Hai Bà Trưng", "--as-of", "30/06/2023", "-o", out)
    assert result.exit_code == 0 and result.stdout.strip() == str(out) and out.stat().st_size > 0
    assert cli("template", "XYZ", "-o", out).exit_code == 2
    assert cli("template", "HBT", "--as-of", "31/06/2023").exit_code == 2
    assert cli("template", "HBT", "--as-of", "05/01/2025", "-o", out).exit_code == 2  # no 2025 targets
    # the year after [cluster] year takes sheets (the first January weeks, before the switch)
    assert cli("template", "HBT", "--as-of", "05/01/2024", "-o", out).exit_code == 0
    from openpyxl import load_workbook

    assert "01/01/2024" in " ".join(str(c.value) for row in load_workbook(out).worksheets[-1].iter_rows()
                                    for c in row if c.value)


def test_targets_template_and_import_commands(ctx, cli, tmp_path):
    import io

    from openpyxl import load_workbook

    path = tmp_path / "chi-tieu.xlsx"
    assert cli("targets", "template", "-o", path).exit_code == 0
    wb = load_workbook(path)
    wb["Chỉ tiêu đăng ký"]["C7"] = 33
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    result = cli("targets", "import", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 chỉ tiêu mới (new)" in result.stdout and "HBT new_unions = 33" in result.stdout
    wb["Chỉ tiêu đăng ký"]["C8"] = "nhiều"
    wb.save(path)
    bad = cli("targets", "import", path)
    assert bad.exit_code == 1 and "Chỉ tiêu đăng ký!C8" in bad.stdout
