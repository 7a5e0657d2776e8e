"""`tracker verify`: every stored figure proved from the archived bytes. Real database, real archive files,
the real reader's worker process; the pure comparison tested on plain data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from tests.intake_factory import report_for
from tracker.intake.ingest import ingest_bytes
from tracker.workflows.verify import Entry, Record, Reread, compare

JUNE_23, JUNE_30 = date(2023, 6, 23), date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def ingest_three(ctx):
    """Three accepted sheets (HBT twice: the 23/06 one, then 30/06 with a note); returns their results."""
    results = [ingest_bytes(ctx, report_for("HBT", JUNE_23, {**FIGS, "new_unions": 17}), "HBT 23-06.xlsx"),
               ingest_bytes(ctx, report_for("HBT", JUNE_30, FIGS, periods={"new_unions": 2},
                                            notes={"union_fees": "đã thu đủ"}), "HBT tuần 26.xlsx"),
               ingest_bytes(ctx, report_for("HM", JUNE_30, FIGS), "Hoàng Mai tuần 26.xlsx")]
    assert [r.status for r in results] == ["accepted"] * 3
    return results


def sql(ctx, statement: str, **params) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_an_untouched_installation_passes(ctx, cli):
    ingest_three(ctx)
    ingest_bytes(ctx, report_for("BD", JUNE_30, {**FIGS, "new_unions": 1.5}), "BD.xlsx")  # rejected: not checked
    done = cli("verify")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert done.stdout == ("Đã kiểm tra 3 tệp, 15 số liệu: không có khác biệt / checked 3 files, 15 figures: "
                           "no difference\n")


def test_a_figure_changed_in_the_database_is_found_with_its_cell_and_both_values(ctx, cli):
    results = ingest_three(ctx)
    sql(ctx, "UPDATE figure SET value = 2100.75 WHERE submission_id = :sid AND cell = 'E13'",
        sid=results[1].submission_id)
    done = cli("verify")
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0] == (f"HBT tuần 26.xlsx (#{results[1].submission_id}): Báo cáo!E13 [union_fees]: CSDL ghi 2100,75, "
                        f"tệp ghi 2100,5 / Báo cáo!E13 [union_fees]: the database says 2100.75, the file says 2100.5")
    assert lines[1].endswith("checked 3 files, 15 figures: 1 difference(s)")


def test_every_kind_of_edit_in_the_database_is_reported(ctx, cli):
    results = ingest_three(ctx)
    second, third = results[1].submission_id, results[2].submission_id
    sql(ctx, "UPDATE figure SET note = 'sửa tay' WHERE submission_id = :sid AND cell = 'E13'", sid=second)
    sql(ctx, "UPDATE figure SET period_value = 3 WHERE submission_id = :sid AND cell = 'E9'", sid=second)
    sql(ctx, "DELETE FROM figure WHERE submission_id = :sid AND cell = 'E10'", sid=third)
    sql(ctx, "UPDATE submission SET as_of = :d WHERE id = :sid", d=date(2023, 6, 16), sid=third)
    sql(ctx, "UPDATE figure SET as_of = :d WHERE submission_id = :sid", d=date(2023, 6, 16), sid=third)
    done = cli("verify")
    assert done.exit_code == 1
    out = done.stdout
    assert "Báo cáo!E13 [union_fees]: ghi chú: CSDL ghi 'sửa tay', tệp ghi 'đã thu đủ'" in out
    assert "Báo cáo!E9 [new_unions]: 'Thực hiện trong kỳ': CSDL ghi 3, tệp ghi 2" in out
    assert (f"Hoàng Mai tuần 26.xlsx (#{third}): Báo cáo!E10 [agreements]: tệp ghi 10 nhưng CSDL không có số liệu "
            f"này / Báo cáo!E10 [agreements]: the file says 10 but the database has no such figure") in out
    assert "CSDL ghi ngày số liệu 16/06/2023, tệp ghi 30/06/2023" in out
    assert out.splitlines()[-1].endswith("14 figures: 4 difference(s)")


def test_a_file_altered_or_missing_in_the_archive_is_reported(ctx, cli):
    results = ingest_three(ctx)
    altered, missing = results[0].stored_path, results[2].stored_path
    altered.write_bytes(report_for("HBT", JUNE_23, {**FIGS, "new_unions": 99}))
    missing.unlink()
    done = cli("verify")
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"HBT 23-06.xlsx (#{results[0].submission_id}): tệp lưu trữ {altered} đã bị thay đổi")
    assert f"the archived file {altered} was altered (SHA-256" in lines[0]
    assert lines[1] == (f"Hoàng Mai tuần 26.xlsx (#{results[2].submission_id}): không còn tệp trong kho lưu trữ "
                        f"({missing}) / the archived file is missing ({missing})")
    assert lines[2].endswith("2 difference(s)")


def test_year_restricts_the_check_to_sheets_dated_in_that_year(ctx, cli):
    results = ingest_three(ctx)
    sql(ctx, "UPDATE figure SET value = 1 WHERE submission_id = :sid", sid=results[0].submission_id)
    other_year = cli("verify", "--year", "2022")
    assert other_year.exit_code == 0
    assert other_year.stdout == ("Đã kiểm tra 0 tệp năm 2022, 0 số liệu: không có khác biệt / checked 0 files of "
                                 "2022, 0 figures: no difference\n")
    this_year = cli("verify", "--year", "2023")
    assert this_year.exit_code == 1 and this_year.stdout.count("CSDL ghi 1, tệp ghi") == 5


# -- the pure comparison ------------------------------------------------------------------------------------------

def record(**figures: Entry) -> Record:
    return Record("sheet", 7, "a.xlsx", "/x/HBT/a.xlsx", "0" * 64, "HBT", JUNE_30, datetime(2023, 6, 30, tzinfo=UTC),
                  {("Báo cáo", cell): e for cell, e in figures.items()})


def entry(indicator: str, value: float | None, **kw) -> Entry:
    return Entry(indicator, value, district=kw.pop("district", "HBT"), as_of=kw.pop("as_of", JUNE_30), **kw)


def test_identical_figures_give_no_difference():
    rec = record(E9=entry("new_unions", 19.0, period_value=2.0, note="ok"))
    assert compare(rec, Reread("HBT", JUNE_30, dict(rec.figures))) == []


def test_a_figure_under_another_indicator_or_district_is_a_difference():
    rec = record(E9=entry("agreements", 19.0, district="HM"))
    found = Reread("HBT", JUNE_30, {("Báo cáo", "E9"): entry("new_unions", 19.0)})
    assert [d.code for d in compare(rec, found)] == ["figure_indicator", "figure_moved"]


def test_a_cell_that_no_longer_reads_as_a_figure_row_is_compared_as_a_number():
    rec = record(E9=entry("retired_indicator", 19.0), E10=entry("retired_too", 5.0))
    cells = {"E9": 19.0, "E10": 6.0}
    found = Reread("HBT", JUNE_30, {}, cell_value=lambda sheet, ref: cells.get(ref))
    (only,) = compare(rec, found)
    assert only.code == "figure_changed" and "E10 [retired_too]: CSDL ghi 5, ô trong tệp ghi 6" in only.vi


def test_values_equal_but_for_float_noise_are_the_same():
    rec = record(E13=entry("union_fees", 0.1 + 0.2))
    assert compare(rec, Reread("HBT", JUNE_30, {("Báo cáo", "E13"): entry("union_fees", 0.3)})) == []
