"""The federation overview workbook (``tracker overview``): clusters side by side, every district by
cluster, how to read it.

The numbers are :mod:`tracker.overview`'s (pure: every cluster's progress summed up); this module only
lays them out, with the report workbook's looks, number formats and print setup
(:mod:`tracker.reporting.xlsx`), and :func:`build_overview` loads, computes and writes in one call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from tracker.calendar import cluster_short_name, iso_week, week_period
from tracker.overview import ClusterLine, Overview, federation_overview, load_federation
from tracker.progress import STATUSES, DistrictProgress, IndicatorSpec
from tracker.reporting import palette
from tracker.reporting.wording import STATUS_VI, rules_paragraph, safe_filename
from tracker.reporting.xlsx import (
    BOLD,
    BOX,
    CELL,
    CENTERED,
    FMT_COUNT,
    FMT_PERCENT,
    FMT_SCORE,
    STYLE,
    TOTAL_FILL,
    WRAP,
    header_rows,
    print_setup,
    put,
    reporting_word,
    value_format,
)
from tracker.sheets import Block, Column, Look, set_widths, write_cell, write_table
from tracker.text import format_date, format_number

SHEETS = ("Tổng hợp các cụm", "Các đơn vị", "Cách tính")

_TOTAL = Look(font=BOLD, fill=TOTAL_FILL, border=BOX)
_NO_TOTAL = object()  # a column whose cell in the total row stays blank and unstyled (a None total is styled)
_FILLS = {s: PatternFill("solid", fgColor=palette.argb(palette.FILL[s])) for s in STATUSES}


def write_workbook(overview: Overview, path: Path) -> Path:
    """The overview workbook: clusters side by side, every district by cluster, how to read it."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEETS[0]
    clusters_sheet(ws, overview)
    districts_sheet(wb.create_sheet(SHEETS[1]), overview)
    reading_sheet(wb.create_sheet(SHEETS[2]), overview)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@dataclass(frozen=True)
class _Cluster:
    number: int  # 1, 2, ... in the order of the configs
    line: ClusterLine
    js: dict  # the cluster's entry of Overview.to_json()

    def total(self, key: str) -> dict | None:
        return next((t for t in self.js["totals"] if t["key"] == key), None)


def _who(people: list[dict]) -> str:
    return "; ".join(f"{p['name']} ({format_number(p['score'], 4)})" for p in people) or "—"


@dataclass(frozen=True)
class _Part:
    """Columns under one title of the upper header row: one column, whose own title spans both header
    rows (``label`` None), or an indicator's three columns under its label. Each column comes with its
    figure in the federation's total row, or ``_NO_TOTAL``."""

    columns: list[tuple[Column[_Cluster], object]]
    label: str | None = None


def _parts(overview: Overview, js: dict) -> list[_Part]:
    clusters = overview.clusters

    def one(column: Column[_Cluster], total: object = _NO_TOTAL) -> _Part:
        return _Part([(column, total)])

    parts = [
        one(Column("STT", lambda c: c.number, 5)),
        one(Column("Mã cụm", lambda c: c.line.cluster, 10)),
        one(Column("Cụm", lambda c: cluster_short_name(c.line.name), 22, look=replace(CELL, font=BOLD)), "Tổng cộng"),
        one(Column("Số đơn vị", lambda c: c.line.districts, 9, FMT_COUNT), sum(c.districts for c in clusters)),
        one(Column("Đã báo cáo tuần này", lambda c: c.line.reported, 11, FMT_COUNT),
            sum(c.reported for c in clusters)),
        one(Column("Nộp muộn", lambda c: c.line.late, 9, FMT_COUNT), sum(c.late for c in clusters)),
    ]
    parts += [_indicator_part(spec, t) for spec, t in zip(overview.indicators, js["totals"], strict=True)]
    return parts + [
        one(Column("Dẫn đầu cụm (điểm)", lambda c: _who(c.js["best"]), 34)),
        one(Column("Cuối bảng (điểm)", lambda c: _who(c.js["worst"]), 34)),
        one(Column("Chỉ tiêu nguy cơ không đạt", lambda c: c.line.statuses["at_risk"], 12, FMT_COUNT),
            sum(c.statuses["at_risk"] for c in clusters)),
    ]


def _indicator_part(spec: IndicatorSpec, total: dict) -> _Part:
    def figure(name: str):
        return lambda c: (c.total(spec.key) or {}).get(name)

    amount = value_format(spec)
    return _Part([(Column("Thực hiện", figure("actual"), 11, amount), total["actual"]),
                  (Column("Chỉ tiêu", figure("target"), 11, amount), total["target"]),
                  (Column("%", figure("percent"), 11, FMT_PERCENT, look=replace(CELL, font=BOLD)), total["percent"])],
                 label=f"{spec.label} ({spec.unit})" if spec.unit else spec.label)


def clusters_sheet(ws: Worksheet, overview: Overview) -> None:
    """Clusters side by side under a two-row header, then the federation's total row."""
    js = overview.to_json()
    put(ws, 1, 1, f"{overview.federation_name}: tiến độ thực hiện chỉ tiêu thi đua theo cụm, số liệu đến ngày "
                  f"{format_date(overview.as_of)}", font=Font(bold=True, size=14))
    put(ws, 2, 1, f"{len(overview.clusters)} cụm, {sum(c.districts for c in overview.clusters)} đơn vị. Mỗi cụm "
                  "xếp hạng các đơn vị của mình; tổng cụm và tổng chung cộng số thực hiện và chỉ tiêu đăng ký.",
        font=Font(italic=True))
    parts = _parts(overview, js)
    pairs = [pair for part in parts for pair in part.columns]
    rows = [_Cluster(n, line, cj)
            for n, (line, cj) in enumerate(zip(overview.clusters, js["clusters"], strict=True), start=1)]
    table = write_table(ws, 5, [c for c, _ in pairs], rows, replace(STYLE, header_height=20))
    _upper_header(ws, table, parts)
    for n, (column, total) in enumerate(pairs):
        if total is not _NO_TOTAL:
            write_cell(ws, table.after(0), table.column(n), total, column.fmt, _TOTAL)
    ws.freeze_panes = table.top("Số đơn vị")
    set_widths(ws, table)
    print_setup(ws, f"{table.header - 1}:{table.header}")


def _upper_header(ws: Worksheet, table: Block, parts: list[_Part]) -> None:
    """The header row above ``table``'s: a single column's title over both rows, then each indicator's
    label over its three columns."""
    row = table.header - 1
    starts, n = [], 0
    for part in parts:
        starts.append(n)
        n += len(part.columns)
    for part, start in zip(parts, starts, strict=True):
        if part.label is None:
            col = table.column(start)
            write_cell(ws, row, col, table.columns[start].title, look=STYLE.header)
            ws.merge_cells(start_row=row, start_column=col, end_row=table.header, end_column=col)
    for part, start in zip(parts, starts, strict=True):
        if part.label is not None:
            col = table.column(start)
            write_cell(ws, row, col, part.label, look=STYLE.header)
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=table.column(start + 2))
    ws.row_dimensions[row].height = 36


@dataclass(frozen=True)
class _Member:
    """A district of a cluster, with its JSON form and its indicators by key."""

    line: ClusterLine
    district: DistrictProgress
    js: dict
    mine: dict[str, tuple[str, float | None]]  # indicator key -> (status, percent)


def districts_sheet(ws: Worksheet, overview: Overview) -> None:
    """Every district of every cluster: its rank in its cluster, score, % per indicator coloured by status."""
    members = []
    for line in overview.clusters:
        js = line.progress.to_json()
        for d, dj in zip(line.progress.districts, js["districts"], strict=True):
            mine = {i.key: (i.status, ij["percent"]) for i, ij in zip(d.indicators, dj["indicators"], strict=True)}
            members.append(_Member(line, d, dj, mine))
    table = write_table(ws, 1, [
        Column("Mã cụm", lambda m: m.line.cluster, 10),
        Column("Cụm", lambda m: cluster_short_name(m.line.name), 20),
        Column("Hạng trong cụm", lambda m: m.district.rank, 8, look=CENTERED),
        Column("Mã đơn vị", lambda m: m.district.code, 9),
        Column("Đơn vị", lambda m: m.district.name, 30),
        Column("Điểm", lambda m: m.js["score"], 9, FMT_SCORE),
        *[_percent_column(spec) for spec in overview.indicators],
        Column("Báo cáo tuần này", lambda m: reporting_word(m.district), 14),
    ], members, replace(STYLE, header_height=48))
    ws.freeze_panes = table.top("Điểm")
    if table.rows:
        ws.auto_filter.ref = table.ref()
    set_widths(ws, table)
    print_setup(ws, header_rows(table))


def _percent_column(spec: IndicatorSpec) -> Column[_Member]:
    """% of target filled in the status colour; the status word where there is no % (no target, no
    data); empty for a district whose cluster does not have the indicator."""
    key = spec.key

    def value(m: _Member):
        if key not in m.mine:
            return None
        status, percent = m.mine[key]
        return STATUS_VI[status] if percent is None else percent

    return Column(f"{spec.label} (%)", value, 14, fmt=lambda m: FMT_PERCENT if key in m.mine else None,
                  look=lambda m: Look(fill=_FILLS[m.mine[key][0]], border=BOX) if key in m.mine else CELL)


def reading_sheet(ws: Worksheet, overview: Overview) -> None:
    """How to read the numbers: the date, each cluster's rules (once when they agree), how totals add up."""
    ws.column_dimensions["A"].width = 120
    lines = [f"Số liệu đến ngày {format_date(overview.as_of)}, năm thi đua {overview.year}."]
    paragraphs: dict[str, list[str]] = {}
    for line in overview.clusters:
        paragraphs.setdefault(rules_paragraph(line.progress.rules), []).append(line.cluster)
    if len(paragraphs) == 1:
        lines.append(next(iter(paragraphs)))
    else:
        lines += [f"Cụm {', '.join(ids)}: {text}" for text, ids in paragraphs.items()]
    lines.append("Tổng cụm: cộng số thực hiện của các đơn vị (đơn vị chưa có số liệu tính 0) và cộng chỉ tiêu đăng ký; "
                 "% = tổng thực hiện / tổng chỉ tiêu. Tổng cộng các cụm tính theo cùng cách từ tổng của từng cụm. "
                 "Dẫn đầu / cuối bảng: theo xếp hạng của chính cụm đó (các cụm không xếp hạng chung).")
    if overview.missing:
        lines.append("Chưa có số liệu (chưa chạy tracker init): " + ", ".join(m.cluster for m in overview.missing))
    for n, text in enumerate(lines, start=1):
        put(ws, n, 1, text, align=WRAP)


@dataclass(frozen=True)
class OverviewResult:
    overview: Overview
    workbook: Path
    paths: tuple[Path, ...] = field(default=())


def default_dir(as_of: date) -> Path:
    """``reports/overview/2023-W26`` under the current folder."""
    return Path("reports") / "overview" / week_period(as_of)


def build_overview(paths: Iterable[Path], as_of: date | None = None, out_dir: Path | None = None, *,
                   env: dict[str, str] | None = None) -> OverviewResult:
    """Load the configs, compute every cluster, write the workbook into ``out_dir``; returns both."""
    settings, warnings = load_federation(paths, env=env)
    overview = federation_overview(settings, as_of, warnings)
    folder = out_dir or default_dir(overview.as_of)
    year, week = iso_week(overview.as_of)
    name = safe_filename(f"Tổng hợp các cụm - tuần {week}-{year}.xlsx")
    book = write_workbook(overview, folder / name)
    return OverviewResult(overview, book, (book,))
