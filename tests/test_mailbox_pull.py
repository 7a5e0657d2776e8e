"""`tracker pull` with the mailbox source, end to end: a real IMAP server (pymap) on loopback, real
messages appended with imaplib, real workbooks, the real intake and database (SQLite and PostgreSQL),
and for the replies a real SMTP server (aiosmtpd). Nothing mocked."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from tests.imap_server import build_message, free_port, start_imap_server
from tests.intake_factory import report_for
from tests.smtp_server import HOST, SmtpServer
from tracker import models
from tracker.config import Mailbox
from tracker.context import Context
from tracker.workflows.mailbox_source import pull_mailbox
from tracker.workflows.pull import default_sources, pull

JUNE_30 = date(2023, 6, 30)
JUNE_23 = date(2023, 6, 23)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}
NAME_2231 = "Báo cáo tuần 26 - LĐLĐ quận Hoàng Mai.xlsx"
NAME_2047 = "Báo cáo tuần 26 - LĐLĐ quận Đống Đa.xlsx"
STRANGER = "nguoi-la@gmail.example"
REJECTION = "sender_not_in_district"


@pytest.fixture(scope="module")
def imap():
    server = start_imap_server()
    yield server
    server.stop()


@pytest.fixture
def box(imap):
    imap.reset()
    return imap


def _mailbox(server, **kw) -> Mailbox:
    values = dict(host=server.host, port=server.port, security="none", user=server.user,
                  password=server.password, folder="INBOX", processed_folder="Đã xử lý")
    values.update(kw)
    return Mailbox(**values)


@pytest.fixture
def mctx(ctx, box) -> Context:
    """The sample cluster (after init) reading the loopback mailbox."""
    settings = ctx.settings.model_copy(update={"mailbox": _mailbox(box)})
    return Context(settings=settings, engine=ctx.engine)


def submissions(ctx) -> list[models.Submission]:
    with ctx.session() as session:
        return list(session.exec(select(models.Submission).order_by(models.Submission.id)).all())


def codes_of(ctx, submission_id: int) -> set[str]:
    with ctx.session() as session:
        return set(session.exec(select(models.Finding.code).where(
            models.Finding.submission_id == submission_id)).all())


def figure_count(ctx) -> int:
    with ctx.session() as session:
        return len(session.exec(select(models.Figure.id)).all())


def folder_name(name: str) -> str:
    from imap_tools.imap_utf7 import utf7_encode

    return utf7_encode(name).decode()


# ----------------------------------------------------------------------------------------- the main story


def test_every_kind_of_message_is_handled_and_a_second_pull_finds_nothing_new(mctx, box):
    hm, bd, head = "hm@example.org", "bd@example.org", "cum-truong@example.org"
    box.append(build_message(hm, [(NAME_2231, report_for("HM", JUNE_30, FIGS))], message_id="<hm-1@x>"))
    box.append(build_message(STRANGER, [("HBT.xlsx", report_for("HBT", JUNE_30, FIGS))], message_id="<la-1@x>"))
    box.append(build_message(bd, [("BD.xlsx", report_for("BD", JUNE_30, {**FIGS, "new_unions": -3}))],
                             message_id="<bd-1@x>"))
    box.append(build_message("lb@example.org", [], subject="Xin hỏi về mẫu báo cáo", message_id="<lb-1@x>"))
    box.append(build_message(head, [("HK.xlsx", report_for("HK", JUNE_30, FIGS)),
                                    ("LB.ods.xlsx", report_for("LB", JUNE_23, FIGS))], message_id="<head-1@x>"))
    box.append(build_message("dd@example.org", [(NAME_2047, report_for("DD", JUNE_30, FIGS))],
                             name_encoding="rfc2047", message_id="<dd-1@x>"))

    report = pull(mctx)

    verdicts = {item.name: item.result.status for item in report.items}
    assert verdicts == {NAME_2231: "accepted", "HBT.xlsx": "rejected", "BD.xlsx": "rejected",
                        "HK.xlsx": "accepted", "LB.ods.xlsx": "accepted", NAME_2047: "accepted"}
    assert not report.source_errors and not report.ok  # two rejections: exit code 1
    subs = {s.file_name: s for s in submissions(mctx)}
    assert set(subs) == set(verdicts)
    assert all(s.source == "mailbox" for s in subs.values())
    assert (subs[NAME_2231].sender, subs[NAME_2231].message_id) == (hm, "<hm-1@x>")
    assert subs["HK.xlsx"].sender == head and subs["LB.ods.xlsx"].message_id == "<head-1@x>"
    # the stranger's sheet: rejected for the sender alone, kept in quarantine like any rejected file
    assert codes_of(mctx, subs["HBT.xlsx"].id) == {"sender_not_in_district"}
    stranger = next(i.result for i in report.items if i.name == "HBT.xlsx")
    assert stranger.errors[0].message_vi.startswith("Người gửi không thuộc đơn vị")
    assert stranger.errors[0].cell == "Báo cáo!B4"  # the `Đơn vị` cell
    assert mctx.settings.paths.quarantine in stranger.stored_path.parents and stranger.stored_path.exists()
    assert codes_of(mctx, subs["BD.xlsx"].id) == {"value_negative"}
    # the Vietnamese names, whichever the encoding, are intact in the archive too
    assert next(i.result for i in report.items if i.name == NAME_2047).stored_path.name.endswith(NAME_2047)
    # every message, with or without a workbook, moved to the processed folder (created on first use)
    assert box.count("INBOX") == 0 and box.count(folder_name("Đã xử lý")) == 6

    again = pull(mctx)
    assert again.items == [] and again.ok
    assert len(submissions(mctx)) == 6


def test_the_same_sheet_from_the_districts_own_contact_is_judged_afresh(mctx, box):
    data = report_for("HBT", JUNE_30, FIGS)
    box.append(build_message(STRANGER, [("HBT.xlsx", data)]))
    [first] = pull(mctx).items
    assert first.result.status == "rejected"
    box.append(build_message("HBT@Example.org", [("HBT.xlsx", data)]))  # the contact, in capitals
    [second] = pull(mctx).items
    assert second.result.status == "accepted" and second.result.district == "HBT"
    box.append(build_message(STRANGER, [("HBT.xlsx", data)]))
    [third] = pull(mctx).items
    # the sender rule comes first: "already received" would tell a stranger that the district sent it
    assert third.result.status == "rejected" and codes_of(mctx, third.result.submission_id) == {REJECTION}
    assert figure_count(mctx) == len(FIGS)


def test_the_reception_time_is_the_servers_and_feeds_the_lateness_rule(mctx, box):
    friday_1650 = datetime(2023, 6, 30, 9, 50, tzinfo=UTC)  # 16:50 in Hà Nội, before the deadline
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS))]), when=friday_1650)
    [item] = pull(mctx).items
    assert item.result.received_at == friday_1650
    [sub] = submissions(mctx)
    assert sub.received_at.astimezone(UTC) == friday_1650


# ----------------------------------------------------------------------------------------- crash safety


def test_a_failure_between_storing_and_moving_never_ingests_twice(mctx, box):
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS)),
                                                ("HK.xlsx", report_for("HK", JUNE_30, FIGS))]))
    box.append(build_message("lb@example.org", [("LB.xlsx", report_for("LB", JUNE_30, FIGS))]))

    def lose_the_folder(_msg):
        # A real failure at the worst moment: the processed folder vanishes (another client deleted it),
        # so the server refuses the MOVE after the sheets of the first message are stored.
        box.delete_folder(folder_name("Đã xử lý"))

    broken = pull(mctx, [("mailbox", lambda c: pull_mailbox(c, before_move=lose_the_folder))])
    assert [e[0] for e in broken.source_errors] == ["mailbox"]
    assert "Không chuyển được thư" in broken.source_errors[0][1]
    assert [i.result.status for i in broken.items] == ["accepted", "rejected"]  # HK: sender rule
    assert box.count("INBOX") == 2  # nothing moved, nothing lost
    stored, figures = len(submissions(mctx)), figure_count(mctx)

    healed = pull(mctx)
    assert not healed.source_errors
    by_name = {i.name: i.result.status for i in healed.items}
    assert by_name == {"HM.xlsx": "duplicate", "HK.xlsx": "rejected", "LB.xlsx": "accepted"}
    assert len(submissions(mctx)) == stored + 1 and figure_count(mctx) == figures + len(FIGS)  # only LB is new
    assert box.count("INBOX") == 0 and box.count(folder_name("Đã xử lý")) == 2


def test_a_sheet_that_cannot_be_stored_keeps_its_message_for_the_next_pull(mctx, box):
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS))]))
    archive = mctx.settings.paths.archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_text("a file where the archive folder should be")  # a real disk-level failure
    [item] = pull(mctx).items
    assert item.result is None and item.error
    assert box.count("INBOX") == 1 and submissions(mctx) == []
    archive.unlink()
    [item] = pull(mctx).items
    assert item.result.status == "accepted" and box.count("INBOX") == 0


# ----------------------------------------------------------------------------------------- failures of the source


def test_an_unreachable_mailbox_is_an_error_of_that_source_and_the_inbox_is_still_pulled(cli, config_path,
                                                                                           monkeypatch):
    assert cli("init").exit_code == 0
    monkeypatch.setenv("TRACKER_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRACKER_IMAP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("TRACKER_IMAP_SECURITY", "none")
    monkeypatch.setenv("TRACKER_IMAP_USER", "cum-1@example.org")
    monkeypatch.setenv("TRACKER_IMAP_PASSWORD", "x")
    inbox = config_path.parent / "data" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "HBT.xlsx").write_bytes(report_for("HBT", JUNE_30, FIGS))
    old = time.time() - 60
    os.utime(inbox / "HBT.xlsx", (old, old))

    result = cli("pull")

    assert result.exit_code == 1
    assert "HBT.xlsx: đã chấp nhận (accepted)" in result.stdout
    assert "Không kết nối được hộp thư" in result.stderr and "connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_login_failure_is_an_error_of_that_source(ctx, box):
    settings = ctx.settings.model_copy(update={"mailbox": _mailbox(box, password="sai-mat-khau")})
    report = pull(Context(settings=settings, engine=ctx.engine))
    assert [name for name, _ in report.source_errors] == ["mailbox"]
    assert "Đăng nhập hộp thư" in report.source_errors[0][1] and not report.ok


def test_pull_through_the_cli_reads_the_mailbox_from_the_environment(cli, box, monkeypatch):
    assert cli("init").exit_code == 0
    for key, value in (("HOST", box.host), ("PORT", str(box.port)), ("SECURITY", "none"), ("USER", box.user),
                       ("PASSWORD", box.password)):
        monkeypatch.setenv(f"TRACKER_IMAP_{key}", value)
    box.append(build_message("hm@example.org", [(NAME_2231, report_for("HM", JUNE_30, FIGS))]))
    first = cli("pull")
    assert first.exit_code == 0, first.stderr
    assert f"[mailbox] {NAME_2231}: đã chấp nhận (accepted)" in first.stdout
    second = cli("pull")
    assert second.exit_code == 0 and second.stdout == ""
    assert box.count("Processed") == 1  # the processed folder of the sample config


def test_without_a_mailbox_host_the_source_is_off(ctx):
    assert not ctx.settings.mailbox.enabled
    assert list(pull_mailbox(ctx)) == []
    assert [name for name, _ in default_sources(ctx)] == ["inbox"]


# ----------------------------------------------------------------------------------------- replies


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def with_smtp(mctx: Context, smtp) -> Context:
    mail = mctx.settings.mail.model_copy(update=dict(host=HOST, port=smtp.port, security="none", user="",
                                                     timeout=5))
    return Context(settings=mctx.settings.model_copy(update={"mail": mail}), engine=mctx.engine)


def arrived(smtp) -> list:
    return [(tuple(r.rcpt_tos), r.message) for r in smtp.received]


def test_the_sender_gets_the_verdict_by_reply(mctx, box, smtp):
    ctx = with_smtp(mctx, smtp)
    box.append(build_message("hm@example.org", [(NAME_2231, report_for("HM", JUNE_30, FIGS))],
                             message_id="<hm-2@district>", sender_name="Văn thư Hoàng Mai"))
    box.append(build_message(STRANGER, [("HBT.xlsx", report_for("HBT", JUNE_30, FIGS))]))
    box.append(build_message("bd@example.org", [("BD.xlsx", report_for("BD", JUNE_30, {**FIGS, "agreements": 2.5}))]))

    pull(ctx)

    mails = arrived(smtp)
    assert len(mails) == 3
    receipt = next(m for to, m in mails if to == ("hm@example.org",))
    assert receipt["Subject"] == ("[Cụm thi đua số 1] Đã tiếp nhận báo cáo của LĐLĐ quận Hoàng Mai, "
                                  "số liệu đến 30/06/2023")
    assert receipt["In-Reply-To"] == "<hm-2@district>" and "<hm-2@district>" in receipt["References"]
    text = receipt.get_body(("plain",)).get_content()
    assert "Văn thư Hoàng Mai" in text and NAME_2231 in text and "ĐÃ TIẾP NHẬN" in text
    assert "Thu kinh phí công đoàn: 2.100,5 triệu đồng (ô Báo cáo!E13)" in text
    html = receipt.get_body(("html",)).get_content()
    assert "2.100,5" in html and "Thành lập CĐCS mới" in html
    # the stranger is told, the district is not bothered
    to_stranger = next(m for to, m in mails if to == (STRANGER,))
    assert "Người gửi không thuộc đơn vị" in to_stranger.get_body(("plain",)).get_content()
    # a bad sheet: the rejection notice with the annotated workbook, to the district and the sender
    rejection = next(m for to, m in mails if "bd@example.org" in to)
    files = [p.get_filename() for p in rejection.walk() if p.get_content_disposition() == "attachment"]
    assert len(files) == 1 and files[0].endswith(".xlsx")
    assert "Báo cáo!E10" in rejection.get_body(("plain",)).get_content()

    pull(ctx)
    assert len(smtp.received) == 3


def test_a_stranger_sending_a_sheet_received_before_learns_nothing_of_the_districts_upload(mctx, box, smtp):
    ctx = with_smtp(mctx, smtp)
    data = report_for("HM", JUNE_30, FIGS)
    box.append(build_message("hm@example.org", [(NAME_2231, data)], message_id="<hm-3@district>",
                             sender_name="Văn thư Hoàng Mai"))
    pull(ctx)
    box.append(build_message(STRANGER, [("bang-tinh.xlsx", data)], message_id="<la-3@x>"))

    [item] = pull(ctx).items

    assert item.result.status == "rejected" and codes_of(ctx, item.result.submission_id) == {REJECTION}
    to_stranger = [m for to, m in arrived(smtp) if to == (STRANGER,)]
    assert len(to_stranger) == 1  # the rejection notice; no receipt
    text = to_stranger[0].get_body(("plain",)).get_content()
    assert "Người gửi không thuộc đơn vị" in text and "Báo cáo!B4" in text
    for secret in ("đã nhận trước đó", "already received", NAME_2231, "hm@example.org", "Văn thư"):
        assert secret not in text and secret not in str(to_stranger[0]["Subject"]), secret
    assert figure_count(ctx) == len(FIGS)


def test_a_message_handled_again_after_a_failure_is_not_answered_twice(mctx, box, smtp):
    ctx = with_smtp(mctx, smtp)
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS))]))

    def lose_the_folder(_msg):
        box.delete_folder(folder_name("Đã xử lý"))

    pull(ctx, [("mailbox", lambda c: pull_mailbox(c, before_move=lose_the_folder))])
    assert len(smtp.received) == 1 and box.count("INBOX") == 1
    pull(ctx)
    assert len(smtp.received) == 1 and box.count("INBOX") == 0


def test_without_mail_configured_nothing_is_queued(mctx, box):
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS))]))
    pull(mctx)
    with mctx.session() as session:
        assert session.exec(select(models.OutboxMessage)).all() == []


def test_the_scheduled_pull_job_reads_the_mailbox_and_records_its_failure(cli, config_path, box, monkeypatch):
    from tracker.config import load_settings
    from tracker.context import open_context

    assert cli("init").exit_code == 0
    for key, value in (("HOST", box.host), ("PORT", str(box.port)), ("SECURITY", "none"), ("USER", box.user),
                       ("PASSWORD", box.password)):
        monkeypatch.setenv(f"TRACKER_IMAP_{key}", value)
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS))]))
    ran = cli("jobs", "run", "pull")
    assert ran.exit_code == 0, ran.stderr
    assert box.count("INBOX") == 0 and box.count("Processed") == 1

    monkeypatch.setenv("TRACKER_IMAP_PASSWORD", "sai-mat-khau")
    failed = cli("jobs", "run", "pull")
    assert failed.exit_code == 1
    assert "Đăng nhập hộp thư" in failed.stdout + failed.stderr
    with open_context(settings=load_settings(config_path, env={})).session() as session:
        runs = session.exec(select(models.JobRun).where(models.JobRun.job == "pull")
                            .order_by(models.JobRun.id)).all()
    assert [r.outcome for r in runs] == ["ok", "error"] and "Login to the mailbox" in runs[-1].error


def test_bounces_are_ignored_and_programs_get_no_answer(mctx, box, smtp):
    from tests.imap_server import bounce_of

    ctx = with_smtp(mctx, smtp)
    returned = build_message("cum-1@example.org", [("HM-danh-dau-loi.xlsx", report_for("HM", JUNE_30, FIGS))])
    box.append(bounce_of(returned))
    scripted = build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_23, FIGS))]).replace(
        b"MIME-Version", b"Auto-Submitted: auto-generated\r\nMIME-Version", 1)
    box.append(scripted)

    report = pull(ctx)

    assert [(i.name, i.result.status) for i in report.items] == [("HM.xlsx", "accepted")]  # only the script's
    assert smtp.received == []  # nobody answers a program
    assert box.count("INBOX") == 0 and box.count(folder_name("Đã xử lý")) == 2


def test_a_message_too_large_to_download_is_reported_and_set_aside(mctx, box, monkeypatch):
    import tracker.mailbox.imap as source

    monkeypatch.setattr(source, "MAX_MESSAGE_BYTES", 20_000)  # the real cap is 50 MB; a smaller one here
    box.append(build_message("hm@example.org", [("HM.xlsx", report_for("HM", JUNE_30, FIGS)),
                                                ("anh.png", os.urandom(40_000), "image/png")]))
    box.append(build_message("hk@example.org", [("HK.xlsx", report_for("HK", JUNE_30, FIGS))]))
    report = pull(mctx)
    [big, small] = report.items
    assert big.result is None and "quá lớn" in big.error and not report.ok
    assert small.result.status == "accepted"
    assert box.count("INBOX") == 0 and box.count(folder_name("Đã xử lý")) == 2


def test_a_self_assessment_by_mail_is_recognised_stored_and_answered_as_one(mctx, box, smtp):
    from tests.test_intake_assessment import filled
    from tracker.assessment.store import self_assessments
    from tracker.intake.assessment_template import unit_assessment_template

    ctx = with_smtp(mctx, smtp)
    data = filled(unit_assessment_template(ctx, "HM", 2023), {"2.1": 12, "2.2": 11, "T1": 1, "P1": 0})
    box.append(build_message("hm@example.org", [("Tự chấm điểm HM.xlsx", data)], message_id="<hm-tcd@district>"))
    box.append(build_message(STRANGER, [("HM.xlsx", data)]))
    pull(ctx)
    with ctx.session() as s:
        assert self_assessments(s, ctx.cluster_id, 2023)["HM"].scores["2.2"] == 11
    mails = arrived(smtp)
    receipt = next(m for to, m in mails if to == ("hm@example.org",))
    assert receipt["Subject"] == "[Cụm thi đua số 1] Đã tiếp nhận bảng tự chấm điểm năm 2023 của LĐLĐ quận Hoàng Mai"
    text = receipt.get_body(("plain",)).get_content()
    assert "ĐÃ TIẾP NHẬN — bảng tự chấm điểm năm 2023 — LĐLĐ quận Hoàng Mai" in text
    to_stranger = next(m for to, m in mails if to == (STRANGER,))
    assert "Người gửi không thuộc đơn vị" in to_stranger.get_body(("plain",)).get_content()
