"""Shared fixtures: a real database (SQLite file, or PostgreSQL when TRACKER_TEST_DATABASE_URL is set),
the sample settings pointed at a temporary folder, and an in-process CLI runner.

On PostgreSQL only the tests that touch the database run (the others ran in the SQLite pass); each test
session creates a database of its own and drops it at the end.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config.toml"
PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
DB_FIXTURES = {"db_url", "settings", "ctx", "session"}

# The workbook reader's worker obeys its test hooks (abort, sleep, memory) only with this switch and only
# while a test runs (tracker/intake/_worker.py); set before any worker starts, so they inherit it.
os.environ.setdefault("TRACKER_READER_TEST_HOOKS", "1")


def pytest_collection_modifyitems(config, items):
    if not PG_URL:
        return
    keep, drop = [], []
    for item in items:
        uses_db = bool(DB_FIXTURES & set(getattr(item, "fixturenames", ()))) or item.get_closest_marker("db")
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    config.addinivalue_line("markers", "db: the test uses the database under test (runs on PostgreSQL too)")


@pytest.fixture(scope="session")
def _pg_database():
    """A fresh PostgreSQL database for this test session, migrated once; dropped at the end."""
    from tracker.db import dispose_engines, migrate

    admin_url = make_url(PG_URL)
    name = f"tracker_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    from tracker.db import dispose_engines, migrate

    path = tmp_path_factory.mktemp("template") / "tracker.db"
    migrate(f"sqlite:///{path}")
    dispose_engines()
    return path


def _truncate_all(url: str) -> None:
    from sqlmodel import SQLModel

    from tracker.db import get_engine

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with get_engine(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name in inspect(conn).get_table_names():
            if name.startswith("apscheduler_jobs"):
                conn.execute(text(f'DROP TABLE "{name}"'))


@pytest.fixture
def db_url(request, tmp_path) -> str:
    """URL of an empty, migrated database for this test."""
    if PG_URL:
        url = request.getfixturevalue("_pg_database")
        _truncate_all(url)
        return url
    template = request.getfixturevalue("_sqlite_template")
    path = tmp_path / "tracker.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def write_config(folder: Path, db_url: str, extra: str = "", replace: dict[str, str] | None = None) -> Path:
    """The sample config copied into ``folder`` (so runtime folders land there), database set to ``db_url``."""
    content = SAMPLE_CONFIG.read_text(encoding="utf-8")
    content = content.replace('url = "sqlite:///data/tracker.db"', f'url = "{db_url}"')
    for old, new in (replace or {}).items():
        assert old in content, old
        content = content.replace(old, new)
    path = folder / "config.toml"
    path.write_text(content + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path, db_url) -> Path:
    return write_config(tmp_path, db_url)


@pytest.fixture
def web_config(tmp_path, db_url) -> Path:
    """The sample config with the portal's address set (``[web] base_url``), as an administrator writes it."""
    return write_config(tmp_path, db_url, replace={
        '# base_url = "https://thidua.example.org"': 'base_url = "https://thidua.example.org/"'})


@pytest.fixture
def settings(config_path):
    from tracker.config import load_settings

    return load_settings(config_path, env={})


@pytest.fixture
def ctx(settings):
    """A Context on the sample cluster, after `tracker init`."""
    from tracker.context import init_database, open_context

    context = open_context(settings=settings)
    init_database(context)
    return context


@pytest.fixture
def session(ctx):
    with ctx.session(write=True) as s:
        yield s


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, config_path):
    """Run `tracker ARGS...` in this process against the test config; returns exit code and output."""
    from tracker.cli import main

    monkeypatch.delenv("TRACKER_CONFIG", raising=False)

    def run(*args: str, config: Path | None = config_path) -> CliResult:
        capsys.readouterr()
        argv = ["tracker"] + (["--config", str(config)] if config else []) + [str(a) for a in args]
        monkeypatch.setattr(sys, "argv", argv)
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            # The command pointed logging at pytest's capture stream, which closes after this test.
            root = logging.getLogger()
            for handler in root.handlers[:]:
                root.removeHandler(handler)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _close_engines():
    yield
    from tracker.db import dispose_engines

    dispose_engines()
