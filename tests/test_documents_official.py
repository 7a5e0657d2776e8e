"""Official documents (docs/outputs.md §10): the .docx is checked as a file — page, margins, fonts, the
header table, the date line, the page-number field, the signature block and ``Nơi nhận`` — and the review
pack's draft report is opened by LibreOffice and turned into a PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from tests.conftest import SAMPLE_CONFIG
from tests.test_report_factories import sample_input
from tracker.config import ConfigError, load_settings
from tracker.documents.official import (
    Annex,
    DocumentKind,
    Heading,
    Item,
    OfficialDocument,
    Paragraph,
    Table,
    date_line,
    numbered,
    roman,
    write_official,
)
from tracker.progress import weekly_history
from tracker.reporting.data import ReportData
from tracker.reporting.narrative import annex_tables, draft
from tracker.reporting.review import parse_period, render_review
from tracker.workflows.review import official_report, official_writer

TNR = "Times New Roman"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ---------------------------------------------------------------------------------------- date line


@pytest.mark.parametrize(("day", "expected"), [
    (date(2023, 7, 5), "Hà Nội, ngày 05 tháng 7 năm 2023"),
    (date(2024, 1, 1), "Hà Nội, ngày 01 tháng 01 năm 2024"),
    (date(2024, 2, 9), "Hà Nội, ngày 09 tháng 02 năm 2024"),
    (date(2024, 3, 10), "Hà Nội, ngày 10 tháng 3 năm 2024"),
    (date(2023, 12, 31), "Hà Nội, ngày 31 tháng 12 năm 2023"),
])
def test_the_date_line_puts_a_zero_before_days_below_10_and_the_months_1_and_2(day, expected):
    assert date_line("Hà Nội", day) == expected


def test_an_unknown_day_or_place_is_left_to_fill_in():
    assert re.fullmatch(r"Hà Nội, ngày\s+tháng\s+năm\s+", date_line("Hà Nội", None))
    assert date_line("", date(2023, 7, 5)) == "[...], ngày 05 tháng 7 năm 2023"


def test_headings_are_numbered_i_ii_and_1_2_restarting_under_each_part():
    blocks = (Heading("Kết quả"), Heading("Khái quát", 2), Heading("Xếp hạng", 2), Item("một"),
              Heading("Phương hướng"), Heading("Nhiệm vụ", 2))
    assert [text for _, text in numbered(blocks)] == [
        "I. KẾT QUẢ", "1. Khái quát", "2. Xếp hạng", "- một", "II. PHƯƠNG HƯỚNG", "1. Nhiệm vụ"]
    assert [roman(n) for n in (1, 4, 9, 14, 40)] == ["I", "IV", "IX", "XIV", "XL"]


# ------------------------------------------------------------------------------------------- config


def test_the_sample_config_holds_cluster_one_s_documents_settings():
    d = load_settings(SAMPLE_CONFIG, env={}).documents
    assert (d.issuer_parent, d.issuer, d.place, d.number_code) == (
        "LĐLĐ THÀNH PHỐ HÀ NỘI", "CỤM THI ĐUA SỐ 1", "Hà Nội", "BC-CTĐ1")
    assert (d.signer_on_behalf, d.signer_title, d.signer_name) == ("TM. CỤM THI ĐUA SỐ 1", "CỤM TRƯỞNG", "")
    assert d.recipients == ["Thường trực LĐLĐ Thành phố", "Các đơn vị trong Cụm"]


def _config(tmp_path: Path, documents: str | None) -> Path:
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    start, end = text.index("[documents]"), text.index("[schedule]")
    path = tmp_path / "config.toml"
    path.write_text(text[:start] + (documents or "") + text[end:], encoding="utf-8")
    return path


def test_without_a_documents_section_the_issuer_is_the_cluster_s_short_name(tmp_path):
    d = load_settings(_config(tmp_path, None), env={}).documents
    assert d.issuer == "CỤM THI ĐUA SỐ 1" and d.issuer_parent == "" and d.recipients == []
    assert d.signer_title == "CỤM TRƯỞNG" and d.number_code == "BC"


@pytest.mark.parametrize(("section", "key", "vi_fragment"), [
    ('[documents]\nnumber_code = "12/BC"\n', "documents.number_code", "không có dấu cách"),
    ('[documents]\nrecipients = ["Các đơn vị", "Lưu: VT."]\n', "documents.recipients", "Lưu: VT."),
    ('[documents]\nrecipients = [" "]\n', "documents.recipients", "để trống"),
    ('[documents]\nsigner = "X"\n', "documents.signer", "không được hỗ trợ"),
])
def test_a_bad_documents_setting_names_its_key(tmp_path, section, key, vi_fragment):
    with pytest.raises(ConfigError) as info:
        load_settings(_config(tmp_path, section + "\n"), env={})
    assert info.value.key == key and vi_fragment in info.value.vi


def test_recipients_lose_the_dash_and_semicolon_the_layout_adds(tmp_path):
    d = load_settings(_config(tmp_path, '[documents]\nrecipients = ["- Các đơn vị trong Cụm;"]\n\n'), env={})
    assert d.documents.recipients == ["Các đơn vị trong Cụm"]


# ------------------------------------------------------------------------------------ the .docx file

SETTINGS = load_settings(SAMPLE_CONFIG, env={}).documents
SAMPLE = OfficialDocument(
    DocumentKind.REPORT, "Sơ kết phong trào thi đua 6 tháng đầu năm 2023", date(2023, 7, 5),
    (Paragraph("Thực hiện [...], Cụm thi đua số 1 báo cáo như sau:"), Heading("Kết quả thực hiện"),
     Heading("Khái quát", 2), Paragraph("Cụm gồm 6 đơn vị."), Item("Vượt chỉ tiêu: LĐLĐ quận Đống Đa."),
     Heading("Phương hướng, nhiệm vụ 6 tháng cuối năm 2023"), Paragraph("[...]")),
    annexes=(Annex("Số liệu thi đua", (Table(("TT", "Đơn vị", "Số liệu"), (("1", "LĐLĐ quận Đống Đa", "21"),
                                                                              ("", "Toàn Cụm", "21")),
                                             title="Bảng 1. Kết quả", emphasis=(1,)),), landscape=True),))


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory) -> Path:
    return write_official(SAMPLE, SETTINGS, tmp_path_factory.mktemp("official") / "report.docx")


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


def _size(run, paragraph) -> float | None:
    size = run.font.size or paragraph.style.font.size
    return size.pt if size else None


def _close(length, mm: float) -> bool:
    return abs(length - Mm(mm)) < Mm(0.5)


def test_the_pages_are_a4_with_the_decree_s_margins_and_a_landscape_annex(sample_docx):
    doc = Document(str(sample_docx))
    body, annex = doc.sections
    assert body.orientation == WD_ORIENT.PORTRAIT
    assert _close(body.page_width, 210) and _close(body.page_height, 297)
    assert annex.orientation == WD_ORIENT.LANDSCAPE
    assert _close(annex.page_width, 297) and _close(annex.page_height, 210)
    for s in doc.sections:  # in mm to 0.1 (Word keeps twentieths of a point: 20 mm is 20.003 mm)
        top, bottom, left, right = (round(m.mm, 1) for m in (s.top_margin, s.bottom_margin, s.left_margin,
                                                            s.right_margin))
        assert 20 <= top <= 25 and 20 <= bottom <= 25 and 30 <= left <= 35 and 15 <= right <= 20


def test_times_new_roman_is_named_everywhere_and_no_theme_font_or_colour_is_left(sample_docx):
    doc = Document(str(sample_docx))
    for name in ("Normal", "Body Text", "Heading 1", "Heading 2", "Header", "Table Grid"):
        assert doc.styles[name].font.name == TNR, name
    parts = _parts(sample_docx)
    styles = parts["word/styles.xml"]
    defaults = re.search(r"<w:rPrDefault>.*?<w:rFonts ([^>]*)/>", styles, re.S).group(1)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        assert f'w:{attr}="{TNR}"' in defaults
    for name, xml in parts.items():
        if name.startswith("word/") and name not in ("word/theme/theme1.xml", "word/numbering.xml"):  # text parts
            assert not re.search(r"w:(ascii|hAnsi|eastAsia)Theme=|w:cstheme=", xml), name
            assert not re.search(r'<w:color [^>]*w:themeColor|<w:color w:val="(?!000000)', xml), name  # black
            named = " ".join(re.findall(r"<w:rFonts ([^>]*)/>", xml))
            fonts = set(re.findall(r'w:(?:ascii|hAnsi|eastAsia|cs)="([^"]+)"', named))
            assert fonts <= {TNR}, (name, fonts)
    assert 'w:lang w:val="vi-VN"' in styles


def test_the_header_table_has_issuer_number_national_title_and_date_in_their_formats(sample_docx):
    doc = Document(str(sample_docx))
    header = doc.tables[0]
    assert 'w:val="nil"' in header._tbl.tblPr.xml  # borderless
    (left, right), (number, place) = header.rows[0].cells, header.rows[1].cells
    lines = [(p.text, p.runs[0].bold, _size(p.runs[0], p)) for p in left.paragraphs if p.runs]
    assert lines == [("LĐLĐ THÀNH PHỐ HÀ NỘI", False, 13), ("CỤM THI ĐUA SỐ 1", True, 13)]
    lines = [(p.text, p.runs[0].bold, _size(p.runs[0], p)) for p in right.paragraphs if p.runs]
    assert lines[0][0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and lines[0][1] and 12 <= lines[0][2] <= 13
    assert lines[1][0] == "Độc lập - Tự do - Hạnh phúc" and lines[1][1] and 13 <= lines[1][2] <= 14
    for cell in (left, right):  # the rule under the issuer and under the motto
        assert sum("<w:pBdr>" in p._p.xml for p in cell.paragraphs) == 1
    (n,) = number.paragraphs
    assert n.text == "Số:     /BC-CTĐ1" and _size(n.runs[0], n) == 13
    (d,) = place.paragraphs
    assert d.text == "Hà Nội, ngày 05 tháng 7 năm 2023"
    assert all(r.italic for r in d.runs) and 13 <= _size(d.runs[0], d) <= 14
    for p in (*left.paragraphs, *right.paragraphs, n, d):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER or not p.text  # text centred; rules centred by indents


def test_the_title_and_summary_are_centred_bold_and_the_body_justified_with_an_indent(sample_docx):
    doc = Document(str(sample_docx))
    texts = [p.text for p in doc.paragraphs]
    title = doc.paragraphs[texts.index("BÁO CÁO")]
    summary = doc.paragraphs[texts.index("Sơ kết phong trào thi đua 6 tháng đầu năm 2023")]
    for p in (title, summary):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER and all(r.bold for r in p.runs)
        assert 13 <= _size(p.runs[0], p) <= 14
    body = [p for p in doc.paragraphs if p.style.name == "Body Text"]
    assert [p.text for p in body][:4] == ["Thực hiện [...], Cụm thi đua số 1 báo cáo như sau:",
                                          "Cụm gồm 6 đơn vị.", "- Vượt chỉ tiêu: LĐLĐ quận Đống Đa.", "[...]"]
    fmt = doc.styles["Body Text"].paragraph_format
    assert fmt.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY and Cm(1) <= fmt.first_line_indent <= Cm(1.27)
    assert fmt.space_after >= Pt(6) and 13 <= doc.styles["Normal"].font.size.pt <= 14
    for p in body:  # the style's layout is not overridden, and "- " lines are not Word lists
        assert p.alignment is None and p.paragraph_format.first_line_indent is None
        assert "<w:numPr>" not in p._p.xml
    headings = [(p.text, p.style.name) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [("I. KẾT QUẢ THỰC HIỆN", "Heading 1"), ("1. Khái quát", "Heading 2"),
                        ("II. PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM 2023", "Heading 1")]
    assert doc.styles["Heading 1"].font.bold and doc.styles["Heading 2"].font.bold


def test_marked_places_are_highlighted_so_nobody_signs_them_unfilled(sample_docx):
    doc = Document(str(sample_docx))
    marked = [r for p in doc.paragraphs for r in p.runs if r.text == "[...]"]
    assert len(marked) == 2 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in marked)


def test_page_numbers_are_a_centred_page_field_in_the_top_margin_from_page_two(sample_docx):
    doc = Document(str(sample_docx))
    body, annex = doc.sections
    assert body.different_first_page_header_footer
    assert body.first_page_header.is_linked_to_previous is False
    first = body.first_page_header._element.xml
    assert "fldChar" not in first and not "".join(p.text for p in body.first_page_header.paragraphs).strip()
    (p,) = body.header.paragraphs
    assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
    instructions = [e.text.strip() for e in p._p.iter(f"{W}instrText")]
    kinds = [e.get(qn("w:fldCharType")) for e in p._p.iter(f"{W}fldChar")]
    assert instructions == ["PAGE"] and kinds == ["begin", "separate", "end"]
    assert annex.header.is_linked_to_previous and not annex.different_first_page_header_footer


def test_the_signature_block_and_recipients_sit_side_by_side(sample_docx):
    doc = Document(str(sample_docx))
    sign = doc.tables[1]
    assert 'w:val="nil"' in sign._tbl.tblPr.xml and "<w:cantSplit/>" in sign.rows[0]._tr.xml
    left, right = sign.rows[0].cells
    to = left.paragraphs
    assert to[0].text == "Nơi nhận:" and to[0].runs[0].bold and to[0].runs[0].italic
    assert _size(to[0].runs[0], to[0]) == 12
    assert [p.text for p in to[1:]] == ["- Thường trực LĐLĐ Thành phố;", "- Các đơn vị trong Cụm;", "- Lưu: VT."]
    assert all(_size(p.runs[0], p) == 11 for p in to[1:])
    signer = [p for p in right.paragraphs if p.text]
    assert [p.text for p in signer[:2]] == ["TM. CỤM THI ĐUA SỐ 1", "CỤM TRƯỞNG"]
    assert all(p.runs[0].bold for p in signer)
    assert re.fullmatch(r"…+", signer[2].text)  # no name configured: a line to fill in
    assert signer[2].paragraph_format.space_before >= Pt(48)  # room to sign


def test_a_configured_signer_name_and_no_parent_body(tmp_path):
    settings = SETTINGS.model_copy(update={"signer_name": "Nguyễn Thị Hà", "issuer_parent": "",
                                           "signer_on_behalf": ""})
    doc = Document(str(write_official(SAMPLE, settings, tmp_path / "x.docx")))
    left = doc.tables[0].rows[0].cells[0]
    assert [p.text for p in left.paragraphs if p.text] == ["CỤM THI ĐUA SỐ 1"]
    signer = [p.text for p in doc.tables[1].rows[0].cells[1].paragraphs if p.text]
    assert signer == ["CỤM TRƯỞNG", "Nguyễn Thị Hà"]


def test_the_annex_starts_on_its_own_page_with_its_heading_and_a_repeating_table_header(sample_docx):
    doc = Document(str(sample_docx))
    texts = [p.text for p in doc.paragraphs]
    at = texts.index("Phụ lục")
    assert texts[at + 1] == "SỐ LIỆU THI ĐUA"
    assert texts[at + 2] == "(Kèm theo Báo cáo số      /BC-CTĐ1 ngày 05 tháng 7 năm 2023)"
    heading = doc.paragraphs[at]
    assert heading.alignment == WD_ALIGN_PARAGRAPH.CENTER and heading.runs[0].bold
    table = doc.tables[2]
    assert table.style.name == "Table Grid" and "<w:tblHeader/>" in table.rows[0]._tr.xml
    assert [c.text for c in table.rows[0].cells] == ["TT", "Đơn vị", "Số liệu"]
    total = table.rows[2].cells[1].paragraphs[0]
    assert total.text == "Toàn Cụm" and total.runs[0].bold


# ------------------------------------------------------------------------------- the review pack draft


def _data(as_of: date, generated: datetime | None) -> ReportData:
    inp = sample_input(as_of)
    history = tuple(weekly_history(inp))
    return ReportData(progress=history[-1], history=history, rules=inp.rules, head_name="Cụm trưởng",
                      district_order=tuple(d.code for d in inp.districts), generated_at=generated)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    data = _data(date(2023, 6, 30), datetime(2023, 7, 5, 8, 0))  # the review-pack job's run, 5 July
    period = parse_period("2023-H1")
    return render_review(data, period, tmp_path_factory.mktemp("review"),
                         write_draft=official_writer(SETTINGS, period, data))


def test_the_review_pack_s_draft_is_an_official_report_with_facts_and_places_to_fill(pack):
    doc = Document(str(pack.draft_docx))
    texts = [p.text for p in doc.paragraphs]
    header = doc.tables[0]
    assert header.rows[1].cells[1].text == "Hà Nội, ngày 05 tháng 7 năm 2023"  # the day the pack was made
    assert header.rows[1].cells[0].text == "Số:     /BC-CTĐ1"
    assert texts[:2] == ["BÁO CÁO", "Sơ kết phong trào thi đua 6 tháng đầu năm 2023"]
    parts = [t for t in texts if re.match(r"[IVX]+\. ", t)]
    assert parts == ["I. KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA 6 THÁNG ĐẦU NĂM 2023", "II. ĐÁNH GIÁ CHUNG",
                     "III. PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM 2023", "IV. ĐỀ XUẤT, KIẾN NGHỊ"]
    assert "3. Thành lập CĐCS mới" in texts  # the draft's own numbers replaced by the layout's
    assert "- Hoàn thành đúng hạn: LĐLĐ quận Hai Bà Trưng và LĐLĐ quận Ba Đình." in texts
    first, second = texts.index(parts[1]), texts.index(parts[2])
    assert texts[first:second].count("[...]") == 2  # strengths, shortcomings: only people can write them
    assert texts[second + 1] == "[...]"
    assert "Phụ lục" in texts and doc.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    results = doc.tables[2]
    assert [c.text for c in results.rows[0].cells][:3] == ["TT", "Đơn vị", "Thành lập CĐCS mới (CĐCS)"]
    assert results.rows[-1].cells[1].text == "Toàn Cụm"
    assert any(t.startswith("Ghi chú: Cách đọc:") for t in texts)  # how the figures are computed
    assert pack.draft_md.read_text(encoding="utf-8").startswith("# Dự thảo báo cáo sơ kết")  # .md as before


def test_a_year_end_report_looks_to_the_next_year_and_an_unknown_day_is_left_blank():
    data = _data(date(2023, 12, 31), None)
    period = parse_period("2023")
    doc = official_report(draft(data, period.title), annex_tables(data), period, data)
    assert doc.summary == "Tổng kết phong trào thi đua năm 2023" and doc.day is None
    parts = [b.text for b in doc.body if isinstance(b, Heading) and b.level == 1]
    assert parts[0] == "Kết quả thực hiện phong trào thi đua năm 2023"
    assert "Phương hướng, nhiệm vụ năm 2024" in parts
    assert not any(isinstance(b, Heading) and b.text == "Cách tính số liệu" for b in doc.body)


def test_the_annex_tables_carry_every_district_and_the_cluster_total():
    data = _data(date(2023, 6, 30), None)
    results, ranking, reporting = annex_tables(data)
    assert [r[1] for r in results.rows] == [d.name for d in data.districts_in_order()] + ["Toàn Cụm"]
    dd = next(r for r in results.rows if r[1] == "LĐLĐ quận Đống Đa")
    assert dd[3] == "21/20\n(105,0%)"  # agreements: actual/target (percent)
    assert [r[0] for r in ranking.rows] == ["1", "2", "3", "4", "5", "6"]
    assert ranking.rows[0][1] == "LĐLĐ quận Hoàn Kiếm"
    assert reporting.columns[-1] == "Số tuần không có báo cáo"


# ------------------------------------------------------------------------------------- LibreOffice

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def pdf(pack, tmp_path_factory) -> Path:
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer "
                    "(.ci/run installs it)")
    program = Path(os.path.realpath(SOFFICE)).parent
    if program.name == "program" and not list(program.glob("libswlo.*")):
        pytest.skip("LibreOffice has no Writer (libreoffice-calc alone cannot open .docx): "
                    "apt-get install libreoffice-writer (.ci/run installs it)")
    out = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("lo-profile")
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), str(pack.draft_docx)], capture_output=True, text=True, timeout=240)
    made = out / (pack.draft_docx.stem + ".pdf")
    assert result.returncode == 0 and made.exists(), result.stdout + result.stderr
    return made


def test_libreoffice_opens_the_draft_and_makes_a_pdf_of_it(pdf):
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    assert len(reader.pages) > 1
    first = reader.pages[0]
    assert abs(float(first.mediabox.width) - 595.3) < 2 and abs(float(first.mediabox.height) - 841.9) < 2
    last = reader.pages[-1]  # the annex, landscape
    assert float(last.mediabox.width) > float(last.mediabox.height)
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in reader.pages))
    for line in ("LĐLĐ THÀNH PHỐ HÀ NỘI", "CỤM THI ĐUA SỐ 1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "Hà Nội, ngày 05 tháng 7 năm 2023", "BÁO CÁO",
                 "Sơ kết phong trào thi đua 6 tháng đầu năm 2023", "Nơi nhận:", "Lưu: VT.", "Phụ lục"):
        assert line in text, line
    lines = first.extract_text().splitlines()
    for line in ("LĐLĐ THÀNH PHỐ HÀ NỘI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):  # each on one line, unbroken
        assert any(line in printed for printed in lines), (line, lines[:6])
    second = re.sub(r"\s+", " ", reader.pages[1].extract_text())
    assert second.startswith("2 ") and not re.sub(r"\s+", " ", first.extract_text()).startswith("1 ")


def _times_with_vietnamese() -> bool:
    """A font installed under Times New Roman's name or metrics that has the Vietnamese letters."""
    if not shutil.which("fc-list"):
        return False
    families = subprocess.run(["fc-list", ":lang=vi", "family"], capture_output=True, text=True).stdout
    return "Times New Roman" in families or "Liberation Serif" in families


def test_the_pdf_uses_times_new_roman_or_its_metric_twin_for_every_letter(pdf):
    if not _times_with_vietnamese():
        pytest.skip("no Times New Roman or Liberation Serif with Vietnamese letters: apt-get install "
                    "fonts-liberation2 (fonts-liberation 1.x lacks them; .ci/run installs it)")
    from pypdf import PdfReader

    fonts = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and all(re.match(r"(LiberationSerif|TimesNewRoman)", f) for f in fonts), fonts
