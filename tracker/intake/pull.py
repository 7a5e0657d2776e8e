"""`tracker pull`: ingest every new file from the configured sources.

A **source** is a function ``(ctx) -> Iterable[PullItem]`` that finds new files, runs each through
:func:`tracker.intake.ingest.ingest_bytes` and does its own bookkeeping (the inbox folder removes the
file once its bytes are kept in the archive or quarantine; the mailbox moves the message). Sources are
pluggable: :func:`default_sources` lists the inbox and, when ``[mailbox]`` is configured,
``tracker.mailbox.source.pull_mailbox``. A source that fails (a mailbox that cannot be reached) is an
error of that source only; one bad file never stops the others.

The inbox folder: every regular file directly in ``paths.inbox`` is a candidate, whatever its name
(files are recognised by content), except hidden files, office lock/temporary files (``~$x.xlsx``,
``.~lock.x#``, ``*.tmp``, ``*.part``, ``*.crdownload``) and files modified in the last
``SETTLE_SECONDS`` (still being copied; the next pull takes them). The reception time of an inbox file
is its modification time (when it was written into the inbox), not the time of the pull, so a sheet
dropped on Friday at 16:50 and pulled on Saturday at 06:00 is on time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.intake.ingest import Incoming, IngestResult, format_result, ingest_many

if TYPE_CHECKING:
    from tracker.context import Context

log = logging.getLogger("tracker.intake")

SETTLE_SECONDS = 2.0
_TEMP_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".download")


@dataclass
class PullItem:
    """One file handled by a source: its verdict, or why it could not be handled (it stays for next time)."""

    source: str
    name: str
    result: IngestResult | None = None
    error: str | None = None

    def line(self) -> str:
        if self.result is not None:
            return f"[{self.source}] {format_result(self.result)}"
        return f"[{self.source}] {self.name}: không xử lý được (failed): {self.error}"


Source = Callable[["Context"], Iterable[PullItem]]


@dataclass
class PullReport:
    items: list[PullItem] = field(default_factory=list)
    source_errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)

    def count(self, status: str) -> int:
        if status == "failed":
            return sum(1 for i in self.items if i.result is None)
        return sum(1 for i in self.items if i.result is not None and i.result.status == status)

    @property
    def accepted(self) -> int:
        return self.count("accepted")

    @property
    def duplicate(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def ok(self) -> bool:
        """Nothing rejected, nothing failed, every source reached."""
        return not (self.rejected or self.failed or self.source_errors)

    def summary(self) -> str:
        text = (f"{len(self.items)} tệp (files): {self.accepted} chấp nhận (accepted), {self.duplicate} đã nhận "
                f"trước đó (already received), {self.rejected} bị từ chối (rejected), {self.failed} lỗi xử lý "
                f"(failed)")
        for source, message in self.source_errors:
            text += f"; nguồn {source} lỗi (source failed): {message}"
        return text


def is_candidate(path: Path) -> bool:
    """Whether an inbox entry is a file a district sent (not hidden, not an office lock or partial file)."""
    name = path.name
    if name.startswith((".", "~$", "~")) or name.endswith(("#", "~")) or name.lower().endswith(_TEMP_SUFFIXES):
        return False
    return path.is_file() and not path.is_symlink()


def inbox_files(folder: Path, *, settle_seconds: float = SETTLE_SECONDS, now: float | None = None) -> list[Path]:
    """The candidate files of the inbox folder, oldest first (ties by name)."""
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    out = []
    for path in folder.iterdir():
        if not is_candidate(path):
            continue
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if now - mtime >= settle_seconds:
            out.append((mtime, path.name, path))
    return [p for _, _, p in sorted(out)]


def pull_inbox(ctx: Context, *, settle_seconds: float = SETTLE_SECONDS) -> Iterator[PullItem]:
    """The inbox folder source (see the module docstring)."""
    folder = ctx.settings.paths.inbox
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for path in inbox_files(folder, settle_seconds=settle_seconds):
        try:
            received = datetime.fromtimestamp(min(path.stat().st_mtime, time.time()), UTC)
        except OSError:
            continue  # gone meanwhile
        items.append(Incoming(partial(read_capped, path), path.name, source="inbox", received_at=received))
    paths = {id(item): folder / item.filename for item in items}
    for outcome in ingest_many(ctx, items):
        path = paths[id(outcome.item)]
        if outcome.result is None:
            exc = outcome.error
            log.error("inbox file %s could not be handled: %s", path.name, exc, exc_info=exc)
            yield PullItem("inbox", path.name, error=f"{type(exc).__name__}: {exc}")
            continue
        try:  # its bytes are now kept in the archive or quarantine, under a name that cannot collide
            if _oversized(outcome.result) and outcome.result.stored_path is not None:
                os.replace(path, outcome.result.stored_path)  # quarantine the whole file, not the part read
            else:
                path.unlink()
        except OSError as exc:
            log.warning("inbox file %s was handled but could not be removed: %s", path.name, exc)
        notify_if_rejected(ctx, outcome.result)
        yield PullItem("inbox", path.name, result=outcome.result)


def notify_if_rejected(ctx: Context, result: IngestResult) -> None:
    """Send the district the verdict on a rejected sheet, when mail is configured (docs/outputs.md §7).

    The notice goes through the outbox: an SMTP outage leaves it pending there for the retries, and a
    failure to build it is logged without stopping the pull.
    """
    if result.status != "rejected" or result.repeated or not ctx.settings.mail.enabled:
        return
    from tracker.mail import notify_rejection

    try:
        notify_rejection(ctx, result)
    except Exception as exc:  # noqa: BLE001 - the sheet is stored; its notice must not stop the others
        log.error("rejection notice for %s could not be queued: %s", result.file_name, exc, exc_info=exc)


def read_capped(path: Path) -> bytes:
    """A file's bytes, but never more than one byte past the size cap: an oversized file is rejected for
    its size without being loaded whole."""
    from tracker.intake.safety import MAX_FILE_BYTES

    with path.open("rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def _oversized(result: IngestResult) -> bool:
    return result.status == "rejected" and any(f.code == "file_too_large" for f in result.errors)


def _mailbox(ctx: Context) -> Iterable[PullItem]:
    from tracker.mailbox.source import pull_mailbox  # written by the mailbox area

    return pull_mailbox(ctx)


def default_sources(ctx: Context) -> list[tuple[str, Source]]:
    """The folder inbox, and the mailbox when ``[mailbox] host`` is set."""
    sources: list[tuple[str, Source]] = [("inbox", pull_inbox)]
    if ctx.settings.mailbox.enabled:
        sources.append(("mailbox", _mailbox))
    return sources


def pull(ctx: Context, sources: Sequence[tuple[str, Source]] | None = None,
         *, on_item: Callable[[PullItem], None] | None = None) -> PullReport:
    """Run every source; ``on_item`` sees each file as soon as it is handled (for progress output)."""
    report = PullReport()
    for name, source in (default_sources(ctx) if sources is None else sources):
        try:
            for item in source(ctx):
                report.items.append(item)
                if on_item is not None:
                    on_item(item)
        except Exception as exc:  # noqa: BLE001 - a source that fails does not stop the others
            log.warning("source %s failed: %s", name, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            report.source_errors.append((name, str(exc) or type(exc).__name__))
    return report


def touch(path: Path, when: datetime) -> None:
    """Set a file's modification time (the reception time the inbox pull reads)."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
