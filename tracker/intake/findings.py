"""Findings: the errors and warnings found in an upload, each a value naming its cell.

An **error** rejects the whole file; a **warning** is stored with the accepted figures and shown in
reports. Every finding carries a Vietnamese and an English message; the cell is written the way a
person finds it in Excel: ``Báo cáo!D9``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# Every code the intake can produce, with what it means (for the README, tests and the mailbox area).
CODES: dict[str, tuple[Severity, str]] = {
    # the file itself (the safe reader's refusals: "file_" + UnreadableWorkbook.code)
    "file_too_large": ("error", "the file is over the size cap"),
    "file_not_workbook": ("error", "the bytes are not a workbook"),
    "file_encrypted": ("error", "the workbook is password-protected"),
    "file_zip_bomb": ("error", "an abnormal zip structure (entries, sizes, compression ratio)"),
    "file_xml_attack": ("error", "XML with a DTD or entities"),
    "file_too_many_cells": ("error", "a sheet declares an oversized range"),
    "file_timeout": ("error", "reading took longer than the time limit"),
    "file_crashed": ("error", "the reader process died (memory limit, crash)"),
    "file_corrupt": ("error", "a damaged workbook"),
    # sheet, labels
    "no_report_sheet": ("error", "no sheet named `Báo cáo`, and more than one sheet"),
    "district_missing": ("error", "no `Đơn vị` label, or nothing to its right"),
    "district_unknown": ("error", "the district is neither a code nor a name of this cluster"),
    "date_missing": ("error", "no `Số liệu tính đến ngày` label, or nothing to its right"),
    "date_invalid": ("error", "the as-of date cannot be read as a date"),
    "date_future": ("error", "the as-of date is more than one day after the day the file was received"),
    "date_outside_year": ("error", "the as-of date is not in the cluster year"),
    # table
    "table_missing": ("error", "no row holds a `Mã chỉ tiêu` header"),
    "ytd_column_missing": ("error", "the header row has no `Lũy kế từ đầu năm` column"),
    "table_empty": ("error", "no indicator rows below the header"),
    "table_truncated": ("error", "the table runs past the rows the reader takes in"),
    "indicator_unknown": ("error", "a table row names no indicator of this cluster"),
    "indicator_duplicate": ("error", "the same indicator appears twice"),
    "indicator_after_gap": ("error", "an indicator row follows an empty row, so it would be ignored"),
    "merged_cells": ("error", "merged cells inside the table"),
    "hidden_row": ("error", "a hidden row inside the table"),
    "figure_wrong_column": ("error", "the year-to-date cell is blank but a number sits in another column"),
    "no_figures": ("error", "not a single figure filled in"),
    # cell values
    "value_not_number": ("error", "a figure that is not a number"),
    "value_negative": ("error", "a negative year-to-date figure"),
    "value_fractional": ("error", "a fractional value for a count indicator"),
    "formula_no_value": ("error", "a formula without a saved result (never read as 0 or blank)"),
    "excel_error": ("error", "an Excel error value such as #N/A or #REF!"),
    # the targets workbook
    "no_targets_sheet": ("error", "no sheet named `Chỉ tiêu đăng ký`, and more than one sheet"),
    "year_missing": ("error", "no `Năm` label, or nothing to its right"),
    "year_invalid": ("error", "the year is not the cluster year"),
    "district_duplicate": ("error", "the same district appears twice"),
    "no_indicator_columns": ("error", "the header row has no column headed by an indicator key or label"),
    # checks that depend on who sent the file, not on its bytes (a later upload of the same bytes by
    # someone else is judged afresh)
    "sender_not_in_district": ("error", "the e-mail sender is not a contact of the district"),
    # warnings
    "sheet_truncated": ("warning", "the sheet is larger than what is read; cells far away were ignored"),
    "indicator_blank": ("warning", "an indicator left blank (not the same as 0)"),
    "indicator_missing": ("warning", "an indicator of the cluster has no row in the table"),
    "ytd_lower": ("warning", "a year-to-date figure lower than the district's previous accepted one"),
    "jump": ("warning", "a week-over-week increase far outside the district's history"),
    "period_mismatch": ("warning", "`Thực hiện trong kỳ` differs from the change in the year-to-date figure"),
}


# Codes that judge the circumstances of an upload rather than its bytes.
CONTEXT_CODES = frozenset({"sender_not_in_district"})


@dataclass(frozen=True)
class Finding:
    """One error or warning. ``cell`` is the full reference ``Báo cáo!D9`` (None when no cell applies)."""

    severity: Severity
    code: str
    message_vi: str
    message_en: str
    sheet: str | None = None
    cell: str | None = None
    indicator: str | None = None

    @property
    def ref(self) -> str | None:
        """The cell without its sheet: ``D9``."""
        return self.cell.rsplit("!", 1)[1] if self.cell and "!" in self.cell else self.cell

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self, lang: str = "vi") -> str:
        """``Báo cáo!D9: <message>`` in one language."""
        message = self.message_vi if lang == "vi" else self.message_en
        return f"{self.cell}: {message}" if self.cell else message


def finding(severity: Severity, code: str, vi: str, en: str, *, sheet: str | None = None,
            ref: str | None = None, indicator: str | None = None) -> Finding:
    """A finding at ``sheet!ref`` (``ref`` like ``D9``)."""
    assert code in CODES, code
    cell = f"{sheet}!{ref}" if sheet and ref else None
    return Finding(severity, code, vi, en, sheet=sheet, cell=cell, indicator=indicator)


def stored_finding(row) -> Finding:
    """A finding read back from the ``finding`` table (any row with its columns as attributes)."""
    cell = f"{row.sheet}!{row.cell}" if row.sheet and row.cell else row.cell
    return Finding(row.severity, row.code, row.message_vi, row.message_en, sheet=row.sheet, cell=cell,
                   indicator=row.indicator_key)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning"]


def _position(f: Finding) -> tuple[int, int]:
    """(row, column) of a finding's cell, for ordering; findings without a cell come first."""
    ref = f.ref or ""
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return (int(digits) if digits else 0, col)


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors before warnings, each in reading order (row, then column)."""
    return sorted(findings, key=lambda f: (f.severity != "error", _position(f)))
