"""`tracker status`: the progress table (docs/commands.md §8), as a terminal table, JSON or CSV."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from tracker.cli.common import AsOf, StatusFormat, StatusFormatOption, err, out, parse_as_of, ready, show_rich

if TYPE_CHECKING:
    from tracker.progress import ClusterProgress, DistrictProgress

STATUS_STYLES = {
    "achieved": "bold green",
    "on_track": "green",
    "behind": "yellow",
    "at_risk": "bold red",
    "no_data": "magenta",
    "no_target": "dim",
}


def register(app: typer.Typer) -> None:
    app.command(
        "status",
        help="Bảng tiến độ: thực hiện so với chỉ tiêu, xếp hạng, tình hình nộp báo cáo tuần. "
             "Progress table: actual vs target, ranking, weekly reporting.\n\n"
             "Example: tracker status --as-of 30/06/2023 --format json > status.json",
    )(status)


def status(
    as_of: AsOf = None,
    fmt: StatusFormatOption = StatusFormat.table,
) -> None:
    from tracker.progress import compute
    from tracker.standing import load_input, resolve_day

    ctx = ready()
    day = resolve_day(ctx, parse_as_of(as_of))
    if day.notice_vi:
        err(f"{day.notice_vi} / {day.notice_en}")
    with ctx.session() as session:
        progress = compute(load_input(session, ctx.settings, day.day))
    if fmt == "json":
        import json

        out(json.dumps(progress.to_json(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        sys.stdout.write(render_csv(progress))
        sys.stdout.flush()
    else:
        show_rich(lambda console: render_table(progress, console), width=200)


def csv_rows(progress: ClusterProgress) -> list[dict]:
    """One row per district × indicator, numbers rounded like the JSON (machine-readable: `.` decimals)."""
    from tracker.progress import status_label

    data = progress.to_json()
    specs = {i.key: i for i in progress.indicators}
    rows = []
    for d, dj in zip(progress.districts, data["districts"], strict=True):
        for ind, ij in zip(d.indicators, dj["indicators"], strict=True):
            spec = specs[ind.key]
            rows.append({
                "cluster": progress.cluster, "as_of": data["as_of"], "rank": dj["rank"],
                "district_code": d.code, "district_name": d.name, "score": dj["score"],
                "indicator": ind.key, "indicator_label": spec.label, "unit": spec.unit,
                "actual": ij["actual"], "target": ij["target"], "percent": ij["percent"],
                "expected": ij["expected"], "projected": ij["projected"], "status": ind.status,
                "status_vi": status_label(ind.status, "vi"), "achieved_on": ij["achieved_on"],
                "figure_as_of": ind.as_of.isoformat() if ind.as_of else None,
                "last_as_of": dj["last_as_of"], "reported_this_week": d.reported_this_week, "late": d.late,
                "week_change": ij["week_change"], "last_year_actual": ij["last_year_actual"],
                "rank_change": dj["rank_change"],
            })
    return rows


def render_csv(progress: ClusterProgress) -> str:
    import csv
    import io

    rows = csv_rows(progress)
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["cluster", "as_of", "district_code", "indicator"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                         for k, v in row.items()})
    return buf.getvalue()


CHANGES_KEY = "Trong ngoặc: thay đổi so với tuần trước (— là không đổi); ▲/▼: hạng tăng/giảm so với tuần trước."
REPORTING_STYLES = {"on_time": "green", "late": "yellow", "missing": "bold red"}


def render_table(progress: ClusterProgress, console) -> None:
    """The readable Vietnamese table, printed with ``console``: ranking × indicators, totals, reporting, notes."""
    from rich.text import Text

    from tracker.progress import rules_text

    console.print(progress_table(progress))
    console.print(Text(CHANGES_KEY, style="dim"))
    for line in reporting_lines(progress):
        console.print(line)
    if progress.notes:
        console.print()
        for line in note_lines(progress):
            console.print(line)
    console.print()
    console.print(Text(rules_text(progress.rules), style="dim"))


def progress_table(progress: ClusterProgress):
    """Districts in ranking order × indicators (actual (change this week) / target · %, the status word in
    its colour, last year's figure when there is one), the rank with its movement (▲2 / ▼1), the week's
    reporting word, then the cluster's totals."""
    from rich import box
    from rich.table import Table

    from tracker.text import format_date

    title = (f"{progress.cluster_name} — tiến độ thực hiện chỉ tiêu năm {progress.year}, "
             f"số liệu đến ngày {format_date(progress.as_of)}")
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False, title_justify="left")
    table.add_column("Hạng", justify="right")
    table.add_column("Đơn vị")
    table.add_column("Điểm", justify="right")
    for spec in progress.indicators:
        unit = f" ({spec.unit})" if spec.unit else ""
        deadline = f"\nhạn {spec.deadline[1]:02d}/{spec.deadline[0]:02d}" if spec.deadline else ""
        table.add_column(f"{spec.label}{unit}{deadline}", justify="right")
    table.add_column("Báo cáo tuần")
    kinds = {s.key: s.kind for s in progress.indicators}
    for d in progress.districts:
        table.add_row(*district_cells(d, kinds))
    table.add_section()
    table.add_row(*total_cells(progress))
    return table


def _figures(actual: float | None, target: float | None, percent: float | None, change: float | None = None,
             kind: str = "count") -> str:
    """``12 (+3) / 30 · 40,0%``: the actual with its change this week (``—`` when none), the target and the
    percentage (no % without a target; no change without a figure)."""
    from tracker.text import format_change, format_number, format_percent

    moved = f" ({format_change(change, 0 if kind == 'count' else None)})" if actual is not None else ""
    text = f"{format_number(actual)}{moved} / {format_number(target)}"
    return text + f" · {format_percent(percent)}" if percent is not None else text


def _last_year(value: float | None) -> str:
    """The third line of a cell: ``Cùng kỳ năm trước: 9`` when last year's figure exists."""
    from tracker.text import format_number

    return f"\nCùng kỳ năm trước: {format_number(value)}" if value is not None else ""


def district_cells(d: DistrictProgress, kinds: dict[str, str] | None = None) -> list:
    from rich.text import Text

    from tracker.progress import reporting_label, status_label
    from tracker.text import format_date, format_number, format_rank_change

    kinds = kinds or {}
    rank = Text(str(d.rank) if d.rank else "—", justify="right")
    if d.rank_change:
        rank.append(f"\n{format_rank_change(d.rank_change)}", style="green" if d.rank_change > 0 else "red")
    cells: list = [rank, f"{d.name}\n[{d.code}]", format_number(d.score, 4) if d.score is not None else "—"]
    for ind in d.indicators:
        word = status_label(ind.status)
        if ind.achieved_on:
            word += f" {format_date(ind.achieved_on)[:5]}"
        figures = _figures(ind.actual, ind.target, ind.percent, ind.week_change, kinds.get(ind.key, "count"))
        cells.append(Text(f"{figures}\n{word}{_last_year(ind.last_year_actual)}",
                          style=STATUS_STYLES[ind.status], justify="right"))
    cells.append(Text(reporting_label(d.reporting), style=REPORTING_STYLES[d.reporting]))
    return cells


def total_cells(progress: ClusterProgress) -> list:
    from rich.text import Text

    cells: list = ["", Text("Toàn cụm", style="bold"), ""]
    for t in progress.totals:
        figures = _figures(t.actual, t.target, t.percent, t.week_change, progress.indicator_spec(t.key).kind)
        cells.append(Text(figures + _last_year(t.last_year_actual), style="bold", justify="right"))
    reported = sum(d.reported_this_week for d in progress.districts)
    cells.append(Text(f"{reported}/{len(progress.districts)} đã nộp", style="bold"))
    return cells


def reporting_lines(progress: ClusterProgress) -> list:
    """The reporting week and its deadline; who has not reported; who reported late."""
    from rich.text import Text

    from tracker.text import format_date, weekday_vi

    lines: list = []
    if progress.week_start and progress.week_deadline:
        dl = progress.week_deadline
        day_name = weekday_vi(dl.isoweekday())
        lines.append(f"Tuần báo cáo: {format_date(progress.week_start)} – {format_date(progress.as_of)}; hạn nộp "
                     f"{day_name[0].upper() + day_name[1:]} {dl.strftime('%H:%M')} ngày {format_date(dl)}.")
    missing = progress.not_reported
    if missing:
        lines.append(Text(f"Chưa nộp báo cáo tuần này ({len(missing)}): " + ", ".join(d.name for d in missing) + ".",
                          style="red"))
    else:
        lines.append(Text("Tất cả đơn vị đã nộp báo cáo tuần này.", style="green"))
    late = [d for d in progress.districts if d.late]
    if late:
        lines.append(Text(f"Nộp muộn ({len(late)}): " + ", ".join(d.name for d in late) + ".", style="yellow"))
    return lines


def note_lines(progress: ClusterProgress) -> list:
    """``Lưu ý về số liệu (n):`` and one line per note: district, where (date, indicator, cell), message."""
    from rich.text import Text

    from tracker.text import format_date

    names = {d.code: d.name for d in progress.districts}
    labels = {i.key: i.label for i in progress.indicators}
    lines = [Text(f"Lưu ý về số liệu ({len(progress.notes)}):", style="bold")]
    for n in progress.notes:
        where = []
        if n.as_of:
            where.append(f"số liệu đến {format_date(n.as_of)}")
        if n.indicator:
            where.append(labels.get(n.indicator, n.indicator))
        if n.cell:
            where.append(f"ô {n.cell}")
        suffix = f" ({'; '.join(where)})" if where else ""
        lines.append(Text(f"  • {names.get(n.district, n.district)}{suffix}: {n.message_vi}", style="yellow"))
    return lines
