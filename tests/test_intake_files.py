"""Names of stored files: they fit the file system in bytes, whatever the district called its file."""

from __future__ import annotations

import resource
import signal
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.intake.files import (
    NAME_MAX,
    STORED_NAME_MAX,
    archive_path,
    derived_name,
    fit_name,
    quarantine_dir,
    received_name,
    safe_name,
    split_extension,
    write_atomic,
)

HASH = "1a2b3c4d5e6f" + "0" * 52
# Vietnamese letters are 2 or 3 bytes in UTF-8, some outside the Basic Multilingual Plane are 4.
LETTERS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)
EXTENSIONS = st.sampled_from(["", ".xlsx", ".xls", ".ods", ".XLSM", ".Tuần 26"])


def vietnamese_name(n_bytes: int, ext: str = ".xlsx") -> str:
    """A name of exactly ``n_bytes`` bytes of UTF-8, mostly 3-byte Vietnamese letters."""
    words = "Báo cáo tổng hợp số liệu thi đua tuần 26 của Liên đoàn Lao động quận Hai Bà Trưng "
    name = ""
    while len((name + words + ext).encode()) <= n_bytes:
        name += words
    for ch in words:  # then letter by letter, ASCII at the end to land on the exact size
        if len((name + ch + ext).encode()) > n_bytes:
            break
        name += ch
    name += "x" * (n_bytes - len((name + ext).encode()))
    assert len((name + ext).encode()) == n_bytes
    return name + ext


@given(LETTERS, EXTENSIONS, st.integers(min_value=16, max_value=NAME_MAX))
def test_any_name_fits_the_limit_in_bytes_as_valid_nfc_with_its_extension(stem, ext, limit):
    name = fit_name(stem + ext, limit)
    data = name.encode("utf-8")  # strict: never half a character
    assert len(data) <= limit
    assert unicodedata.is_normalized("NFC", name)
    if ext in (".xlsx", ".xls", ".ods", ".XLSM") and stem.strip(" .-_"):
        assert name.endswith(ext)


@given(LETTERS, EXTENSIONS)
def test_a_name_that_fits_is_kept_as_it_is(stem, ext):
    name = unicodedata.normalize("NFC", stem + ext)
    if len(name.encode()) <= STORED_NAME_MAX:
        assert fit_name(name) == name


@given(LETTERS, EXTENSIONS)
def test_every_stored_name_fits_under_name_max_with_room_for_a_temporary_name(stem, ext):
    name = stem + ext
    stored = [safe_name(name), derived_name(name, "_can-sua.xlsx"),
              archive_path(Path("a"), "HBT", date(2023, 6, 30), HASH, name).name,
              quarantine_dir(Path("q"), date(2023, 6, 30), HASH, name).name]
    for part in stored:
        assert 0 < len(part.encode("utf-8")) <= STORED_NAME_MAX < NAME_MAX, part
        assert "/" not in part and not part.startswith(".")
        assert unicodedata.is_normalized("NFC", part)


def test_a_long_vietnamese_name_is_cut_between_letters_and_keeps_its_extension():
    name = vietnamese_name(245)
    archived = archive_path(Path("a"), "HBT", date(2023, 6, 30), HASH, name).name
    assert archived.startswith("2023-06-30_1a2b3c4d5e6f_Báo cáo tổng hợp") and archived.endswith(".xlsx")
    assert len(archived.encode()) <= STORED_NAME_MAX
    stem = archived.removesuffix(".xlsx")
    assert name.startswith(stem.removeprefix("2023-06-30_1a2b3c4d5e6f_"))  # a start of the name, nothing else
    folder = quarantine_dir(Path("q"), date(2023, 6, 30), HASH, name).name
    assert folder.startswith("2023-06-30_1a2b3c4d5e6f_Báo cáo") and len(folder.encode()) <= STORED_NAME_MAX
    assert derived_name(name, "_can-sua.xlsx").endswith("_can-sua.xlsx")


def test_a_letter_is_never_parted_from_its_accents():
    stem = "a" * 10 + "\u1ec7" * 3 + "\u0111" + "q\u0323\u0302" * 3  # q̣̂ has no precomposed form: 3 characters
    for limit in range(16, 45):
        cut = fit_name(stem + ".xlsx", limit)
        assert len(cut.encode()) <= limit and cut.endswith(".xlsx")
        kept = cut.removesuffix(".xlsx")
        assert stem.startswith(kept)
        assert len(kept) == len(stem) or not unicodedata.combining(stem[len(kept)]), (limit, kept)


@pytest.mark.parametrize(("name", "expected"), [
    ("Báo cáo tuần 26.xlsx", ("Báo cáo tuần 26", ".xlsx")),
    ("bao cao tuan 26", ("bao cao tuan 26", "")),
    ("Báo cáo. Tuần 26", ("Báo cáo. Tuần 26", "")),
    (".xlsx", (".xlsx", "")),
    ("HBT.final.XLSM", ("HBT.final", ".XLSM")),
])
def test_the_extension_is_a_short_ascii_ending(name, expected):
    assert split_extension(name) == expected


@pytest.mark.parametrize(("given_name", "kept"), [
    ("C:\\Users\\Lan\\Báo cáo tuần 26.xlsx", "Báo cáo tuần 26.xlsx"),
    ("Ba\u0301o ca\u0301o.xlsx", "Báo cáo.xlsx"),  # as a Mac sends it (NFD)
    ("bao\x00cao\r\n.xlsx", "bao cao .xlsx"),
    ("bao c\udce1o.xlsx", "bao c\ufffdo.xlsx"),  # a Latin-1 name read from a disk (surrogateescape)
    ("", "bao-cao.xlsx"),
])
def test_the_received_name_is_kept_whole_except_for_what_cannot_be_stored_as_text(given_name, kept):
    assert received_name(given_name) == kept


def test_a_received_name_keeps_its_401_characters():
    name = ("Tổng hợp số liệu thi đua " * 20)[:396] + ".xlsx"
    assert len(name) == 401 and received_name(name) == name


def test_a_failed_write_leaves_no_empty_quarantine_folder(tmp_path, settings):
    """The file system refuses the write (here: a file size limit, EFBIG): the folder made for it goes."""
    from tracker.findings import finding
    from tracker.intake.ingest import IngestResult
    from tracker.intake.parser import ParsedReport
    from tracker.intake.rejection import keep_rejected

    folder = quarantine_dir(tmp_path / "quarantine", date(2023, 6, 30), HASH, "bao-cao.xlsx")
    report = ParsedReport(findings=[finding("error", "file_not_workbook", "Không phải tệp Excel.", "Not a workbook.")])
    result = IngestResult("rejected", "bao-cao.xlsx", HASH, findings=report.findings)
    old_limit, old_handler = resource.getrlimit(resource.RLIMIT_FSIZE), signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, old_limit[1]))
    try:
        with pytest.raises(OSError):
            keep_rejected(folder, b"x" * 4096, "bao-cao.xlsx", None, report, result, settings)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert not folder.exists()
    assert list((tmp_path / "quarantine").iterdir()) == []


def test_write_atomic_writes_a_name_of_the_full_length(tmp_path):
    name = fit_name(vietnamese_name(400))
    path = write_atomic(tmp_path / name, b"data")
    assert path.read_bytes() == b"data" and [p.name for p in tmp_path.iterdir()] == [name]


# --- end to end: `tracker ingest` and the portal ------------------------------------------------------------

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1520, "union_fees": 2345.5}
LONG_NAMES = {
    "245 bytes": vietnamese_name(245),
    "254 bytes": vietnamese_name(254),
    "401 characters": ("Tổng hợp số liệu thi đua quận Hai Bà Trưng " * 10)[:396] + ".xlsx",
}


def stored_parts(settings, path: Path) -> list[str]:
    """The components of a stored path below the archive or quarantine root."""
    for root in (settings.paths.archive, settings.paths.quarantine):
        if path.is_relative_to(root):
            return list(path.relative_to(root).parts)
    raise AssertionError(f"{path} is outside the archive and the quarantine")


def assert_fits(settings, path: Path) -> None:
    assert path.is_file(), path
    for part in stored_parts(settings, path):
        assert len(part.encode("utf-8")) <= STORED_NAME_MAX, part
        assert unicodedata.is_normalized("NFC", part)


def assert_no_empty_quarantine_folder(settings) -> None:
    root = settings.paths.quarantine
    folders = [p for p in root.iterdir()] if root.exists() else []
    assert all(p.is_dir() and any(p.iterdir()) for p in folders), folders


def only_submission(ctx):
    from sqlmodel import select

    from tracker import models

    with ctx.session() as s:
        return s.exec(select(models.Submission)).one()


@pytest.mark.parametrize("size", ["245 bytes", "254 bytes"])
def test_tracker_ingest_accepts_a_sheet_whose_name_is_long_in_bytes(ctx, cli, tmp_path, size):
    from tests.intake_factory import report_for

    name = LONG_NAMES[size]
    (tmp_path / name).write_bytes(report_for("HBT", JUNE_30, FIGS))
    result = cli("ingest", tmp_path / name)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{name}: đã chấp nhận (accepted) — HBT, 30/06/2023")
    sub = only_submission(ctx)
    assert (sub.status, sub.file_name) == ("accepted", name)
    stored = Path(sub.stored_path)
    assert_fits(ctx.settings, stored)
    assert stored.suffix == ".xlsx" and stored.parent.name == "HBT"
    assert stored.name.startswith("2023-06-30_") and "Báo cáo tổng hợp số liệu" in stored.name


@pytest.mark.parametrize("size", ["245 bytes", "254 bytes"])
def test_tracker_ingest_quarantines_a_rejected_sheet_whose_name_is_long_in_bytes(ctx, cli, tmp_path, size):
    from tests.intake_factory import report_for

    name = LONG_NAMES[size]
    (tmp_path / name).write_bytes(report_for("HBT", JUNE_30, {**FIGS, "agreements": -3}))
    result = cli("ingest", tmp_path / name)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"{name}: bị từ chối (rejected)") and "Báo cáo!E10" in result.stdout
    assert "failed" not in result.stdout
    sub = only_submission(ctx)
    assert (sub.status, sub.file_name) == ("rejected", name)
    original = Path(sub.stored_path)
    assert_fits(ctx.settings, original)
    assert original.read_bytes() == (tmp_path / name).read_bytes() and original.suffix == ".xlsx"
    kept = sorted(p.name for p in original.parent.iterdir())
    annotated = [k for k in kept if k.endswith("_can-sua.xlsx")]
    assert len(kept) == 3 and "bao-cao-loi.txt" in kept and len(annotated) == 1, kept
    for part in kept:
        assert_fits(ctx.settings, original.parent / part)
    report = (original.parent / "bao-cao-loi.txt").read_text(encoding="utf-8")
    assert f"Tệp: {name}\n" in report and f"'{annotated[0]}'" in report
    assert_no_empty_quarantine_folder(ctx.settings)


def _portal(ctx):
    from fastapi.testclient import TestClient

    from tests.test_web import HOST, NOW
    from tracker.web.app import create_app

    return TestClient(create_app(ctx.settings, now=lambda: NOW), base_url=HOST, follow_redirects=False)


@pytest.mark.parametrize("size", ["245 bytes", "401 characters"])
@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_the_portal_takes_a_sheet_whose_name_is_long(ctx, size, verdict):
    from tests.intake_factory import report_for
    from tests.test_web import issue, upload

    name = LONG_NAMES[size]
    figures = FIGS if verdict == "accepted" else {**FIGS, "agreements": -3}
    with _portal(ctx) as client:
        link = issue(ctx, "HBT")
        r = upload(client, link, report_for("HBT", JUNE_30, figures), name=name)
        assert r.status_code == 303, r.text
        page = client.get(r.headers["location"])
        assert page.status_code == 200
        assert name in page.text and ("Đã tiếp nhận" if verdict == "accepted" else "Bị từ chối") in page.text
        sub = only_submission(ctx)
        assert (sub.status, sub.file_name, sub.source) == (verdict, name, "web")
        stored = Path(sub.stored_path)
        assert_fits(ctx.settings, stored)
        assert stored.suffix == ".xlsx"
        if verdict == "rejected":
            annotated = client.get(r.headers["location"] + "/annotated")
            assert annotated.status_code == 200 and annotated.content[:2] == b"PK"
            assert {p.name.endswith("_can-sua.xlsx") for p in stored.parent.iterdir()} == {True, False}
        assert_no_empty_quarantine_folder(ctx.settings)


def test_a_quarantine_folder_already_there_is_never_reused(tmp_path):
    name = vietnamese_name(245)
    first = quarantine_dir(tmp_path, date(2023, 6, 30), HASH, name)
    first.mkdir()
    second = quarantine_dir(tmp_path, date(2023, 6, 30), HASH, name)
    assert second != first and second.name.endswith("-2") and len(second.name.encode()) <= STORED_NAME_MAX
    second.mkdir()
    assert quarantine_dir(tmp_path, date(2023, 6, 30), HASH, name).name.endswith("-3")
