"""A real SMTP server (aiosmtpd) on loopback, for the mail tests, that can fail on demand.

    server = SmtpServer()                 # a free port is reserved; nothing listens yet
    server.start()                        # or SmtpServer(tls="starttls", ...) / tls="ssl"
    server.fail_next("451")               # the next DATA gets "451 4.3.0 ..." (temporary)
    server.fail_next("554")               # the next DATA gets "554 5.7.1 ..." (permanent)
    server.fail_next("drop")              # the next DATA: 354, read a line, hang up
    server.refuse("x@example.org")        # RCPT TO that address gets 550
    server.stop()                         # now the port refuses connections
    server.received                       # [Received(mail_from, rcpt_tos, data, message)]

``self_signed_certificate(folder)`` writes a key and a certificate for ``localhost`` / ``127.0.0.1``
(made with ``cryptography``) and returns (cert_path, key_path); the certificate is also its own CA file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if address.lower() in self.server.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        failure = self.server._take()
        if failure == "451":
            return "451 4.3.0 Temporary local problem, try again later"
        if failure == "554":
            return "554 5.7.1 Message rejected: content policy violation"
        with self.server._lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                                 bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 OK queued"


class _FlakySMTP(SMTP):
    async def smtp_DATA(self, arg):
        handler = self.event_handler
        if handler.server._peek() == "drop" and self.envelope is not None and self.envelope.rcpt_tos:
            handler.server._take()
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")  # the first line of the message, then hang up
            self.transport.close()
            return
        return await super().smtp_DATA(arg)


class _Controller(Controller):
    def factory(self):
        # "Requiring AUTH while not requiring TLS": true for the implicit-TLS server, where aiosmtpd
        # cannot tell the session is already encrypted.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return _FlakySMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """An SMTP server on 127.0.0.1 for one test. ``tls``: None (plain), "starttls" or "ssl"."""

    def __init__(self, *, tls: str | None = None, cert: tuple[Path, Path] | None = None,
                 login: tuple[str, str] | None = None):
        self.port = free_port()
        self.tls, self.cert, self.login = tls, cert, login
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.failures: list[str] = []
        self.auth_attempts: list[str] = []
        self._lock = threading.Lock()
        self._controller: _Controller | None = None

    # failure knobs
    def fail_next(self, *kinds: str) -> None:
        with self._lock:
            self.failures.extend(kinds)

    def refuse(self, *addresses: str) -> None:
        self.refused.update(a.lower() for a in addresses)

    def _peek(self) -> str | None:
        with self._lock:
            return self.failures[0] if self.failures else None

    def _take(self) -> str | None:
        with self._lock:
            return self.failures.pop(0) if self.failures else None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.auth_attempts.append(user)
        if self.login and (user, password) == self.login:
            return AuthResult(success=True)
        # handled=False: aiosmtpd sends the 535 itself (with handled=True nothing is sent, the client hangs).
        return AuthResult(success=False, handled=False)

    # lifecycle
    def start(self) -> SmtpServer:
        kwargs: dict = {}
        server_ctx = None
        if self.tls:
            assert self.cert, "a TLS server needs a certificate"
            server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_ctx.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
        if self.tls == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        if self.login:
            # With implicit TLS aiosmtpd does not see the session as TLS and would hide AUTH.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls == "starttls")
        self._controller = _Controller(
            _Handler(self), hostname=HOST, port=self.port, loop=asyncio.new_event_loop(),
            ssl_context=server_ctx if self.tls == "ssl" else None, ready_timeout=5, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
