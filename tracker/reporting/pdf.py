"""The review pack as a PDF: A4 landscape, a title page, one chart per page, the ranking table (and the
cluster against the same period last year when last year's figures exist).

Drawn with matplotlib's PdfPages (vector pages, TrueType fonts embedded so Vietnamese text stays
selectable and searchable); no extra dependency.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from tracker.calendar import district_short_name
from tracker.progress import ClusterProgress, same_day_last_year
from tracker.reporting import palette
from tracker.reporting.charts import style
from tracker.reporting.wording import STATUS_VI, change_percent, change_text, has_last_year, percent_text, value_text
from tracker.text import format_date, format_number, nfc

A4_LANDSCAPE = (11.69, 8.27)  # inches

# fontTools logs every step of subsetting the embedded fonts at INFO: noise on the CLI's stderr.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def write_pdf(path: Path, *, title: str, subtitle: str, cluster_name: str, progress: ClusterProgress,
              charts: Sequence[Figure], contents: Sequence[str], generated_at: datetime | None = None,
              notes: Sequence[str] = ()) -> Path:
    """``charts``: one figure per page, already sized for A4 landscape (see ``charts.freeze_for_page``);
    ``notes``: lines under the title page's subtitle (a closed period's close and confirmations)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with style(), PdfPages(path, metadata={"Title": nfc(title), "Creator": "Cluster tracker"}) as pdf:
        pdf.savefig(_title_page(title, subtitle, cluster_name, contents, generated_at, notes))
        for fig in charts:
            pdf.savefig(fig)
        pdf.savefig(ranking_table(progress))
        if has_last_year(progress):
            pdf.savefig(last_year_table(progress))
    return path


FOOTER_Y = 0.04
CONTENTS_BOTTOM = 0.09  # the last line of the contents stays above this (clear of the footer)


def _title_page(title: str, subtitle: str, cluster_name: str, contents: Sequence[str],
                generated_at: datetime | None, notes: Sequence[str] = ()) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    fig.patches.append(_band(fig))
    fig.text(0.06, 0.80, nfc(cluster_name), fontsize=20, color="white", fontweight="bold", va="center")
    fig.text(0.06, 0.60, nfc(title), fontsize=30, fontweight="bold", color=palette.HEADER_FILL, va="center",
             wrap=True)
    fig.text(0.06, 0.52, nfc(subtitle), fontsize=18, color="#455A64", va="center")
    y = 0.42
    if notes:
        lines = [part for line in notes for part in textwrap.wrap(nfc(line), 115)]
        fig.text(0.06, 0.48, "\n".join(lines), fontsize=11, color="#455A64", va="top", linespacing=1.4)
        y = min(y, 0.44 - 0.027 * len(lines))
    fig.text(0.06, y, "Nội dung", fontsize=16, fontweight="bold", va="center")
    # The list must end above the footer line (y = 0.04), however many charts the pack has.
    step = min(0.042, (y - CONTENTS_BOTTOM) / max(len(contents), 1))
    size = 14 if step >= 0.036 else 12
    for n, line in enumerate(contents, start=1):
        y -= step
        fig.text(0.08, y, nfc(f"{n}. {line}"), fontsize=size, va="center")
    if generated_at:
        fig.text(0.06, FOOTER_Y, f"Lập tự động lúc {generated_at:%H:%M} ngày {format_date(generated_at)}",
                 fontsize=11, color="#78909C")
    return fig


def _band(fig: Figure):
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0.72), 1, 0.16, transform=fig.transFigure, facecolor=palette.HEADER_FILL, zorder=-1)


def ranking_table(progress: ClusterProgress, size: tuple[float, float] = A4_LANDSCAPE) -> Figure:
    """The ranking as a table: rank, district, score, then % of each indicator coloured by status."""
    js = progress.to_json()
    fig = Figure(figsize=size)
    fig.suptitle("Xếp hạng thi đua", x=0.04, ha="left", fontsize=22, fontweight="bold")
    fig.text(0.04, 0.895, nfc(f"Số liệu đến {format_date(progress.as_of)}; tỷ lệ thực hiện so với chỉ tiêu đăng "
                              f"ký, màu theo trạng thái"), fontsize=13, color="#455A64")
    ax = fig.add_axes((0.03, 0.1, 0.94, 0.76))
    ax.axis("off")
    header = ["Hạng", "Đơn vị", "Điểm", *[_wrap(s.label, 13) for s in progress.indicators]]
    cells, colours = [], []
    for d, dj in zip(progress.districts, js["districts"], strict=True):
        row = [str(dj["rank"] or "—"), district_short_name(d.name),
               format_number(dj["score"], 4) if dj["score"] is not None else "—"]
        fills = ["white", "white", "white"]
        for ind in d.indicators:
            row.append(percent_text(ind.percent) if ind.percent is not None else STATUS_VI[ind.status])
            fills.append(palette.FILL[ind.status])
        cells.append([nfc(c) for c in row])
        colours.append(fills)
    table = ax.table(cellText=cells, colLabels=[nfc(h) for h in header], cellColours=colours, loc="upper center",
                     cellLoc="center", colWidths=[0.07, 0.2, 0.1, *[0.63 / max(1, len(progress.indicators))]
                                                  * len(progress.indicators)])
    table.auto_set_font_size(False)
    table.set_fontsize(14)
    table.scale(1, 3.2)
    lines = max(h.count("\n") + 1 for h in header)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor("#B0BEC5")
        if r == 0:
            cell.set_facecolor(palette.HEADER_FILL)
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
            cell.get_text().set_fontsize(12)
            cell.set_height(cell.get_height() * (0.45 + 0.42 * lines))
    x = 0.04
    for status in ("achieved", "on_track", "behind", "at_risk", "no_data", "no_target"):
        word = STATUS_VI[status]
        fig.text(x, 0.05, nfc(word), fontsize=12, color=palette.INK[status],
                 bbox={"facecolor": palette.FILL[status], "edgecolor": "#B0BEC5", "pad": 4})
        x += 0.03 + 0.0095 * len(word)
    return fig


def last_year_table(progress: ClusterProgress, size: tuple[float, float] = A4_LANDSCAPE) -> Figure:
    """The cluster's figure of each indicator against the same day last year, and the change."""
    before = progress.year - 1
    fig = Figure(figsize=size)
    fig.suptitle(f"So với cùng kỳ năm {before}", x=0.04, ha="left", fontsize=22, fontweight="bold")
    fig.text(0.04, 0.895, nfc(f"Toàn Cụm, số liệu luỹ kế đến {format_date(progress.as_of)} so với đến "
                              f"{format_date(same_day_last_year(progress.as_of))}"), fontsize=13, color="#455A64")
    ax = fig.add_axes((0.03, 0.1, 0.94, 0.76))
    ax.axis("off")
    cells, inks = [], []
    for spec in progress.indicators:
        t = progress.total(spec.key)
        change = change_percent(t.actual, t.last_year_actual)
        cells.append([nfc(f"{spec.label} ({spec.unit})" if spec.unit else spec.label), value_text(t.actual, spec),
                      value_text(t.last_year_actual, spec), nfc(change_text(change) or "—")])
        rounded = None if change is None else round(change, 1)
        inks.append("#000000" if not rounded else palette.INK["achieved" if rounded > 0 else "at_risk"])
    table = ax.table(cellText=cells, colLabels=["Chỉ tiêu", f"Năm {progress.year}", f"Cùng kỳ năm {before}",
                                                "So với cùng kỳ"],
                     loc="upper center", cellLoc="center", colWidths=[0.46, 0.16, 0.18, 0.2])
    table.auto_set_font_size(False)
    table.set_fontsize(14)
    table.scale(1, 3.0)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#B0BEC5")
        if r == 0:
            cell.set_facecolor(palette.HEADER_FILL)
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
        elif c == 0:
            cell.get_text().set_horizontalalignment("left")
            cell.PAD = 0.02
        elif c == 3:
            cell.get_text().set_color(inks[r - 1])
            cell.get_text().set_fontweight("bold")
    return fig


def _wrap(label: str, width: int) -> str:
    words, lines, cur = label.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)
