"""The weekly report to the cluster head: workbook, chart PNGs, e-mail subject, HTML body and plain text.

``build_weekly(ctx, as_of, out_dir)`` reads the database once and writes everything into ``out_dir``;
the sending workflow (:mod:`tracker.workflows.sending`) turns the returned :class:`WeeklyReport` into a
MIME message (HTML + text alternative, each chart as an inline part with its ``Content-ID``, the
workbook and the PNGs as attachments).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tracker.calendar import cluster_short_name, iso_week, week_period
from tracker.progress import STATUSES, ClusterProgress, DistrictProgress, Reporting, reporting_label
from tracker.reporting import highlights as this_week
from tracker.reporting import palette
from tracker.reporting.data import ReportData
from tracker.reporting.source import gather
from tracker.reporting.wording import (
    AMENDMENTS_TITLE,
    STATUS_VI,
    amendment_line,
    headline,
    indicator_deadline,
    percent_text,
    projection_text,
    reopen_hint,
    rules_paragraph,
    safe_filename,
    value_text,
    weekly_subject,
)
from tracker.standing import resolve_day
from tracker.templating import render
from tracker.text import format_date, format_number, format_rank_change, nfc

if TYPE_CHECKING:
    from tracker.context import Context

CID_DOMAIN = "cluster-tracker"


@dataclass(frozen=True)
class Chart:
    """One chart PNG. In the HTML it is ``<img src="cid:{cid}">``; its MIME part needs ``Content-ID: <{cid}>``."""

    key: str  # "percent-new_unions", "progress", ...: stable within a report
    title: str  # what it shows (alt text)
    path: Path
    cid: str  # unique per cluster, period and chart; no angle brackets

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class WeeklyReport:
    cluster_id: str
    as_of: date
    period: str  # "2023-W26" (ISO week of as_of): the outbox period key
    out_dir: Path
    subject: str  # "[Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 (số liệu đến 30/06/2023)"
    html: str  # the e-mail body (Jinja2), images as cid: references; also written to html_path
    text: str  # the plain-text alternative (its own template, not the HTML source); also at text_path
    workbook: Path
    charts: tuple[Chart, ...]  # inline images, in the order the HTML shows them
    html_path: Path
    text_path: Path
    progress: ClusterProgress

    @property
    def attachments(self) -> tuple[Path, ...]:
        """Files to attach: the workbook, then the chart PNGs."""
        return (self.workbook, *(c.path for c in self.charts))

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (*self.attachments, self.html_path, self.text_path)


def default_dir(reports: Path, as_of: date) -> Path:
    return reports / "weekly" / week_period(as_of)


def build_weekly(ctx: Context, as_of: date | None = None, out_dir: Path | None = None, *,
                 now: datetime | None = None) -> WeeklyReport:
    """Build the weekly report of the context's cluster as of ``as_of`` (default: as ``tracker status``)."""
    day = resolve_day(ctx, as_of).day
    data = gather(ctx, day, now=now, amendments=True)
    out_dir = out_dir or default_dir(ctx.settings.paths.reports, day)
    return render_weekly(data, out_dir)


def render_weekly(data: ReportData, out_dir: Path) -> WeeklyReport:
    """Write the weekly outputs of ``data`` into ``out_dir`` (pure rendering, no database)."""
    from tracker.reporting import charts, xlsx  # matplotlib and openpyxl: loaded only when a report is drawn

    progress = data.progress
    out_dir.mkdir(parents=True, exist_ok=True)
    period = week_period(progress.as_of)
    year, week = iso_week(progress.as_of)
    short = cluster_short_name(progress.cluster_name)

    written: list[Chart] = []
    for n, spec in enumerate(progress.indicators, start=1):
        fig = charts.percent_by_district(progress, spec.key)
        path = out_dir / safe_filename(f"Tuần {week}-{year} - {n} - {spec.label}.png")
        charts.save_png(fig, path, dpi=charts.EMAIL_DPI)
        written.append(Chart(f"percent-{spec.key}", f"{spec.label}: tỷ lệ thực hiện theo đơn vị", path,
                             chart_cid(progress.cluster, period, f"percent-{spec.key}")))
    if len(data.history) > 1:
        path = out_dir / safe_filename(f"Tuần {week}-{year} - {len(written) + 1} - Tiến độ toàn Cụm theo tuần.png")
        charts.save_png(charts.cluster_progress_over_time(data.history), path, dpi=charts.EMAIL_DPI)
        written.append(Chart("progress", "Tiến độ toàn Cụm theo tuần", path,
                             chart_cid(progress.cluster, period, "progress")))

    title = f"Báo cáo tiến độ tuần {week}/{year} - {short}"
    workbook = out_dir / safe_filename(f"Báo cáo tiến độ tuần {week}-{year} - {short}.xlsx")
    xlsx.write_workbook(data, workbook, title=title, weekly=True)

    subject = weekly_subject(progress.cluster_name, progress.as_of)
    model = mail_model(data, subject, written, [workbook.name, *(c.filename for c in written)])
    html = render_template("weekly.html.j2", model)
    text = render_template("weekly.txt.j2", model)
    html_path = out_dir / "email.html"
    text_path = out_dir / "email.txt"
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    return WeeklyReport(cluster_id=progress.cluster, as_of=progress.as_of, period=period, out_dir=out_dir,
                        subject=subject, html=html, text=text, workbook=workbook, charts=tuple(written),
                        html_path=html_path, text_path=text_path, progress=progress)


def chart_cid(cluster: str, period: str, key: str) -> str:
    """A Content-ID (RFC 2392 / 5322 msg-id) unique per cluster, period and chart."""
    safe = re.sub(r"[^A-Za-z0-9.\-_]", "-", f"{period}.{key}.{cluster}")
    return f"{safe}@{CID_DOMAIN}"


def render_template(name: str, model: dict) -> str:
    return render(Path(__file__).parent / "templates", name, model, trim=False)


# ---------------------------------------------------------------------------------------------------
# What the e-mail says (one model for the HTML and the text template)


def mail_model(data: ReportData, subject: str, charts: Iterable[Chart], attachments: list[str]) -> dict:
    progress = data.progress
    year, week = iso_week(progress.as_of)
    specs = progress.indicators
    js = progress.to_json()
    rows = []
    for d, dj in zip(progress.districts, js["districts"], strict=True):
        cells = []
        for spec, ind in zip(specs, d.indicators, strict=True):
            cells.append({
                "label": spec.label, "unit": spec.unit, "ratio": f"{value_text(ind.actual, spec)}/"
                f"{value_text(ind.target, spec)}", "percent": percent_text(ind.percent),
                "actual": value_text(ind.actual, spec), "target": value_text(ind.target, spec),
                "change": this_week.change_text(ind.week_change, spec) if ind.actual is not None else "",
                "status": STATUS_VI[ind.status], "fill": palette.FILL[ind.status], "ink": palette.INK[ind.status],
            })
        note, ink = _reporting_note(d)
        rows.append({"rank": d.rank or "—", "rank_move": format_rank_change(d.rank_change),
                     "rank_ink": palette.INK["on_track" if (d.rank_change or 0) > 0 else "at_risk"],
                     "name": d.name, "code": d.code,
                     "score": format_number(dj["score"], 4) if dj["score"] is not None else "—",
                     "cells": cells, "reporting_note": note, "reporting_ink": ink})
    totals = []
    for spec in specs:
        t = progress.total(spec.key)
        totals.append({"label": spec.label, "unit": spec.unit,
                       "ratio": f"{value_text(t.actual, spec)}/{value_text(t.target, spec)}",
                       "actual": value_text(t.actual, spec), "target": value_text(t.target, spec),
                       "percent": percent_text(t.percent), "change": this_week.change_text(t.week_change, spec),
                       "last_year": value_text(t.last_year_actual, spec)
                       if t.last_year_actual is not None else ""})
    used = {i.status for d in progress.districts for i in d.indicators}
    kinds = {s.key: s.kind for s in specs}
    legend = [{"label": STATUS_VI[s], "fill": palette.FILL[s], "ink": palette.INK[s]} for s in STATUSES if s in used]
    return {
        "subject": subject, "cluster_name": progress.cluster_name, "week": week, "iso_year": year,
        "as_of": format_date(progress.as_of), "head_name": data.head_name, "headline": headline(progress),
        "columns": [{"label": s.label, "unit": s.unit} for s in specs], "rows": rows, "totals": totals,
        "legend": legend, "highlights": highlights(progress), "charts": list(charts),
        "this_week_title": this_week.TITLE, "this_week": this_week.blocks(this_week.week_highlights(progress)),
        "any_last_year": any(t["last_year"] for t in totals), "amendments_title": AMENDMENTS_TITLE,
        "amendments": [amendment_line(a, kinds.get(a.indicator, "count"))
                       for a in data.amendments],
        "reopen_hint": reopen_hint(data.amendments) if data.amendments else "",
        "rules": rules_paragraph(progress.rules), "attachments": attachments,
        "generated_at": f"{data.generated_at:%H:%M} {format_date(data.generated_at)}" if data.generated_at else "",
        "header_fill": palette.HEADER_FILL, "total_fill": palette.TOTAL_FILL,
    }


def _reporting_note(d: DistrictProgress) -> tuple[str, str]:
    """What the e-mail says beside a district that is late or has not reported, and in which ink."""
    ink = palette.INK[palette.REPORTING[d.reporting]]
    if d.reporting is Reporting.missing:
        since = f" (số liệu gần nhất đến {format_date(d.last_as_of)})" if d.last_as_of else ""
        return f"{reporting_label(d.reporting)} tuần này{since}", ink
    if d.reporting is Reporting.late:
        return reporting_label(d.reporting), ink
    return "", ""


def highlights(progress: ClusterProgress) -> list[dict]:
    """The lists under "Điểm đáng chú ý": achieved, at risk, not reported, late, data-quality notes."""
    specs = {s.key: s for s in progress.indicators}
    week_start = progress.week_start
    achieved = []
    risky = []
    for d in progress.districts:
        done = []
        danger = []
        for ind in d.indicators:
            spec = specs[ind.key]
            ratio = f"{value_text(ind.actual, spec)}/{value_text(ind.target, spec)} {spec.unit}".strip()
            if ind.status == "achieved":
                extra = ""
                if ind.achieved_on:
                    extra = f", từ {format_date(ind.achieved_on)}"
                    deadline = indicator_deadline(spec, progress.year)
                    if deadline and ind.achieved_on < deadline:
                        extra += f", trước hạn {format_date(deadline)}"
                    if week_start and ind.achieved_on >= week_start:
                        extra += ", mới trong tuần"
                done.append(f"{spec.label} {ratio} ({percent_text(ind.percent)}{extra})")
            elif ind.status == "at_risk":
                danger.append(f"{spec.label} {ratio} ({percent_text(ind.percent)}; "
                              f"{projection_text(ind.projected, spec, progress.year)})")
        if done:
            achieved.append(f"{d.name}: " + "; ".join(done))
        if danger:
            risky.append(f"{d.name}: " + "; ".join(danger))
    missing = [f"{d.name}" + (f" (số liệu gần nhất đến {format_date(d.last_as_of)})" if d.last_as_of
                              else " (chưa có báo cáo nào)") for d in progress.not_reported]
    late = []
    for d in progress.districts:
        if d.late and d.first_received_this_week is not None:
            when = d.first_received_this_week.astimezone(_zone(progress))
            due = f", hạn {progress.week_deadline:%H:%M} {format_date(progress.week_deadline)}" \
                if progress.week_deadline else ""
            late.append(f"{d.name}: nhận lúc {when:%H:%M} {format_date(when)}{due}")
    names = {d.code: d.name for d in progress.districts}
    notes = [f"{names.get(n.district, n.district)}" + (f" ({n.cell})" if n.cell else "") + f": {n.message_vi}"
             for n in progress.notes if n.kind != "late"]
    out = [
        {"title": "Chỉ tiêu đã hoàn thành", "lines": achieved, "empty": "Chưa có chỉ tiêu nào hoàn thành."},
        {"title": "Đơn vị có chỉ tiêu có nguy cơ không đạt", "lines": risky, "empty": "Không có."},
        {"title": "Đơn vị chưa báo cáo tuần này", "lines": missing, "empty": "Tất cả các đơn vị đã báo cáo."},
    ]
    if late:
        out.append({"title": "Nộp báo cáo muộn", "lines": late, "empty": ""})
    if notes:
        out.append({"title": "Lưu ý về số liệu", "lines": notes, "empty": ""})
    return [{**h, "lines": [nfc(i) for i in h["lines"]]} for h in out]


def _zone(progress: ClusterProgress):
    return ZoneInfo(progress.rules.timezone)
