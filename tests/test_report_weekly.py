"""The weekly report: workbook, charts, e-mail body, as the cluster head receives them."""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_report_factories import sample_input
from tracker.progress import weekly_history
from tracker.reporting.data import ReportData
from tracker.reporting.weekly import WeeklyReport, render_weekly
from tracker.reporting.wording import cluster_short_name, weekly_subject
from tracker.reporting.xlsx import SHEETS


@pytest.fixture(scope="module")
def weekly(tmp_path_factory) -> WeeklyReport:
    inp = sample_input(date(2023, 6, 30))
    history = tuple(weekly_history(inp))
    data = ReportData(progress=history[-1], history=history, rules=inp.rules, head_name="Cụm trưởng")
    return render_weekly(data, tmp_path_factory.mktemp("weekly"))


def test_the_subject_names_the_cluster_week_and_date():
    name = "Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội"
    assert weekly_subject(name, date(2023, 6, 30)) == \
        "[Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 (số liệu đến 30/06/2023)"
    # ISO week: 1 January 2023 is a Sunday, in week 52 of 2022.
    assert "tuần 52/2022" in weekly_subject(name, date(2023, 1, 1))


@pytest.mark.parametrize("name, short", [
    ("Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội", "Cụm thi đua số 1"),
    ("Cụm thi đua số 2 – LĐLĐ tỉnh Bắc Ninh", "Cụm thi đua số 2"),
    ("Cụm thi đua Khối doanh nghiệp", "Cụm thi đua Khối doanh nghiệp"),
    ("Cum thi dua so 3-LDLD", "Cum thi dua so 3-LDLD"),  # a hyphen inside a word is not a separator
])
def test_the_short_cluster_name_is_the_part_before_the_dash(name, short):
    assert cluster_short_name(name) == short


def test_the_workbook_has_the_five_sheets_and_numbers_equal_the_status_json(weekly):
    wb = load_workbook(weekly.workbook)
    assert wb.sheetnames == list(SHEETS)
    js = weekly.progress.to_json()
    ws = wb["Chi tiết"]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) for name in header}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(len(d["indicators"]) for d in js["districts"])
    expected = {(d["code"], i["key"]): (i, d) for d in js["districts"] for i in d["indicators"]}
    for row in rows:
        i, d = expected[(row[col["Mã đơn vị"]], row[col["Mã chỉ tiêu"]])]
        assert row[col["Thực hiện"]] == i["actual"]
        assert row[col["Chỉ tiêu đăng ký"]] == i["target"]
        assert row[col["Tỷ lệ (%)"]] == i["percent"]
        assert row[col["Cần đạt đến nay"]] == i["expected"]
        assert row[col["Dự báo (theo nhịp hiện tại)"]] == i["projected"]
        assert row[col["Hạng"]] == d["rank"]
        assert isinstance(row[col["Thực hiện"]], int | float)  # a number, not text
    ranking = {r[1]: r for r in wb["Xếp hạng"].iter_rows(min_row=2, values_only=True) if r[1]}
    for d in js["districts"]:
        assert ranking[d["code"]][0] == d["rank"] and ranking[d["code"]][3] == d["score"]


def test_the_workbook_is_formatted_for_reading_and_printing(weekly):
    wb = load_workbook(weekly.workbook)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.freeze_panes is not None
    summary, detail = wb["Tổng hợp"], wb["Chi tiết"]
    assert len(summary._charts) == 2 and len(wb["Xếp hạng"]._charts) == 1  # native Excel charts
    assert summary.conditional_formatting and detail.conditional_formatting
    assert detail["I2"].number_format == '0.0"%"' and detail["G2"].number_format == "#,##0"
    texts = " ".join(str(c.value) for row in summary.iter_rows() for c in row if isinstance(c.value, str))
    assert "Cách đọc:" in texts and "nộp muộn" in texts


def test_the_email_body_is_small_html_with_charts_by_content_id(weekly):
    html = weekly.html
    assert len(html.encode()) < 100_000
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert cids == [c.cid for c in weekly.charts] and len(set(cids)) == len(cids)
    assert len({c.path.name for c in weekly.charts}) == len(weekly.charts)
    assert "data:" not in html and "<style" not in html  # inline styles only: mail clients drop <style>
    assert "Ba Đình" in html and "Chưa báo cáo tuần này" in html
    assert unicodedata.is_normalized("NFC", html) and unicodedata.is_normalized("NFC", weekly.text)


def test_the_plain_text_is_a_real_alternative_not_the_html_source(weekly):
    text = weekly.text
    assert "<" not in text and "style=" not in text
    assert "Đơn vị chưa báo cáo tuần này" in text and "LĐLĐ quận Ba Đình" in text
    assert "Nộp báo cáo muộn" in text and "LĐLĐ quận Hoàn Kiếm" in text
    assert "21/20 bản (105,0%" in text  # Đống Đa exceeded its agreements target
    assert "Cách đọc:" in text


def test_every_output_file_exists_and_charts_are_pngs(weekly):
    for path in weekly.paths:
        assert Path(path).is_file() and path.stat().st_size > 0
    for chart in weekly.charts:
        assert chart.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert weekly.period == "2023-W26"
    assert weekly.attachments[0] == weekly.workbook


C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _charts(workbook: Path) -> dict[str, ET.Element]:
    """Each native chart of the written workbook, by its title, as the XML an office program reads."""
    charts = {}
    with zipfile.ZipFile(workbook) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/chart") and name.endswith(".xml"):
                root = ET.fromstring(z.read(name))
                title = "".join(t.text or "" for t in root.iter(f"{A}t"))
                charts[title] = root
    return charts


def _flags(labels: ET.Element) -> dict[str, str | None]:
    return {flag: (el.get("val") if (el := labels.find(f"{C}{flag}")) is not None else None)
            for flag in ("showVal", "showCatName", "showSerName", "showLegendKey", "showPercent")}


def test_the_ranking_chart_labels_each_bar_with_its_value_only(weekly):
    charts = _charts(weekly.workbook)
    assert set(charts) == {"Tỷ lệ thực hiện so với chỉ tiêu (%)", "Tiến độ toàn Cụm theo tuần (%)", "Điểm thi đua"}
    labels = list(charts["Điểm thi đua"].iter(f"{C}dLbls"))
    assert labels, "the ranking chart shows each district's score on its bar"
    for dlbls in labels:  # written out, not left to LibreOffice's defaults (which show name and category)
        assert _flags(dlbls) == {"showVal": "1", "showCatName": "0", "showSerName": "0", "showLegendKey": "0",
                                 "showPercent": "0"}


def test_no_other_native_chart_labels_its_bars_with_names(weekly):
    for title, chart in _charts(weekly.workbook).items():
        for dlbls in chart.iter(f"{C}dLbls"):
            flags = _flags(dlbls)
            assert flags["showCatName"] == flags["showSerName"] == "0", (title, flags)
