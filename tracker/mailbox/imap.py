"""The IMAP connection of the mailbox source, with imap-tools.

Security follows ``mailbox.security``: ``ssl`` (implicit TLS, usually port 993), ``starttls`` (usually
143) or ``none`` (a local relay or a test server only). TLS is always verified, against the system
store or the PEM bundle named by ``TRACKER_IMAP_CA_FILE`` (a company CA, a self-signed test server).

The password comes from ``settings.mailbox.password`` (set only from ``TRACKER_IMAP_PASSWORD``) or the
system keyring (service ``tracker-imap``, the user name as key: ``keyring set tracker-imap USER``).
Nothing ever prompts: a scheduled pull has nobody to answer.

Every way of not getting in — no password, refused or timed-out connection, TLS failure, wrong
password, a missing folder — raises :class:`MailboxUnavailable`, which the pull records as an error of
this source while the other sources go on.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import TrackerError

if TYPE_CHECKING:
    from imap_tools import BaseMailBox

    from tracker.config import Mailbox

KEYRING_SERVICE = "tracker-imap"
# A message larger than this is not downloaded (the intake's own cap on a workbook is far lower).
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
CA_FILE_ENV = "TRACKER_IMAP_CA_FILE"
TIMEOUT = 30.0  # seconds, for the connection and every command: a hanging server must not hang the pull


class MailboxUnavailable(TrackerError):
    """The mailbox cannot be used right now (exit code 1: the command ran, this source failed)."""

    exit_code = 1


def imap_password(cfg: Mailbox) -> str:
    """The password: the environment (via settings), else the keyring. Raises MailboxUnavailable."""
    if cfg.password:
        return cfg.password
    password = None
    try:
        import keyring

        password = keyring.get_password(KEYRING_SERVICE, cfg.user)
    except Exception:  # no backend, a locked store, no D-Bus: all mean "no password there"
        password = None
    if not password:
        raise MailboxUnavailable(
            f"Chưa có mật khẩu hộp thư cho tài khoản {cfg.user}: đặt biến môi trường TRACKER_IMAP_PASSWORD "
            f"hoặc lưu vào keyring (dịch vụ '{KEYRING_SERVICE}', khoá là tên tài khoản).",
            f"No mailbox password for {cfg.user}: set TRACKER_IMAP_PASSWORD or store it in the system keyring "
            f"(service '{KEYRING_SERVICE}', key = the user name).",
        )
    return password


def tls_context(env: dict[str, str] | None = None) -> ssl.SSLContext:
    """A verifying context: the system store, or the bundle named by ``TRACKER_IMAP_CA_FILE``."""
    env = os.environ if env is None else env
    cafile = env.get(CA_FILE_ENV) or None
    if cafile and not Path(cafile).is_file():
        raise MailboxUnavailable(f"Không tìm thấy tệp chứng chỉ CA {cafile} ({CA_FILE_ENV}).",
                                 f"The CA certificate file {cafile} ({CA_FILE_ENV}) does not exist.")
    return ssl.create_default_context(cafile=cafile)


def _mailbox_client(cfg: Mailbox, timeout: float) -> BaseMailBox:
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    if cfg.security == "ssl":
        return MailBox(cfg.host, cfg.port, timeout=timeout, ssl_context=tls_context())
    if cfg.security == "starttls":
        return MailBoxStartTls(cfg.host, cfg.port, timeout=timeout, ssl_context=tls_context())
    return MailBoxUnencrypted(cfg.host, cfg.port, timeout=timeout)


def _where(cfg: Mailbox) -> str:
    return f"{cfg.user}@{cfg.host}:{cfg.port} ({cfg.security})"


@contextmanager
def open_mailbox(cfg: Mailbox, *, timeout: float = TIMEOUT) -> Iterator[BaseMailBox]:
    """A logged-in mailbox with ``cfg.folder`` selected; logs out at the end. Raises MailboxUnavailable."""
    from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError, UnexpectedCommandStatusError

    password = imap_password(cfg)
    try:
        box = _mailbox_client(cfg, timeout)
    except (OSError, ssl.SSLError, imaplib.IMAP4.error, UnexpectedCommandStatusError) as exc:
        vi, en = _reason(exc)
        raise MailboxUnavailable(f"Không kết nối được hộp thư {_where(cfg)}: {vi}",
                                 f"Cannot connect to the mailbox {_where(cfg)}: {en}") from exc
    try:
        try:
            box.login(cfg.user, password, initial_folder=None)
        except (MailboxLoginError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(
                f"Đăng nhập hộp thư {_where(cfg)} không thành công (sai tài khoản hoặc mật khẩu?).",
                f"Login to the mailbox {_where(cfg)} failed (wrong user or password?).",
            ) from exc
        try:
            box.folder.set(cfg.folder)
        except MailboxFolderSelectError as exc:
            raise MailboxUnavailable(
                f"Hộp thư {_where(cfg)} không có thư mục {cfg.folder!r} (khoá mailbox.folder).",
                f"The mailbox {_where(cfg)} has no folder {cfg.folder!r} (key mailbox.folder).",
            ) from exc
        yield box
    except (imaplib.IMAP4.abort, ConnectionError, TimeoutError, ssl.SSLError) as exc:
        # The connection broke half-way (server gone, timeout): what was handled so far stays handled.
        vi, en = _reason(exc)
        raise MailboxUnavailable(f"Mất kết nối với hộp thư {_where(cfg)}: {vi}",
                                 f"Lost the connection to the mailbox {_where(cfg)}: {en}") from exc
    finally:
        _close(box)


def ensure_folder(box: BaseMailBox, name: str) -> None:
    """Create the folder if the server does not have it (``processed_folder`` is created on first use)."""
    if not box.folder.exists(name):
        box.folder.create(name)


def _close(box: BaseMailBox) -> None:
    try:
        box.logout()
    except Exception:  # already gone: nothing to tidy up
        with contextlib.suppress(Exception):
            box.client.shutdown()


def _reason(exc: BaseException) -> tuple[str, str]:
    """(Vietnamese, English) of why a connection failed."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "quá thời gian chờ", "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "máy chủ từ chối kết nối", "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"chứng chỉ TLS không đáng tin cậy ({exc.verify_message})",
                f"TLS certificate not trusted ({exc.verify_message})")
    text = str(exc).strip() or type(exc).__name__
    return text, text


# ---------------------------------------------------------------------------------------- the folder's steps


def ensure_processed_folder(box: BaseMailBox, name: str) -> None:
    """The folder handled messages move to, created if missing; MailboxUnavailable if it cannot be."""
    from imap_tools.errors import UnexpectedCommandStatusError

    try:
        ensure_folder(box, name)
    except UnexpectedCommandStatusError as exc:
        raise MailboxUnavailable(
            f"Không tạo được thư mục {name!r} trong hộp thư (khoá mailbox.processed_folder): {exc}",
            f"Cannot create the folder {name!r} in the mailbox (key mailbox.processed_folder): {exc}") from exc


def fetch(box: BaseMailBox, uid: str) -> tuple[bytes | None, datetime | None, int] | None:
    """(raw bytes or None when too large, the server's reception time, size); None if the message is gone.

    BODY.PEEK leaves the message unread in the district's view of the mailbox until it is handled.
    """
    from imap_tools.errors import MailboxFetchError
    from imap_tools.utils import check_command_status

    result = box.client.uid("FETCH", uid, "(UID RFC822.SIZE INTERNALDATE)")
    check_command_status(result, MailboxFetchError)
    head = b" ".join(part if isinstance(part, bytes) else part[0] for part in result[1] if part)
    if not head:
        return None
    m = _SIZE.search(head)
    size = int(m.group(1)) if m else 0
    received_at = internaldate(head)
    if size > MAX_MESSAGE_BYTES:
        return None, received_at, size
    result = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    check_command_status(result, MailboxFetchError)
    raw = next((part[1] for part in result[1] if isinstance(part, tuple)), None)
    if raw is None:
        return None
    return raw, received_at, size


def internaldate(head: bytes) -> datetime | None:
    """The server's INTERNALDATE (``17-Jul-2023 16:50:02 +0700``) as aware UTC, never after now."""
    m = _INTERNALDATE.search(head)
    if not m:
        return None
    try:
        stamp = datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
    return min(stamp.astimezone(UTC), datetime.now(UTC))


def move(box: BaseMailBox, uid: str, folder: str) -> None:
    """Move a handled message; MailboxUnavailable if the server refuses (it is handled again next time)."""
    from imap_tools.errors import UnexpectedCommandStatusError

    try:
        box.move(uid, folder)
    except UnexpectedCommandStatusError as exc:
        raise MailboxUnavailable(
            f"Không chuyển được thư sang thư mục {folder!r}; thư sẽ được xử lý lại ở lần nhận sau "
            f"(không ghi trùng số liệu): {exc}",
            f"Cannot move a message to the folder {folder!r}; it will be handled again by the next pull "
            f"(no figure is stored twice): {exc}") from exc
