"""Mail: every e-mail goes through the outbox (built once, delivered exactly once).

Public functions (the CLI and the scheduler call these; each returns a small report with counts):

- ``send_weekly(ctx, as_of, *, dry_run=False)`` — the weekly report to the cluster head.
- ``send_review(ctx, period, *, dry_run=False)`` — the review pack (``2023-H1``, ``2023``) to the head.
- ``send_reminders(ctx, as_of, *, dry_run=False)`` — one reminder per district that has not reported.
- ``notify_rejection(ctx, result)`` — the verdict on a rejected upload to the district / sender.
- ``deliver_pending(ctx, *, force=False)`` — deliver what is due (``force``: every pending message now).

Modules: ``compose`` (RFC 5322 bytes from plain data), ``outbox`` (the table: enqueue, claim, record),
``delivery`` (SMTP through yagmail, or .eml files), ``messages`` (the four kinds and their templates).
Imports are lazy so ``import tracker.mail`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["send_weekly", "send_review", "send_reminders", "notify_rejection", "deliver_pending"]


def __getattr__(name: str) -> Any:
    if name == "deliver_pending":
        from tracker.mail.delivery import deliver_pending

        return deliver_pending
    if name in ("send_weekly", "send_review", "send_reminders", "notify_rejection"):
        from tracker.mail import messages

        return getattr(messages, name)
    raise AttributeError(name)
