"""Workbooks described as data: a table is a list of column specs; a sheet is a run of blocks.

A :class:`Column` says what a column shows: its title, the getter that reads a row's value, its width,
number format and cell style, and optionally a conditional rule over its cells. :func:`write_table`
writes an optional title, the header and one row per item, and returns a :class:`Block` — where the
table landed — so whatever comes next is placed from it (``block.after()``), and formulas, charts and
filters name its cells (``block.cells("Điểm")``), never by counting rows.

Shared by the report workbooks (:mod:`tracker.reporting.xlsx`) and the district's upload template
(:mod:`tracker.intake.template`), which differ only in their styles (a :class:`TableStyle` each).

Strings go through :func:`tracker.safe_cells.write_text`, so a name typed in a config or an upload
can only ever be text. No openpyxl import at module level: it is slow to import and only needed while
a workbook is written; styles come in as openpyxl objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tracker.safe_cells import write_text

T = TypeVar("T")


@dataclass(frozen=True)
class Look:
    """A cell's style: openpyxl ``Font``, ``PatternFill``, ``Alignment``, ``Border``, ``Protection``;
    None leaves that part as it is."""

    font: Any = None
    fill: Any = None
    align: Any = None
    border: Any = None
    protection: Any = None
    # The cell attributes to set, worked out once: a workbook writes tens of thousands of cells.
    parts: tuple[tuple[str, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = (("font", self.font), ("fill", self.fill), ("alignment", self.align), ("border", self.border),
                 ("protection", self.protection))
        object.__setattr__(self, "parts", tuple((name, value) for name, value in parts if value))

    def apply(self, cell):
        for name, value in self.parts:
            setattr(cell, name, value)
        return cell


@dataclass(frozen=True)
class Rule:
    """Conditional formatting over a column's cells: ``add(ws, cells, reference)``, where ``reference`` is
    the column's own top cell (``C3``, relative), or, with ``by``, the top cell of the column titled
    ``by`` with its column fixed (``$L2``), so every cell of the range is judged by its own row."""

    add: Callable[[Any, str, str], None]
    by: str | None = None


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column of a table: ``get(row)`` is the value written; ``fmt`` and ``look`` may also depend on
    the row (callables); ``look`` None takes the table's body look."""

    title: str
    get: Callable[[T], object]
    width: float | None = None
    fmt: str | Callable[[T], str | None] | None = None
    look: Look | Callable[[T], Look] | None = None
    rule: Rule | None = None


@dataclass(frozen=True)
class TableStyle:
    """How a workbook draws its tables: the title, the header and the default body look, the heights."""

    header: Look
    body: Look = field(default_factory=Look)
    title: Look = field(default_factory=Look)
    header_height: float | None = None
    row_height: float | None = None


@dataclass(frozen=True)
class Block:
    """Where a table landed: its header row, its last row (the header row when it has no rows), its first
    column. Columns are named by title or by position (0 = the first column of the table)."""

    columns: tuple[Column, ...]
    header: int
    last: int
    col: int = 1

    @property
    def first(self) -> int:
        """The first body row."""
        return self.header + 1

    @property
    def rows(self) -> int:
        return self.last - self.header

    def after(self, gap: int = 1) -> int:
        """The row below the table after ``gap`` empty rows."""
        return self.last + 1 + gap

    def column(self, key: int | str) -> int:
        """The sheet column number of a column of the table."""
        if isinstance(key, int):
            return self.col + (key if key >= 0 else len(self.columns) + key)
        return self.col + next(n for n, c in enumerate(self.columns) if c.title == key)

    def letter(self, key: int | str) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(self.column(key))

    def top(self, key: int | str, *, fixed: bool = False) -> str:
        """The first body cell of a column (``$L2`` with ``fixed``)."""
        return f"{'$' if fixed else ''}{self.letter(key)}{self.first}"

    def cell(self, key: int | str, n: int) -> str:
        """The cell of a column in the ``n``-th body row (0 = the first)."""
        return f"{self.letter(key)}{self.first + n}"

    def cells(self, first: int | str, last: int | str | None = None) -> str:
        """The body cells of one column, or of the columns ``first`` to ``last``: ``C7:G12``."""
        return f"{self.letter(first)}{self.first}:{self.letter(first if last is None else last)}{self.last}"

    def ref(self) -> str:
        """The header and the body, every column, at least one body row (an auto-filter's range)."""
        return f"{self.letter(0)}{self.header}:{self.letter(-1)}{max(self.last, self.first)}"

    def widths(self) -> dict[int, float]:
        return {self.column(n): c.width for n, c in enumerate(self.columns) if c.width is not None}


def write_cell(ws, row: int, col: int, value: object, fmt: str | None = None, look: Look | None = None):
    """Write ``value`` into a new cell (strings always as text, :func:`~tracker.safe_cells.write_text`; None
    writes nothing), then its number format and look."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        write_text(cell, value)
    elif value is not None:  # a new cell is empty already
        cell.value = value
    if fmt:
        cell.number_format = fmt
    if look:
        look.apply(cell)
    return cell


def write_header(ws, row: int, titles: Sequence[str], style: TableStyle, col: int = 1) -> None:
    for n, title in enumerate(titles):
        write_cell(ws, row, col + n, title, look=style.header)
    if style.header_height:
        ws.row_dimensions[row].height = style.header_height


def write_rows(ws, row: int, columns: Sequence[Column[T]], items: Iterable[T], style: TableStyle,
               col: int = 1) -> int:
    """One row per item from ``row`` on; returns the last row written (``row - 1`` when there are none)."""
    # What does not depend on the row is resolved once per column, not once per cell.
    plan = [(col + n, c.get, c.fmt if callable(c.fmt) else None, None if callable(c.fmt) else c.fmt,
             c.look if callable(c.look) else None, None if callable(c.look) else (c.look or style.body))
            for n, c in enumerate(columns)]
    cell_at = ws.cell
    for item in items:
        for column, get, fmt_of, fmt, look_of, look in plan:  # write_cell, inlined: this loop is the hot path
            cell = cell_at(row=row, column=column)
            value = get(item)
            if isinstance(value, str):
                write_text(cell, value)
            elif value is not None:
                cell.value = value
            if fmt_of:
                fmt = fmt_of(item)
            if fmt:
                cell.number_format = fmt
            for name, part in (look_of(item) if look_of else look).parts:
                setattr(cell, name, part)
        if style.row_height:
            ws.row_dimensions[row].height = style.row_height
        row += 1
    return row - 1


def write_table(ws, row: int, columns: Sequence[Column[T]], items: Iterable[T], style: TableStyle, *,
                title: str | None = None, col: int = 1) -> Block:
    """``title`` (if any) at ``row``, then the header and the rows; the columns' rules are added when
    there are rows."""
    if title is not None:
        write_cell(ws, row, col, title, look=style.title)
        row += 1
    write_header(ws, row, [c.title for c in columns], style, col)
    block = Block(tuple(columns), row, write_rows(ws, row + 1, columns, items, style, col), col)
    if block.rows:
        for n, c in enumerate(columns):
            if c.rule:
                reference = block.top(c.rule.by, fixed=True) if c.rule.by else block.top(n)
                c.rule.add(ws, block.cells(n), reference)
    return block


def set_widths(ws, *blocks: Block) -> dict[int, float]:
    """Column widths from the blocks' specs (the widest wins where tables share a column); returns them."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, float] = {}
    for block in blocks:
        for col, width in block.widths().items():
            widths[col] = max(width, widths.get(col, width))
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    return widths
