"""The demo's mid-year assessment (docs/assessment.md): self-assessments in by the inbox and the portal, one
rejected first, the head's cross-check imported, then the result, its workbook, minutes and e-mail.

Every step goes through the product's own code: the units' workbooks are `tracker assess template`'s, filled
as a clerk fills them (:mod:`tracker.workflows.sample_assessment`); they come in through the `pull` job and
through the portal's upload form over HTTP; the cross-check is `tracker assess review-template` filled by the
head and `tracker assess import`; the outputs are `tracker report assessment` and `tracker send assessment`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import select

from tracker import models
from tracker.assessment.store import self_assessments
from tracker.context import Context
from tracker.findings import stored_finding
from tracker.intake.assessment_review import import_review, review_template
from tracker.intake.assessment_template import assessment_template_filename, assessment_templates
from tracker.intake.inbox import touch
from tracker.text import format_date, format_number
from tracker.workflows.assessment import (
    assessment_day,
    build_assessment_report,
    current_assessment,
    send_assessment,
)
from tracker.workflows.demo_parts import OpenPortal, RunJob, Say, outcome
from tracker.workflows.sample import stable_bytes
from tracker.workflows.sample_assessment import (
    CLUSTER_SCORES,
    FIRST_TRY,
    PORTAL_UNIT,
    SELF_SCORES,
    fill_review,
    fill_self_assessment,
)


def assess_mid_year(ctx: Context, open_portal: OpenPortal, run_job: RunJob, as_of: date, *, out: Say,
                    err: Say) -> bool:
    """The whole assessment as of ``as_of``; True when every step did what it should."""
    year = as_of.year
    out(f"[7] Chấm điểm thi đua năm {year}, số liệu đến {format_date(as_of)} / the assessment as of "
        f"{as_of.isoformat()} (docs/assessment.md):")
    # The same bytes on every run of the demo (zip and document times fixed): a second run finds them received.
    when = datetime.combine(as_of + timedelta(days=3), time(9), tzinfo=ctx.settings.tz)
    template = assessment_templates(ctx, year, as_of)
    workbooks = {code: stable_bytes(fill_self_assessment(template(code), scores), when)
                 for code, scores in SELF_SCORES.items()}
    received = _through_the_inbox(ctx, run_job, workbooks, as_of, out)
    received = _through_the_portal(ctx, open_portal, workbooks[PORTAL_UNIT], year, out, err) and received
    reviewed = _cross_check(ctx, as_of, out)
    day = assessment_day(ctx, year, as_of)
    report = build_assessment_report(ctx, day)
    sent = send_assessment(ctx, day)
    assessment, _table, _words = current_assessment(ctx, day)
    out(f"    Kết quả / result (tracker assess --year {year} --as-of {format_date(as_of)}):")
    for unit in assessment.units:
        proposal = unit.award or (f"cần bỏ phiếu / vote: {unit.vote_needed}" if unit.vote_needed else "")
        out(f"    {unit.rank}. {unit.name}: tự chấm / self {format_number(unit.self_total, 2)}, điểm cuối / final "
            f"{format_number(unit.final_total, 2)}" + (f" — {proposal}" if proposal else ""))
    out(f"    Biên bản, bảng điểm, biểu đồ / minutes, workbook, chart (tracker report assessment): "
        f"{report.out_dir}")
    out(f"    Gửi Cụm trưởng / to the head (tracker send assessment): {len(sent.messages)} thư / message")
    return received and reviewed and sent.ok


def _through_the_inbox(ctx: Context, run_job: RunJob, workbooks: dict[str, bytes], as_of: date, out: Say) -> bool:
    """Every unit but the portal's drops its workbook in the inbox; Hai Bà Trưng's first try claims a bonus
    above its maximum (rejected, naming the cell) and its corrected workbook follows."""
    inbox = ctx.settings.paths.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    code, key, wrong = FIRST_TRY
    first = inbox / f"Tự chấm điểm {as_of.year} - {code} (lần 1).xlsx"
    sent = datetime.combine(as_of + timedelta(days=3), time(8), tzinfo=ctx.settings.tz)  # its bytes: every run alike
    first.write_bytes(stable_bytes(fill_self_assessment(workbooks[code], {**SELF_SCORES[code], key: wrong}), sent))
    touch(first, now - timedelta(minutes=2))
    for unit, data in workbooks.items():
        if unit == PORTAL_UNIT:
            continue
        path = inbox / assessment_template_filename(unit, as_of.year)
        path.write_bytes(data)
        touch(path, now - timedelta(minutes=1))
    run = run_job(ctx, "pull")
    out(f"    Bảng tự chấm điểm qua thư mục nhận / self-assessments through the inbox: {outcome(run)}")
    for finding in _rejections(ctx):
        out(f"    Bị từ chối / rejected: {finding}")
    with ctx.session() as session:
        got = self_assessments(session, ctx.cluster_id, as_of.year)
    expected = set(SELF_SCORES) - {PORTAL_UNIT}
    return run.outcome == models.JobOutcome.ok and expected <= set(got)


def _rejections(ctx: Context) -> list[str]:
    """The errors of the rejected self-assessments, as `Tự chấm điểm!C14: …`."""
    with ctx.session() as session:
        rows = session.exec(
            select(models.Submission.file_name, models.Finding)
            .join(models.Finding, models.Finding.submission_id == models.Submission.id)
            .where(models.Submission.cluster_id == ctx.cluster_id,
                   models.Submission.kind == models.SubmissionKind.assessment,
                   models.Submission.status == models.SubmissionStatus.rejected,
                   models.Finding.severity == models.Severity.error)).all()
    return list(dict.fromkeys(f"{name} — {stored_finding(f).text('vi')}" for name, f in rows))  # once each


def _through_the_portal(ctx: Context, open_portal: OpenPortal, data: bytes, year: int, out: Say,
                        err: Say) -> bool:
    """The portal unit's clerk opens its page and uploads the workbook with the page's own form."""
    err("Một đơn vị gửi bảng tự chấm điểm trên cổng thông tin / a unit uploads its self-assessment on the portal")
    unit = next(d for d in ctx.settings.districts if d.code == PORTAL_UNIT)
    with open_portal(ctx) as portal:
        page = portal.open(portal.district_link(unit.code, f"Văn phòng {unit.name}"))
        done = portal.submit(page, "/upload", file=(assessment_template_filename(unit.code, year), data))
    with ctx.session() as session:
        ok = done.status == 200 and unit.code in self_assessments(session, ctx.cluster_id, year)
    out(f"    {unit.code}: tải lên cổng thông tin / uploaded on the portal — "
        + ("đã chấp nhận / accepted" if ok else f"KHÔNG THÀNH / FAILED (HTTP {done.status})"))
    return ok


def _cross_check(ctx: Context, as_of: date, out: Say) -> bool:
    """The head's cross-check workbook, two claims lowered, imported whole."""
    year = as_of.year
    path = ctx.settings.paths.inbox.parent / f"tham-dinh_{year}.xlsx"
    path.write_bytes(fill_review(review_template(ctx, year, as_of), CLUSTER_SCORES))
    result = import_review(ctx, path.read_bytes(), path.name, year=year)
    changed = ", ".join(f"{unit} {code} → {format_number(v, 0)}" for (unit, code), v in CLUSTER_SCORES.items())
    out(f"    Cụm thẩm định / the head's cross-check (tracker assess import {path}): "
        + (f"đã ghi nhận / recorded — {changed}" if result.ok else "BỊ TỪ CHỐI / REJECTED"))
    for finding in result.findings:
        out(f"    {finding.text('vi')}")
    return result.ok
