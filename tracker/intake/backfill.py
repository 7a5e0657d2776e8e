"""`tracker history import`: earlier figures from a summary workbook (docs/sheet-format.md §15).

A cluster that starts using the tracker has last year's figures in a summary, not in weekly sheets. The
workbook's sheet ``Dữ liệu`` (else its first sheet) holds a header row with ``Mã đơn vị``, ``Mã chỉ tiêu``,
``Số liệu đến ngày`` and ``Luỹ kế từ đầu năm`` (other columns are ignored), one row per figure: the layout
of the weekly workbook's ``Dữ liệu`` sheet, whose rows marked ``Đã thay thế`` in ``Phiên bản`` (a version
replaced later) are left out.

Read through the safe reader (hostile-file rules apply), every row checked like a sheet's figure: an
unknown unit or indicator, a bad or future date, a bad number, a blank cell, the same figure twice — each an
error naming its cell; then nothing of the file is stored and its bytes go to quarantine with the error
report and an annotated copy, like a rejected sheet. Accepted rows are stored as submissions with source
``history``, one per unit and as-of date (a new version of any earlier one), with lineage to the file, sheet
and cell; the bytes are archived once. The same bytes again are "already received".
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import bindparam, insert, select, update

from tracker import findings as findings_module
from tracker import models
from tracker.config import Indicator, Settings
from tracker.errors import NotInitialised
from tracker.findings import Finding, Judged, make, ordered
from tracker.intake.files import archive_path, quarantine_dir, received_name, safe_name, write_atomic
from tracker.intake.grid import MAX_ROWS_LIMIT, Cell, UnreadableWorkbook, WorkbookGrid, refusal
from tracker.intake.ingest import lock_intake
from tracker.intake.matching import HEADER_CODE, HEADER_DISTRICT_CODE, HEADER_YTD, Names, fold
from tracker.intake.parser import ParsedReport
from tracker.intake.reader import default_reader
from tracker.intake.rejection import prepare_rejected, write_rejected
from tracker.intake.table import CELL_ERRORS, Column, Row, Sheet, Table
from tracker.intake.values import read_date, read_number, shown
from tracker.messages import Bilingual, part
from tracker.text import format_date

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.context import Context

SHEET_HISTORY = "Dữ liệu"
HEADER_AS_OF_DATE = "Số liệu đến ngày"
HEADER_VERSION = "Phiên bản"  # the weekly workbook's lineage: "Hiện hành" or "Đã thay thế"
SUPERSEDED = "Đã thay thế"
REQUIRED = (HEADER_DISTRICT_CODE, HEADER_CODE, HEADER_AS_OF_DATE, HEADER_YTD)
ARCHIVE_FOLDER = "_lich-su"  # archive/_lich-su/: the summaries (a district's folder is its code)

Status = Literal["accepted", "duplicate", "rejected"]
STATUS_TEXT = {
    "accepted": ("đã chấp nhận", "accepted"),
    "duplicate": ("đã được tiếp nhận trước đó", "already received"),
    "rejected": ("bị từ chối", "rejected"),
}


@dataclass(frozen=True)
class HistoryRow:
    """One figure of the summary. ``cell`` is its year-to-date cell (``F7``)."""

    district: str
    indicator: str
    as_of: date
    value: float
    row: int
    cell: str


@dataclass
class HistorySheet(Judged):
    sheet: str | None = None
    rows: list[HistoryRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def pick_history_sheet(names: Collection[str]) -> str | None:
    """The sheet named ``Dữ liệu`` (folded comparison), else the first sheet."""
    key = fold(SHEET_HISTORY)
    names = list(names)
    return next((n for n in names if fold(n) == key), names[0] if names else None)


def _name(ind: Indicator) -> Bilingual:
    return Bilingual(ind.label, ind.label_en)


# -- the columns ---------------------------------------------------------------------------------------------

class _VersionColumn(Column):
    """``Phiên bản`` (optional): a row marked ``Đã thay thế`` is a replaced version, left out unread."""

    def clean(self, cell: Cell | None, row: Row) -> bool:
        replaced = cell is not None and fold(cell.value) == fold(SUPERSEDED)
        if replaced:
            row.skip()
        return replaced


def _blank(cell: Cell | None, row: Row, key: str, what: str, **params: object) -> bool:
    """Report a blank required cell; True when it was blank."""
    if cell is None:
        row.report("history_cell_blank", column=key, row=row.number, what=part(what, **params))
        return True
    return False


class _UnitColumn(Column):
    def __init__(self, settings: Settings, names: Names):
        super().__init__(HEADER_DISTRICT_CODE, "district")
        self.settings, self.names = settings, names

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        if _blank(cell, row, self.key, "district"):
            return None
        assert cell is not None
        if (read := read_number(cell)).problem in CELL_ERRORS:
            row.problem(read, self.key, what=part("district"))
            return None
        code = self.names.district(cell.value)
        if code is None:
            row.report("district_unknown", column=self.key, shown=shown(cell), cluster=self.settings.cluster.name,
                       codes=", ".join(d.code for d in self.settings.districts))
        return code


class _IndicatorColumn(Column):
    """The indicator by key or label; blank or unknown, the rest of the row means nothing (not checked)."""

    def __init__(self, settings: Settings, names: Names):
        super().__init__(HEADER_CODE, "indicator")
        self.settings, self.names = settings, names

    def clean(self, cell: Cell | None, row: Row) -> Indicator | None:
        if _blank(cell, row, self.key, "indicator_code"):
            row.skip()
            return None
        assert cell is not None
        key = self.names.indicator(cell.value)
        if key is None:
            row.skip()
            if (read := read_number(cell)).problem in CELL_ERRORS:
                row.problem(read, self.key, what=part("indicator_code"))
            else:
                row.report("indicator_unknown", column=self.key, shown=shown(cell),
                           keys=", ".join(i.key for i in self.settings.indicators))
            return None
        return self.settings.indicator(key)


class _DateColumn(Column):
    def __init__(self, today: date | None, year: int):
        super().__init__(HEADER_AS_OF_DATE, "as_of")
        self.today, self.year = today, year

    def clean(self, cell: Cell | None, row: Row) -> date | None:
        if _blank(cell, row, self.key, "as_of"):
            return None
        read = read_date(cell)
        if row.problem(read, self.key, what=part("as_of")):
            return None
        if read.problem:
            row.report("date_invalid", column=self.key, shown=read.shown, year=self.year)
            return None
        assert isinstance(read.value, date)
        if self.today is not None and read.value > self.today + timedelta(days=1):
            row.report("date_future", column=self.key, as_of=format_date(read.value), received=format_date(self.today))
            return None
        return read.value


class _ValueColumn(Column):
    """``Luỹ kế từ đầu năm``: a number, not negative, whole for a count (docs/sheet-format.md §5)."""

    def __init__(self) -> None:
        super().__init__(HEADER_YTD, "ytd")

    def clean(self, cell: Cell | None, row: Row) -> float | None:
        ind = row.values["indicator"]
        assert isinstance(ind, Indicator)
        if _blank(cell, row, self.key, "figure", header=self.header):
            return None
        read = read_number(cell)
        if row.problem(read, self.key, indicator=ind.key, what=part("ytd", header=self.header, name=_name(ind))):
            return None
        assert isinstance(read.value, float)
        if read.value < 0:
            row.report("value_negative", column=self.key, indicator=ind.key, name=_name(ind), shown=read.shown)
        elif ind.kind == "count" and abs(read.value - round(read.value)) > 1e-9:
            row.report("value_fractional", column=self.key, indicator=ind.key, name=_name(ind), unit=ind.unit,
                       shown=read.shown)
        else:
            return float(round(read.value)) if ind.kind == "count" else read.value
        return None


# -- the sheet (pure) ----------------------------------------------------------------------------------------

def parse_history(workbook: WorkbookGrid, settings: Settings, *, today: date | None = None,
                  names: Names | None = None) -> HistorySheet:
    """Check a summary of figures; every problem is a finding naming its cell."""
    names = names or Names.of(settings)
    out = HistorySheet(sheet=pick_history_sheet(workbook.sheet_names))
    if out.sheet is None or out.sheet not in workbook.sheets:
        out.findings = [make("table_missing", "history", required=_listed(REQUIRED))]
        return out
    sheet = Sheet(workbook.sheets[out.sheet])
    header = sheet.header(HEADER_DISTRICT_CODE) or sheet.header(HEADER_CODE)
    if header is None:
        sheet.report("table_missing", "history", required=_listed(REQUIRED))
        out.findings = ordered(sheet.findings)
        return out
    columns = [_VersionColumn(HEADER_VERSION, "version"), _UnitColumn(settings, names),
               _IndicatorColumn(settings, names), _DateColumn(today, settings.cluster.year), _ValueColumn()]
    table = Table(sheet, header, columns, max_rows=MAX_ROWS_LIMIT)
    missing = [c.header for c in columns[1:] if c.key not in table.placed]
    if missing:
        sheet.report("history_columns_missing", ref=header.ref(header.first), missing=_listed(missing),
                     required=_listed(REQUIRED))
    elif not table.body:
        sheet.report("table_empty", "history", ref=header.ref(header.first), row=header.row)
    else:
        if sheet.grid.truncated and table.body[-1] >= MAX_ROWS_LIMIT:
            sheet.report("table_truncated", ref=table.ref("district"), rows=MAX_ROWS_LIMIT)
        table.check_layout(anchor="district")
        _rows(sheet, table, out)
        if not out.rows and not findings_module.errors(sheet.findings):  # every row a replaced version
            sheet.report("table_empty", "history", ref=header.ref(header.first), row=header.row)
    out.findings = ordered(sheet.findings)
    if out.errors:
        out.rows = []
    return out


def _rows(sheet: Sheet, table: Table, out: HistorySheet) -> None:
    """Take the cleaned rows; the same unit, indicator and date twice is an error at the second one."""
    seen: dict[tuple[str, str, date], str] = {}
    for row in table.rows():
        if row.skipped:
            continue
        v = row.values
        district, ind, as_of, value = v.get("district"), v.get("indicator"), v.get("as_of"), v.get("ytd")
        if not (isinstance(district, str) and isinstance(ind, Indicator) and isinstance(as_of, date)
                and isinstance(value, float)):
            continue
        key = (district, ind.key, as_of)
        if key in seen:
            row.report("history_duplicate", column="ytd", indicator=ind.key, name=_name(ind), district=district,
                       as_of=format_date(as_of), first=seen[key])
            continue
        seen[key] = row.ref("ytd")
        out.rows.append(HistoryRow(district, ind.key, as_of, value, row.number, row.ref("ytd")))


def _listed(headers: Collection[str]) -> str:
    return ", ".join(f"'{h}'" for h in headers)


# -- storing (I/O) -------------------------------------------------------------------------------------------

@dataclass
class HistoryImport(Judged):
    """The verdict on one summary workbook (it is also what the error report needs)."""

    status: Status
    file_name: str
    file_hash: str
    findings: list[Finding] = field(default_factory=list)
    figures: int = 0
    submissions: list[int] = field(default_factory=list)
    units: int = 0
    first: date | None = None  # the earliest and latest as-of dates of the figures
    last: date | None = None
    stored_path: Path | None = None
    report_path: Path | None = None
    annotated_path: Path | None = None
    received_at: datetime | None = None
    district: str | None = None  # a summary is no one district's (the error report shows "—")
    as_of: date | None = None

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


    def line(self) -> str:
        """``tong-hop-2022.xlsx: đã chấp nhận (accepted) — 1.560 số liệu / figures, 6 đơn vị / units, …``."""
        vi, en = STATUS_TEXT[self.status]
        text = f"{self.file_name}: {vi} ({en})"
        if self.status == "accepted":
            from tracker.text import format_number

            text += (f" — {format_number(self.figures)} số liệu (figures), {self.units} đơn vị (units), "
                     f"{len(self.submissions)} báo cáo (submissions), từ {format_date(self.first)} đến "
                     f"{format_date(self.last)} (from … to)")
        return text


def import_history(ctx: Context, data: bytes, filename: str, *, received_at: datetime | None = None
                   ) -> HistoryImport:
    """Read, check and store a summary of figures: all or nothing (see the module docstring)."""
    settings = ctx.settings
    name = received_name(filename, "lich-su.xlsx")
    now = received_at or datetime.now(UTC)
    result = HistoryImport("accepted", name, hashlib.sha256(data).hexdigest(), received_at=now)
    if _already(ctx, result.file_hash):
        result.status = "duplicate"
        return result
    grid = None
    try:
        grid = default_reader().read(data, safe_name(name), max_rows=MAX_ROWS_LIMIT)
        parsed = parse_history(grid, settings, today=now.astimezone(settings.tz).date())
    except UnreadableWorkbook as exc:
        parsed = HistorySheet(findings=[refusal(exc)])
    result.findings = parsed.findings
    if parsed.errors:
        result.status = "rejected"
        files = prepare_rejected(data, name, grid, ParsedReport(sheet=parsed.sheet, findings=parsed.findings), result,
                                 settings)
        folder = quarantine_dir(settings.paths.quarantine, now.astimezone(settings.tz).date(), result.file_hash, name)
        result.stored_path, result.report_path, result.annotated_path = write_rejected(folder, files)
        return result
    archived = archive_path(settings.paths.archive, ARCHIVE_FOLDER, now.astimezone(settings.tz).date(),
                            result.file_hash, name)
    write_atomic(archived, data)  # on disk before the submissions that name it are committed
    result.stored_path = archived
    with ctx.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            lock_intake(conn, ctx.cluster_id)
            if _earlier_accepted(conn, ctx.cluster_id, result.file_hash):  # the same bytes, meanwhile
                result.status = "duplicate"
                return result
            _store(conn, ctx.cluster_id, parsed, result)
    return result


def _already(ctx: Context, file_hash: str) -> bool:
    with ctx.engine.connect() as conn:
        return _earlier_accepted(conn, ctx.cluster_id, file_hash)


_SUB = models.Submission.__table__
_FIG = models.Figure.__table__


def _earlier_accepted(conn: Connection, cluster_id: str, file_hash: str) -> bool:
    return conn.execute(select(_SUB.c.id).where(
        _SUB.c.cluster_id == cluster_id, _SUB.c.file_hash == file_hash,
        _SUB.c.status == models.SubmissionStatus.accepted).limit(1)).first() is not None


def _store(conn: Connection, cluster_id: str, parsed: HistorySheet, result: HistoryImport) -> None:
    """One submission per unit and as-of date (the current version from now on), and its figures."""
    districts = dict(conn.execute(select(models.District.code, models.District.id)
                                  .where(models.District.cluster_id == cluster_id)).all())
    indicators = dict(conn.execute(select(models.Indicator.key, models.Indicator.id)
                                   .where(models.Indicator.cluster_id == cluster_id)).all())
    if not districts or not indicators:
        raise NotInitialised(cluster_id)
    groups: dict[tuple[str, date], list[HistoryRow]] = {}
    for row in parsed.rows:
        groups.setdefault((row.district, row.as_of), []).append(row)
    dates = [as_of for _d, as_of in groups]
    current = {(d, at): sid for sid, d, at in conn.execute(
        select(_SUB.c.id, _SUB.c.district_id, _SUB.c.as_of).where(
            _SUB.c.cluster_id == cluster_id, _SUB.c.status == models.SubmissionStatus.accepted,
            _SUB.c.superseded_by_id.is_(None), _SUB.c.as_of >= min(dates), _SUB.c.as_of <= max(dates)))}
    replaced = []
    for (district, as_of), rows in sorted(groups.items()):
        district_id = districts[district]
        sid = conn.execute(insert(_SUB), {
            "cluster_id": cluster_id, "file_hash": result.file_hash, "file_name": result.file_name,
            "stored_path": str(result.stored_path), "source": str(models.SubmissionSource.history), "sender": None,
            "message_id": None, "received_at": result.received_at, "status": str(models.SubmissionStatus.accepted),
            "district_id": district_id, "as_of": as_of, "sheet": parsed.sheet, "error_count": 0,
            "warning_count": 0, "superseded_by_id": None}).inserted_primary_key[0]
        result.submissions.append(sid)
        if (district_id, as_of) in current:
            replaced.append({"target": current[(district_id, as_of)], "by": sid})
        conn.execute(insert(_FIG), [
            {"cluster_id": cluster_id, "submission_id": sid, "district_id": district_id,
             "indicator_id": indicators[r.indicator], "as_of": as_of, "value": r.value, "period_value": None,
             "note": None, "sheet": parsed.sheet, "cell": r.cell} for r in rows])
    if replaced:
        conn.execute(update(_SUB).where(_SUB.c.id == bindparam("target")).values(superseded_by_id=bindparam("by")),
                     replaced)
    result.figures = len(parsed.rows)
    result.units = len({d for d, _at in groups})
    result.first, result.last = min(dates), max(dates)
