"""Charts for the weekly e-mail and the review pack: matplotlib object API on Agg, no pyplot state.

Every function takes the engine's results and returns a :class:`matplotlib.figure.Figure`; the caller
writes it as PNG (:func:`save_png`) or as a PDF page. Sizes and fonts are chosen for a projector:
large type, values printed on the bars, one colour per status (:mod:`tracker.reporting.palette`).
DejaVu Sans covers Vietnamese; all text is NFC so no glyph is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tracker.calendar import district_short_name
from tracker.progress import ClusterProgress, IndicatorSpec, Status, elapsed_fraction
from tracker.reporting import palette
from tracker.reporting.wording import (
    STATUS_VI,
    change_percent,
    indicator_deadline,
    percent_text,
    value_text,
    versus_last_year,
)
from tracker.text import format_date, format_number, nfc

# A 16:9-ish canvas: fills a slide, and 1320×744 px at the PNG resolution of the review pack.
SIZE = (11.0, 6.2)
PNG_DPI = 120  # slides on a projector
EMAIL_DPI = 100  # 1100 px: still sharper than the 720 px an e-mail shows, and ~15 % cheaper to draw
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 15,
    "axes.titlesize": 19,
    "axes.titleweight": "bold",
    "axes.labelsize": 15,
    "xtick.labelsize": 14,
    "ytick.labelsize": 15,
    "legend.fontsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,  # embed TrueType, so the PDF keeps Vietnamese text searchable
}


@contextmanager
def style() -> Iterator[None]:
    """The chart style, for building *and* saving (text properties are read at both times)."""
    with matplotlib.rc_context(STYLE):
        yield


def _figure(size: tuple[float, float]) -> Figure:
    return Figure(figsize=size, layout="constrained")


def save_png(fig: Figure, path: Path, dpi: int = PNG_DPI) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with style():
        fig.savefig(path, format="png", dpi=dpi, facecolor="white")
    return path


def freeze_for_page(fig: Figure, size: tuple[float, float]) -> Figure:
    """Reuse a figure already drawn (its PNG saved) as a larger page without laying it out again.

    The layout computed at the smaller size is kept in figure fractions, so every margin only grows;
    this halves the cost of the PDF, where the layout pass is the most expensive part of a draw.
    """
    fig.set_layout_engine("none")
    fig.set_size_inches(size)
    return fig


def chart_title(fig: Figure, ax, title: str, subtitle: str | None = None) -> None:
    """A bold title and a grey line under it, both left-aligned and laid out by the layout engine."""
    fig.suptitle(nfc(title), fontsize=19, fontweight="bold", x=0.01, ha="left")
    if subtitle:
        ax.set_title(nfc(subtitle), loc="left", fontsize=14, color="#455A64", fontweight="normal", pad=12)


def _status_legend(ax, statuses: Sequence[Status], loc: str = "lower right") -> None:
    seen = [s for s in ("achieved", "on_track", "behind", "at_risk", "no_data", "no_target") if s in statuses]
    handles = [Patch(facecolor=palette.STRONG[s], label=STATUS_VI[s]) for s in seen]
    if handles:
        ax.legend(handles=handles, loc=loc, frameon=True, framealpha=0.9)


def _expected_percent(progress: ClusterProgress, spec: IndicatorSpec) -> float:
    """Where a district should be by now, in % of its target: the engine's elapsed fraction × 100."""
    return 100.0 * elapsed_fraction(progress.as_of, spec.deadline)


def _total(progress: ClusterProgress, key: str):
    return next((t for t in progress.totals if t.key == key), None)


def _total_line(progress: ClusterProgress, spec: IndicatorSpec, *, versus: bool = False) -> str:
    """``Toàn Cụm: 120/200 CĐCS (60,0%)``; with ``versus``, then the change against the same period last year."""
    t = _total(progress, spec.key)
    if t is None:
        return ""
    line = (f"Toàn Cụm: {value_text(t.actual, spec)}/{value_text(t.target, spec)} {spec.unit} "
            f"({percent_text(t.percent)})")
    change = change_percent(t.actual, t.last_year_actual)
    if versus and change is not None:
        line += f"; {versus_last_year(change, progress.year)}"
    return nfc(line)


def percent_by_district(progress: ClusterProgress, key: str, *, size: tuple[float, float] = SIZE) -> Figure:
    """% of target by district for one indicator: a bar per district in its status colour, value on the bar."""
    spec = next(i for i in progress.indicators if i.key == key)
    rows = [(d, d.indicator(key)) for d in progress.districts]
    rows.sort(key=lambda r: (r[1].percent is None, -(r[1].percent or 0)))
    with style():
        fig = _figure(size)
        ax = fig.add_subplot()
        names = [district_short_name(d.name) for d, _ in rows]
        values = [i.percent or 0.0 for _, i in rows]
        colours = [palette.STRONG[i.status] for _, i in rows]
        y = range(len(rows))
        bars = ax.barh(list(y), values, color=colours, height=0.62, zorder=2)
        ax.set_yticks(list(y), labels=names)
        ax.invert_yaxis()  # best first, at the top
        labels = []
        for _, i in rows:
            if i.status == "no_target":
                labels.append(STATUS_VI["no_target"])
            elif i.status == "no_data" or i.percent is None:
                labels.append(STATUS_VI["no_data"])
            else:
                labels.append(f"{percent_text(i.percent)}  ({value_text(i.actual, spec)}/{value_text(i.target, spec)})")
        ax.bar_label(bars, labels=[nfc(t) for t in labels], padding=6, fontsize=15, fontweight="bold")
        top = max([100.0, *values])
        ax.set_xlim(0, top * 1.38)
        ax.axvline(100, color="#263238", linewidth=1.6, zorder=3)
        ax.text(101, -0.62, "Chỉ tiêu 100%", ha="left", va="center", fontsize=13, color="#263238")
        expected = _expected_percent(progress, spec)
        if expected < 100:
            ax.axvline(expected, color=palette.EXPECTED_LINE, linestyle="--", linewidth=1.6, zorder=3)
            ax.text(expected - 1, -0.62, nfc(f"Mức cần đạt đến nay {percent_text(expected)}"),
                    ha="right", va="center", fontsize=13, color=palette.EXPECTED_LINE)
        ax.set_xlabel("% so với chỉ tiêu đăng ký")
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
        ax.grid(axis="x", color="#ECEFF1", zorder=0)
        ax.set_ylim(len(rows) - 0.4, -1.0)
        _status_legend(ax, [i.status for _, i in rows])
        chart_title(fig, ax, f"{spec.label}: tỷ lệ thực hiện theo đơn vị",
               f"Số liệu đến {format_date(progress.as_of)}. {_total_line(progress, spec)}")
    return fig


def actual_vs_target(progress: ClusterProgress, key: str, *, size: tuple[float, float] = SIZE) -> Figure:
    """Actual next to target by district for one indicator, with the % of target above each actual bar;
    when last year's figures exist, a first bar per district with the figure of the same day last year."""
    spec = next(i for i in progress.indicators if i.key == key)
    rows = [(d, d.indicator(key)) for d in progress.districts]
    last_year = any(i.last_year_actual is not None for _, i in rows)
    with style():
        fig = _figure(size)
        ax = fig.add_subplot()
        n = len(rows)
        width = 0.28 if last_year else 0.38
        xs = list(range(n))
        targets = [i.target or 0.0 for _, i in rows]
        actuals = [i.actual or 0.0 for _, i in rows]
        before = [i.last_year_actual or 0.0 for _, i in rows]
        handles = []
        if last_year:
            label = f"Cùng kỳ năm {progress.year - 1}"
            lb = ax.bar([x - width for x in xs], before, width, color=palette.LAST_YEAR_FILL,
                        edgecolor=palette.LAST_YEAR_EDGE, hatch="//", linewidth=1.2, zorder=2)
            ax.bar_label(lb, labels=[value_text(i.last_year_actual, spec) if i.last_year_actual is not None
                                     else "không có" for _, i in rows], padding=3, fontsize=12,
                         color=palette.LAST_YEAR_EDGE)
            handles.append(Patch(facecolor=palette.LAST_YEAR_FILL, edgecolor=palette.LAST_YEAR_EDGE, hatch="//",
                                 label=nfc(label)))
        shift = 0.0 if last_year else width / 2
        tb = ax.bar([x - shift for x in xs], targets, width, color=palette.TARGET_GREY,
                    label="Chỉ tiêu đăng ký", zorder=2)
        ab = ax.bar([x + width - shift for x in xs], actuals, width,
                    color=[palette.STRONG[i.status] for _, i in rows], label="Thực hiện", zorder=2)
        ax.bar_label(tb, labels=[value_text(i.target, spec) if i.target is not None else "" for _, i in rows],
                     padding=3, fontsize=13, color="#455A64")
        ax.bar_label(ab, labels=[nfc(f"{value_text(i.actual, spec)}\n{percent_text(i.percent)}")
                                 if i.actual is not None else "Chưa có\nsố liệu" for _, i in rows],
                     padding=3, fontsize=14, fontweight="bold")
        ax.set_xticks(xs, labels=[district_short_name(d.name) for d, _ in rows])
        top = max([1.0, *targets, *actuals, *before])
        ax.set_ylim(0, top * 1.25)
        ax.set_ylabel(nfc(spec.unit or "Số lượng"))
        ax.yaxis.set_major_formatter(lambda v, _pos: format_number(v, 0))
        ax.grid(axis="y", color="#ECEFF1", zorder=0)
        handles.append(Patch(facecolor=palette.TARGET_GREY, label="Chỉ tiêu đăng ký"))
        seen = []
        for _, i in rows:
            if i.status not in seen:
                seen.append(i.status)
        handles += [Patch(facecolor=palette.STRONG[s], label=f"Thực hiện: {STATUS_VI[s].lower()}")
                    for s in ("achieved", "on_track", "behind", "at_risk", "no_data", "no_target") if s in seen]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), frameon=False)
        chart_title(fig, ax, f"{spec.label}: thực hiện so với chỉ tiêu",
               f"Số liệu đến {format_date(progress.as_of)}. {_total_line(progress, spec, versus=True)}")
    return fig


def cluster_progress_over_time(history: Sequence[ClusterProgress], *, size: tuple[float, float] = SIZE) -> Figure:
    """The cluster's % of target per indicator, week by week, with the share of the year elapsed for reference."""
    last = history[-1]
    with style():
        fig = _figure(size)
        ax = fig.add_subplot()
        dates = [p.as_of for p in history]
        ends = []
        for n, spec in enumerate(last.indicators):
            ys = []
            for p in history:
                t = _total(p, spec.key)
                ys.append(t.percent if t is not None and t.percent is not None else float("nan"))
            colour = palette.SERIES[n % len(palette.SERIES)]
            ax.plot(dates, ys, color=colour, linewidth=3, marker="o", markersize=4, label=nfc(spec.label))
            if ys and ys[-1] == ys[-1]:  # not NaN
                ends.append([ys[-1], ys[-1], colour])
        ax.plot(dates, [100.0 * elapsed_fraction(d) for d in dates], color="#607D8B",
                linestyle="--", linewidth=2, label="Thời gian đã qua của năm")
        ax.axhline(100, color="#263238", linewidth=1.2)
        ax.set_ylabel("% so với chỉ tiêu đăng ký (toàn Cụm)")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
        top = max(110.0, *[(t.percent or 0) for t in last.totals]) * 1.08
        ax.set_ylim(0, top)
        for value, y, colour in _spread(ends, gap=top * 0.045):
            ax.annotate(percent_text(value), (dates[-1], y), xytext=(10, 0), textcoords="offset points",
                        va="center", fontsize=14, fontweight="bold", color=colour)
        _date_axis(ax, dates)
        ax.grid(color="#ECEFF1")
        fig.legend(loc="outside lower center", ncols=3, frameon=False)
        chart_title(fig, ax, "Tiến độ toàn Cụm theo tuần",
               f"Tỷ lệ luỹ kế so với tổng chỉ tiêu đăng ký của Cụm, đến {format_date(last.as_of)}")
    return fig


def _spread(items: list[list], gap: float) -> list[list]:
    """End-of-line labels [value, y, colour] moved apart vertically so no two overlap."""
    items = sorted(items, key=lambda it: it[1])
    for n in range(1, len(items)):
        if items[n][1] - items[n - 1][1] < gap:
            items[n][1] = items[n - 1][1] + gap
    return items


def _date_axis(ax, dates: Sequence[date]) -> None:
    if not dates:
        return
    start = date(dates[0].year, dates[0].month, 1)
    end = dates[-1]
    ticks = []
    d = start
    while d <= end:
        ticks.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    ax.set_xticks(ticks, labels=[f"{t.month:02d}/{t.year}" for t in ticks])
    ax.set_xlim(start - timedelta(days=2), end + timedelta(days=max(12, (end - start).days // 8)))


def ranking(progress: ClusterProgress, *, size: tuple[float, float] = SIZE) -> Figure:
    """Districts by score, rank first; the score written on each bar."""
    rows = [d for d in progress.districts]
    rows.sort(key=lambda d: (d.rank is None, d.rank or 0))
    with style():
        fig = _figure(size)
        ax = fig.add_subplot()
        ys = list(range(len(rows)))
        scores = [d.score or 0.0 for d in rows]
        colours = ["#1F3864" if d.rank == 1 else "#5C7CAD" for d in rows]
        bars = ax.barh(ys, scores, color=colours, height=0.62, zorder=2)
        ax.set_yticks(ys, labels=[nfc(f"{d.rank or '—'}. {district_short_name(d.name)}") for d in rows])
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[format_number(d.score, 4) if d.score is not None else "—" for d in rows],
                     padding=6, fontsize=15, fontweight="bold")
        ax.set_xlim(0, max([1.0, *scores]) * 1.18)
        ax.xaxis.set_major_formatter(lambda v, _pos: format_number(v, 1))
        ax.set_xlabel("Điểm thi đua")
        ax.grid(axis="x", color="#ECEFF1", zorder=0)
        chart_title(fig, ax, "Xếp hạng thi đua", f"Theo điểm thi đua, số liệu đến {format_date(progress.as_of)}")
    return fig


def deadline_completion(progress: ClusterProgress, key: str, *, size: tuple[float, float] = SIZE) -> Figure:
    """Completion of an indicator with a deadline: a bar from 1 January to the day each district finished."""
    spec = next(i for i in progress.indicators if i.key == key)
    deadline = indicator_deadline(spec, progress.year)
    rows = [(d, d.indicator(key)) for d in progress.districts]
    rows.sort(key=lambda r: (r[1].achieved_on is None, r[1].achieved_on or date.max, -(r[1].percent or 0)))
    start = date(progress.year, 1, 1)
    with style():
        fig = _figure(size)
        ax = fig.add_subplot()
        ys = list(range(len(rows)))
        for y, (_d, i) in zip(ys, rows, strict=True):
            end = i.achieved_on or progress.as_of
            if i.achieved_on is not None:
                on_time = deadline is None or i.achieved_on <= deadline
                colour = palette.STRONG["achieved"] if on_time else palette.STRONG["behind"]
                if deadline is not None and i.achieved_on < deadline:
                    note = f"Hoàn thành {format_date(i.achieved_on)}, sớm {(deadline - i.achieved_on).days} ngày"
                elif deadline is not None and i.achieved_on == deadline:
                    note = f"Hoàn thành {format_date(i.achieved_on)}, đúng hạn"
                elif deadline is not None:
                    note = f"Hoàn thành {format_date(i.achieved_on)}, chậm {(i.achieved_on - deadline).days} ngày"
                else:
                    note = f"Hoàn thành {format_date(i.achieved_on)}"
            else:
                colour = palette.STRONG[i.status]
                if i.status in ("no_data", "no_target"):
                    note = STATUS_VI[i.status]
                else:
                    note = (f"Chưa hoàn thành: {value_text(i.actual, spec)}/{value_text(i.target, spec)} "
                            f"({percent_text(i.percent)})")
            ax.barh(y, (end - start).days + 1, left=start, color=colour, height=0.6, zorder=2)
            ax.text(end + timedelta(days=3), y, nfc(note), va="center", fontsize=14, fontweight="bold", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
        ax.set_yticks(ys, labels=[district_short_name(d.name) for d, _ in rows])
        ax.invert_yaxis()
        if deadline is not None:
            ax.axvline(deadline, color=palette.STRONG["at_risk"], linestyle="--", linewidth=2, zorder=3)
            ax.text(deadline, -0.7, nfc(f" Hạn {format_date(deadline)}"), ha="left", va="center", fontsize=14,
                    color=palette.STRONG["at_risk"], fontweight="bold")
        right = max(progress.as_of, deadline or progress.as_of)
        ticks = []
        d = start
        while d <= right:
            ticks.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        ax.set_xticks(ticks, labels=[f"{t.day:02d}/{t.month:02d}" for t in ticks])
        ax.set_xlim(start, right + timedelta(days=max(100, int((right - start).days * 0.62))))
        ax.set_ylim(len(rows) - 0.4, -1.0)
        ax.grid(axis="x", color="#ECEFF1", zorder=0)
        done = sum(1 for _, i in rows if i.achieved_on is not None and (deadline is None or i.achieved_on <= deadline))
        chart_title(fig, ax, f"{spec.label}: hoàn thành so với hạn",
               f"{done}/{len(rows)} đơn vị hoàn thành trước hoặc đúng hạn; số liệu đến {format_date(progress.as_of)}")
    return fig
