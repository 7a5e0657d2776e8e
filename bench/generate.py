"""Benchmark data: a city federation (~30 districts in ~10 clusters) or a national one (~700 in ~100).

    .venv/bin/python bench/generate.py --scale city [--out bench/out/city] [--workers 2]

writes
- ``configs/<cluster id>.toml``: one config per cluster, all on the same database
  (``sqlite:///data/tracker.db`` next to the configs; ``TRACKER_DATABASE_URL`` overrides it), each with
  folders of its own (``data/<cluster id>/inbox`` …, ``reports/<cluster id>``) and config targets;
- ``sheets/<cluster id>/<as-of date>/*.xlsx``: 26 weeks (Fridays 06/01–30/06/2023) of upload
  workbooks per district, written by the intake's template writer (``tracker template``) and filled
  in as clerks do. Each file's modification time is when it was sent (the inbox pull takes it as the
  reception time). Like real weeks, about 1 % of the sheets are rejected (``12,5`` typed in a count)
  and sent again corrected 75 minutes later, about 2 % of the district-weeks are forgotten, about 3 %
  arrive late (Saturday morning), and half of the clerks also fill "Thực hiện trong kỳ".

Everything is seeded: the same scale gives the same configs and the same bytes. Generation is cached:
a folder whose ``STAMP`` matches this file's content is reused (``--force`` regenerates). The national
data set (18,200 workbooks, ~160 MB) takes a few minutes on two cores; the city one a few seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2023
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
SCALES = {"city": (10, 30), "national": (100, 700), "tiny": (2, 6)}  # clusters, districts
LAST_WEEK = date(2023, 6, 30)

# The 30 district-level unions of Hà Nội (12 quận, 17 huyện, 1 thị xã), for the city federation.
HANOI_DISTRICTS = (
    ("BD", "LĐLĐ quận Ba Đình"), ("HK", "LĐLĐ quận Hoàn Kiếm"), ("TH", "LĐLĐ quận Tây Hồ"),
    ("LB", "LĐLĐ quận Long Biên"), ("CG", "LĐLĐ quận Cầu Giấy"), ("DD", "LĐLĐ quận Đống Đa"),
    ("HBT", "LĐLĐ quận Hai Bà Trưng"), ("HM", "LĐLĐ quận Hoàng Mai"), ("TX", "LĐLĐ quận Thanh Xuân"),
    ("NTL", "LĐLĐ quận Nam Từ Liêm"), ("BTL", "LĐLĐ quận Bắc Từ Liêm"), ("HD", "LĐLĐ quận Hà Đông"),
    ("SS", "LĐLĐ huyện Sóc Sơn"), ("DA", "LĐLĐ huyện Đông Anh"), ("GL", "LĐLĐ huyện Gia Lâm"),
    ("TT", "LĐLĐ huyện Thanh Trì"), ("ML", "LĐLĐ huyện Mê Linh"), ("BV", "LĐLĐ huyện Ba Vì"),
    ("PT", "LĐLĐ huyện Phúc Thọ"), ("DP", "LĐLĐ huyện Đan Phượng"), ("HDU", "LĐLĐ huyện Hoài Đức"),
    ("QO", "LĐLĐ huyện Quốc Oai"), ("TTH", "LĐLĐ huyện Thạch Thất"), ("CM", "LĐLĐ huyện Chương Mỹ"),
    ("TO", "LĐLĐ huyện Thanh Oai"), ("TTI", "LĐLĐ huyện Thường Tín"), ("PX", "LĐLĐ huyện Phú Xuyên"),
    ("UH", "LĐLĐ huyện Ứng Hòa"), ("MD", "LĐLĐ huyện Mỹ Đức"), ("ST", "LĐLĐ thị xã Sơn Tây"),
)
# Syllables for the made-up (but Vietnamese-looking) names of the national federation's districts.
_SYLLABLES = ("An", "Bình", "Cẩm", "Đông", "Gia", "Hòa", "Hưng", "Kim", "Lạc", "Long", "Minh", "Nam", "Ngọc",
              "Phú", "Phước", "Quang", "Sơn", "Tân", "Thanh", "Thạch", "Thuận", "Trà", "Trung", "Vĩnh", "Xuân",
              "Yên", "Đức", "Hải", "Lâm", "Mỹ")


@dataclass(frozen=True)
class DistrictPlan:
    code: str
    name: str
    email: str


@dataclass(frozen=True)
class ClusterPlan:
    id: str
    number: int
    name: str
    head_email: str
    districts: tuple[DistrictPlan, ...]


@dataclass(frozen=True)
class Federation:
    scale: str
    name: str
    clusters: tuple[ClusterPlan, ...]

    @property
    def districts(self) -> int:
        return sum(len(c.districts) for c in self.clusters)


def federation(scale: str) -> Federation:
    """The clusters and districts of a scale (deterministic)."""
    n_clusters, n_districts = SCALES[scale]
    if scale == "national":
        fed_name = "Tổng Liên đoàn Lao động Việt Nam"
        names, seen = [], set()
        rng = random.Random("names")
        while len(names) < n_districts:
            name = f"{rng.choice(_SYLLABLES)} {rng.choice(_SYLLABLES)}"
            if name.split()[0] != name.split()[1] and name not in seen:
                seen.add(name)
                names.append(name)
        districts = [(f"H{n + 1:03d}", f"LĐLĐ huyện {name}") for n, name in enumerate(names)]
    else:
        fed_name = "LĐLĐ thành phố Hà Nội"
        districts = list(HANOI_DISTRICTS[:n_districts])
    clusters = []
    per = len(districts) / n_clusters
    for k in range(n_clusters):
        members = districts[round(k * per):round((k + 1) * per)]
        cid = f"cum-{k + 1:02d}" if n_clusters < 100 else f"cum-{k + 1:03d}"
        clusters.append(ClusterPlan(
            id=cid, number=k + 1, name=f"Cụm thi đua số {k + 1} - {fed_name}", head_email=f"{cid}@example.org",
            districts=tuple(DistrictPlan(code, name, f"{code.lower()}@example.org") for code, name in members)))
    return Federation(scale, fed_name, tuple(clusters))


# -- configs ---------------------------------------------------------------------------------------------------------


def _sample_settings():
    from tracker.config import load_settings

    return load_settings(ROOT / "config.toml", env={})


def targets_of(cluster: ClusterPlan) -> dict[str, dict[str, float]]:
    """Registered targets per district: one of the sample districts' targets, scaled by 0.6–1.4."""
    sample = _sample_settings()
    base = list(sample.targets.values())
    kinds = {i.key: i.kind for i in sample.indicators}
    out = {}
    for d in cluster.districts:
        rng = random.Random(f"targets/{cluster.id}/{d.code}")
        chosen = rng.choice(base)
        out[d.code] = {key: (float(max(1, round(v * rng.uniform(0.6, 1.4)))) if kinds[key] == "count"
                             else round(v * rng.uniform(0.6, 1.4), 1)) for key, v in chosen.items()}
    return out


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def config_text(cluster: ClusterPlan, db_url: str = "sqlite:///data/tracker.db") -> str:
    sample = _sample_settings()
    cid = cluster.id
    lines = [
        f"# Benchmark cluster {cid} (bench/generate.py). One config per cluster; all share one database.",
        "[cluster]", f"id = {_q(cid)}", f"name = {_q(cluster.name)}", f"year = {YEAR}",
        'timezone = "Asia/Ho_Chi_Minh"', 'report_deadline = "fri 17:00"',
        f"head = {{ name = {_q(f'Cụm trưởng Cụm thi đua số {cluster.number}')}, emails = [{_q(cluster.head_email)}] }}",
        "",
    ]
    for d in cluster.districts:
        lines += ["[[districts]]", f"code = {_q(d.code)}", f"name = {_q(d.name)}", f"emails = [{_q(d.email)}]", ""]
    for ind in sample.indicators:
        lines += ["[[indicators]]", f"key = {_q(ind.key)}", f"label = {_q(ind.label)}",
                  f"label_en = {_q(ind.label_en)}", f"unit = {_q(ind.unit)}", f"kind = {_q(ind.kind)}",
                  f"weight = {ind.weight}"]
        if ind.deadline:
            lines.append(f"deadline = {_q(ind.deadline)}")
        lines.append("")
    for code, values in targets_of(cluster).items():
        lines.append(f"[targets.{code}]")
        lines += [f"{key} = {value:g}" for key, value in values.items()]
        lines.append("")
    lines += [
        "[database]", f"url = {_q(db_url)}", "",
        "[paths]", f'inbox = "data/{cid}/inbox"', f'archive = "data/{cid}/archive"',
        f'quarantine = "data/{cid}/quarantine"', f'reports = "reports/{cid}"', "",
        "[mail]", 'host = ""', f"sender = {_q(cluster.head_email)}", "",
    ]
    return "\n".join(lines)


def write_configs(fed: Federation, folder: Path, db_url: str = "sqlite:///data/tracker.db") -> list[Path]:
    """One config per cluster in ``folder`` (relative paths resolve against it)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cluster in fed.clusters:
        path = folder / f"{cluster.id}.toml"
        path.write_text(config_text(cluster, db_url), encoding="utf-8")
        paths.append(path)
    return paths


# -- sheets ----------------------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    district: str
    week: date
    sent: datetime  # aware
    name: str
    figures: dict[str, float | str | None]
    periods: dict[str, float | None]
    mistake: bool = False


def weeks() -> list[date]:
    """The 26 Fridays of January–June 2023."""
    from tracker.workflows.sample import weeks as sample_weeks

    return sample_weeks()


def _walk(rng: random.Random, final: float, kind: str, days: list[date], done: date) -> list[float]:
    """Year-to-date figures rising to ``final`` by ``done`` (slower in the Tết weeks)."""
    from tracker.workflows.sample import TET_WEEKS

    weights = [0.0 if day > done else rng.uniform(0.6, 1.4) * (0.4 if day in TET_WEEKS else 1.0) for day in days]
    total, running, out = sum(weights) or 1.0, 0.0, []
    for w in weights:
        running += w
        value = final * running / total
        out.append(float(round(value)) if kind == "count" else round(value, 1))
    return out


def plan_sheets(cluster: ClusterPlan) -> list[Sheet]:
    """Every file the cluster's districts send in January–June."""
    sample = _sample_settings()
    targets = targets_of(cluster)
    days = weeks()
    out: list[Sheet] = []
    for d in cluster.districts:
        rng = random.Random(f"sheets/{cluster.id}/{d.code}")
        truth: dict[str, list[float]] = {}
        for ind in sample.indicators:
            target = targets[d.code][ind.key]
            if ind.deadline:  # congresses: most finish all of them between April and the deadline
                done = date(2023, 4, 1) + timedelta(days=rng.randint(0, 75))
                final = target if rng.random() < 0.85 else round(target * rng.uniform(0.7, 0.95))
            else:
                done, final = LAST_WEEK, target * rng.uniform(0.25, 0.8)
            truth[ind.key] = _walk(rng, final, ind.kind, days, done)
        fills_period = rng.random() < 0.5
        send_at = clock(rng.randint(8, 16), rng.choice((0, 15, 30, 45)))
        last: dict[str, float] = {}
        for n, week in enumerate(days):
            if rng.random() < 0.02 and week != LAST_WEEK:
                continue  # forgotten this week
            figures: dict[str, float | str | None] = {k: v[n] for k, v in truth.items()}
            periods = ({k: round(float(v) - last.get(k, 0.0), 1) for k, v in figures.items()}
                       if fills_period else {})
            sent = datetime.combine(week, send_at, tzinfo=HANOI) + timedelta(minutes=rng.randint(0, 40))
            if rng.random() < 0.03:
                sent = datetime.combine(week + timedelta(days=1), clock(8, 30), tzinfo=HANOI)  # late
            name = f"{d.code}_{week.isoformat()}.xlsx"
            if rng.random() < 0.01:  # "12,5" typed in a count: rejected, then sent again corrected
                wrong = dict(figures)
                wrong["new_unions"] = f"{int(float(figures['new_unions'] or 0))},5"
                out.append(Sheet(d.code, week, sent, name, wrong, periods, mistake=True))
                sent += timedelta(minutes=75)
                name = f"{d.code}_{week.isoformat()}_sua.xlsx"
            out.append(Sheet(d.code, week, sent, name, figures, periods))
            last.update({k: float(v) for k, v in figures.items() if v is not None})
    return out


def _write_cluster(job: tuple[str, str, str, str]) -> int:
    """Worker: write every sheet of one cluster (``(scale, config path, cluster id, sheets folder)``)."""
    from tracker.config import load_settings
    from tracker.intake.inbox import touch
    from tracker.intake.template import build_template

    scale, config, cid, folder = job
    settings = load_settings(config, env={})
    cluster = next(c for c in federation(scale).clusters if c.id == cid)
    targets = settings.targets
    n = 0
    for sheet in plan_sheets(cluster):
        path = Path(folder) / cid / sheet.week.isoformat() / sheet.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build_template(settings, sheet.district, sheet.week, targets=targets.get(sheet.district, {}),
                                        figures=sheet.figures, periods=sheet.periods))
        touch(path, sheet.sent)
        n += 1
    return n


def stamp(scale: str) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update((ROOT / "tracker" / "intake" / "template.py").read_bytes())
    return f"{scale} {digest.hexdigest()[:16]}"


def generate(scale: str, out: Path, *, workers: int | None = None, force: bool = False) -> Path:
    """Configs and sheets of ``scale`` under ``out`` (reused when already generated by this code)."""
    fed = federation(scale)
    marker = out / "STAMP"
    if not force and marker.exists() and marker.read_text().strip() == stamp(scale):
        return out
    if out.exists():
        shutil.rmtree(out)
    configs = write_configs(fed, out / "configs")
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    jobs = [(scale, str(path), c.id, str(out / "sheets")) for path, c in zip(configs, fed.clusters, strict=True)]
    if workers > 1 and len(jobs) > 1:
        from multiprocessing import get_context

        with get_context("fork").Pool(workers) as pool:
            total = sum(pool.imap_unordered(_write_cluster, jobs))
    else:
        total = sum(map(_write_cluster, jobs))
    print(f"generated {scale}: {len(fed.clusters)} clusters, {fed.districts} districts, {total} sheets in "
          f"{time.perf_counter() - started:.0f} s → {out}", file=sys.stderr)
    marker.write_text(stamp(scale) + "\n")
    return out


def sheet_files(out: Path, cluster_id: str, weeks_: list[date] | None = None) -> Iterator[Path]:
    """The generated sheets of a cluster (of some weeks), in no particular order."""
    base = out / "sheets" / cluster_id
    for folder in sorted(base.iterdir()):
        if weeks_ is None or date.fromisoformat(folder.name) in weeks_:
            yield from sorted(folder.iterdir())


def deliver(files: list[Path], inbox: Path) -> None:
    """Put sheets into an inbox as districts would (hard links keep the modification time = sent time)."""
    inbox.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = inbox / f.name
        try:
            os.link(f, target)
        except OSError:
            shutil.copy2(f, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--out", type=Path, default=None, help="default bench/out/<scale>")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="regenerate even when cached")
    args = parser.parse_args()
    out = generate(args.scale, args.out or ROOT / "bench" / "out" / args.scale, workers=args.workers,
                   force=args.force)
    fed = federation(args.scale)
    n = sum(1 for c in fed.clusters for _ in sheet_files(out, c.id))
    print(f"{len(fed.clusters)} configs in {out / 'configs'}, {n} sheets in {out / 'sheets'}")


if __name__ == "__main__":
    main()
