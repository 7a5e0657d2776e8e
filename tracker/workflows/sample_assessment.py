"""Sample self-scores for the demo's mid-year assessment (docs/assessment.md), filled into the real workbooks.

Each unit's clerk takes its own self-assessment workbook (`tracker assess template UNIT --as-of 30/06/2023`:
the computed criteria already filled in and locked) and types its scores for the criteria the units score
themselves (2.1, 2.2), the bonus (T1) and the penalty (P1). Hai Bà Trưng first claims 5 bonus points where
at most 3 are allowed (the workbook is rejected, naming the cell) and sends it again corrected. The cluster
head then cross-checks in the `Thẩm định` workbook and lowers two claims.

The scores are plausible, not real: they make a ranking in which the computed criteria and the manual ones
both matter.
"""

from __future__ import annotations

import io

from tracker.intake.matching import HEADER_CLUSTER_SCORE, HEADER_CRITERION_CODE, HEADER_SELF, fold, same

# What each unit gives itself: 2.1 and 2.2 out of 15, the bonus T1 out of 3, the penalty P1 out of 2.
SELF_SCORES: dict[str, dict[str, float]] = {
    "HBT": {"2.1": 15, "2.2": 14, "T1": 2, "P1": 0},
    "HM": {"2.1": 14, "2.2": 13, "T1": 1, "P1": 1},
    "BD": {"2.1": 15, "2.2": 15, "T1": 3, "P1": 0},
    "LB": {"2.1": 14, "2.2": 14, "T1": 2, "P1": 0},
    "HK": {"2.1": 15, "2.2": 14, "T1": 3, "P1": 0},
    "DD": {"2.1": 13, "2.2": 14, "T1": 1, "P1": 0},
}
FIRST_TRY = ("HBT", "T1", 5)  # the unit, the code and the score above its maximum of the rejected first try
PORTAL_UNIT = "HM"  # the unit that uploads its workbook on the portal
# The head's cross-check: (unit, code) → the cluster's score where it differs from the unit's own.
CLUSTER_SCORES: dict[tuple[str, str], float] = {("BD", "T1"): 1, ("HK", "2.2"): 12}


def fill_self_assessment(data: bytes, scores: dict[str, float]) -> bytes:
    """The workbook ``data`` with ``scores`` typed in its `Điểm tự chấm` column, row by code."""
    return _fill(data, HEADER_SELF, lambda row: scores.get(row[0]))


def fill_review(data: bytes, scores: dict[tuple[str, str], float]) -> bytes:
    """The cross-check workbook ``data`` with the cluster's ``scores`` typed in `Điểm Cụm chấm`, row by unit
    and code (rows not named keep what the template prefilled)."""
    return _fill(data, HEADER_CLUSTER_SCORE, lambda row: scores.get((row[1], row[0])), unit_header="Mã đơn vị")


def _fill(data: bytes, score_header: str, value_of, unit_header: str | None = None) -> bytes:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    header_row, columns = _header(ws, (HEADER_CRITERION_CODE, score_header, *([unit_header] if unit_header else [])))
    for row in ws.iter_rows(min_row=header_row + 1):
        code = row[columns[HEADER_CRITERION_CODE] - 1].value
        unit = row[columns[unit_header] - 1].value if unit_header else None
        if code is None:
            continue
        value = value_of((str(code).strip(), str(unit).strip() if unit is not None else None))
        if value is not None:
            row[columns[score_header] - 1].value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header(ws, wanted: tuple[str, ...]) -> tuple[int, dict[str, int]]:
    """The header row holding every label of ``wanted``, and each label's column (1-based)."""
    for row in ws.iter_rows(max_row=40):
        found = {label: cell.column for cell in row for label in wanted
                 if isinstance(cell.value, str) and same(cell.value, label)}
        if len(found) == len(wanted):
            return row[0].row, found
    raise LookupError(f"no header row with {', '.join(fold(w) for w in wanted)}")
