"""The outbox: every e-mail is a row first, delivered later; the row is the record of truth.

- ``enqueue`` stores a built message under its idempotency key (kind, cluster, period, recipient).
  The key is unique per cluster, so a second send of the same thing finds the row and mails nothing.
- ``claim_due`` takes messages for one delivery run with a conditional UPDATE (status and attempt
  counter must still be what was read), so two runners — the scheduler and a person typing
  ``tracker outbox retry`` — never send the same message twice. A claimed row is in flight
  (``OutboxStatus.sending``) until its lease ends, the time ``next_attempt_at`` holds meanwhile; a
  runner that died mid-run leaves it to be taken again after the lease.
- ``record`` stores the outcome of one attempt: sent, back to pending with exponential backoff, or
  failed with the server's words.

Delivery is at-least-once in one narrow case: a process killed after the server accepted a message
and before its row was updated sends it again after the lease. Everything else is exactly once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from tracker.models import OutboxMessage, OutboxStatus, utcnow

# receipt: the mailbox's reply to a sender; confirmation: a request to a unit to confirm a period's figures
# assessment: the year-end assessment (workbook, chart, draft minutes) to the head, once per year
KINDS = ("weekly", "review", "reminder", "rejection", "receipt", "confirmation", "assessment")

BACKOFF_FIRST = timedelta(minutes=2)
BACKOFF_CAP = timedelta(hours=6)


def idempotency_key(cluster_id: str, kind: str, period: str, recipient_key: str) -> str:
    """``weekly/cum-1/2023-W26/head``: the same thing to the same people is one message, ever."""
    return f"{kind}/{cluster_id}/{period}/{recipient_key}"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 2, 4, 8 … minutes, at most 6 hours."""
    if attempts < 1:
        return timedelta(0)
    return min(BACKOFF_FIRST * 2 ** min(attempts - 1, 20), BACKOFF_CAP)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did to one message."""

    status: Literal["sent", "retry", "failed"]
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> "550 5.1.1 no such user"


@dataclass(frozen=True)
class Claimed:
    """A message taken for delivery: what the transport needs, plus the claim to check on record."""

    id: int
    kind: str
    period: str
    recipient_key: str
    recipients: tuple[str, ...]
    message: bytes
    attempt: int  # the attempts counter after the claim; record() only writes if it is unchanged


def find(session: Session, cluster_id: str, key: str) -> OutboxMessage | None:
    return session.execute(
        select(OutboxMessage).where(OutboxMessage.cluster_id == cluster_id,
                                    OutboxMessage.idempotency_key == key)
    ).scalars().first()


def enqueue(session: Session, cluster_id: str, *, kind: str, period: str, recipient_key: str,
            recipients: Sequence[str], subject: str, message: bytes,
            now: datetime | None = None) -> tuple[OutboxMessage, bool]:
    """Store a built message unless its key is already there. Returns (row, created).

    INSERT … ON CONFLICT DO NOTHING: two processes enqueuing the same key at once end with one row.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    now = now or utcnow()
    key = idempotency_key(cluster_id, kind, period, recipient_key)
    # The column sizes, checked here so SQLite (which does not enforce them) fails like PostgreSQL.
    if len(period) > 40 or len(recipient_key) > 200 or len(key) > 300:
        raise ValueError(f"outbox key too long: {key!r}")
    values = dict(cluster_id=cluster_id, kind=kind, period=period, recipient_key=recipient_key,
                  idempotency_key=key, recipients=list(recipients), subject=subject, message=message,
                  status=OutboxStatus.pending, attempts=0, next_attempt_at=now, refused={},
                  created_at=now)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project supports these two
        raise RuntimeError(f"unsupported database {dialect}")
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(
        index_elements=["cluster_id", "idempotency_key"]).returning(OutboxMessage.id)
    # RETURNING, not rowcount: with PostgreSQL's implicit RETURNING the rowcount is not dependable.
    created = session.execute(stmt).first() is not None
    row = find(session, cluster_id, key)
    assert row is not None
    return row, created


def _due_filter(cluster_id: str, now: datetime, force: bool):
    pending = OutboxMessage.status == OutboxStatus.pending
    if not force:
        pending = and_(pending, OutboxMessage.next_attempt_at <= now)
    stale = and_(OutboxMessage.status == OutboxStatus.sending, OutboxMessage.next_attempt_at <= now)
    return and_(OutboxMessage.cluster_id == cluster_id, or_(pending, stale))


def claim_due(session: Session, cluster_id: str, *, now: datetime, lease: timedelta, force: bool = False,
              only: Collection[int] | None = None, lease_per_message: timedelta = timedelta(0)) -> list[Claimed]:
    """Take every message due now (``force``: every pending one, whatever its backoff).

    Each row is taken with ``UPDATE … WHERE id = ? AND status = ? AND attempts = ?`` — the values just
    read — so a row another runner took in between is skipped (rowcount 0). ``only`` limits the run
    to some message ids. A message being sent by a live runner (``sending``, lease not over) is
    never taken, even with ``force``. The lease is ``lease + lease_per_message × messages due``.
    """
    query = select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts).where(
        _due_filter(cluster_id, now, force))
    if only is not None:
        query = query.where(OutboxMessage.id.in_(list(only)))
    rows = session.execute(query.order_by(OutboxMessage.created_at, OutboxMessage.id)).all()
    claimed_ids: list[tuple[int, int]] = []
    until = now + lease + lease_per_message * len(rows)
    for msg_id, status, attempts in rows:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == msg_id, OutboxMessage.status == status, OutboxMessage.attempts == attempts)
            .values(status=OutboxStatus.sending, attempts=attempts + 1, next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed_ids.append((msg_id, attempts + 1))
    if not claimed_ids:
        return []
    by_id = {
        r.id: r for r in session.execute(
            select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.period, OutboxMessage.recipient_key,
                   OutboxMessage.recipients, OutboxMessage.message)
            .where(OutboxMessage.id.in_([i for i, _ in claimed_ids]))
        ).all()
    }
    return [
        Claimed(id=i, kind=by_id[i].kind, period=by_id[i].period, recipient_key=by_id[i].recipient_key,
                recipients=tuple(by_id[i].recipients), message=bytes(by_id[i].message), attempt=attempt)
        for i, attempt in claimed_ids
    ]


def record(session: Session, claimed: Claimed, outcome: Outcome, *, now: datetime) -> bool:
    """Store the outcome of one attempt. False if the claim was lost (the lease ran out and another
    runner took the message), in which case nothing is written."""
    values: dict = {"last_error": outcome.error}
    if outcome.refused:
        values["refused"] = dict(outcome.refused)
    if outcome.status == "sent":
        values.update(status=OutboxStatus.sent, sent_at=now, next_attempt_at=now)
    elif outcome.status == "failed":
        values.update(status=OutboxStatus.failed, next_attempt_at=now)
    else:
        values.update(status=OutboxStatus.pending, next_attempt_at=now + backoff(claimed.attempt))
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claimed.id, OutboxMessage.status == OutboxStatus.sending,
               OutboxMessage.attempts == claimed.attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def list_messages(session: Session, cluster_id: str, *, status: OutboxStatus | str | None = None,
                  limit: int | None = None) -> list[OutboxMessage]:
    """Newest first."""
    query = select(OutboxMessage).where(OutboxMessage.cluster_id == cluster_id)
    if status:
        query = query.where(OutboxMessage.status == status)
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.execute(query).scalars().all())
