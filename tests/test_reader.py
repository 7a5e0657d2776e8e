"""The safe reader: real workbooks written by openpyxl, raw zip writes and LibreOffice, read through the worker."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tracker.intake.grid import UnreadableWorkbook
from tracker.intake.reader import WorkbookReader

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def reader():
    with WorkbookReader(timeout=10) as r:
        yield r


def xlsx_bytes(wb: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def district_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws["A1"] = "BÁO CÁO TIẾN ĐỘ THI ĐUA"
    ws["A3"], ws["B3"] = "Đơn vị", "HBT"
    ws["A4"], ws["B4"] = "Số liệu tính đến ngày", date(2023, 6, 30)
    ws["B4"].number_format = "dd/mm/yyyy"
    ws.append([])
    ws.append(["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Luỹ kế từ đầu năm"])
    ws.append(["new_unions", "Thành lập CĐCS mới", "CĐCS", 12])
    ws.append(["union_fees", "Thu kinh phí công đoàn", "triệu đồng", 1234.5])
    ws.append(["code", "Mã số", "", "00123"])
    return wb


def test_it_reads_an_xlsx_with_text_numbers_and_dates(reader):
    grid = reader.read(xlsx_bytes(district_workbook()), "bao-cao.xlsx")
    assert grid.format == "xlsx"
    assert grid.sheet_names == ["Báo cáo"]
    sheet = grid.sheets["Báo cáo"]
    assert sheet.get(3, 2).value == "HBT"
    assert sheet.get(4, 2).value == date(2023, 6, 30)
    assert sheet.get(7, 4).value == 12
    assert sheet.get(8, 4).value == 1234.5
    assert sheet.get(9, 4).value == "00123"  # text stays text
    assert sheet.get(6, 4).ref == "D6"
    assert not sheet.truncated and not sheet.hidden


def test_format_comes_from_content_not_name(reader):
    grid = reader.read(xlsx_bytes(district_workbook()), "bao-cao.pdf")
    assert grid.format == "xlsx"


def test_nfd_header_text_is_kept_as_given(reader):
    wb = openpyxl.Workbook()
    nfd = unicodedata.normalize("NFD", "Luỹ kế từ đầu năm")
    wb.active["A1"] = nfd
    wb.active["A2"] = "a\u00a0b\nc"
    sheet = reader.read(xlsx_bytes(wb)).sheets["Sheet"]
    assert sheet.get(1, 1).value == nfd
    assert sheet.get(2, 1).value == "a\u00a0b\nc"


def test_formulas_keep_their_text_and_a_missing_cached_value_is_none(reader):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 1, 2, "=SUM(A1:A2)"
    sheet = reader.read(xlsx_bytes(wb)).sheets["Sheet"]
    cell = sheet.get(3, 1)
    assert cell.formula == "=SUM(A1:A2)"
    assert cell.value is None  # openpyxl saves no result: never 0, never blank


def test_error_values_go_to_error_not_value(reader):
    wb = openpyxl.Workbook()
    errors = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
    for i, err in enumerate(errors, start=1):
        wb.active.cell(i, 1, err)  # openpyxl writes these as error cells (t="e")
    sheet = reader.read(xlsx_bytes(wb)).sheets["Sheet"]
    assert [(sheet.get(i, 1).error, sheet.get(i, 1).value) for i in range(1, 8)] == [(e, None) for e in errors]


def test_merged_ranges_hidden_rows_and_hidden_sheets(reader):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Chỉ tiêu"
    ws.merge_cells("A1:C2")
    ws["A5"] = "ẩn"
    ws.row_dimensions[5].hidden = True
    other = wb.create_sheet("Ẩn")
    other["A1"] = 1
    other.sheet_state = "hidden"
    grid = reader.read(xlsx_bytes(wb))
    assert grid.sheets["Sheet"].merged == [(1, 1, 2, 3)]
    assert grid.sheets["Sheet"].hidden_rows == {5}
    assert grid.sheets["Ẩn"].hidden and not grid.sheets["Sheet"].hidden


def test_only_the_bounded_window_is_read(reader):
    from tracker.intake.grid import MAX_COLS, MAX_ROWS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "đầu"
    ws.cell(MAX_ROWS + 5, 1, "ngoài")
    ws.cell(2, MAX_COLS + 1, "ngoài")
    sheet = reader.read(xlsx_bytes(wb)).sheets["Sheet"]
    assert sheet.truncated
    assert set(sheet.cells) == {(1, 1)}


def test_xlsm_is_recognised_and_macros_are_not_run(reader):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    data = xlsx_bytes(wb)
    # an .xlsm is an .xlsx whose package holds a VBA project; we never look inside it
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "[Content_Types].xml":
                body = body.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            dst.writestr(item, body)
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    grid = reader.read(out.getvalue(), "macro.xlsm")
    assert grid.format == "xlsm"
    assert grid.sheets["Sheet"].get(1, 1).value == "x"


@pytest.mark.parametrize("data", [b"", b"hello, world\n", b"%PDF-1.4\n%\xe2\xe3\n", bytes(range(256)) * 4])
def test_things_that_are_not_workbooks_are_refused(reader, data):
    with pytest.raises(UnreadableWorkbook) as err:
        reader.read(data)
    assert err.value.code == "not_workbook"
    assert err.value.message_vi.startswith("Tệp không phải là bảng tính")


def test_a_truncated_workbook_is_refused(reader):
    data = xlsx_bytes(district_workbook())
    with pytest.raises(UnreadableWorkbook) as err:
        reader.read(data[: len(data) // 2])
    assert err.value.code == "not_workbook"


def test_the_worker_survives_an_abort(reader):
    data = xlsx_bytes(district_workbook())
    with pytest.raises(UnreadableWorkbook) as err:
        reader._debug("abort")
    assert err.value.code == "crashed"
    assert "SIGABRT" in err.value.message_en
    assert reader.read(data).sheets["Báo cáo"].get(3, 2).value == "HBT"


def test_datetimes_keep_their_time(reader):
    wb = openpyxl.Workbook()
    wb.active["A1"] = datetime(2023, 6, 30, 17, 5)
    assert reader.read(xlsx_bytes(wb)).sheets["Sheet"].get(1, 1).value == datetime(2023, 6, 30, 17, 5)


# ------------------------------------------------------------------------------------------ LibreOffice files


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_it_reads_the_district_report_libreoffice_wrote(reader, suffix):
    data = (FIXTURES / f"bao-cao-HBT-2023-06-30.{suffix}").read_bytes()
    grid = reader.read(data, f"bao-cao.{suffix}")
    assert grid.format == suffix
    assert grid.sheet_names == ["Báo cáo", "Hướng dẫn"]
    sheet = grid.sheets["Báo cáo"]
    assert sheet.get(3, 1).value == "Đơn vị"
    assert sheet.get(3, 2).value == "LĐLĐ quận Hai Bà Trưng"
    assert sheet.get(4, 2).value == date(2023, 6, 30)  # a date, not a serial number
    assert [sheet.get(6, c).value for c in range(1, 8)] == [
        "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu đăng ký", "Luỹ kế từ đầu năm", "Thực hiện trong kỳ",
        "Ghi chú",
    ]  # fmt: skip
    assert [sheet.get(r, 1).value for r in range(7, 12)] == [
        "new_unions", "agreements", "congresses", "new_members", "union_fees",
    ]  # fmt: skip
    assert [sheet.get(r, 5).value for r in range(7, 12)] == [14, 8, 41, 1180, 2050.5]
    assert sheet.get(9, 6).value == 0  # a zero is a value, not an empty cell
    assert sheet.get(11, 6).value == 150.25
    assert sheet.get(12, 1) is None
    assert sheet.merged == [(1, 1, 1, 7)]
    assert not sheet.hidden_rows and not sheet.truncated


@pytest.mark.parametrize("suffix", ["xlsx", "ods"])
def test_libreoffice_formulas_keep_text_and_cached_result(reader, suffix):
    data = (FIXTURES / f"bao-cao-HBT-2023-06-30.{suffix}").read_bytes()
    cell = reader.read(data).sheets["Báo cáo"].get(11, 5)
    assert (cell.formula, cell.value, cell.error) == ("=1200.5+850", 2050.5, None)
