"""What the safe reader hands to the parser: plain data, no library objects.

``tracker.intake.reader.read_workbook(data, filename)`` turns untrusted bytes into a
:class:`WorkbookGrid` (in a child process with limits), or raises :class:`UnreadableWorkbook`.
Everything after that (finding labels, checking values) works on these plain structures and is
tested without files.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from tracker.findings import Finding, finding
from tracker.text import fold

CellValue = str | int | float | bool | date | datetime | time | None

# Bounds of what is read from a sheet: enough for the report layout, small enough to be safe.
MAX_ROWS = 500
MAX_COLS = 40
# A summary of figures (`tracker history import`, one row per figure) may ask the reader for more rows.
MAX_ROWS_LIMIT = 10_000


@dataclass(frozen=True)
class Cell:
    """One non-empty cell. ``row`` and ``col`` are 1-based, like Excel."""

    row: int
    col: int
    value: CellValue  # the cached value; None for a formula without a saved result
    formula: str | None = None  # the formula text (``=SUM(D5:D9)``) when the cell holds one
    error: str | None = None  # an Excel error value (``#N/A``, ``#REF!``, ...) when the cell shows one

    @property
    def ref(self) -> str:
        """``D9``."""
        return f"{column_letter(self.col)}{self.row}"


@dataclass
class SheetGrid:
    name: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)
    hidden_rows: set[int] = field(default_factory=set)
    hidden: bool = False  # the sheet itself is hidden
    truncated: bool = False  # the sheet is larger than MAX_ROWS × MAX_COLS; only that part was read

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))


@dataclass
class WorkbookGrid:
    format: str  # xlsx | xlsm | xls | ods
    sheet_names: list[str]
    sheets: dict[str, SheetGrid]  # the sheets that were read (all of them, up to a small number)


class UnreadableCode(enum.StrEnum):
    """Why a file could not be read. Stable: a refusal is stored as the finding ``file_<code>``."""

    too_large = "too_large"  # over the size limit, refused unread
    not_workbook = "not_workbook"  # empty, or not a spreadsheet container (by content, never by name)
    encrypted = "encrypted"  # password-protected
    zip_bomb = "zip_bomb"  # too many parts, or parts too large or too compressed
    xml_attack = "xml_attack"  # a DTD or entity declaration
    too_many_cells = "too_many_cells"  # an absurd declared range, or too much text
    timeout = "timeout"  # the reader took longer than its time limit
    crashed = "crashed"  # the reader process died, or ran out of its memory
    corrupt = "corrupt"  # a damaged container or part


@dataclass(eq=False)  # not frozen: raising sets __traceback__ (contextlib does so through setattr)
class UnreadableWorkbook(Exception):
    """The bytes cannot be read as a workbook, safely or at all."""

    code: UnreadableCode
    message_vi: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.message_vi} / {self.message_en}"


def refusal(exc: UnreadableWorkbook) -> Finding:
    """The finding ``file_<code>`` for a refused file: its texts were worded from the catalogue where the refusal
    was made (:func:`tracker.intake.safety.unreadable`, often in the reader's worker process)."""
    code = f"file_{exc.code}"
    return finding("error", code, exc.message_vi, exc.message_en)


def column_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def pick_sheet(names: Sequence[str], wanted: str | Sequence[str]) -> str | None:
    """The sheet named ``wanted`` (any case, with or without diacritics), else the only sheet, else None.

    ``wanted`` may list several names: the first one found wins (the intake reads a weekly sheet
    ``Báo cáo`` or a self-assessment ``Tự chấm điểm``). The parser chooses the report sheet with it, and
    the reader's worker uses it to read only that sheet.
    """
    for one in ([wanted] if isinstance(wanted, str) else wanted):
        key = fold(one)
        for name in names:
            if fold(name) == key:
                return name
    return names[0] if len(names) == 1 else None
