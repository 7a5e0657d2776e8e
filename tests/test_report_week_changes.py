"""The week's changes in the weekly e-mail and workbook, from real sheets ingested two weeks running, and
the amendments after a close (docs/outputs.md §3–§4, docs/closing.md §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from tests.intake_factory import report_for
from tests.test_status import add_sheet
from tracker import closing
from tracker.calendar import parse_period
from tracker.intake.ingest import ingest_bytes
from tracker.reporting.weekly import build_weekly

JUNE_23, JUNE_30 = date(2023, 6, 23), date(2023, 6, 30)
BASE = {"new_unions": 10, "agreements": 5, "congresses": 20, "new_members": 1000, "union_fees": 1000}
NOW = datetime(2023, 7, 8, 1, tzinfo=UTC)


def sheet(ctx, code: str, day: date, received: datetime, **figures):
    result = ingest_bytes(ctx, report_for(code, day, {**BASE, **figures}), f"{code} {day}.xlsx", received_at=received)
    assert result.status == "accepted", result.findings


def two_weeks(ctx):
    """Week 25 then week 26 of 2023: HK reaches its target (20), HM slips from on track to behind, LB rises
    and overtakes BD (score 0,442 against 0,437), which has sent nothing since 26/05; DD nothing at all."""
    w1, w2 = datetime(2023, 6, 23, 2, tzinfo=UTC), datetime(2023, 6, 30, 2, tzinfo=UTC)
    sheet(ctx, "BD", date(2023, 5, 26), datetime(2023, 5, 26, 2, tzinfo=UTC))
    sheet(ctx, "HK", JUNE_23, w1, new_unions=18)
    sheet(ctx, "HM", JUNE_23, w1, new_unions=17)
    sheet(ctx, "LB", JUNE_23, w1, new_unions=14)
    sheet(ctx, "HBT", JUNE_23, w1)
    sheet(ctx, "HK", JUNE_30, w2, new_unions=22)
    sheet(ctx, "HM", JUNE_30, w2, new_unions=17)
    sheet(ctx, "LB", JUNE_30, w2, new_unions=16, new_members=1800)
    sheet(ctx, "HBT", JUNE_30, w2, union_fees=1010)


@pytest.fixture
def weekly(ctx, tmp_path):
    two_weeks(ctx)
    return build_weekly(ctx, JUNE_30, tmp_path / "w26", now=NOW)


THIS_WEEK = [
    "LĐLĐ quận Hoàn Kiếm: Thành lập CĐCS mới 22/20 CĐCS (ngày 30/06/2023)",
    "LĐLĐ quận Hoàng Mai — Thành lập CĐCS mới: Đúng tiến độ → Chậm tiến độ",
    "LĐLĐ quận Long Biên — Phát triển đoàn viên mới: +800 người (bằng 30,8% chỉ tiêu)",
    "LĐLĐ quận Hoàn Kiếm — Thành lập CĐCS mới: +4 CĐCS (bằng 20,0% chỉ tiêu)",
    "LĐLĐ quận Long Biên — Thành lập CĐCS mới: +2 CĐCS (bằng 6,7% chỉ tiêu)",
    "LĐLĐ quận Ba Đình (số liệu gần nhất đến 26/05/2023, 5 tuần trước)",
    "LĐLĐ quận Đống Đa (chưa có báo cáo nào trong năm)",
]


def test_the_email_opens_with_the_weeks_highlights_in_text_and_html(weekly):
    text, html = weekly.text, weekly.html
    for line in THIS_WEEK:
        assert f"   - {line}\n" in text, line
        assert f"<li>{line}</li>" in html.replace("&gt;", ">"), line
    assert "bằng 0,2% chỉ tiêu" not in text  # HBT's +10 of 4.200 is the fourth rise: only three are shown
    # the block comes first: before the table and before the other highlights
    assert text.index("TRONG TUẦN") < text.index("TIẾN ĐỘ THEO ĐƠN VỊ") < text.index("ĐIỂM ĐÁNG CHÚ Ý")
    assert html.index(">Trong tuần</h3>") < html.index(">Hạng</th>") < html.index("Điểm đáng chú ý")
    assert "Số liệu sửa sau khi chốt" not in text and "Số liệu sửa sau khi chốt" not in html


def test_beside_each_actual_its_change_and_beside_each_rank_its_movement(weekly):
    text, html = weekly.text, weekly.html
    assert "Thành lập CĐCS mới: 16/30 CĐCS (53,3%) — Đúng tiến độ — trong tuần: +2" in text
    assert "Thành lập CĐCS mới: 17/35 CĐCS (48,6%) — Chậm tiến độ — trong tuần: —" in text
    assert "16<span style=\"font-size:11px;\"> (+2)</span>/30" in html
    moved = [d for d in weekly.progress.districts if d.rank_change]
    assert moved  # the week's figures reorder the ranking
    for d in moved:
        word = f"▲{d.rank_change}" if d.rank_change > 0 else f"▼{-d.rank_change}"
        assert f"{d.rank}. {d.name} ({word} so với tuần trước)" in text
        assert f"{word}</span>" in html
    assert "Thành lập CĐCS mới: 75/170 CĐCS (44,1%) — trong tuần: +6" in text  # HK +4, LB +2, others 0


def test_the_workbook_has_the_new_columns_and_the_blocks(weekly):
    wb = load_workbook(weekly.workbook)
    ws = wb["Chi tiết"]
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["Thay đổi trong tuần", "Cùng kỳ năm trước"]
    assert header[8] == "Tỷ lệ (%)"  # the columns before keep their places
    col = {name: n for n, name in enumerate(header)}
    rows = {(r[col["Mã đơn vị"]], r[col["Mã chỉ tiêu"]]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[("LB", "new_members")][col["Thay đổi trong tuần"]] == 800
    assert rows[("HM", "new_unions")][col["Thay đổi trong tuần"]] == 0
    assert rows[("DD", "new_unions")][col["Thay đổi trong tuần"]] is None
    change = ws.cell(row=2, column=col["Thay đổi trong tuần"] + 1)
    assert change.number_format == '+#,##0;-#,##0;"—"'  # +3, -2, and — for no change, as in the e-mail
    assert rows[("LB", "new_unions")][col["Cùng kỳ năm trước"]] is None
    summary = wb["Tổng hợp"]
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Trong tuần" in texts and "Thay đổi hạng" in texts
    for line in THIS_WEEK:
        assert f"• {line}" in texts, line
    moved = [d for d in weekly.progress.districts if d.rank_change]
    assert moved and all(("▲" if d.rank_change > 0 else "▼") + str(abs(d.rank_change)) in texts for d in moved)
    assert "Số liệu sửa sau khi chốt" not in texts


def test_last_years_figure_shows_in_the_workbook_and_the_totals(ctx, tmp_path):
    with ctx.session(write=True) as session:  # last year's figures come in through `history import`
        add_sheet(session, "LB", date(2022, 6, 30), {"new_unions": 9})
    two_weeks(ctx)
    report = build_weekly(ctx, JUNE_30, tmp_path / "w26", now=NOW)
    ws = load_workbook(report.workbook)["Chi tiết"]
    header = [c.value for c in ws[1]]
    lb = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "LB" and r[3] == "new_unions")
    assert lb[header.index("Cùng kỳ năm trước")] == 9
    assert "Thành lập CĐCS mới: 75/170 CĐCS (44,1%) — trong tuần: +6 — cùng kỳ năm trước: 9" in report.text
    assert "Cùng kỳ năm trước</td>" in report.html


def test_amendments_after_a_close_are_listed_with_the_reopen_hint(ctx, tmp_path):
    two_weeks(ctx)
    with ctx.session(write=True) as session:
        closing.close_period(session, ctx.settings, parse_period("2023-H1"), by="admin",
                             now=datetime(2023, 7, 3, 2, tzinfo=UTC))
    # LB corrects its 30/06 sheet after the close: an amendment of new_unions only
    sheet(ctx, "LB", JUNE_30, datetime(2023, 7, 4, 2, tzinfo=UTC), new_unions=18, new_members=1800)
    sheet(ctx, "LB", date(2023, 7, 7), datetime(2023, 7, 7, 2, tzinfo=UTC), new_unions=19, new_members=1800)
    report = build_weekly(ctx, date(2023, 7, 7), tmp_path / "w27", now=NOW)
    line = "LĐLĐ quận Long Biên — Thành lập CĐCS mới: 16 → 18 (kỳ 2023-H1, chốt đến 30/06/2023)"
    assert "SỐ LIỆU SỬA SAU KHI CHỐT" in report.text and f"   - {line}\n" in report.text
    assert 'tracker period reopen 2023-H1 --reason "…"' in report.text
    assert "Số liệu sửa sau khi chốt</h3>" in report.html and f"<li>{line}</li>" in report.html
    wb = load_workbook(report.workbook)
    cells = [[c.value for c in row] for row in wb["Tổng hợp"].iter_rows()]
    texts = [v for row in cells for v in row if isinstance(v, str)]
    assert "Số liệu sửa sau khi chốt" in texts
    [row] = [r for r in cells if "LĐLĐ quận Long Biên" in r and "Thành lập CĐCS mới" in r]
    assert [v for v in row if v is not None] == ["2023-H1", "LĐLĐ quận Long Biên", "Thành lập CĐCS mới",
                                                 datetime(2023, 6, 30), 16, 18]
    assert any("tracker period reopen 2023-H1" in t for t in texts)
    # once the head reopens the period, nothing is listed any more
    with ctx.session(write=True) as session:
        closing.reopen_period(session, "cum-1", parse_period("2023-H1"), reason="LB sửa số liệu", by="admin",
                              now=datetime(2023, 7, 8, tzinfo=UTC))
    again = build_weekly(ctx, date(2023, 7, 7), tmp_path / "w27b", now=NOW)
    assert "Số liệu sửa sau khi chốt" not in again.text


def test_the_review_packs_data_workbook_keeps_the_changes_but_not_the_trong_tuan_lists(ctx, tmp_path):
    from tracker.reporting import xlsx
    from tracker.reporting.source import gather

    two_weeks(ctx)
    path = xlsx.write_workbook(gather(ctx, JUNE_30), tmp_path / "review.xlsx", title="Sơ kết")
    wb = load_workbook(path)
    texts = [c.value for row in wb["Tổng hợp"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Trong tuần" not in texts and "Thay đổi hạng" in texts
    assert [c.value for c in wb["Chi tiết"][1]][-2:] == ["Thay đổi trong tuần", "Cùng kỳ năm trước"]
