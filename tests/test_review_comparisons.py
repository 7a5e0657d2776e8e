"""The review pack against the same period last year, and a closed period's pack (its snapshot, who
confirmed, amendments after the close): real sheets ingested through intake, the pack read back with the
libraries that read each format."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from docx import Document
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from tests.intake_factory import report_for
from tests.smtp_server import SmtpServer
from tests.test_mail_messages import smtp
from tests.test_status import add_sheet
from tracker import closing
from tracker.calendar import parse_period
from tracker.intake.ingest import ingest_bytes
from tracker.progress import Observation, ProgressInput, compute
from tracker.reporting.review_book import SHEET
from tracker.reporting.wording import change_percent, change_text, versus_last_year
from tracker.reporting.xlsx import SHEETS
from tracker.targets import register_targets
from tracker.workflows.review import build_review
from tracker.workflows.sending import review_subject, send_review

H1 = parse_period("2023-H1")
JUNE_30 = date(2023, 6, 30)
NOW = datetime(2023, 7, 5, 2, tzinfo=UTC)
FIGURES = {"new_unions": 18, "agreements": 11, "congresses": 40, "new_members": 1200, "union_fees": 2000}
LAST_YEAR = {"new_unions": 16, "agreements": 12, "congresses": 40, "new_members": 1000, "union_fees": 1800.5}


def received(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ingest(ctx, code: str, day: date, figures: dict, at: datetime | None = None) -> None:
    result = ingest_bytes(ctx, report_for(code, day, figures), f"{code} {day}.xlsx", received_at=at or received(day))
    assert result.status == "accepted", result.findings


def doc_text(path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def slide_texts(path) -> list[str]:
    out = []
    for slide in Presentation(str(path)).slides:
        parts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        parts += [c.text for sh in slide.shapes if sh.has_table for row in sh.table.rows for c in row.cells]
        out.append("\n".join(parts))
    return out


def sheet_rows(ws) -> list[tuple]:
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


# --- the pure part ------------------------------------------------------------------------------------


def test_the_change_against_last_year_is_a_percentage_of_last_years_figure_in_words():
    assert change_percent(18, 16) == 12.5 and change_percent(97, 100) == -3.0
    assert change_percent(5, None) is None and change_percent(5, 0) is None and change_percent(None, 5) is None
    assert (change_text(12.5), change_text(-3.0), change_text(0.04)) == ("tăng 12,5%", "giảm 3,0%", "bằng cùng kỳ")
    assert change_text(None) == "" and change_text(1234.56) == "tăng 1.234,6%"
    assert versus_last_year(12.5, 2023) == "tăng 12,5% so với cùng kỳ năm 2022"
    assert versus_last_year(0, 2023) == "bằng cùng kỳ năm 2022" and versus_last_year(None, 2023) == ""


def test_pinned_figures_replace_the_pairs_figures_from_the_pins_date_and_keep_the_earlier_weeks():
    at = datetime(2023, 7, 3, tzinfo=UTC)
    obs = (Observation("LB", "new_unions", date(2023, 6, 16), 12, at, 5),
           Observation("LB", "new_unions", date(2023, 6, 23), 14, at, 1),
           Observation("LB", "new_unions", JUNE_30, 20, at, 3),
           Observation("HK", "new_unions", JUNE_30, 9, at, 4))
    inp = ProgressInput("cum-1", "Cụm", 2023, JUNE_30, (), (), {}, obs, ())
    pinned = closing.pin_figures(inp, {("LB", "new_unions"): (15, date(2023, 6, 23), 2),
                                       ("HK", "new_unions"): (None, None, None)}, at)
    got = sorted((o.district, o.as_of, o.value) for o in pinned.observations)
    assert got == [("LB", date(2023, 6, 16), 12), ("LB", date(2023, 6, 23), 15)]
    assert [o.submission_id for o in pinned.observations if o.value == 15] == [2]
    assert compute(pinned).as_of == JUNE_30


# --- same period last year ------------------------------------------------------------------------------


@pytest.fixture
def two_years(ctx):
    """LB and HK reporting in 2022 and 2023, every sheet through intake: with 2022's targets registered, a
    2022 sheet is a figure of 2022 (docs/sheet-format.md)."""
    with ctx.session(write=True) as session:
        register_targets(session, "cum-1", 2022, {(c, k): 100 for c in ("LB", "HK") for k in FIGURES},
                         source="test")
    ingest(ctx, "LB", date(2022, 6, 30), LAST_YEAR)
    ingest(ctx, "HK", date(2022, 6, 24), {**LAST_YEAR, "new_unions": 10})
    ingest(ctx, "HK", date(2022, 7, 8), {**LAST_YEAR, "new_unions": 30})  # after the same day: not counted
    ingest(ctx, "LB", JUNE_30, FIGURES)
    ingest(ctx, "HK", JUNE_30, {**FIGURES, "new_unions": 12})
    return ctx


def test_the_pack_compares_each_indicator_with_the_same_day_last_year(two_years, tmp_path):
    pack = build_review(two_years, "2023-H1", tmp_path, now=NOW)
    total = pack.progress.total("new_unions")
    assert (total.actual, total.last_year_actual) == (30, 26)  # 18 + 12 against 16 + 10

    wb = load_workbook(pack.workbook)
    assert wb.sheetnames == [SHEETS[0], SHEET, *SHEETS[1:]]
    rows = sheet_rows(wb[SHEET])
    header = next(r for r in rows if r and r[0] == "Mã chỉ tiêu")
    at = {title: n for n, title in enumerate(header) if title}
    assert {"Thực hiện", "Cùng kỳ năm trước", "So với cùng kỳ (%)"} <= set(at)
    body = rows[rows.index(header) + 1:]
    cluster = next(r for r in body if r[0] == "new_unions" and r[at["Đơn vị"]] == "Toàn Cụm")
    assert (cluster[at["Thực hiện"]], cluster[at["Cùng kỳ năm trước"]]) == (30, 26)
    assert cluster[at["So với cùng kỳ (%)"]] == 15.38 and cluster[at["Nhận xét"]] == "tăng 15,4%"
    lb = next(r for r in body if r[0] == "agreements" and r[at["Mã đơn vị"]] == "LB")
    assert (lb[at["Thực hiện"]], lb[at["Cùng kỳ năm trước"]], lb[at["So với cùng kỳ (%)"]]) == (11, 12, -8.33)
    hbt = next(r for r in body if r[0] == "agreements" and r[at["Mã đơn vị"]] == "HBT")
    assert hbt[at["So với cùng kỳ (%)"]] is None and hbt[at["Nhận xét"]] == "Không có số liệu cùng kỳ"

    md = pack.draft_md.read_text(encoding="utf-8")
    assert "tăng 15,4% so với cùng kỳ năm 2022 (26 CĐCS; năm 2022 có số liệu của 2/6 đơn vị)" in md
    assert "bằng cùng kỳ năm 2022" in md  # congresses: 80 against 80
    assert "tăng 15,4% so với cùng kỳ năm 2022" in doc_text(pack.draft_docx)
    assert "Kết quả toàn Cụm so với cùng kỳ năm 2022" in doc_text(pack.draft_docx)
    slides = slide_texts(pack.pptx)
    compare = next(s for s in slides if s.startswith("So với cùng kỳ năm 2022"))
    assert "tăng 15,4%" in compare and "Cùng kỳ năm 2022" in compare
    assert "tăng 15,4% so với cùng kỳ" in slides[-1]  # the summary slide
    pages = PdfReader(pack.pdf).pages
    assert len(pages) == 1 + len(pack.charts) + 2 and "So với cùng kỳ năm 2022" in pages[0].extract_text()
    assert "tăng 15,4%" in pages[-1].extract_text() and "Xếp hạng thi đua" in pages[-2].extract_text()


def test_without_last_years_figures_the_pack_is_unchanged(ctx, tmp_path):
    ingest(ctx, "LB", JUNE_30, FIGURES)
    pack = build_review(ctx, "2023-H1", tmp_path, now=NOW)
    assert pack.progress.total("new_unions").last_year_actual is None
    assert load_workbook(pack.workbook).sheetnames == list(SHEETS)
    md = pack.draft_md.read_text(encoding="utf-8")
    assert "cùng kỳ" not in md and "cùng kỳ" not in doc_text(pack.draft_docx)
    assert not any("cùng kỳ" in s for s in slide_texts(pack.pptx))
    assert len(slide_texts(pack.pptx)) == 1 + len(pack.charts) + 2
    assert len(PdfReader(pack.pdf).pages) == 1 + len(pack.charts) + 1
    assert "chốt" not in md and "chốt" not in pack.text


# --- a closed period ----------------------------------------------------------------------------------


T_CLOSE = datetime(2023, 7, 3, 2, tzinfo=UTC)


@pytest.fixture
def closed(ctx):
    """H1 closed on 03/07 with LB at 18 CĐCS (confirmed by chị Lan); LB then sends 25, dated 30/06. HK
    confirmed, then corrected its figures before the close: it has not confirmed the frozen ones."""
    ingest(ctx, "LB", date(2023, 6, 23), {**FIGURES, "new_unions": 14})
    ingest(ctx, "LB", JUNE_30, FIGURES)
    ingest(ctx, "HK", JUNE_30, {**FIGURES, "new_unions": 11}, at=datetime(2023, 6, 30, 2, tzinfo=UTC))
    with ctx.session(write=True) as session:
        for code, by in (("LB", "chị Lan"), ("HK", "anh Tú")):
            closing.confirm(session, ctx.settings, H1, code, by=by, channel="web",
                            now=datetime(2023, 7, 1, 3, tzinfo=UTC))
    ingest(ctx, "HK", JUNE_30, {**FIGURES, "new_unions": 12}, at=datetime(2023, 7, 2, 2, tzinfo=UTC))
    with ctx.session(write=True) as session:
        closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE)
    ingest(ctx, "LB", JUNE_30, {**FIGURES, "new_unions": 25}, at=datetime(2023, 7, 4, 2, tzinfo=UTC))
    return ctx


def test_a_closed_periods_pack_shows_the_snapshot_and_says_so(closed, tmp_path):
    pack = build_review(closed, "2023-H1", tmp_path, now=NOW)
    assert pack.progress.district("LB").indicator("new_unions").actual == 18  # not 25: arrived after the close
    assert pack.progress.total("new_unions").actual == 30

    said = "Số liệu chốt ngày 30/06/2023"
    md = pack.draft_md.read_text(encoding="utf-8")
    assert said in md and "chị Lan" in md and "LĐLĐ quận Long Biên – chị Lan, ngày 01/07/2023" in md
    assert "1 bảng tính sửa số liệu sau khi chốt, không tính vào tài liệu này." in md
    assert "Đơn vị đã xác nhận số liệu (1/6)" in md and "anh Tú" not in md
    assert "Chưa xác nhận: " in md and "LĐLĐ quận Hoàn Kiếm" in md.split("Chưa xác nhận: ")[1]
    docx = doc_text(pack.draft_docx)
    assert "số liệu chốt ngày 30/06/2023" in docx and "chị Lan" in docx
    slides = slide_texts(pack.pptx)
    assert said in slides[0] and "chị Lan" in slides[0] and "sửa số liệu sau khi chốt" in slides[0]
    summary = sheet_rows(load_workbook(pack.workbook)[SHEETS[0]])
    texts = [r[0] for r in summary[:8] if r and isinstance(r[0], str)]
    assert any(t.startswith(said) for t in texts) and any("chị Lan" in t for t in texts)
    data = sheet_rows(load_workbook(pack.workbook)[SHEETS[4]])
    assert not any(25 in r for r in data)  # the amendment is not among the pack's figures
    assert said in pack.text and "chị Lan" in pack.text and said in pack.html
    title_page = PdfReader(pack.pdf).pages[0].extract_text()
    assert said in title_page and "Số liệu được chốt lúc 09:00 ngày 03/07/2023" in title_page


def test_a_period_closed_as_of_an_earlier_day_makes_its_pack_as_of_that_day(ctx, tmp_path):
    ingest(ctx, "LB", date(2023, 6, 23), {**FIGURES, "new_unions": 14})
    ingest(ctx, "LB", JUNE_30, FIGURES)
    with ctx.session(write=True) as session:
        closing.close_period(session, ctx.settings, H1, as_of=date(2023, 6, 23), by="admin", now=T_CLOSE)
    pack = build_review(ctx, "2023-H1", tmp_path, now=NOW)
    assert pack.as_of == date(2023, 6, 23) and pack.progress.district("LB").indicator("new_unions").actual == 14
    assert pack.subject == review_subject(ctx, "2023-H1") and pack.subject.endswith("(số liệu đến 23/06/2023)")
    assert "Số liệu chốt ngày 23/06/2023" in pack.draft_md.read_text(encoding="utf-8")
    assert "Chưa đơn vị nào xác nhận số liệu." in pack.text


def test_a_reopened_period_is_open_again_and_its_pack_has_the_figures_now(closed, tmp_path):
    with closed.session(write=True) as session:
        closing.reopen_period(session, "cum-1", H1, reason="LB sửa số liệu", by="admin", now=NOW)
    pack = build_review(closed, "2023-H1", tmp_path, now=NOW)
    assert pack.progress.district("LB").indicator("new_unions").actual == 25
    assert "chốt" not in pack.draft_md.read_text(encoding="utf-8")


@pytest.fixture
def server():
    s = SmtpServer().start()
    yield s
    s.stop()


@pytest.mark.slow
def test_send_review_of_a_closed_period_says_so_in_the_email(closed, server):
    ctx = smtp(closed, server)
    report = send_review(ctx, "2023-H1", now=NOW)
    assert report.ok
    [got] = server.received
    msg = got.message
    assert msg["Subject"] == review_subject(ctx, "2023-H1") == (
        "[Cụm thi đua số 1] Tài liệu sơ kết 6 tháng đầu năm 2023 (số liệu đến 30/06/2023)")
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    for body in (text, html):
        assert "Số liệu chốt ngày 30/06/2023" in body and "chị Lan" in body
        assert "1 bảng tính sửa số liệu sau khi chốt, không tính vào tài liệu này." in body


def test_report_review_of_a_closed_period_says_so_on_stderr(closed, cli, tmp_path):
    result = cli("report", "review", "--period", "2023-H1", "-o", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.stderr
    assert "Kỳ 2023-H1 đang chốt: tài liệu dùng số liệu chốt ngày 30/06/2023" in result.stderr
    assert "1 bảng tính sửa số liệu sau khi chốt không được tính" in result.stderr
    assert any(line.endswith(".pdf") for line in result.stdout.splitlines())


def test_last_years_figures_imported_after_the_close_count_in_the_closed_pack(closed, tmp_path):
    with closed.session(write=True) as session:
        add_sheet(session, "LB", date(2022, 6, 30), LAST_YEAR, received=datetime(2023, 7, 10, tzinfo=UTC))
    pack = build_review(closed, "2023-H1", tmp_path, now=NOW)
    lb = pack.progress.district("LB").indicator("new_unions")
    assert (lb.actual, lb.last_year_actual) == (18, 16)  # the frozen figure, against last year's
    assert "tăng 87,5% so với cùng kỳ năm 2022 (16 CĐCS; năm 2022 có số liệu của 1/6 đơn vị)" in (
        pack.draft_md.read_text(encoding="utf-8"))  # the cluster: 18 + 12 against LB's 16


def test_a_pack_of_last_year_lists_last_years_sheets_in_its_data_sheet(two_years, tmp_path):
    pack = build_review(two_years, "2022-H1", tmp_path, now=NOW)
    assert pack.as_of == date(2022, 6, 30) and pack.progress.total("new_unions").actual == 26
    data = sheet_rows(load_workbook(pack.workbook)[SHEETS[4]])
    header = next(r for r in data if "Luỹ kế từ đầu năm" in r)
    at = header.index("Luỹ kế từ đầu năm")
    assert sorted(r[at] for r in data[data.index(header) + 1:] if r[0] and r[at] in (16, 10)) == [10, 16]
    assert SHEET not in load_workbook(pack.workbook).sheetnames  # no 2021 figures to compare with


def test_the_comparison_sheet_says_why_a_change_is_missing():
    from types import SimpleNamespace as Row

    from tracker.reporting.review_book import _remark

    assert _remark(Row(actual=5, last_year=None, change=None)) == "Không có số liệu cùng kỳ"
    assert _remark(Row(actual=None, last_year=4, change=None)) == "Chưa có số liệu năm nay"
    assert _remark(Row(actual=3, last_year=0, change=None)) == "Cùng kỳ bằng 0"
    assert _remark(Row(actual=9, last_year=8, change=12.5)) == "tăng 12,5%"
