"""The database part of a backup: one consistent snapshot, and putting it back.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one step, i.e. in
  one read transaction: a consistent snapshot even while the intake writes (WAL lets it go on), never a
  file copy of a live database. The copy is turned into a single self-contained file (no ``-wal``).
- PostgreSQL: ``pg_dump --format=custom`` of the whole database (every cluster that shares it), run
  inside a snapshot exported by a REPEATABLE READ transaction of ours, so the counts written in the
  manifest are those of the very snapshot that was dumped. ``pg_dump`` must be on the PATH and at least
  the server's major version.

The counts and the revision are read from the snapshot itself, not from the live database.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from tracker.errors import TrackerError

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"

_COUNTS = {
    "submissions": "SELECT count(*) FROM submission WHERE cluster_id = :cid",
    "accepted": "SELECT count(*) FROM submission WHERE cluster_id = :cid AND status = 'accepted'",
    "figures": "SELECT count(*) FROM figure WHERE cluster_id = :cid",
}


@dataclass
class Snapshot:
    """What was dumped: the file (inside the backup), the schema revision, the clusters it holds and the
    counts of this cluster in it."""

    file: str
    dialect: str
    revision: str
    clusters: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def dialect_of(url: str) -> str:
    return make_url(url).get_backend_name()


def dump(url: str, folder: Path, cluster_id: str) -> Snapshot:
    """Write the database at ``url`` into ``folder`` (``database.sqlite3`` or ``database.pgdump``)."""
    dialect = dialect_of(url)
    if dialect == "sqlite":
        return _dump_sqlite(url, folder / SQLITE_FILE, cluster_id)
    if dialect == "postgresql":
        return _dump_postgres(url, folder / PG_FILE, cluster_id)
    raise TrackerError(f"Không sao lưu được cơ sở dữ liệu loại {dialect}.", f"Cannot back up a {dialect} database.")


def _facts(conn: Connection, cluster_id: str) -> tuple[str, list[str], dict[str, int]]:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    clusters = sorted(conn.execute(text("SELECT id FROM cluster")).scalars())
    counts = {k: int(conn.execute(text(q), {"cid": cluster_id}).scalar() or 0) for k, q in _COUNTS.items()}
    return str(revision), clusters, counts


# -- SQLite ---------------------------------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path:
    db = make_url(url).database
    if not db or db == ":memory:":
        raise TrackerError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.",
                           "An in-memory SQLite database cannot be backed up.")
    return Path(db)


def _dump_sqlite(url: str, dest: Path, cluster_id: str) -> Snapshot:
    source = sqlite_path(url)
    if not source.is_file():
        raise TrackerError(f"Không thấy tệp cơ sở dữ liệu {source}; chạy `tracker init` trước.",
                           f"The database file {source} does not exist; run `tracker init` first.")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent read
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    engine = create_engine(f"sqlite:///{dest}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            revision, clusters, counts = _facts(conn, cluster_id)
    finally:
        engine.dispose()
    return Snapshot(dest.name, "sqlite", revision, clusters, counts)


def restore_sqlite(dump_file: Path, dest: Path) -> None:
    """Put a backed-up SQLite file in place (a copy: the backup stays untouched)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dump_file, dest)


# -- PostgreSQL -----------------------------------------------------------------------------------------------------

def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection URI of a SQLAlchemy URL, and the environment carrying its password (so the
    password never shows on a command line)."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), env


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise TrackerError(
            f"Không tìm thấy chương trình {name} (cần để sao lưu/khôi phục PostgreSQL). Cài gói postgresql-client "
            f"cùng phiên bản với máy chủ (Debian: apt-get install postgresql-client) rồi chạy lại.",
            f"{name} is not on the PATH (needed to back up / restore PostgreSQL). Install postgresql-client of the "
            f"server's version (Debian: apt-get install postgresql-client) and run again.")
    return found


def client_major(program: str) -> int:
    """``pg_dump (PostgreSQL) 15.20 (Debian …)`` → 15."""
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    if m is None:
        raise TrackerError(f"Không đọc được phiên bản của {program}: {out!r}",
                           f"Cannot tell the version of {program}: {out!r}")
    return int(m.group(1))


def _check_versions(program: str, conn: Connection) -> None:
    server = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    client = client_major(program)
    if client < server:
        raise TrackerError(
            f"{program} là phiên bản {client} nhưng máy chủ PostgreSQL là {server}; cài postgresql-client-{server}.",
            f"{program} is version {client} but the PostgreSQL server is {server}; install postgresql-client-{server}.")


def _dump_postgres(url: str, dest: Path, cluster_id: str) -> Snapshot:
    program = _program("pg_dump")
    uri, env = libpq(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            _check_versions(program, conn)
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            revision, clusters, counts = _facts(conn, cluster_id)
            done = subprocess.run(
                [program, "--format=custom", f"--snapshot={snapshot}", "--no-password", f"--file={dest}",
                 f"--dbname={uri}"],
                env={**os.environ, **env}, capture_output=True, text=True, check=False)
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise TrackerError(f"pg_dump thất bại (mã {done.returncode}): {done.stderr.strip()}",
                           f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()}")
    return Snapshot(dest.name, "postgresql", revision, clusters, counts)


def is_empty_postgres(url: str) -> bool:
    """Whether the database at ``url`` holds no table of its own (a fresh ``createdb``)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).scalar()
    except Exception as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise TrackerError(
            f"Không kết nối được cơ sở dữ liệu đích ({first}). Tạo nó trước: createdb TÊN.",
            f"Cannot connect to the target database ({first}). Create it first: createdb NAME.") from None
    finally:
        engine.dispose()
    return not n


def restore_command(dump_file: Path, url: str) -> list[str]:
    """The ``pg_restore`` command that loads ``dump_file`` into the (empty) database at ``url``."""
    uri, _env = libpq(url)
    return ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            f"--dbname={uri}", str(dump_file)]


def restore_postgres(dump_file: Path, url: str) -> None:
    """Load a dump into the empty database at ``url`` with ``pg_restore`` (one transaction)."""
    program = _program("pg_restore")
    _uri, env = libpq(url)
    argv = [program, *restore_command(dump_file, url)[1:]]
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TrackerError(f"pg_restore thất bại (mã {done.returncode}): {done.stderr.strip()}",
                           f"pg_restore failed (exit {done.returncode}): {done.stderr.strip()}", exit_code=1)
