"""One reader for the tables of every workbook the intake takes in: labels and their values, the header row,
columns found by their header text (never by position), the rows of the table, and the problems of cells,
each reported as a finding of the catalogue naming its cell (docs/sheet-format.md §3–§5, §14).

The weekly sheet (:mod:`tracker.intake.parser`) and the targets workbook (:mod:`tracker.intake.targets_workbook`)
read through it. A workbook is a column spec and a row loop, as in pretix's import: each :class:`Column` is
placed by its header text and cleans its own cell, reporting what is wrong with it at that cell; the loop
takes the cleaned values. A summary of earlier figures (columns ``Mã đơn vị``, ``Mã chỉ tiêu``, ``Số liệu
đến ngày``, ``Luỹ kế từ đầu năm``, one row per district, indicator and date) would read::

    class AsOfColumn(Column):
        def clean(self, cell, row):
            read = read_date(cell)
            if row.problem(read, self.key, what=part("as_of")):   # an Excel error, a formula without result
                return None
            if read.problem:
                row.report("date_invalid", column=self.key, shown=read.shown, year=year)
            return read.value if read.problem is None else None

    sheet = Sheet(workbook.sheets[name])
    header = sheet.header("Mã đơn vị")                      # None: sheet.report("table_missing", ...)
    table = Table(sheet, header, [DistrictColumn("Mã đơn vị"), IndicatorColumn("Mã chỉ tiêu"),
                                  AsOfColumn("Số liệu đến ngày", "as_of"), FigureColumn("Luỹ kế từ đầu năm")])
    figures = [row.values for row in table.rows() if None not in row.values.values()]
    findings = ordered(sheet.findings)                       # every problem, by cell

(the district and figure columns are the targets workbook's and the weekly sheet's, made public for a
second user). A self-assessment workbook takes ``Đơn vị``, ``Năm`` and ``Số liệu tính đến ngày`` with
:meth:`Sheet.label`, then its table (``Mã tiêu chí``, ``Điểm tự chấm``, …) the same way.
tests/test_intake_table.py reads such a summary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tracker.findings import Finding, make
from tracker.intake.grid import MAX_ROWS, Cell, SheetGrid, column_letter
from tracker.intake.matching import fold, same
from tracker.intake.values import Read, is_blank, text_of

LABEL_ROWS = 20  # labels are looked for in the first 20 rows

# What the reader says about a cell that cannot be read as what it should hold (values.Read.problem).
_CELL_PROBLEMS = {"excel_error": "excel_error", "formula_no_value": "formula_no_value",
                  "not_number": "value_not_number"}
# The problems of the cell itself, whatever it should hold.
CELL_ERRORS = ("excel_error", "formula_no_value")


@dataclass(frozen=True)
class Label:
    """A label cell, and its value: the first non-empty cell to its right on the same row (None: nothing)."""

    cell: Cell
    value: Cell | None


@dataclass
class Header:
    """A table's header row: its non-empty cells by column, and the first column holding each header text."""

    row: int
    cells: dict[int, Cell]
    # header text, folded (docs/sheet-format.md §3) -> the first column holding it
    by_text: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for col in sorted(self.cells):
            value = self.cells[col].value
            if isinstance(value, str):
                self.by_text.setdefault(fold(value), col)

    @property
    def first(self) -> int:
        return min(self.cells)

    @property
    def last(self) -> int:
        return max(self.cells)

    def ref(self, col: int) -> str:
        return f"{column_letter(col)}{self.row}"


class Sheet:
    """The non-empty cells of one sheet by row, and the findings about them."""

    def __init__(self, grid: SheetGrid):
        self.grid = grid
        self.name = grid.name
        self.findings: list[Finding] = []
        self.rows: dict[int, dict[int, Cell]] = {}
        for (r, c), cell in grid.cells.items():
            if not is_blank(cell):
                self.rows.setdefault(r, {})[c] = cell

    def cell(self, row: int, col: int) -> Cell | None:
        return self.rows.get(row, {}).get(col)

    def report(self, code: str, variant: str = "", /, *, ref: str | None = None, indicator: str | None = None,
               **params: object) -> None:
        """Add the finding ``code`` of the catalogue at ``ref`` (``D9``) of this sheet."""
        self.findings.append(make(code, variant, sheet=self.name, ref=ref, indicator=indicator, **params))

    def problem(self, read: Read, ref: str, /, *, variant: str = "", indicator: str | None = None,
                **params: object) -> bool:
        """Report an Excel error, a formula without a saved result or a non-number; True if there was one.

        ``params`` fill the message (``what``: what the cell should hold, one of :data:`tracker.messages.PARTS`);
        ``shown`` is the cell as read."""
        code = _CELL_PROBLEMS.get(read.problem or "")
        if code is None:
            return False
        self.report(code, variant, ref=ref, indicator=indicator, shown=read.shown, **params)
        return True

    def label(self, text: str) -> Label | None:
        """The cell holding the whole label ``text`` in the first :data:`LABEL_ROWS` rows (row by row, then left
        to right), with its value."""
        for r in sorted(k for k in self.rows if k <= LABEL_ROWS):
            row = self.rows[r]
            for c in sorted(row):
                if same(row[c].value, text):
                    return Label(row[c], next((row[v] for v in sorted(row) if v > c), None))
        return None

    def header(self, text: str) -> Header | None:
        """The first row holding a cell ``text``: a table's header row."""
        for r in sorted(self.rows):
            if any(same(cell.value, text) for cell in self.rows[r].values()):
                return Header(r, dict(self.rows[r]))
        return None


class Column:
    """One column of a table, placed by its header text; it cleans its own cells.

    :meth:`clean` turns the column's cell of a row (None when blank) into the row's value under ``key``, and
    reports what is wrong with it through ``row`` (the finding names the cell). It sees the values of the
    columns before it in the spec (``row.values``) and may look at any placed column's cell (``row.cell``).
    """

    def __init__(self, header: str, key: str | None = None):
        self.header = header
        self.key = key or header
        self.folded = fold(header)  # a spec is often made once and placed in every file

    def clean(self, cell: Cell | None, row: Row) -> object:
        """The cell itself: a column that is only placed, for another column to look at."""
        return cell


class TextColumn(Column):
    """Free text (``Ghi chú``)."""

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        """The cell's text, as typed (None when blank)."""
        return text_of(cell)


class Row:
    """One row of a table, as its columns cleaned it. ``skipped``: a column found the row meaningless (an unknown
    indicator), so the columns after it were not cleaned."""

    __slots__ = ("number", "skipped", "table", "values")

    def __init__(self, table: Table, number: int):
        self.table, self.number = table, number
        self.values: dict[str, object] = {}
        self.skipped = False

    def cell(self, key: str) -> Cell | None:
        col = self.table.placed.get(key)
        return self.table.sheet.cell(self.number, col) if col is not None else None

    def ref(self, key: str) -> str:
        """``F9``: the cell of column ``key`` on this row (the column must be placed)."""
        return f"{self.table.letters[key]}{self.number}"

    def report(self, code: str, variant: str = "", /, *, column: str | None = None, ref: str | None = None,
               indicator: str | None = None, **params: object) -> None:
        """Add the finding ``code`` at this row's cell of ``column`` (a column's key), or at ``ref``."""
        self.table.sheet.report(code, variant, ref=ref or (self.ref(column) if column else None),
                                indicator=indicator, **params)

    def problem(self, read: Read, column: str, /, **params: object) -> bool:
        """:meth:`Sheet.problem` at this row's cell of ``column``."""
        return self.table.sheet.problem(read, self.ref(column), **params)

    def skip(self) -> None:
        self.skipped = True


class Table:
    """The table under ``header``: its columns placed by header text, and its rows, from the one below the
    header down to the first empty row (empty within the header's columns, or anywhere with ``whole_rows``),
    at most to row ``max_rows`` (:data:`~tracker.intake.grid.MAX_ROWS`, the rows the reader takes in)."""

    def __init__(self, sheet: Sheet, header: Header, columns: Sequence[Column], *, whole_rows: bool = False,
                 max_rows: int = MAX_ROWS):
        self.sheet, self.header, self.columns = sheet, header, list(columns)
        self.placed: dict[str, int] = {}
        for column in self.columns:
            col = header.by_text.get(column.folded)
            if col is not None:
                self.placed[column.key] = col
        self.letters = {key: column_letter(col) for key, col in self.placed.items()}  # for cell references
        self.body: list[int] = []
        first, last = header.first, header.last
        r = header.row + 1
        while r <= max_rows and (cells := sheet.rows.get(r)) and (
                whole_rows or any(first <= c <= last for c in cells)):
            self.body.append(r)
            r += 1

    def ref(self, key: str) -> str:
        """The header cell of column ``key``."""
        return self.header.ref(self.placed[key])

    def rows(self) -> Iterator[Row]:
        """Each row of the body, cleaned by the placed columns in the order of the spec."""
        placed = [(column, self.placed[column.key]) for column in self.columns if column.key in self.placed]
        for r in self.body:
            row, cells = Row(self, r), self.sheet.rows.get(r, {})
            for column, col in placed:
                row.values[column.key] = column.clean(cells.get(col), row)
                if row.skipped:
                    break
            yield row

    def check_layout(self, anchor: str) -> None:
        """Merged cells and hidden rows inside the table are errors: they hide what a row holds. A hidden row is
        reported at its cell of column ``anchor``."""
        if not self.body:
            return
        top, bottom, first, last = self.body[0], self.body[-1], self.header.first, self.header.last
        for r1, c1, r2, c2 in sorted(self.sheet.grid.merged):
            if r2 >= top and r1 <= bottom and c2 >= first and c1 <= last:
                self.sheet.report("merged_cells", ref=f"{column_letter(c1)}{r1}",
                                  span=f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}")
        for r in self.body:
            if r in self.sheet.grid.hidden_rows:
                self.sheet.report("hidden_row", ref=f"{column_letter(self.placed[anchor])}{r}", row=r)

