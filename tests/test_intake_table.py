"""The table reader shared by the intake's workbooks: labels, header row, columns by text, cell problems."""

from __future__ import annotations

import unicodedata
from datetime import date

from tests.intake_factory import ExcelError, Formula, sheet_grid
from tracker.findings import ordered
from tracker.intake.table import Column, Row, Sheet, Table, TextColumn
from tracker.intake.values import read_date, read_number
from tracker.messages import part


def test_a_label_matches_whole_in_the_first_20_rows_and_takes_the_first_value_to_its_right():
    sheet = Sheet(sheet_grid({"A2": "Đơn vị tính:", "B2": "người", "C3": "ĐƠN VỊ :", "F3": "HBT", "G3": "x",
                              "A21": "Năm", "B21": 2023, "A4": "Số liệu tính đến ngày"}))
    label = sheet.label("Đơn vị")
    assert (label.cell.ref, label.value.ref, label.value.value) == ("C3", "F3", "HBT")
    assert sheet.label("Năm") is None  # row 21
    nothing = sheet.label("Số liệu tính đến ngày")
    assert nothing.cell.ref == "A4" and nothing.value is None


def test_columns_are_placed_by_their_header_text_wherever_they_stand():
    nfd = unicodedata.normalize("NFD", "Luỹ kế từ đầu năm")
    sheet = Sheet(sheet_grid({"B5": "Ghi chú", "C5": "MÃ CHỈ TIÊU", "D5": nfd, "E5": "Mã chỉ tiêu",
                              "C6": "a", "D6": 1, "C7": "b", "H7": "outside the header", "H8": "outside"}))
    header = sheet.header("Mã chỉ tiêu")
    table = Table(sheet, header, [TextColumn("Mã chỉ tiêu", "code"), TextColumn("Lũy kế từ đầu năm", "ytd"),
                                  TextColumn("Ghi chú", "note"), TextColumn("Thực hiện trong kỳ", "period")])
    assert header.row == 5 and table.placed == {"code": 3, "ytd": 4, "note": 2}  # the first "Mã chỉ tiêu"
    assert table.body == [6, 7]  # row 8 holds nothing under the header
    assert Table(sheet, header, [], whole_rows=True).body == [6, 7, 8]
    assert [row.values for row in table.rows()] == [{"code": "a", "ytd": "1", "note": None},
                                                    {"code": "b", "ytd": None, "note": None}]


class AsOfColumn(Column):
    """The docstring's example: a date column that reports its own problems at its own cell."""

    def clean(self, cell, row: Row):
        read = read_date(cell)
        if row.problem(read, self.key, what=part("as_of")):
            return None
        if read.problem:
            row.report("date_invalid", column=self.key, shown=read.shown, year=2023)
        return read.value if read.problem is None else None


class FigureColumn(Column):
    def clean(self, cell, row: Row):
        read = read_number(cell)
        what = part("ytd", header=self.header, name=str(row.values["indicator"]))
        return None if row.problem(read, self.key, indicator=row.values["indicator"], what=what) else read.value


def test_a_history_summary_reads_as_a_column_spec_and_a_row_loop():
    sheet = Sheet(sheet_grid({
        "A1": "Mã đơn vị", "B1": "Mã chỉ tiêu", "C1": "Số liệu đến ngày", "D1": "Luỹ kế từ đầu năm",
        "A2": "HBT", "B2": "new_members", "C2": "30/06/2023", "D2": 1200,
        "A3": "HBT", "B3": "new_members", "C3": "31/02/2023", "D3": ExcelError("#REF!"),
        "A4": "HM", "B4": "union_fees", "C4": Formula("=TODAY()"), "D4": "1.234,5"}, name="Tổng hợp"))
    columns = [TextColumn("Mã đơn vị", "district"), TextColumn("Mã chỉ tiêu", "indicator"),
               AsOfColumn("Số liệu đến ngày", "as_of"), FigureColumn("Luỹ kế từ đầu năm", "ytd")]
    table = Table(sheet, sheet.header("Mã đơn vị"), columns)
    rows = [row.values for row in table.rows()]
    assert rows[0] == {"district": "HBT", "indicator": "new_members", "as_of": date(2023, 6, 30), "ytd": 1200.0}
    assert (rows[1]["as_of"], rows[1]["ytd"], rows[2]["as_of"], rows[2]["ytd"]) == (None, None, None, 1234.5)
    found = [(f.code, f.cell, f.indicator) for f in ordered(sheet.findings)]
    assert found == [("date_invalid", "Tổng hợp!C3", None), ("excel_error", "Tổng hợp!D3", "new_members"),
                     ("formula_no_value", "Tổng hợp!C4", None)]
    assert ordered(sheet.findings)[2].message_vi == (
        "Ô chứa công thức =TODAY() nhưng không có kết quả được lưu (ngày số liệu); hãy mở tệp bằng Excel rồi lưu "
        "lại, hoặc nhập số trực tiếp.")


def test_a_column_may_skip_the_rest_of_its_row():
    class Known(Column):
        def clean(self, cell, row: Row):
            if cell is None or cell.value != "ok":
                row.skip()  # an unknown indicator: its figures mean nothing
            return cell.value if cell else None

    sheet = Sheet(sheet_grid({"A1": "Mã", "B1": "Số", "A2": "ok", "B2": "abc", "A3": "bad", "B3": "abc"}))
    table = Table(sheet, sheet.header("Mã"), [Known("Mã", "indicator"), FigureColumn("Số", "ytd")])
    rows = list(table.rows())
    assert [(r.skipped, r.values) for r in rows] == [(False, {"indicator": "ok", "ytd": None}),
                                                     (True, {"indicator": "bad"})]
    assert [(f.code, f.cell) for f in sheet.findings] == [("value_not_number", "Báo cáo!B2")]


def test_merged_cells_and_hidden_rows_inside_the_table_are_errors_at_their_cells():
    grid = sheet_grid({"A1": "Mã", "B1": "Số", "A2": "x", "A3": "y", "A4": "z", "D2": "beside"},
                      merged=["B2:B3", "D2:E2"], hidden_rows={4})
    sheet = Sheet(grid)
    Table(sheet, sheet.header("Mã"), [Column("Mã", "code")]).check_layout(anchor="code")
    assert [(f.code, f.cell) for f in sheet.findings] == [("merged_cells", "Báo cáo!B2"),
                                                         ("hidden_row", "Báo cáo!A4")]
    assert sheet.findings[0].message_en == ("The table has merged cells (B2:B3); unmerge them so each indicator "
                                            "has its own row.")
