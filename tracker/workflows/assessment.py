"""The year-end assessment's outputs (docs/assessment.md §10): the scores from the store, the workbook, chart
and e-mail drawn by reporting, the draft minutes laid out by documents, and the e-mail to the head through
the outbox (once per year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from tracker.assessment.computed import scoring_table
from tracker.assessment.rules import Assessment, ScoringTable
from tracker.assessment.store import load_assessment
from tracker.assessment.words import AssessmentWords, assessment_subject
from tracker.assessment.years import cluster_years
from tracker.context import Context, require_initialised
from tracker.documents import official
from tracker.documents.minutes import minutes_document
from tracker.errors import TrackerError
from tracker.mail.messages import SendReport, Spec, send
from tracker.models import utcnow
from tracker.reporting.assessment import AssessmentReport, default_dir, render_assessment
from tracker.text import format_date
from tracker.workflows.sending import report_draft


@dataclass(frozen=True)
class AssessmentDay:
    year: int
    as_of: date


def assessment_day(ctx: Context, year: int | None = None, as_of: date | None = None) -> AssessmentDay:
    """The year and the assessment date of a command: ``--year`` (default the ``[cluster] year``, or the
    year of ``--as-of``) and ``--as-of`` (default 31/12 of the year). A year the cluster does not have
    (:func:`tracker.assessment.years.cluster_years`), a date outside the year, or a config without a scoring
    table is a usage error (exit 2). Every assessment command and the requests take their year here."""
    settings = ctx.settings
    if not settings.assessment.enabled:
        raise TrackerError("Chưa có thang điểm thi đua: thêm mục [assessment] và các [[assessment.criteria]] vào "
                           "config.toml (docs/assessment.md §1).",
                           "No scoring table: add [assessment] and [[assessment.criteria]] to config.toml.",
                           exit_code=2)
    if year is not None and as_of is not None and as_of.year != year:
        raise TrackerError(f"Ngày {format_date(as_of)} không thuộc năm {year}: bỏ --as-of hoặc chọn một ngày của "
                           f"năm {year}.",
                           f"{as_of.isoformat()} is not in {year}: leave out --as-of or give a date in {year}.",
                           exit_code=2)
    year = year or (as_of.year if as_of else settings.cluster.year)
    require_initialised(ctx)
    with ctx.session() as session:
        years = cluster_years(session, settings)
    if year not in years:
        listed = ", ".join(str(y) for y in sorted(years))
        raise TrackerError(f"Năm {year} không phải năm thi đua của cụm (các năm có: {listed}).",
                           f"{year} is not a year of this cluster (years: {listed}).", exit_code=2)
    return AssessmentDay(year, as_of or date(year, 12, 31))


def current_assessment(ctx: Context, day: AssessmentDay) -> tuple[Assessment, ScoringTable, AssessmentWords]:
    with ctx.session() as session:
        assessment = load_assessment(session, ctx.settings, day.year, day.as_of)
    return assessment, scoring_table(ctx.settings), AssessmentWords.of(ctx.settings, assessment)


def build_assessment_report(ctx: Context, day: AssessmentDay, out_dir: Path | None = None, *,
                            now: datetime | None = None) -> AssessmentReport:
    """Write the workbook, the ranking chart, the draft minutes and the e-mail body of ``day``'s assessment
    into ``out_dir`` (default ``reports/assessment/<year>/``). The minutes are dated the day they are made."""
    settings = ctx.settings
    assessment, table, words = current_assessment(ctx, day)
    today = (now or utcnow()).astimezone(settings.tz).date()
    minutes = minutes_document(assessment, table, words, today, settings.documents.number_code)

    def write_minutes(path: Path) -> Path:
        return official.write_official(minutes, settings.documents, path)

    out_dir = out_dir or default_dir(settings.paths.reports, day.year)
    return render_assessment(assessment, table, words, out_dir, write_minutes=write_minutes)


def send_assessment(ctx: Context, day: AssessmentDay, *, dry_run: bool = False,
                    now: datetime | None = None) -> SendReport:
    """The assessment's workbook, chart and draft minutes to every head address, once per year."""
    settings = ctx.settings

    def make(folder: Path):
        rep = build_assessment_report(ctx, day, folder, now=now)
        chart = _Inline(rep.chart, rep.chart_cid)
        return report_draft(ctx, rep.subject, rep.text, rep.html, [chart], rep.attachments)

    out_dir = None if dry_run else default_dir(settings.paths.reports, day.year)
    spec = Spec("head", tuple(settings.cluster.head.emails),
                assessment_subject(settings.cluster.name, day.year, day.as_of), make)
    return send(ctx, "assessment", str(day.year), [spec], out_dir=out_dir, dry_run=dry_run, now=now)


@dataclass(frozen=True)
class _Inline:
    """The chart as the draft's inline part (what :func:`tracker.workflows.sending.report_draft` reads)."""

    path: Path
    cid: str

    @property
    def filename(self) -> str:
        return self.path.name
