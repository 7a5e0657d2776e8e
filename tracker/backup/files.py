"""Copying folders into a backup and out of it, hashing every file on the way.

The archive and quarantine only ever gain files (names derive from the content's hash), so a file that
the previous backup already holds — same path, size and SHA-256 — is hard-linked from it instead of
copied: each backup folder stays complete on its own, and deleting any one of them loses nothing of the
others. A link is only ever made between backups, never to the live folders, whose files could change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracker.backup.manifest import FileEntry

_CHUNK = 1024 * 1024
_TEMP_PREFIX = ".tmp-"  # files the intake is writing at this moment (tracker.intake.files.write_atomic)


@dataclass
class CopyStats:
    copied: int = 0
    linked: int = 0
    bytes_copied: int = 0
    bytes_total: int = 0

    def add(self, other: CopyStats) -> None:
        self.copied += other.copied
        self.linked += other.linked
        self.bytes_copied += other.bytes_copied
        self.bytes_total += other.bytes_total


def sha256_of(path: Path) -> FileEntry:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(size, digest.hexdigest())


def copy_hashing(source: Path, dest: Path) -> FileEntry:
    """Copy ``source`` to ``dest`` (new file) and return what was written, reading the source once."""
    digest, size = hashlib.sha256(), 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(dest, "xb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return FileEntry(size, digest.hexdigest())


def walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file under ``root`` as (path relative to root with ``/``, full path), sorted; files
    being written by the intake (``.tmp-*``) and symbolic links are left out."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        for name in sorted(files):
            path = base / name
            if name.startswith(_TEMP_PREFIX) or path.is_symlink():
                continue
            yield path.relative_to(root).as_posix(), path


def copy_tree(source: Path, backup: Path, prefix: str, previous: tuple[Path, dict[str, FileEntry]] | None,
              files: dict[str, FileEntry]) -> CopyStats:
    """Copy the files under ``source`` into ``backup/prefix``, adding each to ``files`` (path in the backup →
    entry). ``previous`` is the folder and the file list of the previous backup, to link unchanged files from."""
    stats = CopyStats()
    for rel, path in walk(source):
        name = f"{prefix}/{rel}"
        dest = backup / name
        try:
            entry = _link_unchanged(path, dest, name, previous)
            if entry is None:
                entry = copy_hashing(path, dest)
                stats.copied += 1
                stats.bytes_copied += entry.size
            else:
                stats.linked += 1
        except FileNotFoundError:  # gone between the listing and the copy (renamed by the intake): not ours
            dest.unlink(missing_ok=True)
            continue
        files[name] = entry
        stats.bytes_total += entry.size
    return stats


def _link_unchanged(path: Path, dest: Path, name: str, previous: tuple[Path, dict[str, FileEntry]] | None
                    ) -> FileEntry | None:
    """Hard-link ``dest`` to the previous backup's copy when the file is the same; the entry, or None."""
    if previous is None:
        return None
    folder, entries = previous
    before = entries.get(name)
    if before is None or before.size != path.stat().st_size:
        return None
    now = sha256_of(path)
    if now != before:
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(folder / name, dest)
    except OSError:  # not there any more, another file system, no hard links: copy instead
        return None
    return now


def copy_out(backup: Path, name: str, dest: Path) -> None:
    """Copy one file of a backup to ``dest`` (a copy, never a link: the restored files will live on)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backup / name, dest)
