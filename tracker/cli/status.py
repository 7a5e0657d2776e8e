"""`tracker status`: the progress table (docs/commands.md §8), as a terminal table, JSON or CSV."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from tracker.cli.common import AsOf, StatusFormat, StatusFormatOption, context, err, out, parse_as_of, show_rich

if TYPE_CHECKING:
    from tracker.progress import ClusterProgress

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
    from tracker.context import require_initialised
    from tracker.progress import compute
    from tracker.standing import load_input, resolve_day

    ctx = require_initialised(context())
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


def render_table(progress: ClusterProgress, console) -> None:
    """The readable Vietnamese table, printed with ``console``: ranking × indicators, totals, reporting, notes."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tracker.progress import rules_text, status_label
    from tracker.text import format_date, format_number, format_percent, weekday_vi

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

    for d in progress.districts:
        cells: list = [str(d.rank) if d.rank else "—", f"{d.name}\n[{d.code}]",
                       format_number(d.score, 4) if d.score is not None else "—"]
        for ind in d.indicators:
            line = f"{format_number(ind.actual)} / {format_number(ind.target)}"
            if ind.percent is not None:
                line += f" · {format_percent(ind.percent)}"
            word = status_label(ind.status)
            if ind.achieved_on:
                word += f" {format_date(ind.achieved_on)[:5]}"
            cells.append(Text(f"{line}\n{word}", style=STATUS_STYLES[ind.status], justify="right"))
        if not d.reported_this_week:
            cells.append(Text("Chưa nộp", style="bold red"))
        elif d.late:
            cells.append(Text("Nộp muộn", style="yellow"))
        else:
            cells.append(Text("Đã nộp", style="green"))
        table.add_row(*cells)
    table.add_section()
    total_cells: list = ["", Text("Toàn cụm", style="bold"), ""]
    for t in progress.totals:
        text = f"{format_number(t.actual)} / {format_number(t.target)}"
        if t.percent is not None:
            text += f" · {format_percent(t.percent)}"
        total_cells.append(Text(text, style="bold", justify="right"))
    reported = sum(d.reported_this_week for d in progress.districts)
    total_cells.append(Text(f"{reported}/{len(progress.districts)} đã nộp", style="bold"))
    table.add_row(*total_cells)
    console.print(table)

    week_end = progress.as_of
    if progress.week_start and progress.week_deadline:
        dl = progress.week_deadline
        day_name = weekday_vi(dl.isoweekday())
        console.print(
            f"Tuần báo cáo: {format_date(progress.week_start)} – {format_date(week_end)}; hạn nộp "
            f"{day_name[0].upper() + day_name[1:]} {dl.strftime('%H:%M')} ngày {format_date(dl)}."
        )
    missing = progress.not_reported
    if missing:
        console.print(Text(f"Chưa nộp báo cáo tuần này ({len(missing)}): "
                           + ", ".join(d.name for d in missing) + ".", style="red"))
    else:
        console.print(Text("Tất cả đơn vị đã nộp báo cáo tuần này.", style="green"))
    late = [d for d in progress.districts if d.late]
    if late:
        console.print(Text(f"Nộp muộn ({len(late)}): " + ", ".join(d.name for d in late) + ".", style="yellow"))

    if progress.notes:
        names = {d.code: d.name for d in progress.districts}
        labels = {i.key: i.label for i in progress.indicators}
        console.print()
        console.print(Text(f"Lưu ý về số liệu ({len(progress.notes)}):", style="bold"))
        for n in progress.notes:
            where = []
            if n.as_of:
                where.append(f"số liệu đến {format_date(n.as_of)}")
            if n.indicator:
                where.append(labels.get(n.indicator, n.indicator))
            if n.cell:
                where.append(f"ô {n.cell}")
            suffix = f" ({'; '.join(where)})" if where else ""
            console.print(Text(f"  • {names.get(n.district, n.district)}{suffix}: {n.message_vi}",
                               style="yellow"))
    console.print()
    console.print(Text(rules_text(progress.rules), style="dim"))

