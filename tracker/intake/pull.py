"""`tracker pull`: ingest every new file from the configured sources.

A **source** is a function ``(ctx) -> Iterable[PullItem]`` that finds new files, runs each through
:func:`tracker.intake.ingest.ingest_bytes` and does its own bookkeeping (the inbox folder removes the
file once its bytes are kept in the archive or quarantine; the mailbox moves the message). Sources are
pluggable: :func:`default_sources` lists the inbox and, when ``[mailbox]`` is configured,
``tracker.mailbox.source.pull_mailbox``. A source that fails (a mailbox that cannot be reached) is an
error of that source only; one bad file never stops the others.

The inbox folder: every regular file directly in ``paths.inbox`` is a candidate, whatever its name
(files are recognised by content), except hidden files, office lock/temporary files (``~$x.xlsx``,
``.~lock.x#``, ``*.tmp``, ``*.part``, ``*.crdownload``). A file modified in the last ``SETTLE_SECONDS``
may still be being copied: the pull waits until it is that old (never longer than ``SETTLE_SECONDS``)
and takes it if its size and modification time did not change meanwhile; one that changed, or that
arrived during the wait, is reported as still being written and left for the next pull. A person who
drops a sheet and runs ``tracker pull`` at once gets it taken. The reception time of an inbox file
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
    """One file seen by a source: its verdict, or why it could not be handled, or that it is still being
    written (``deferred``); the last two stay for next time."""

    source: str
    name: str
    result: IngestResult | None = None
    error: str | None = None
    deferred: bool = False

    def line(self) -> str:
        """The line shown for the file: ``[source] text``."""
        return f"[{self.source}] {self.text()}"

    def text(self) -> str:
        if self.result is not None:
            return format_result(self.result)
        if self.deferred:
            return f"{self.name}: {DEFERRED_VI} ({DEFERRED_EN})"
        return f"{self.name}: không xử lý được (failed): {self.error}"


DEFERRED_VI, DEFERRED_EN = "đang được ghi, sẽ nhận ở lần sau", "still being written, will be taken next time"


Source = Callable[["Context"], Iterable[PullItem]]


@dataclass
class PullReport:
    items: list[PullItem] = field(default_factory=list)
    source_errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)

    def count(self, status: str) -> int:
        if status == "failed":
            return sum(1 for i in self.items if i.result is None and not i.deferred)
        if status == "deferred":
            return sum(1 for i in self.items if i.deferred)
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
    def deferred(self) -> int:
        return self.count("deferred")

    @property
    def ok(self) -> bool:
        """Nothing rejected, nothing failed, every source reached (a file still being written is no failure:
        the next pull takes it)."""
        return not (self.rejected or self.failed or self.source_errors)

    def summary(self) -> str:
        text = (f"{len(self.items)} tệp (files): {self.accepted} chấp nhận (accepted), {self.duplicate} đã nhận "
                f"trước đó (already received), {self.rejected} bị từ chối (rejected), {self.failed} lỗi xử lý "
                f"(failed), {self.deferred} đang được ghi (still being written)")
        for source, message in self.source_errors:
            text += f"; nguồn {source} lỗi (source failed): {message}"
        return text


def is_candidate(path: Path) -> bool:
    """Whether an inbox entry is a file a district sent (not hidden, not an office lock or partial file)."""
    name = path.name
    if name.startswith((".", "~$", "~")) or name.endswith(("#", "~")) or name.lower().endswith(_TEMP_SUFFIXES):
        return False
    return path.is_file() and not path.is_symlink()


def folder_files(folder: Path) -> list[Path]:
    """The candidate files directly in a folder (subfolders are not searched), in name order."""
    return sorted((path for path in folder.iterdir() if is_candidate(path)), key=lambda path: path.name)


# A candidate's state as seen by one look at the folder: name -> (size, modification time in ns).
Snapshot = dict[str, tuple[int, int]]


@dataclass
class InboxFiles:
    ready: list[Path]  # oldest first (ties by name)
    busy: list[Path]  # still being written: changed during the wait, or arrived meanwhile (by name)


def snapshot(folder: Path) -> Snapshot:
    """The candidate files of a folder, each with its size and modification time."""
    seen: Snapshot = {}
    for path in folder.iterdir():
        if not is_candidate(path):
            continue
        try:
            st = path.stat()
        except OSError:
            continue  # gone meanwhile
        seen[path.name] = (st.st_size, st.st_mtime_ns)
    return seen


def settle_delay(seen: Snapshot, now: float, settle_seconds: float) -> float:
    """How long to wait until the youngest file is ``settle_seconds`` old; never longer than that (a file
    dated in the future, from a computer whose clock is ahead, does not make the pull wait for hours)."""
    youngest = max((mtime_ns / 1e9 for _size, mtime_ns in seen.values()), default=None)
    if youngest is None:
        return 0.0
    return min(settle_seconds, max(0.0, youngest + settle_seconds - now))


def settled(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
    """The names unchanged between two looks (oldest first, ties by name) and those that changed or
    appeared (by name). A file gone by the second look is no longer there to take."""
    ready = sorted((before[name][1], name) for name, state in after.items() if before.get(name) == state)
    busy = sorted(name for name, state in after.items() if before.get(name) != state)
    return [name for _, name in ready], busy


def inbox_files(folder: Path, *, settle_seconds: float = SETTLE_SECONDS) -> InboxFiles:
    """The inbox's candidates: those ready to take, after waiting (at most ``settle_seconds``) for files
    written in the last ``settle_seconds``, and those still being written."""
    if not folder.is_dir():
        return InboxFiles([], [])
    before = after = snapshot(folder)
    delay = settle_delay(before, time.time(), settle_seconds)
    if delay > 0:
        time.sleep(delay)
        after = snapshot(folder)
    ready, busy = settled(before, after)
    return InboxFiles([folder / name for name in ready], [folder / name for name in busy])


def pull_inbox(ctx: Context, *, settle_seconds: float = SETTLE_SECONDS) -> Iterator[PullItem]:
    """The inbox folder source (see the module docstring)."""
    folder = ctx.settings.paths.inbox
    folder.mkdir(parents=True, exist_ok=True)
    listing = inbox_files(folder, settle_seconds=settle_seconds)
    items = []
    for path in listing.ready:
        try:
            received = datetime.fromtimestamp(min(path.stat().st_mtime, time.time()), UTC)
        except OSError:
            continue  # gone meanwhile
        items.append(Incoming(partial(read_capped, path), path.name, source="inbox", received_at=received))
    paths = {id(item): folder / item.filename for item in items}
    for outcome in ingest_many(ctx, items):
        path = paths[id(outcome.item)]
        if outcome.result is None:
            yield failed_item("inbox", path.name, outcome.error)
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
    for path in listing.busy:
        yield PullItem("inbox", path.name, deferred=True)


def failed_item(source: str, name: str, exc: BaseException | None) -> PullItem:
    """A file that could not be handled: one line saying why; the traceback only in the debug log."""
    from tracker.intake.failures import explain

    log.debug("%s file %s could not be handled", source, name, exc_info=exc)
    return PullItem(source, name, error=explain(exc) if exc is not None else "?")


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
        from tracker.intake.failures import explain

        log.error("rejection notice for %s could not be queued: %s", result.file_name, explain(exc),
                  exc_info=exc if log.isEnabledFor(logging.DEBUG) else None)


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
            from tracker.intake.failures import explain

            message = explain(exc)
            log.warning("source %s failed: %s", name, message, exc_info=log.isEnabledFor(logging.DEBUG))
            report.source_errors.append((name, message))
    return report


def touch(path: Path, when: datetime) -> None:
    """Set a file's modification time (the reception time the inbox pull reads)."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
