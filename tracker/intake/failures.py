"""Why a file could not be handled at all, in one line a person can act on (Vietnamese / English).

A file that cannot be handled (the archive folder cannot be written, the disk or the database is full)
is no verdict on the file: the installation is at fault. The exception's own text is not fit to show:
SQLAlchemy's spans several lines (the statement, its parameters, a link "Background on this error at:
https://sqlalche.me/…"), and ``NotADirectoryError: [Errno 20] …`` speaks to programmers. The traceback
goes to the debug log (``--debug``), never to the person running the command.
"""

from __future__ import annotations

import errno
import re

from tracker.errors import ConfigError, TrackerError

# The OS's reasons, in Vietnamese; the English is the OS's own text (``strerror``).
_OS_REASONS_VI = {
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng ổ đĩa",
    errno.EACCES: "không có quyền",
    errno.EPERM: "không có quyền",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.ENOENT: "không tồn tại",
    errno.EISDIR: "là một thư mục",
    errno.EIO: "lỗi đọc/ghi của ổ đĩa",
}

# Database errors in Vietnamese, by SQLite's error name or PostgreSQL's SQLSTATE; the English is the
# driver's own first line ("database or disk is full").
_FULL, _READ_ONLY = "cơ sở dữ liệu hoặc ổ đĩa đã đầy", "cơ sở dữ liệu chỉ cho phép đọc"
_LOCKED = "cơ sở dữ liệu đang bị một tiến trình khác khoá"
_DB_REASONS_VI = {
    "SQLITE_FULL": _FULL, "53100": _FULL,  # disk_full
    "SQLITE_READONLY": _READ_ONLY, "25006": _READ_ONLY,  # read_only_sql_transaction
    "SQLITE_BUSY": _LOCKED, "SQLITE_LOCKED": _LOCKED, "55P03": _LOCKED,  # lock_not_available
}

_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")


def explain(exc: BaseException) -> str:
    """``"vietnamese / english"`` on one line."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, TrackerError | ConfigError):
        return f"{_line(exc.vi)} / {_line(exc.en)}"
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        orig = exc.orig
        code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
        said = _line(str(orig)) or type(orig).__name__
        return f"lỗi cơ sở dữ liệu: {_DB_REASONS_VI.get(code, said)} / database error: {said}"
    if isinstance(exc, SQLAlchemyError):
        said = _line(_BACKGROUND.sub("", str(exc)))
        return f"lỗi cơ sở dữ liệu: {said} / database error: {said}"
    said = f"{type(exc).__name__}: {_line(str(exc))}".rstrip(": ")
    return (f"lỗi không mong đợi: {said} (chạy lại với --debug để xem chi tiết) / "
            f"unexpected error: {said} (run again with --debug for details)")


def _os_error(exc: OSError) -> str:
    """A file's path and the reason; an error of no file (a refused connection) by its own text."""
    en = exc.strerror or _line(str(exc)) or type(exc).__name__
    vi = _OS_REASONS_VI.get(exc.errno, en)
    if exc.filename is None:
        return en if vi == en else f"{vi} / {en}"
    return f"không đọc hay ghi được {exc.filename}: {vi} / cannot read or write {exc.filename}: {en}"


def _line(text: str) -> str:
    """The first line of a message (drivers and SQLAlchemy add details on the following ones)."""
    return text.strip().split("\n", 1)[0].strip()
