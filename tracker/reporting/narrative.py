"""The draft report text of a review meeting (sơ kết / tổng kết), in Vietnamese, from the data only.

Written the way a cluster's six-month report is written (docs/outputs.md §6): districts named, each figure
followed by whose it is, deadlines met early called out, targets exceeded called out. Every number
comes from the engine's results; nothing is invented, judged or praised beyond what the rules say.
The draft is a list of sections; :func:`to_markdown` renders it, and :func:`annex_tables` gives the tables
of figures the official report carries in its annex (plain text cells); the review pack lays both out as a
.docx with ``tracker.documents`` (docs/outputs.md §10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tracker.calendar import district_short_name
from tracker.progress import (
    ClusterProgress,
    DistrictProgress,
    IndicatorProgress,
    IndicatorSpec,
    TotalProgress,
    same_day_last_year,
)
from tracker.reporting.data import ReportData
from tracker.reporting.wording import (
    change_percent,
    change_text,
    closed_lines,
    has_last_year,
    indicator_deadline,
    percent_text,
    projection_text,
    rules_paragraph,
    value_text,
    versus_last_year,
)
from tracker.text import format_date, format_number, nfc


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


RULES_HEADING = "Cách tính số liệu"  # the draft's last section: how the figures are computed


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
    subtitle = nfc(figures_line(data))
    sections: list[Section] = []

    accepted = sum(s.accepted for s in data.submissions)
    intro = (f"{p.cluster_name} gồm {n} đơn vị: {_list([d.name for d in data.districts_in_order()])}. "
             f"Báo cáo này tổng hợp số liệu {'đã chốt, ' if data.closed else ''}luỹ kế từ đầu năm đến ngày {as_of}")
    imported = sum(s.imported for s in data.submissions)
    if accepted:
        intro += f" từ {format_number(accepted, 0)} báo cáo tuần đã được chấp nhận"
        intro += " và bảng tổng hợp số liệu đã nhập." if imported else "."
    elif imported:
        intro += " từ bảng tổng hợp số liệu đã nhập (không có báo cáo tuần gửi qua hệ thống)."
    elif data.submissions:
        intro += "; đến ngày này chưa có báo cáo tuần nào được chấp nhận."
    else:
        intro += "."
    sections.append(Section("Khái quát", [intro, *closed_lines(data.closed)]))

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
    sections.append(Section(RULES_HEADING, [rules_paragraph(p.rules)]))

    summary = _summary(p)
    return Draft(title=title, subtitle=f"{short_period}. {subtitle}", sections=[_nfc(s) for s in sections],
                 summary=[nfc(s) for s in summary])


def figures_line(data: ReportData) -> str:
    """``Số liệu luỹ kế từ đầu năm đến ngày 30/06/2023``, or for a closed period ``Số liệu chốt ngày
    30/06/2023 (luỹ kế từ đầu năm)``: the subtitle of every part of the review pack."""
    if data.closed is not None:
        return f"Số liệu chốt ngày {format_date(data.closed.as_of)} (luỹ kế từ đầu năm)"
    return f"Số liệu luỹ kế từ đầu năm đến ngày {format_date(data.as_of)}"


def _versus(p: ClusterProgress, spec: IndicatorSpec) -> str:
    """``, tăng 12,5% so với cùng kỳ năm 2022 (107 CĐCS)`` for the cluster's total, or ``""`` without last
    year's figures; says how many units last year's total counts when some had no figure."""
    t = p.total(spec.key)
    change = change_percent(t.actual, t.last_year_actual)
    if change is None:
        return ""
    known = sum(1 for d in p.districts if d.indicator(spec.key).last_year_actual is not None)
    partial = (f"; năm {p.year - 1} có số liệu của {known}/{len(p.districts)} đơn vị"
               if known < len(p.districts) else "")
    return (f", {versus_last_year(change, p.year)} ({value_text(t.last_year_actual, spec)} {spec.unit}".rstrip()
            + f"{partial})")


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
             + _versus(p, spec) + ".")
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
                        f"{spec.unit} ({percent_text(t.percent)}){_versus(p, spec)}.")
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
            change = change_text(change_percent(t.actual, t.last_year_actual))
            out.append(f"{spec.label}: toàn Cụm {value_text(t.actual, spec)}/{value_text(t.target, spec)} "
                       f"{spec.unit} ({percent_text(t.percent)}" + (f"; {change} so với cùng kỳ" if change else "")
                       + ").")
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


@dataclass(frozen=True)
class Grid:
    """A table of figures as text cells, for the annex of the official report."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()  # relative
    left: tuple[int, ...] = (1,)  # columns aligned left
    emphasis: tuple[int, ...] = ()  # rows in bold (the total)


def annex_tables(data: ReportData) -> list[Grid]:
    """Results by district and indicator, the ranking, and weekly reporting (when there were weeks)."""
    grids = [_results_grid(data), _ranking_grid(data.progress)]
    weeks = data.reporting_weeks()
    if weeks:
        grids.append(_reporting_grid(data, weeks))
    if has_last_year(data.progress):
        grids.append(_last_year_grid(data.progress, len(grids) + 1))
    return grids


def _last_year_grid(p: ClusterProgress, number: int) -> Grid:
    """The cluster's figure of each indicator against the same day last year."""
    rows = []
    for n, spec in enumerate(p.indicators, start=1):
        t = p.total(spec.key)
        change = change_percent(t.actual, t.last_year_actual)
        rows.append((str(n), spec.label, spec.unit, value_text(t.actual, spec),
                     value_text(t.last_year_actual, spec), change_text(change) or "—"))
    return Grid(f"Bảng {number}. Kết quả toàn Cụm so với cùng kỳ năm {p.year - 1} (đến ngày "
                f"{format_date(same_day_last_year(p.as_of))})",
                ("TT", "Chỉ tiêu", "Đơn vị tính", f"Năm {p.year}", f"Cùng kỳ năm {p.year - 1}", "So với cùng kỳ"),
                tuple(rows), widths=(0.8, 4.4, 1.6, 1.6, 1.8, 1.8))


def _figure(ind: IndicatorProgress | TotalProgress, spec: IndicatorSpec) -> str:
    if ind.actual is None:
        return "Chưa có số liệu"
    if ind.target is None:
        return value_text(ind.actual, spec)
    return f"{value_text(ind.actual, spec)}/{value_text(ind.target, spec)}\n({percent_text(ind.percent)})"


def _results_grid(data: ReportData) -> Grid:
    p = data.progress
    columns = ("TT", "Đơn vị", *(f"{s.label} ({s.unit})" if s.unit else s.label for s in p.indicators))
    rows = [(str(n), d.name, *(_figure(d.indicator(s.key), s) for s in p.indicators))
            for n, d in enumerate(data.districts_in_order(), start=1)]
    rows.append(("", "Toàn Cụm", *(_figure(p.total(s.key), s) for s in p.indicators)))
    return Grid(f"Bảng 1. Kết quả thực hiện các chỉ tiêu đến ngày {format_date(p.as_of)} "
                f"(thực hiện/chỉ tiêu, tỷ lệ)", tuple(columns), tuple(rows),
                widths=(1.0, 4.2, *(3.2,) * len(p.indicators)), emphasis=(len(rows) - 1,))


def _ranking_grid(p: ClusterProgress) -> Grid:
    rows = []
    for d in p.districts:  # ranking order
        achieved = sum(1 for i in d.indicators if i.status == "achieved")
        rows.append((str(d.rank) if d.rank is not None else "—", d.name,
                     format_number(round(d.score, 4), 4) if d.score is not None else "—",
                     f"{achieved}/{len(d.indicators)}"))
    return Grid(f"Bảng 2. Xếp hạng thi đua đến ngày {format_date(p.as_of)}",
                ("Xếp hạng", "Đơn vị", "Điểm thi đua", "Số chỉ tiêu đã hoàn thành"), tuple(rows),
                widths=(1.2, 4.0, 1.6, 2.2))


def _reporting_grid(data: ReportData, weeks: list[ClusterProgress]) -> Grid:
    rows = []
    for n, d in enumerate(data.districts_in_order(), start=1):
        reported = sum(1 for h in weeks if h.district(d.code).reported_this_week)
        late = sum(1 for h in weeks if h.district(d.code).late)
        rows.append((str(n), d.name, str(reported), str(late), str(len(weeks) - reported)))
    return Grid(f"Bảng 3. Tình hình gửi báo cáo tuần ({len(weeks)} tuần, từ {format_date(weeks[0].week_start)} "
                f"đến {format_date(weeks[-1].as_of)})",
                ("TT", "Đơn vị", "Số tuần có báo cáo", "Số tuần nộp muộn", "Số tuần không có báo cáo"),
                tuple(rows), widths=(1.0, 4.0, 1.8, 1.8, 1.8))


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
