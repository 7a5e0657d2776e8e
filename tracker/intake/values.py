"""Reading one cell as a number or a date, the way people type them in Vietnam.

A cell is never quietly read as blank or 0: a formula without a saved result and an Excel error value
(``#N/A``) are problems of their own, reported with the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from tracker.intake.grid import Cell
from tracker.text import nfc, parse_date, parse_number

EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
                          "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!"})
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel serial numbers that are plausible as-of dates (2000-01-01 .. 2099-12-31).
_SERIAL_MIN, _SERIAL_MAX = 36526, 73050

Problem = Literal["formula_no_value", "excel_error", "not_number", "not_date"]


def is_blank(cell: Cell | None) -> bool:
    """Nothing in the cell: no value, no formula, no error (whitespace-only text counts as nothing)."""
    if cell is None:
        return True
    if cell.formula or cell.error:
        return False
    value = cell.value
    return value is None or (isinstance(value, str) and not value.strip())


def excel_error(cell: Cell) -> str | None:
    """The Excel error value the cell shows (``#N/A``), also when it came as text."""
    if cell.error:
        return cell.error
    if isinstance(cell.value, str) and cell.value.strip().upper() in EXCEL_ERRORS:
        return cell.value.strip().upper()
    return None


@dataclass(frozen=True)
class Read:
    """What a cell holds: a value, or a problem; both None means blank."""

    value: float | date | None = None
    problem: Problem | None = None
    shown: str = ""  # the text or error as the person sees it, for messages


def shown(cell: Cell | None) -> str:
    """The cell's content as a person sees it, short, for messages."""
    if cell is None:
        return ""
    if cell.error:
        return cell.error
    if cell.value is None:
        return cell.formula or ""
    value = cell.value
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != time(0) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _common(cell: Cell | None) -> Read | None:
    if is_blank(cell):
        return Read()
    assert cell is not None
    if err := excel_error(cell):
        return Read(problem="excel_error", shown=err)
    if cell.value is None and cell.formula:
        return Read(problem="formula_no_value", shown=cell.formula)
    return None


def read_number(cell: Cell | None) -> Read:
    """A real number, or text in Vietnamese format (``1.234``, ``1.234,5``)."""
    if (early := _common(cell)) is not None:
        return early
    assert cell is not None
    value = cell.value
    if isinstance(value, bool | date | time):
        return Read(problem="not_number", shown=shown(cell))
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return Read(problem="not_number", shown=shown(cell))
        return Read(value=float(value), shown=shown(cell))
    number = parse_number(str(value))
    if number is None:
        return Read(problem="not_number", shown=shown(cell))
    return Read(value=number, shown=shown(cell))


def read_date(cell: Cell | None) -> Read:
    """An Excel date (or its serial number), or text ``dd/mm/yyyy``, ``d/m/yyyy``, ``yyyy-mm-dd``."""
    if (early := _common(cell)) is not None:
        return early
    assert cell is not None
    value = cell.value
    if isinstance(value, datetime):
        return Read(value=value.date(), shown=shown(cell))
    if isinstance(value, date):
        return Read(value=value, shown=shown(cell))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIAL_MIN <= value <= _SERIAL_MAX:
            return Read(value=_EXCEL_EPOCH + timedelta(days=int(value)), shown=shown(cell))
        return Read(problem="not_date", shown=shown(cell))
    if isinstance(value, str) and (parsed := parse_date(value)) is not None:
        return Read(value=parsed, shown=shown(cell))
    return Read(problem="not_date", shown=shown(cell))


def text_of(cell: Cell | None) -> str | None:
    """A free-text cell (``Ghi chú``) as typed; None when blank."""
    if is_blank(cell):
        return None
    assert cell is not None
    return nfc(cell.value.strip()) if isinstance(cell.value, str) else shown(cell)
