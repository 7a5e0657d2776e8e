"""The benchmark data generator (bench/generate.py) writes configs the tracker accepts and sheets its intake
accepts (or rejects for the planted mistake), so the scale benchmarks measure real uploads."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bench.generate import SCALES, config_text, federation, plan_sheets, weeks, write_configs
from tracker.config import load_settings
from tracker.context import init_database, open_context
from tracker.intake.ingest import ingest_bytes
from tracker.intake.template import build_template


@pytest.mark.parametrize("scale", ["city", "national"])
def test_a_federation_has_the_size_of_its_scale_and_unique_codes(scale):
    fed = federation(scale)
    clusters, districts = SCALES[scale]
    assert len(fed.clusters) == clusters and fed.districts == districts
    codes = [d.code for c in fed.clusters for d in c.districts]
    names = [d.name for c in fed.clusters for d in c.districts]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert len({c.id for c in fed.clusters}) == clusters
    assert fed == federation(scale)  # seeded


def test_every_generated_config_loads_with_its_own_folders(tmp_path):
    paths = write_configs(federation("city"), tmp_path, "sqlite:///data/tracker.db")
    settings = [load_settings(p, env={}) for p in paths]
    assert len({s.paths.inbox for s in settings}) == len(settings)
    assert len({s.paths.reports for s in settings}) == len(settings)
    assert len({s.database.url for s in settings}) == 1  # one database for the federation
    first = settings[0]
    assert first.cluster.name == "Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội"
    assert [d.name for d in first.districts] == ["LĐLĐ quận Ba Đình", "LĐLĐ quận Hoàn Kiếm", "LĐLĐ quận Tây Hồ"]
    assert set(first.targets) == {d.code for d in first.districts}


def test_the_plan_covers_26_fridays_with_a_few_mistakes_and_forgotten_weeks():
    fed = federation("national")
    sheets = [s for c in fed.clusters[:20] for s in plan_sheets(c)]
    assert len(weeks()) == 26 and weeks()[-1] == date(2023, 6, 30)
    per_week = Counter((s.district, s.week) for s in sheets if not s.mistake)
    districts = sum(len(c.districts) for c in fed.clusters[:20])
    assert 0.95 * districts * 26 < len(per_week) < districts * 26  # ~2 % forgotten
    assert all(n == 1 for n in per_week.values())
    mistakes = [s for s in sheets if s.mistake]
    assert 0 < len(mistakes) < 0.03 * len(sheets)
    assert all(isinstance(s.figures["new_unions"], str) for s in mistakes)
    # every district reports the last week (the weekly cycle pulls it)
    assert {s.district for s in sheets if s.week == weeks()[-1]} == {d.code for c in fed.clusters[:20]
                                                                     for d in c.districts}


def test_generated_sheets_go_through_intake_like_real_uploads(tmp_path, db_url):
    fed = federation("tiny")
    cluster = fed.clusters[0]
    path = tmp_path / "c.toml"
    path.write_text(config_text(cluster, db_url), encoding="utf-8")
    settings = load_settings(path, env={})
    ctx = open_context(settings=settings)
    init_database(ctx)
    plan = plan_sheets(cluster)
    good = next(s for s in plan if not s.mistake and s.week == date(2023, 3, 3))
    data = build_template(settings, good.district, good.week, targets=settings.targets[good.district],
                          figures=good.figures, periods=good.periods)
    result = ingest_bytes(ctx, data, good.name, source="inbox", received_at=good.sent)
    assert result.status == "accepted", result.findings
    assert result.district == good.district and result.as_of == good.week
    wrong = next((s for s in plan if s.mistake), None) or good.__class__(
        good.district, good.week, good.sent, "x.xlsx", {**good.figures, "new_unions": "3,5"}, {}, mistake=True)
    data = build_template(settings, wrong.district, wrong.week, targets={}, figures=wrong.figures)
    assert ingest_bytes(ctx, data, wrong.name, received_at=wrong.sent).status == "rejected"
