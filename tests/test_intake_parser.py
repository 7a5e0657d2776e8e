"""The district report sheet checker (pure): each error and warning of docs/sheet-format.md §7, §8 names its cell."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.conftest import SAMPLE_CONFIG
from tests.intake_factory import (
    KEYS,
    ExcelError,
    Formula,
    report_cells,
    report_grid,
    sheet_grid,
    workbook_grid,
    ytd_cell,
)
from tracker.config import load_settings
from tracker.intake.parser import parse_report

TODAY = date(2023, 7, 1)


@pytest.fixture(scope="module")
def settings():
    return load_settings(SAMPLE_CONFIG, env={})


def parse(settings, cells=None, *, name="Báo cáo", today=TODAY, target_years=(), **sheet_kwargs):
    cells = report_cells() if cells is None else cells
    return parse_report(workbook_grid(sheet_grid(cells, name=name, **sheet_kwargs)), settings, today=today,
                        target_years=target_years)


def codes(report, severity=None):
    return [(f.code, f.cell) for f in report.findings if severity is None or f.severity == severity]


def test_a_well_filled_sheet_gives_district_date_and_five_figures_with_their_cells(settings):
    report = parse(settings)
    assert report.ok and report.findings == []
    assert report.sheet == "Báo cáo" and report.district == "HBT" and report.as_of == date(2023, 6, 30)
    by_key = {r.indicator: r for r in report.rows}
    assert by_key["new_unions"].value == 19 and by_key["new_unions"].cell == "E9"
    assert by_key["union_fees"].value == 2100.5 and by_key["union_fees"].cell == "E13"
    assert by_key["new_unions"].code_cell == "A9"


@pytest.mark.parametrize("district", ["HBT", "hbt", "LĐLĐ quận Hai Bà Trưng", "Hai Bà Trưng", "HAI BA TRUNG",
                                      "Liên đoàn Lao động quận Hai Bà Trưng", "ldld quan hai ba trung",
                                      "  Hai\u00a0Bà  Trưng "])
def test_the_district_is_matched_by_code_or_name_ignoring_case_diacritics_and_spaces(settings, district):
    assert parse(settings, report_cells(district=district)).district == "HBT"


def test_dong_da_matches_without_the_d_stroke(settings):
    assert parse(settings, report_cells(district="Dong Da")).district == "DD"


@pytest.mark.parametrize("as_of", ["30/06/2023", "30/6/2023", "2023-06-30", date(2023, 6, 30),
                                   datetime(2023, 6, 30, 0, 0), 45107, 45107.0, " 30/06/2023 "])
def test_the_date_is_read_day_first_from_text_excel_dates_and_serial_numbers(settings, as_of):
    assert parse(settings, report_cells(as_of=as_of)).as_of == date(2023, 6, 30)


def test_05_06_is_the_fifth_of_june(settings):
    assert parse(settings, report_cells(as_of="05/06/2023")).as_of == date(2023, 6, 5)


def test_labels_match_whole_so_don_vi_tinh_is_not_don_vi(settings):
    cells = report_cells()
    del cells["A4"], cells["B4"]
    cells["A3"], cells["B3"] = "Đơn vị tính", "HBT"
    report = parse(settings, cells)
    assert codes(report, "error") == [("district_missing", None)]


def test_labels_are_found_anywhere_in_the_first_20_rows_and_the_value_is_the_next_non_empty_cell(settings):
    cells = report_cells()
    del cells["A4"], cells["B4"], cells["A5"], cells["B5"]
    cells.update({"C2": "ĐƠN VỊ", "F2": "HM", "D6": "so lieu tinh den ngay :", "H6": "01/06/2023"})
    report = parse(settings, cells)
    assert (report.district, report.as_of) == ("HM", date(2023, 6, 1))


def test_columns_are_found_by_header_text_not_position(settings):
    cells = {"A1": "Đơn vị", "B1": "BD", "A2": "Số liệu tính đến ngày", "B2": "09/06/2023",
             "B10": "Ghi chú", "C10": "Lũy kế từ đầu năm", "D10": "Mã chỉ tiêu",
             "C11": "7", "D11": "new_unions", "B11": "có 2 CĐCS khu công nghiệp",
             "C12": "1.234,5", "D12": "Thu kinh phí công đoàn"}
    report = parse(settings, cells)
    assert report.ok
    rows = {r.indicator: r for r in report.rows}
    assert rows["new_unions"].value == 7 and rows["new_unions"].cell == "C11"
    assert rows["new_unions"].note == "có 2 CĐCS khu công nghiệp"
    assert rows["union_fees"].value == 1234.5  # the label accepted in the code column, Vietnamese number
    assert {f.code for f in report.findings} == {"indicator_missing"}


@pytest.mark.parametrize("text,value", [("1.234", 1234), ("1 234", 1234), ("12", 12), (" 7 ", 7), (1300.0, 1300)])
def test_counts_may_be_numbers_or_vietnamese_text(settings, text, value):
    report = parse(settings, report_cells(figures={"new_members": text}))
    assert next(r.value for r in report.rows if r.indicator == "new_members") == value


@pytest.mark.parametrize("name", ["BAO CAO", "Bao cao", "báo cáo"])
def test_the_report_sheet_is_found_by_folded_name_among_several(settings, name):
    other = sheet_grid({"A1": "Hướng dẫn"}, name="Hướng dẫn")
    report = parse_report(workbook_grid(other, sheet_grid(report_cells(), name=name)), settings, today=TODAY)
    assert report.ok and report.sheet == name


def test_a_single_sheet_with_another_name_is_used(settings):
    report = parse(settings, name="Sheet1")
    assert report.ok and report.sheet == "Sheet1"


def test_no_report_sheet_among_several_is_an_error(settings):
    grid = workbook_grid(sheet_grid(report_cells(), name="Sheet1"), sheet_grid({}, name="Sheet2"))
    report = parse_report(grid, settings, today=TODAY)
    assert codes(report) == [("no_report_sheet", None)]
    assert "'Sheet1', 'Sheet2'" in report.findings[0].message_vi


# -- errors, each naming its cell --------------------------------------------------------------------------


def test_missing_district_value_names_the_label_cell(settings):
    cells = report_cells()
    del cells["B4"]
    assert codes(parse(settings, cells)) == [("district_missing", "Báo cáo!A4")]


def test_an_unknown_district_names_the_value_cell_and_lists_the_codes(settings):
    report = parse(settings, report_cells(district="Quận Tây Hồ"))
    assert codes(report) == [("district_unknown", "Báo cáo!B4")]
    assert "HBT, HM, BD, LB, HK, DD" in report.findings[0].message_vi
    assert report.findings[0].message_vi.startswith("Đơn vị 'Quận Tây Hồ' không thuộc")


def test_missing_date_label_and_missing_date_value(settings):
    cells = report_cells()
    del cells["A5"], cells["B5"]
    assert codes(parse(settings, cells)) == [("date_missing", None)]
    cells = report_cells()
    del cells["B5"]
    assert codes(parse(settings, cells)) == [("date_missing", "Báo cáo!A5")]


@pytest.mark.parametrize("text", ["31/06/2023", "30-13-2023", "hôm nay", "06/30/2023", 12])
def test_an_invalid_date_names_the_date_cell(settings, text):
    report = parse(settings, report_cells(as_of=text))
    assert codes(report) == [("date_invalid", "Báo cáo!B5")]
    assert report.as_of is None


def test_a_date_more_than_one_day_ahead_is_in_the_future(settings):
    assert parse(settings, report_cells(as_of="02/07/2023")).ok  # one day ahead: time zones, early filers
    assert codes(parse(settings, report_cells(as_of="03/07/2023"))) == [("date_future", "Báo cáo!B5")]


def test_a_date_outside_the_cluster_year(settings):
    report = parse(settings, report_cells(as_of="30/12/2022"))
    assert codes(report) == [("date_outside_year", "Báo cáo!B5")]
    assert report.errors[0].message_vi == ("Ngày số liệu 30/12/2022 nằm ngoài năm thi đua: năm 2022 chưa có chỉ "
                                           "tiêu đăng ký (năm thi đua hiện tại là 2023).")


def test_a_january_sheet_of_the_next_year_is_accepted_before_the_year_is_switched(settings):
    report = parse(settings, report_cells(as_of="05/01/2024"), today=date(2024, 1, 5))
    assert report.ok and report.as_of == date(2024, 1, 5)


def test_a_sheet_dated_in_a_year_without_targets_is_refused(settings):
    assert codes(parse(settings, report_cells(as_of="05/01/2019"))) == [("date_outside_year", "Báo cáo!B5")]
    # two years ahead is not "the year after" either
    assert codes(parse(settings, report_cells(as_of="05/01/2025"), today=date(2025, 1, 5))) == [
        ("date_outside_year", "Báo cáo!B5")]


def test_a_sheet_of_an_earlier_year_is_accepted_when_that_year_has_targets(settings):
    cells = report_cells(as_of="30/06/2022")
    assert codes(parse(settings, cells, target_years={2022})) == []
    assert parse(settings, cells, target_years={2022}).as_of == date(2022, 6, 30)


def test_no_table(settings):
    cells = {k: v for k, v in report_cells().items() if k in ("A4", "B4", "A5", "B5")}
    assert codes(parse(settings, cells)) == [("table_missing", None)]


def test_a_header_without_the_year_to_date_column(settings):
    cells = report_cells()
    del cells["E8"]
    assert codes(parse(settings, cells)) == [("ytd_column_missing", "Báo cáo!A8")]


def test_a_header_with_no_rows_below(settings):
    cells = report_cells(keys=())
    assert codes(parse(settings, cells)) == [("table_empty", "Báo cáo!A8")]


def test_an_unknown_indicator_names_the_code_cell(settings):
    report = parse(settings, report_cells(codes={"agreements": "thoa_uoc"}))
    assert ("indicator_unknown", "Báo cáo!A10") in codes(report, "error")


def test_a_row_with_a_figure_and_no_indicator(settings):
    cells = report_cells()
    del cells["A10"], cells["B10"]
    report = parse(settings, cells)
    assert ("indicator_unknown", "Báo cáo!A10") in codes(report, "error")


def test_the_same_indicator_twice_names_the_second_code_cell(settings):
    report = parse(settings, report_cells(codes={"agreements": "Thành lập CĐCS mới"}))
    assert ("indicator_duplicate", "Báo cáo!A10") in codes(report, "error")


@pytest.mark.parametrize("value", ["mười", "12a", "n/a", True, date(2023, 5, 1), "--"])
def test_a_non_numeric_figure_names_its_cell(settings, value):
    report = parse(settings, report_cells(figures={"agreements": value}))
    assert codes(report, "error") == [("value_not_number", "Báo cáo!" + ytd_cell("agreements"))]


def test_a_negative_figure(settings):
    assert codes(parse(settings, report_cells(figures={"new_unions": -3})), "error") == [
        ("value_negative", "Báo cáo!E9")]


@pytest.mark.parametrize("value", ["12,5", 12.5, "0,5"])
def test_a_fraction_in_a_count_is_an_error_but_not_in_an_amount(settings, value):
    report = parse(settings, report_cells(figures={"new_unions": value, "union_fees": value}))
    assert codes(report, "error") == [("value_fractional", "Báo cáo!E9")]
    assert "CĐCS" in report.errors[0].message_vi


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#DIV/0!", "#VALUE!"])
def test_an_excel_error_value_is_an_error_never_blank(settings, error):
    report = parse(settings, report_cells(figures={"congresses": ExcelError(error)}))
    assert codes(report) == [("excel_error", "Báo cáo!E11")]
    assert error in report.findings[0].message_vi


def test_an_excel_error_typed_as_text_is_also_caught(settings):
    assert codes(parse(settings, report_cells(figures={"congresses": "#N/A"}))) == [("excel_error", "Báo cáo!E11")]


def test_a_formula_without_a_saved_result_is_an_error_never_zero(settings):
    report = parse(settings, report_cells(figures={"new_members": Formula("=SUM(X1:X9)")}))
    assert codes(report) == [("formula_no_value", "Báo cáo!E12")]
    assert "=SUM(X1:X9)" in report.findings[0].message_vi


def test_a_formula_with_a_saved_result_is_read(settings):
    report = parse(settings, report_cells(figures={"new_members": Formula("=1000+300", cached=1300)}))
    assert report.ok and next(r.value for r in report.rows if r.indicator == "new_members") == 1300


def test_an_excel_error_in_the_date_or_district(settings):
    assert codes(parse(settings, report_cells(as_of=ExcelError("#REF!")))) == [("excel_error", "Báo cáo!B5")]
    assert codes(parse(settings, report_cells(district=Formula("=Sheet2!A1")))) == [
        ("formula_no_value", "Báo cáo!B4")]


def test_merged_cells_in_the_table(settings):
    report = parse(settings, merged=["E10:E11"])
    assert codes(report) == [("merged_cells", "Báo cáo!E10")]
    assert "E10:E11" in report.findings[0].message_vi


def test_merged_title_cells_above_the_table_are_fine(settings):
    assert parse(settings, merged=["A1:G1"]).ok


def test_a_hidden_row_in_the_table(settings):
    assert codes(parse(settings, hidden_rows={11})) == [("hidden_row", "Báo cáo!A11")]


def test_an_indicator_after_an_empty_row_would_be_ignored(settings):
    cells = report_cells()
    moved = {k.replace("13", "15"): cells.pop(k) for k in [k for k in cells if k.endswith("13")]}
    cells.update(moved)
    report = parse(settings, cells)
    assert ("indicator_after_gap", "Báo cáo!A15") in codes(report, "error")


def test_a_figure_typed_in_the_period_column_while_ytd_is_blank(settings):
    report = parse(settings, report_cells(figures={"new_unions": None}, periods={"new_unions": 3}))
    assert codes(report) == [("figure_wrong_column", "Báo cáo!F9")]


def test_a_figure_typed_in_an_unheaded_column(settings):
    cells = report_cells(figures={"new_unions": None})
    cells["H8"] = None
    cells["H9"] = 19
    cells["I8"] = "x"  # widens the table so H is inside it
    cells = {k: v for k, v in cells.items() if v is not None}
    assert codes(parse(settings, cells)) == [("figure_wrong_column", "Báo cáo!H9")]


def test_a_number_under_an_unknown_header_is_information_not_a_misplaced_figure(settings):
    cells = report_cells(figures={"new_unions": None})
    cells["H8"], cells["H9"] = "Lũy kế đến tuần trước", 17
    report = parse(settings, cells)
    assert report.ok and codes(report) == [("indicator_blank", "Báo cáo!E9")]


def test_a_sheet_with_no_figure_at_all_is_rejected(settings):
    report = parse(settings, report_cells(figures=dict.fromkeys(KEYS)))
    assert codes(report, "error") == [("no_figures", "Báo cáo!E8")]


def test_a_truncated_sheet_is_a_warning_and_a_table_running_past_the_limit_an_error(settings):
    report = parse(settings, truncated=True)
    assert codes(report) == [("sheet_truncated", None)] and report.ok
    from tracker.intake.grid import MAX_ROWS

    cells = report_cells()
    for r in range(14, MAX_ROWS + 1):
        cells[f"G{r}"] = "…"
    report = parse(settings, cells, truncated=True)
    assert ("table_truncated", "Báo cáo!A8") in codes(report, "error")


# -- warnings ----------------------------------------------------------------------------------------------


def test_a_blank_indicator_is_a_warning_naming_its_cell_not_a_zero(settings):
    report = parse(settings, report_cells(figures={"new_unions": 19, "agreements": None, "congresses": 0,
                                                   "new_members": 5, "union_fees": 1}))
    assert report.ok
    assert codes(report) == [("indicator_blank", "Báo cáo!E10")]
    values = {r.indicator: r.value for r in report.rows}
    assert values["agreements"] is None and values["congresses"] == 0
    assert [r.indicator for r in report.figures] == ["new_unions", "congresses", "new_members", "union_fees"]


def test_an_indicator_without_a_row_is_a_warning(settings):
    report = parse(settings, report_cells(keys=("new_unions", "agreements", "congresses", "new_members")))
    assert report.ok and codes(report) == [("indicator_missing", None)]
    assert report.findings[0].indicator == "union_fees"


def test_messages_are_vietnamese_first_and_english(settings):
    report = parse(settings, report_cells(figures={"agreements": "mười"}))
    f = report.findings[0]
    assert f.message_vi == ("'mười' không phải là số (Lũy kế từ đầu năm của chỉ tiêu "
                            "'Thỏa ước lao động tập thể ký mới').")
    assert f.message_en.startswith("'mười' is not a number")
    assert f.text() == f"Báo cáo!E10: {f.message_vi}"


def test_period_and_note_are_kept(settings):
    report = parse(settings, report_cells(periods={"new_unions": 2}, notes={"new_unions": "KCN Sài Đồng"}))
    row = next(r for r in report.rows if r.indicator == "new_unions")
    assert (row.period_value, row.note, row.period_cell, row.note_cell) == (2, "KCN Sài Đồng", "F9", "G9")


def test_many_errors_are_all_reported_in_reading_order(settings):
    report = parse(settings, report_cells(district="Tây Hồ", as_of="31/06/2023",
                                          figures={"new_unions": "12,5", "agreements": ExcelError("#N/A")}))
    assert [c for c, _ in codes(report, "error")] == ["district_unknown", "date_invalid", "value_fractional",
                                                      "excel_error"]


def test_a_sheet_from_the_grid_helpers(settings):
    assert parse_report(report_grid(), settings).ok


def test_every_finding_code_is_exercised_by_an_intake_test():
    """A new check must come with a test that produces it (the reader's refusals are tested with the reader,
    the sender rule with the mailbox)."""
    from tests.conftest import ROOT
    from tracker.findings import CODES, CONTEXT_CODES

    files = [*(ROOT / "tests").glob("test_intake_*.py"), ROOT / "tests" / "test_history_import.py"]
    text = "".join(p.read_text(encoding="utf-8") for p in files)
    untested = [c for c in CODES if c not in CONTEXT_CODES and not c.startswith("file_") and f'"{c}"' not in text]
    assert untested == []
