"""The review pack of a six-month (sơ kết, ``2023-H1``) or year-end (tổng kết, ``2023``) meeting.

``render_review(data, period, out_dir, write_draft=…)`` writes: the chart PNGs, a PDF (A4 landscape), a PPTX deck, the
data workbook (same sheets as the weekly one) and the draft report (.md, and .docx in the official layout
of docs/outputs.md §10), and returns a :class:`ReviewPack` with their paths plus a short e-mail (subject,
HTML, text) for sending the pack.

When last year's figures exist, every part compares with the same period last year; when ``data.closed``
is set (a closed period's snapshot), every part says so (docs/outputs.md §5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracker.calendar import Period, cluster_short_name, default_period, parse_period  # noqa: F401  (re-exported)
from tracker.progress import ClusterProgress
from tracker.reporting import narrative
from tracker.reporting.data import ClosedFigures, ReportData
from tracker.reporting.narrative import Draft, Grid
from tracker.reporting.weekly import Chart, chart_cid, render_template
from tracker.reporting.wording import closed_lines, has_last_year, review_subject, safe_filename

DraftWriter = Callable[[Draft, list[Grid], Path], Path]


@dataclass(frozen=True)
class ReviewPack:
    cluster_id: str
    period: str  # "2023-H1" | "2023": the outbox period key
    as_of: date
    title: str  # "Sơ kết 6 tháng đầu năm 2023"
    out_dir: Path
    pdf: Path
    pptx: Path
    workbook: Path
    draft_md: Path
    draft_docx: Path
    charts: tuple[Chart, ...]  # PNGs in deck order; cid for an inline use (the e-mail shows the first ones)
    subject: str  # "[Cụm thi đua số 1] Tài liệu sơ kết 6 tháng đầu năm 2023 (số liệu đến 30/06/2023)"
    html: str  # a short e-mail body presenting the pack; charts by cid
    text: str  # its plain-text alternative
    progress: ClusterProgress
    closed: ClosedFigures | None = None  # set when made from a closed period's snapshot

    @property
    def attachments(self) -> tuple[Path, ...]:
        """What to send: the documents first, then the PNGs."""
        return (self.pdf, self.pptx, self.draft_docx, self.draft_md, self.workbook, *(c.path for c in self.charts))

    @property
    def inline_charts(self) -> tuple[Chart, ...]:
        """The charts the e-mail HTML refers to by cid (a subset of ``charts``)."""
        return tuple(c for c in self.charts if f"cid:{c.cid}" in self.html)

    @property
    def paths(self) -> tuple[Path, ...]:
        return self.attachments


def render_review(data: ReportData, period: Period, out_dir: Path, *, write_draft: DraftWriter) -> ReviewPack:
    """Write the pack for ``data`` (as of the period's end) into ``out_dir`` (no database).

    ``write_draft(draft, annex_tables, path)`` writes the draft report's .docx — the official layout of
    docs/outputs.md §10, which another area draws: the workflow that builds the pack hands it in
    (:func:`tracker.workflows.review.build_review`). When ``data.closed`` is set (a closed period), every
    part says "Số liệu chốt ngày …", who confirmed, and how many sheets amended the figures since.
    """
    # matplotlib, python-pptx and openpyxl: loaded only when a pack is drawn
    from tracker.reporting import pdf, review_book, slides, xlsx

    progress = data.progress
    out_dir.mkdir(parents=True, exist_ok=True)
    short = cluster_short_name(progress.cluster_name)
    title = period.title[0].upper() + period.title[1:]
    subtitle = narrative.figures_line(data)
    notes = closed_lines(data.closed, under_subtitle=True)  # the subtitle says "Số liệu chốt ngày …"

    builders = _chart_builders(data)
    written, pages = _draw(builders, progress, period, out_dir)
    base = safe_filename(f"{title} - {short}")
    the_draft = narrative.draft(data, period.title)
    pdf_path = pdf.write_pdf(out_dir / f"{base}.pdf", title=title, subtitle=subtitle,
                             cluster_name=progress.cluster_name, progress=progress,
                             charts=pages,
                             contents=[t for _, t, _, _ in builders] + ["Bảng xếp hạng"]
                             + ([f"So với cùng kỳ năm {progress.year - 1}"] if has_last_year(progress) else []),
                             generated_at=data.generated_at, notes=notes)
    pptx_path = slides.write_pptx(out_dir / f"{base}.pptx", title=title, subtitle=subtitle,
                                  cluster_name=progress.cluster_name, progress=progress,
                                  pictures=[(c.title, c.path) for c in written], summary=the_draft.summary,
                                  notes=notes)
    extra = [(review_book.SHEET, review_book.comparison)] if has_last_year(progress) else []
    workbook = xlsx.write_workbook(data, out_dir / f"{safe_filename(f'Số liệu {period.title} - {short}')}.xlsx",
                                   title=f"Số liệu {period.title} - {short}", extra=extra)
    md = narrative.write_markdown(the_draft, out_dir / f"{safe_filename(f'Dự thảo báo cáo {period.title}')}.md")
    docx = write_draft(the_draft, narrative.annex_tables(data),
                       out_dir / f"{safe_filename(f'Dự thảo báo cáo {period.title}')}.docx")

    subject = review_subject(progress.cluster_name, period.title, progress.as_of)
    attachments = [pdf_path.name, pptx_path.name, docx.name, md.name, workbook.name, *(c.filename for c in written)]
    inline = [c for c in written if c.key in ("progress", "ranking") or c.key.startswith("deadline-")]
    model = {
        "subject": subject, "cluster_name": progress.cluster_name, "title": title, "subtitle": subtitle,
        "head_name": data.head_name, "summary": the_draft.summary, "charts": inline, "attachments": attachments,
        "meeting": period.meeting, "notes": notes,
    }
    html = render_template("review.html.j2", model)
    text = render_template("review.txt.j2", model)
    return ReviewPack(cluster_id=progress.cluster, period=period.key, as_of=progress.as_of, title=title,
                      out_dir=out_dir, pdf=pdf_path, pptx=pptx_path, workbook=workbook, draft_md=md,
                      draft_docx=docx, charts=tuple(written), subject=subject, html=html, text=text,
                      progress=progress, closed=data.closed)


def _chart_builders(data: ReportData) -> list[tuple[str, str, str, Callable]]:
    """(key, title, file name part, builder(size) -> Figure), in the order of the deck and the PDF."""
    from tracker.reporting import charts

    progress = data.progress
    builders: list[tuple[str, str, str, Callable]] = []
    for spec in progress.indicators:
        builders.append((f"actual-{spec.key}", f"{spec.label}: thực hiện so với chỉ tiêu", spec.label,
                         lambda size, k=spec.key: charts.actual_vs_target(progress, k, size=size)))
    for spec in progress.indicators:
        if spec.deadline:
            builders.append((f"deadline-{spec.key}", f"{spec.label}: hoàn thành so với hạn",
                             f"{spec.label} - so với hạn",
                             lambda size, k=spec.key: charts.deadline_completion(progress, k, size=size)))
    if len(data.history) > 1:
        builders.append(("progress", "Tiến độ toàn Cụm theo tuần", "Tiến độ toàn Cụm theo tuần",
                         lambda size: charts.cluster_progress_over_time(data.history, size=size)))
    builders.append(("ranking", "Xếp hạng thi đua", "Xếp hạng thi đua",
                     lambda size: charts.ranking(progress, size=size)))
    return builders


def _draw(builders: list[tuple[str, str, str, Callable]], progress: ClusterProgress, period: Period,
          out_dir: Path) -> tuple[list[Chart], list]:
    """Each chart as a PNG, and as a PDF page."""
    from tracker.reporting import charts, pdf

    written, pages = [], []
    for n, (key, chart_title, stem, build) in enumerate(builders, start=1):
        path = out_dir / safe_filename(f"{period.key} - {n:02d} - {stem}.png")
        fig = build(charts.SIZE)
        charts.save_png(fig, path)
        pages.append(charts.freeze_for_page(fig, pdf.A4_LANDSCAPE))
        written.append(Chart(key, chart_title, path, chart_cid(progress.cluster, period.key, key)))
    return written, pages
