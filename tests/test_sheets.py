"""tracker.sheets: tables described as column specs land where their Block says, in a real workbook."""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from tracker.sheets import Column, Look, Rule, TableStyle, set_widths, write_table

STYLE = TableStyle(header=Look(font=Font(bold=True)), title=Look(font=Font(italic=True)), header_height=30)


@dataclass(frozen=True)
class Row:
    name: str
    value: float | None
    kind: str


ROWS = [Row("Long Biên", 12, "count"), Row("=HYPERLINK(\"x\")", 2.5, "amount"), Row("Ba Đình", None, "count")]


def columns(calls: list | None = None) -> list[Column[Row]]:
    def record(ws, cells, reference):
        calls.append((cells, reference))

    return [
        Column("Đơn vị", lambda r: r.name, 26),
        Column("Số", lambda r: r.value, 12, fmt=lambda r: "#,##0" if r.kind == "count" else "#,##0.00",
               rule=Rule(record, by="Loại") if calls is not None else None),
        Column("Loại", lambda r: r.kind, look=lambda r: Look(fill=PatternFill("solid", fgColor="FFCDD2"))
               if r.value is None else Look()),
    ]


def saved(wb: Workbook):
    buf = io.BytesIO()
    wb.save(buf)
    return load_workbook(io.BytesIO(buf.getvalue())).active


def test_a_titled_table_lands_where_its_block_says_and_the_next_one_goes_below_it():
    wb = Workbook()
    ws = wb.active
    first = write_table(ws, 3, columns(), ROWS, STYLE, title="Bảng 1")
    assert (first.header, first.first, first.last, first.rows) == (4, 5, 7, 3)
    second = write_table(ws, first.after(), columns(), ROWS[:1], STYLE, title="Bảng 2", col=2)
    assert (second.header, second.last) == (first.after() + 1, first.after() + 2) == (10, 11)
    assert (first.cells("Số"), first.cells(0, -1), first.top("Loại"), first.top("Loại", fixed=True)) == (
        "B5:B7", "A5:C7", "C5", "$C5")
    assert (second.cells("Đơn vị"), second.cell("Loại", 0), first.ref()) == ("B11:B11", "D11", "A4:C7")

    ws = saved(wb)
    assert ws["A3"].value == "Bảng 1" and ws["A3"].font.italic
    assert [c.value for c in ws[4]][:4] == ["Đơn vị", "Số", "Loại", None] and ws["A4"].font.bold
    assert ws.row_dimensions[4].height == 30
    assert [ws[f"B{r}"].value for r in (5, 6, 7)] == [12, 2.5, None]
    assert [ws[f"B{r}"].number_format for r in (5, 6, 7)] == ["#,##0", "#,##0.00", "#,##0"]
    assert ws["A6"].value == '=HYPERLINK("x")' and ws["A6"].data_type == "s"  # a string is never a formula
    assert ws["C7"].fill.fgColor.rgb == "00FFCDD2" and ws["C5"].fill.fill_type is None
    assert [c.value for c in ws[10]][1:4] == ["Đơn vị", "Số", "Loại"] and ws["A9"].value is None


def test_a_columns_rule_gets_its_cells_and_the_reference_column_only_when_there_are_rows():
    calls: list = []
    ws = Workbook().active
    write_table(ws, 1, columns(calls), ROWS, STYLE)
    assert calls == [("B2:B4", "$C2")]
    empty = write_table(ws, 8, columns(calls), [], STYLE)
    assert (empty.header, empty.last, empty.rows, empty.after()) == (8, 8, 0, 10)
    assert empty.ref() == "A8:C9"  # an auto-filter needs one row under its header
    assert calls == [("B2:B4", "$C2")]


def test_tables_sharing_columns_get_the_widest_width_of_their_specs():
    wb = Workbook()
    ws = wb.active
    a = write_table(ws, 1, columns(), ROWS, STYLE)
    b = write_table(ws, a.after(), [Column("x", lambda r: r.name), Column("y", lambda r: r.kind, 40)], ROWS, STYLE)
    assert set_widths(ws, a, b) == {1: 26, 2: 40}
    ws = saved(wb)
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["B"].width) == (26, 40)
