"""The review pack as a slide deck (python-pptx), 16:9, ready to project.

Title slide, one slide per chart (the PNG fills the slide; the chart carries its own title in large
type), the ranking as a native table coloured by status, the cluster against the same period last year
(when last year's figures exist), and a closing summary slide.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from tracker.calendar import district_short_name
from tracker.progress import ClusterProgress, same_day_last_year
from tracker.reporting import palette
from tracker.reporting.wording import STATUS_VI, change_percent, change_text, has_last_year, percent_text, value_text
from tracker.text import format_date, format_number, nfc

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor(*palette.rgb_tuple(hex_colour))


def write_pptx(path: Path, *, title: str, subtitle: str, cluster_name: str, progress: ClusterProgress,
               pictures: Sequence[tuple[str, Path]], summary: Sequence[str], notes: Sequence[str] = ()) -> Path:
    """``pictures``: (title, PNG path) in slide order; ``summary``: the closing slide's bullet points;
    ``notes``: lines under the title slide's subtitle (a closed period's close and confirmations)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    blank = prs.slide_layouts[6]

    s = prs.slides.add_slide(blank)
    _rect(s, 0, Inches(1.4), WIDTH, Inches(1.2), palette.HEADER_FILL)
    _text(s, Inches(0.7), Inches(1.55), WIDTH - Inches(1.4), Inches(0.9), cluster_name, 26, "FFFFFF", bold=True)
    _text(s, Inches(0.7), Inches(3.0), WIDTH - Inches(1.4), Inches(1.6), title, 40, palette.HEADER_FILL, bold=True)
    _text(s, Inches(0.7), Inches(4.7), WIDTH - Inches(1.4), Inches(0.8), subtitle, 24, "#455A64")
    if notes:
        box = s.shapes.add_textbox(Inches(0.7), Inches(5.5), WIDTH - Inches(1.4), HEIGHT - Inches(5.8))
        box.text_frame.word_wrap = True
        for n, line in enumerate(notes):
            para = box.text_frame.paragraphs[0] if n == 0 else box.text_frame.add_paragraph()
            para.text = nfc(line)
            para.font.size = Pt(16 if len(notes) < 3 and sum(map(len, notes)) < 300 else 13)
            para.font.color.rgb = _rgb("#455A64")

    for caption, png in pictures:
        s = prs.slides.add_slide(blank)
        # The chart image is 16:9 like the slide: fill it with a small margin.
        margin = Inches(0.2)
        pic = s.shapes.add_picture(str(png), margin, margin, width=WIDTH - 2 * margin)
        if pic.height > HEIGHT - 2 * margin:  # keep the whole chart on the slide
            ratio = (HEIGHT - 2 * margin) / pic.height
            pic.height = Emu(int(pic.height * ratio))
            pic.width = Emu(int(pic.width * ratio))
            pic.left = Emu(int((WIDTH - pic.width) / 2))
        s.notes_slide.notes_text_frame.text = nfc(caption)

    _ranking_slide(prs, progress)
    if has_last_year(progress):
        _last_year_slide(prs, progress)

    s = prs.slides.add_slide(blank)
    _text(s, Inches(0.6), Inches(0.35), WIDTH - Inches(1.2), Inches(0.9), "Tóm tắt", 36, palette.HEADER_FILL,
          bold=True)
    box = s.shapes.add_textbox(Inches(0.7), Inches(1.4), WIDTH - Inches(1.4), HEIGHT - Inches(1.9))
    tf = box.text_frame
    tf.word_wrap = True
    size = 24 if len(summary) <= 6 else 20
    for n, line in enumerate(summary):
        para = tf.paragraphs[0] if n == 0 else tf.add_paragraph()
        para.text = nfc(f"• {line}")
        para.font.size = Pt(size)
        para.space_after = Pt(10)
    prs.core_properties.title = nfc(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    return path


def _ranking_slide(prs, progress: ClusterProgress) -> None:
    js = progress.to_json()
    s = prs.slides.add_slide(prs.slide_layouts[6])
    _text(s, Inches(0.6), Inches(0.3), WIDTH - Inches(1.2), Inches(0.8), "Xếp hạng thi đua", 34,
          palette.HEADER_FILL, bold=True)
    _text(s, Inches(0.6), Inches(1.0), WIDTH - Inches(1.2), Inches(0.5),
          f"Số liệu đến {format_date(progress.as_of)}; tỷ lệ thực hiện so với chỉ tiêu, màu theo trạng thái", 16,
          "#455A64")
    n_ind = len(progress.indicators)
    rows, cols = len(progress.districts) + 1, 3 + n_ind
    top = Inches(1.6)
    height = min(HEIGHT - top - Inches(0.9), Inches(0.62) * rows)
    table = s.shapes.add_table(rows, cols, Inches(0.5), top, WIDTH - Inches(1.0), height).table
    widths = [Inches(0.9), Inches(2.6), Inches(1.3)]
    rest = (WIDTH - Inches(1.0) - sum(widths, Emu(0))) // max(1, n_ind)
    for c in range(cols):
        table.columns[c].width = widths[c] if c < 3 else Emu(int(rest))
    body = 20 if rows <= 9 else 14
    header = ["Hạng", "Đơn vị", "Điểm", *[i.label for i in progress.indicators]]
    for c, text in enumerate(header):
        _cell(table.cell(0, c), text, 14, palette.HEADER_INK, palette.HEADER_FILL, bold=True)
    for r, (d, dj) in enumerate(zip(progress.districts, js["districts"], strict=True), start=1):
        _cell(table.cell(r, 0), str(dj["rank"] or "—"), body, "#000000", "#FFFFFF", bold=True)
        _cell(table.cell(r, 1), district_short_name(d.name), body, "#000000", "#FFFFFF", align=PP_ALIGN.LEFT)
        _cell(table.cell(r, 2), format_number(dj["score"], 4) if dj["score"] is not None else "—", body, "#000000",
              "#FFFFFF", bold=True)
        for c, ind in enumerate(d.indicators, start=3):
            text = percent_text(ind.percent) if ind.percent is not None else STATUS_VI[ind.status]
            _cell(table.cell(r, c), text, body, palette.INK[ind.status], palette.FILL[ind.status])
    x = Inches(0.5)
    for status in ("achieved", "on_track", "behind", "at_risk"):
        word = STATUS_VI[status]
        w = Inches(0.35 + 0.13 * len(word))
        shape = _rect(s, x, HEIGHT - Inches(0.7), w, Inches(0.42), palette.FILL[status])
        shape.text_frame.text = nfc(word)
        shape.text_frame.paragraphs[0].font.size = Pt(14)
        shape.text_frame.paragraphs[0].font.color.rgb = _rgb(palette.INK[status])
        x += w + Inches(0.2)


def _last_year_slide(prs, progress: ClusterProgress) -> None:
    """The cluster's figure of each indicator against the same day last year, as a native table."""
    s = prs.slides.add_slide(prs.slide_layouts[6])
    before = progress.year - 1
    _text(s, Inches(0.6), Inches(0.3), WIDTH - Inches(1.2), Inches(0.8), f"So với cùng kỳ năm {before}", 34,
          palette.HEADER_FILL, bold=True)
    _text(s, Inches(0.6), Inches(1.0), WIDTH - Inches(1.2), Inches(0.5),
          f"Toàn Cụm, số liệu luỹ kế đến {format_date(progress.as_of)} so với đến "
          f"{format_date(same_day_last_year(progress.as_of))}", 16, "#455A64")
    rows = len(progress.indicators) + 1
    top = Inches(1.6)
    table = s.shapes.add_table(rows, 4, Inches(0.5), top, WIDTH - Inches(1.0),
                               min(HEIGHT - top - Inches(0.5), Inches(0.7) * rows)).table
    for c, width in enumerate((Inches(5.3), Inches(2.2), Inches(2.2), Inches(2.633))):
        table.columns[c].width = width
    for c, text in enumerate(("Chỉ tiêu", f"Năm {progress.year}", f"Cùng kỳ năm {before}", "So với cùng kỳ")):
        _cell(table.cell(0, c), text, 16, palette.HEADER_INK, palette.HEADER_FILL, bold=True)
    body = 20 if rows <= 8 else 14
    for r, spec in enumerate(progress.indicators, start=1):
        t = progress.total(spec.key)
        change = change_percent(t.actual, t.last_year_actual)
        label = f"{spec.label} ({spec.unit})" if spec.unit else spec.label
        _cell(table.cell(r, 0), label, body, "#000000", "#FFFFFF", align=PP_ALIGN.LEFT)
        _cell(table.cell(r, 1), value_text(t.actual, spec), body, "#000000", "#FFFFFF", bold=True)
        _cell(table.cell(r, 2), value_text(t.last_year_actual, spec), body, "#000000", "#FFFFFF")
        _cell(table.cell(r, 3), change_text(change) or "—", body, _change_ink(change), "#FFFFFF", bold=True)


def _change_ink(change: float | None) -> str:
    if change is None or round(change, 1) == 0:
        return "#000000"
    return palette.INK["achieved"] if change > 0 else palette.INK["at_risk"]


def _cell(cell, text: str, size: int, ink: str, fill: str, *, bold: bool = False, align=PP_ALIGN.CENTER) -> None:
    cell.text = nfc(text)
    cell.fill.solid()
    cell.fill.fore_color.rgb = _rgb(fill)
    for para in cell.text_frame.paragraphs:
        para.alignment = align
        para.font.size = Pt(size)
        para.font.bold = bold
        para.font.color.rgb = _rgb(ink)


def _rect(slide, x, y, w, h, colour: str):
    from pptx.enum.shapes import MSO_SHAPE

    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, w, h)
    shape.fill.solid()
    shape.fill.fore_color.rgb = _rgb(colour)
    shape.line.fill.background()
    return shape


def _text(slide, x, y, w, h, text: str, size: int, colour: str, *, bold: bool = False) -> None:
    box = slide.shapes.add_textbox(x, y, w, h)
    tf = box.text_frame
    tf.word_wrap = True
    tf.text = nfc(text)
    for para in tf.paragraphs:
        para.font.size = Pt(size)
        para.font.bold = bold
        para.font.color.rgb = _rgb(colour)
