"""`tracker history import`: a summary of earlier figures, checked cell by cell, stored all or nothing, with
lineage; then every year in one database (status of 2022, last year's figures in 2023's status). Real
database, real workbooks, the real reader's worker process."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from tests.intake_factory import ExcelError, report_for, xlsx_bytes
from tracker import models
from tracker.intake.backfill import import_history, parse_history
from tracker.workflows.sample_history import build_history_workbook, history_figures, sundays
from tracker.workflows.verify import verify_archive

HEADER = {"A1": "Mã đơn vị", "B1": "Đơn vị", "C1": "Mã chỉ tiêu", "D1": "Số liệu đến ngày", "E1": "Luỹ kế từ đầu năm",
          "F1": "Ghi chú"}
NOW = datetime(2023, 1, 10, 3, tzinfo=UTC)


def summary(rows: list[tuple], sheet: str = "Dữ liệu", extra: dict | None = None) -> bytes:
    """A summary workbook: HEADER, then one row per (unit, indicator, date, value)."""
    cells: dict[str, object] = dict(HEADER)
    for n, (unit, key, day, value) in enumerate(rows, start=2):
        cells.update({f"A{n}": unit, f"B{n}": "tên bỏ qua", f"C{n}": key, f"D{n}": day, f"E{n}": value})
    cells.update(extra or {})
    return xlsx_bytes({sheet: cells})


ROWS = [("HBT", "new_unions", date(2022, 6, 26), 12), ("HBT", "union_fees", date(2022, 6, 26), 1500.5),
        ("HM", "new_unions", "30/06/2022", 9), ("HBT", "new_unions", date(2022, 12, 31), 27)]


def stored(ctx):
    with ctx.session() as s:
        subs = s.exec(select(models.Submission).order_by(models.Submission.id)).all()
        figs = s.exec(select(models.Figure).order_by(models.Figure.id)).all()
    return subs, figs


def test_accepted_rows_become_one_submission_per_unit_and_date_with_lineage(ctx):
    data = summary(ROWS)
    result = import_history(ctx, data, "tổng hợp 2022.xlsx", received_at=NOW)
    assert result.status == "accepted" and result.findings == []
    assert (result.figures, result.units, len(result.submissions)) == (4, 2, 3)
    assert (result.first, result.last) == (date(2022, 6, 26), date(2022, 12, 31))
    assert result.line() == ("tổng hợp 2022.xlsx: đã chấp nhận (accepted) — 4 số liệu (figures), 2 đơn vị (units), "
                             "3 báo cáo (submissions), từ 26/06/2022 đến 31/12/2022 (from … to)")
    assert result.stored_path.read_bytes() == data and result.stored_path.is_relative_to(ctx.settings.paths.archive)
    subs, figs = stored(ctx)
    assert {(s.source, s.status, s.as_of, s.sheet, s.file_hash, s.stored_path) for s in subs} == {
        ("history", "accepted", day, "Dữ liệu", result.file_hash, str(result.stored_path))
        for day in (date(2022, 6, 26), date(2022, 6, 30), date(2022, 12, 31))}
    assert sorted((f.cell, f.as_of, f.value, f.sheet) for f in figs) == [
        ("E2", date(2022, 6, 26), 12, "Dữ liệu"), ("E3", date(2022, 6, 26), 1500.5, "Dữ liệu"),
        ("E4", date(2022, 6, 30), 9, "Dữ liệu"), ("E5", date(2022, 12, 31), 27, "Dữ liệu")]


def test_the_same_bytes_twice_are_already_received(ctx, cli):
    data = summary(ROWS)
    assert import_history(ctx, data, "a.xlsx").status == "accepted"
    before = stored(ctx)
    again = import_history(ctx, data, "b.xlsx")
    assert again.status == "duplicate" and again.ok
    assert again.line() == "b.xlsx: đã được tiếp nhận trước đó (already received)"
    assert stored(ctx) == before


def test_one_bad_cell_and_nothing_of_the_file_is_stored_every_error_naming_its_cell(ctx):
    rows = [*ROWS, ("XYZ", "new_unions", date(2022, 7, 3), 5), ("HM", "new_unions", "31/02/2022", 5),
            ("HM", "agreements", date(2022, 7, 3), "mười"), ("HM", "congresses", date(2022, 7, 3), 2.5),
            ("HM", "nonsense", date(2022, 7, 3), 1), ("HK", "new_members", date(2022, 7, 3), ExcelError("#N/A")),
            ("HK", "union_fees", date(2022, 7, 3), -3), ("HBT", "new_unions", date(2022, 6, 26), 12),
            ("DD", "new_unions", date(2024, 1, 1), 1), ("DD", "agreements", None, 1)]
    data = summary(rows)  # once: openpyxl stamps the time, so two builds can differ by a second
    result = import_history(ctx, data, "sai.xlsx", received_at=NOW)
    assert result.status == "rejected" and not result.ok
    assert [(f.code, f.cell) for f in result.errors] == [
        ("district_unknown", "Dữ liệu!A6"), ("date_invalid", "Dữ liệu!D7"), ("value_not_number", "Dữ liệu!E8"),
        ("value_fractional", "Dữ liệu!E9"), ("indicator_unknown", "Dữ liệu!C10"), ("excel_error", "Dữ liệu!E11"),
        ("value_negative", "Dữ liệu!E12"), ("history_duplicate", "Dữ liệu!E13"), ("date_future", "Dữ liệu!D14"),
        ("history_cell_blank", "Dữ liệu!D15")]
    by_code = {f.code: f for f in result.errors}
    assert by_code["history_duplicate"].message_vi == (
        "Số liệu 'Thành lập CĐCS mới' của HBT đến ngày 26/06/2022 xuất hiện hai lần (đã có ở ô E2).")
    assert by_code["history_cell_blank"].message_vi == "Dòng 15 để trống ngày số liệu."
    assert stored(ctx) == ([], [])  # the good rows too: all or nothing
    assert result.stored_path.read_bytes() == data  # kept in quarantine, with its error report
    assert result.stored_path.is_relative_to(ctx.settings.paths.quarantine)
    report = result.report_path.read_text(encoding="utf-8")
    assert "Dữ liệu!A6" in report and report.index("Đơn vị 'XYZ'") < report.index("'XYZ' is not a district")
    assert result.annotated_path is not None and result.annotated_path.is_file()


def test_the_header_and_sheet_rules():
    from tests.conftest import SAMPLE_CONFIG
    from tests.intake_factory import sheet_grid, workbook_grid
    from tracker.config import load_settings

    settings = load_settings(SAMPLE_CONFIG, env={})
    missing = parse_history(workbook_grid(sheet_grid({"A3": "Mã đơn vị", "B3": "Mã chỉ tiêu", "C3": "Luỹ kế từ đầu năm",
                                                      "A4": "HBT", "B4": "new_unions", "C4": 3}, name="Tổng hợp")),
                            settings)
    assert [(f.code, f.cell) for f in missing.findings] == [("history_columns_missing", "Tổng hợp!A3")]
    assert "'Số liệu đến ngày'" in missing.findings[0].message_vi
    nothing = parse_history(workbook_grid(sheet_grid({"A1": "Số liệu năm 2022"})), settings)
    assert [f.code for f in nothing.findings] == ["table_missing"]
    # the sheet named Dữ liệu wins over the first sheet; rows of a replaced version are left out
    cells = {"A1": "Mã đơn vị", "B1": "Mã chỉ tiêu", "C1": "Số liệu đến ngày", "D1": "Lũy kế từ đầu năm",
             "E1": "Phiên bản", "A2": "HBT", "B2": "new_unions", "C2": date(2022, 6, 26), "D2": 10, "E2": "Đã thay thế",
             "A3": "HBT", "B3": "new_unions", "C3": date(2022, 6, 26), "D3": 11, "E3": "Hiện hành"}
    grid = workbook_grid(sheet_grid({"A1": "Tổng hợp"}, name="Tổng hợp"), sheet_grid(cells, name="DU LIEU"))
    read = parse_history(grid, settings)
    assert read.findings == [] and read.sheet == "DU LIEU"
    assert [(r.district, r.indicator, r.as_of, r.value, r.cell) for r in read.rows] == [
        ("HBT", "new_unions", date(2022, 6, 26), 11, "D3")]


def test_the_weekly_workbooks_data_sheet_is_importable_as_is(ctx, cli):
    from tracker.intake.ingest import ingest_bytes

    figs = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}
    ingest_bytes(ctx, report_for("HBT", date(2023, 6, 23), {**figs, "new_unions": 17}), "a.xlsx")
    ingest_bytes(ctx, report_for("HBT", date(2023, 6, 30), figs), "b.xlsx")
    ingest_bytes(ctx, report_for("HBT", date(2023, 6, 30), {**figs, "agreements": 12}), "c.xlsx")  # a new version
    before = json.loads(cli("status", "--as-of", "30/06/2023", "--format", "json").stdout)
    report = cli("report", "weekly", "--as-of", "30/06/2023")
    workbook = next(Path(line) for line in report.stdout.splitlines() if line.endswith(".xlsx"))
    result = cli("history", "import", workbook)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "đã chấp nhận (accepted) — 10 số liệu (figures), 1 đơn vị (units), 2 báo cáo" in result.stdout
    after = json.loads(cli("status", "--as-of", "30/06/2023", "--format", "json").stdout)
    assert after["districts"] == before["districts"] and after["totals"] == before["totals"]
    assert verify_archive(ctx).ok


def test_more_rows_than_a_weekly_sheet_holds(ctx):
    data = build_history_workbook(ctx.settings, 2022)
    result = import_history(ctx, data, "so-lieu-2022.xlsx")
    assert result.status == "accepted", [f.text() for f in result.findings[:3]]
    assert result.figures == len(history_figures(ctx.settings, 2022)) == 6 * 5 * len(sundays(2022)) > 500
    assert data == build_history_workbook(ctx.settings, 2022)  # the same bytes every time


def test_the_2022_sample_reaches_80_to_110_percent_of_the_targets_and_never_goes_down(settings):
    rows = history_figures(settings, 2022)
    last: dict[tuple[str, str], float] = {}
    for unit, key, _day, value in rows:
        assert value >= last.get((unit, key), 0)
        last[(unit, key)] = value
    for (unit, key), value in last.items():
        target = settings.targets[unit][key]
        assert 0.79 * target <= value <= 1.11 * target, (unit, key, value, target)


def test_every_year_in_one_database_through_the_commands(ctx, cli, tmp_path):
    path = tmp_path / "so-lieu-2022.xlsx"
    path.write_bytes(summary(ROWS))
    result = cli("history", "import", path)
    assert result.exit_code == 0 and "đã chấp nhận (accepted)" in result.stdout
    again = cli("history", "import", path)
    assert again.exit_code == 0 and "đã được tiếp nhận trước đó (already received)" in again.stdout

    last_year = cli("status", "--as-of", "30/06/2022", "--format", "json")
    assert last_year.exit_code == 0, last_year.stderr
    js = json.loads(last_year.stdout)
    assert js["year"] == 2022
    hbt = next(d for d in js["districts"] if d["code"] == "HBT")
    assert next(i for i in hbt["indicators"] if i["key"] == "new_unions")["actual"] == 12
    assert {i["status"] for i in hbt["indicators"]} <= {"no_target", "no_data"}  # 2022 has no targets

    this_year = json.loads(cli("status", "--as-of", "30/06/2023", "--format", "json").stdout)
    hm = next(d for d in this_year["districts"] if d["code"] == "HM")
    assert next(i for i in hm["indicators"] if i["key"] == "new_unions")["last_year_actual"] == 9
    total = next(t for t in this_year["totals"] if t["key"] == "new_unions")
    assert total["last_year_actual"] == 12 + 9

    neither = cli("status", "--as-of", "30/06/2019")
    assert neither.exit_code == 2 and neither.stdout == ""
    assert neither.stderr.count("Năm 2019") == 1 and "2022, 2023" in neither.stderr


def test_a_rejected_import_exits_1_and_names_the_cells(ctx, cli, tmp_path):
    path = tmp_path / "sai.xlsx"
    path.write_bytes(summary([("HBT", "new_unions", date(2022, 6, 26), "abc")]))
    result = cli("history", "import", path)
    assert result.exit_code == 1
    assert "bị từ chối (rejected)" in result.stdout and "Dữ liệu!E2" in result.stdout
    assert "không nhập số liệu nào" in result.stdout.lower()
    assert cli("history", "import", tmp_path / "none.xlsx").exit_code != 0


def test_verify_proves_history_figures_and_finds_a_changed_one(ctx):
    result = import_history(ctx, summary(ROWS), "tong-hop.xlsx")
    proof = verify_archive(ctx)
    assert proof.ok and proof.files == 1 and proof.figures == 4
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE figure SET value = 13 WHERE cell = 'E2'"))
    proof = verify_archive(ctx)
    assert [(d.code, d.submission_id) for d in proof.differences] == [("figure_changed", result.submissions[0])]
    assert "Dữ liệu!E2" in proof.differences[0].vi and "13" in proof.differences[0].vi
    assert verify_archive(ctx, year=2021).files == 0 and verify_archive(ctx, year=2022).files == 1


def test_a_review_period_of_an_imported_year_is_reachable(ctx):
    import pytest

    from tracker.errors import TrackerError
    from tracker.standing import resolve_period

    with pytest.raises(TrackerError) as refused:
        resolve_period(ctx, "2022")
    assert refused.value.exit_code == 2 and str(refused.value).startswith("Kỳ 2022: năm 2022 chưa có chỉ tiêu")
    import_history(ctx, summary(ROWS), "2022.xlsx")
    assert resolve_period(ctx, "2022").as_of == date(2022, 12, 31)
    assert resolve_period(ctx, None, today=date(2024, 1, 5)).key == "2023"  # the cluster year once it is over


def test_the_demo_imports_last_years_sample_through_history_import(ctx):
    from tracker.workflows.demo import _last_year

    lines: list[str] = []
    _last_year(ctx, lines.append)
    assert "tracker history import" in lines[0] and "so-lieu-2022_du-lieu-mau.xlsx: đã chấp nhận" in lines[1]
    _last_year(ctx, lines.append)
    assert "đã được tiếp nhận trước đó (already received)" in lines[3]
    with ctx.session() as s:
        sources = set(s.exec(select(models.Submission.source)).all())
    assert sources == {"history"}


def test_a_date_or_period_in_a_year_with_neither_is_one_message_and_exit_2_for_every_command(ctx, cli):
    for args in (("report", "weekly", "--as-of", "30/06/2019"), ("report", "review", "--period", "2019"),
                 ("send", "weekly", "--as-of", "30/06/2019", "--dry-run"),
                 ("send", "review", "--period", "2019-H1", "--dry-run")):
        result = cli(*args)
        assert result.exit_code == 2 and result.stdout == "", args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 2 and "2019" in lines[0] and lines[1].startswith("The "), (args, lines)


def test_the_reader_takes_more_rows_only_when_asked_and_never_past_its_limit():
    from tracker.intake.grid import MAX_ROWS, MAX_ROWS_LIMIT
    from tracker.intake.reader import default_reader

    data = xlsx_bytes({"Dữ liệu": {f"A{r}": r for r in range(1, 701)}})
    reader = default_reader()
    assert reader.read(data, "x.xlsx").sheets["Dữ liệu"].truncated  # a weekly sheet's bound: 500 rows
    grid = reader.read(data, "x.xlsx", max_rows=MAX_ROWS_LIMIT).sheets["Dữ liệu"]
    assert not grid.truncated and grid.get(700, 1).value == 700
    huge = reader.read(data, "x.xlsx", max_rows=10 ** 9).sheets["Dữ liệu"]  # beyond the limit: the default
    assert huge.truncated and max(r for r, _c in huge.cells) == MAX_ROWS
    assert reader.read(data, "x.xlsx").sheets["Dữ liệu"].truncated  # the next read is bounded again


def test_a_pack_of_an_imported_year_says_its_figures_come_from_the_summary_not_weekly_reports(ctx):
    from tracker.reporting.narrative import draft
    from tracker.standing import resolve_period
    from tracker.workflows.review import gather_review

    import_history(ctx, summary(ROWS), "2022.xlsx")
    data = gather_review(ctx, resolve_period(ctx, "2022"))
    assert sum(s.imported for s in data.submissions) > 0 and sum(s.accepted for s in data.submissions) == 0
    intro = draft(data, "tổng kết năm 2022").sections[0].paragraphs[0]
    assert intro.endswith("từ bảng tổng hợp số liệu đã nhập (không có báo cáo tuần gửi qua hệ thống).")


def test_the_rebuilt_annotated_copy_of_a_long_summary_keeps_every_row(tmp_path):
    """A summary may hold up to 10,000 rows: the copy rebuilt for the clerk (an .ods, .xls or large file) keeps
    the rows past the weekly sheet's 500 and marks the wrong cell there."""
    import io

    from openpyxl import load_workbook

    from tests.intake_factory import sheet_grid, workbook_grid
    from tracker.findings import make
    from tracker.intake.rejection import annotated_workbook

    grid = workbook_grid(sheet_grid({"A1": "Mã đơn vị", "A600": "XYZ", "E600": 5}, name="Dữ liệu"), fmt="ods")
    finding = make("district_unknown", sheet="Dữ liệu", ref="A600", shown="XYZ", codes="HBT", cluster="cụm")
    data = annotated_workbook(b"", grid, [finding], "Dữ liệu")
    ws = load_workbook(io.BytesIO(data))["Dữ liệu"]
    assert (ws["A600"].value, ws["E600"].value) == ("XYZ", 5)
    assert ws["A600"].comment is not None
