"""`tracker report weekly` and `tracker report review`: write the report files and print their paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import AsOf, context, err, out, parse_as_of
from tracker.text import format_date

report_app = typer.Typer(
    name="report",
    help="Báo cáo: báo cáo tuần (Excel, biểu đồ, thư) và bộ tài liệu sơ kết/tổng kết. "
         "Reports: the weekly report and the review pack.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

OutDir = Annotated[Path | None, typer.Option("--output", "-o", help="Thư mục ghi tệp / output folder.")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.add_typer(report_app, name="report")


@report_app.command(
    "weekly",
    help="Báo cáo tiến độ tuần: bảng Excel, biểu đồ PNG, nội dung thư (HTML và văn bản). In ra đường dẫn các tệp. "
         "The weekly report: workbook, chart PNGs, e-mail body; prints the paths written.\n\n"
         "Example: tracker report weekly --as-of 30/06/2023",
)
def weekly(as_of: AsOf = None, output: OutDir = None) -> None:
    from tracker.reporting.weekly import build_weekly
    from tracker.standing import resolve_day

    ctx = context()
    day = resolve_day(ctx, parse_as_of(as_of))
    if day.notice_vi:
        err(f"{day.notice_vi} / {day.notice_en}")
    report = build_weekly(ctx, day.day, output)
    err(f"Tiêu đề thư / subject: {report.subject}")
    for path in report.paths:
        out(str(path))


@report_app.command(
    "review",
    help="Bộ tài liệu sơ kết (2023-H1, số liệu đến 30/06) hoặc tổng kết năm (2023, đến 31/12): PDF, PPTX, "
         "biểu đồ, bảng số liệu, dự thảo báo cáo (.docx, .md). In ra đường dẫn các tệp. "
         "The review pack; prints the paths written.\n\n"
         "Example: tracker report review --period 2023-H1",
)
def review(
    period: Annotated[str | None, typer.Option("--period", "-p", help="2023-H1 | 2023")] = None,
    output: OutDir = None,
) -> None:
    from tracker.workflows.review import build_review

    ctx = context()
    pack = build_review(ctx, period, output)
    if pack.closed is not None:
        frozen = pack.closed.as_of
        amended = (f" {pack.closed.amendments} bảng tính sửa số liệu sau khi chốt không được tính / "
                   f"{pack.closed.amendments} sheet(s) amending them after the close left out."
                   if pack.closed.amendments else "")
        err(f"Kỳ {pack.period} đang chốt: tài liệu dùng số liệu chốt ngày {format_date(frozen)} / the period is "
            f"closed: the pack uses the figures frozen as of {frozen.isoformat()}.{amended}")
    err(f"Tiêu đề thư / subject: {pack.subject}")
    for path in pack.paths:
        out(str(path))
