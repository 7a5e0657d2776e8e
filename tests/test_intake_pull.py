"""`pull`: the inbox source, pluggable sources, one failure never stopping the rest."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial

from tests.intake_factory import report_for
from tracker.intake.pull import PullItem, inbox_files, is_candidate, pull, pull_inbox, settle_delay, settled

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def drop(path, data: bytes, when: datetime | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = (when.timestamp() if when else time.time() - 60)
    os.utime(path, (stamp, stamp))
    return path


def test_temporary_hidden_and_lock_files_are_not_candidates(tmp_path):
    for name in ("~$a.xlsx", ".~lock.a.xlsx#", ".a.xlsx", "a.xlsx.part", "a.tmp", "a.crdownload", "a.xlsx~"):
        assert not is_candidate(drop(tmp_path / name, b"x")), name
    assert is_candidate(drop(tmp_path / "Báo cáo HBT (1).XLSX", b"x"))
    (tmp_path / "sub").mkdir()
    assert not is_candidate(tmp_path / "sub")


@contextmanager
def still_writing(path, every: float = 0.05):
    """A copy in progress: ``path`` grows by a few bytes every ``every`` seconds until the block ends."""
    path.write_bytes(b"PK\x03\x04")
    stop = threading.Event()

    def grow():
        while not stop.wait(every):
            with path.open("ab") as fh:
                fh.write(b"\0" * 64)

    writer = threading.Thread(target=grow, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        stop.set()
        writer.join()


S = 10**9  # nanoseconds


def test_the_wait_lasts_until_the_youngest_file_is_settled_and_never_longer_than_the_settle_time():
    now = 1_000.0
    assert settle_delay({}, now, 2.0) == 0.0
    assert settle_delay({"old.xlsx": (10, 900 * S)}, now, 2.0) == 0.0
    assert settle_delay({"old.xlsx": (10, 900 * S), "new.xlsx": (10, int(999.5 * S))}, now, 2.0) == 1.5
    assert settle_delay({"future.xlsx": (10, 5_000 * S)}, now, 2.0) == 2.0


def test_files_unchanged_during_the_wait_are_ready_oldest_first_and_changed_or_new_ones_are_busy():
    before = {"b.xlsx": (10, 1 * S), "a.xlsx": (10, 2 * S), "growing.xlsx": (10, 3 * S), "gone.xlsx": (1, 1)}
    after = {"b.xlsx": (10, 1 * S), "a.xlsx": (10, 2 * S), "growing.xlsx": (74, 3 * S), "arrived.xlsx": (5, 4 * S)}
    assert settled(before, after) == (["b.xlsx", "a.xlsx"], ["arrived.xlsx", "growing.xlsx"])
    touched = {**before, "b.xlsx": (10, 5 * S)}  # same size, written again
    assert settled(before, touched)[1] == ["b.xlsx"]


def test_files_are_taken_oldest_first_and_a_fresh_one_after_a_short_wait(tmp_path):
    drop(tmp_path / "b.xlsx", b"x", datetime(2023, 6, 30, 9, tzinfo=UTC))
    drop(tmp_path / "a.xlsx", b"x", datetime(2023, 6, 30, 10, tzinfo=UTC))
    (tmp_path / "fresh.xlsx").write_bytes(b"x")
    started = time.monotonic()
    listing = inbox_files(tmp_path, settle_seconds=0.3)
    assert [p.name for p in listing.ready] == ["b.xlsx", "a.xlsx", "fresh.xlsx"] and listing.busy == []
    assert 0.2 <= time.monotonic() - started < 2


def test_a_file_still_growing_after_the_wait_is_busy(tmp_path):
    drop(tmp_path / "a.xlsx", b"x", datetime(2023, 6, 30, 10, tzinfo=UTC))
    with still_writing(tmp_path / "copying.xlsx"):
        listing = inbox_files(tmp_path, settle_seconds=0.3)
    assert [p.name for p in listing.ready] == ["a.xlsx"] and [p.name for p in listing.busy] == ["copying.xlsx"]


def test_a_sheet_dropped_just_before_the_pull_is_taken_and_one_being_written_is_named_and_left(ctx):
    inbox = ctx.settings.paths.inbox
    inbox.mkdir(parents=True)
    (inbox / "HBT.xlsx").write_bytes(report_for("HBT", JUNE_30, FIGS))  # just now
    with still_writing(inbox / "LB.xlsx"):
        report = pull(ctx, [("inbox", partial(pull_inbox, settle_seconds=0.3))])
    assert [(i.name, i.result.status if i.result else None, i.deferred) for i in report.items] == [
        ("HBT.xlsx", "accepted", False), ("LB.xlsx", None, True)]
    assert report.ok and (report.deferred, report.failed) == (1, 0)
    assert "1 đang được ghi (still being written)" in report.summary()
    assert report.items[1].line() == ("[inbox] LB.xlsx: đang được ghi, sẽ nhận ở lần sau "
                                      "(still being written, will be taken next time)")
    assert [p.name for p in inbox.iterdir()] == ["LB.xlsx"]


def test_the_reception_time_of_an_inbox_file_is_its_modification_time(ctx):
    sent = datetime(2023, 6, 30, 16, 50, tzinfo=UTC)
    drop(ctx.settings.paths.inbox / "HBT.xlsx", report_for("HBT", JUNE_30, FIGS), sent)
    [item] = list(pull_inbox(ctx))
    assert item.result.status == "accepted" and item.result.received_at == sent


def test_two_files_with_the_same_name_never_collide(ctx):
    inbox = ctx.settings.paths.inbox
    drop(inbox / "HBT.xlsx", report_for("HBT", JUNE_30, FIGS), datetime(2023, 6, 30, 9, tzinfo=UTC))
    first = pull(ctx)
    drop(inbox / "HBT.xlsx", report_for("HBT", JUNE_30, {**FIGS, "new_unions": 20}),
         datetime(2023, 6, 30, 11, tzinfo=UTC))
    second = pull(ctx)
    a, b = first.items[0].result, second.items[0].result
    assert a.stored_path != b.stored_path and a.stored_path.exists() and b.stored_path.exists()
    assert b.superseded_id == a.submission_id
    assert list(inbox.iterdir()) == []


def test_a_duplicate_in_the_inbox_is_taken_out_and_counted(ctx):
    inbox = ctx.settings.paths.inbox
    data = report_for("HK", JUNE_30, FIGS)
    drop(inbox / "HK.xlsx", data)
    drop(inbox / "HK (bản sao).xlsx", data)
    report = pull(ctx)
    assert (report.accepted, report.duplicate, report.rejected, report.failed) == (1, 1, 0, 0)
    assert report.ok and list(inbox.iterdir()) == []


def test_a_source_that_fails_does_not_stop_the_others(ctx):
    drop(ctx.settings.paths.inbox / "HBT.xlsx", report_for("HBT", JUNE_30, FIGS))

    def unreachable_mailbox(_ctx):
        raise ConnectionRefusedError("imap.example.org:993 refused the connection")

    def half_working(_ctx):
        yield PullItem("other", "x.xlsx", error="could not fetch")
        raise TimeoutError("gave up")

    report = pull(ctx, [("mailbox", unreachable_mailbox), ("other", half_working), ("inbox", pull_inbox)])
    assert report.accepted == 1 and report.failed == 1
    assert [s for s, _ in report.source_errors] == ["mailbox", "other"]
    assert not report.ok and "refused" in report.summary()


def test_the_mailbox_is_a_source_only_when_configured(ctx):
    from tracker.intake.pull import default_sources

    assert [name for name, _ in default_sources(ctx)] == ["inbox"]
    with_mailbox = ctx.settings.model_copy(update={"mailbox": ctx.settings.mailbox.model_copy(
        update={"host": "127.0.0.1"})})
    assert [name for name, _ in default_sources(type(ctx)(with_mailbox, ctx.engine))] == ["inbox", "mailbox"]


def test_an_oversized_file_is_rejected_unread_and_quarantined_whole(ctx):
    from tracker.intake.safety import MAX_FILE_BYTES

    big = ctx.settings.paths.inbox / "video.xlsx"
    drop(big, b"PK\x03\x04" + b"\0" * (MAX_FILE_BYTES + 10))
    [item] = list(pull_inbox(ctx))
    assert item.result.status == "rejected" and item.result.errors[0].code == "file_too_large"
    assert not big.exists() and item.result.stored_path.stat().st_size == MAX_FILE_BYTES + 14
