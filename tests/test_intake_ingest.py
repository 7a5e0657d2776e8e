"""Storing verdicts: accepted figures with lineage, duplicates, versions, quarantine with report and
annotated copy, rejected bytes rejected again. Real database (SQLite file or PostgreSQL), real files."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from tests.intake_factory import ExcelError, report_for, report_xlsx, xlsx_bytes
from tracker import models
from tracker.intake.ingest import format_result, ingest_bytes

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def submissions(ctx):
    with ctx.session() as s:
        return s.exec(select(models.Submission).order_by(models.Submission.id)).all()


def test_an_accepted_file_stores_its_figures_with_lineage_and_archives_the_bytes(ctx):
    data = report_for("HBT", JUNE_30, FIGS)
    result = ingest_bytes(ctx, data, "HBT tuần 26.xlsx", received_at=at(JUNE_30))
    assert result.status == "accepted" and result.findings == []
    assert (result.district, result.as_of) == ("HBT", JUNE_30)
    assert result.stored_path.read_bytes() == data
    assert result.stored_path.is_relative_to(ctx.settings.paths.archive)
    with ctx.session() as s:
        sub = s.get(models.Submission, result.submission_id)
        assert sub.status == "accepted" and sub.sheet == "Báo cáo" and sub.file_name == "HBT tuần 26.xlsx"
        assert len(sub.file_hash) == 64 and sub.stored_path == str(result.stored_path)
        figs = s.exec(select(models.Figure, models.Indicator.key).join(models.Indicator)).all()
    lineage = {key: (f.value, f.sheet, f.cell, f.as_of) for f, key in figs}
    assert lineage["new_unions"] == (19, "Báo cáo", "E9", JUNE_30)
    assert lineage["union_fees"] == (2100.5, "Báo cáo", "E13", JUNE_30)
    assert format_result(result) == "HBT tuần 26.xlsx: đã chấp nhận (accepted) — HBT, 30/06/2023"


def test_the_same_bytes_again_are_already_received_and_add_nothing(ctx):
    data = report_for("HBT", JUNE_30, FIGS)
    first = ingest_bytes(ctx, data, "a.xlsx")
    again = ingest_bytes(ctx, data, "a-copy.xlsx", source="inbox")
    assert again.status == "duplicate" and again.ok
    assert again.submission_id == first.submission_id and again.stored_path == first.stored_path
    assert len(submissions(ctx)) == 1
    assert "đã nhận trước đó (already received)" in format_result(again)


def test_a_new_file_for_the_same_district_and_date_is_a_new_version_and_the_old_one_is_kept(ctx):
    first = ingest_bytes(ctx, report_for("LB", JUNE_30, FIGS), "v1.xlsx", received_at=at(JUNE_30, 9))
    second = ingest_bytes(ctx, report_for("LB", JUNE_30, {**FIGS, "new_unions": 20}), "v2.xlsx",
                          received_at=at(JUNE_30, 11))
    assert second.status == "accepted" and second.superseded_id == first.submission_id
    rows = {s.id: s for s in submissions(ctx)}
    assert rows[first.submission_id].superseded_by_id == second.submission_id
    assert rows[second.submission_id].superseded_by_id is None
    with ctx.session() as s:
        assert len(s.exec(select(models.Figure)).all()) == 10  # nothing deleted


def test_a_version_received_earlier_than_the_current_one_does_not_replace_it(ctx):
    current = ingest_bytes(ctx, report_for("LB", JUNE_30, FIGS), "v2.xlsx", received_at=at(JUNE_30, 11))
    older = ingest_bytes(ctx, report_for("LB", JUNE_30, {**FIGS, "agreements": 9}), "v1.xlsx",
                         received_at=at(JUNE_30, 9))
    rows = {s.id: s for s in submissions(ctx)}
    assert rows[older.submission_id].superseded_by_id == current.submission_id
    assert rows[current.submission_id].superseded_by_id is None


def test_a_rejected_file_is_quarantined_with_a_report_and_an_annotated_copy(ctx):
    from openpyxl import load_workbook

    data = report_xlsx(district="HBT", as_of="31/06/2023", figures={"new_unions": "12,5",
                                                                     "agreements": ExcelError("#N/A")})
    result = ingest_bytes(ctx, data, "HBT.xlsx", received_at=at(JUNE_30))
    assert result.status == "rejected" and not result.ok
    assert [(f.code, f.cell) for f in result.errors] == [
        ("date_invalid", "Báo cáo!B5"), ("value_fractional", "Báo cáo!E9"), ("excel_error", "Báo cáo!E10")]
    folder = result.stored_path.parent
    assert folder.parent == ctx.settings.paths.quarantine
    assert result.stored_path.read_bytes() == data
    report = result.report_path.read_text(encoding="utf-8")
    vi, en = report.index("Lỗi:"), report.index("Errors:")
    assert vi < en and "Báo cáo!B5: Ngày '31/06/2023' không hợp lệ" in report
    assert "Báo cáo!B5: '31/06/2023' is not a valid date" in report
    wb = load_workbook(result.annotated_path)
    ws = wb["Báo cáo"]
    assert ws["B5"].fill.fgColor.rgb.endswith("FFC7CE") and "31/06/2023" in ws["B5"].comment.text
    assert ws["E10"].comment is not None and ws["E4"].comment is None
    with ctx.session() as s:
        assert s.exec(select(models.Figure)).all() == []
        stored = s.exec(select(models.Finding).order_by(models.Finding.id)).all()
    assert [(f.severity, f.code, f.sheet, f.cell) for f in stored][0] == ("error", "date_invalid", "Báo cáo", "B5")
    line = format_result(result)
    assert line.startswith("HBT.xlsx: bị từ chối (rejected) — HBT; lỗi (errors): Báo cáo!B5: Ngày")


def test_bytes_rejected_before_are_rejected_again_with_the_same_errors(ctx):
    data = report_xlsx(district="Tây Hồ")
    first = ingest_bytes(ctx, data, "x.xlsx")
    again = ingest_bytes(ctx, data, "x (1).xlsx")
    assert again.status == "rejected" and again.repeated
    assert [(f.code, f.cell, f.message_vi) for f in again.findings] == [
        (f.code, f.cell, f.message_vi) for f in first.findings]
    assert again.submission_id == first.submission_id and len(submissions(ctx)) == 1
    assert again.report_path == first.report_path and again.annotated_path == first.annotated_path


def cluster_lock_is_free(ctx) -> bool:
    """Whether another writer could take the intake's write lock of the cluster at this moment (SQLite's write
    lock, PostgreSQL's advisory lock of the cluster), asked from a connection of its own."""
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect() as other:  # the try-lock ends with this connection's transaction
            return other.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
                                 {"key": f"tracker-intake:{ctx.cluster_id}"}).scalar()
    other = sqlite3.connect(ctx.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        other.close()


def test_the_annotated_copy_of_a_rejected_file_is_made_before_the_write_lock_is_taken(ctx, monkeypatch):
    """Opening and saving the workbook takes far longer than the statements: the cluster's other writers (a pull,
    the portal) must not wait for it. The real copy is made; the wrapper only looks at the lock meanwhile."""
    from tracker.intake import rejection

    make_copy, lock_free_meanwhile = rejection.annotated_workbook, []

    def copy_while_looking_at_the_lock(*args, **kwargs):
        lock_free_meanwhile.append(cluster_lock_is_free(ctx))
        return make_copy(*args, **kwargs)

    monkeypatch.setattr(rejection, "annotated_workbook", copy_while_looking_at_the_lock)
    result = ingest_bytes(ctx, report_for("HBT", JUNE_30, {**FIGS, "new_unions": -1}), "a.xlsx")
    assert result.status == "rejected" and result.annotated_path.exists()
    assert lock_free_meanwhile == [True]  # the check does see a held lock: the next test


def test_the_lock_check_sees_the_intakes_lock_while_it_is_held(ctx):
    from tracker.intake.ingest import _Batch, _lock

    batch = _Batch(ctx)
    try:
        conn = batch.connection()
        with conn.begin():
            _lock(conn, ctx.cluster_id)
            batch.ids(conn)  # a statement: SQLite takes its write lock at BEGIN IMMEDIATE, PostgreSQL here
            assert not cluster_lock_is_free(ctx)
    finally:
        batch.close()


def test_a_rejection_for_the_sender_alone_does_not_stick_to_the_bytes(ctx):
    from tracker.findings import finding

    def stranger(report):
        return [finding("error", "sender_not_in_district", "Người gửi không thuộc đơn vị", "Sender not allowed")]

    data = report_for("HBT", JUNE_30, FIGS)
    assert ingest_bytes(ctx, data, "a.xlsx", source="mailbox", sender="x@evil.example",
                        checks=[stranger]).status == "rejected"
    assert ingest_bytes(ctx, data, "a.xlsx", source="mailbox", sender="hbt@example.org").status == "accepted"


def test_bytes_that_are_not_a_workbook_are_rejected_with_a_report_and_no_copy(ctx):
    result = ingest_bytes(ctx, b"just some text, not a workbook", "notes.xlsx")
    assert result.status == "rejected" and result.errors[0].code == "file_not_workbook"
    assert result.annotated_path is None and result.report_path.exists()


def test_a_lower_figure_is_accepted_with_a_correction_warning_stored_by_cell(ctx):
    ingest_bytes(ctx, report_for("HK", date(2023, 6, 23), FIGS), "w25.xlsx", received_at=at(date(2023, 6, 23)))
    result = ingest_bytes(ctx, report_for("HK", JUNE_30, {**FIGS, "agreements": 8}), "w26.xlsx",
                          received_at=at(JUNE_30))
    assert result.status == "accepted"
    assert [(f.code, f.cell) for f in result.warnings] == [("ytd_lower", "Báo cáo!E10")]
    assert "cảnh báo (warnings): Báo cáo!E10: Số lũy kế" in format_result(result)
    with ctx.session() as s:
        sub = s.get(models.Submission, result.submission_id)
        f = s.exec(select(models.Finding).where(models.Finding.submission_id == sub.id)).one()
    assert sub.warning_count == 1 and (f.severity, f.sheet, f.cell, f.indicator_key) == (
        "warning", "Báo cáo", "E10", "agreements")


def test_a_date_in_the_future_is_judged_against_the_day_the_file_was_received(ctx):
    data = report_for("HM", JUNE_30, FIGS)
    early = ingest_bytes(ctx, data, "a.xlsx", received_at=at(JUNE_30 - timedelta(days=5)))
    assert [f.code for f in early.errors] == ["date_future"]


def test_a_workbook_with_a_second_sheet_named_otherwise_is_read_from_bao_cao(ctx):
    from tests.intake_factory import report_cells

    data = xlsx_bytes({"Hướng dẫn": {"A1": "Điền số liệu"}, "BAO CAO": report_cells(district="DD")})
    result = ingest_bytes(ctx, data, "dd.xlsx", received_at=at(JUNE_30))
    assert result.status == "accepted" and result.district == "DD"
    with ctx.session() as s:
        assert {f.sheet for f in s.exec(select(models.Figure)).all()} == {"BAO CAO"}


def test_a_rebuilt_annotated_copy_keeps_hostile_text_as_text():
    from openpyxl import load_workbook

    from tests.intake_factory import report_cells, sheet_grid, workbook_grid
    from tracker.findings import finding
    from tracker.intake.rejection import annotated_workbook

    grid = workbook_grid(sheet_grid(report_cells(district='=HYPERLINK("http://x")')), fmt="ods")
    problem = finding("error", "district_unknown", "Đơn vị lạ", "Unknown district", sheet="Báo cáo", ref="B4")
    ws = load_workbook(io.BytesIO(annotated_workbook(b"", grid, [problem], "Báo cáo")))["Báo cáo"]
    assert ws["B4"].data_type == "s" and ws["B4"].value == '=HYPERLINK("http://x")'
    assert ws["B4"].comment.text.startswith("[LỖI] Đơn vị lạ")
    assert ws["E9"].value == 19 and ws["A8"].value == "Mã chỉ tiêu"


def test_two_processes_ingesting_the_same_bytes_at_once_store_them_once(ctx):
    import threading

    from tracker.context import open_context

    data = report_for("BD", JUNE_30, FIGS)
    results, barrier = [], threading.Barrier(2)

    def upload():
        own = open_context(settings=ctx.settings)  # its own engine use, like another process
        barrier.wait()
        results.append(ingest_bytes(own, data, "bd.xlsx", received_at=at(JUNE_30)).status)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["accepted", "duplicate"]
    assert len(submissions(ctx)) == 1


def test_a_correction_is_caught_even_when_the_previous_figure_is_months_old(ctx):
    ingest_bytes(ctx, report_for("HK", date(2023, 2, 3), FIGS), "feb.xlsx", received_at=at(date(2023, 2, 3)))
    result = ingest_bytes(ctx, report_for("HK", JUNE_30, {**FIGS, "agreements": 8}), "jun.xlsx",
                          received_at=at(JUNE_30))
    assert [(f.code, f.cell) for f in result.warnings] == [("ytd_lower", "Báo cáo!E10")]
    assert "03/02/2023" in result.warnings[0].message_vi


def test_uploads_are_never_opened_by_openpyxl_without_defusedxml(monkeypatch):
    import openpyxl
    import pytest

    from tracker.intake.rejection import require_defused_openpyxl

    require_defused_openpyxl()  # installed: passes
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        require_defused_openpyxl()


def test_loading_the_reader_does_not_import_openpyxl():
    import subprocess
    import sys

    code = "import sys, tracker.intake.reader; print('openpyxl' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_batch_yields_each_file_in_order_and_a_file_that_cannot_be_loaded_stops_none(ctx):
    from tracker.intake.ingest import Incoming, ingest_many

    def unreadable_disk() -> bytes:
        raise OSError("disk read error")

    days = [JUNE_30 - timedelta(days=7 * i) for i in (3, 2, 1, 0)]
    items = [Incoming.of(report_for("HBT", d, FIGS), f"hbt-{d}.xlsx", received_at=at(d)) for d in days]
    items.insert(2, Incoming(unreadable_disk, "gone.xlsx"))
    items.append(Incoming.of(b"not a workbook", "notes.txt", received_at=at(JUNE_30)))
    outcomes = list(ingest_many(ctx, items))
    assert [o.item.filename for o in outcomes] == [i.filename for i in items]
    assert [o.result.status if o.result else "failed" for o in outcomes] == [
        "accepted", "accepted", "failed", "accepted", "accepted", "rejected"]
    assert isinstance(outcomes[2].error, OSError)
    assert [o.result.as_of for o in outcomes if o.result and o.result.ok] == days
    assert len([s for s in submissions(ctx) if s.status == models.SubmissionStatus.accepted]) == 4


def test_a_batch_stopped_early_leaves_the_reader_ready_and_stores_nothing_more(ctx):
    from tracker.intake.ingest import Incoming, ingest_many

    items = [Incoming.of(report_for("HBT", JUNE_30 - timedelta(days=7 * i), FIGS), f"{i}.xlsx",
                         received_at=at(JUNE_30)) for i in range(3)]
    batch = ingest_many(ctx, items)
    first = next(batch)  # the second file is being read meanwhile
    batch.close()
    assert first.result.status == "accepted" and len(submissions(ctx)) == 1
    late = ingest_bytes(ctx, report_for("HM", JUNE_30, FIGS), "hm.xlsx", received_at=at(JUNE_30))
    assert late.status == "accepted"  # the reader was freed, not left waiting for the abandoned read


def test_a_reader_that_fails_under_one_file_costs_that_file_only(ctx):
    from tracker.intake.ingest import Incoming, ingest_many
    from tracker.intake.reader import default_reader

    def break_the_pipe(report):  # runs while the next file is with the worker
        default_reader()._proc.stdout.close()
        return []

    days = [JUNE_30 - timedelta(days=7 * i) for i in (2, 1, 0)]
    items = [Incoming.of(report_for("HBT", d, FIGS), f"hbt-{d}.xlsx", received_at=at(d)) for d in days]
    items[0].checks = (break_the_pipe,)
    outcomes = list(ingest_many(ctx, items))
    assert outcomes[0].result.status == "accepted"
    assert outcomes[1].result is None and outcomes[1].error is not None  # the file the worker had
    assert outcomes[2].result.status == "accepted"  # a fresh worker read the next one


def test_a_sheet_of_an_earlier_year_is_accepted_once_that_year_has_targets(ctx):
    from tracker.targets import register_targets

    day = date(2022, 6, 30)
    data = report_for("HBT", day, FIGS)
    refused = ingest_bytes(ctx, data, "2022.xlsx", received_at=at(day))
    assert refused.status == "rejected" and [f.code for f in refused.errors] == ["date_outside_year"]
    with ctx.session(write=True) as s:
        register_targets(s, ctx.cluster_id, 2022, {("HBT", "new_unions"): 20}, source="workbook")
    again = ingest_bytes(ctx, report_for("HBT", day, {**FIGS, "agreements": 11}), "2022b.xlsx", received_at=at(day))
    assert again.status == "accepted" and again.as_of == day
    next_year = ingest_bytes(ctx, report_for("HBT", date(2024, 1, 5), FIGS), "2024.xlsx",
                             received_at=at(date(2024, 1, 5)))
    assert next_year.status == "accepted"  # the year after [cluster] year: the first January sheets
