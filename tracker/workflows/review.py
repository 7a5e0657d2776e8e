"""The review pack: the reporting area draws it, the documents area writes its draft report in the official
layout (docs/outputs.md §10); this workflow puts the two together.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from pathlib import Path

from tracker.calendar import cluster_short_name
from tracker.config import Documents
from tracker.context import Context
from tracker.documents import official
from tracker.reporting.data import ReportData
from tracker.reporting.narrative import RULES_HEADING, Draft, Grid
from tracker.reporting.review import Period, ReviewPack, render_review
from tracker.reporting.source import gather_review
from tracker.standing import resolve_period
from tracker.text import format_date


def build_review(ctx: Context, period: str | None = None, out_dir: Path | None = None, *,
                 now: datetime | None = None) -> ReviewPack:
    """Build the review pack of the context's cluster for ``period`` (default: :func:`default_period`)."""
    settings = ctx.settings
    today = (now or datetime.now(settings.tz)).astimezone(settings.tz).date()
    p = resolve_period(ctx, period, today=today)  # any year with targets or figures
    data = gather_review(ctx, p, now=now)  # a closed period: its snapshot (docs/closing.md §2)
    out_dir = out_dir or settings.paths.reports / "review" / p.key
    return render_review(data, p, out_dir, write_draft=official_writer(settings.documents, p, data))


def official_writer(documents: Documents, period: Period, data: ReportData):
    """The pack's draft-report writer: the draft as an official ``BÁO CÁO`` in the documents' layout."""
    return partial(_write_official, documents, period, data)


def _write_official(documents: Documents, period: Period, data: ReportData, the_draft: Draft,
                    tables: list[Grid], path: Path) -> Path:
    return official.write_official(official_report(the_draft, tables, period, data), documents, path)


def official_report(the_draft: Draft, tables: list[Grid], period: Period, data: ReportData
                    ) -> official.OfficialDocument:
    """The review's draft as an official ``BÁO CÁO`` (docs/outputs.md §10): the draft's facts under ``I.``,
    marked places ``[...]`` for the assessment, the directions and the proposals, the tables in an annex.
    """
    o = official
    first_half = period.key.endswith("-H1")
    span = f"6 tháng đầu năm {period.year}" if first_half else f"năm {period.year}"
    summary = f"{'Sơ kết' if first_half else 'Tổng kết'} phong trào thi đua {span}"
    following = f"6 tháng cuối năm {period.year}" if first_half else f"năm {period.year + 1}"
    who = cluster_short_name(data.progress.cluster_name)
    figures = (f"số liệu chốt ngày {format_date(data.closed.as_of)}, luỹ kế từ đầu năm" if data.closed
               else f"số liệu luỹ kế từ đầu năm đến ngày {format_date(data.progress.as_of)}")
    body: list[o.Block] = [o.Paragraph(
        f"Thực hiện {o.PLACEHOLDER}, {who} báo cáo kết quả phong trào thi đua {span} ({figures}) như sau:"),
        o.Heading(f"Kết quả thực hiện phong trào thi đua {span}")]
    rules = ""
    for section in the_draft.sections:
        if section.heading == RULES_HEADING:
            rules = " ".join(section.paragraphs)
            continue
        body.append(o.Heading(re.sub(r"^\d+\.\s+", "", section.heading), level=2))
        body += [o.Paragraph(text) for text in section.paragraphs]
        body += [o.Item(text) for text in section.bullets]
    body += [o.Heading("Các hoạt động khác của Cụm", level=2), o.Paragraph(o.PLACEHOLDER),
             o.Heading("Đánh giá chung"), o.Heading("Ưu điểm", level=2), o.Paragraph(o.PLACEHOLDER),
             o.Heading("Tồn tại, hạn chế và nguyên nhân", level=2), o.Paragraph(o.PLACEHOLDER),
             o.Heading(f"Phương hướng, nhiệm vụ {following}"), o.Paragraph(o.PLACEHOLDER),
             o.Heading("Đề xuất, kiến nghị"), o.Paragraph(o.PLACEHOLDER)]
    annex: list[o.Block] = [o.Table(t.columns, t.rows, title=t.title, widths=t.widths, left=t.left,
                                    emphasis=t.emphasis) for t in tables]
    if rules:
        annex.append(o.Paragraph(f"Ghi chú: {rules}"))
    wide = max(len(t.columns) for t in tables) > 6
    day = data.generated_at.date() if data.generated_at else None
    return o.OfficialDocument(o.DocumentKind.REPORT, summary, day, tuple(body), annexes=(
        o.Annex(f"Số liệu thi đua {span} của {who}", tuple(annex), landscape=wide),))
