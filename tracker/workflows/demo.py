"""`tracker demo` / `make demo`: the whole weekly cycle on the embedded sample data.

1. `init`: database, cluster, districts, indicators, sample targets from config.toml.
   Then last year's figures (2022, sample data): a summary workbook imported through `tracker history
   import`'s own code, before the weekly sheets, so the reports compare with the same period last year.
2. Sample weekly sheets for January–June of the cluster year, filled the way clerks fill the template
   (a few with mistakes that get rejected, then their corrections), dropped in the inbox.
3. The `pull` job takes them in; then the half-year's close (docs/closing.md): `send confirmations` for
   2023-H1, five of the six units confirm (four on the portal — the real server on a loopback port, the
   page's own form — and one by telephone, as `tracker period confirm` records it), `period close`
   freezes the figures as of 30/06, and Long Biên sends one corrected 30/06 sheet after the close (an
   amendment after close).
4. The scheduler's own jobs as of 30/06: `pull` → `weekly-report` → `reminders` → `review-pack`
   (`jobs.tasks.run_cycle`, handed in by the caller: workflows never import the jobs), with mail
   written as .eml files when no SMTP host is configured: the weekly e-mail lists the amendment, the
   review pack shows the frozen figures and who confirmed.
5. The mid-year assessment as of 30/06 (docs/assessment.md, tracker/workflows/demo_assessment.py): the
   six self-assessment workbooks (five through the inbox, one of them rejected first for a bonus above
   its maximum; one uploaded on the portal), the head's cross-check imported, then the result, its
   workbook, ranking chart and draft minutes, and the e-mail to the head.
6. Where everything is; then `verify` (every stored figure against its archived file) and a `backup`
   (the scheduler's own job, also handed in), and where the backup is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker import closing
from tracker.calendar import parse_period
from tracker.context import Context, init_database
from tracker.intake.backfill import import_history
from tracker.models import JobOutcome
from tracker.standing import cluster_progress
from tracker.text import format_date, format_number
from tracker.workflows.demo_assessment import assess_mid_year
from tracker.workflows.demo_parts import Cycle, OpenPortal, RunJob, Say, outcome
from tracker.workflows.sample import amendment_sheet, generate_sample_sheets
from tracker.workflows.sample_history import build_history_workbook
from tracker.workflows.sending import send_confirmations
from tracker.workflows.verify import verify_archive

# Who confirms the half-year's figures in the demo, and how (docs/closing.md §1): four units on the portal,
# one by telephone; Đống Đa has not confirmed when the period is closed.
PORTAL_CONFIRMERS = {"HBT": "Văn phòng LĐLĐ quận Hai Bà Trưng", "HM": "Văn phòng LĐLĐ quận Hoàng Mai",
                     "BD": "Văn phòng LĐLĐ quận Ba Đình", "HK": "Văn phòng LĐLĐ quận Hoàn Kiếm"}
PHONE_CONFIRMER = ("LB", "Đ/c Chánh Văn phòng LĐLĐ quận Long Biên (qua điện thoại)")



def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else []


def run_demo(ctx: Context, run_cycle: Cycle, run_job: RunJob, open_portal: OpenPortal, *, out: Say,
             err: Say) -> int:
    """Run the demo; returns the exit code (1 when a job did not succeed, a step of the close failed or
    verify found a difference).

    ``run_cycle`` runs the scheduler's weekly cycle as of a date, ``run_job`` one job now (both are the
    jobs' own), ``open_portal`` serves the portal for a visit (all handed in by the caller); ``out`` shows
    a line of the result (stdout), ``err`` a line of progress (stderr).
    """
    s = ctx.settings
    revision, summary = init_database(ctx)
    url = make_url(s.database.url).render_as_string(hide_password=True)
    out(f"[1] Cơ sở dữ liệu / database: {url} (revision {revision})")
    out(f"    Cụm / cluster {s.cluster.id}: {s.cluster.name}, năm / year {s.cluster.year}; "
        f"{len(s.districts)} đơn vị / districts, {len(s.indicators)} chỉ tiêu / indicators; "
        f"chỉ tiêu đăng ký mới / targets newly registered: {summary.targets_registered}")

    _last_year(ctx, out)
    sheets = generate_sample_sheets(s, s.paths.inbox)
    out(f"[2] Dữ liệu mẫu / sample data: {len(sheets)} bảng tính báo cáo tuần / weekly sheets → {s.paths.inbox}")

    as_of = date(s.cluster.year, 6, 30)
    pulled = run_job(ctx, "pull")
    out(f"[3] Nhận bảng tính / pull: {outcome(pulled)}")
    closed = _close_half_year(ctx, open_portal, as_of, out=out, err=err)

    err(f"Chạy chu trình tuần như bộ lập lịch, số liệu đến {format_date(as_of)} / "
        f"running the weekly cycle as the scheduler does, as of {as_of.isoformat()}")
    runs = [pulled, *run_cycle(ctx, as_of)]
    out(f"[5] Chu trình tuần / weekly cycle as of {format_date(as_of)} (jobs.tasks.run_cycle):")
    for run in runs[1:]:
        out(f"    {outcome(run)}")

    progress = cluster_progress(ctx, as_of)
    out(f"[6] Xếp hạng đến {format_date(as_of)} / ranking (tracker status --as-of {format_date(as_of)}):")
    for d in progress.districts:
        score = "—" if d.score is None else format_number(round(d.score, 4), 4)
        out(f"    {d.rank or '-'}. {d.name}: điểm / score {score}")
    assessed = assess_mid_year(ctx, open_portal, run_job, as_of, out=out, err=err)
    _where(ctx, as_of, out)
    proved = _verify_and_back_up(ctx, run_job, out)
    return 0 if proved and closed and assessed and all(r.outcome in ("ok", "skipped") for r in runs) else 1


def _close_half_year(ctx: Context, open_portal: OpenPortal, as_of: date, *, out: Say, err: Say) -> bool:
    """Confirmations (portal and telephone), the close as of ``as_of``, then one amendment after the close
    dropped in the inbox for the cycle's pull. True when every step did what it should."""
    s = ctx.settings
    period = parse_period(f"{as_of.year}-H1")
    out(f"[4] Chốt số liệu {period.title} / closing {period.key} (docs/closing.md):")
    with ctx.session() as session:
        earlier = closing.latest_close(session, ctx.cluster_id, period.key)
    if closing.is_closed(earlier):  # the demo ran before: the close and its amendment are there already
        out(f"    Đã chốt ở lần chạy trước / closed by an earlier run (tracker period list): số liệu đến / figures "
            f"as of {format_date(earlier.as_of)}")
        return True
    asked = send_confirmations(ctx, period.key, as_of)
    out(f"    Đề nghị xác nhận / confirmation requests (tracker send confirmations): {len(asked.messages)} "
        "thư / messages")
    ok = True
    err("Các đơn vị xác nhận số liệu trên cổng thông tin / units confirm on the portal")
    with open_portal(ctx) as portal:
        for code, label in PORTAL_CONFIRMERS.items():
            page = portal.open(portal.district_link(code, label))
            done = portal.submit(page, "/confirm") if page.status == 200 else page
            with ctx.session() as session:
                confirmed = done.status == 200 and code in closing.valid_confirmations(
                    session, ctx.cluster_id, period, as_of)
            ok = ok and confirmed
            out(f"    {code}: xác nhận trên cổng thông tin / confirmed on the portal — "
                + ("đã xác nhận / confirmed" if confirmed else f"KHÔNG THÀNH / FAILED (HTTP {done.status})"))
    code, by = PHONE_CONFIRMER
    with ctx.session(write=True) as session:
        closing.confirm(session, s, period, code, as_of=as_of, by=by, channel="cli", now=datetime.now(UTC))
        result = closing.close_period(session, s, period, as_of=as_of, by="demo", now=datetime.now(UTC))
        session.commit()
        closed_at = result.close.closed_at if result.close is not None else None
    out(f"    {code}: xác nhận qua điện thoại / confirmed by telephone (tracker period confirm --by …)")
    out(f"    Đã chốt / closed (tracker period close {period.key}): số liệu đến / figures as of {format_date(as_of)}; "
        f"chưa xác nhận / not confirmed: {', '.join(result.not_confirmed) or '—'}")
    when = max(datetime.now(UTC), (closed_at or datetime.now(UTC)).replace(tzinfo=UTC))
    path = amendment_sheet(s, s.paths.inbox, when)
    out(f"    Sửa số liệu sau khi chốt / an amendment after the close: {path.name} → {s.paths.inbox}")
    return ok and result.close is not None


def _last_year(ctx: Context, out: Say) -> None:
    """Import last year's sample figures through `tracker history import`'s own code (a file kept beside the
    inbox, so a person can open it and run the command on it too)."""
    s = ctx.settings
    year = s.cluster.year - 1
    path = s.paths.inbox.parent / f"so-lieu-{year}_du-lieu-mau.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_history_workbook(s, year))
    result = import_history(ctx, path.read_bytes(), path.name)
    out(f"    Số liệu năm {year} (dữ liệu mẫu) / last year's figures (sample data): tracker history import {path}")
    out(f"    {result.line()}")
    for finding in result.errors:
        out(f"    {finding.text('vi')}")


def _where(ctx: Context, as_of: date, out: Say) -> None:
    s = ctx.settings
    reports = s.paths.reports
    out("[8] Kết quả / outputs:")
    out(f"    Báo cáo tuần / weekly report:     {_latest(reports / 'weekly')}")
    out(f"    Tài liệu sơ kết / review pack:    {_latest(reports / 'review')}")
    out(f"    Chấm điểm thi đua / assessment:   {_latest(reports / 'assessment')}")
    out(f"    Thư đã gửi / e-mails (.eml):      {s.paths.outbox} ({len(_files(s.paths.outbox, '*.eml'))} tệp / files)")
    out(f"    Tệp đã nhận / accepted sheets:    {s.paths.archive} ({len(_files(s.paths.archive))} tệp / files)")
    out(f"    Tệp bị từ chối / rejected sheets: {s.paths.quarantine} (kèm báo cáo lỗi và bản đánh dấu ô lỗi / "
        "with error reports and annotated copies)")
    out(f"    Xem tiến độ / see progress:       tracker status --as-of {format_date(as_of)}")


def _latest(folder: Path) -> str:
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return str(subdirs[-1]) if subdirs else f"(chưa có / none yet in {folder})"


def _verify_and_back_up(ctx: Context, run_job: RunJob, out: Say) -> bool:
    """`tracker verify`, then the `backup` job; prints where the backup is. True when both succeeded."""
    proof = verify_archive(ctx)
    verdict = ("không có khác biệt / no difference" if proof.ok
               else f"{len(proof.differences)} khác biệt / differences")
    out(f"[9] Kiểm tra số liệu / verify (tracker verify): {format_number(proof.files, 0)} tệp / files, "
        f"{format_number(proof.figures, 0)} số liệu / figures: {verdict}")
    for difference in proof.differences:
        out(f"    {difference.text()}")
    run = run_job(ctx, "backup")
    if run.outcome != JobOutcome.ok:
        out(f"[10] Sao lưu / backup: {outcome(run)}")
        return False
    folder = ctx.settings.backup.dir / str(run.counts["backup"])
    out(f"[10] Sao lưu / backup (tracker backup): {folder} ({run.counts['bytes'] / 2**20:.1f} MiB)")
    out(f"    Khôi phục thử / restore drill:    tracker restore {folder} --to /tmp/khoi-phuc")
    return proof.ok
