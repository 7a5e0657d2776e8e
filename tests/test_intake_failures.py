"""Why a file could not be handled, in one line (Vietnamese / English), whatever raised."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import InvalidRequestError, OperationalError

from tracker.errors import TrackerError
from tracker.intake.failures import explain


def test_a_file_error_names_the_path_and_the_reason_in_both_languages():
    exc = PermissionError(errno.EACCES, "Permission denied", "/srv/data/archive/HBT")
    assert explain(exc) == ("không đọc hay ghi được /srv/data/archive/HBT: không có quyền / "
                            "cannot read or write /srv/data/archive/HBT: Permission denied")
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/data/archive/HBT/x.xlsx")
    assert "ổ đĩa đã đầy / cannot read or write" in explain(full)


def test_an_error_of_no_file_is_its_own_text():
    assert explain(ConnectionRefusedError("imap.example.org:993 refused the connection")) == (
        "imap.example.org:993 refused the connection")
    assert explain(OSError(errno.ENOSPC, "No space left on device")) == "ổ đĩa đã đầy / No space left on device"


def test_a_database_error_is_the_drivers_first_line_without_the_statement_or_sqlalchemys_link():
    orig = sqlite3.OperationalError("database or disk is full")
    orig.sqlite_errorname = "SQLITE_FULL"
    exc = OperationalError("INSERT INTO figure VALUES (?)", [("x" * 500,)], orig)
    assert "Background on this error" in str(exc) and "\n" in str(exc)
    assert explain(exc) == ("lỗi cơ sở dữ liệu: cơ sở dữ liệu hoặc ổ đĩa đã đầy / "
                            "database error: database or disk is full")
    other = OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: figure"))
    assert explain(other) == "lỗi cơ sở dữ liệu: no such table: figure / database error: no such table: figure"
    assert explain(InvalidRequestError("This transaction is inactive", code="8s2b")) == (
        "lỗi cơ sở dữ liệu: This transaction is inactive / database error: This transaction is inactive")


def test_a_tracker_error_and_anything_else_fit_on_one_line():
    assert explain(TrackerError("Cụm cum-1 chưa có.", "Cluster cum-1 is missing.")) == (
        "Cụm cum-1 chưa có. / Cluster cum-1 is missing.")
    text = explain(ValueError("bad\nthing"))
    assert "\n" not in text and text.startswith("lỗi không mong đợi: ValueError: bad (chạy lại với --debug")
