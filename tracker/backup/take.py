"""``tracker backup`` and the nightly ``backup`` job: one consistent, self-checking backup of a cluster.

Order matters for consistency while sheets keep arriving: the database snapshot is taken first, the
files are copied after. The intake writes a file's bytes to the archive (or quarantine) *before* it
commits the submission that names them, so every submission in the snapshot already has its file on disk
when the folders are copied; a file of a submission committed after the snapshot may come along too,
which is harmless.

On PostgreSQL the dump holds the whole database, i.e. every cluster that shares it (the manifest lists
them); the archive, quarantine and config are this cluster's.

The caller holds the ``backup`` job's lock (see :func:`tracker.cli.backup` and ``jobs.tasks``), so two
backups of one cluster never run at once and a leftover ``.partial`` folder can only be a dead one.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker import __version__
from tracker.backup import database
from tracker.backup.files import CopyStats, copy_hashing, copy_tree, sha256_of
from tracker.backup.manifest import (
    MANIFEST,
    PARTIAL_SUFFIX,
    FileEntry,
    Manifest,
    ManifestError,
    backup_name,
    dumps,
    is_partial,
    loads,
    newest_first,
    to_delete,
)
from tracker.context import Context

log = logging.getLogger("tracker.backup")


@dataclass
class BackupReport:
    path: Path
    manifest: Manifest
    stats: CopyStats
    previous: Path | None  # the backup unchanged files were linked from
    deleted: list[Path] = field(default_factory=list)  # older backups removed by rotation
    seconds: float = 0.0

    @property
    def size(self) -> int:
        """Bytes of all files of the backup (linked ones included: the backup is complete on its own)."""
        return sum(e.size for e in self.manifest.files.values())

    @property
    def counts(self) -> dict[str, object]:
        """The plain numbers recorded for a run of the ``backup`` job."""
        return {"backup": self.path.name, **self.manifest.counts, "copied": self.stats.copied,
                "linked": self.stats.linked, "bytes": self.size, "bytes_copied": self.stats.bytes_copied,
                "deleted": len(self.deleted)}


def take_backup(ctx: Context, to: Path | None = None, *, now: datetime | None = None) -> BackupReport:
    """Write one backup of ``ctx``'s cluster into ``to`` (default ``[backup] dir``) and rotate old ones."""
    started = time.monotonic()
    s = ctx.settings
    root = Path(to) if to is not None else s.backup.dir
    root.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(root, ctx.cluster_id)
    when = (now or datetime.now(UTC)).astimezone(s.tz)
    name = backup_name(ctx.cluster_id, when, os.listdir(root))
    partial = root / f".{name}{PARTIAL_SUFFIX}"
    partial.mkdir()
    try:
        previous = _previous(root, ctx.cluster_id)
        manifest, stats = _write(ctx, partial, when, previous)
        (partial / MANIFEST).write_text(dumps(manifest), encoding="utf-8")
        os.sync()  # everything on disk before the folder gets its final name (and is linked from tomorrow)
        final = root / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report = BackupReport(final, manifest, stats, previous[0] if previous else None)
    for old in to_delete(ctx.cluster_id, os.listdir(root), s.backup.keep):
        if old == name:  # older by name than kept ones (a clock set back): still the one just made
            continue
        shutil.rmtree(root / old)
        report.deleted.append(root / old)
        log.info("sao lưu cũ đã xoá / old backup removed: %s", root / old)
    report.seconds = time.monotonic() - started
    log.info("sao lưu xong / backup written: %s (%d tệp chép, %d tệp liên kết / copied, linked) in %.1f s",
             final, stats.copied, stats.linked, report.seconds)
    return report


def _write(ctx: Context, folder: Path, when: datetime, previous: tuple[Path, dict[str, FileEntry]] | None
           ) -> tuple[Manifest, CopyStats]:
    """Database first, then the files (see the module docstring); returns the manifest and copy figures."""
    s = ctx.settings
    log.info("sao lưu cơ sở dữ liệu / dumping the database (%s)", database.dialect_of(s.database.url))
    snap = database.dump(s.database.url, folder, ctx.cluster_id)
    files: dict[str, FileEntry] = {snap.file: sha256_of(folder / snap.file)}
    config_name = f"config/{s.source.name}"
    files[config_name] = copy_hashing(s.source, folder / config_name)
    stats = CopyStats()
    counts = dict(snap.counts)
    for prefix, source in (("archive", s.paths.archive), ("quarantine", s.paths.quarantine)):
        log.info("chép / copying %s (%s)", prefix, source)
        part = copy_tree(source, folder, prefix, previous, files)
        counts[f"{prefix}_files"] = part.copied + part.linked
        stats.add(part)
    manifest = Manifest(
        cluster=ctx.cluster_id, created_at=when.isoformat(timespec="seconds"), product_version=__version__,
        database={"dialect": snap.dialect, "revision": snap.revision, "file": snap.file, "clusters": snap.clusters},
        counts=counts,
        origin={"config": str(s.source), "database_url": make_url(s.database.url).render_as_string(hide_password=True),
                "archive": str(s.paths.archive), "quarantine": str(s.paths.quarantine)},
        files=files)
    return manifest, stats


def _previous(root: Path, cluster_id: str) -> tuple[Path, dict[str, FileEntry]] | None:
    """The newest complete backup of this cluster in ``root`` and its files, to link unchanged files from."""
    for name in newest_first(cluster_id, os.listdir(root)):
        try:
            manifest = loads((root / name / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ManifestError) as exc:
            log.warning("bỏ qua bản sao lưu hỏng / ignoring a damaged backup %s: %s", root / name, exc)
            continue
        if manifest.cluster == cluster_id:
            return root / name, manifest.files
    return None


def _remove_dead_partials(root: Path, cluster_id: str) -> None:
    for name in os.listdir(root):
        if is_partial(cluster_id, name):
            log.warning("xoá bản sao lưu dở dang / removing an unfinished backup: %s", root / name)
            shutil.rmtree(root / name, ignore_errors=True)
