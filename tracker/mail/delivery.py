"""Delivering built messages: SMTP through yagmail, or ``.eml`` files when no SMTP host is set.

Why yagmail's connection and not ``yag.send()``: ``send()`` only sends messages yagmail builds itself
from "contents" (it cannot take our RFC 5322 bytes, so a retry would not be the same message with the
same Message-ID); on a disconnect it sleeps, retries, then puts the message in its own ``.unsent`` list
and returns ``False`` instead of raising (PITFALLS, yagmail 0.16). We use yagmail for what it does
well — choosing SSL / STARTTLS / plain, the TLS context and the login — and call ``sendmail`` on its
``smtplib`` connection (``yag.smtp``) with our bytes, so every outcome is ours to classify: the
exception's SMTP code, and the dict of refused recipients that ``sendmail`` returns when some but not
all recipients were refused.

Classification: before the message is judged (connect, TLS, login) every failure is temporary — a
wrong password or an unreachable server must not lose mail. After that, the server's reply code
decides: 4xx temporary, 5xx permanent. A dropped connection or a timeout is temporary.

Passwords come from ``settings.mail.password`` (set only from ``TRACKER_SMTP_PASSWORD``) or the system
keyring (service ``yagmail``, the user name as key: ``yagmail.register(user, password)`` or
``keyring set yagmail USER``). Nothing ever prompts: yagmail's fallback to ``getpass`` would hang a
service, so we always hand it the password ourselves.

Trust for SSL/STARTTLS: the system store, or the PEM bundle named by ``TRACKER_SMTP_CA_FILE`` (or
``mail.ca_file`` when the config has that key), e.g. a company CA or a test server's self-signed
certificate. Verification is always on.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from tracker.errors import TrackerError
from tracker.mail.outbox import Claimed, Outcome, claim_due, record

KEYRING_SERVICE = "yagmail"
CA_FILE_ENV = "TRACKER_SMTP_CA_FILE"


class Transport(Protocol):
    name: str

    def deliver(self, msg: Claimed, sender: str) -> Outcome: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- settings: password, trust store


def smtp_password(mail) -> str | None:
    """The SMTP password: the environment, else the keyring; None when no login is configured.

    Raises TrackerError (exit 2) when a user is set and neither has a password — before anything is
    claimed, so no message changes state because of a configuration mistake.
    """
    if not mail.user:
        return None
    if mail.password:
        return mail.password
    password = None
    try:
        import keyring

        password = keyring.get_password(KEYRING_SERVICE, mail.user)
    except Exception:  # no backend, locked store, D-Bus missing: all mean "no password there"
        password = None
    if not password:
        raise TrackerError(
            f"Chưa có mật khẩu SMTP cho tài khoản {mail.user}: đặt biến môi trường TRACKER_SMTP_PASSWORD "
            f"hoặc lưu vào keyring (dịch vụ '{KEYRING_SERVICE}', khoá là tên tài khoản).",
            f"No SMTP password for {mail.user}: set TRACKER_SMTP_PASSWORD or store it in the system keyring "
            f"(service '{KEYRING_SERVICE}', key = the user name).",
            2,
        )
    return password


def ca_file(mail, env: dict[str, str] | None = None) -> Path | None:
    """The extra CA bundle to trust: ``mail.ca_file`` if the settings have it, else ``TRACKER_SMTP_CA_FILE``."""
    env = os.environ if env is None else env
    value = getattr(mail, "ca_file", None) or env.get(CA_FILE_ENV) or None
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise TrackerError(f"Không tìm thấy tệp chứng chỉ CA {path} ({CA_FILE_ENV}).",
                           f"The CA certificate file {path} ({CA_FILE_ENV}) does not exist.", 2)
    return path


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """Verifying context: hostname and chain checked, against ``cafile`` when given, else the system store."""
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


# ---------------------------------------------------------------- outcomes


def _server_words(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return re.sub(r"\s+", " ", text).strip()


def _reply(code: int, words: bytes | str) -> str:
    return f"{code} {_server_words(words)}".strip()


def classify_send_error(exc: BaseException) -> Outcome:
    """The outcome of an exception raised while one message was being sent (MAIL, RCPT, DATA)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {addr: _reply(code, words) for addr, (code, words) in exc.recipients.items()}
        permanent = all(500 <= code < 600 for code, _ in exc.recipients.values())
        listing = "; ".join(f"{a}: {r}" for a, r in refused.items())
        if permanent:
            return Outcome("failed", f"Máy chủ từ chối mọi người nhận / all recipients refused: {listing}", refused)
        return Outcome("retry", f"Người nhận tạm thời bị từ chối / recipients deferred: {listing}", refused)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Outcome("retry", f"Máy chủ ngắt kết nối / server disconnected: {_server_words(str(exc))}")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 500 <= exc.smtp_code < 600:
            return Outcome("failed", f"Máy chủ từ chối thư / server rejected the message: {reply}")
        return Outcome("retry", f"Máy chủ tạm từ chối / server deferred the message: {reply}")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Outcome("retry", f"Hết thời gian chờ máy chủ / timed out: {exc}")
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return Outcome("retry", f"Lỗi kết nối / connection error: {type(exc).__name__}: {exc}")
    # Anything else is a bug, not a verdict on the message: keep it for another try, say what happened.
    return Outcome("retry", f"Lỗi không mong đợi / unexpected error: {type(exc).__name__}: {exc}")


def classify_connect_error(exc: BaseException) -> Outcome:
    """The outcome for every message of a run whose connection could not be opened (always temporary)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        what = f"Đăng nhập SMTP thất bại / SMTP login failed: {_reply(exc.smtp_code, exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        what = f"Máy chủ không nhận kết nối / server refused the session: {_reply(exc.smtp_code, exc.smtp_error)}"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        what = f"Chứng chỉ máy chủ không hợp lệ / certificate not trusted: {exc.verify_message or exc}"
    elif isinstance(exc, ConnectionRefusedError):
        what = f"Máy chủ từ chối kết nối / connection refused: {exc}"
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        what = f"Hết thời gian chờ máy chủ / timed out: {exc}"
    else:
        what = f"Không kết nối được máy chủ thư / cannot connect: {type(exc).__name__}: {exc}"
    return Outcome("retry", what)


# ---------------------------------------------------------------- SMTP


class SmtpTransport:
    """One SMTP session for a delivery run, opened on first use and reopened after a dropped connection.

    If the session cannot be opened at all, the remaining messages of the run are not tried again
    (each would wait for the same timeout): they get the same temporary outcome.
    """

    name = "smtp"

    def __init__(self, mail, *, password: str | None, cafile: Path | None):
        self.mail, self.password, self.cafile = mail, password, cafile
        self._yag = None
        self._connect_failure: Outcome | None = None

    def _open(self):
        import yagmail

        security = self.mail.security
        kwargs: dict = {"timeout": self.mail.timeout}
        if security == "ssl":
            kwargs["context"] = tls_context(self.cafile)  # passed on to smtplib.SMTP_SSL
            starttls: bool | dict = False
        elif security == "starttls":
            starttls = {"context": tls_context(self.cafile)}
        else:
            starttls = False
        yag = yagmail.SMTP(
            user=self.mail.user or "",
            password=self.password,
            host=self.mail.host,
            port=self.mail.port,
            smtp_ssl=security == "ssl",
            smtp_starttls=starttls,
            smtp_skip_login=not self.mail.user,
            soft_email_validation=False,  # our addresses are validated in the config; user may be a login name
            **kwargs,
        )
        # yagmail appends "@gmail.com" to a user name without "@" (headers.make_addr_alias_user);
        # SMTP logins such as "cum-1" or "DOMAIN\\user" must reach the server as written.
        yag.user = self.mail.user or ""
        yag.set_logging(None)  # yagmail logs to stdout otherwise; our outcomes are recorded in the outbox
        try:
            yag.login()
        except BaseException:
            self._discard(yag)
            raise
        return yag

    @staticmethod
    def _discard(yag) -> None:
        yag.is_closed = True  # so yagmail's __del__ does not try to QUIT a dead socket
        conn = getattr(yag, "smtp", None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def deliver(self, msg: Claimed, sender: str) -> Outcome:
        if self._connect_failure is not None:
            return self._connect_failure
        if self._yag is None:
            try:
                self._yag = self._open()
            except Exception as exc:
                self._connect_failure = classify_connect_error(exc)
                return self._connect_failure
        try:
            refused = self._yag.smtp.sendmail(sender, list(msg.recipients), msg.message)
        except Exception as exc:
            outcome = classify_send_error(exc)
            # After a reply code smtplib has sent RSET and the session goes on; after a dropped
            # connection, a timeout or 421 ("closing"), start a fresh session for the next message.
            answered = isinstance(exc, smtplib.SMTPRecipientsRefused) or (
                isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code != 421)
            if not answered:
                self._discard(self._yag)
                self._yag = None
            return outcome
        refused_map = {addr: _reply(code, words) for addr, (code, words) in (refused or {}).items()}
        if refused_map:
            listing = "; ".join(f"{a}: {r}" for a, r in refused_map.items())
            return Outcome("sent", f"Một số người nhận bị từ chối / some recipients refused: {listing}",
                           refused_map)
        return Outcome("sent")

    def close(self) -> None:
        if self._yag is not None:
            try:
                self._yag.close()
            finally:
                self._discard(self._yag)
                self._yag = None


# ---------------------------------------------------------------- .eml files


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("_") or "x"


def eml_name(msg: Claimed) -> str:
    """``000012-weekly-2023-W26-head.eml``: sorted by outbox id; the same message always has the same name."""
    return f"{msg.id:06d}-{_safe(msg.kind)}-{_safe(msg.period)[:40]}-{_safe(msg.recipient_key)[:60]}.eml"


@dataclass
class EmlTransport:
    """Writes each message as an ``.eml`` file (opens in any mail program). Counts as sent."""

    folder: Path
    name: str = "eml"

    def deliver(self, msg: Claimed, sender: str) -> Outcome:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / eml_name(msg)
            tmp = target.with_suffix(".eml.tmp")
            tmp.write_bytes(msg.message)
            os.replace(tmp, target)  # a reader never sees half a file
        except OSError as exc:
            return Outcome("retry", f"Không ghi được tệp .eml / cannot write the .eml file: {exc}")
        return Outcome("sent", None)

    def close(self) -> None:
        pass


def open_transport(settings) -> Transport:
    """SMTP when ``mail.host`` is set, else ``.eml`` files in ``<reports>/outbox``.

    Resolves the password and the CA file first: a configuration error raises here (exit 2).
    """
    mail = settings.mail
    if not mail.enabled:
        return EmlTransport(settings.paths.outbox)
    return SmtpTransport(mail, password=smtp_password(mail), cafile=ca_file(mail))


# ---------------------------------------------------------------- one delivery run


@dataclass
class DeliveryReport:
    """What a delivery run did: counts, and one line per message attempted."""

    transport: str = ""
    attempted: int = 0
    sent: int = 0
    pending: int = 0  # temporary failure: will be tried again
    failed: int = 0  # permanent failure
    refused: int = 0  # recipients refused one by one (the message went to the others)
    lost_claims: int = 0  # outcomes not written because another runner took the message over
    lines: list[tuple[int, str, str | None]] = field(default_factory=list)  # (outbox id, status, error)

    @property
    def ok(self) -> bool:
        return self.pending == 0 and self.failed == 0

    def counts(self) -> dict[str, int]:
        return {"attempted": self.attempted, "sent": self.sent, "pending": self.pending,
                "failed": self.failed, "refused": self.refused}


def deliver_pending(ctx, *, force: bool = False, now: datetime | None = None,
                    only: list[int] | None = None, transport: Transport | None = None) -> DeliveryReport:
    """Deliver every message that is due (``force``: every pending one, whatever its backoff).

    Each message is claimed in a short transaction, sent outside any transaction, and its outcome
    recorded in another short one, so a slow server never holds a database lock. ``only`` restricts
    the run to some outbox ids. ``now`` is the clock (tests).
    """
    from tracker.models import utcnow

    settings = ctx.settings
    transport = transport or open_transport(settings)  # config errors raise before anything is claimed
    fixed_clock = now
    now = now or utcnow()
    report = DeliveryReport(transport=transport.name)
    try:
        with ctx.session(write=True) as session:
            # The lease outlasts the whole run, so a live runner never has its messages taken over.
            claimed = claim_due(session, ctx.cluster_id, now=now, force=force, only=only,
                                lease=timedelta(minutes=15),
                                lease_per_message=timedelta(seconds=3 * settings.mail.timeout))
        for msg in claimed:
            outcome = transport.deliver(msg, settings.mail.sender)
            report.attempted += 1
            with ctx.session(write=True) as session:
                written = record(session, msg, outcome, now=fixed_clock or utcnow())
            if not written:
                report.lost_claims += 1
            report.refused += len(outcome.refused) if outcome.status == "sent" else 0
            if outcome.status == "sent":
                report.sent += 1
            elif outcome.status == "failed":
                report.failed += 1
            else:
                report.pending += 1
            report.lines.append((msg.id, outcome.status, outcome.error))
    finally:
        transport.close()
    return report
