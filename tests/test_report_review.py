"""The review pack, opened with the libraries that read each format, and the charts' glyphs."""

from __future__ import annotations

import dataclasses
import io
import warnings
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from tests.test_report_factories import sample_input
from tracker.config import Documents
from tracker.errors import TrackerError
from tracker.progress import compute, weekly_history
from tracker.reporting import charts
from tracker.reporting.data import ReportData
from tracker.reporting.narrative import draft
from tracker.reporting.review import ReviewPack, default_period, parse_period, render_review
from tracker.workflows.review import official_writer

VIETNAMESE = "Ứng Hòa – Mỹ Đức: ỹỷỵ ẵẳặ ữửự ốồổỗộ ĐđƯưƠơ"


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> ReviewPack:
    inp = sample_input(date(2023, 6, 30))
    history = tuple(weekly_history(inp))
    data = ReportData(progress=history[-1], history=history, rules=inp.rules, head_name="Cụm trưởng",
                      district_order=tuple(d.code for d in inp.districts))
    period = parse_period("2023-H1")
    return render_review(data, period, tmp_path_factory.mktemp("review"),
                         write_draft=official_writer(Documents(), period, data))


def test_periods_are_the_first_half_or_the_whole_year():
    h1, year = parse_period("2023-H1"), parse_period("2023")
    assert (h1.key, h1.as_of, h1.title) == ("2023-H1", date(2023, 6, 30), "sơ kết 6 tháng đầu năm 2023")
    assert (year.key, year.as_of, year.title) == ("2023", date(2023, 12, 31), "tổng kết năm 2023")
    with pytest.raises(TrackerError):
        parse_period("2023-Q3")
    with pytest.raises(TrackerError):
        parse_period("2022-H1", 2023)
    assert default_period(2023, date(2023, 7, 5)) == "2023-H1"
    assert default_period(2023, date(2024, 1, 5)) == "2023"


def test_the_pdf_is_a4_landscape_with_a_title_page_one_chart_per_page_and_the_ranking(pack):
    reader = PdfReader(pack.pdf)
    assert len(reader.pages) == 1 + len(pack.charts) + 1
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 841.9) < 2 and abs(height - 595.3) < 2  # A4 landscape, in points
    assert "Sơ kết 6 tháng đầu năm 2023" in reader.pages[0].extract_text()
    assert "Xếp hạng thi đua" in reader.pages[-1].extract_text()


def test_the_slides_have_a_title_one_chart_each_the_ranking_and_a_summary(pack):
    prs = Presentation(str(pack.pptx))
    slides = list(prs.slides)
    assert len(slides) == 1 + len(pack.charts) + 2
    pictures = [s for s in slides if any(sh.shape_type == 13 for sh in s.shapes)]
    assert len(pictures) == len(pack.charts)
    tables = [sh for s in slides for sh in s.shapes if sh.has_table]
    assert len(tables) == 1 and len(tables[0].table.rows) == 7
    for slide in slides:  # nothing sticks out of the slide
        for sh in slide.shapes:
            assert sh.left >= 0 and sh.top >= 0
            assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height
    closing = " ".join(sh.text_frame.text for sh in slides[-1].shapes if sh.has_text_frame)
    assert "Tóm tắt" in closing and "Dẫn đầu Cụm" in closing


def test_the_draft_names_districts_and_calls_out_exceeded_targets(pack):
    md = pack.draft_md.read_text(encoding="utf-8")
    doc = Document(str(pack.draft_docx))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Dự thảo báo cáo sơ kết 6 tháng đầu năm 2023" in md
    assert "BÁO CÁO\nSơ kết phong trào thi đua 6 tháng đầu năm 2023" in text  # the official layout
    for content in (md, text):
        assert "LĐLĐ quận Đống Đa (21/20 bản, đạt 105,0%" in content  # exceeded, with the numbers
        assert "4 đơn vị hoàn thành sớm so với kế hoạch là Hoàn Kiếm (28/04/2023), Hoàng Mai (12/05/2023), " \
               "Long Biên (19/05/2023) và Đống Đa (26/05/2023)" in content
        assert "Hoàn thành đúng hạn: LĐLĐ quận Hai Bà Trưng và LĐLĐ quận Ba Đình" in content
        assert "LĐLĐ quận Hai Bà Trưng 19 (63,3% chỉ tiêu)" in content
    # The overview lists the districts in the config's order, not the ranking's.
    assert "gồm 6 đơn vị: LĐLĐ quận Hai Bà Trưng, LĐLĐ quận Hoàng Mai, LĐLĐ quận Ba Đình" in md


def test_every_number_in_the_draft_comes_from_the_data():
    """Change one figure in the input and the draft changes with it: nothing is written in by hand."""
    inp = sample_input(date(2023, 6, 30))
    obs = tuple(dataclasses.replace(o, value=27.0) if (o.district, o.indicator, o.as_of) ==
                ("LB", "new_unions", date(2023, 6, 30)) else o for o in inp.observations)
    changed = dataclasses.replace(inp, observations=obs)
    before = draft(_data(inp), "sơ kết 6 tháng đầu năm 2023").text()
    after = draft(_data(changed), "sơ kết 6 tháng đầu năm 2023").text()
    assert "LĐLĐ quận Long Biên 16 (53,3% chỉ tiêu)" in before
    assert "LĐLĐ quận Long Biên 27 (90,0% chỉ tiêu)" in after and "Toàn Cụm thực hiện 92 CĐCS" in after


def _data(inp) -> ReportData:
    history = tuple(weekly_history(inp))
    return ReportData(progress=history[-1], history=history, rules=inp.rules)


def test_the_data_workbook_of_the_pack_matches_the_status_json(pack):
    js = pack.progress.to_json()
    ws = load_workbook(pack.workbook)["Xếp hạng"]
    got = {r[1]: (r[0], r[3]) for r in ws.iter_rows(min_row=2, max_row=7, values_only=True)}
    assert got == {d["code"]: (d["rank"], d["score"]) for d in js["districts"]}


def test_every_chart_is_a_png_named_uniquely_with_its_own_content_id(pack):
    assert len({c.path.name for c in pack.charts}) == len(pack.charts) == len({c.cid for c in pack.charts})
    for c in pack.charts:
        assert c.path.read_bytes()[:4] == b"\x89PNG"
    assert pack.inline_charts and all(f"cid:{c.cid}" in pack.html for c in pack.inline_charts)
    assert "<" not in pack.text


def test_vietnamese_text_renders_without_a_missing_glyph():
    inp = sample_input(date(2023, 6, 30))
    progress = compute(inp)
    renamed = dataclasses.replace(progress, districts=tuple(
        dataclasses.replace(d, name=f"LĐLĐ huyện {VIETNAMESE}") for d in progress.districts))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fig in (charts.percent_by_district(renamed, "new_unions"), charts.actual_vs_target(renamed, "agreements"),
                    charts.deadline_completion(renamed, "congresses"), charts.ranking(renamed)):
            _render(fig)


def _render(fig) -> None:
    with charts.style():
        fig.savefig(io.BytesIO(), format="png")  # a real Agg draw (Figure().canvas.draw() is a no-op)


def test_a_missing_glyph_would_fail_the_tests():
    """The control for the test above: a glyph DejaVu Sans lacks does raise under the project's settings."""
    inp = sample_input(date(2023, 6, 30))
    progress = compute(inp)
    renamed = dataclasses.replace(progress, districts=tuple(
        dataclasses.replace(d, name="河内") for d in progress.districts))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="Glyph"):
            _render(charts.ranking(renamed))


def test_a_cluster_with_no_sheets_yet_still_gets_a_readable_report(tmp_path):
    """Right after `tracker init`: every output is written and says there is no data, nothing crashes."""
    from tracker.reporting.weekly import render_weekly

    inp = dataclasses.replace(sample_input(date(2023, 3, 15)), observations=(), receipts=())
    history = tuple(weekly_history(inp))
    data = ReportData(progress=history[-1], history=history, rules=inp.rules)
    weekly = render_weekly(data, tmp_path / "weekly")
    assert "0/6 đơn vị đã báo cáo tuần này" in weekly.text and "chưa đơn vị nào hoàn thành" in weekly.text
    text = draft(data, "sơ kết 6 tháng đầu năm 2023").text()
    assert "Chưa có số liệu: LĐLĐ quận Hai Bà Trưng" in text


@pytest.mark.parametrize("lines", [9, 14])
def test_the_title_page_contents_never_run_into_the_footer(lines):
    from datetime import datetime

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from tracker.reporting.pdf import _title_page

    contents = [f"Biểu đồ số {n}: Thỏa ước lao động tập thể ký mới" for n in range(1, lines + 1)]
    fig = _title_page("Sơ kết 6 tháng đầu năm 2023", "Số liệu đến 30/06/2023", "Cụm thi đua số 1", contents,
                      datetime(2023, 7, 5, 8, 0))
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in fig.texts}
    footer = next(box for text, box in boxes.items() if text.startswith("Lập tự động"))
    for text, box in boxes.items():
        if text.startswith(tuple(f"{n}. " for n in range(1, lines + 1))):
            assert not box.overlaps(footer), text
