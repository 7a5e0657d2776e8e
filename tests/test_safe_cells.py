"""The one helper that writes outside text into workbook cells (used by reports and the annotated copy)."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from tracker.safe_cells import MAX_CELL_TEXT, write_text


def _round_trip(values: list[object]) -> list:
    wb = Workbook()
    for row, value in enumerate(values, start=1):
        write_text(wb.active.cell(row=row, column=1), value)
    buf = io.BytesIO()
    wb.save(buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    return [ws.cell(row=row, column=1) for row in range(1, len(values) + 1)]


def test_formulas_and_error_values_typed_by_a_district_stay_text():
    cells = _round_trip(['=HYPERLINK("http://x","y")', "#N/A", "+1", "@SUM(A1)"])
    assert [c.value for c in cells] == ['=HYPERLINK("http://x","y")', "#N/A", "+1", "@SUM(A1)"]
    assert all(c.data_type == "s" for c in cells)
    assert cells[0].quotePrefix


def test_control_characters_are_dropped_and_long_text_is_capped():
    bell, long = _round_trip(["Hai\x07 Bà\x00 Trưng", "x" * (MAX_CELL_TEXT + 10)])
    assert bell.value == "Hai Bà Trưng"
    assert len(long.value) == MAX_CELL_TEXT


def test_none_empties_the_cell():
    (cell,) = _round_trip([None])
    assert cell.value is None
