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


# ------------------------------------------------------------------------------------------ hostile files

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_XML = (
    f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
)
STRINGS_XML = f'<sst xmlns="{MAIN_NS}"><si><t>Đơn vị</t></si></sst>'


def raw_xlsx(sheet: str = SHEET_XML, strings: str = STRINGS_XML, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .xlsx written part by part, as a script (or an attacker) would: no library involved."""
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{REL_NS}/officeDocument"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
            '<sheet name="Báo cáo" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{REL_NS}/worksheet"/>'
            f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{REL_NS}/sharedStrings"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": strings,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text.encode())
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return out.getvalue()


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Patch the uncompressed size the central directory declares for ``name``."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = int.from_bytes(buf[pos + 28 : pos + 30], "little")
        if buf[pos + 46 : pos + 46 + name_len] == name.encode():
            buf[pos + 24 : pos + 28] = size.to_bytes(4, "little")
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def ole_file(*streams: str) -> bytes:
    """A minimal OLE compound file (one FAT sector, one directory sector) holding empty streams."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:32] = (0x3E).to_bytes(2, "little") + (3).to_bytes(2, "little") + b"\xfe\xff" + (9).to_bytes(2, "little")
    header[32:34] = (6).to_bytes(2, "little")  # mini sectors of 64 bytes
    header[44:48] = (1).to_bytes(4, "little")  # one FAT sector
    header[48:52] = (1).to_bytes(4, "little")  # directory starts in sector 1
    header[56:60] = (4096).to_bytes(4, "little")
    header[60:64] = header[68:72] = b"\xfe\xff\xff\xff"
    header[76:80] = (0).to_bytes(4, "little")  # the FAT is sector 0
    header[80:512] = b"\xff" * 432
    fat = (0xFFFFFFFD).to_bytes(4, "little") + (0xFFFFFFFE).to_bytes(4, "little") + b"\xff" * 504
    directory = bytearray()
    for i, (name, kind) in enumerate([("Root Entry", 5)] + [(s, 2) for s in streams][:3]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[0 : len(encoded)] = encoded
        entry[64:66] = len(encoded).to_bytes(2, "little")
        entry[66], entry[67] = kind, 1
        entry[68:80] = b"\xff" * 12
        if kind == 5:
            entry[76:80] = (1).to_bytes(4, "little")  # first child
        elif i < len(streams):
            entry[72:76] = (i + 1).to_bytes(4, "little")  # right sibling
        entry[116:120] = (0xFFFFFFFE).to_bytes(4, "little")
        directory += entry
    directory += bytes(512 - len(directory))
    assert len(header) == len(fat) == len(directory) == 512
    return bytes(header) + fat + bytes(directory)


def billion_laughs(root: str) -> str:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    )
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>{root.replace("Đơn vị", "&lol9;")}'


def assert_refused(reader, data: bytes, code: str) -> UnreadableWorkbook:
    with pytest.raises(UnreadableWorkbook) as err:
        reader.read(data, "hostile.xlsx")
    assert err.value.code == code, err.value
    assert err.value.message_vi and err.value.message_en
    good = reader.read(xlsx_bytes(district_workbook()))  # the worker is still there, or was replaced
    assert good.sheets["Báo cáo"].get(3, 2).value == "HBT"
    return err.value


def test_a_raw_xlsx_with_shared_strings_reads(reader):
    sheet = reader.read(raw_xlsx()).sheets["Báo cáo"]
    assert sheet.get(1, 1).value == "Đơn vị"


def test_rich_text_shared_strings_join_their_runs_without_phonetics(reader):
    strings = (
        f'<sst xmlns="{MAIN_NS}"><si><r><t>Luỹ kế </t></r><r><rPr><b/></rPr><t>từ đầu năm</t></r>'
        "<rPh><t>x</t></rPh></si></sst>"
    )
    assert reader.read(raw_xlsx(strings=strings)).sheets["Báo cáo"].get(1, 1).value == "Luỹ kế từ đầu năm"


def test_zip_bomb_by_compression_ratio_is_refused_unread(reader):
    before = reader.workers_started
    err = assert_refused(reader, raw_xlsx(extra={"xl/media/image1.png": bytes(30 * 1024 * 1024)}), "zip_bomb")
    assert "ratio" in err.message_en
    assert reader.workers_started == before  # refused by the checks, not by a crash


def test_zip_bomb_by_declared_size_is_refused_unread(reader):
    data = set_declared_size(raw_xlsx(), "xl/worksheets/sheet1.xml", 3_000_000_000)
    assert_refused(reader, data, "zip_bomb")


def test_a_part_larger_than_it_declares_is_refused(reader):
    sheet = SHEET_XML.replace("</sheetData>", "</sheetData>" + " " * 200_000)
    data = set_declared_size(raw_xlsx(sheet=sheet), "xl/worksheets/sheet1.xml", 500)
    err = assert_refused(reader, data, "zip_bomb")  # more bytes come out than the directory declares
    assert "larger than declared" in err.message_en


def test_too_many_zip_entries_are_refused(reader):
    extra = {f"xl/media/{i}.bin": b"" for i in range(1001)}
    assert_refused(reader, raw_xlsx(extra=extra), "zip_bomb")


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml"])
def test_path_traversal_names_are_refused(reader, name):
    assert_refused(reader, raw_xlsx(extra={name: b"x"}), "corrupt")


def test_billion_laughs_in_sheet_xml_is_refused(reader):
    sheet = SHEET_XML.replace('t="s"><v>0</v>', 't="inlineStr"><is><t>Đơn vị</t></is>')
    assert_refused(reader, raw_xlsx(sheet=billion_laughs(sheet)), "xml_attack")


def test_billion_laughs_in_shared_strings_is_refused(reader):
    assert_refused(reader, raw_xlsx(strings=billion_laughs(STRINGS_XML)), "xml_attack")


def test_external_entity_is_refused(reader):
    strings = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<sst xmlns="{MAIN_NS}"><si><t>&xxe;</t></si></sst>'
    )
    assert_refused(reader, raw_xlsx(strings=strings), "xml_attack")


def test_a_dtd_hidden_in_utf16_is_refused(reader):
    strings = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst [<!ENTITY a "b">]>' + STRINGS_XML
    data = raw_xlsx()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = strings.encode("utf-16") if item.filename == "xl/sharedStrings.xml" else src.read(item)
            dst.writestr(item, body)
    assert_refused(reader, out.getvalue(), "xml_attack")


def test_an_absurd_declared_dimension_is_refused(reader):
    sheet = SHEET_XML.replace("<sheetData>", '<dimension ref="A1:XFD1048576"/><sheetData>')
    assert_refused(reader, raw_xlsx(sheet=sheet), "too_many_cells")


def test_a_cell_at_the_last_address_does_not_blow_up_the_reader(reader):
    # one cell at A1 and one at XFD1048576: calamine would try to allocate ~512 GiB here and abort
    sheet = SHEET_XML.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    grid = reader.read(raw_xlsx(sheet=sheet))
    assert grid.sheets["Báo cáo"].truncated
    assert set(grid.sheets["Báo cáo"].cells) == {(1, 1)}


def test_an_encrypted_office_file_is_recognised(reader):
    err = assert_refused(reader, ole_file("EncryptionInfo", "EncryptedPackage"), "encrypted")
    assert err.message_vi.startswith("Tệp được bảo vệ bằng mật khẩu")


def test_an_ole_file_that_is_not_a_workbook_is_refused(reader):
    assert_refused(reader, ole_file("WordDocument"), "not_workbook")


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04" + bytes(100), bytes(range(256)) * 40, b"%PDF-1.7\n" + bytes(2000), "Đơn vị;HBT\n".encode()],
    ids=["empty", "truncated-zip", "random", "pdf", "text"],
)
def test_non_workbooks_are_refused_and_the_worker_lives_on(reader, data):
    assert_refused(reader, data, "not_workbook")


def test_an_oversized_file_is_refused_before_the_worker_sees_it(reader):
    from tracker.intake.safety import MAX_FILE_BYTES

    reader.start()  # when this test runs alone, the worker would otherwise start for the good file after
    before = reader.workers_started
    err = assert_refused(reader, b"PK\x03\x04" + bytes(MAX_FILE_BYTES), "too_large")
    assert "10,0 MB" in err.message_vi
    assert reader.workers_started == before


def test_an_ods_with_a_dtd_is_refused(reader):
    content = billion_laughs(
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>'
    )
    assert_refused(reader, ods_bytes(content), "xml_attack")


def test_an_encrypted_ods_is_recognised(reader):
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry>'
        "</manifest:manifest>"
    )
    ciphertext = bytes(range(256)) * 8
    assert_refused(reader, ods_bytes(ciphertext, manifest=manifest), "encrypted")


def test_ods_repeated_rows_are_not_expanded_beyond_the_window(reader):
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="Báo cáo"><table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="7">'
        "<text:p>7</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    from tracker.intake.grid import MAX_COLS, MAX_ROWS

    sheet = reader.read(ods_bytes(content)).sheets["Báo cáo"]
    assert sheet.truncated
    assert len(sheet.cells) == MAX_ROWS * MAX_COLS
    assert sheet.get(MAX_ROWS, MAX_COLS).value == 7


def ods_bytes(content: str | bytes, manifest: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        if manifest:
            zf.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ the worker itself


def test_a_worker_killed_mid_read_is_reported_and_replaced():
    import os
    import signal
    import threading

    with WorkbookReader(timeout=30) as r:
        r.read(xlsx_bytes(district_workbook()))  # the worker is up and idle
        killer = threading.Timer(0.3, os.kill, (r.worker_pid, signal.SIGKILL))
        killer.start()
        with pytest.raises(UnreadableWorkbook) as err:
            r._debug("sleep", seconds=20)
        killer.join()
        assert err.value.code == "crashed" and "SIGKILL" in err.value.message_en
        assert r.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"


def test_a_hanging_read_times_out_and_the_next_file_reads():
    with WorkbookReader(timeout=0.5) as r:
        with pytest.raises(UnreadableWorkbook) as err:
            r._debug("sleep", seconds=30)
        assert err.value.code == "timeout"
        assert err.value.message_vi.startswith("Đọc tệp quá lâu")
        assert r.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"


def test_running_out_of_memory_is_a_crash_of_the_worker_only(reader):
    from tracker.intake._worker import MEMORY_HEADROOM

    assert reader._debug("memory", bytes=MEMORY_HEADROOM // 4)["ok"] is False  # fits: an ordinary reply
    with pytest.raises(UnreadableWorkbook) as err:
        reader._debug("memory", bytes=2 * MEMORY_HEADROOM)  # lazily zeroed: only RLIMIT_AS refuses it
    assert err.value.code == "crashed"
    assert "memory limit" in err.value.message_en
    assert reader.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"


def test_without_the_test_switch_the_hooks_do_nothing(monkeypatch):
    import time

    from tracker.intake._worker import MEMORY_HEADROOM

    monkeypatch.delenv("TRACKER_READER_TEST_HOOKS")
    with WorkbookReader(timeout=10) as r:
        r.start()
        pid = r.worker_pid
        for action, fields in (("abort", {}), ("sleep", {"seconds": 30}), ("memory", {"bytes": 2 * MEMORY_HEADROOM})):
            started = time.monotonic()
            reply = r._debug(action, **fields)
            assert reply["ok"] is False and reply["code"] == "not_workbook", action  # an empty file, nothing more
            assert time.monotonic() - started < 5, action
        assert r.worker_pid == pid  # it never died, so it was never replaced


@pytest.mark.parametrize(("env", "allowed"), [
    ({}, False),
    ({"TRACKER_READER_TEST_HOOKS": "1"}, False),  # the switch outside a test run
    ({"PYTEST_CURRENT_TEST": "tests/test_reader.py::x (call)"}, False),  # a test run that did not ask
    ({"TRACKER_READER_TEST_HOOKS": "yes", "PYTEST_CURRENT_TEST": "tests/test_reader.py::x (call)"}, False),
    ({"TRACKER_READER_TEST_HOOKS": "1", "PYTEST_CURRENT_TEST": "tests/test_reader.py::x (call)"}, True),
])
def test_the_hooks_need_the_switch_and_a_running_test(env, allowed):
    from tracker.intake._worker import hooks_allowed

    assert hooks_allowed(env) is allowed


def test_a_worker_that_died_while_idle_is_replaced_transparently():
    import os
    import signal

    with WorkbookReader() as r:
        r.start()
        pid = r.worker_pid
        os.kill(pid, signal.SIGKILL)
        assert r.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"
        assert r.worker_pid != pid


def test_close_stops_the_worker():
    import os

    r = WorkbookReader()
    r.start()
    pid = r.worker_pid
    r.close()
    assert r.worker_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_shared_reader_starts_on_demand_and_closes():
    from tracker.intake.reader import close_reader, default_reader, read_workbook

    assert read_workbook(xlsx_bytes(district_workbook()), "a.xlsx").format == "xlsx"
    assert default_reader().worker_pid is not None
    close_reader()


def test_a_huge_text_repeated_in_every_cell_is_refused(reader):
    row = "".join(f'<c r="{col}1" t="s"><v>0</v></c>' for col in "ABCDEFGHIJ")
    sheet = SHEET_XML.replace('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', f'<row r="1">{row}</row>')
    strings = f'<sst xmlns="{MAIN_NS}"><si><t>{"x" * 1_000_000}</t></si></sst>'
    assert_refused(reader, raw_xlsx(sheet=sheet, strings=strings), "too_many_cells")


def test_a_large_sheet_is_streamed_with_the_same_result(reader):
    from tracker.intake._worker import STREAM_ABOVE_BYTES
    from tracker.intake.grid import MAX_ROWS

    text = "dài " * 150
    rows = "".join(
        f'<row r="{r}" hidden="{int(r == 7)}"><c r="A{r}" t="inlineStr"><is><t>{text}</t></is></c>'
        f'<c r="B{r}"><v>{r}</v></c></row>'
        for r in range(1, 2001)
    )
    merged = '<mergeCells><mergeCell ref="C1:D2"/></mergeCells>'
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData>{merged}</worksheet>'
    assert len(sheet.encode()) > STREAM_ABOVE_BYTES
    grid = reader.read(raw_xlsx(sheet=sheet)).sheets["Báo cáo"]
    assert grid.truncated
    assert grid.get(MAX_ROWS, 2).value == MAX_ROWS and grid.get(MAX_ROWS + 1, 2) is None
    assert grid.get(1, 1).value == text
    assert grid.hidden_rows == {7}
    assert grid.merged == [(1, 3, 2, 4)]


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_error_values_and_hidden_rows_in_libreoffice_files(reader, suffix):
    data = (FIXTURES / f"bao-cao-HBT-loi-va-dong-an.{suffix}").read_bytes()
    sheet = reader.read(data).sheets["Báo cáo"]
    assert (sheet.get(8, 5).value, sheet.get(8, 5).error) == (None, "#N/A")
    assert (sheet.get(10, 5).value, sheet.get(10, 5).error) == (None, "#DIV/0!")
    assert sheet.hidden_rows == {9}
    assert sheet.get(9, 5).value == 41  # a hidden row is still read; the parser decides what it means
    if suffix != "xls":  # .xls keeps formulas as bytecode: the cached result is read, the text is not
        assert sheet.get(8, 5).formula == "=NA()"


def test_an_xls_with_a_cell_at_the_far_corner_is_refused_before_calamine(reader):
    data = (FIXTURES / "bao-cao-HBT-2023-06-30.xls").read_bytes()
    rk_d11 = b"\x7e\x02\x0a\x00\x0a\x00\x03\x00"  # the RK record of D11 (4200): row 10, column 3
    assert data.count(rk_d11) == 1
    data = data.replace(rk_d11, b"\x7e\x02\x0a\x00\xff\xff\xff\x00")  # now at IV65536
    assert_refused(reader, data, "too_many_cells")


def test_a_dtd_in_a_part_the_reader_does_not_need_is_refused_too(reader):
    # later steps (the annotated copy) open the original with openpyxl: no part may carry a DTD
    comments = billion_laughs(f'<comments xmlns="{MAIN_NS}"><t>Đơn vị</t></comments>')
    assert_refused(reader, raw_xlsx(extra={"xl/comments1.xml": comments.encode()}), "xml_attack")


def test_a_large_shared_string_table_is_streamed(reader):
    from tracker.intake._worker import STREAM_ABOVE_BYTES

    strings = f'<sst xmlns="{MAIN_NS}">' + "".join(f"<si><t>chuỗi số {i:06d} {'x' * 60}</t></si>" for i in range(20000))
    strings += "</sst>"
    assert len(strings.encode()) > STREAM_ABOVE_BYTES
    sheet = SHEET_XML.replace("<v>0</v></c>", '<v>5</v></c><c r="B1" t="s"><v>19999</v></c>')
    grid = reader.read(raw_xlsx(sheet=sheet, strings=strings)).sheets["Báo cáo"]
    assert grid.get(1, 1).value.startswith("chuỗi số 000005 ")
    assert grid.get(1, 2).value.startswith("chuỗi số 019999 ")


def test_shared_formulas_are_given_as_they_read_in_each_cell(reader):
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B2" si="0">A1*2</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><f t="shared" si="0"/><v>6</v></c></row>'
    )
    sheet = reader.read(raw_xlsx(sheet=f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData></worksheet>'))
    b1, b2 = sheet.sheets["Báo cáo"].get(1, 2), sheet.sheets["Báo cáo"].get(2, 2)
    assert (b1.formula, b1.value) == ("=A1*2", 2)
    assert (b2.formula, b2.value) == ("=A2*2", 6)


def test_1904_dates_and_durations(reader):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws["A1"] = date(2023, 6, 30)
    ws["A2"] = 1.5
    ws["A2"].number_format = "[h]:mm"  # 36:00 elapsed: a number of days, not a date
    sheet = reader.read(xlsx_bytes(wb)).sheets["Sheet"]
    assert sheet.get(1, 1).value == date(2023, 6, 30)
    assert sheet.get(2, 1).value == 1.5


def test_rows_and_cells_without_addresses_are_placed_in_order(reader):
    # the r attributes are optional in OOXML; some writers leave them out
    rows = '<row><c t="inlineStr"><is><t>Đơn vị</t></is></c><c t="inlineStr"><is><t>HBT</t></is></c></row><row/>'
    rows += '<row><c r="C3"><v>7</v></c><c><v>8</v></c></row>'
    grid = reader.read(raw_xlsx(sheet=f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData></worksheet>'))
    cells = {key: cell.value for key, cell in grid.sheets["Báo cáo"].cells.items()}
    assert cells == {(1, 1): "Đơn vị", (1, 2): "HBT", (3, 3): 7, (3, 4): 8}


# ---------------------------------------------------------------------------- one sheet, and reading ahead


def _two_sheet_workbook(report_title: str) -> openpyxl.Workbook:
    wb = district_workbook()
    wb["Báo cáo"].title = report_title
    guide = wb.create_sheet("Hướng dẫn", 0)
    guide["A1"] = "Điền số liệu vào các ô màu vàng"
    return wb


def test_with_a_sheet_name_only_the_sheet_it_names_is_read_and_every_name_is_listed(reader):
    data = xlsx_bytes(_two_sheet_workbook("BAO CAO"))  # any case, no diacritics
    grid = reader.read(data, sheet="Báo cáo")
    assert grid.sheet_names == ["Hướng dẫn", "BAO CAO"]
    assert list(grid.sheets) == ["BAO CAO"]
    assert grid.sheets["BAO CAO"].get(3, 2).value == "HBT"
    assert set(reader.read(data).sheets) == {"Hướng dẫn", "BAO CAO"}  # without: every sheet


def test_with_a_sheet_name_a_workbook_of_one_sheet_is_read_whatever_its_name(reader):
    wb = district_workbook()
    wb.active.title = "Sheet1"
    grid = reader.read(xlsx_bytes(wb), sheet="Báo cáo")
    assert list(grid.sheets) == ["Sheet1"] and grid.sheets["Sheet1"].get(3, 2).value == "HBT"


def test_with_a_sheet_name_no_sheet_is_read_when_none_is_named_so_among_several(reader):
    grid = reader.read(xlsx_bytes(_two_sheet_workbook("Số liệu")), sheet="Báo cáo")
    assert grid.sheet_names == ["Hướng dẫn", "Số liệu"] and grid.sheets == {}


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_with_a_sheet_name_xls_and_ods_are_still_read_whole(reader, suffix):
    # calamine and the ODS stream go through every sheet anyway; a rebuilt annotated copy keeps them
    data = (FIXTURES / f"bao-cao-HBT-2023-06-30.{suffix}").read_bytes()
    full = reader.read(data)
    assert set(full.sheets) == {"Báo cáo", "Hướng dẫn"}
    assert reader.read(data, sheet="Báo cáo") == full


def test_a_submitted_read_holds_the_reader_until_its_result_is_taken():
    import threading

    data = xlsx_bytes(district_workbook())
    with WorkbookReader(timeout=10) as r:
        pending = r.submit(data, "a.xlsx")
        got: list = []
        other = threading.Thread(target=lambda: got.append(r.read(data, "b.xlsx")))
        other.start()
        other.join(0.5)
        assert other.is_alive() and not got  # waits: one read in flight per worker
        assert pending.result().sheets["Báo cáo"].get(3, 2).value == "HBT"
        other.join(10)
        assert got and got[0].sheets["Báo cáo"].get(3, 2).value == "HBT"
        with pytest.raises(RuntimeError):
            pending.result()  # a result is taken once


def test_a_reply_collected_after_the_timeout_is_still_the_files_grid():
    import time

    with WorkbookReader(timeout=0.5) as r:
        pending = r.submit(xlsx_bytes(district_workbook()))
        time.sleep(1.2)  # the caller was busy storing the previous file; the worker finished long ago
        assert pending.result().sheets["Báo cáo"].get(3, 2).value == "HBT"
        assert r.workers_started == 1


def test_a_discarded_read_frees_the_reader_for_the_next_file():
    with WorkbookReader(timeout=10) as r:
        r.submit(xlsx_bytes(district_workbook())).discard()
        assert r.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"


def test_a_file_refused_before_sending_does_not_hold_the_reader():
    with WorkbookReader(timeout=10) as r:
        with pytest.raises(UnreadableWorkbook) as err:
            r.submit(b"")
        assert err.value.code == "not_workbook"
        assert r.read(xlsx_bytes(district_workbook())).sheets["Báo cáo"].get(3, 2).value == "HBT"


# ---------------------------------------------------------------------------- zip members read straight from the bytes


def _archives() -> list[tuple[str, bytes]]:
    """Workbooks from every writer the tests have: openpyxl, LibreOffice (xlsx, ods), a raw script, and one
    with stored (uncompressed) members and a data descriptor, as streaming writers make them."""
    out = [(p.name, p.read_bytes()) for p in sorted(FIXTURES.glob("*.xlsx")) + sorted(FIXTURES.glob("*.ods"))]
    out.append(("openpyxl", xlsx_bytes(district_workbook())))
    out.append(("raw", raw_xlsx()))
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        for name in ("[Content_Types].xml", "xl/workbook.xml"):
            with zf.open(name, "w") as fh:  # written as a stream: sizes follow the data (flag 0x08)
                fh.write(f"<x>{name}</x>".encode())
    out.append(("stored", stored.getvalue()))
    return out


@pytest.mark.parametrize("label,data", _archives(), ids=[label for label, _ in _archives()])
def test_members_read_straight_from_the_bytes_equal_what_zipfile_reads(label, data):
    from tracker.intake.safety import _member_direct, read_member

    zf = zipfile.ZipFile(io.BytesIO(data))
    direct = 0
    for info in zf.infolist():
        if info.file_size:
            assert read_member(zf, info.filename, data) == zf.read(info.filename), info.filename
            direct += _member_direct(data, info, info.file_size) is not None
    assert direct == sum(1 for i in zf.infolist() if i.file_size)  # none of them needed zipfile


def test_a_member_whose_bytes_do_not_match_its_crc_is_corrupt():
    from tracker.intake.safety import read_member

    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        out.writestr("xl/workbook.xml", b"<workbook>abc</workbook>")
    body = bytearray(stored.getvalue())
    body[body.find(b"abc")] = ord("x")  # same length, other bytes: only the CRC can tell
    zf = zipfile.ZipFile(io.BytesIO(bytes(body)))
    with pytest.raises(UnreadableWorkbook) as err:
        read_member(zf, "xl/workbook.xml", bytes(body))
    assert err.value.code == "corrupt"
    assert "xl/workbook.xml: bad CRC-32" in err.value.message_en and " / " not in err.value.message_en


def test_a_local_header_that_disagrees_with_the_directory_is_left_to_zipfile():
    from tracker.intake.safety import _member_direct, read_member

    data = raw_xlsx()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("[Content_Types].xml")
    local_name = info.header_offset + 30
    assert data[local_name:local_name + 19] == b"[Content_Types].xml"
    patched = data[:local_name] + b"[Content_Types].xmX" + data[local_name + 19:]
    assert _member_direct(patched, info, info.file_size) is None
    with pytest.raises(UnreadableWorkbook) as err:  # zipfile refuses the mismatch: the file is corrupt
        read_member(zipfile.ZipFile(io.BytesIO(patched)), "[Content_Types].xml", patched)
    assert err.value.code == "corrupt"


@pytest.mark.parametrize("namespace", [MAIN_NS, "http://purl.oclc.org/ooxml/spreadsheetml/main"], ids=["transitional",
                                                                                                   "strict"])
def test_cells_written_with_a_namespace_prefix_read_like_plain_ones(reader, namespace):
    cells = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><t>Luỹ </t></r><r><t>kế</t></r>'
             '</is></c><c r="C1"><v>12</v></c><c r="D1"><f>C1*2</f><v>24</v></c><c r="E1" t="e"><v>#N/A</v></c></row>')
    plain = f'<worksheet xmlns="{namespace}"><sheetData>{cells}</sheetData></worksheet>'
    prefixed = (f'<x:worksheet xmlns:x="{namespace}"><x:sheetData>'
                + cells.replace("<", "<x:").replace("<x:/", "</x:") + "</x:sheetData></x:worksheet>")
    strings = f'<sst xmlns="{namespace}"><si><t>Đơn vị</t></si></sst>'
    a = reader.read(raw_xlsx(sheet=plain, strings=strings)).sheets["Báo cáo"]
    b = reader.read(raw_xlsx(sheet=prefixed, strings=strings)).sheets["Báo cáo"]
    assert a.cells == b.cells
    assert [(c.value, c.formula, c.error) for c in a.cells.values()] == [
        ("Đơn vị", None, None), ("Luỹ kế", None, None), (12, None, None), (24, "=C1*2", None), (None, None, "#N/A")]


def test_a_refusal_stays_a_refusal_through_a_context_manager():
    """contextlib sets ``__traceback__`` on what passes through a generator's ``with``: the refusal must allow it."""
    import contextlib

    from tracker.intake.grid import UnreadableCode

    @contextlib.contextmanager
    def opened():
        yield

    with pytest.raises(UnreadableWorkbook) as caught, opened():
        raise UnreadableWorkbook(UnreadableCode.corrupt, "Tệp hỏng", "Damaged file")
    assert caught.value.code is UnreadableCode.corrupt and str(caught.value) == "Tệp hỏng / Damaged file"
    assert {caught.value}  # still hashable, by identity
