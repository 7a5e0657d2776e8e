"""`tracker overview`: every cluster of a federation side by side (a table, or JSON, and a workbook)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import AsOf, Format, FormatOption, err, out, parse_as_of, show_rich

if TYPE_CHECKING:
    from tracker.overview import Overview


def register(app: typer.Typer) -> None:
    app.command(
        "overview",
        help="Tổng hợp các cụm của một liên đoàn: mỗi cụm một dòng (số đơn vị đã báo cáo, tổng cụm theo chỉ "
             "tiêu, đơn vị dẫn đầu và cuối bảng), kèm bảng Excel. Every cluster side by side, from one config "
             "file per cluster (files, or folders of *.toml); the global --config is not used.\n\n"
             "Example: tracker overview configs/ --as-of 30/06/2023",
    )(overview)


def overview(
    configs: Annotated[list[Path], typer.Argument(
        help="Tệp cấu hình của các cụm, hoặc thư mục chứa chúng (*.toml) / cluster config files or folders.")],
    as_of: AsOf = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Thư mục ghi bảng Excel / workbook folder (default reports/overview/<tuần>).")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    from tracker.reporting.overview_book import build_overview

    result = build_overview(configs, parse_as_of(as_of), output)
    view = result.overview
    for warning in view.warnings:
        err(warning)
    if fmt == Format.json:
        import json

        out(json.dumps(view.to_json(), ensure_ascii=False, indent=2))
    else:
        show_rich(lambda console: render_table(view, console), width=220)
    err(f"Bảng tổng hợp / workbook: {result.workbook}")
    for m in view.missing:
        err(f"Cụm {m.cluster} ({m.config}): {m.reason}")
    if view.missing:
        raise typer.Exit(1)


def render_table(view: Overview, console) -> None:
    """The clusters × indicators table (%, leader, last), printed with ``console``."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tracker.calendar import cluster_short_name, district_short_name
    from tracker.text import format_date, format_percent

    table = Table(title=f"{view.federation_name} — tổng hợp {len(view.clusters)} cụm, số liệu đến ngày "
                        f"{format_date(view.as_of)}", box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("Cụm")
    table.add_column("Đã nộp", justify="right")
    for spec in view.indicators:
        table.add_column(f"{spec.label} (%)", justify="right")
    table.add_column("Dẫn đầu")
    table.add_column("Cuối bảng")
    table.add_column("Nguy cơ", justify="right")

    def names(people) -> str:
        return ", ".join(district_short_name(d.name) for d in people) or "—"

    for line in view.clusters:
        cells: list = [cluster_short_name(line.name), f"{line.reported}/{line.districts}"]
        for spec in view.indicators:
            total = line.total(spec.key)
            cells.append(format_percent(total.percent) if total else "—")
        cells += [names(line.best), names(line.worst), str(line.statuses["at_risk"])]
        table.add_row(*cells)
    table.add_section()
    reported = sum(c.reported for c in view.clusters)
    districts = sum(c.districts for c in view.clusters)
    totals = [Text(format_percent(t.percent), style="bold") for t in view.totals]
    table.add_row(Text("Tổng cộng", style="bold"), Text(f"{reported}/{districts}", style="bold"), *totals, "", "",
                  Text(str(sum(c.statuses["at_risk"] for c in view.clusters)), style="bold"))
    console.print(table)
    console.print(Text("% = tổng thực hiện / tổng chỉ tiêu đăng ký của cụm; dẫn đầu và cuối bảng theo xếp hạng "
                       "trong từng cụm; nguy cơ: số chỉ tiêu của các đơn vị có nguy cơ không đạt.", style="dim"))
