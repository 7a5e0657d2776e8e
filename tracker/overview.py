"""The federation overview: every cluster of a city (or national) federation side by side.

``tracker overview CONFIGS...`` reads one config per cluster (files, or folders of ``*.toml``), computes
each cluster's progress with the one implementation of the rules (:mod:`tracker.standing` →
:func:`tracker.progress.compute`) and lays the clusters out in one table: districts, how many
reported this week (and late), the cluster totals per indicator (actual, target, %), the leading and
the last district by the cluster's own ranking, and how many district targets are at risk. The
federation row adds the clusters up the way a cluster adds up its districts (cluster
totals, docs/indicators-and-progress.md §7): actuals summed, registered targets summed, % of the sums.

Nothing here judges a figure: statuses, scores, ranks and cluster totals are the engine's. Districts
are never ranked across clusters (each cluster ranks its own members; configs may weigh indicators
differently).

Pure part: :func:`summarise` and :func:`combine` (plain data in, plain data out); I/O part:
:func:`load_federation`, :func:`federation_overview`, :func:`write_workbook`, :func:`build_overview`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tracker.calendar import cluster_short_name, iso_week, week_period
from tracker.config import Settings, load_settings
from tracker.context import open_context
from tracker.errors import TrackerError
from tracker.progress import (
    STATUSES,
    ClusterProgress,
    DistrictProgress,
    IndicatorSpec,
    TotalProgress,
    _number,
    _round,
    compute,
    percent_of,
    sum_or_none,
)
from tracker.standing import load_input, resolve_as_of

WORKBOOK_SHEETS = ("Tổng hợp các cụm", "Các đơn vị", "Cách tính")


@dataclass(frozen=True)
class ClusterLine:
    """One cluster in the overview (everything taken from its :class:`ClusterProgress`)."""

    progress: ClusterProgress
    districts: int
    reported: int  # districts with an accepted sheet this week
    late: int  # of which the first sheet came after the weekly deadline
    statuses: dict[str, int]  # status -> number of (district, indicator) pairs
    best: tuple[DistrictProgress, ...]  # rank 1 (several when tied)
    worst: tuple[DistrictProgress, ...]  # the last rank, when more than one rank exists
    config: Path | None = None

    @property
    def cluster(self) -> str:
        return self.progress.cluster

    @property
    def name(self) -> str:
        return self.progress.cluster_name

    def total(self, key: str) -> TotalProgress | None:
        return next((t for t in self.progress.totals if t.key == key), None)


@dataclass(frozen=True)
class Missing:
    """A cluster whose config was given but whose data could not be read (not initialised yet)."""

    cluster: str
    config: Path
    reason: str


@dataclass(frozen=True)
class Overview:
    as_of: date
    year: int
    indicators: tuple[IndicatorSpec, ...]  # every indicator of any cluster, in first-seen order
    clusters: tuple[ClusterLine, ...]
    totals: tuple[TotalProgress, ...]  # the federation: cluster totals added up
    missing: tuple[Missing, ...] = ()
    warnings: tuple[str, ...] = ()  # configuration problems worth a line on stderr (vi / en)

    @property
    def federation_name(self) -> str:
        """What the clusters' names share after their dash (``LĐLĐ thành phố Hà Nội``), else a generic title."""
        suffixes = {line.name[len(cluster_short_name(line.name)):].strip(" -–—") for line in self.clusters}
        suffixes.discard("")
        return suffixes.pop() if len(suffixes) == 1 else "Các cụm thi đua"

    def to_json(self) -> dict:
        """Numbers rounded like ``tracker status --format json`` (percent to 2 decimals, score to 4)."""

        def totals_json(totals: Iterable[TotalProgress]) -> list[dict]:
            return [{"key": t.key, "actual": _number(t.actual), "target": _number(t.target),
                     "percent": _round(t.percent, 2), "week_change": _number(t.week_change),
                     "last_year_actual": _number(t.last_year_actual)} for t in totals]

        def who(districts: Sequence[DistrictProgress]) -> list[dict]:
            return [{"code": d.code, "name": d.name, "score": _round(d.score, 4), "rank": d.rank} for d in districts]

        return {
            "as_of": self.as_of.isoformat(),
            "year": self.year,
            "clusters": [
                {"cluster": c.cluster, "name": c.name, "districts": c.districts, "reported_this_week": c.reported,
                 "late": c.late, "statuses": c.statuses, "totals": totals_json(c.progress.totals),
                 "best": who(c.best), "worst": who(c.worst)}
                for c in self.clusters
            ],
            "totals": totals_json(self.totals),
            "missing": [{"cluster": m.cluster, "config": str(m.config), "reason": m.reason} for m in self.missing],
        }


# -- pure ------------------------------------------------------------------------------------------------------------


def summarise(progress: ClusterProgress, config: Path | None = None) -> ClusterLine:
    """A cluster's line of the overview, read off its computed progress."""
    districts = progress.districts
    ranked = [d for d in districts if d.rank is not None]
    best = tuple(d for d in ranked if d.rank == 1)
    last = max((d.rank for d in ranked), default=None)
    worst = tuple(d for d in ranked if d.rank == last) if last is not None and last > 1 else ()
    statuses = Counter(i.status for d in districts for i in d.indicators)
    return ClusterLine(
        progress=progress,
        districts=len(districts),
        reported=sum(d.reported_this_week for d in districts),
        late=sum(d.late for d in districts),
        statuses={s: statuses.get(s, 0) for s in STATUSES},
        best=best,
        worst=worst,
        config=config,
    )


def combine(lines: Sequence[ClusterLine], as_of: date, year: int, *, missing: Sequence[Missing] = (),
            warnings: Sequence[str] = ()) -> Overview:
    """The overview of ``lines``: the union of their indicators and the federation totals.

    A federation total adds the clusters' totals as a cluster total adds its districts: actuals summed
    (a cluster without the indicator adds nothing), registered targets summed (none at all → no target),
    percent of the sums (:func:`tracker.progress.percent_of`)."""
    indicators: dict[str, IndicatorSpec] = {}
    for line in lines:
        for spec in line.progress.indicators:
            indicators.setdefault(spec.key, spec)
    actual: dict[str, float] = defaultdict(float)
    targets: dict[str, list[float]] = defaultdict(list)
    changes: dict[str, list[float | None]] = defaultdict(list)
    last_year: dict[str, list[float | None]] = defaultdict(list)
    for line in lines:
        for t in line.progress.totals:
            actual[t.key] += t.actual
            if t.target is not None:
                targets[t.key].append(t.target)
            changes[t.key].append(t.week_change)
            last_year[t.key].append(t.last_year_actual)
    totals = []
    for key in indicators:
        target = sum(targets[key]) if targets[key] else None
        totals.append(TotalProgress(key, actual[key], target, percent_of(actual[key], target),
                                    week_change=sum_or_none(changes[key]),
                                    last_year_actual=sum_or_none(last_year[key])))
    return Overview(as_of=as_of, year=year, indicators=tuple(indicators.values()), clusters=tuple(lines),
                    totals=tuple(totals), missing=tuple(missing), warnings=tuple(warnings))


# -- I/O -------------------------------------------------------------------------------------------------------------


def config_files(paths: Iterable[Path]) -> list[Path]:
    """The config files named: files as given, folders as their ``*.toml`` (sorted by name)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.glob("*.toml") if p.is_file())
        else:
            out.append(path)
    return out


def load_federation(paths: Iterable[Path], env: dict[str, str] | None = None) -> tuple[list[Settings], list[str]]:
    """Every cluster's settings, and warnings about the configs taken together.

    Raises :class:`~tracker.config.ConfigError` for a bad file and :class:`~tracker.errors.TrackerError`
    (exit 2) when no config is found, two configs name the same cluster, or the clusters' years differ.
    Two clusters sharing an inbox, archive, quarantine or reports folder, or one mailbox folder, is a
    warning: their pulls would take each other's sheets and their dashboards show each other's reports.
    """
    files = config_files(paths)
    if not files:
        raise TrackerError("Không tìm thấy tệp cấu hình nào (*.toml).", "No config file (*.toml) found.", exit_code=2)
    settings = [load_settings(f, env=env) for f in files]
    seen: dict[str, Path] = {}
    for s in settings:
        cid = s.cluster.id
        if cid in seen:
            raise TrackerError(f"Hai tệp cấu hình cùng khai báo cụm {cid}: {seen[cid]} và {s.source}.",
                               f"Two config files declare cluster {cid}: {seen[cid]} and {s.source}.", exit_code=2)
        seen[cid] = s.source
    years = sorted({s.cluster.year for s in settings})
    if len(years) > 1:
        raise TrackerError(f"Các cụm khác năm thi đua ({', '.join(map(str, years))}); tổng hợp từng năm riêng.",
                           f"The clusters have different years ({', '.join(map(str, years))}); give one year's "
                           f"configs at a time.", exit_code=2)
    warnings = []
    for folder in ("inbox", "archive", "quarantine", "reports"):
        users: dict[Path, list[str]] = defaultdict(list)
        for s in settings:
            users[Path(getattr(s.paths, folder)).resolve()].append(s.cluster.id)
        for path, ids in users.items():
            if len(ids) > 1:
                warnings.append(
                    f"Các cụm {', '.join(ids)} dùng chung thư mục {folder} {path}: mỗi cụm cần thư mục riêng "
                    f"([paths] trong tệp cấu hình), nếu không cụm này nhận nhầm báo cáo hoặc hiện báo cáo của cụm "
                    f"kia. / Clusters {', '.join(ids)} share the {folder} folder {path}: give each cluster its own "
                    f"[paths], or one cluster takes the other's sheets or shows its reports.")
    mailboxes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for s in settings:
        if s.mailbox.enabled:
            mailboxes[(s.mailbox.host.lower(), s.mailbox.user.lower(), s.mailbox.folder)].append(s.cluster.id)
    for (host, user, folder), ids in mailboxes.items():
        if len(ids) > 1:
            warnings.append(
                f"Các cụm {', '.join(ids)} đọc chung hộp thư {user}@{host} ({folder}): cụm đọc trước sẽ từ chối và "
                f"chuyển đi thư của cụm kia. / Clusters {', '.join(ids)} read the same mailbox {user}@{host} "
                f"({folder}): the first to pull rejects and moves the other's messages.")
    return settings, warnings


def federation_overview(settings: Sequence[Settings], as_of: date | None = None,
                        warnings: Sequence[str] = ()) -> Overview:
    """Each cluster's progress as of ``as_of`` (default: as ``tracker status``), side by side."""
    day = resolve_as_of(settings[0], as_of).day
    lines, missing = [], []
    for s in settings:
        ctx = open_context(settings=s)
        try:
            with ctx.session() as session:
                progress = compute(load_input(session, s, day))
        except TrackerError as exc:
            missing.append(Missing(s.cluster.id, s.source, str(exc)))
            continue
        lines.append(summarise(progress, s.source))
    return combine(lines, day, settings[0].cluster.year, missing=missing, warnings=warnings)


def write_workbook(overview: Overview, path: Path) -> Path:
    """The overview workbook: clusters side by side, every district by cluster, how to read it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from tracker.reporting import palette
    from tracker.reporting.wording import STATUS_VI, rules_paragraph
    from tracker.reporting.xlsx import (
        FMT_COUNT,
        FMT_PERCENT,
        FMT_SCORE,
        header_cells,
        print_setup,
        put,
        set_widths,
        value_format,
    )
    from tracker.text import format_date, format_number

    bold = Font(bold=True)
    header_font = Font(bold=True, color=palette.argb(palette.HEADER_INK))
    header_fill = PatternFill("solid", fgColor=palette.argb(palette.HEADER_FILL))
    total_fill = PatternFill("solid", fgColor=palette.argb(palette.TOTAL_FILL))
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fills = {s: PatternFill("solid", fgColor=palette.argb(palette.FILL[s])) for s in STATUSES}
    specs = overview.indicators
    data = overview.to_json()

    def who(people: list[dict]) -> str:
        return "; ".join(f"{p['name']} ({format_number(p['score'], 4)})" for p in people) or "—"

    wb = Workbook()
    ws = wb.active
    ws.title = WORKBOOK_SHEETS[0]
    put(ws, 1, 1, f"{overview.federation_name}: tiến độ thực hiện chỉ tiêu thi đua theo cụm, số liệu đến ngày "
                  f"{format_date(overview.as_of)}", font=Font(bold=True, size=14))
    put(ws, 2, 1, f"{len(overview.clusters)} cụm, {sum(c.districts for c in overview.clusters)} đơn vị. Mỗi cụm "
                  "xếp hạng các đơn vị của mình; tổng cụm và tổng chung cộng số thực hiện và chỉ tiêu đăng ký.",
        font=Font(italic=True))
    # Two header rows: each indicator's label over its three columns (thực hiện, chỉ tiêu, %).
    first = ["STT", "Mã cụm", "Cụm", "Số đơn vị", "Đã báo cáo tuần này", "Nộp muộn"]
    last = ["Dẫn đầu cụm (điểm)", "Cuối bảng (điểm)", "Chỉ tiêu nguy cơ không đạt"]
    titles = first + [t for _ in specs for t in ("Thực hiện", "Chỉ tiêu", "%")] + last
    header_cells(ws, 5, titles, height=48)
    ws.row_dimensions[5].height = 20
    for col in [*range(1, len(first) + 1), *range(len(titles) - len(last) + 1, len(titles) + 1)]:
        put(ws, 4, col, titles[col - 1], font=header_font, fill=header_fill, align=center, border=True)
        ws.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
    for k, spec in enumerate(specs):
        col = len(first) + 1 + 3 * k
        unit = f" ({spec.unit})" if spec.unit else ""
        put(ws, 4, col, f"{spec.label}{unit}", font=header_font, fill=header_fill, align=center, border=True)
        ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + 2)
    ws.row_dimensions[4].height = 36
    row = 5
    for n, (line, cj) in enumerate(zip(overview.clusters, data["clusters"], strict=True), start=1):
        row += 1
        put(ws, row, 1, n, border=True)
        put(ws, row, 2, line.cluster, border=True)
        put(ws, row, 3, cluster_short_name(line.name), border=True, font=bold)
        put(ws, row, 4, line.districts, FMT_COUNT, border=True)
        put(ws, row, 5, line.reported, FMT_COUNT, border=True)
        put(ws, row, 6, line.late, FMT_COUNT, border=True)
        by_key = {t["key"]: t for t in cj["totals"]}
        for k, spec in enumerate(specs):
            t = by_key.get(spec.key)
            col = 7 + 3 * k
            put(ws, row, col, t["actual"] if t else None, value_format(spec), border=True)
            put(ws, row, col + 1, t["target"] if t else None, value_format(spec), border=True)
            put(ws, row, col + 2, t["percent"] if t else None, FMT_PERCENT, border=True, font=bold)
        col = 7 + 3 * len(specs)
        put(ws, row, col, who(cj["best"]), border=True)
        put(ws, row, col + 1, who(cj["worst"]), border=True)
        put(ws, row, col + 2, line.statuses["at_risk"], FMT_COUNT, border=True)
    row += 1
    put(ws, row, 3, "Tổng cộng", font=bold, fill=total_fill, border=True)
    put(ws, row, 4, sum(c.districts for c in overview.clusters), FMT_COUNT, font=bold, fill=total_fill, border=True)
    put(ws, row, 5, sum(c.reported for c in overview.clusters), FMT_COUNT, font=bold, fill=total_fill, border=True)
    put(ws, row, 6, sum(c.late for c in overview.clusters), FMT_COUNT, font=bold, fill=total_fill, border=True)
    for k, (spec, t) in enumerate(zip(specs, data["totals"], strict=True)):
        col = 7 + 3 * k
        put(ws, row, col, t["actual"], value_format(spec), font=bold, fill=total_fill, border=True)
        put(ws, row, col + 1, t["target"], value_format(spec), font=bold, fill=total_fill, border=True)
        put(ws, row, col + 2, t["percent"], FMT_PERCENT, font=bold, fill=total_fill, border=True)
    put(ws, row, 7 + 3 * len(specs) + 2, sum(c.statuses["at_risk"] for c in overview.clusters), FMT_COUNT,
        font=bold, fill=total_fill, border=True)
    ws.freeze_panes = "D6"
    widths = {1: 5, 2: 10, 3: 22, 4: 9, 5: 11, 6: 9}
    widths.update({7 + n: 11 for n in range(3 * len(specs))})
    widths.update({7 + 3 * len(specs): 34, 8 + 3 * len(specs): 34, 9 + 3 * len(specs): 12})
    set_widths(ws, widths)
    print_setup(ws, "4:5")

    ws = wb.create_sheet(WORKBOOK_SHEETS[1])
    titles = ["Mã cụm", "Cụm", "Hạng trong cụm", "Mã đơn vị", "Đơn vị", "Điểm"]
    titles += [f"{s.label} (%)" for s in specs] + ["Báo cáo tuần này"]
    header_cells(ws, 1, titles, height=48)
    row = 1
    for line in overview.clusters:
        js = line.progress.to_json()
        for d, dj in zip(line.progress.districts, js["districts"], strict=True):
            row += 1
            put(ws, row, 1, line.cluster, border=True)
            put(ws, row, 2, cluster_short_name(line.name), border=True)
            put(ws, row, 3, d.rank, border=True, align=center)
            put(ws, row, 4, d.code, border=True)
            put(ws, row, 5, d.name, border=True)
            put(ws, row, 6, dj["score"], FMT_SCORE, border=True)
            mine = {i.key: (i, ij) for i, ij in zip(d.indicators, dj["indicators"], strict=True)}
            for k, spec in enumerate(specs):
                col = 7 + k
                if spec.key not in mine:
                    put(ws, row, col, None, border=True)
                    continue
                ind, ij = mine[spec.key]
                cell = put(ws, row, col, ij["percent"], FMT_PERCENT, border=True, fill=fills[ind.status])
                if ij["percent"] is None:
                    cell.value = STATUS_VI[ind.status]
                    cell.data_type = "s"
            word = "Chưa nộp" if not d.reported_this_week else ("Nộp muộn" if d.late else "Đã nộp")
            put(ws, row, 7 + len(specs), word, border=True)
    ws.freeze_panes = "F2"
    if row > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(7 + len(specs))}{row}"
    set_widths(ws, {1: 10, 2: 20, 3: 8, 4: 9, 5: 30, 6: 9, **{7 + k: 14 for k in range(len(specs))},
                 7 + len(specs): 14})
    print_setup(ws, "1:1")

    ws = wb.create_sheet(WORKBOOK_SHEETS[2])
    ws.column_dimensions["A"].width = 120
    lines = [f"Số liệu đến ngày {format_date(overview.as_of)}, năm thi đua {overview.year}."]
    paragraphs = {}
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
        put(ws, n, 1, text, align=Alignment(wrap_text=True, vertical="top"))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


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
    from tracker.reporting.wording import safe_filename

    settings, warnings = load_federation(paths, env=env)
    overview = federation_overview(settings, as_of, warnings)
    folder = out_dir or default_dir(overview.as_of)
    year, week = iso_week(overview.as_of)
    name = safe_filename(f"Tổng hợp các cụm - tuần {week}-{year}.xlsx")
    book = write_workbook(overview, folder / name)
    return OverviewResult(overview, book, (book,))
