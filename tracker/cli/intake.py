"""`tracker template`, `tracker targets template|import`, `tracker ingest`, `tracker pull` (docs/commands.md §4–§7).

Thin: each command calls one function of :mod:`tracker.intake`. One line per file on stdout; exit 0 when
everything was accepted (or already received), 1 when some file was rejected or could not be handled,
2 for usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import AsOf, err, out, parse_as_of, ready, unit_code, write_file

targets_app = typer.Typer(
    help="Chỉ tiêu đăng ký: mẫu và nhập từ bảng tính. Registered targets: template and workbook import.",
    no_args_is_help=True,
)

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Tệp ghi ra / output file.")]


def register(app: typer.Typer) -> None:
    app.command("template", help="Tạo bảng tính báo cáo tuần của một đơn vị. Write a district's upload workbook."
                                 "\n\nExample: tracker template HBT --as-of 30/06/2023 -o HBT.xlsx")(template)
    app.command("ingest", help="Nhận các tệp báo cáo, hoặc mọi tệp trong một thư mục: mỗi tệp một dòng kết quả. "
                               "Ingest report files, or every file in a folder, one line each.\n\n"
                               "Example: tracker ingest bao-cao_HBT.xlsx bao-cao_HM.xlsx\n\n"
                               "Example: tracker ingest bao-cao-tuan-26/")(ingest)
    app.command("pull", help="Nhận mọi tệp mới từ thư mục data/inbox (và hộp thư nếu có cấu hình). Ingest every "
                             "new file from the inbox folder (and the mailbox when configured).\n\n"
                             "Example: tracker pull")(pull)
    app.add_typer(targets_app, name="targets")


def _start_reader() -> None:
    """Start the reader's worker process now, so its start-up overlaps with opening the database."""
    from tracker.intake.reader import default_reader

    default_reader().start()


def template(
    district: Annotated[str, typer.Argument(help="Mã hoặc tên đơn vị / district code or name (HBT).")],
    as_of: AsOf = None,
    output: Output = None,
) -> None:
    from tracker.errors import TrackerError
    from tracker.intake.ingest import registered_years
    from tracker.intake.parser import open_years
    from tracker.intake.template import default_as_of, district_template, template_filename

    ctx = ready()
    code = unit_code(ctx, district)
    day = parse_as_of(as_of) or default_as_of(ctx.settings)
    years = open_years(ctx.settings, registered_years(ctx))  # the years a sheet may be dated in
    if day.year not in years:
        listed = ", ".join(str(y) for y in sorted(years))
        raise TrackerError(f"Ngày {day:%d/%m/%Y} nằm ngoài năm thi đua: năm {day.year} chưa có chỉ tiêu đăng ký "
                           f"(các năm nhận báo cáo: {listed}).",
                           f"{day.isoformat()} is outside the cluster years: {day.year} has no registered targets "
                           f"(years that take sheets: {listed}).")
    path = output or Path(template_filename(code, day))
    write_file(path, district_template(ctx, code, day))
    out(str(path))
    err(f"Mẫu báo cáo của {ctx.settings.district(code).name}, số liệu đến {day:%d/%m/%Y}. "
        f"/ Upload workbook of {code} as of {day.isoformat()}.")


def _files_to_ingest(names: list[str]) -> list[Path]:
    """The files named, a folder standing for the files directly in it (name order; hidden, office lock
    and temporary files skipped, as in the inbox). A missing file or a folder with none is a usage error."""
    from tracker.errors import TrackerError
    from tracker.intake.inbox import folder_files

    paths: list[Path] = []
    missing, empty = [], []
    for name in names:
        path = Path(name)
        if path.is_dir():
            try:
                inside = folder_files(path)
            except OSError as exc:
                raise TrackerError(f"Không đọc được thư mục {name}: {exc.strerror}",
                                   f"Cannot read folder {name}: {exc.strerror}") from None
            paths.extend(inside)
            if not inside:
                empty.append(name)
        elif path.is_file():
            paths.append(path)
        else:
            missing.append(name)
    if missing:
        raise TrackerError("Không tìm thấy tệp: " + ", ".join(missing), "No such file: " + ", ".join(missing))
    if empty:
        folders = ", ".join(empty)
        raise TrackerError(f"Không có tệp nào để nhận trong thư mục: {folders} (không xét thư mục con; tệp ẩn, "
                           "tệp khoá và tệp tạm được bỏ qua).",
                           f"No file to ingest in folder: {folders} (subfolders are not searched; hidden, lock "
                           "and temporary files are skipped).")
    return paths


def ingest(
    # Plain strings: typer converts each Path argument through pydantic (~0.15 ms a file, for hundreds).
    files: Annotated[list[str], typer.Argument(
        metavar="files_or_folders",
        help="Tệp báo cáo (.xlsx .xlsm .xls .ods) hoặc thư mục chứa chúng / report files, or folders of them.")],
) -> None:
    from functools import partial

    from tracker.intake.inbox import failed_item, read_capped
    from tracker.intake.ingest import Incoming, format_result, ingest_many
    from tracker.models import SubmissionSource, SubmissionStatus
    from tracker.workflows.pull import notify_if_rejected

    paths = _files_to_ingest(files)
    _start_reader()
    ctx = ready()
    bad = 0
    items = [Incoming(partial(read_capped, path), path.name, source=SubmissionSource.cli) for path in paths]
    for outcome in ingest_many(ctx, items):
        result = outcome.result
        if result is None:
            bad += 1
            out(failed_item(SubmissionSource.cli, outcome.item.filename, outcome.error).text())
            continue
        bad += result.status == SubmissionStatus.rejected
        out(format_result(result))
        notify_if_rejected(ctx, result)
        if result.report_path is not None and not result.repeated:
            err(f"  → báo cáo lỗi / error report: {result.report_path}")
    if bad:
        sys.exit(1)


def pull() -> None:
    from tracker.workflows.pull import pull as run_pull

    _start_reader()
    ctx = ready()
    report = run_pull(ctx, on_item=lambda item: out(item.line()))
    err(report.summary())
    if not report.ok:
        sys.exit(1)


@targets_app.command("template", help="Tạo bảng tính đăng ký chỉ tiêu (điền sẵn chỉ tiêu hiện hành). Write the "
                                      "targets workbook, pre-filled with the current targets.\n\n"
                                      "Example: tracker targets template --year 2024 -o chi-tieu-2024.xlsx")
def targets_template(
    output: Output = None,
    year: Annotated[int | None, typer.Option("--year", help="Năm của chỉ tiêu (mặc định: [cluster] year) / the "
                                                             "year of the targets (default: [cluster] year).")] = None,
) -> None:
    from tracker.errors import TrackerError
    from tracker.intake.targets_workbook import FIRST_YEAR
    from tracker.intake.targets_workbook import targets_template as build

    ctx = ready()
    year = year or ctx.settings.cluster.year
    last = ctx.settings.cluster.year + 1
    if not FIRST_YEAR <= year <= last:
        raise TrackerError(f"Năm {year} không hợp lệ: chọn năm từ {FIRST_YEAR} đến {last}.",
                           f"Invalid year {year}: choose a year from {FIRST_YEAR} to {last}.", exit_code=2)
    path = output or Path(f"chi-tieu-dang-ky_{year}.xlsx")
    write_file(path, build(ctx, year))
    out(str(path))


@targets_app.command("import", help="Đăng ký chỉ tiêu từ bảng tính (có lỗi thì không đăng ký gì). Register the "
                                    "targets of a workbook (all or nothing).\n\n"
                                    "Example: tracker targets import chi-tieu-2023.xlsx")
def targets_import(file: Annotated[Path, typer.Argument(help="Bảng tính chỉ tiêu / targets workbook.")]) -> None:
    from tracker.errors import TrackerError
    from tracker.intake.targets_workbook import import_targets
    from tracker.text import format_number

    if not file.is_file():
        raise TrackerError(f"Không tìm thấy tệp: {file}", f"No such file: {file}")
    ctx = ready()
    result = import_targets(ctx, file.read_bytes(), file.name)
    if not result.ok:
        out(f"{result.file_name}: bị từ chối (rejected), không đăng ký chỉ tiêu nào (nothing registered)")
        for f in result.findings:
            out(f"  {f.text('vi')} / {f.message_en}")
        sys.exit(1)
    out(f"{result.file_name}: năm (year) {result.year}: đã đăng ký (registered) {result.changed} chỉ tiêu mới (new), "
        f"{len(result.registrations) - result.changed} không đổi (unchanged)")
    for r in result.registrations:
        if r.changed:
            out(f"  {r.district} {r.indicator} = {format_number(r.value)}")
