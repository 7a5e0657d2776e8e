"""A database that cannot be used gets one clear message naming the file or server (exit 2), never a
driver's "Unexpected error", and a command run before `tracker init` leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import write_config

TRACKER = str(Path(sys.executable).parent / "tracker")
# Commands that need an initialised database; none of them may create it.
READERS = [("status",), ("pull",), ("ingest", "{config}"), ("jobs", "list"), ("jobs", "run", "pull"),
           ("tokens", "list"), ("targets", "template", "-o", "{folder}/t.xlsx"), ("outbox",)]


def _fresh(tmp_path: Path, url: str = "sqlite:///data/tracker.db") -> tuple[Path, Path]:
    """A folder holding only a config (its database, by default, at data/tracker.db inside it)."""
    folder = tmp_path / "fresh"
    folder.mkdir()
    return folder, write_config(folder, url)


def _args(command: tuple[str, ...], folder: Path, config: Path) -> list[str]:
    return [a.format(folder=folder, config=config) for a in command]


def _clear(result, *fragments: str, exit_code: int = 2) -> None:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Unexpected error" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_command_before_init_says_run_init_and_creates_no_database_or_folder(tmp_path, cli, command):
    folder, config = _fresh(tmp_path)
    result = cli(*_args(command, folder, config), config=config)
    _clear(result, "chạy `tracker init`", "run `tracker init`", str(folder / "data" / "tracker.db"))
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml"]


def test_an_empty_file_left_by_an_older_version_is_a_database_still_to_initialise(tmp_path, cli):
    folder, config = _fresh(tmp_path)
    (folder / "data").mkdir()
    (folder / "data" / "tracker.db").touch()
    _clear(cli("status", config=config), "chưa được khởi tạo", "run `tracker init`")
    assert cli("init", config=config).exit_code == 0
    assert cli("status", "--format", "json", config=config).exit_code == 0


@pytest.mark.parametrize("command", [("init",), *READERS], ids=" ".join)
def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path, cli, command):
    folder, config = _fresh(tmp_path)
    junk = folder / "data" / "tracker.db"
    junk.parent.mkdir()
    data = os.urandom(8192)
    junk.write_bytes(data)
    result = cli(*_args(command, folder, config), config=config)
    _clear(result, f"Tệp {junk} không phải cơ sở dữ liệu SQLite", f"{junk} is not a SQLite database")
    assert junk.read_bytes() == data and sorted(p.name for p in junk.parent.iterdir()) == ["tracker.db"]


def test_the_web_portal_refuses_a_file_that_is_not_a_database(tmp_path):
    from tracker.config import load_settings
    from tracker.errors import TrackerError
    from tracker.web.app import create_app

    folder, config = _fresh(tmp_path)
    (folder / "data").mkdir()
    (folder / "data" / "tracker.db").write_bytes(b"PK\x03\x04 a zip, not a database" * 50)
    with pytest.raises(TrackerError, match="không phải cơ sở dữ liệu SQLite") as info:
        create_app(load_settings(config, env={}))
    assert info.value.exit_code == 2


def test_a_damaged_database_is_called_damaged(tmp_path, cli):
    folder, config = _fresh(tmp_path)
    db = folder / "data" / "tracker.db"
    db.parent.mkdir()
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    _clear(cli("status", config=config), f"Tệp cơ sở dữ liệu {db} bị hỏng", "is damaged")


@pytest.mark.parametrize("command", [("init",), ("status",)], ids=" ".join)
def test_a_database_folder_under_a_file_is_named(tmp_path, cli, command):
    folder, config = _fresh(tmp_path)
    (folder / "data").write_text("not a folder", encoding="utf-8")
    _clear(cli(*command, config=config), f"{folder / 'data'} là một tệp, không phải thư mục", "is a file, not a folder")


@pytest.fixture
def shared_folder():
    """A folder another user can reach (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-ro-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _as_unprivileged(args: list[str]) -> subprocess.CompletedProcess:
    """Run `tracker` as a user for whom a read-only folder is read-only: root writes anywhere, so under root
    the command runs as user 65534 (nobody) through setpriv, when that user can start this Python at all."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if shutil.which("setpriv") is None or subprocess.run([*prefix, TRACKER, "--help"], capture_output=True,
                                                             timeout=60).returncode != 0:
            pytest.skip("root ignores folder permissions, and user 65534 cannot run tracker here (no setpriv, "
                        "or this Python lives in a folder only root can read)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return subprocess.run([*prefix, TRACKER, *args], capture_output=True, text=True, timeout=120, env=env)


def test_a_read_only_data_folder_is_named_by_init_and_by_status_on_an_existing_database(shared_folder):
    config = write_config(shared_folder, "sqlite:///data/tracker.db")
    config.chmod(0o644)
    data = shared_folder / "data"
    data.mkdir()
    data.chmod(0o555)
    done = _as_unprivileged(["--config", str(config), "init"])
    assert done.returncode == 2, done.stderr
    assert f"Thư mục {data} chỉ đọc" in done.stderr and f"The folder {data} is read-only" in done.stderr
    assert "Traceback" not in done.stderr and "Unexpected error" not in done.stderr
    assert list(data.iterdir()) == []

    data.chmod(0o755)  # a database made by its owner, then read by someone who may not write next to it
    subprocess.run([TRACKER, "--config", str(config), "init"], check=True, capture_output=True, timeout=120)
    for path in data.iterdir():
        path.chmod(0o644)
    data.chmod(0o555)
    done = _as_unprivileged(["--config", str(config), "status"])
    assert done.returncode == 2 and f"Thư mục {data} chỉ đọc" in done.stderr, done.stderr


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [("init",), ("status",), ("jobs", "list")], ids=" ".join)
def test_a_postgresql_server_that_cannot_be_reached_is_named_with_exit_1_worth_retrying(tmp_path, cli, monkeypatch,
                                                                                      command):
    port = _closed_port()
    folder, config = _fresh(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"postgresql+psycopg://tracker:s3cret@127.0.0.1:{port}/tracker")
    result = cli(*command, config=config)
    _clear(result, f"Không kết nối được cơ sở dữ liệu PostgreSQL tracker@127.0.0.1:{port}/tracker",
           f"Cannot connect to the database PostgreSQL tracker@127.0.0.1:{port}/tracker", "Connection refused",
           exit_code=1)
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize(
    ("url", "vi", "en"),
    [("mysql://u:s3cret@db.example.org/tracker", "không hỗ trợ hệ cơ sở dữ liệu 'mysql'", "is not supported"),
     ("oracle+cx_oracle://u:s3cret@h/x", "không hỗ trợ hệ cơ sở dữ liệu 'oracle'", "is not supported"),
     ("postgresql+asyncpg://u:s3cret@h/x", "trình điều khiển postgresql+asyncpg", "driver postgresql+asyncpg"),
     ("data/tracker.db", "không đọc được địa chỉ cơ sở dữ liệu", "not a database URL"),
     ("sqlite:/data/tracker.db", "không đọc được địa chỉ cơ sở dữ liệu", "not a database URL"),
     ("sqlite://", "thiếu đường dẫn tệp SQLite", "SQLite file path is missing")],
)
def test_an_unusable_database_url_is_a_config_error_naming_the_key(tmp_path, url, vi, en, cli, monkeypatch):
    folder = tmp_path / "cfg"
    folder.mkdir()
    config = write_config(folder, url)
    result = cli("status", config=config)
    _clear(result, f"Lỗi cấu hình trong tệp {config}, khoá `database.url`: {vi}", en)
    assert "s3cret" not in result.stderr

    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    folder, config = _fresh(tmp_path)
    result = cli("init", config=config)
    _clear(result, "biến môi trường `TRACKER_DATABASE_URL`", "environment variable `TRACKER_DATABASE_URL`",
           "`database.url`", vi)
    assert "s3cret" not in result.stderr and sorted(p.name for p in folder.iterdir()) == ["config.toml"]
