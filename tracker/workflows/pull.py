"""`tracker pull`: ingest every new file from the configured sources, and tell districts what was rejected.

A **source** is a function ``(ctx) -> Iterable[PullItem]`` that finds new files, runs each through the
intake and does its own bookkeeping (the inbox folder removes the file once its bytes are kept in the
archive or quarantine; the mailbox moves the message). The caller chooses the sources;
:func:`default_sources` lists the inbox and, when ``[mailbox]`` is configured, the mailbox. A source
that fails (a mailbox that cannot be reached) is an error of that source only; one bad file never
stops the others.

With mail configured, each rejected sheet's verdict goes to the district (docs/outputs.md §7): the
inbox source here sends it as soon as the file is handled, the mailbox source with its receipt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from tracker.context import Context
from tracker.intake.failures import explain
from tracker.intake.inbox import SETTLE_SECONDS, PullItem, pull_inbox
from tracker.intake.ingest import IngestResult
from tracker.workflows.mailbox_source import pull_mailbox
from tracker.workflows.notices import notify_rejection

log = logging.getLogger("tracker.intake")

Source = Callable[[Context], Iterable[PullItem]]


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


def notify_if_rejected(ctx: Context, result: IngestResult) -> None:
    """Send the district the verdict on a rejected sheet, when mail is configured (docs/outputs.md §7).

    The notice goes through the outbox: an SMTP outage leaves it pending there for the retries, and a
    failure to build it is logged without stopping the pull.
    """
    if result.status != "rejected" or result.repeated or not ctx.settings.mail.enabled:
        return
    try:
        notify_rejection(ctx, result)
    except Exception as exc:  # noqa: BLE001 - the sheet is stored; its notice must not stop the others
        log.error("rejection notice for %s could not be queued: %s", result.file_name, explain(exc),
                  exc_info=exc if log.isEnabledFor(logging.DEBUG) else None)


def inbox(ctx: Context, *, settle_seconds: float = SETTLE_SECONDS) -> Iterator[PullItem]:
    """The inbox folder (:func:`tracker.intake.inbox.pull_inbox`), each rejected sheet notified at once."""
    for item in pull_inbox(ctx, settle_seconds=settle_seconds):
        if item.result is not None:
            notify_if_rejected(ctx, item.result)
        yield item


def default_sources(ctx: Context) -> list[tuple[str, Source]]:
    """The folder inbox, and the mailbox when ``[mailbox] host`` is set."""
    sources: list[tuple[str, Source]] = [("inbox", inbox)]
    if ctx.settings.mailbox.enabled:
        sources.append(("mailbox", pull_mailbox))
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
            message = explain(exc)
            log.warning("source %s failed: %s", name, message, exc_info=log.isEnabledFor(logging.DEBUG))
            report.source_errors.append((name, message))
    return report
