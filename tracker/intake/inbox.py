"""The inbox folder: the source of `tracker pull` that takes the files dropped in ``paths.inbox``.

Every regular file directly in ``paths.inbox`` is a candidate, whatever its name (files are recognised
by content), except hidden files, office lock/temporary files (``~$x.xlsx``, ``.~lock.x#``, ``*.tmp``,
``*.part``, ``*.crdownload``). A file modified in the last ``SETTLE_SECONDS`` may still be being
copied: the pull waits until it is that old (never longer than ``SETTLE_SECONDS``) and takes it if its
size and modification time did not change meanwhile; one that changed, or that arrived during the
wait, is reported as still being written and left for the next pull. A person who drops a sheet and
runs ``tracker pull`` at once gets it taken. The reception time of an inbox file is its modification
time (when it was written into the inbox), not the time of the pull, so a sheet dropped on Friday at
16:50 and pulled on Saturday at 06:00 is on time.

Each file goes through :func:`tracker.intake.ingest.ingest_many`; once its bytes are kept in the archive
or quarantine it is removed from the inbox. :class:`PullItem` is what every source yields, one per
file. Running the sources and sending the verdicts is :mod:`tracker.workflows.pull`'s.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tracker.context import Context
from tracker.intake.failures import explain
from tracker.intake.ingest import Incoming, IngestResult, format_result, ingest_many
from tracker.intake.safety import MAX_FILE_BYTES
from tracker.models import SubmissionSource

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
    """The inbox folder source (see the module docstring); no notices (the pull workflow sends them)."""
    folder = ctx.settings.paths.inbox
    folder.mkdir(parents=True, exist_ok=True)
    listing = inbox_files(folder, settle_seconds=settle_seconds)
    items = []
    for path in listing.ready:
        try:
            received = datetime.fromtimestamp(min(path.stat().st_mtime, time.time()), UTC)
        except OSError:
            continue  # gone meanwhile
        items.append(Incoming(partial(read_capped, path), path.name, source=SubmissionSource.inbox,
                              received_at=received))
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
        yield PullItem("inbox", path.name, result=outcome.result)
    for path in listing.busy:
        yield PullItem("inbox", path.name, deferred=True)


def failed_item(source: str, name: str, exc: BaseException | None) -> PullItem:
    """A file that could not be handled: one line saying why; the traceback only in the debug log."""
    log.debug("%s file %s could not be handled", source, name, exc_info=exc)
    return PullItem(source, name, error=explain(exc) if exc is not None else "?")


def read_capped(path: Path) -> bytes:
    """A file's bytes, but never more than one byte past the size cap: an oversized file is rejected for
    its size without being loaded whole."""
    with path.open("rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def _oversized(result: IngestResult) -> bool:
    return result.status == "rejected" and any(f.code == "file_too_large" for f in result.errors)


def touch(path: Path, when: datetime) -> None:
    """Set a file's modification time (the reception time the inbox pull reads)."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
