"""The manifest of a backup: what it holds and the SHA-256 of every file. Pure: no file system here.

A backup folder is complete on its own: ``manifest.json`` lists every other file in it (path relative to
the folder, with ``/``), its size and its SHA-256, and carries a checksum of its own content, so a changed
byte anywhere — in a file or in the manifest — is found before anything is restored.

Folder names sort by time: ``<cluster id>-YYYYMMDD-HHMMSS`` (local time of the cluster), with ``-2``,
``-3``… when two backups fall in one second. A backup being written is a hidden ``.<name>.partial``
folder, renamed when complete, so a half-written backup never looks like one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MANIFEST = "manifest.json"
FORMAT = 1  # the manifest layout; a newer product may write a newer one
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass
class Manifest:
    """What ``manifest.json`` says. ``files`` maps a path inside the backup to its size and SHA-256."""

    cluster: str
    created_at: str  # ISO, with the cluster's UTC offset
    product_version: str
    database: dict[str, Any]  # dialect, revision, file (inside the backup), clusters in it
    counts: dict[str, int]  # of this cluster: submissions, accepted, figures, files
    origin: dict[str, str]  # where things were: config, database URL (no password), archive, quarantine
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: int = FORMAT

    def body(self) -> dict[str, Any]:
        return {
            "format": self.format, "cluster": self.cluster, "created_at": self.created_at,
            "product_version": self.product_version, "database": self.database, "counts": self.counts,
            "origin": self.origin,
            "files": {path: {"size": e.size, "sha256": e.sha256} for path, e in sorted(self.files.items())},
        }


class ManifestError(ValueError):
    """The manifest cannot be trusted: missing, not JSON, or its checksum does not match its content."""


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def dumps(manifest: Manifest) -> str:
    """The text of ``manifest.json``: readable JSON with a checksum of its canonical form."""
    body = manifest.body()
    return json.dumps({**body, "manifest_sha256": hashlib.sha256(_canonical(body)).hexdigest()},
                      ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def loads(text: str) -> Manifest:
    """Parse ``manifest.json``; raises :class:`ManifestError` when it is not what :func:`dumps` wrote."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError("not a JSON object")
    claimed = data.pop("manifest_sha256", None)
    if claimed != hashlib.sha256(_canonical(data)).hexdigest():
        raise ManifestError("its checksum does not match its content")
    if data.get("format") != FORMAT:
        raise ManifestError(f"unknown manifest format {data.get('format')!r}")
    try:
        files = {str(p): FileEntry(int(e["size"]), str(e["sha256"])) for p, e in data["files"].items()}
        return Manifest(cluster=str(data["cluster"]), created_at=str(data["created_at"]),
                        product_version=str(data["product_version"]), database=dict(data["database"]),
                        counts=dict(data["counts"]), origin=dict(data["origin"]), files=files)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ManifestError(f"a field is missing or malformed ({exc!r})") from None


@dataclass(frozen=True)
class Damage:
    """One file of a backup that is not what its manifest says."""

    path: str
    problem: str  # missing | size | sha256 | unlisted

    def text(self) -> str:
        vi, en = {
            "missing": ("thiếu tệp", "the file is missing"),
            "size": ("kích thước khác với bản kê", "its size differs from the manifest"),
            "sha256": ("nội dung đã bị thay đổi (SHA-256 khác bản kê)", "its content changed (SHA-256 differs)"),
            "unlisted": ("tệp lạ, không có trong bản kê", "a file the manifest does not list"),
        }[self.problem]
        return f"{self.path}: {vi} / {en}"


def compare(expected: Mapping[str, FileEntry], found: Mapping[str, FileEntry]) -> list[Damage]:
    """Differences between the manifest's files and the files found in the backup, ordered by path."""
    damage = []
    for path in sorted(set(expected) | set(found)):
        want, got = expected.get(path), found.get(path)
        if want is None:
            damage.append(Damage(path, "unlisted"))
        elif got is None:
            damage.append(Damage(path, "missing"))
        elif got.size != want.size:
            damage.append(Damage(path, "size"))
        elif got.sha256 != want.sha256:
            damage.append(Damage(path, "sha256"))
    return damage


# -- names and rotation ------------------------------------------------------------------------------------------

def backup_name(cluster_id: str, when: datetime, taken: Iterable[str] = ()) -> str:
    """``cum-1-20230630-233000``; ``-2``, ``-3``… if that name is already in ``taken``."""
    base = f"{cluster_id}-{when.strftime('%Y%m%d-%H%M%S')}"
    taken = set(taken)
    name, n = base, 1
    while name in taken or f".{name}{PARTIAL_SUFFIX}" in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _pattern(cluster_id: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(cluster_id)}-(\d{{8}}-\d{{6}})(?:-(\d+))?")


def sort_key(cluster_id: str, name: str) -> tuple[str, int] | None:
    """Where a folder named ``name`` sorts among this cluster's backups; None if it is not one of them."""
    m = _pattern(cluster_id).fullmatch(name)
    return None if m is None else (m.group(1), int(m.group(2) or 1))


def is_partial(cluster_id: str, name: str) -> bool:
    """A folder left by a backup of this cluster that never finished."""
    return (name.startswith(".") and name.endswith(PARTIAL_SUFFIX)
            and sort_key(cluster_id, name[1:-len(PARTIAL_SUFFIX)]) is not None)


def newest_first(cluster_id: str, names: Iterable[str]) -> list[str]:
    """This cluster's backup folders among ``names``, newest first (other clusters may share the folder)."""
    ours = [(key, n) for n in names if (key := sort_key(cluster_id, n)) is not None]
    return [n for _key, n in sorted(ours, reverse=True)]


def to_delete(cluster_id: str, names: Iterable[str], keep: int) -> list[str]:
    """The backups beyond the newest ``keep`` of this cluster."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    return newest_first(cluster_id, names)[keep:]
