"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from tracker.errors import TrackerError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
# Backend → the drivers the product is tested with (and the module each one imports).
DRIVERS = {"sqlite": {"pysqlite": "sqlite3"}, "postgresql": {"psycopg": "psycopg", "psycopg2": "psycopg2"}}
URL_EXAMPLES = "sqlite:///data/tracker.db, postgresql+psycopg://user@host/dbname"
PG_CONNECT_TIMEOUT = 10  # seconds; libpq waits forever for a host that drops packets

_engines: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    A SQLite engine never creates the file (it opens it read-write only): only :func:`migrate`
    (``tracker init``) creates a database, so a command run before it cannot leave an empty one behind.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        if (path := sqlite_path(url)) is not None:
            uri = f"file:{quote(str(path))}?mode=rw"

            @event.listens_for(engine, "do_connect")
            def _open_existing(_dialect, _record, cargs, cparams):  # pragma: no cover - every connection
                cargs[:] = [uri]
                cparams["uri"] = True

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - runs on every connection
            # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE works for writers.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    if parsed.get_driver_name() == "psycopg":
        # No server-side prepared statements: psycopg prepares a query after 5 runs on a connection, and
        # PostgreSQL may then keep a generic plan made while the tables were small. Until statistics are
        # refreshed (autovacuum off, or between a bulk import and the next ANALYZE) that plan stays, and
        # ingestion slowed from ~100 to ~2 sheets/s as the national benchmark's tables grew.
        return create_engine(url, pool_pre_ping=True,
                             connect_args={"prepare_threshold": None, **_pg_timeout(parsed)})
    return create_engine(url, pool_pre_ping=True, connect_args=_pg_timeout(parsed))


def _pg_timeout(parsed) -> dict:
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": PG_CONNECT_TIMEOUT}


def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error.

    ``write=True`` takes SQLite's write lock at the start (BEGIN IMMEDIATE), so two writers wait for
    each other instead of failing with "database is locked" half-way through.
    """
    with engine.connect() as conn:
        conn.info["write"] = write  # read by the "begin" listener (SQLite)
        try:
            with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                yield session
                session.flush()
        finally:
            conn.info.pop("write", None)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> str:
    """Upgrade the database at ``url`` to the newest schema; returns the revision it is at."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    if (path := sqlite_path(url)) is not None:
        create_sqlite_file(path)
    engine = get_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


# What is wrong with a database, said so that the administrator can act on it.

class DatabaseProblem(TrackerError):
    """The database named by the config cannot be used as it is: missing, not a database, read-only (exit 2,
    a person must act), or a server that cannot be reached (exit 1, worth trying again later)."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and for an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def url_problem(url: str) -> tuple[str, str] | None:
    """(vi, en) when ``url`` is not a database URL the product can use; checked when the config is loaded."""
    import importlib.util

    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return (f"không đọc được địa chỉ cơ sở dữ liệu (viết dạng {URL_EXAMPLES})",
                f"not a database URL (write it like {URL_EXAMPLES})")
    backend = parsed.get_backend_name()
    if backend not in DRIVERS:
        return (f"không hỗ trợ hệ cơ sở dữ liệu {backend!r}: chỉ dùng được SQLite hoặc PostgreSQL ({URL_EXAMPLES})",
                f"database {backend!r} is not supported: use SQLite or PostgreSQL ({URL_EXAMPLES})")
    try:
        driver = parsed.get_driver_name()
    except NoSuchModuleError:  # a driver SQLAlchemy does not know, e.g. postgresql+foo
        driver = parsed.drivername.partition("+")[2]
    module = DRIVERS[backend].get(driver)
    if module is None or importlib.util.find_spec(module) is None:
        usable = ", ".join(f"{backend}+{d}" for d, m in DRIVERS[backend].items() if importlib.util.find_spec(m))
        return (f"trình điều khiển {backend}+{driver} không có sẵn (dùng {usable})",
                f"driver {backend}+{driver} is not available (use {usable})")
    if backend == "sqlite" and parsed.database in (None, ""):
        return (f"thiếu đường dẫn tệp SQLite (viết dạng {URL_EXAMPLES.split(',')[0]})",
                f"the SQLite file path is missing (write it like {URL_EXAMPLES.split(',')[0]})")
    return None


def where(url: str) -> str:
    """The database as the administrator knows it: the SQLite file, or PostgreSQL user@host:port/name."""
    if (path := sqlite_path(url)) is not None:
        return str(path)
    parsed = make_url(url)
    user = f"{parsed.username}@" if parsed.username else ""
    return f"PostgreSQL {user}{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def not_initialised(url: str) -> DatabaseProblem:
    return DatabaseProblem(f"Cơ sở dữ liệu {where(url)} chưa được khởi tạo: chạy `tracker init` trước.",
                           f"The database {where(url)} has not been set up: run `tracker init` first.")


def check_sqlite_file(path: Path, *, create: bool = False) -> None:
    """Raise a DatabaseProblem naming the file or folder when SQLite could not use ``path``.

    Before connecting, because SQLite's own words ("unable to open database file") do not say why.
    ``create``: the file may be missing (``tracker init`` makes it); the folder must then be writable.
    """
    folder = path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DatabaseProblem(f"Không dùng được {path}: {existing} là một tệp, không phải thư mục.",
                              f"Cannot use {path}: {existing} is a file, not a folder.")
    if not path.exists():
        if not create:
            raise DatabaseProblem(f"Chưa có cơ sở dữ liệu {path}: chạy `tracker init` trước.",
                                  f"There is no database at {path} yet: run `tracker init` first.")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise _read_only_folder(existing, path)
        return
    if path.is_dir():
        raise DatabaseProblem(f"{path} là một thư mục, không phải tệp cơ sở dữ liệu SQLite.",
                              f"{path} is a folder, not a SQLite database file.")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseProblem(f"Không đọc được tệp cơ sở dữ liệu {path}: {exc.strerror}.",
                              f"Cannot read the database file {path}: {exc.strerror}.") from None
    if head and head != SQLITE_HEADER:  # an empty file is an empty database to SQLite
        raise DatabaseProblem(
            f"Tệp {path} không phải cơ sở dữ liệu SQLite: kiểm tra `database.url`, hoặc chuyển tệp này đi "
            f"rồi chạy `tracker init`.",
            f"{path} is not a SQLite database: check `database.url`, or move the file away and run `tracker init`.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _read_only_folder(folder, path)
    if not os.access(path, os.W_OK):
        raise DatabaseProblem(f"Tệp cơ sở dữ liệu {path} chỉ đọc: cấp quyền ghi cho người chạy tracker.",
                              f"The database file {path} is read-only: let the user running tracker write it.")


def _read_only_folder(folder: Path, path: Path) -> DatabaseProblem:
    return DatabaseProblem(
        f"Thư mục {folder} chỉ đọc: SQLite cần ghi {path.name} và các tệp nhật ký (-wal, -shm) của nó ở đó.",
        f"The folder {folder} is read-only: SQLite needs to write {path.name} and its journal files "
        f"(-wal, -shm) there.")


def create_sqlite_file(path: Path) -> None:
    """Make the folder and an empty database file (SQLite reads an empty file as an empty database)."""
    check_sqlite_file(path, create=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(f"Không tạo được cơ sở dữ liệu {path}: {exc.strerror}.",
                              f"Cannot create the database {path}: {exc.strerror}.") from None
    check_sqlite_file(path)


# SQLite's errors about the file itself (rather than about one statement).
_SQLITE_FILE_ERRORS = ("unable to open database file", "readonly database", "file is not a database", "malformed",
                       "disk i/o error")


@contextmanager
def explained(url: str) -> Iterator[None]:
    """Driver errors about the database itself (see :func:`explain`) become one DatabaseProblem."""
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as exc:
        problem = explain(url, exc)
        if problem is None:
            raise
        raise problem from exc


def explain(url: str, exc: BaseException) -> DatabaseProblem | None:
    """The DatabaseProblem behind a driver error, or None when the error is not about the database itself."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig).strip()
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return not_initialised(url)
    if (path := sqlite_path(url)) is not None:
        if not any(words in lowered for words in _SQLITE_FILE_ERRORS):
            return None
        try:
            check_sqlite_file(path)
        except DatabaseProblem as problem:
            return problem
        if "malformed" in lowered or "not a database" in lowered:
            return DatabaseProblem(f"Tệp cơ sở dữ liệu {path} bị hỏng ({text}): dùng bản sao lưu gần nhất.",
                                   f"The database file {path} is damaged ({text}): restore the latest backup.")
        return DatabaseProblem(f"Không dùng được tệp cơ sở dữ liệu {path}: {text}.",
                               f"Cannot use the database file {path}: {text}.")
    if exc.statement is None:  # raised while connecting
        first = text.splitlines()[0] if text else type(exc.orig).__name__
        # Exit 1, not 2: a server not up yet (at boot) is worth retrying; the scheduler's unit restarts on 1.
        return DatabaseProblem(
            f"Không kết nối được cơ sở dữ liệu {where(url)}: {first}. Kiểm tra máy chủ có đang chạy không và "
            f"địa chỉ trong `database.url` (hoặc TRACKER_DATABASE_URL).",
            f"Cannot connect to the database {where(url)}: {first}. Check that the server is running and the "
            f"address in `database.url` (or TRACKER_DATABASE_URL).", exit_code=1)
    return None
