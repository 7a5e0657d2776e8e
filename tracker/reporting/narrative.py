"""The draft report text of a review meeting (sơ kết / tổng kết), in Vietnamese, from the data only.

Written the way a cluster's six-month report is written (docs/outputs.md §6): districts named, each figure
followed by whose it is, deadlines met early called out, targets exceeded called out. Every number
comes from the engine's results; nothing is invented, judged or praised beyond what the rules say.
The draft is a list of sections; :func:`to_markdown` and :func:`write_docx` render it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tracker.progress import ClusterProgress, DistrictProgress, IndicatorProgress, IndicatorSpec
from tracker.reporting.data import ReportData
from tracker.reporting.wording import (
    indicator_deadline,
    percent_text,
    projection_text,
    rules_paragraph,
    value_text,
)
from tracker.text import format_date, format_number, nfc


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass
class Draft:
    title: str
    subtitle: str
    sections: list[Section]
    summary: list[str]  # the few facts for the closing slide

    def text(self) -> str:
        return to_markdown(self)


def _list(names: list[str]) -> str:
    """``A``, ``A và B``, ``A, B và C``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def _ratio(ind: IndicatorProgress, spec: IndicatorSpec) -> str:
    return f"{value_text(ind.actual, spec)}/{value_text(ind.target, spec)} {spec.unit}".strip()


def draft(data: ReportData, period_title: str) -> Draft:
    """The draft text for ``data`` (as of the end of the period), e.g. ``sơ kết 6 tháng đầu năm 2023``."""
    p = data.progress
    n = len(p.districts)
    as_of = format_date(p.as_of)
    short_period = period_title[0].upper() + period_title[1:]
    title = nfc(f"Dự thảo báo cáo {period_title} — {p.cluster_name}")
    subtitle = nfc(f"Số liệu luỹ kế từ đầu năm đến ngày {as_of}")
    sections: list[Section] = []

    accepted = sum(s.accepted for s in data.submissions)
    intro = (f"{p.cluster_name} gồm {n} đơn vị: {_list([d.name for d in data.districts_in_order()])}. "
             f"Báo cáo này tổng hợp số liệu luỹ kế từ đầu năm đến ngày {as_of}")
    if accepted:
        intro += f" từ {format_number(accepted, 0)} báo cáo tuần đã được chấp nhận."
    elif data.submissions:
        intro += "; đến ngày này chưa có báo cáo tuần nào được chấp nhận."
    else:
        intro += "."
    sections.append(Section("Khái quát", [intro]))

    highlights = _highlights(p)
    if highlights:
        sections.append(Section("Kết quả nổi bật", bullets=highlights))

    for number, spec in enumerate(p.indicators, start=1):
        if spec.deadline:
            sections.append(_deadline_section(p, spec, number))
        else:
            sections.append(_indicator_section(p, spec, number))

    sections.append(_ranking_section(p))
    reporting = _reporting_section(data)
    if reporting:
        sections.append(reporting)
    sections.append(Section("Cách tính số liệu", [rules_paragraph(p.rules)]))

    summary = _summary(p)
    return Draft(title=title, subtitle=f"{short_period}. {subtitle}", sections=[_nfc(s) for s in sections],
                 summary=[nfc(s) for s in summary])


def _exceeded(p: ClusterProgress) -> list[tuple[DistrictProgress, IndicatorSpec, IndicatorProgress]]:
    out = []
    for d in p.districts:
        for spec, ind in zip(p.indicators, d.indicators, strict=True):
            if ind.status == "achieved" and ind.actual is not None and ind.target is not None \
                    and ind.actual > ind.target:
                out.append((d, spec, ind))
    return out


def _highlights(p: ClusterProgress) -> list[str]:
    out = []
    exceeded = _exceeded(p)
    if exceeded:
        by_district: dict[str, list[str]] = {}
        names = {}
        for d, spec, ind in exceeded:
            names[d.code] = d.name
            by_district.setdefault(d.code, []).append(
                f"{spec.label} {_ratio(ind, spec)}, đạt {percent_text(ind.percent)}")
        items = [f"{names[code]} ({'; '.join(parts)})" for code, parts in by_district.items()]
        out.append(f"Đã có {len(by_district)} đơn vị thực hiện vượt chỉ tiêu đăng ký: " + "; ".join(items) + ".")
    for spec in p.indicators:
        t = p.total(spec.key)
        done = [d for d in p.districts if d.indicator(spec.key).status == "achieved"]
        if spec.deadline and done:
            deadline = indicator_deadline(spec, p.year)
            on_time = [d for d in done if d.indicator(spec.key).achieved_on
                       and d.indicator(spec.key).achieved_on <= deadline]
            out.append(f"{spec.label}: {len(on_time)}/{len(p.districts)} đơn vị hoàn thành trước hoặc đúng hạn "
                       f"{format_date(deadline)}.")
        elif t.percent is not None and t.percent >= 100:
            out.append(f"{spec.label}: toàn Cụm đã đạt {percent_text(t.percent)} tổng chỉ tiêu đăng ký.")
    return out


def _indicator_section(p: ClusterProgress, spec: IndicatorSpec, number: int) -> Section:
    t = p.total(spec.key)
    rows = [(d, d.indicator(spec.key)) for d in p.districts]
    s = Section(f"{number}. {spec.label}")
    total = (f"Toàn Cụm thực hiện {value_text(t.actual, spec)} {spec.unit}".rstrip()
             + (f", đạt {percent_text(t.percent)} tổng chỉ tiêu đăng ký ({value_text(t.target, spec)} "
                f"{spec.unit})".replace(" )", ")") if t.percent is not None else "")
             + ".")
    with_figure = sorted([r for r in rows if r[1].actual is not None], key=lambda r: -(r[1].actual or 0))
    if with_figure:
        parts = [f"{d.name} {value_text(i.actual, spec)}"
                 + (f" ({percent_text(i.percent)} chỉ tiêu)" if i.percent is not None else "")
                 for d, i in with_figure]
        total += f" Kết quả từng đơn vị: {'; '.join(parts)}."
    s.paragraphs.append(total)
    exceeded = [(d, i) for d, i in rows if i.status == "achieved" and i.target is not None
                and (i.actual or 0) > i.target]
    reached = [(d, i) for d, i in rows if i.status == "achieved" and i.target is not None
               and (i.actual or 0) == i.target]
    if exceeded:
        s.bullets.append("Vượt chỉ tiêu đăng ký: " + "; ".join(
            f"{d.name} ({_ratio(i, spec)}, đạt {percent_text(i.percent)}"
            + (f", từ ngày {format_date(i.achieved_on)}" if i.achieved_on else "") + ")" for d, i in exceeded) + ".")
    if reached:
        s.bullets.append("Hoàn thành chỉ tiêu đăng ký: " + "; ".join(
            f"{d.name} ({_ratio(i, spec)}" + (f", từ ngày {format_date(i.achieved_on)}" if i.achieved_on else "")
            + ")" for d, i in reached) + ".")
    on_track = [d.name for d, i in rows if i.status == "on_track"]
    if on_track:
        s.bullets.append(f"Đúng tiến độ (đạt từ mức cần đạt đến nay): {_list(on_track)}.")
    behind = [f"{d.name} ({percent_text(i.percent)})" for d, i in rows if i.status == "behind"]
    if behind:
        s.bullets.append(f"Chậm tiến độ: {_list(behind)}.")
    risky = [f"{d.name} ({_ratio(i, spec)}; {projection_text(i.projected, spec, p.year)})"
             for d, i in rows if i.status == "at_risk"]
    if risky:
        s.bullets.append(f"Có nguy cơ không đạt chỉ tiêu: {'; '.join(risky)}.")
    missing = [d.name for d, i in rows if i.status == "no_data"]
    if missing:
        s.bullets.append(f"Chưa có số liệu: {_list(missing)}.")
    no_target = [d.name for d, i in rows if i.status == "no_target"]
    if no_target:
        s.bullets.append(f"Chưa đăng ký chỉ tiêu: {_list(no_target)}.")
    return s


def _deadline_section(p: ClusterProgress, spec: IndicatorSpec, number: int) -> Section:
    deadline = indicator_deadline(spec, p.year)
    assert deadline is not None
    rows = [(d, d.indicator(spec.key)) for d in p.districts]
    judged = [(d, i) for d, i in rows if i.status != "no_target"]
    finished = sorted([(d, i) for d, i in judged if i.achieved_on is not None], key=lambda r: r[1].achieved_on)
    early = [(d, i) for d, i in finished if i.achieved_on < deadline]
    on_day = [(d, i) for d, i in finished if i.achieved_on == deadline]
    late = [(d, i) for d, i in finished if i.achieved_on > deadline]
    open_ = [(d, i) for d, i in judged if i.achieved_on is None]
    s = Section(f"{number}. {spec.label} (hạn hoàn thành {format_date(deadline)})")
    by_deadline = len(early) + len(on_day)
    if p.as_of >= deadline:
        text = (f"Đến ngày {format_date(deadline)} (hạn hoàn thành), {by_deadline}/{len(judged)} đơn vị đã hoàn "
                f"thành chỉ tiêu «{spec.label}»")
    else:
        text = (f"Đến ngày {format_date(p.as_of)} (hạn {format_date(deadline)}), {len(finished)}/{len(judged)} "
                f"đơn vị đã hoàn thành chỉ tiêu «{spec.label}»")
    dates = _list([f"{_short(d)} ({format_date(i.achieved_on)})" for d, i in early])
    if early and len(early) == len(judged) > 1:
        text += f"; cả {len(early)} đơn vị đều hoàn thành sớm so với kế hoạch: {dates}"
    elif early:
        text += f"; trong đó {len(early)} đơn vị hoàn thành sớm so với kế hoạch là {dates}"
    s.paragraphs.append(text + ".")
    t = p.total(spec.key)
    s.paragraphs.append(f"Toàn Cụm thực hiện {value_text(t.actual, spec)}/{value_text(t.target, spec)} "
                        f"{spec.unit} ({percent_text(t.percent)}).")
    if on_day:
        s.bullets.append("Hoàn thành đúng hạn: " + _list([d.name for d, _ in on_day]) + ".")
    if late:
        s.bullets.append("Hoàn thành sau hạn: " + "; ".join(
            f"{d.name} (ngày {format_date(i.achieved_on)}, chậm {(i.achieved_on - deadline).days} ngày)"
            for d, i in late) + ".")
    if open_:
        s.bullets.append("Chưa hoàn thành: " + "; ".join(
            f"{d.name} ({_ratio(i, spec)}, {percent_text(i.percent)})" if i.actual is not None
            else f"{d.name} (chưa có số liệu)" for d, i in open_) + ".")
    return s


def _short(d: DistrictProgress) -> str:
    from tracker.reporting.wording import district_short_name

    return district_short_name(d.name)


def _ranking_section(p: ClusterProgress) -> Section:
    ranked = [d for d in p.districts if d.rank is not None]
    s = Section("Xếp hạng thi đua")
    if not ranked:
        s.paragraphs.append("Chưa có đơn vị nào đủ số liệu để tính điểm thi đua.")
        return s
    s.paragraphs.append(f"Theo điểm thi đua tính đến ngày {format_date(p.as_of)}:")
    for d in ranked:
        achieved = sum(1 for i in d.indicators if i.status == "achieved")
        extra = f"; đã hoàn thành {achieved}/{len(d.indicators)} chỉ tiêu" if achieved else ""
        s.bullets.append(f"Hạng {d.rank}: {d.name} — điểm {format_number(round(d.score or 0, 4), 4)}{extra}.")
    ties = {}
    for d in ranked:
        ties.setdefault(d.rank, []).append(d.name)
    shared = [names for names in ties.values() if len(names) > 1]
    for names in shared:
        s.paragraphs.append(f"{_list(names)} bằng điểm, cùng hạng.")
    return s


def _reporting_section(data: ReportData) -> Section | None:
    p = data.progress
    weeks = data.reporting_weeks()
    if not weeks and not data.submissions:
        return None
    s = Section("Tình hình gửi báo cáo tuần")
    accepted = sum(x.accepted for x in data.submissions)
    rejected = sum(x.rejected for x in data.submissions)
    if data.submissions:
        text = f"Các đơn vị đã gửi {format_number(accepted, 0)} báo cáo tuần được chấp nhận"
        text += (f"; {format_number(rejected, 0)} tệp có lỗi bị trả lại để đơn vị sửa và gửi lại." if rejected
                 else "; không có tệp nào bị trả lại.")
        s.paragraphs.append(text)
    if weeks:
        first, last = weeks[0], weeks[-1]
        s.paragraphs.append(f"Trong {len(weeks)} tuần (từ {format_date(first.week_start)} đến "
                            f"{format_date(last.as_of)}):")
        for d in p.districts:
            missed = sum(1 for h in weeks if not h.district(d.code).reported_this_week)
            late = sum(1 for h in weeks if h.district(d.code).late)
            if not missed and not late:
                s.bullets.append(f"{d.name}: báo cáo đủ và đúng hạn tất cả các tuần.")
            else:
                parts = []
                if missed:
                    parts.append(f"{missed} tuần không có báo cáo")
                if late:
                    parts.append(f"{late} tuần nộp muộn")
                s.bullets.append(f"{d.name}: {', '.join(parts)}.")
    return s


def _summary(p: ClusterProgress) -> list[str]:
    """Four to six short facts for the closing slide."""
    out = []
    leaders = [d for d in p.districts if d.rank == 1]
    if leaders:
        out.append(f"Dẫn đầu Cụm: {_list([_short(d) for d in leaders])} "
                   f"(điểm {format_number(round(leaders[0].score or 0, 4), 4)}).")
    for spec in p.indicators:
        t = p.total(spec.key)
        if spec.deadline:
            deadline = indicator_deadline(spec, p.year)
            done = [d for d in p.districts if d.indicator(spec.key).achieved_on is not None
                    and d.indicator(spec.key).achieved_on <= deadline]
            early = [d for d in done if d.indicator(spec.key).achieved_on < deadline]
            out.append(f"{spec.label}: {len(done)}/{len(p.districts)} đơn vị xong trước hoặc đúng hạn "
                       f"{format_date(deadline)}, {len(early)} đơn vị sớm.")
        else:
            out.append(f"{spec.label}: toàn Cụm {value_text(t.actual, spec)}/{value_text(t.target, spec)} "
                       f"{spec.unit} ({percent_text(t.percent)}).")
    exceeded = _exceeded(p)
    if exceeded:
        out.append("Vượt chỉ tiêu: " + "; ".join(f"{_short(d)} ({spec.label} {percent_text(i.percent)})"
                                                for d, spec, i in exceeded) + ".")
    focus = []
    for d in p.districts:  # ranking order
        labels = [spec.label for spec, i in zip(p.indicators, d.indicators, strict=True) if i.status == "at_risk"]
        if labels:
            focus.append(f"{_short(d)} ({', '.join(labels)})")
    if focus:
        out.append("Có nguy cơ không đạt: " + "; ".join(focus) + ".")
    return out


def _nfc(section: Section) -> Section:
    return Section(nfc(section.heading), [nfc(x) for x in section.paragraphs], [nfc(x) for x in section.bullets])


# ---------------------------------------------------------------------------------------------------
# Rendering


def to_markdown(d: Draft) -> str:
    lines = [f"# {d.title}", "", f"*{d.subtitle}*", ""]
    for s in d.sections:
        lines += [f"## {s.heading}", ""]
        for para in s.paragraphs:
            lines += [para, ""]
        for b in s.bullets:
            lines.append(f"- {b}")
        if s.bullets:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(d: Draft, path: Path) -> Path:
    path.write_text(to_markdown(d), encoding="utf-8")
    return path


def write_docx(d: Draft, path: Path) -> Path:
    """A Word document in the usual style of union reports (Times New Roman 13, A4 portrait)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    for name in ("Normal", "List Bullet", "Title", "Heading 1", "Heading 2", "Subtitle"):
        style = doc.styles[name]
        style.font.name = "Times New Roman"
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "Times New Roman")
    doc.styles["Normal"].font.size = Pt(13)
    doc.styles["Heading 2"].font.size = Pt(14)
    title = doc.add_paragraph(d.title.upper(), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in title.runs:
        run.font.size = Pt(16)
        run.bold = True
    sub = doc.add_paragraph(d.subtitle)
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.runs[0].italic = True
    for s in d.sections:
        doc.add_heading(s.heading, level=2)
        for para in s.paragraphs:
            p = doc.add_paragraph(para)
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            p.paragraph_format.first_line_indent = Cm(1.0)
        for b in s.bullets:
            doc.add_paragraph(b, style="List Bullet")
    doc.core_properties.title = d.title
    doc.save(path)
    return path
