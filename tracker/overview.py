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
:func:`load_federation`, :func:`federation_overview`. The workbook, and the one call that loads, computes
and writes it: :mod:`tracker.reporting.overview_book`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracker.calendar import cluster_short_name
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
