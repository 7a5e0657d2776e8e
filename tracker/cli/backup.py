"""`tracker backup`, `tracker restore`, `tracker verify` (docs/backups.md). Thin: each calls :mod:`tracker.backup`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import context, err, out


def register(app: typer.Typer) -> None:
    app.command("backup", help=(
        "Sao lưu cụm: cơ sở dữ liệu (ảnh chụp nhất quán), kho lưu trữ, thư mục cách ly, tệp cấu hình và bản kê "
        "SHA-256 của mọi tệp; giữ [backup] keep bản mới nhất. In ra thư mục sao lưu. "
        "Back up the cluster: a consistent database snapshot, the archive, quarantine, config and a manifest "
        "with the SHA-256 of every file; keeps the newest [backup] keep. Prints the backup folder.\n\n"
        "Example: tracker backup --to /mnt/usb/backups"))(backup)
    app.command("restore", help=(
        "Kiểm tra toàn bộ bản sao lưu rồi khôi phục vào một thư mục mới hoặc rỗng (không bao giờ ghi đè bản đang "
        "dùng); in ra cách trỏ cấu hình vào đó. Bản sao lưu hỏng bị từ chối, nêu tên tệp (mã thoát 1). "
        "Check a backup whole, then restore it into a new or empty folder (never over a live installation) and "
        "print how to point the config at it. A damaged backup is refused, naming the file (exit 1). "
        "PostgreSQL: --database-url loads the dump into a new, empty database; without it the commands are "
        "printed. Needs no config.\n\n"
        "Example: tracker restore data/backups/cum-1-20230630-233000 --to /tmp/khoi-phuc"))(restore)
    app.command("verify", help=(
        "Đọc lại mọi tệp đã chấp nhận trong kho lưu trữ (cùng bộ đọc và bộ kiểm tra như khi nhận), so từng số liệu "
        "trong CSDL với ô của nó và SHA-256 của tệp với lúc nhận; in mỗi khác biệt một dòng, mã thoát 1 nếu có. "
        "Re-read every archived accepted file through the intake's reader and parser; compare each stored figure "
        "with its cell and each file with its SHA-256 at intake; one line per difference, exit 1 if any.\n\n"
        "Example: tracker verify --year 2023"))(verify)


def backup(
    to: Annotated[Path | None, typer.Option("--to", help="Thư mục chứa các bản sao lưu / folder for the backups "
                                                          "(default [backup] dir).")] = None,
) -> None:
    from jobs.lock import job_lock
    from tracker.backup.take import take_backup
    from tracker.context import require_initialised

    ctx = context()
    require_initialised(ctx)
    with job_lock(ctx, "backup"):  # the nightly job takes the same lock: never two backups at once
        report = take_backup(ctx, to)
    err(summary(report))
    out(str(report.path))


def summary(report) -> str:
    """What a backup holds, for people (stderr of `tracker backup`, the demo)."""
    c = report.manifest.counts
    mib = report.size / 2**20
    text = (f"Sao lưu / backup {report.path.name}: {c['submissions']} bảng tính / submissions, "
            f"{c['figures']} số liệu / figures, {c['archive_files']} tệp lưu trữ / archived files, "
            f"{c['quarantine_files']} tệp cách ly / quarantined; {mib:.1f} MiB "
            f"({report.stats.copied} tệp chép mới / copied, {report.stats.linked} liên kết từ bản trước / "
            f"linked from the previous backup); {report.seconds:.1f} s")
    if report.deleted:
        text += f"; xoá bản cũ / removed {len(report.deleted)}: " + ", ".join(p.name for p in report.deleted)
    return text


def restore(
    backup: Annotated[Path, typer.Argument(help="Thư mục sao lưu / the backup folder.")],
    to: Annotated[Path | None, typer.Option("--to", help="Thư mục đích, mới hoặc rỗng / target folder, new or empty "
                                                          "(default ./restored-<backup name>).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="PostgreSQL: cơ sở dữ liệu mới, rỗng để nạp vào / a new, empty database to load the "
                               "dump into.")] = None,
) -> None:
    from tracker.backup.restore import restore_backup

    target = to if to is not None else Path.cwd() / f"restored-{backup.resolve().name}"
    r = restore_backup(backup, target, database_url=database_url)
    out(f"Đã khôi phục vào / restored into {r.folder}")
    out(f"  cấu hình / config:           {r.config}")
    out(f"  cơ sở dữ liệu / database:    {r.database}")
    out(f"  kho lưu trữ / archive:       {r.archive} ({r.files} tệp / files with quarantine)")
    out(f"  thư mục cách ly / quarantine: {r.quarantine}")
    for line in instructions(r):
        out(line)


def instructions(r) -> list[str]:
    """The commands that point the config at the restored copy, then check it."""
    lines = []
    if r.commands:
        lines.append("Nạp cơ sở dữ liệu vào PostgreSQL / load the database into PostgreSQL:")
        lines += [f"  {c}" for c in r.commands]
    if r.changes:
        lines.append(f"Sửa trong {r.config} / set in {r.config}:")
        for section in dict.fromkeys(s for s, _k, _v in r.changes):
            lines.append(f"  [{section}]")
            lines += [f'  {k} = "{v}"' for s, k, v in r.changes if s == section]
        url = next((v for s, k, v in r.changes if (s, k) == ("database", "url")), None)
        if url and len(r.changes) == 1:
            lines.append(f"  (hoặc / or: export TRACKER_DATABASE_URL='{url}')")
    else:
        lines.append(f"{r.config} đã trỏ vào bản khôi phục / already points at the restored copy.")
    if r.elsewhere:
        lines.append("Các thư mục làm việc này vẫn là của bản đang dùng; đổi chúng trước khi chạy pull hay bộ lập lịch "
                     "trên bản khôi phục / these working folders are still the live installation's; change them "
                     "before running pull or the scheduler on the restored copy:")
        lines += [f"  {key} = {path}" for key, path in r.elsewhere]
    lines.append("Kiểm tra / check it:")
    lines.append(f"  tracker --config {r.config} status")
    lines.append(f"  tracker --config {r.config} verify")
    return lines


def verify(
    year: Annotated[int | None, typer.Option("--year", help="Chỉ các báo cáo có ngày số liệu trong năm này / only "
                                                             "sheets whose as-of date is in this year.")] = None,
) -> None:
    from tracker.context import require_initialised
    from tracker.workflows.verify import verify_archive

    ctx = context()
    require_initialised(ctx)
    with _progress("Kiểm tra / verifying") as tick:
        report = verify_archive(ctx, year, progress=tick)
    for difference in report.differences:
        out(difference.text())
    vi_scope, en_scope = (f" năm {year}", f" of {year}") if year else ("", "")
    head_vi = f"Đã kiểm tra {report.files} tệp{vi_scope}, {report.figures} số liệu"
    head_en = f"checked {report.files} files{en_scope}, {report.figures} figures"
    if report.ok:
        out(f"{head_vi}: không có khác biệt / {head_en}: no difference")
        return
    n = len(report.differences)
    out(f"{head_vi}: {n} khác biệt / {head_en}: {n} difference(s)")
    sys.exit(1)


class _progress:
    """A progress bar on a terminal's stderr; a log line every 1,000 files otherwise."""

    def __init__(self, title: str):
        self.title, self.bar, self.task = title, None, None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.title, total=None)
        return self.tick

    def tick(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)
        elif done % 1000 == 0 or done == total:
            err(f"{self.title}: {done}/{total}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
