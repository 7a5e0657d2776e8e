"""``tracker verify``: every stored figure proved again from the bytes the unit sent.

For each archived accepted file the database knows of, the file is found in the archive, its SHA-256 is
compared with the one recorded at intake, and it is read again through the same safe reader and parser
as the intake; then each stored figure is compared with its cell (value, "Thực hiện trong kỳ", note,
indicator, district and date), and each figure of the file must be in the database. Every difference is
reported on one line; nothing is changed.

A *source* is one kind of received file: the weekly sheet, the summary of earlier figures (`tracker
history import`: one file, many submissions, proved once), and the self-assessment workbook (its score
lines are its "figures": the code as the indicator, the score as the value, the explanation as the
note). Another kind is verified by adding a :class:`Source` to :data:`SOURCES`: it lists its records
from the database and re-reads one file; the comparison (:func:`compare`) is shared and pure.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from tracker import models
from tracker.intake.grid import MAX_ROWS_LIMIT, UnreadableWorkbook, WorkbookGrid
from tracker.text import format_number

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.config import Settings
    from tracker.context import Context
    from tracker.intake.matching import Names

log = logging.getLogger("tracker.verify")


# -- plain data and the pure comparison ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One figure as the database or the file has it."""

    indicator: str
    value: float | None
    period_value: float | None = None
    note: str | None = None
    district: str | None = None
    as_of: date | None = None


@dataclass
class Record:
    """One archived accepted file and what the database holds from it (figures by ``(sheet, cell)``)."""

    source: str
    submission_id: int
    file_name: str
    stored_path: str
    file_hash: str
    district: str | None
    as_of: date | None
    received_at: datetime
    figures: dict[tuple[str, str], Entry] = field(default_factory=dict)


@dataclass
class Reread:
    """What the file says now: its district and date, and its figures by ``(sheet, cell)``."""

    district: str | None = None
    as_of: date | None = None
    figures: dict[tuple[str, str], Entry] = field(default_factory=dict)
    cell_value: Callable[[str, str], float | None] | None = None  # any cell read as a number (not a figure row)


@dataclass(frozen=True)
class Difference:
    submission_id: int
    file_name: str
    code: str  # file_missing | file_altered | file_unreadable | district | as_of | figure_changed | ...
    vi: str
    en: str

    def text(self) -> str:
        return f"{self.file_name} (#{self.submission_id}): {self.vi} / {self.en}"


def _num(value: float | None, lang: str) -> str:
    if value is None:
        return "(trống)" if lang == "vi" else "(blank)"
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    return text.replace(".", ",") if lang == "vi" else text


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def compare(record: Record, reread: Reread) -> list[Difference]:
    """Every difference between what the database holds from a file and what the file says."""
    out: list[Difference] = []

    def diff(code: str, vi: str, en: str) -> None:
        out.append(Difference(record.submission_id, record.file_name, code, vi, en))

    if reread.district is not None and reread.district != record.district:
        diff("district", f"CSDL ghi đơn vị {record.district}, tệp ghi {reread.district}",
             f"the database says district {record.district}, the file says {reread.district}")
    if reread.as_of is not None and reread.as_of != record.as_of:
        diff("as_of", f"CSDL ghi ngày số liệu {_d(record.as_of)}, tệp ghi {_d(reread.as_of)}",
             f"the database says as of {_d(record.as_of)}, the file says {_d(reread.as_of)}")
    for (sheet, cell), stored in sorted(record.figures.items()):
        where = f"{sheet}!{cell} [{stored.indicator}]"
        found = reread.figures.get((sheet, cell))
        if found is None:
            raw = reread.cell_value(sheet, cell) if reread.cell_value else None
            if _same(stored.value, raw):
                continue  # the cell holds the number, though the sheet no longer reads as that row
            diff("figure_changed", f"{where}: CSDL ghi {_num(stored.value, 'vi')}, ô trong tệp ghi {_num(raw, 'vi')}",
                 f"{where}: the database says {_num(stored.value, 'en')}, the file's cell says {_num(raw, 'en')}")
            continue
        out.extend(Difference(record.submission_id, record.file_name, code, f"{where}: {vi}", f"{where}: {en}")
                   for code, vi, en in _figure_differences(stored, found, record))
    for (sheet, cell), found in sorted(reread.figures.items()):
        if (sheet, cell) not in record.figures and found.value is not None:
            diff("figure_missing", f"{sheet}!{cell} [{found.indicator}]: tệp ghi {_num(found.value, 'vi')} nhưng CSDL "
                                   f"không có số liệu này",
                 f"{sheet}!{cell} [{found.indicator}]: the file says {_num(found.value, 'en')} but the database has "
                 f"no such figure")
    return out


def _figure_differences(stored: Entry, found: Entry, record: Record) -> Iterator[tuple[str, str, str]]:
    if not _same(stored.value, found.value):
        yield ("figure_changed", f"CSDL ghi {_num(stored.value, 'vi')}, tệp ghi {_num(found.value, 'vi')}",
               f"the database says {_num(stored.value, 'en')}, the file says {_num(found.value, 'en')}")
    if stored.indicator != found.indicator:
        yield ("figure_indicator", f"CSDL ghi chỉ tiêu {stored.indicator}, tệp ghi {found.indicator}",
               f"the database says indicator {stored.indicator}, the file says {found.indicator}")
    if not _same(stored.period_value, found.period_value):
        yield ("period_changed", f"'Thực hiện trong kỳ': CSDL ghi {_num(stored.period_value, 'vi')}, tệp ghi "
                                 f"{_num(found.period_value, 'vi')}",
               f"'this period': the database says {_num(stored.period_value, 'en')}, the file says "
               f"{_num(found.period_value, 'en')}")
    if (stored.note or None) != (found.note or None):
        yield ("note_changed", f"ghi chú: CSDL ghi {stored.note!r}, tệp ghi {found.note!r}",
               f"note: the database says {stored.note!r}, the file says {found.note!r}")
    # A summary (one file, many units and dates) says them per row; a weekly sheet once for the file.
    district, as_of = (found.district, found.as_of) if record.district is None else (record.district, record.as_of)
    if stored.district != district or stored.as_of != as_of:
        yield ("figure_moved", f"số liệu ghi cho {stored.district}, {_d(stored.as_of)} thay vì {district}, "
                               f"{_d(as_of)} của tệp",
               f"the figure is stored for {stored.district}, {_d(stored.as_of)} instead of the file's "
               f"{district}, {_d(as_of)}")


def _d(value: date | None) -> str:
    from tracker.text import format_date

    return format_date(value) if value else "—"


def file_problem(record: Record, data: bytes | None, path: Path) -> Difference | None:
    """The file is missing, or its bytes are not those received (then its figures prove nothing)."""
    if data is None:
        return Difference(record.submission_id, record.file_name, "file_missing",
                          f"không còn tệp trong kho lưu trữ ({path})", f"the archived file is missing ({path})")
    actual = hashlib.sha256(data).hexdigest()
    if actual != record.file_hash:
        return Difference(record.submission_id, record.file_name, "file_altered",
                          f"tệp lưu trữ {path} đã bị thay đổi (SHA-256 {actual[:16]}…, lúc nhận "
                          f"{record.file_hash[:16]}…)",
                          f"the archived file {path} was altered (SHA-256 {actual[:16]}…, at intake "
                          f"{record.file_hash[:16]}…)")
    return None


# -- sources ----------------------------------------------------------------------------------------------------------

class Source(Protocol):
    name: str
    sheet: str | None  # the sheet the reader is asked for (None: every sheet)
    max_rows: int | None  # the rows the reader takes in per sheet (None: its default)
    folder: str  # where its files are under the archive ("": the unit folders at the top)

    def records(self, conn: Connection, cluster_id: str, year: int | None) -> list[Record]: ...

    def reread(self, grid: WorkbookGrid, settings: Settings, record: Record) -> Reread: ...


class WeeklySheets:
    """The weekly district report (docs/sheet-format.md): ``Submission`` rows and their ``Figure`` rows."""

    name = "sheet"
    max_rows = None
    folder = ""

    @property
    def sheet(self) -> str:
        from tracker.intake.matching import SHEET_REPORT

        return SHEET_REPORT

    def records(self, conn: Connection, cluster_id: str, year: int | None) -> list[Record]:
        S, F, D, I = models.Submission, models.Figure, models.District, models.Indicator  # noqa: N806, E741
        codes = dict(conn.execute(select(D.id, D.code).where(D.cluster_id == cluster_id)).all())
        query = select(S.id, S.file_name, S.stored_path, S.file_hash, S.district_id, S.as_of, S.received_at).where(
            S.cluster_id == cluster_id, S.status == models.SubmissionStatus.accepted,
            S.kind == models.SubmissionKind.report,
            S.source != models.SubmissionSource.history)  # summaries: HistorySummaries
        if year is not None:
            query = query.where(S.as_of >= date(year, 1, 1), S.as_of <= date(year, 12, 31))
        records = {row.id: Record(self.name, row.id, row.file_name, row.stored_path, row.file_hash,
                                  codes.get(row.district_id), row.as_of, row.received_at)
                   for row in conn.execute(query.order_by(S.id))}
        figures = (select(F.submission_id, F.sheet, F.cell, I.key, F.value, F.period_value, F.note, F.district_id,
                          F.as_of).join(I, I.id == F.indicator_id).where(F.cluster_id == cluster_id))
        for row in conn.execute(figures):
            record = records.get(row.submission_id)
            if record is not None:
                record.figures[(row.sheet, row.cell)] = Entry(row.key, row.value, row.period_value, row.note,
                                                              codes.get(row.district_id), row.as_of)
        return list(records.values())

    def __init__(self) -> None:
        self._names: tuple[Settings, Names] | None = None  # the parser's index of one cluster, built once

    def reread(self, grid: WorkbookGrid, settings: Settings, record: Record) -> Reread:
        from tracker.intake.matching import Names
        from tracker.intake.parser import parse_report

        if self._names is None or self._names[0] is not settings:
            self._names = (settings, Names.of(settings))
        received = record.received_at if record.received_at.tzinfo else record.received_at.replace(tzinfo=UTC)
        today = received.astimezone(settings.tz).date()  # as the intake judged it: the local day of reception
        # The year was judged at intake (it had targets then): only the cells are proved again here.
        years = (record.as_of.year,) if record.as_of is not None else ()
        report = parse_report(grid, settings, today=today, names=self._names[1], target_years=years)
        figures = {(report.sheet, row.cell): Entry(row.indicator, row.value, row.period_value, row.note,
                                                  report.district, report.as_of)
                   for row in report.rows if report.sheet is not None}
        return Reread(report.district, report.as_of, figures, cell_value=lambda s, c: _cell_number(grid, s, c))


def _cell_number(grid: WorkbookGrid, sheet: str, ref: str) -> float | None:
    """A cell of the file read as a number, the way the parser reads a figure."""
    import re

    from tracker.intake.values import read_number

    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if m is None or sheet not in grid.sheets:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    value = read_number(grid.sheets[sheet].get(int(m.group(2)), col)).value
    return value if isinstance(value, float) else None


class HistorySummaries:
    """Summaries of earlier figures (`tracker history import`, docs/sheet-format.md §15): one file is many
    ``history`` submissions (one per unit and as-of date); it is proved once, every row against its figure."""

    name = "history"
    sheet = None  # the reader reads every sheet; the summary's is chosen as at import
    max_rows = MAX_ROWS_LIMIT
    folder = ""  # archive/_lich-su/<file>: its folder is the recorded parent, like a district's

    def records(self, conn: Connection, cluster_id: str, year: int | None) -> list[Record]:
        S, F, D, I = models.Submission, models.Figure, models.District, models.Indicator  # noqa: N806, E741
        codes = dict(conn.execute(select(D.id, D.code).where(D.cluster_id == cluster_id)).all())
        rows = conn.execute(select(S.id, S.file_name, S.stored_path, S.file_hash, S.as_of, S.received_at).where(
            S.cluster_id == cluster_id, S.status == models.SubmissionStatus.accepted,
            S.source == models.SubmissionSource.history).order_by(S.id)).all()
        files: dict[str, Record] = {}
        of_file: dict[int, Record] = {}
        wanted: set[str] = set()
        for row in rows:
            record = files.get(row.file_hash)
            if record is None:  # the file's first submission stands for it
                record = files[row.file_hash] = Record(self.name, row.id, row.file_name, row.stored_path, row.file_hash,
                                                       None, None, row.received_at)
            of_file[row.id] = record
            if year is None or (row.as_of is not None and row.as_of.year == year):
                wanted.add(row.file_hash)
        figures = (select(F.submission_id, F.sheet, F.cell, I.key, F.value, F.period_value, F.note, F.district_id,
                          F.as_of).join(I, I.id == F.indicator_id).join(S, S.id == F.submission_id)
                   .where(F.cluster_id == cluster_id, S.source == models.SubmissionSource.history))
        for row in conn.execute(figures):
            record = of_file.get(row.submission_id)
            if record is not None:
                record.figures[(row.sheet, row.cell)] = Entry(row.key, row.value, row.period_value, row.note,
                                                              codes.get(row.district_id), row.as_of)
        return [record for file_hash, record in files.items() if file_hash in wanted]

    def reread(self, grid: WorkbookGrid, settings: Settings, record: Record) -> Reread:
        from tracker.intake.backfill import parse_history

        summary = parse_history(grid, settings)
        figures = {(summary.sheet, row.cell): Entry(row.indicator, row.value, None, None, row.district, row.as_of)
                   for row in summary.rows if summary.sheet is not None}
        return Reread(None, None, figures, cell_value=lambda s, c: _cell_number(grid, s, c))



class SelfAssessments:
    """The self-assessment workbook (docs/assessment.md §7): ``Submission`` rows of kind assessment and their
    ``AssessmentScore`` lines, kept under ``archive/tu-cham-diem/``."""

    name = "assessment"
    folder = "tu-cham-diem"
    max_rows = None

    @property
    def sheet(self) -> str:
        from tracker.intake.matching import SHEET_ASSESSMENT

        return SHEET_ASSESSMENT

    def records(self, conn: Connection, cluster_id: str, year: int | None) -> list[Record]:
        S, A, D = models.Submission, models.AssessmentScore, models.District  # noqa: N806
        codes = dict(conn.execute(select(D.id, D.code).where(D.cluster_id == cluster_id)).all())
        query = (select(S.id, S.file_name, S.stored_path, S.file_hash, S.district_id, S.received_at, A.sheet, A.cell,
                        A.code, A.value, A.explanation, A.district_id.label("line_district"))
                 .join(A, A.submission_id == S.id)
                 .where(S.cluster_id == cluster_id, S.status == models.SubmissionStatus.accepted,
                        S.kind == models.SubmissionKind.assessment))
        if year is not None:
            query = query.where(A.year == year)
        records: dict[int, Record] = {}
        for row in conn.execute(query.order_by(S.id, A.id)):
            record = records.get(row.id)
            if record is None:
                record = records[row.id] = Record(self.name, row.id, row.file_name, row.stored_path, row.file_hash,
                                                  codes.get(row.district_id), None, row.received_at)
            record.figures[(row.sheet, row.cell)] = Entry(row.code, row.value, note=row.explanation or None,
                                                          district=codes.get(row.line_district))
        return list(records.values())

    def reread(self, grid: WorkbookGrid, settings: Settings, record: Record) -> Reread:
        """The lines as the intake's parser reads them (the year and the computed scores are not checked again:
        what is compared is what the file says)."""
        from tracker.assessment.computed import scoring_table
        from tracker.intake.assessment_sheet import parse_assessment

        parsed = parse_assessment(grid, settings, scoring_table(settings), years=range(1900, 2200),
                                  computed=lambda _as_of: {})
        figures = {(parsed.sheet, line.cell): Entry(line.code, line.value, note=line.explanation or None,
                                                   district=parsed.district)
                   for line in parsed.lines if parsed.sheet is not None}
        return Reread(parsed.district, None, figures, cell_value=lambda s, c: _cell_number(grid, s, c))


SOURCES: tuple[Source, ...] = (WeeklySheets(), HistorySummaries(), SelfAssessments())


# -- reading the archive (I/O) ----------------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    year: int | None
    files: int = 0  # archived accepted files checked
    figures: int = 0  # stored figures compared
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def locate(record: Record, archive: Path, folder: str = "") -> Path:
    """Where the file must be: in this config's archive, under the district folder and name it was stored
    with. Not the recorded path as such: a restored installation has its archive elsewhere, and must prove
    its figures from its own files, not from those of the installation it was copied from."""
    recorded = Path(record.stored_path)
    return (archive / folder if folder else archive) / recorded.parent.name / recorded.name


@dataclass
class _Check:
    source: Source
    record: Record
    path: Path
    problem: Difference | None = None
    pending: object = None  # the reader's PendingRead


def _start(source: Source, record: Record, archive: Path) -> _Check:
    """Load and hash the file, and hand it to the reader's worker when its bytes are the ones received."""
    from tracker.intake.reader import default_reader

    check = _Check(source, record, locate(record, archive, source.folder))
    try:
        data = check.path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        data = None
    check.problem = file_problem(record, data, check.path)
    if check.problem is None:
        assert data is not None
        try:
            check.pending = default_reader().submit(data, record.file_name, sheet=source.sheet,
                                                    max_rows=source.max_rows)
        except UnreadableWorkbook as exc:
            check.problem = _unreadable(record, exc)
    return check


def _unreadable(record: Record, exc: BaseException) -> Difference:
    vi, en = (exc.message_vi, exc.message_en) if isinstance(exc, UnreadableWorkbook) else (str(exc), str(exc))
    return Difference(record.submission_id, record.file_name, "file_unreadable",
                      f"không đọc lại được tệp: {vi}", f"the file cannot be read again: {en}")


def _finish(check: _Check) -> WorkbookGrid | None:
    """Take the reader's answer (frees the worker for the next file)."""
    pending, check.pending = check.pending, None
    if pending is None:
        return None
    try:
        return pending.result()
    except Exception as exc:  # noqa: BLE001 - a file the reader cannot take is this file's difference
        check.problem = _unreadable(check.record, exc)
        return None


def _checks(work: list[tuple[Source, Record]], archive: Path) -> Iterator[tuple[_Check, WorkbookGrid | None]]:
    """Each file with its grid; the worker reads the next file while the caller compares this one."""
    current = None
    for source, record in work:
        if current is not None:
            grid = _finish(current)
            upcoming = _start(source, record, archive)
            yield current, grid
            current = upcoming
        else:
            current = _start(source, record, archive)
    if current is not None:
        yield current, _finish(current)


def verify_archive(ctx: Context, year: int | None = None,
                   progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Check every archived accepted file of ``ctx``'s cluster (as-of dates in ``year``, when given)."""
    report = VerifyReport(year)
    with ctx.engine.connect() as conn:
        work = [(source, record) for source in SOURCES for record in source.records(conn, ctx.cluster_id, year)]
    for done, (check, grid) in enumerate(_checks(work, ctx.settings.paths.archive), start=1):
        report.files += 1
        report.figures += len(check.record.figures)
        if check.problem is not None:
            report.differences.append(check.problem)
        elif grid is not None:
            reread = check.source.reread(grid, ctx.settings, check.record)
            report.differences.extend(compare(check.record, reread))
        if progress is not None:
            progress(done, len(work))
    log.info("đã kiểm tra / checked %s tệp / files, %s số liệu / figures: %s khác biệt / differences",
             format_number(report.files, 0), format_number(report.figures, 0),
             format_number(len(report.differences), 0))
    return report
