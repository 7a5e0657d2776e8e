"""`tracker assess template|review-template|import` (docs/commands.md §17): the self-assessment workbook of a
unit, and the cluster head's cross-check out and in (docs/assessment.md §6, §8).

Thin: each command calls one function of :mod:`tracker.intake`. Exit 0 when done, 1 when the cross-check
workbook is rejected (nothing recorded), 2 for usage errors.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.assessment_report import Year, assess_app  # one --year/-y for the whole group
from tracker.cli.common import AsOf, err, out, parse_as_of, ready, unit_code, write_file

# One `tracker assess` group: the result is its callback (tracker.cli.assessment_report), the workbooks these.

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Tệp ghi ra / output file.")]


def register(app: typer.Typer) -> None:
    """Nothing to add: the commands below hang on `assess_app`, which tracker.cli.assessment_report registers."""


def _year_and_date(ctx, year: int | None, as_of: str | None) -> tuple[int, date]:
    """The year (a year of the cluster) and the assessment date: ``--as-of`` within the year, default 31/12."""
    from tracker.workflows.assessment import assessment_day

    day = assessment_day(ctx, year, parse_as_of(as_of))
    return day.year, day.as_of


@assess_app.command("template", help="Tạo bảng tự chấm điểm của một đơn vị (điểm tính từ số liệu đã điền sẵn và "
                                     "khoá). Write a unit's self-assessment workbook.\n\n"
                                     "Example: tracker assess template HBT --year 2023 -o HBT-tu-cham.xlsx")
def template(
    unit: Annotated[str, typer.Argument(help="Mã hoặc tên đơn vị / unit code or name (HBT).")],
    year: Year = None,
    as_of: AsOf = None,
    output: Output = None,
) -> None:
    from tracker.intake.assessment_template import assessment_template_filename, unit_assessment_template

    ctx = ready()
    code = unit_code(ctx, unit)
    year, day = _year_and_date(ctx, year, as_of)
    path = output or Path(assessment_template_filename(code, year))
    write_file(path, unit_assessment_template(ctx, code, year, day))
    out(str(path))
    err(f"Bảng tự chấm điểm của {ctx.settings.district(code).name}, năm {year}, số liệu đến {day:%d/%m/%Y}. "
        f"/ Self-assessment workbook of {code} for {year} as of {day.isoformat()}.")


@assess_app.command("review-template", help="Tạo bảng thẩm định của Cụm: mỗi đơn vị, mỗi tiêu chí một dòng, điền "
                                            "sẵn điểm tự chấm. Write the cluster's cross-check workbook.\n\n"
                                            "Example: tracker assess review-template --year 2023 -o tham-dinh.xlsx")
def review_template(year: Year = None, as_of: AsOf = None, output: Output = None) -> None:
    from tracker.intake.assessment_review import review_template as build

    ctx = ready()
    year, day = _year_and_date(ctx, year, as_of)
    path = output or Path(f"tham-dinh_{year}.xlsx")
    write_file(path, build(ctx, year, day))
    out(str(path))


@assess_app.command("import", help="Ghi nhận bảng thẩm định của Cụm (có lỗi thì không ghi gì; ô «Điểm Cụm chấm» "
                                   "để trống là không chấm). Record the cluster's cross-check (all or nothing).\n\n"
                                   "Example: tracker assess import tham-dinh_2023.xlsx")
def import_(
    file: Annotated[Path, typer.Argument(help="Bảng thẩm định / cross-check workbook.")],
    year: Year = None,
) -> None:
    from tracker.errors import TrackerError
    from tracker.intake.assessment_review import import_review
    from tracker.workflows.assessment_requests import assessment_year

    if not file.is_file():
        raise TrackerError(f"Không tìm thấy tệp: {file}", f"No such file: {file}", exit_code=2)
    ctx = ready()
    if year is not None:
        assessment_year(ctx, year)
    result = import_review(ctx, file.read_bytes(), file.name, year=year)
    if not result.ok:
        out(f"{result.file_name}: bị từ chối (rejected), không ghi nhận điểm nào (nothing recorded)")
        for f in result.findings:
            out(f"  {f.text('vi')} / {f.message_en}")
        sys.exit(1)
    out(f"{result.file_name}: đã ghi nhận (recorded) bảng thẩm định năm {result.year}: {result.scores} điểm Cụm "
        f"chấm (cluster scores given)")
    for f in result.findings:
        out(f"  {f.text('vi')} / {f.message_en}")
