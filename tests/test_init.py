"""`tracker init`: migrations from an empty database, idempotence, config edits, targets history."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import select

from tests.conftest import write_config
from tracker import models
from tracker.config import load_settings
from tracker.context import init_database, open_context
from tracker.db import get_engine, migrate
from tracker.targets import current_targets


def _counts(ctx) -> dict[str, int]:
    with ctx.session() as s:
        return {m.__name__: len(s.exec(select(m)).all())
                for m in (models.Cluster, models.District, models.Indicator, models.Target)}


def test_migrations_create_every_table_in_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert migrate(url) == "0004"
    tables = set(inspect(get_engine(url)).get_table_names())
    assert {"cluster", "district", "indicator", "target", "submission", "figure", "finding",
            "outboxmessage", "jobrun", "alembic_version"} <= tables
    assert migrate(url) == "0004"  # upgrading again is a no-op


def test_migrations_run_on_the_database_under_test(db_url):
    assert migrate(db_url) == "0004"
    assert "figure" in inspect(get_engine(db_url)).get_table_names()


def test_init_loads_the_cluster_and_running_it_twice_changes_nothing(settings):
    ctx = open_context(settings=settings)
    _, first = init_database(ctx)
    assert first.cluster_created and len(first.districts_added) == 6 and first.targets_registered == 30
    before = _counts(ctx)
    _, second = init_database(ctx)
    assert not second.changed and second.targets_unchanged == 30
    assert _counts(ctx) == before == {"Cluster": 1, "District": 6, "Indicator": 5, "Target": 30}


def test_editing_the_config_updates_names_and_registers_changed_targets(tmp_path, db_url):
    ctx = open_context(settings=load_settings(write_config(tmp_path, db_url), env={}))
    init_database(ctx)
    edited = write_config(tmp_path, db_url, replace={
        'name = "LĐLĐ quận Ba Đình"\nemails = ["bd@example.org"]':
            'name = "LĐLĐ quận Ba Đình (mới)"\nemails = ["bd@example.org", "bd2@example.org"]',
        "[targets.LB]\nnew_unions = 30": "[targets.LB]\nnew_unions = 32",
    })
    ctx = open_context(settings=load_settings(edited, env={}))
    _, summary = init_database(ctx)
    assert summary.districts_updated == ["BD"] and summary.targets_registered == 1
    with ctx.session() as s:
        bd = s.exec(select(models.District).where(models.District.code == "BD")).one()
        assert bd.name == "LĐLĐ quận Ba Đình (mới)" and bd.emails == ["bd@example.org", "bd2@example.org"]
        assert current_targets(s, "cum-1", 2023)[("LB", "new_unions")] == 32
        history = s.exec(select(models.Target.value).join(models.District)
                         .where(models.District.code == "LB")
                         .join(models.Indicator, models.Indicator.id == models.Target.indicator_id)
                         .where(models.Indicator.key == "new_unions")).all()
        assert sorted(history) == [30, 32]  # the first registration is kept


def test_an_unchanged_config_does_not_override_a_target_imported_later(ctx):
    from tracker.targets import register_targets

    with ctx.session(write=True) as s:
        register_targets(s, "cum-1", 2023, {("HBT", "new_unions"): 40}, source="workbook")
    init_database(ctx)
    with ctx.session() as s:
        assert current_targets(s, "cum-1", 2023)[("HBT", "new_unions")] == 40


def test_a_new_year_registers_the_config_targets_for_it_and_keeps_the_earlier_year(tmp_path, db_url):
    ctx = open_context(settings=load_settings(write_config(tmp_path, db_url), env={}))
    init_database(ctx)
    # The same values in the config, a new year: "changed since the last registration" is judged per year.
    new_year = open_context(settings=load_settings(write_config(tmp_path, db_url, replace={
        "year = 2023": "year = 2024"}), env={}))
    _, summary = init_database(new_year)
    assert summary.targets_registered == 30
    with ctx.session() as s:
        assert current_targets(s, "cum-1", 2024)[("HBT", "new_unions")] == 30
        assert current_targets(s, "cum-1", 2023)[("HBT", "new_unions")] == 30
        years = sorted(s.exec(select(models.Target.year).distinct()).all())
    assert years == [2023, 2024]
    _, again = init_database(new_year)
    assert again.targets_registered == 0 and again.targets_unchanged == 30


def test_two_clusters_share_one_database_without_seeing_each_other(tmp_path, db_url):
    one = open_context(settings=load_settings(write_config(tmp_path, db_url), env={}))
    init_database(one)
    other_dir = tmp_path / "c2"
    other_dir.mkdir()
    two_settings = load_settings(write_config(other_dir, db_url, replace={
        'id = "cum-1"': 'id = "cum-2"', "[targets.HBT]\nnew_unions = 30": "[targets.HBT]\nnew_unions = 7"}),
        env={})
    two = open_context(settings=two_settings)
    _, summary = init_database(two)
    assert summary.cluster_created and len(summary.districts_added) == 6
    with one.session() as s:
        assert current_targets(s, "cum-1", 2023)[("HBT", "new_unions")] == 30
        assert current_targets(s, "cum-2", 2023)[("HBT", "new_unions")] == 7


def test_the_tables_match_the_migrations(db_url):
    """The models describe exactly what the migrations built: no column type, table or index differs, so
    the StrEnum columns are the plain text columns of 0001 and need no migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
