"""Ingesting received files: read each safely, check it, store the verdict in one transaction per file.

PUBLIC API (used by the CLI, the inbox pull, the web portal and the mailbox):
- ``ingest_bytes(ctx, data, filename, *, source, sender, message_id, received_at, checks) -> IngestResult``
- ``ingest_many(ctx, items) -> Iterator[Outcome]`` — the same for many files, faster (see below);
- ``format_result(result) -> str`` — the one line shown for a file.

Rules (docs/sheet-format.md §9, §11), in this order:
- a source's own rule (a district link takes only that district's sheet; an e-mail only from a contact
  of the district it names) comes first: a sheet it refuses is rejected as a new file, even when the
  same bytes came before from elsewhere, so the verdict tells nothing about what others sent;
- the same bytes as an accepted file → ``duplicate`` ("already received"), nothing new stored, success;
- bytes rejected before → rejected again with the same errors (except when that rejection came from
  the circumstances, not the bytes: a sender who was not a contact, or a read that timed out or
  crashed; then the file is judged afresh);
- a file for a district and as-of date that already has an accepted version → a new version; the one
  received earlier is marked ``superseded_by_id``. Nothing is ever deleted;
- accepted bytes go to the archive; rejected bytes go to quarantine with an error report (Vietnamese,
  then English) and a copy of the workbook with the faulty cells highlighted and commented.

Speed: a batch shares its lookups and one connection, has the reader's worker process read the next
file while this process checks and stores the current one (in one thread: no GIL handovers), and uses
plain SQL statements (no ORM objects). Each file still gets its own write transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import bindparam, insert, select, text, update
from sqlmodel import Session

from tracker import findings as findings_module
from tracker import models
from tracker.assessment.computed import computed_values, scoring_table
from tracker.assessment.store import store_self_scores
from tracker.assessment.years import cluster_years
from tracker.calendar import parse_period
from tracker.closing import covers
from tracker.errors import NotInitialised
from tracker.findings import CONTEXT_CODES, Finding, Judged, ordered
from tracker.intake.assessment_sheet import ParsedAssessment, is_assessment, parse_assessment
from tracker.intake.files import archive_path, quarantine_dir, received_name, safe_name, write_atomic
from tracker.intake.grid import UnreadableWorkbook, WorkbookGrid, refusal
from tracker.intake.history import History, history_findings, window_start
from tracker.intake.matching import SHEET_ASSESSMENT, SHEET_REPORT, Names
from tracker.intake.parser import ParsedReport, parse_report
from tracker.intake.reader import PendingRead, default_reader
from tracker.intake.rejection import RejectedFiles, existing_outputs, prepare_rejected, write_rejected
from tracker.messages import Bilingual
from tracker.text import format_date

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.context import Context

Status = Literal["accepted", "duplicate", "rejected"]
# A check added by a source (the mailbox's sender rule): it sees the parsed sheet, returns findings.
Check = Callable[[ParsedReport], Iterable[Finding]]
# Rejections that say nothing about the bytes themselves: the same bytes are judged afresh next time.
_NOT_ABOUT_THE_BYTES = CONTEXT_CODES | {"file_timeout", "file_crashed"}

STATUS_TEXT = {
    "accepted": ("đã chấp nhận", "accepted"),
    "duplicate": ("đã nhận trước đó", "already received"),
    "rejected": ("bị từ chối", "rejected"),
}

_SUB = models.Submission.__table__
_FIG = models.Figure.__table__
_FIND = models.Finding.__table__
_SCORE = models.AssessmentScore.__table__
_CLOSE = models.PeriodClose.__table__


@dataclass
class IngestResult(Judged):
    """The verdict on one file. ``submission_id`` is the stored submission (for a duplicate or a repeated
    rejection: the earlier one). A self-assessment workbook has ``kind`` "assessment", its ``year`` and no
    ``as_of``."""

    status: Status
    file_name: str
    file_hash: str
    submission_id: int | None = None
    district: str | None = None
    as_of: date | None = None
    findings: list[Finding] = field(default_factory=list)
    stored_path: Path | None = None
    annotated_path: Path | None = None  # the highlighted copy (rejected files that could be read)
    report_path: Path | None = None  # the error report (rejected files)
    received_at: datetime | None = None
    superseded_id: int | None = None  # the earlier version this file replaced
    repeated: bool = False  # a rejection repeated from an earlier upload of the same bytes
    kind: str = "report"  # report | assessment (a self-assessment workbook, docs/assessment.md §7)
    year: int | None = None  # a self-assessment's year

    @property
    def ok(self) -> bool:
        """Accepted now or before: the district has nothing to fix."""
        return self.status != "rejected"



def format_result(result: IngestResult, lang: str = "vi") -> str:
    """One line: ``file.xlsx: đã chấp nhận (accepted) — HBT, 30/06/2023; cảnh báo (warnings): Báo cáo!E10: …``.

    Status in Vietnamese with English in parentheses; findings by cell in ``lang``.
    """
    vi, en = STATUS_TEXT[result.status]
    line = f"{result.file_name}: {vi} ({en})"
    about = [x for x in (result.district, format_date(result.as_of) if result.as_of else None) if x]
    if result.kind == "assessment":
        year = f" năm {result.year}" if result.year else ""
        about = [f"bảng tự chấm điểm{year} (self-assessment)", *about]
    if about:
        line += " — " + ", ".join(about)
    if result.errors:
        line += "; lỗi (errors): " + "; ".join(f.text(lang) for f in result.errors)
    if result.warnings:
        line += "; cảnh báo (warnings): " + "; ".join(f.text(lang) for f in result.warnings)
    return line


@dataclass
class Incoming:
    """A file to ingest. ``load`` returns its bytes (called just before the file goes to the reader)."""

    load: Callable[[], bytes]
    filename: str
    source: str = "cli"
    sender: str | None = None
    message_id: str | None = None
    received_at: datetime | None = None
    checks: Sequence[Check] = ()

    @classmethod
    def of(cls, data: bytes, filename: str, **kwargs) -> Incoming:
        return cls(lambda: data, filename, **kwargs)


@dataclass
class Outcome:
    """The result of one file of a batch, or the exception that kept it from being handled."""

    item: Incoming
    result: IngestResult | None = None
    error: BaseException | None = None


def ingest_bytes(
    ctx: Context,
    data: bytes,
    filename: str,
    *,
    source: str = "cli",
    sender: str | None = None,
    message_id: str | None = None,
    received_at: datetime | None = None,
    checks: Sequence[Check] = (),
) -> IngestResult:
    """Judge and store one received file (see the module docstring).

    ``received_at`` defaults to now; the inbox pull passes the file's modification time and the demo
    the time a clerk would have sent it. ``checks`` are extra rules of a source (the mailbox's sender
    rule); their findings are stored like the others. Raises only for problems of the installation
    (database unreachable, cluster not initialised), never for a bad file.
    """
    item = Incoming.of(data, filename, source=source, sender=sender, message_id=message_id,
                       received_at=received_at, checks=checks)
    batch = _Batch(ctx)
    try:
        return batch.store(batch.prepare(item))
    finally:
        batch.close()


def ingest_many(ctx: Context, items: Iterable[Incoming]) -> Iterator[Outcome]:
    """Ingest files one after another (one transaction each); the reader's worker process reads the next
    file while this process checks and stores the current one.

    Yields one :class:`Outcome` per item, in order; a file that cannot be handled at all (its bytes
    cannot be loaded, the database fails) yields its exception and the batch goes on. No read is in
    flight while an outcome is being handled by the caller.
    """
    batch = _Batch(ctx)
    source = iter(items)
    ahead: _Reading | None = None
    try:
        item = next(source, None)
        current = batch.submit(item) if item is not None else None
        while current is not None:
            current.wait()  # the worker is free again (after the first file: taken before the yield)...
            item = next(source, None)
            ahead = batch.submit(item) if item is not None else None  # ...and reads the next file
            try:
                outcome = Outcome(current.item, result=batch.store(batch.judge(current)))
            except Exception as exc:  # noqa: BLE001 - one file never stops the batch
                outcome = Outcome(current.item, error=exc)
            if ahead is not None:
                ahead.wait()
            yield outcome
            current, ahead = ahead, None
    finally:
        if ahead is not None:
            ahead.discard()
        batch.close()


# -- the work ----------------------------------------------------------------------------------------------


@dataclass
class _Reading:
    """A file handed to the reader: its bytes, and then its grid or why it could not be read."""

    item: Incoming
    data: bytes = b""
    name: str = ""  # as received (files.received_name); the stored files get names made from it
    file_hash: str = ""
    received_at: datetime | None = None
    pending: PendingRead | None = None
    grid: WorkbookGrid | None = None
    unreadable: UnreadableWorkbook | None = None
    failure: BaseException | None = None  # not loaded, or the reader failed: not a verdict on the file

    def wait(self) -> None:
        """Take the reader's answer. Never raises: a bad file is a verdict, and anything else (the pipe to
        the worker failing) is this file's failure, reported for it alone by :meth:`_Batch.judge`."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        try:
            self.grid = pending.result()
        except UnreadableWorkbook as exc:
            self.unreadable = exc
        except Exception as exc:  # noqa: BLE001 - one file never stops the batch
            self.failure = exc

    def discard(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.discard()


@dataclass
class _Prepared:
    item: Incoming
    data: bytes
    name: str
    file_hash: str
    received_at: datetime
    grid: WorkbookGrid | None
    report: ParsedReport | ParsedAssessment


class _Batch:
    """Lookups and the database connection shared by the files of one batch."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.settings = ctx.settings
        self.names = Names.of(ctx.settings)
        self._ids: _ClusterIds | None = None
        self._target_years: frozenset[int] | None = None
        self._conn: Connection | None = None
        self._assessments: _Assessments | None = None
        self._closes: list[tuple[str, date, datetime]] | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def connection(self) -> Connection:
        """One connection for the batch; each file still gets its own write transaction on it.

        ``info["write"]`` makes SQLite take the write lock at BEGIN (BEGIN IMMEDIATE), as
        ``ctx.session(write=True)`` does."""
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self.ctx.engine.connect()
            self._conn.info["write"] = True
        return self._conn

    def submit(self, item: Incoming) -> _Reading:
        """Load the file's bytes and hand them to the reader's worker (returns at once)."""
        reading = _Reading(item, name=received_name(item.filename),
                           received_at=_aware(item.received_at or datetime.now(UTC)))
        try:
            reading.data = item.load()
        except Exception as exc:  # noqa: BLE001 - reported as this item's failure by judge()
            reading.failure = exc
            return reading
        reading.file_hash = hashlib.sha256(reading.data).hexdigest()
        try:
            reading.pending = default_reader().submit(reading.data, safe_name(reading.name),
                                                     sheet=(SHEET_REPORT, SHEET_ASSESSMENT))
        except UnreadableWorkbook as exc:  # empty, too large, or no worker could start
            reading.unreadable = exc
        return reading

    def prepare(self, item: Incoming) -> _Prepared:
        """Everything that needs no database: load, hash, read (in the worker process), check."""
        reading = self.submit(item)
        reading.wait()
        return self.judge(reading)

    def judge(self, reading: _Reading) -> _Prepared:
        """The checks of the sheet itself (docs/sheet-format.md §7, §8) and those of its source."""
        if reading.failure is not None:
            raise reading.failure
        item, exc = reading.item, reading.unreadable
        assert reading.received_at is not None
        report: ParsedReport | ParsedAssessment
        if exc is not None:
            report = ParsedReport(findings=[refusal(exc)])
        elif reading.grid is not None and is_assessment(reading.grid):
            report = self.assessments().parse(reading.grid, self.names)
        else:
            assert reading.grid is not None
            today = reading.received_at.astimezone(self.settings.tz).date()
            report = parse_report(reading.grid, self.settings, today=today, names=self.names,
                                  target_years=self.target_years())
        for check in item.checks:
            report.findings.extend(check(report))
        return _Prepared(item, reading.data, reading.name, reading.file_hash, reading.received_at, reading.grid,
                         report)

    def target_years(self) -> frozenset[int]:
        """The years with registered targets (a sheet may be dated in them), read once per batch."""
        if self._target_years is None:
            self._target_years = registered_years(self.ctx)
        return self._target_years

    def assessments(self) -> _Assessments:
        if self._assessments is None:
            self._assessments = _Assessments.load(self.ctx)
        return self._assessments

    def closes(self, conn: Connection) -> list[tuple[str, date, datetime]]:
        """The cluster's closes in force, read once per batch (a close made meanwhile warns from the next)."""
        if self._closes is None:
            self._closes = [tuple(row) for row in conn.execute(_SELECT_CLOSES, {"cluster_id": self.ctx.cluster_id})]
        return self._closes

    def ids(self, conn: Connection) -> _ClusterIds:
        if self._ids is None:
            self._ids = _ClusterIds.load(conn, self.ctx.cluster_id)
        return self._ids

    def store(self, p: _Prepared) -> IngestResult:
        """The verdict on a checked file, stored in one write transaction with its bytes kept on disk.

        What a rejection leaves in quarantine is made before the transaction: the annotated copy takes far
        longer than the statements, and the transaction holds the cluster's write lock."""
        rejected = None if p.report.ok else self._prepare_rejection(p)
        conn = self.connection()
        with conn.begin():
            ids = self.ids(conn)
            _lock(conn, self.ctx.cluster_id)
            # A source's own rule first: "already received" would tell a stranger that someone sent these bytes.
            refused_by_source = any(f.is_error and f.code in CONTEXT_CODES for f in p.report.findings)
            earlier = None if refused_by_source else _earlier(conn, self.ctx.cluster_id, p.file_hash)
            if earlier is not None:
                return _earlier_result(conn, earlier, p, ids)
            if rejected is None and isinstance(p.report, ParsedAssessment):
                return self._accept_assessment(conn, ids, p, p.report)
            if rejected is None:
                self._assessments = None  # new figures: the computed scores (and years) are read afresh
                return self._accept(conn, ids, p)
            return self._reject(conn, ids, p, *rejected)

    def _prepare_rejection(self, p: _Prepared) -> tuple[IngestResult, RejectedFiles]:
        """The verdict and the quarantine's files of a rejected file (no database: called before the lock)."""
        p.report.findings = ordered(p.report.findings)
        result = _verdict(p, "rejected")
        return result, prepare_rejected(p.data, p.name, p.grid, p.report, result, self.settings)

    def _accept(self, conn: Connection, ids: _ClusterIds, p: _Prepared) -> IngestResult:
        """Archive the bytes, add the history's warnings, store the submission, its figures and findings."""
        report, settings, cid = p.report, self.settings, self.ctx.cluster_id
        assert isinstance(report, ParsedReport)
        assert report.district is not None and report.as_of is not None
        archived = archive_path(settings.paths.archive, report.district, report.as_of, p.file_hash, p.name)
        # Written here, in this thread: a writer thread overlapped it with the statements but cost
        # more in handing the GIL back and forth (bench/ingest.py: 2.5 against 3.3 ms a sheet).
        write_atomic(archived, p.data)  # on disk before the submission that names it is committed
        past = _history(conn, cid, ids.district[report.district], report.as_of, ids.indicator_key)
        report.findings = ordered([*report.findings, *history_findings(report, past.figures, settings),
                                   *_after_close(self.closes(conn), report, settings.tz)])
        result = _verdict(p, "accepted")
        result.stored_path = archived
        sid = result.submission_id = self._insert_submission(conn, ids, p, result)
        result.superseded_id = _supersede(conn, sid, p.received_at, past.current)
        district_id, indicator_id = ids.district[report.district], ids.indicator
        conn.execute(_INSERT_FIGURE, [
            {"cluster_id": cid, "submission_id": sid, "district_id": district_id,
             "indicator_id": indicator_id[row.indicator], "as_of": report.as_of, "value": row.value,
             "period_value": row.period_value, "note": row.note, "sheet": report.sheet, "cell": row.cell}
            for row in report.figures])
        _insert_findings(conn, cid, sid, report.findings)
        return result

    def _accept_assessment(self, conn: Connection, ids: _ClusterIds, p: _Prepared,
                           report: ParsedAssessment) -> IngestResult:
        """Archive the bytes, store the submission (kind assessment, no as-of date), its lines and findings.
        The latest accepted workbook of a unit and year counts (:func:`tracker.assessment.store.self_assessments`)."""
        assert report.district is not None and report.as_of is not None and report.year is not None
        archived = archive_path(self.settings.paths.archive / "tu-cham-diem", report.district, report.as_of,
                                p.file_hash, p.name)
        write_atomic(archived, p.data)
        report.findings = ordered(report.findings)
        result = _verdict(p, "accepted")
        result.stored_path = archived
        sid = result.submission_id = self._insert_submission(conn, ids, p, result)
        submission = models.Submission(id=sid, cluster_id=self.ctx.cluster_id,
                                       district_id=ids.district[report.district], kind=models.SubmissionKind.assessment)
        with Session(bind=conn) as session:  # joins this transaction; the batch commits it with the submission
            store_self_scores(session, submission, year=report.year, as_of=report.as_of, lines=report.lines,
                              sheet=report.sheet or "")
            session.flush()
        _insert_findings(conn, self.ctx.cluster_id, sid, report.findings)
        return result

    def _reject(self, conn: Connection, ids: _ClusterIds, p: _Prepared, result: IngestResult,
                files: RejectedFiles) -> IngestResult:
        """Write the quarantine folder made ready before the lock, store the submission and its findings."""
        settings = self.settings
        folder = quarantine_dir(settings.paths.quarantine, p.received_at.astimezone(settings.tz).date(),
                                p.file_hash, p.name)
        result.stored_path, result.report_path, result.annotated_path = write_rejected(folder, files)
        result.submission_id = self._insert_submission(conn, ids, p, result)
        _insert_findings(conn, self.ctx.cluster_id, result.submission_id, p.report.findings)
        return result

    def _insert_submission(self, conn: Connection, ids: _ClusterIds, p: _Prepared, result: IngestResult) -> int:
        report, item = p.report, p.item
        status = models.SubmissionStatus.accepted if result.status == "accepted" else models.SubmissionStatus.rejected
        # A sheet a source refused (another district's sheet through a link, from a stranger's address) is
        # the sender's, not the district's it names: that district never sees it or counts it as its own.
        mine = not any(f.is_error and f.code in CONTEXT_CODES for f in report.findings)
        return conn.execute(_INSERT_SUBMISSION, {
            "cluster_id": self.ctx.cluster_id, "file_hash": p.file_hash, "file_name": p.name,
            "stored_path": str(result.stored_path), "source": item.source, "sender": item.sender,
            "message_id": item.message_id, "received_at": p.received_at, "status": str(status),
            "district_id": ids.district.get(report.district) if report.district and mine else None,
            "kind": str(_kind(report)), "as_of": None if _kind(report) == "assessment" else report.as_of,
            "sheet": report.sheet, "error_count": len(report.errors),
            "warning_count": len(report.warnings),
            "superseded_by_id": None}).inserted_primary_key[0]


def _after_close(closes: Sequence[tuple[str, date, datetime]], report: ParsedReport, tz) -> list[Finding]:
    """A warning per closed period the sheet's date falls in: an amendment after close (docs/closing.md §3).
    ``closes``: (period, as-of date, closed at) of the cluster's closes still in force."""
    assert report.as_of is not None
    found = []
    for key, as_of, closed_at in closes:
        if not covers(as_of, report.as_of):
            continue
        period = parse_period(key)
        closed_at = _aware(closed_at)
        found.append(findings_module.make(
            "amended_after_close", sheet=report.sheet, ref=report.as_of_cell,
            period=Bilingual(period.title, period.key), closed_at=format_date(closed_at.astimezone(tz).date()),
            close_as_of=format_date(as_of)))
    return found


@dataclass(frozen=True)
class _ClusterIds:
    """The database ids of the cluster's districts and indicators, both ways, read once per batch."""

    district: dict[str, int]  # code -> id
    indicator: dict[str, int]  # key -> id
    district_code: dict[int, str]
    indicator_key: dict[int, str]

    @classmethod
    def load(cls, conn: Connection, cluster_id: str) -> _ClusterIds:
        districts = dict(conn.execute(select(models.District.code, models.District.id)
                                      .where(models.District.cluster_id == cluster_id)).all())
        indicators = dict(conn.execute(select(models.Indicator.key, models.Indicator.id)
                                       .where(models.Indicator.cluster_id == cluster_id)).all())
        if not districts or not indicators:
            raise NotInitialised(cluster_id)
        return cls(districts, indicators, {v: k for k, v in districts.items()}, {v: k for k, v in indicators.items()})


@dataclass(frozen=True)
class _Version:
    """An accepted, current submission of the new file's district and as-of date."""

    id: int
    received_at: datetime


@dataclass(frozen=True)
class _Past:
    """What the district sent before, as far as a new file needs it (:func:`_history`)."""

    figures: History
    current: list[_Version]


def _kind(report: ParsedReport | ParsedAssessment) -> models.SubmissionKind:
    return models.SubmissionKind.assessment if isinstance(report, ParsedAssessment) else models.SubmissionKind.report


def _verdict(p: _Prepared, status: Status) -> IngestResult:
    report = p.report
    if isinstance(report, ParsedAssessment):
        return IngestResult(status, p.name, p.file_hash, district=report.district, findings=report.findings,
                            received_at=p.received_at, kind="assessment", year=report.year)
    return IngestResult(status, p.name, p.file_hash, district=report.district, as_of=report.as_of,
                        findings=report.findings, received_at=p.received_at)


@dataclass
class _Assessments:
    """What checking self-assessment workbooks needs from the database, read once per batch: the scoring
    table, the cluster's years, and the computed scores per assessment date (docs/assessment.md §7)."""

    ctx: Context
    years: set[int]
    computed: dict[date, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, ctx: Context) -> _Assessments:
        with ctx.session() as session:
            return cls(ctx, cluster_years(session, ctx.settings))

    def computed_at(self, as_of: date):
        if as_of not in self.computed:
            with self.ctx.session() as session:
                self.computed[as_of] = computed_values(session, self.ctx.settings, as_of)
        return self.computed[as_of]

    def parse(self, grid: WorkbookGrid, names: Names) -> ParsedAssessment:
        return parse_assessment(grid, self.ctx.settings, scoring_table(self.ctx.settings), years=self.years,
                                computed=self.computed_at, names=names)


def _insert_findings(conn: Connection, cluster_id: str, sid: int, findings: list[Finding]) -> None:
    if findings:
        conn.execute(_INSERT_FINDING, [
            {"cluster_id": cluster_id, "submission_id": sid, "severity": f.severity, "code": f.code,
             "sheet": f.sheet, "cell": f.ref, "indicator_key": f.indicator, "message_vi": f.message_vi,
             "message_en": f.message_en}
            for f in findings])


# Statements built once (with bind parameters) so each file pays only for executing them.
# The closes in force (not reopened), for the amendment-after-close warning: read once per batch.
_SELECT_CLOSES = select(_CLOSE.c.period, _CLOSE.c.as_of, _CLOSE.c.closed_at).where(
    _CLOSE.c.cluster_id == bindparam("cluster_id"), _CLOSE.c.reopened_at.is_(None))
_INSERT_SUBMISSION = insert(_SUB)  # the new id: SQLite's last row id, PostgreSQL's implicit RETURNING
_INSERT_FIGURE = insert(_FIG)
_INSERT_FINDING = insert(_FIND)
_SELECT_EARLIER = (select(_SUB.c.id, _SUB.c.status, _SUB.c.district_id, _SUB.c.as_of, _SUB.c.stored_path,
                          _SUB.c.kind)
                   .where(_SUB.c.cluster_id == bindparam("cid"), _SUB.c.file_hash == bindparam("file_hash"))
                   .order_by(_SUB.c.id))
_SELECT_HISTORY = (
    select(_FIG.c.indicator_id, _FIG.c.as_of, _FIG.c.value, _SUB.c.id)
    .join(_SUB, _SUB.c.id == _FIG.c.submission_id)
    .where(_FIG.c.cluster_id == bindparam("cid"), _FIG.c.district_id == bindparam("district_id"),
           _FIG.c.as_of >= bindparam("start"), _FIG.c.as_of <= bindparam("as_of"),
           _SUB.c.status == "accepted", _SUB.c.superseded_by_id.is_(None))
)
_SELECT_RECEIVED = select(_SUB.c.id, _SUB.c.received_at).where(_SUB.c.id.in_(bindparam("ids", expanding=True)))
_MARK_SUPERSEDED = update(_SUB).where(_SUB.c.id == bindparam("target")).values(superseded_by_id=bindparam("by"))


def registered_years(ctx: Context) -> frozenset[int]:
    """The years with registered targets of the context's cluster (a sheet may be dated in them)."""
    with ctx.engine.connect() as conn:  # a read of its own: a batch's connection writes
        rows = conn.execute(select(models.Target.year).where(
            models.Target.cluster_id == ctx.cluster_id).distinct()).scalars().all()
    return frozenset(int(y) for y in rows)


def lock_intake(conn: Connection, cluster_id: str) -> None:
    """Take the cluster's intake lock inside the current write transaction (another importer of figures,
    :mod:`tracker.intake.backfill`, stores under it too)."""
    _lock(conn, cluster_id)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _lock(conn: Connection, cluster_id: str) -> None:
    """One writer per cluster at a time (SQLite already has BEGIN IMMEDIATE; PostgreSQL needs a lock), so
    two processes never both store the same bytes or both become the current version."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"tracker-intake:{cluster_id}"})


def _earlier(conn: Connection, cluster_id: str, file_hash: str):
    """The submission that decides the fate of these bytes: an accepted one, else a rejection that was
    about the bytes themselves; None when the bytes are new."""
    rows = conn.execute(_SELECT_EARLIER, {"cid": cluster_id, "file_hash": file_hash}).all()
    if not rows:
        return None
    for row in rows:
        if row.status == models.SubmissionStatus.accepted:
            return row
    for row in rows:
        codes = set(conn.execute(select(_FIND.c.code).where(_FIND.c.submission_id == row.id,
                                                             _FIND.c.severity == "error")).scalars())
        if codes and not codes & _NOT_ABOUT_THE_BYTES:
            return row
    return None


def _earlier_result(conn: Connection, earlier, p: _Prepared, ids: _ClusterIds) -> IngestResult:
    """The verdict given to bytes seen before: a duplicate of an accepted file, or the same rejection."""
    rows = conn.execute(select(_FIND).where(_FIND.c.submission_id == earlier.id).order_by(_FIND.c.id)).all()
    findings = [findings_module.stored_finding(f) for f in rows]
    stored = Path(earlier.stored_path) if earlier.stored_path else None
    if stored is not None and not stored.exists():  # someone tidied the folder: keep the bytes again
        write_atomic(stored, p.data)
    accepted = earlier.status == models.SubmissionStatus.accepted
    result = IngestResult("duplicate" if accepted else "rejected", p.name, p.file_hash, submission_id=earlier.id,
                          district=ids.district_code.get(earlier.district_id), as_of=earlier.as_of,
                          findings=findings, stored_path=stored, received_at=p.received_at, repeated=not accepted)
    if earlier.kind == models.SubmissionKind.assessment:
        result.kind = "assessment"
        result.year = conn.execute(select(_SCORE.c.year).where(_SCORE.c.submission_id == earlier.id).limit(1)
                                   ).scalar()
    if not accepted and stored is not None:
        result.report_path, result.annotated_path = existing_outputs(stored.parent)
    return result


def _supersede(conn: Connection, sid: int, received_at: datetime, current: list[_Version]) -> int | None:
    """Mark the version received earlier as superseded; returns the id of the version that was replaced.

    The version of one district and date received last is current (docs/indicators-and-progress.md §2), so a file
    that arrives with an earlier reception time (an old file found in the inbox) is itself superseded.
    """
    replaced = None
    for other in current:
        if _aware(other.received_at) <= received_at:
            conn.execute(_MARK_SUPERSEDED, {"target": other.id, "by": sid})
            replaced = other.id
        else:
            conn.execute(_MARK_SUPERSEDED, {"target": sid, "by": other.id})
    return replaced


def _history(conn: Connection, cluster_id: str, district_id: int, as_of: date, indicator_key: dict[int, str]
             ) -> _Past:
    """What the history rules need (:mod:`tracker.intake.history`): the district's current accepted figures
    of the rules' window up to ``as_of``, and for an indicator with none there, its latest figure before;
    plus the current accepted submission(s) of ``as_of`` itself (id, reception time)."""
    since = window_start(as_of)
    rows = conn.execute(_SELECT_HISTORY, {"cid": cluster_id, "district_id": district_id,
                                          "start": since, "as_of": as_of}).all()
    out: dict[str, list[tuple[date, float]]] = {}
    same_day: set[int] = set()
    for indicator_id, at, value, sid in rows:
        out.setdefault(indicator_key[indicator_id], []).append((at, value))
        if at == as_of:
            same_day.add(sid)
    if len(out) < len(indicator_key) and since > date(as_of.year, 1, 1):
        older = conn.execute(_SELECT_HISTORY.order_by(_FIG.c.as_of.desc()), {
            "cid": cluster_id, "district_id": district_id, "start": date(as_of.year, 1, 1),
            "as_of": since - timedelta(days=1)}).all()
        for indicator_id, at, value, _sid in older:
            key = indicator_key[indicator_id]
            if key not in out:
                out[key] = [(at, value)]
    for points in out.values():
        points.sort()
    current = conn.execute(_SELECT_RECEIVED, {"ids": sorted(same_day)}).all() if same_day else []
    return _Past(out, [_Version(sid, received) for sid, received in current])
