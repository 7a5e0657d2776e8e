"""Ingesting one received file: read it safely, check it, store the verdict in one transaction.

PUBLIC API (used by the CLI, the inbox pull, the web portal and the mailbox):
``ingest_bytes(ctx, data, filename, *, source, sender, message_id, received_at, checks) -> IngestResult``
and ``format_result(result) -> str`` (the one line shown for a file).

Rules (DESIGN §4):
- the same bytes as an accepted file → ``duplicate`` ("already received"), nothing new stored, success;
- bytes rejected before → rejected again with the same errors, without reading them again (except when
  that rejection came from the circumstances, not the bytes: a sender who was not a contact, or a read
  that timed out or crashed; then the file is judged afresh);
- a file for a district and as-of date that already has an accepted version → a new version; the one
  received earlier is marked ``superseded_by_id``. Nothing is ever deleted;
- accepted bytes go to the archive; rejected bytes go to quarantine with an error report (Vietnamese,
  then English) and a copy of the workbook with the faulty cells highlighted and commented.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import text
from sqlmodel import Session, select

from tracker import models
from tracker.errors import TrackerError
from tracker.intake.files import archive_path, quarantine_dir, safe_name, write_atomic
from tracker.intake.findings import CONTEXT_CODES, Finding, finding, ordered
from tracker.intake.grid import UnreadableWorkbook, WorkbookGrid
from tracker.intake.history import History, history_findings
from tracker.intake.matching import Names
from tracker.intake.parser import ParsedReport, parse_report
from tracker.text import format_date

if TYPE_CHECKING:
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


@dataclass
class IngestResult:
    """The verdict on one file. ``submission_id`` is the stored submission (for a duplicate or a repeated
    rejection: the earlier one)."""

    status: Status
    file_name: str
    file_hash: str
    submission_id: int | None = None
    district: str | None = None
    as_of: date | None = None
    findings: list[Finding] = field(default_factory=list)
    stored_path: Path | None = None
    annotated_path: Path | None = None  # the highlighted copy (rejected files)
    report_path: Path | None = None  # the error report (rejected files)
    received_at: datetime | None = None
    superseded_id: int | None = None  # the earlier version this file replaced
    repeated: bool = False  # a rejection repeated from an earlier upload of the same bytes

    @property
    def ok(self) -> bool:
        """Accepted now or before: the district has nothing to fix."""
        return self.status != "rejected"

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def format_result(result: IngestResult, lang: str = "vi") -> str:
    """One line: ``file.xlsx: đã chấp nhận (accepted) — HBT, 30/06/2023; cảnh báo: Báo cáo!E10: ...``.

    Status in Vietnamese with English in parentheses; findings by cell in ``lang``.
    """
    vi, en = STATUS_TEXT[result.status]
    line = f"{result.file_name}: {vi} ({en})"
    about = [x for x in (result.district, format_date(result.as_of) if result.as_of else None) if x]
    if about:
        line += " — " + ", ".join(about)
    if result.errors:
        line += "; lỗi (errors): " + "; ".join(f.text(lang) for f in result.errors)
    if result.warnings:
        line += "; cảnh báo (warnings): " + "; ".join(f.text(lang) for f in result.warnings)
    return line


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
    rule); their findings are stored like the others.
    """
    settings = ctx.settings
    received_at = _aware(received_at or datetime.now(UTC))
    name = safe_name(filename)
    file_hash = hashlib.sha256(data).hexdigest()
    base = IngestResult("rejected", name, file_hash, received_at=received_at)

    with ctx.session() as session:
        earlier = _earlier(session, ctx.cluster_id, file_hash)
    if earlier is not None:
        return earlier_result(ctx, earlier, base, data)

    grid: WorkbookGrid | None = None
    try:
        from tracker.intake.reader import read_workbook

        grid = read_workbook(data, name)
    except UnreadableWorkbook as exc:
        report = ParsedReport(findings=[finding("error", f"file_{exc.code}", exc.message_vi, exc.message_en)])
    else:
        today = received_at.astimezone(settings.tz).date()
        report = parse_report(grid, settings, today=today, names=_names(settings))
    for check in checks:
        report.findings.extend(check(report))

    with ctx.session(write=True) as session:
        _lock(session, ctx.cluster_id)
        earlier = _earlier(session, ctx.cluster_id, file_hash)  # another process may have been faster
        if earlier is not None:
            return earlier_result(ctx, earlier, base, data)
        ids = _ids(session, ctx.cluster_id)
        if report.ok:
            assert report.district is not None and report.as_of is not None
            history = load_history(session, ctx.cluster_id, ids["district"][report.district], report.as_of,
                                   ids["indicator_key"])
            report.findings.extend(history_findings(report, history, settings))
        report.findings = ordered(report.findings)
        district_id = ids["district"].get(report.district) if report.district else None
        submission = models.Submission(
            cluster_id=ctx.cluster_id, file_hash=file_hash, file_name=name, source=source, sender=sender,
            message_id=message_id, received_at=received_at, district_id=district_id, as_of=report.as_of,
            sheet=report.sheet, error_count=len(report.errors), warning_count=len(report.warnings),
            status=models.SubmissionStatus.accepted if report.ok else models.SubmissionStatus.rejected)
        result = IngestResult("accepted" if report.ok else "rejected", name, file_hash, district=report.district,
                              as_of=report.as_of, findings=report.findings, received_at=received_at)
        if report.ok:
            result.stored_path = write_atomic(
                archive_path(settings.paths.archive, report.district, report.as_of, file_hash, name), data)
        else:
            from tracker.intake.rejection import keep_rejected

            folder = quarantine_dir(settings.paths.quarantine, received_at.astimezone(settings.tz).date(),
                                    file_hash, name)
            result.stored_path, result.report_path, result.annotated_path = keep_rejected(
                folder, data, name, grid, report, result, settings)
        submission.stored_path = str(result.stored_path)
        session.add(submission)
        session.flush()
        result.submission_id = submission.id
        if report.ok:
            result.superseded_id = _supersede(session, submission)
            indicator_id = ids["indicator"]
            session.add_all([
                models.Figure(cluster_id=ctx.cluster_id, submission_id=submission.id, district_id=district_id,
                              indicator_id=indicator_id[row.indicator], as_of=report.as_of, value=row.value,
                              period_value=row.period_value, note=row.note, sheet=report.sheet, cell=row.cell)
                for row in report.figures])
        session.add_all([
            models.Finding(cluster_id=ctx.cluster_id, submission_id=submission.id, severity=f.severity,
                           code=f.code, sheet=f.sheet, cell=f.ref, indicator_key=f.indicator,
                           message_vi=f.message_vi, message_en=f.message_en)
            for f in report.findings])
    return result


# -- pieces ------------------------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_names_cache: dict[int, tuple[object, Names]] = {}


def _names(settings) -> Names:
    """The matching index of a settings object (built once per settings object)."""
    cached = _names_cache.get(id(settings))
    if cached is None or cached[0] is not settings:
        cached = (settings, Names.of(settings))
        _names_cache.clear()
        _names_cache[id(settings)] = cached
    return cached[1]  # type: ignore[return-value]


def _lock(session: Session, cluster_id: str) -> None:
    """One writer per cluster at a time (SQLite already has BEGIN IMMEDIATE; PostgreSQL needs a lock), so
    two processes never both store the same bytes or both become the current version."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),  # type: ignore[call-overload]
                     params={"key": f"tracker-intake:{cluster_id}"})


def _ids(session: Session, cluster_id: str) -> dict[str, dict]:
    districts = dict(session.exec(select(models.District.code, models.District.id)
                                  .where(models.District.cluster_id == cluster_id)).all())
    indicators = dict(session.exec(select(models.Indicator.key, models.Indicator.id)
                                   .where(models.Indicator.cluster_id == cluster_id)).all())
    if not districts or not indicators:
        raise TrackerError(f"Cụm {cluster_id} chưa có trong cơ sở dữ liệu: chạy `tracker init` trước.",
                           f"Cluster {cluster_id} is not in the database yet: run `tracker init` first.",
                           exit_code=2)
    return {"district": districts, "indicator": indicators,
            "indicator_key": {v: k for k, v in indicators.items()}}


def _earlier(session: Session, cluster_id: str, file_hash: str) -> models.Submission | None:
    """The submission that decides the fate of these bytes: an accepted one, else a rejection that was
    about the bytes themselves."""
    rows = session.exec(select(models.Submission).where(models.Submission.cluster_id == cluster_id,
                                                        models.Submission.file_hash == file_hash)
                        .order_by(models.Submission.id)).all()
    for row in rows:
        if row.status == models.SubmissionStatus.accepted:
            return row
    for row in rows:
        codes = set(session.exec(select(models.Finding.code).where(
            models.Finding.submission_id == row.id, models.Finding.severity == models.Severity.error)).all())
        if codes and not codes & _NOT_ABOUT_THE_BYTES:
            return row
    return None


def earlier_result(ctx: Context, earlier: models.Submission, base: IngestResult, data: bytes) -> IngestResult:
    """The verdict given to bytes seen before: duplicate of an accepted file, or the same rejection."""
    with ctx.session() as session:
        rows = session.exec(select(models.Finding).where(models.Finding.submission_id == earlier.id)
                            .order_by(models.Finding.id)).all()
        district = session.get(models.District, earlier.district_id) if earlier.district_id else None
    findings = [Finding(f.severity, f.code, f.message_vi, f.message_en, sheet=f.sheet,  # type: ignore[arg-type]
                        cell=f"{f.sheet}!{f.cell}" if f.sheet and f.cell else f.cell, indicator=f.indicator_key)
                for f in rows]
    stored = Path(earlier.stored_path) if earlier.stored_path else None
    if stored is not None and not stored.exists():  # someone tidied the folder: keep the bytes again
        write_atomic(stored, data)
    result = IngestResult(
        "duplicate" if earlier.status == models.SubmissionStatus.accepted else "rejected",
        base.file_name, base.file_hash, submission_id=earlier.id, district=district.code if district else None,
        as_of=earlier.as_of, findings=findings, stored_path=stored, received_at=base.received_at,
        repeated=earlier.status != models.SubmissionStatus.accepted)
    if result.status == "rejected" and stored is not None:
        from tracker.intake.rejection import existing_outputs

        result.report_path, result.annotated_path = existing_outputs(stored.parent)
    return result


def _supersede(session: Session, new: models.Submission) -> int | None:
    """Mark the version received earlier as superseded; returns the id of the version that was replaced.

    Among versions of one district and date the one received last is current (DESIGN §2), so a file
    that arrives with an earlier reception time (a late pull of an old inbox file) is itself superseded.
    """
    current = session.exec(select(models.Submission).where(
        models.Submission.cluster_id == new.cluster_id, models.Submission.district_id == new.district_id,
        models.Submission.as_of == new.as_of, models.Submission.status == models.SubmissionStatus.accepted,
        models.Submission.superseded_by_id.is_(None),  # type: ignore[union-attr]
        models.Submission.id != new.id)).first()
    if current is None:
        return None
    if _aware(current.received_at) <= _aware(new.received_at):
        current.superseded_by_id = new.id
        session.add(current)
        return current.id
    new.superseded_by_id = current.id
    session.add(new)
    return None


def load_history(session: Session, cluster_id: str, district_id: int, as_of: date,
                 indicator_key: dict[int, str]) -> History:
    """The district's current accepted figures of the year up to ``as_of`` (superseded versions left out)."""
    rows = session.exec(
        select(models.Figure.indicator_id, models.Figure.as_of, models.Figure.value)
        .join(models.Submission, models.Submission.id == models.Figure.submission_id)
        .where(models.Figure.cluster_id == cluster_id, models.Figure.district_id == district_id,
               models.Figure.as_of >= date(as_of.year, 1, 1), models.Figure.as_of <= as_of,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Submission.superseded_by_id.is_(None))  # type: ignore[union-attr]
    ).all()
    out: dict[str, list[tuple[date, float]]] = {}
    for indicator_id, at, value in rows:
        out.setdefault(indicator_key[indicator_id], []).append((at, value))
    for points in out.values():
        points.sort()
    return out
