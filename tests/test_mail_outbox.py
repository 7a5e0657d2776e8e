"""The outbox table's rules: one row per idempotency key, claims that two runners cannot share, leases
that outlive a crashed runner, outcomes that a runner which lost its claim cannot overwrite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.mail_factories import NOW, enqueue_message, outbox_row
from tracker.mail.outbox import Outcome, claim_due, enqueue, idempotency_key, record

LEASE = timedelta(minutes=15)


def claim(ctx, now=NOW, force=False):
    with ctx.session(write=True) as session:
        return claim_due(session, ctx.cluster_id, now=now, lease=LEASE, force=force)


def test_the_key_names_kind_cluster_period_and_recipient():
    assert idempotency_key("cum-1", "weekly", "2023-W26", "head") == "weekly/cum-1/2023-W26/head"


def test_enqueueing_the_same_key_twice_keeps_the_first_message(ctx):
    first, created = enqueue_message(ctx)
    with ctx.session(write=True) as session:
        row, created_again = enqueue(session, ctx.cluster_id, kind="weekly", period="2023-W26", recipient_key="head",
                                     recipients=["other@example.org"], subject="khác", message=b"x", now=NOW)
    assert created and not created_again and row.id == first
    assert row.subject == "[Cụm thi đua số 1] Thư thử nghiệm" and row.recipients == ["cum-truong@example.org"]


def test_the_same_key_in_another_cluster_is_another_message(ctx):
    from tracker.models import Cluster

    with ctx.session(write=True) as session:
        session.add(Cluster(id="cum-2", name="Cụm thi đua số 2", year=2023))
    enqueue_message(ctx)
    with ctx.session(write=True) as session:
        _, created = enqueue(session, "cum-2", kind="weekly", period="2023-W26", recipient_key="head",
                             recipients=["head2@example.org"], subject="s", message=b"x", now=NOW)
    assert created
    assert [c.recipients for c in claim(ctx)] == [("cum-truong@example.org",)]  # cum-1 sees only its own


def test_a_claimed_message_is_not_claimed_again_even_by_force_while_its_lease_runs(ctx):
    msg_id, _ = enqueue_message(ctx)
    [taken] = claim(ctx)
    assert (taken.id, taken.attempt) == (msg_id, 1)
    assert outbox_row(ctx, msg_id).status == "sending"
    assert claim(ctx, force=True) == [] and claim(ctx, now=NOW + LEASE - timedelta(seconds=1)) == []


def test_a_runner_that_died_leaves_the_message_to_the_next_after_its_lease(ctx):
    msg_id, _ = enqueue_message(ctx)
    [dead] = claim(ctx)  # ... and the process is killed before it records anything
    [again] = claim(ctx, now=NOW + LEASE)
    assert (again.id, again.attempt) == (msg_id, 2)
    with ctx.session(write=True) as session:
        assert not record(session, dead, Outcome("sent"), now=NOW + LEASE)  # the dead claim writes nothing
        assert record(session, again, Outcome("retry", "451 later"), now=NOW + LEASE)
    row = outbox_row(ctx, msg_id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 2, "451 later")
    assert row.next_attempt_at == NOW + LEASE + timedelta(minutes=4)


@pytest.mark.parametrize(("outcome", "status"), [
    (Outcome("sent", None, {"x@example.org": "550 5.1.1 unknown"}), "sent"),
    (Outcome("failed", "554 5.7.1 rejected"), "failed"),
])
def test_a_final_outcome_is_kept_and_never_claimed_again(ctx, outcome, status):
    msg_id, _ = enqueue_message(ctx)
    [taken] = claim(ctx)
    with ctx.session(write=True) as session:
        assert record(session, taken, outcome, now=NOW)
    row = outbox_row(ctx, msg_id)
    assert row.status == status and row.refused == outcome.refused and row.last_error == outcome.error
    assert row.sent_at == (NOW if status == "sent" else None)
    assert claim(ctx, now=NOW + timedelta(days=30), force=True) == []
