"""What the cluster head and the review meeting look at: the weekly report and the review pack.

Public entry points (each reads the database once, writes its files, returns their paths):

- :func:`tracker.reporting.weekly.build_weekly` → :class:`~tracker.reporting.weekly.WeeklyReport`
  (workbook, chart PNGs with Content-IDs, e-mail subject, HTML body and plain-text alternative);
- :func:`tracker.reporting.review.build_review` → :class:`~tracker.reporting.review.ReviewPack`
  (PDF, PPTX, PNGs, data workbook, draft report text as .md and .docx, a short e-mail).

Every number comes from :mod:`tracker.progress` (via :mod:`tracker.standing`); nothing here applies a
rule of its own. Modules: ``source`` (database → :class:`~tracker.reporting.data.ReportData`),
``charts`` (matplotlib figures), ``xlsx`` (workbooks), ``narrative`` (draft text), ``pdf``, ``slides``,
``wording`` (shared words and names), ``palette`` (one colour per status), ``templates/`` (e-mails).
Heavy libraries are imported by the modules that draw or write, never by this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.context import Context


def demo_step(ctx: Context) -> str:
    """`tracker demo`: the weekly report as of 30/06 of the cluster year and its first-half review pack."""
    from datetime import date

    from tracker.reporting.review import build_review
    from tracker.reporting.weekly import build_weekly

    year = ctx.settings.cluster.year
    weekly = build_weekly(ctx, date(year, 6, 30))
    pack = build_review(ctx, f"{year}-H1")
    return "\n".join([
        f"Báo cáo tuần / weekly report ({weekly.subject}): {weekly.out_dir}",
        f"    {weekly.workbook.name}; {len(weekly.charts)} biểu đồ / charts; thư / e-mail: {weekly.html_path.name}",
        f"Tài liệu sơ kết / review pack ({pack.title}): {pack.out_dir}",
        f"    {pack.pdf.name}; {pack.pptx.name}; {pack.draft_docx.name}; {pack.workbook.name}; "
        f"{len(pack.charts)} biểu đồ / charts",
    ])
