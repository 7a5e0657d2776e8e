"""The message catalogue: every finding the tracker reports about an upload — its code, its severity, and its
Vietnamese and English text (docs/sheet-format.md §7, §8, §14).

A finding is made from here and nowhere else (:func:`tracker.findings.make`): the code picks the entry, a
*variant* the wording where one code is said differently in different places (the weekly sheet and the
targets workbook, a missing label and a missing value), and named parameters fill the template
(``str.format``). A parameter whose wording depends on the language (an indicator's ``label`` and
``label_en``, a part of a sentence from :data:`PARTS`) is a :class:`Bilingual`; anything else is the same in
both languages (a cell, a number already formatted, a file name).

Both texts are rendered when a finding is made and stored with it, so the reports, the e-mails and the portal
show them without coming back here; :func:`render` gives either language, which is what a cluster set to
English would use.

The codes are stable: tests, the mailbox area and the stored findings rely on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Language = Literal["vi", "en"]


@dataclass(frozen=True)
class Bilingual:
    """A text in Vietnamese and English: a template of the catalogue, or a parameter whose wording depends on
    the language."""

    vi: str
    en: str

    def pick(self, lang: Language) -> str:
        return self.vi if lang == "vi" else self.en

    def render(self, lang: Language, params: Mapping[str, object]) -> str:
        """The template in ``lang`` with ``params`` filled in (a :class:`Bilingual` or :class:`Filled` parameter
        in ``lang`` too)."""
        return self.pick(lang).format_map({k: v.pick(lang) if type(v) in _WORDED else v for k, v in params.items()})

    def render_both(self, params: Mapping[str, object]) -> tuple[str, str]:
        """:meth:`render` in Vietnamese and in English, in one pass over ``params`` (every finding is made so)."""
        vi = en = params
        for k, v in params.items():
            if type(v) in _WORDED:
                if vi is params:
                    vi, en = dict(params), dict(params)
                vi[k], en[k] = v.pick("vi"), v.pick("en")
        return self.vi.format_map(vi), self.en.format_map(en)

    def fill(self, **params: object) -> Filled:
        """The template with ``params``: a part of a sentence, to be a parameter of another message."""
        return Filled(self, params)


class Filled:
    """A template with its parameters, worded in a language only when a message that holds it is rendered: the
    parts of sentences made ready for each cell are rarely needed (most cells are fine)."""

    __slots__ = ("params", "wording")

    def __init__(self, wording: Bilingual, params: Mapping[str, object]):
        self.wording, self.params = wording, params

    def pick(self, lang: Language) -> str:
        return self.wording.render(lang, self.params)


_WORDED = frozenset({Bilingual, Filled})  # parameters worded per language (exact types: checked for every finding)


@dataclass(frozen=True)
class Code:
    """One finding code: its severity, when it is reported (for docs and tests), and its wording by variant
    (``""``: the usual one)."""

    severity: Severity
    about: str
    texts: Mapping[str, Bilingual]


def _one(vi: str, en: str) -> dict[str, Bilingual]:
    return {"": Bilingual(vi, en)}


# Cell problems (excel_error, formula_no_value, value_not_number) say what the cell should hold: one of these.
PARTS: dict[str, Bilingual] = {
    "district": Bilingual("tên đơn vị", "district"),
    "as_of": Bilingual("ngày số liệu", "as-of date"),
    "indicator_code": Bilingual("mã chỉ tiêu", "indicator code"),
    "ytd": Bilingual("{header} của chỉ tiêu '{name}'", "year to date of '{name}'"),
    "period": Bilingual("{header} của chỉ tiêu '{name}'", "this period of '{name}'"),
    "unknown_sender": Bilingual("(không rõ)", "(unknown)"),
    "figure": Bilingual("cột '{header}'", "'{header}' column"),
}


def part(which: str, /, **params: object) -> Filled:
    """A part of a sentence from :data:`PARTS`, filled in."""
    return PARTS[which].fill(**params)


# -- the catalogue ----------------------------------------------------------------------------------------------

# The file itself: the safe reader's refusals ("file_" + UnreadableWorkbook.code, docs/sheet-format.md §12).
# ``detail`` is what was found, in the message's language.
_FILE: dict[str, Code] = {
    "file_too_large": Code("error", "the file is over the size cap", _one(
        "Tệp quá lớn ({size}); giới hạn là {limit}. Một báo cáo chỉ cần một bảng tính nhỏ.",
        "The file is too large ({size}); the limit is {limit}. A report needs only a small workbook.")),
    "file_not_workbook": Code("error", "the bytes are not a workbook", {
        "": Bilingual("Tệp không phải là bảng tính đọc được (.xlsx, .xlsm, .xls hoặc .ods).",
                      "The file is not a readable workbook (.xlsx, .xlsm, .xls or .ods)."),
        "detail": Bilingual("Tệp không phải là bảng tính đọc được (.xlsx, .xlsm, .xls hoặc .ods) ({detail}).",
                            "The file is not a readable workbook (.xlsx, .xlsm, .xls or .ods) ({detail}).")}),
    "file_encrypted": Code("error", "the workbook is password-protected", _one(
        "Tệp được bảo vệ bằng mật khẩu nên không đọc được. Hãy gỡ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm "
        "việc) rồi gửi lại.",
        "The file is password-protected and cannot be read. Remove the password and send it again.")),
    "file_zip_bomb": Code("error", "an abnormal zip structure (entries, sizes, compression ratio)", _one(
        "Tệp có cấu trúc nén bất thường ({detail}), có thể là tệp độc hại, nên không được đọc.",
        "The file's compressed structure is abnormal ({detail}), possibly malicious; it was not read.")),
    "file_xml_attack": Code("error", "XML with a DTD or entities", _one(
        "Tệp chứa khai báo XML không được phép (DTD/thực thể) trong phần {detail}, có thể là tệp độc hại, "
        "nên không được đọc.",
        "The file contains forbidden XML declarations (DTD/entities) in part {detail}, possibly malicious; "
        "it was not read.")),
    "file_too_many_cells": Code("error", "a sheet declares an oversized range", _one(
        "Trang tính khai báo vùng dữ liệu quá lớn ({detail}) nên không được đọc.",
        "A sheet declares an oversized data range ({detail}); it was not read.")),
    "file_timeout": Code("error", "reading took longer than the time limit", _one(
        "Đọc tệp quá lâu (hơn {detail} giây) nên đã dừng; tệp có thể bị hỏng hoặc độc hại.",
        "Reading the file took too long (over {detail} s) and was stopped; the file may be damaged or malicious.")),
    "file_crashed": Code("error", "the reader process died (memory limit, crash)", _one(
        "Trình đọc bảng tính gặp sự cố khi đọc tệp này ({detail}); tệp có thể bị hỏng hoặc độc hại.",
        "The workbook reader failed on this file ({detail}); the file may be damaged or malicious.")),
    "file_corrupt": Code("error", "a damaged workbook", _one(
        "Tệp bảng tính bị hỏng, không đọc được ({detail}). Hãy mở và lưu lại bằng Excel hoặc LibreOffice rồi gửi lại.",
        "The workbook is damaged and cannot be read ({detail}). Open and save it again in Excel or LibreOffice, "
        "then send it again.")),
}

# The sheet and its labels (§2, §4). ``label``: the label as the sheet format writes it; ``rows``: how many
# rows labels are looked for in.
_SHEET: dict[str, Code] = {
    "no_report_sheet": Code("error", "no sheet named `Báo cáo`, and more than one sheet", _one(
        "Không tìm thấy trang '{sheet_name}' (tệp có các trang: {listed}); hãy đặt tên trang báo cáo là "
        "'{sheet_name}'.",
        "No sheet named '{sheet_name}' (the workbook has: {listed}); name the report sheet '{sheet_name}'.")),
    "district_missing": Code("error", "no `Đơn vị` label, or nothing to its right", {
        "no_label": Bilingual(
            "Không tìm thấy nhãn '{label}' trong {rows} dòng đầu; hãy ghi '{label}' và tên đơn vị bên phải.",
            "No '{label}' (district) label in the first {rows} rows; write it with the district's name to its "
            "right."),
        "no_value": Bilingual("Chưa ghi tên đơn vị bên phải ô '{label}'.",
                              "The district is missing to the right of this label.")}),
    "district_unknown": Code("error", "the district is neither a code nor a name of this cluster", {
        "": Bilingual("Đơn vị '{shown}' không thuộc {cluster}; ghi mã đơn vị ({codes}) hoặc tên đơn vị.",
                      "'{shown}' is not a district of this cluster; write its code ({codes}) or its name."),
        "targets": Bilingual("Đơn vị '{shown}' không thuộc cụm thi đua này.",
                             "'{shown}' is not a district of this cluster.")}),
    "date_missing": Code("error", "no `Số liệu tính đến ngày` label, or nothing to its right", {
        "no_label": Bilingual("Không tìm thấy nhãn '{label}' trong {rows} dòng đầu.",
                              "No '{label}' (as-of date) label in the first {rows} rows."),
        "no_value": Bilingual("Chưa ghi ngày số liệu bên phải ô '{label}' (dạng dd/mm/yyyy).",
                              "The as-of date is missing to the right of this label (write dd/mm/yyyy).")}),
    "date_invalid": Code("error", "the as-of date cannot be read as a date", _one(
        "Ngày '{shown}' không hợp lệ; ghi ngày có thật theo dạng dd/mm/yyyy, ví dụ 30/06/{year}.",
        "'{shown}' is not a valid date; write a real date as dd/mm/yyyy, e.g. 30/06/{year}.")),
    "date_future": Code("error", "the as-of date is more than one day after the day the file was received", _one(
        "Ngày số liệu {as_of} nằm trong tương lai (tệp nhận ngày {received}).",
        "The as-of date {as_of} is in the future (file received on {received}).")),
    "date_outside_year": Code(
        "error", "the as-of date is in a year with no registered targets (other than the cluster year and the next)",
        _one("Ngày số liệu {as_of} nằm ngoài năm thi đua: năm {as_of_year} chưa có chỉ tiêu đăng ký (năm thi đua "
             "hiện tại là {year}).",
             "The as-of date {as_of} is outside the cluster years: {as_of_year} has no registered targets (the "
             "current cluster year is {year}).")),
}

# The table (§5). ``header``: a column's header as the sheet format writes it; ``name``: an indicator's label
# (a Bilingual of ``label`` and ``label_en``, unless said otherwise); ``shown``: a cell as a person sees it.
_TABLE: dict[str, Code] = {
    "table_missing": Code("error", "no row holds a `Mã chỉ tiêu` header (`Mã đơn vị` in a targets workbook or a "
                                   "summary)", {
        "": Bilingual("Không tìm thấy bảng số liệu: cần một dòng tiêu đề có ô '{header}'.",
                      "No table: a header row with a '{header}' cell is required."),
        "targets": Bilingual("Không tìm thấy dòng tiêu đề có ô '{header}'.",
                             "No header row with a '{header}' cell."),
        "history": Bilingual("Không tìm thấy bảng số liệu: cần một dòng tiêu đề có các cột {required}.",
                             "No table: a header row with the columns {required} is required.")}),
    "ytd_column_missing": Code("error", "the header row has no `Lũy kế từ đầu năm` column", _one(
        "Dòng tiêu đề không có cột '{header}'.",
        "The header row has no '{header}' (year to date) column.")),
    "table_empty": Code("error", "no indicator rows below the header", {
        "": Bilingual("Bảng không có dòng chỉ tiêu nào ngay dưới dòng tiêu đề (dòng {row}).",
                      "The table has no indicator rows right below its header (row {row})."),
        "targets": Bilingual("Bảng chỉ tiêu không có dòng đơn vị nào.", "The targets table has no district rows."),
        "history": Bilingual("Bảng không có dòng số liệu nào ngay dưới dòng tiêu đề (dòng {row}).",
                             "The table has no figure rows right below its header (row {row}).")}),
    "table_truncated": Code("error", "the table runs past the rows the reader takes in", _one(
        "Bảng dài quá {rows} dòng, không đọc hết được.",
        "The table runs past row {rows} and cannot be read whole.")),
    "indicator_unknown": Code("error", "a table row names no indicator of this cluster", {
        "": Bilingual("Chỉ tiêu '{shown}' không có trong danh sách của cụm ({keys}).",
                      "'{shown}' is not an indicator of this cluster ({keys})."),
        "no_code": Bilingual("Dòng {row} có số liệu nhưng không ghi mã chỉ tiêu ({keys}).",
                             "Row {row} holds figures but names no indicator ({keys}).")}),
    "indicator_duplicate": Code("error", "the same indicator appears twice", _one(
        "Chỉ tiêu '{name}' xuất hiện hai lần (đã có ở ô {first}).",
        "'{name}' appears twice (already at {first}).")),
    # ``name``: the indicator's label in Vietnamese, its key in English.
    "indicator_after_gap": Code("error", "an indicator row follows an empty row, so it would be ignored", _one(
        "Dòng {empty_row} trống nên bảng kết thúc ở đó; chỉ tiêu '{name}' ở dòng {row} sẽ bị bỏ qua. "
        "Hãy xoá dòng trống.",
        "Row {empty_row} is empty, so the table ends there and '{name}' in row {row} would be ignored. "
        "Delete the empty row.")),
    "merged_cells": Code("error", "merged cells inside the table", _one(
        "Bảng số liệu có ô gộp ({span}); hãy bỏ gộp ô (Unmerge) để mỗi chỉ tiêu một dòng.",
        "The table has merged cells ({span}); unmerge them so each indicator has its own row.")),
    "hidden_row": Code("error", "a hidden row inside the table", _one(
        "Dòng {row} của bảng đang bị ẩn; hãy hiện dòng (Unhide) và kiểm tra số liệu trong đó.",
        "Row {row} of the table is hidden; unhide it and check what it holds.")),
    "figure_wrong_column": Code(
        "error", "the year-to-date cell is blank but a number sits in another column", _one(
            "Ô '{header}' của chỉ tiêu '{name}' để trống nhưng ô {cell} có số '{shown}'; hãy ghi số lũy kế "
            "vào ô {ytd_cell}.",
            "The year-to-date cell of '{name}' is blank but {cell} holds the number '{shown}'; type the "
            "year-to-date figure in {ytd_cell}.")),
    "no_figures": Code("error", "not a single figure filled in", _one(
        "Chưa điền số liệu nào ở cột '{header}'.",
        "No figure is filled in the '{header}' column.")),
}

# Cell values. ``what``: what the cell should hold (one of PARTS).
_VALUES: dict[str, Code] = {
    "value_not_number": Code("error", "a figure that is not a number", {
        "": Bilingual("'{shown}' không phải là số ({what}).", "'{shown}' is not a number ({what})."),
        "targets": Bilingual("'{shown}' không phải là số (chỉ tiêu '{name}').",
                             "'{shown}' is not a number ('{name}').")}),
    "value_negative": Code("error", "a negative year-to-date figure", {
        "": Bilingual("Số lũy kế của chỉ tiêu '{name}' không được âm ('{shown}').",
                      "The year-to-date figure of '{name}' cannot be negative ('{shown}')."),
        "targets": Bilingual("Chỉ tiêu đăng ký không được âm ('{shown}').",
                             "A target cannot be negative ('{shown}').")}),
    "value_fractional": Code("error", "a fractional value for a count indicator", {
        "": Bilingual("Chỉ tiêu '{name}' đếm bằng số nguyên ({unit}); '{shown}' có phần lẻ.",
                      "'{name}' is counted in whole numbers ({unit}); '{shown}' has a fraction."),
        "targets": Bilingual("Chỉ tiêu '{name}' đếm bằng số nguyên; '{shown}' có phần lẻ.",
                             "'{name}' is counted in whole numbers; '{shown}' has a fraction.")}),
    "formula_no_value": Code("error", "a formula without a saved result (never read as 0 or blank)", {
        "": Bilingual("Ô chứa công thức {shown} nhưng không có kết quả được lưu ({what}); hãy mở tệp bằng Excel "
                      "rồi lưu lại, hoặc nhập số trực tiếp.",
                      "The cell holds the formula {shown} with no saved result ({what}); open and save the file "
                      "in Excel, or type the number."),
        "targets": Bilingual("Ô chứa công thức {shown} nhưng không có kết quả được lưu.",
                             "The cell holds the formula {shown} with no saved result.")}),
    "excel_error": Code("error", "an Excel error value such as #N/A or #REF!", {
        "": Bilingual("Ô hiển thị giá trị lỗi Excel {shown} ({what}); hãy nhập số liệu thật.",
                      "The cell shows the Excel error {shown} ({what}); type the real figure."),
        "targets": Bilingual("Ô hiển thị giá trị lỗi Excel {shown}.", "The cell shows the Excel error {shown}.")}),
}

# The targets workbook (§14).
_TARGETS: dict[str, Code] = {
    "no_targets_sheet": Code("error", "no sheet named `Chỉ tiêu đăng ký`, and more than one sheet", _one(
        "Không tìm thấy trang '{sheet_name}'.", "No sheet named '{sheet_name}'.")),
    "year_missing": Code("error", "no `Năm` label, or nothing to its right", {
        "no_label": Bilingual("Không tìm thấy nhãn '{label}' trong {rows} dòng đầu.",
                              "No '{label}' (year) label in the first {rows} rows."),
        "no_value": Bilingual("Chưa ghi năm bên phải ô '{label}'.", "The year is missing next to this label.")}),
    "year_invalid": Code("error", "the year is not a whole number from 2000 to the year after the cluster year", _one(
        "Năm '{shown}' không hợp lệ: ghi năm thi đua từ {first} đến {last}, ví dụ {year}.",
        "'{shown}' is not a valid year: write a cluster year from {first} to {last}, e.g. {year}.")),
    "district_duplicate": Code("error", "the same district appears twice", _one(
        "Đơn vị {district} xuất hiện hai lần (đã có ở ô {first}).",
        "District {district} appears twice (already at {first}).")),
    "no_indicator_columns": Code(
        "error", "the header row has no column headed by an indicator key or label", _one(
            "Dòng tiêu đề không có cột nào mang mã hoặc tên chỉ tiêu.",
            "The header row has no column headed by an indicator key or label.")),
}

# A summary of earlier figures (`tracker history import`, §15). ``what``: one of PARTS; ``name``: an indicator.
_HISTORY: dict[str, Code] = {
    "history_columns_missing": Code("error", "the header row of a summary lacks a required column", _one(
        "Dòng tiêu đề thiếu cột: {missing}. Cần đủ các cột {required}.",
        "The header row lacks the column(s) {missing}; {required} are required.")),
    "history_cell_blank": Code("error", "a row of a summary leaves a required cell blank", _one(
        "Dòng {row} để trống {what}.", "Row {row} leaves the {what} blank.")),
    "history_duplicate": Code("error", "a summary gives the same unit, indicator and date twice", _one(
        "Số liệu '{name}' của {district} đến ngày {as_of} xuất hiện hai lần (đã có ở ô {first}).",
        "The figure of '{name}' of {district} as of {as_of} appears twice (already at {first}).")),
}

# Checks that depend on who sent the file, not on its bytes (a later upload of the same bytes by someone else
# is judged afresh: tracker.findings.CONTEXT_CODES).
_SENDER: dict[str, Code] = {
    "sender_not_in_district": Code("error", "the e-mail sender is not a contact of the district", {
        # docs/portal-and-mailbox.md §9; ``sender`` is a Bilingual when the address is unknown
        "mailbox": Bilingual(
            "Người gửi không thuộc đơn vị: địa chỉ {sender} không có trong danh sách liên hệ của {district} hay "
            "của Cụm trưởng. Đề nghị đơn vị gửi báo cáo từ địa chỉ đã đăng ký.",
            "The sender does not belong to the district: {sender} is not a listed contact of {district} nor of "
            "the cluster head. Please send the sheet from a registered address."),
        # docs/portal-and-mailbox.md §4: it names no district (the finding is stored with the sheet's district)
        "portal_link": Bilingual(
            "Ô «Đơn vị» ghi một đơn vị khác, không phải đơn vị của đường dẫn này: tệp không được tiếp nhận. "
            "Mỗi đơn vị chỉ gửi báo cáo của mình, qua đường dẫn riêng của đơn vị; hãy kiểm tra lại tệp đã chọn.",
            "The 'Đơn vị' cell names another district than this link's: the file was not received. Each "
            "district sends only its own sheet, through its own link; check the file you chose.")}),
}

# Warnings (§8).
_WARNINGS: dict[str, Code] = {
    "sheet_truncated": Code("warning", "the sheet is larger than what is read; cells far away were ignored", _one(
        "Trang lớn hơn giới hạn đọc ({rows} dòng); các ô ở xa bảng đã bị bỏ qua.",
        "The sheet is larger than what is read ({rows} rows); cells far from the table were ignored.")),
    "indicator_blank": Code("warning", "an indicator left blank (not the same as 0)", _one(
        "Chỉ tiêu '{name}' để trống (khác với số 0); chỉ tiêu này được coi là chưa báo cáo tuần này.",
        "'{name}' is left blank (not the same as 0); it counts as not reported.")),
    "indicator_missing": Code("warning", "an indicator of the cluster has no row in the table", _one(
        "Bảng không có dòng cho chỉ tiêu '{name}' ({key}); chỉ tiêu này được coi là chưa báo cáo.",
        "The table has no row for '{name}' ({key}); it counts as not reported.")),
    "ytd_lower": Code("warning", "a year-to-date figure lower than the district's previous accepted one", _one(
        "Số lũy kế '{name}' giảm từ {previous} (số liệu đến {previous_date}) xuống {value}: đây là số đính "
        "chính.",
        "The year-to-date '{name}' went down from {previous} (as of {previous_date}) to {value}: a "
        "correction.")),
    "jump": Code("warning", "a week-over-week increase far outside the district's history", _one(
        "'{name}' tăng {gain} {unit} so với số liệu đến {last_date}, gấp hơn {factor} lần mức tăng lớn nhất "
        "mỗi tuần trong 13 tuần trước ({largest}); hãy kiểm tra lại (gõ thừa số 0?).",
        "'{name}' rose by {gain} since {last_date}, more than {factor} times the largest weekly increase of "
        "the 13 weeks before ({largest}); please check (an extra zero?).")),
    # docs/closing.md §3: stored and counted like any sheet, but the closed period's documents keep the frozen figures
    "amended_after_close": Code("warning", "a sheet dated inside a period whose figures were already closed", _one(
        "Sửa số liệu sau khi chốt: số liệu {period} đã được chốt ngày {closed_at} (số liệu đến {close_as_of}). "
        "Bảng tính này vẫn được tiếp nhận và tính vào tiến độ hiện tại, nhưng tài liệu sơ kết giữ số liệu đã "
        "chốt; Cụm trưởng sẽ thấy thay đổi này trong báo cáo tuần và quyết định có mở lại kỳ hay không.",
        "Amended after the close: the figures of {period} were closed on {closed_at} (as of {close_as_of}). "
        "This sheet is received and counts in the current progress, but the review documents keep the closed "
        "figures; the cluster head will see this change in the weekly report and decide whether to reopen.")),
    "period_mismatch": Code(
        "warning", "`Thực hiện trong kỳ` differs from the change in the year-to-date figure", _one(
            "'Thực hiện trong kỳ' của '{name}' là {period} nhưng số lũy kế tăng {expected} so với số liệu "
            "đến {last_date}.",
            "'This period' of '{name}' is {period} but the year to date rose by {expected} since "
            "{last_date}.")),
}

# Every code the tracker can report about an upload.
CODES: dict[str, Code] = {**_FILE, **_SHEET, **_TABLE, **_VALUES, **_TARGETS, **_HISTORY, **_SENDER, **_WARNINGS}


def template(code: str, variant: str = "", /) -> Bilingual:
    """The wording of ``code`` (KeyError for an unknown code or variant: a finding is never made up)."""
    return CODES[code].texts[variant]


def render(code: str, variant: str = "", lang: Language = "vi", /, **params: object) -> str:
    """The message of ``code`` in ``lang``."""
    return template(code, variant).render(lang, params)
