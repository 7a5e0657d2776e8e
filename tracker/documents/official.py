"""Official documents as .docx in the layout of Decree 30/2020/NĐ-CP, Appendix I (docs/outputs.md §10).

A caller describes the document as plain data (:class:`OfficialDocument`: a ``BÁO CÁO`` or a
``BIÊN BẢN``, its summary line, the day, the body's headings, paragraphs, "- " list lines, tables and
the annexes) and :func:`write_official` lays it out with ``settings.documents`` (docs/config.md §15): the
header table (issuer, number, national title, place and date), the title, the body, the signature
block, ``Nơi nhận``, page numbers from page 2, and every annex (``Phụ lục``) on its own pages.

The rules relied on (Appendix I of the decree, "Thể thức và kỹ thuật trình bày văn bản hành chính"),
as restated by:
- https://final-blade.com/cach-can-le-chuan-trong-van-ban-hanh-chinh-1666727210 — A4 portrait (a table
  that is not made an annex may turn the page to landscape); margins top and bottom 20–25 mm, left
  30–35 mm, right 15–20 mm;
- https://ttpc.ktxhcm.edu.vn/tin-tuc/huong-dan-viet-ngay-thang-nam-trong-van-ban-dung-chuan-nghi-dinh-30 —
  the date is written in full, a day below 10 and the months 1 and 2 take a leading zero ("Hà Nội,
  ngày 01 tháng 02 năm 2023", "ngày 05 tháng 7 năm 2023"), in italics, 13–14 pt, after the place;
- https://phongnhaexplorer.com/hoi-dap/phap-luat/so-trang-van-ban-hanh-chinh-duoc-nhu-the-nao.html —
  page numbers in Arabic figures, 13–14 pt, upright, centred in the top margin, not shown on the first
  page;
- https://123docz.net/trich-doan/172296-cac-thanh-phan-the-thuc-khac.htm — an annex starts on a new
  page, the word "Phụ lục" (with its number when there are several) on its own line, centred, bold, then
  the annex's title centred in bold capitals;
- the decree's own list of fonts and sizes (Times New Roman, black): national title 12–13 pt bold
  capitals and the motto 13–14 pt bold with a rule as long as the line below it; issuer in capitals,
  13 pt, bold, with a short rule below, its parent body regular; "Số:" 13 pt; the document type 13–14 pt
  bold capitals and its summary bold with a short rule below; body 13–14 pt justified, first-line indent
  1–1.27 cm, at least 6 pt between paragraphs; the signer's title in bold capitals and name bold;
  "Nơi nhận:" 12 pt bold italic, the recipients 11 pt, one "- …;" line each, ending "- Lưu: VT.".

Fonts are set by name on the styles and the document defaults, with the template's theme-font
attributes removed: a theme font wins over ``w:ascii``, and Word and LibreOffice would both show Calibri.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tracker.text import nfc

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.section import Section as DocxSection
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph as DocxParagraph

    from tracker.config import Documents

FONT = "Times New Roman"
PLACEHOLDER = "[...]"  # a marked place for what only people can write
BODY_PT, HEADER_PT, TABLE_PT = 14, 13, 12
INDENT_CM = 1.27  # first-line indent of the body
PAGE_MM = (210, 297)  # A4
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
# Header table columns (cm): the right one holds the national title on one line (9.4 cm at 13 pt bold).
HEADER_COLUMNS_CM = (6.4, 10.1)
SIGNATURE_COLUMNS_CM = (7.5, 9.0)
SHORT_TABLE_ROWS = 15
CELL_MARGIN_CM = 0.19  # Word's and LibreOffice's default left and right cell margins


class DocumentKind(StrEnum):
    REPORT = "BÁO CÁO"
    MINUTES = "BIÊN BẢN"


@dataclass(frozen=True)
class Heading:
    """A numbered heading: level 1 ``I. KẾT QUẢ …`` (bold capitals), level 2 ``1. Khái quát`` (bold).
    The writer numbers them; the text comes without its number."""

    text: str
    level: Literal[1, 2] = 1


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph; ``[...]`` in it is a marked place (highlighted) for people to fill in."""

    text: str


@dataclass(frozen=True)
class Item:
    """A list line, written as a paragraph starting "- " (the administrative style, not a Word list)."""

    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""  # a bold line above the table
    widths: tuple[float, ...] = ()  # relative column widths; equal when empty
    left: tuple[int, ...] = (1,)  # columns aligned left (the others are centred)
    emphasis: tuple[int, ...] = ()  # rows in bold (a total)


Block = Heading | Paragraph | Item | Table


@dataclass(frozen=True)
class Annex:
    title: str
    blocks: tuple[Block, ...]
    landscape: bool = False  # for a table too wide for a portrait page


@dataclass(frozen=True)
class OfficialDocument:
    kind: DocumentKind
    summary: str  # "Sơ kết phong trào thi đua 6 tháng đầu năm 2023"
    day: date | None  # the date line; None leaves day and month blank to fill in
    body: tuple[Block, ...]
    annexes: tuple[Annex, ...] = ()
    number_code: str = ""  # blank: ``settings.number_code``
    # Minutes (``BIÊN BẢN``) are signed by two: the secretary on the left (``THƯ KÝ``) and the chair on the
    # right (``CHỦ TRÌ``, above ``signer_title``, instead of ``signer_on_behalf``); ``Nơi nhận`` then goes
    # under the two signatures. Blank: one signer, on the right, ``Nơi nhận`` beside it.
    secretary: str = ""
    chair: str = ""


# ------------------------------------------------------------------------------------- pure helpers


def date_words(day: date | None) -> str:
    """``ngày 05 tháng 7 năm 2023``: a day below 10 and the months 1 and 2 take a leading zero."""
    if day is None:
        return "ngày      tháng      năm       "
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def date_line(place: str, day: date | None) -> str:
    """``Hà Nội, ngày 05 tháng 7 năm 2023`` (a blank place is a marked place to fill in)."""
    return nfc(f"{place.strip() or PLACEHOLDER}, {date_words(day)}")


def number_line(code: str) -> str:
    """``Số:     /BC-CTĐ1``: the number itself is given when the document is registered."""
    return nfc(f"Số:     /{code}")


def roman(n: int) -> str:
    """1 → I, 4 → IV, 14 → XIV (the numbers of level-1 headings and of annexes)."""
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out += letters * count
    return out


def numbered(blocks: tuple[Block, ...]) -> list[tuple[Block, str]]:
    """Each block with the text it is written with: headings numbered (level 2 restarts under each level 1)."""
    out: list[tuple[Block, str]] = []
    top = sub = 0
    for block in blocks:
        if isinstance(block, Heading) and block.level == 1:
            top, sub = top + 1, 0
            out.append((block, f"{roman(top)}. {nfc(block.text).upper()}"))
        elif isinstance(block, Heading):
            sub += 1
            out.append((block, f"{sub}. {nfc(block.text)}"))
        elif isinstance(block, Item):
            out.append((block, f"- {nfc(block.text)}"))
        elif isinstance(block, Paragraph):
            out.append((block, nfc(block.text)))
        else:
            out.append((block, nfc(block.title)))
    return out


def recipient_lines(recipients: list[str]) -> list[str]:
    """``- Thường trực LĐLĐ Thành phố;`` per recipient, then ``- Lưu: VT.``."""
    return [f"- {nfc(r)};" for r in recipients] + ["- Lưu: VT."]


def text_width_cm(text: str, size_pt: float) -> float:
    """The approximate width of a line of Times New Roman bold (rules are drawn as long as a line)."""
    ems = sum(0.6 if c.isupper() else 0.28 if c.isspace() else 0.47 for c in text)
    return ems * size_pt / 72 * 2.54


# ------------------------------------------------------------------------------------------- writer


def write_official(doc: OfficialDocument, settings: Documents, path: Path) -> Path:
    """Write ``doc`` as a .docx at ``path`` in the decree's layout, with ``settings`` for the issuer and signer."""
    from docx import Document

    document = Document()
    _styles(document)
    _page(document.sections[0], landscape=False)
    _header_table(document, doc, settings)
    _title(document, doc)
    _blocks(document, doc.body, _text_width_cm(landscape=False))
    _signature(document, settings, doc)
    for n, annex in enumerate(doc.annexes, start=1):
        label = "Phụ lục" if len(doc.annexes) == 1 else f"Phụ lục {roman(n)}"
        _annex(document, annex, label, doc, settings)
    _page_numbers(document)
    props = document.core_properties
    props.title = nfc(f"{doc.kind.value} {doc.summary}")
    props.author = props.last_modified_by = settings.issuer
    props.language, props.comments, props.revision = "vi-VN", "", 1
    if doc.day is not None:
        props.created = props.modified = datetime(doc.day.year, doc.day.month, doc.day.day)
    document.save(str(path))
    return path


def _text_width_cm(landscape: bool) -> float:
    width = PAGE_MM[1] if landscape else PAGE_MM[0]
    return (width - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10


def _styles(document: DocxDocument) -> None:
    """Times New Roman, black, Vietnamese, on the document defaults and every style of the template."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    for rid, rel in list(document.part.rels.items()):  # the template's Word 2010 copy of the styles, with
        if rel.reltype.endswith("/stylesWithEffects"):  # its theme fonts: Word falls back to styles.xml
            document.part.drop_rel(rid)
    styles = document.styles
    root = styles.element
    defaults = root.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rpr.find(qn("w:sz")).set(qn("w:val"), str(BODY_PT * 2))
    rpr.find(qn("w:szCs")).set(qn("w:val"), str(BODY_PT * 2))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "vi-VN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    for name in ("Normal", "Body Text", "Heading 1", "Heading 2", "Header", "Table Grid"):
        styles[name].font.name = FONT
    for fonts in root.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    for colour in root.iter(qn("w:color")):
        for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
            colour.attrib.pop(qn(attr), None)
        colour.set(qn("w:val"), "000000")
    styles["Normal"].font.size = Pt(BODY_PT)
    body = styles["Body Text"].paragraph_format
    body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    body.first_line_indent = Cm(INDENT_CM)
    body.space_before, body.space_after, body.line_spacing = Pt(0), Pt(6), 1.0
    for name in ("Heading 1", "Heading 2"):
        style = styles[name]
        style.font.size, style.font.bold, style.font.italic = Pt(BODY_PT), True, False
        pf = style.paragraph_format
        pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        pf.first_line_indent = Cm(INDENT_CM)
        pf.space_before, pf.space_after, pf.line_spacing = Pt(6), Pt(6), 1.0
        pf.keep_with_next = True


def _page(section: DocxSection, *, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    width, height = (Mm(PAGE_MM[1]), Mm(PAGE_MM[0])) if landscape else (Mm(PAGE_MM[0]), Mm(PAGE_MM[1]))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = width, height
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)


def _page_numbers(document: DocxDocument) -> None:
    """A PAGE field centred in the top margin of every page but the first (the annexes' too)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    first, *rest = document.sections
    first.different_first_page_header_footer = True
    first.first_page_header.is_linked_to_previous = False  # defined, and empty
    header = first.header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p, "PAGE", "2", Pt(BODY_PT))
    for section in rest:  # annexes: numbered from their first page on
        section.different_first_page_header_footer = False
        section.header.is_linked_to_previous = True


def _field(paragraph: DocxParagraph, instruction: str, shown: str, size) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run_with(child) -> None:
        run = paragraph.add_run()
        run.font.size = size
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(shown).font.size = size
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


# ---------------------------------------------------------------------------------- layout helpers


def _line(container, text: str, *, size: float, bold: bool = False, italic: bool = False,
          align: str = "center", style: str | None = None, space_after: float = 0) -> DocxParagraph:
    """A paragraph of one formatting, without the body's indent (headers, titles, cells)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = container.add_paragraph(style=style)
    p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                   "justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.space_after = Pt(space_after)
    _text(p, text, size=size, bold=bold, italic=italic)
    return p


def _text(paragraph: DocxParagraph, text: str, *, size: float | None = None, bold: bool | None = None,
          italic: bool | None = None) -> None:
    """Runs for ``text``; each marked place ``[...]`` gets a yellow highlight so it is not missed."""
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    for part in re.split(r"(\[\.\.\.\])", nfc(text)):
        if not part:
            continue
        run = paragraph.add_run(part)
        if size is not None:
            run.font.size = Pt(size)
        run.font.bold, run.font.italic = bold, italic
        if part == PLACEHOLDER:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _rule_below(container, line_cm: float, box_cm: float) -> None:
    """A solid rule ``line_cm`` long, centred in a box ``box_cm`` wide, just under the last line: the bottom
    border of an empty 3-pt paragraph between indents (no drawing shapes, so every office program shows it
    where it belongs, and the text above keeps its full width)."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    paragraph = container.add_paragraph()
    pf = paragraph.paragraph_format
    side = max((box_cm - min(line_cm, box_cm)) / 2, 0)
    pf.left_indent = pf.right_indent = Cm(side)
    pf.first_line_indent = Pt(0)
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(3)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "0"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)


# What may follow w:pBdr inside w:pPr (ECMA-376 order; Word rejects a file whose children are out of order).
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
               "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _borderless(table: DocxTable) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription")


def _widths(table: DocxTable, widths_cm: list[float] | tuple[float, ...]) -> None:
    from docx.shared import Cm

    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths_cm, strict=True):
        col.w = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _clear(cell) -> None:
    """A new cell holds one empty paragraph; the writer adds its own."""
    for p in list(cell.paragraphs):
        p._p.getparent().remove(p._p)


# ------------------------------------------------------------------------------------------- parts


def _header_table(document: DocxDocument, doc: OfficialDocument, settings: Documents) -> None:
    """Issuer and number on the left, national title and the place and date on the right; the number and
    the date on one row so they stay level."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT

    table = document.add_table(rows=2, cols=2)
    _borderless(table)
    _widths(table, HEADER_COLUMNS_CM)
    left_w, right_w = (w - 2 * CELL_MARGIN_CM for w in HEADER_COLUMNS_CM)
    for cell in (*table.rows[0].cells, *table.rows[1].cells):
        _clear(cell)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    left, right = table.rows[0].cells
    if settings.issuer_parent:
        _line(left, settings.issuer_parent.upper(), size=HEADER_PT)
    issuer = settings.issuer.upper() or PLACEHOLDER
    _line(left, issuer, size=HEADER_PT, bold=True)
    _rule_below(left, 0.4 * min(text_width_cm(issuer, HEADER_PT), left_w), left_w)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=HEADER_PT, bold=True)
    motto = "Độc lập - Tự do - Hạnh phúc"
    _line(right, motto, size=BODY_PT, bold=True)
    _rule_below(right, text_width_cm(motto, BODY_PT), right_w)
    number, place = table.rows[1].cells
    code = doc.number_code or settings.number_code
    _line(number, number_line(code), size=HEADER_PT).paragraph_format.space_before = _pt(6)
    _line(place, date_line(settings.place, doc.day), size=BODY_PT, italic=True).paragraph_format.space_before = \
        _pt(6)


def _pt(value: float):
    from docx.shared import Pt

    return Pt(value)


def _title(document: DocxDocument, doc: OfficialDocument) -> None:
    _line(document, doc.kind.value, size=BODY_PT, bold=True).paragraph_format.space_before = _pt(18)
    summary = nfc(doc.summary)
    _line(document, summary, size=BODY_PT, bold=True)
    box = _text_width_cm(landscape=False)
    _rule_below(document, 0.4 * min(text_width_cm(summary, BODY_PT), box), box)
    document.add_paragraph()  # a blank line before the body


def _blocks(document: DocxDocument, blocks: tuple[Block, ...], width_cm: float) -> None:
    for block, text in numbered(blocks):
        if isinstance(block, Heading):
            p = document.add_paragraph(style="Heading 1" if block.level == 1 else "Heading 2")
            _text(p, text)
        elif isinstance(block, Table):
            _table(document, block, text, width_cm)
        else:
            _text(document.add_paragraph(style="Body Text"), text)


def _table(document: DocxDocument, table: Table, title: str, width_cm: float) -> None:
    """A bordered table (style Table Grid) whose header row repeats on every page it runs over."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.oxml import OxmlElement

    if title:
        _line(document, title, size=TABLE_PT + 1, bold=True, space_after=6).paragraph_format.keep_with_next = True
    out = document.add_table(rows=1 + len(table.rows), cols=len(table.columns))
    out.style = document.styles["Table Grid"]
    weights = table.widths or (1.0,) * len(table.columns)
    _widths(out, [width_cm * w / sum(weights) for w in weights])
    out.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for r, values in enumerate((table.columns, *table.rows)):
        bold = r == 0 or (r - 1) in table.emphasis
        for c, (cell, value) in enumerate(zip(out.rows[r].cells, values, strict=True)):
            _clear(cell)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            align = "left" if r and c in table.left else "center"
            p = _line(cell, value, size=TABLE_PT, bold=bold, align=align)
            p.paragraph_format.space_before = p.paragraph_format.space_after = _pt(2)
            # A short table stays on one page (Word's way: every row but the last keeps with the next).
            p.paragraph_format.keep_with_next = r < len(table.rows) and len(table.rows) <= SHORT_TABLE_ROWS
    document.add_paragraph()  # a blank line after the table


def _signature(document: DocxDocument, settings: Documents, doc: OfficialDocument) -> None:
    """``Nơi nhận`` on the left, the signer on the right, side by side as in the decree's models; with a
    secretary (minutes), the two signers side by side and ``Nơi nhận`` under them."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.oxml import OxmlElement

    if document.paragraphs:  # the signature never stands alone on a page
        document.paragraphs[-1].paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, SIGNATURE_COLUMNS_CM)
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left, right = table.rows[0].cells
    for cell in (left, right):
        _clear(cell)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    roles = (doc.chair, settings.signer_title) if doc.chair else (settings.signer_on_behalf, settings.signer_title)
    _signer(right, roles, settings.signer_name)
    if doc.secretary:
        # as many lines above the secretary's dotted line as above the chair's, so the two lines are level
        _signer(left, (doc.secretary, *(" " for r in roles[1:] if r)), "")
        _recipients(document, settings)
    else:
        _recipients(left, settings)


def _signer(cell, roles: tuple[str, ...], name: str) -> None:
    """The signer's roles in bold capitals, room to sign, then the name in bold (or a dotted line)."""
    first = None
    for line in roles:
        if line:  # a blank role is left out; a role of one space keeps its line (to level two signers)
            p = _line(cell, line.upper(), size=BODY_PT, bold=True)
            first = first or p
    if first is not None:
        first.paragraph_format.space_before = _pt(12)
    _line(cell, name or "……………………………", size=BODY_PT, bold=True).paragraph_format.space_before = _pt(78)


def _recipients(container, settings: Documents) -> None:
    p = _line(container, "Nơi nhận:", size=12, bold=True, italic=True, align="left")
    p.paragraph_format.space_before = _pt(12)
    for line in recipient_lines(settings.recipients):
        _line(container, line, size=11, align="left")


def _annex(document: DocxDocument, annex: Annex, label: str, doc: OfficialDocument,
           settings: Documents) -> None:
    from docx.enum.section import WD_SECTION

    _page(document.add_section(WD_SECTION.NEW_PAGE), landscape=annex.landscape)
    _line(document, label, size=BODY_PT, bold=True)
    _line(document, nfc(annex.title).upper(), size=BODY_PT, bold=True)
    code = doc.number_code or settings.number_code
    kind = doc.kind.value.capitalize()
    _line(document, f"(Kèm theo {kind} số      /{code} {date_words(doc.day)})", size=BODY_PT, italic=True,
          space_after=12)
    _blocks(document, annex.blocks, _text_width_cm(annex.landscape))
