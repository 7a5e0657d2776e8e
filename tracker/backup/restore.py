"""``tracker restore BACKUP --to DIR``: check a backup whole, then lay it out in an empty folder.

Nothing is restored over a live installation: the target folder must be new or empty (and on
PostgreSQL the target database must hold no table). Every file of the backup is checked against the
manifest first; one changed byte anywhere and the backup is refused, naming the file.

Layout: the config file goes to ``DIR/<its name>``; the SQLite database, the archive and the quarantine
go to the same place relative to it as they had relative to the original config (so with the default
relative paths the restored config works as is), or to ``DIR/data/…`` when they lived elsewhere. What the
restored config must then say to use them is returned, to be printed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker.backup import database
from tracker.backup.files import copy_out, sha256_of, walk
from tracker.backup.manifest import MANIFEST, Manifest, ManifestError, compare, loads
from tracker.errors import TrackerError


class DamagedBackup(TrackerError):
    """The backup is not what its manifest says (exit code 1: the input was rejected)."""

    def __init__(self, folder: Path, lines: list[str]):
        self.lines = lines
        listed = "\n  ".join(lines)
        super().__init__(f"Bản sao lưu {folder} bị hỏng, không khôi phục:\n  {listed}",
                         f"The backup {folder} is damaged; nothing was restored.", exit_code=1)


def check_backup(folder: Path) -> Manifest:
    """The manifest, once every file of the backup matches it; raises :class:`DamagedBackup` otherwise."""
    if not folder.is_dir():
        raise TrackerError(f"Không có thư mục sao lưu {folder}.", f"There is no backup folder {folder}.")
    try:
        manifest = loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DamagedBackup(folder, [f"{MANIFEST}: thiếu tệp / the file is missing"]) from None
    except (ManifestError, UnicodeDecodeError) as exc:
        raise DamagedBackup(folder, [f"{MANIFEST}: bản kê bị hỏng / the manifest is damaged ({exc})"]) from None
    found = {rel: sha256_of(path) for rel, path in walk(folder) if rel != MANIFEST}
    damage = compare(manifest.files, found)
    if damage:
        raise DamagedBackup(folder, [d.text() for d in damage])
    return manifest


@dataclass
class Restored:
    """Where everything went, and what to change in the restored config (``(section, key, value)``) or run."""

    folder: Path
    config: Path
    archive: Path
    quarantine: Path
    database: str  # the SQLite file, or the PostgreSQL URL (password hidden) / dump file
    files: int
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    elsewhere: list[tuple[str, Path]] = field(default_factory=list)  # config paths outside the restored folder


def place(original: Path, config_dir: Path, target: Path, default: str) -> Path:
    """Where a file or folder that was at ``original`` goes under ``target``: at the same place relative to
    the config as before when it was inside the config's folder, else at ``target/data/<default>``."""
    try:
        return target / original.relative_to(config_dir)
    except ValueError:
        return target / "data" / default


def restore_backup(backup: Path, to: Path, *, database_url: str | None = None) -> Restored:
    """Check ``backup`` and restore it into the empty folder ``to`` (and the empty database ``database_url``)."""
    manifest = check_backup(backup)
    dialect = manifest.database["dialect"]
    if database_url and dialect != "postgresql":
        raise TrackerError("--database-url chỉ dùng cho bản sao lưu PostgreSQL.",
                           "--database-url is for PostgreSQL backups only.")
    _require_empty(to)
    if database_url and not database.is_empty_postgres(database_url):
        raise TrackerError("Cơ sở dữ liệu đích đã có bảng; chỉ khôi phục vào một cơ sở dữ liệu mới, rỗng.",
                           "The target database already has tables; restore only into a new, empty database.")
    existed = to.exists()
    to.mkdir(parents=True, exist_ok=True)
    try:
        return _lay_out(backup, to.resolve(), manifest, database_url)
    except BaseException:  # leave the target as it was, ready for another try
        if existed:
            _empty(to)
        else:
            shutil.rmtree(to, ignore_errors=True)
        raise


def _lay_out(backup: Path, to: Path, manifest: Manifest, database_url: str | None) -> Restored:
    origin = manifest.origin
    config_src = Path(origin["config"])
    config_dir = config_src.parent
    config = to / config_src.name
    archive = place(Path(origin["archive"]), config_dir, to, "archive")
    quarantine = place(Path(origin["quarantine"]), config_dir, to, "quarantine")
    targets = {"config": config.parent, "archive": archive, "quarantine": quarantine}
    count = 0
    for name in manifest.files:
        prefix, _, rest = name.partition("/")
        if prefix in targets and rest:
            copy_out(backup, name, targets[prefix] / rest)
            count += prefix != "config"
    archive.mkdir(parents=True, exist_ok=True)
    quarantine.mkdir(parents=True, exist_ok=True)
    dump = manifest.database["file"]
    restored = Restored(to, config, archive, quarantine, "", count)
    if manifest.database["dialect"] == "sqlite":
        db = place(database.sqlite_path(origin["database_url"]), config_dir, to, "tracker.db")
        database.restore_sqlite(backup / dump, db)
        restored.database, url = str(db), f"sqlite:///{db}"
    else:
        kept = to / "data" / dump
        copy_out(backup, dump, kept)
        url = _restore_pg(restored, kept, origin["database_url"], database_url)
    restored.changes, restored.elsewhere = _changes(config, url, archive, quarantine)
    return restored


def _restore_pg(restored: Restored, dump: Path, origin_url: str, database_url: str | None) -> str:
    """Load the dump into ``database_url``, or say how to (a new database next to the original one)."""
    if database_url:
        database.restore_postgres(dump, database_url)
        restored.database = make_url(database_url).render_as_string(hide_password=True)
        return database_url
    original = make_url(origin_url)
    new = original.set(database=f"{original.database}_restored", password=None)
    plain = new.render_as_string(hide_password=False)
    restored.commands = [_createdb(new), " ".join(database.restore_command(dump, plain))]
    restored.database = f"{dump} → {new.render_as_string(hide_password=True)}"
    return plain


def _createdb(url) -> str:
    parts = ["createdb"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    return " ".join([*parts, str(url.database)])


def _changes(config: Path, url: str, archive: Path, quarantine: Path
             ) -> tuple[list[tuple[str, str, str]], list[tuple[str, Path]]]:
    """The config keys that must change for the restored config to use the restored data; and the working
    folders it still shares with the installation it came from (inbox, reports, backups), which a copy must
    not use before they are changed (a pull there would take the live inbox's files)."""
    from tracker.config import load_settings
    from tracker.errors import ConfigError

    wanted = [("database", "url", url), ("paths", "archive", str(archive)), ("paths", "quarantine", str(quarantine))]
    try:
        s = load_settings(config, env={})
    except ConfigError:
        return wanted, []
    now = {("database", "url"): s.database.url, ("paths", "archive"): str(s.paths.archive),
           ("paths", "quarantine"): str(s.paths.quarantine)}
    working = {"paths.inbox": s.paths.inbox, "paths.reports": s.paths.reports, "backup.dir": s.backup.dir}
    elsewhere = [(key, path) for key, path in working.items() if not path.is_relative_to(config.parent)]
    return [(sect, key, value) for sect, key, value in wanted if now[(sect, key)] != value], elsewhere


def _require_empty(to: Path) -> None:
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise TrackerError(
            f"{to} đã có dữ liệu; chỉ khôi phục vào một thư mục mới hoặc rỗng (không ghi đè bản đang dùng).",
            f"{to} is not empty; restore only into a new or empty folder (never over a live installation).")


def _empty(to: Path) -> None:
    """Undo a restore that failed half-way in a folder that was there, empty, before."""
    for child in to.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
