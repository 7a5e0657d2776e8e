"""`tracker history import FILE` (docs/commands.md §18): earlier figures from a summary workbook.

Thin: calls :func:`tracker.intake.backfill.import_history`. One line for the file on stdout, then its errors
by cell; exit 0 when accepted or already received, 1 when rejected, 2 for usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import err, out, ready

history_app = typer.Typer(
    help="Số liệu các năm trước: nhập từ bảng tổng hợp. Earlier years' figures: import from a summary workbook.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")


@history_app.command("import", help="Nhập số liệu từ bảng tổng hợp (trang Dữ liệu: Mã đơn vị, Mã chỉ tiêu, Số liệu "
                                    "đến ngày, Luỹ kế từ đầu năm); có lỗi thì không nhập gì. Import the figures of "
                                    "a summary workbook (all or nothing).\n\n"
                                    "Example: tracker history import so-lieu-2022.xlsx")
def history_import(file: Annotated[Path, typer.Argument(help="Bảng tổng hợp số liệu / summary workbook.")]) -> None:
    from tracker.errors import TrackerError
    from tracker.intake.backfill import import_history
    from tracker.intake.inbox import read_capped

    if not file.is_file():
        raise TrackerError(f"Không tìm thấy tệp: {file}", f"No such file: {file}")
    ctx = ready()
    result = import_history(ctx, read_capped(file), file.name)
    out(result.line())
    if result.status != "rejected":
        return
    out("  Không nhập số liệu nào (nothing imported):")
    for f in result.errors:
        out(f"  {f.text('vi')} / {f.message_en}")
    if result.report_path is not None:
        err(f"  → báo cáo lỗi / error report: {result.report_path}")
    sys.exit(1)
