"""The manifest of a backup, backup names and rotation: pure functions, no files."""

from __future__ import annotations

from datetime import datetime

import pytest

from tracker.backup.manifest import (
    FileEntry,
    Manifest,
    ManifestError,
    backup_name,
    compare,
    dumps,
    is_partial,
    loads,
    newest_first,
    to_delete,
)


def manifest() -> Manifest:
    return Manifest(cluster="cum-1", created_at="2023-06-30T23:30:00+07:00", product_version="0.1.0",
                    database={"dialect": "sqlite", "revision": "0002", "file": "database.sqlite3",
                              "clusters": ["cum-1"]},
                    counts={"submissions": 2, "figures": 10},
                    origin={"config": "/srv/cum-1/config.toml", "database_url": "sqlite:////srv/cum-1/tracker.db",
                            "archive": "/srv/cum-1/data/archive", "quarantine": "/srv/cum-1/data/quarantine"},
                    files={"archive/HBT/Báo cáo.xlsx": FileEntry(9, "ab" * 32),
                           "database.sqlite3": FileEntry(4, "cd" * 32)})


def test_a_manifest_reads_back_as_written():
    back = loads(dumps(manifest()))
    assert back == manifest()
    assert "archive/HBT/Báo cáo.xlsx" in dumps(manifest())  # Vietnamese names kept readable


@pytest.mark.parametrize("edit", [
    lambda t: t.replace('"figures": 10', '"figures": 11'),
    lambda t: t.replace("ab" * 32, "ab" * 31 + "ac"),
    lambda t: t.replace('"size": 9', '"size": 8'),
    lambda t: t[:-3],
])
def test_a_manifest_changed_by_one_character_is_not_trusted(edit):
    text = dumps(manifest())
    changed = edit(text)
    assert changed != text
    with pytest.raises(ManifestError):
        loads(changed)


def test_compare_names_every_file_that_differs_from_the_manifest():
    expected = {"a": FileEntry(3, "1" * 64), "b": FileEntry(3, "2" * 64), "c": FileEntry(3, "3" * 64),
                "d": FileEntry(3, "4" * 64)}
    found = {"a": FileEntry(3, "1" * 64), "b": FileEntry(4, "2" * 64), "c": FileEntry(3, "9" * 64),
             "e": FileEntry(1, "5" * 64)}
    damage = compare(expected, found)
    assert [(d.path, d.problem) for d in damage] == [("b", "size"), ("c", "sha256"), ("d", "missing"),
                                                     ("e", "unlisted")]
    assert damage[1].text() == ("c: nội dung đã bị thay đổi (SHA-256 khác bản kê) / its content changed "
                                "(SHA-256 differs)")
    assert compare(expected, dict(expected)) == []


def test_backup_names_sort_by_time_and_never_collide():
    when = datetime(2023, 6, 30, 23, 30, 5)
    assert backup_name("cum-1", when) == "cum-1-20230630-233005"
    assert backup_name("cum-1", when, ["cum-1-20230630-233005"]) == "cum-1-20230630-233005-2"
    assert backup_name("cum-1", when, [".cum-1-20230630-233005.partial"]) == "cum-1-20230630-233005-2"


def test_rotation_keeps_the_newest_backups_of_this_cluster_only():
    names = ["cum-1-20230628-233000", "cum-1-20230630-233000", "cum-1-20230629-233000",
             "cum-1-20230630-233000-2", "cum-10-20230601-233000", "cum-2-20230101-000000",
             ".cum-1-20230627-233000.partial", "notes.txt", "cum-1-20230625-233000.old"]
    assert newest_first("cum-1", names) == ["cum-1-20230630-233000-2", "cum-1-20230630-233000",
                                            "cum-1-20230629-233000", "cum-1-20230628-233000"]
    assert to_delete("cum-1", names, 2) == ["cum-1-20230629-233000", "cum-1-20230628-233000"]
    assert to_delete("cum-1", names, 14) == []
    with pytest.raises(ValueError):
        to_delete("cum-1", names, 0)


def test_only_this_clusters_unfinished_backups_count_as_partial():
    assert is_partial("cum-1", ".cum-1-20230627-233000.partial")
    assert not is_partial("cum-1", ".cum-2-20230627-233000.partial")
    assert not is_partial("cum-1", "cum-1-20230627-233000")
