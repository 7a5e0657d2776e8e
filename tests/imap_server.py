"""A real IMAP server on loopback for the mailbox tests: pymap (IMAP4rev1, in-memory backend) in a child process.

``start_imap_server()`` returns a running :class:`ImapServer`; ``server.append(raw)`` puts a real
message in a folder with imaplib, ``server.uids(folder)`` and ``server.fetch(folder)`` look at what
is there, ``server.reset()`` empties it between tests. With ``tls=True`` the server offers STARTTLS
with a self-signed certificate (``server.cafile``), and ``server.ssl_port`` is an implicit-TLS port
(a small TLS front end that forwards to pymap, since pymap speaks STARTTLS only).
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PYMAP = Path(sys.executable).with_name("pymap")
USER = "hop-thu@example.org"
PASSWORD = "demo-pass-1"
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$')


def free_port() -> int:
    """A TCP port nobody listens on (right now) on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for 127.0.0.1 / localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _TlsFrontEnd:
    """Accepts implicit-TLS connections and pipes the plain bytes to pymap (for ``security = "ssl"``)."""

    def __init__(self, cert: Path, key: Path, backend_port: int):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.backend_port = backend_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        backend = socket.create_connection(("127.0.0.1", self.backend_port))
        try:
            while True:
                ready, _, _ = select.select([tls, backend], [], [], 30)
                if not ready:
                    return
                for src in ready:
                    dst = backend if src is tls else tls
                    data = src.recv(65536)
                    if not data:
                        return
                    dst.sendall(data)
                # Decrypted bytes may wait inside the TLS object, invisible to select().
                while tls.pending():
                    backend.sendall(tls.recv(tls.pending()))
        except OSError:
            return
        finally:
            backend.close()
            tls.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    process: subprocess.Popen
    cafile: Path | None = None
    ssl_port: int | None = None
    _front: _TlsFrontEnd | None = field(default=None, repr=False)
    _admin: imaplib.IMAP4 | None = field(default=None, repr=False)

    def client(self) -> imaplib.IMAP4:
        """A new logged-in imaplib client (STARTTLS first when the server offers it)."""
        c = imaplib.IMAP4(self.host, self.port, timeout=10)
        if self.cafile:
            c.starttls(ssl.create_default_context(cafile=str(self.cafile)))
        c.login(self.user, self.password)
        return c

    @property
    def admin(self) -> imaplib.IMAP4:
        """One connection kept for the helpers below (pymap's login takes ~0.4 s; tests append a lot)."""
        if self._admin is not None:
            try:
                self._admin.noop()
            except (imaplib.IMAP4.error, OSError):
                self._admin = None
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def append(self, raw: bytes, folder: str = "INBOX", when: datetime | None = None) -> None:
        """Deliver ``raw`` into ``folder``; ``when`` is the server's reception time (INTERNALDATE)."""
        typ, data = self.admin.append(_quote(folder), None, imaplib.Time2Internaldate(when or time.time()), raw)
        assert typ == "OK", data

    def folders(self) -> list[str]:
        """Folder names as on the wire (modified UTF-7)."""
        _, data = self.admin.list()
        names = []
        for line in data:
            m = _LIST_LINE.match(line or b"")
            if m:
                names.append(m.group("name").decode().strip('"'))
        return names

    def fetch(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in ``folder`` (without marking them seen); [] if the folder does not exist."""
        c = self.admin
        typ, _ = c.select(_quote(folder), readonly=True)
        if typ != "OK":
            return []
        try:
            _, data = c.uid("SEARCH", "ALL")
            out = []
            for uid in data[0].split():
                _, parts = c.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append(next(p[1] for p in parts if isinstance(p, tuple)))
            return out
        finally:
            c.close()

    def count(self, folder: str = "INBOX") -> int:
        return len(self.fetch(folder))

    def delete_folder(self, name: str) -> None:
        """Delete a folder (``name`` as on the wire, modified UTF-7), as another mail client would."""
        c = self.admin
        c.select("INBOX")  # pymap drops a session whose selected folder is deleted, even after CLOSE
        typ, data = c.delete(_quote(name))
        assert typ == "OK", data

    def reset(self) -> None:
        """Empty INBOX and remove every other folder, so each test starts from a fresh mailbox."""
        c = self.admin
        c.select("INBOX")
        for name in self.folders():
            if name.upper() != "INBOX":
                c.delete(_quote(name))
        c.uid("STORE", "1:*", "+FLAGS", r"(\Deleted)")
        c.expunge()

    def stop(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.logout()
            self._admin = None
        if self._front:
            self._front.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_imap_server(folder: Path | None = None, *, tls: bool = False, user: str = USER,
                      password: str = PASSWORD, timeout: float = 20) -> ImapServer:
    """Start pymap on a free loopback port; returns once it greets. ``tls`` needs ``folder`` for the cert."""
    port = free_port()
    args = [str(PYMAP), "--host", "127.0.0.1", "--port", str(port)]
    cert = key = None
    if tls:
        assert folder is not None, "a folder for the certificate"
        cert, key = self_signed_certificate(folder)
        args += ["--cert", str(cert), "--key", str(key)]
    else:
        args += ["--no-tls"]
    args += ["dict", "--demo-user", user, "--demo-password", password]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pymap exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("pymap did not start in time")
        time.sleep(0.05)
    server = ImapServer("127.0.0.1", port, user, password, process, cafile=cert)
    if tls:
        server._front = _TlsFrontEnd(cert, key, port)
        server.ssl_port = server._front.port
    return server


@contextlib.contextmanager
def imap_server(folder: Path | None = None, **kwargs):
    server = start_imap_server(folder, **kwargs)
    try:
        yield server
    finally:
        server.stop()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_message(sender: str, attachments: Sequence[tuple] = (), *, name_encoding: str = "rfc2231",
                  message_id: str | None = None, subject: str = "Báo cáo tuần", to: str = USER,
                  content_type: str = XLSX_TYPE, sender_name: str = "") -> bytes:
    """A real multipart e-mail as a district's mail program would send it, written by hand so the
    encoding of the attachment names is exactly the one under test:

    - ``rfc2231``: ``filename*=utf-8''B%C3%A1o...`` (Thunderbird, Gmail, Python);
    - ``rfc2047``: ``filename="=?utf-8?B?...?="`` (Outlook, many webmails), split into several
      encoded-words when long, as those programs do;
    - ``plain``: the name as given (ASCII).

    ``attachments`` holds ``(name, bytes)`` or ``(name, bytes, content_type)``.
    """
    import base64
    import uuid
    from email.header import Header
    from email.utils import format_datetime, formataddr
    from urllib.parse import quote

    boundary = "=_tracker_test_" + uuid.uuid4().hex
    message_id = message_id or f"<{uuid.uuid4().hex}@district.example.org>"
    from_header = formataddr((sender_name, sender), charset="utf-8") if sender_name else sender
    lines = [
        f"From: {from_header}",
        f"To: {to}",
        f"Subject: {Header(subject, 'utf-8').encode()}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes("Kính gửi Cụm trưởng, đơn vị gửi báo cáo tuần.".encode()).decode().strip(),
    ]
    for name, data, *kind in attachments:
        part_type = kind[0] if kind else content_type
        if name_encoding == "rfc2231":
            ascii_fallback = name.encode("ascii", "replace").decode().replace("?", "_")
            params = f"filename*=utf-8''{quote(name, safe='')}"
            type_params = f'name="{ascii_fallback}"'
        elif name_encoding == "rfc2047":
            encoded = Header(name, "utf-8", maxlinelen=40).encode(splitchars=" ", linesep=" ")
            params = f'filename="{encoded}"'
            type_params = f'name="{encoded}"'
        else:
            params = f'filename="{name}"'
            type_params = f'name="{name}"'
        body = base64.encodebytes(data).decode().strip()
        lines += [f"--{boundary}", f"Content-Type: {part_type}; {type_params}",
                  "Content-Transfer-Encoding: base64", f"Content-Disposition: attachment; {params}", "", body]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def bounce_of(original: bytes, sender: str = "MAILER-DAEMON@mx.example.org") -> bytes:
    """A delivery status report (RFC 3464) returning ``original``, as a mail server writes it."""
    head = (f"From: {sender}\r\nTo: cum-1@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="RPT"\r\n\r\n'
            "--RPT\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n"
            "--RPT\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
            "Final-Recipient: rfc822; x@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            "--RPT\r\nContent-Type: message/rfc822\r\n\r\n")
    return head.encode() + original + b"\r\n--RPT--\r\n"
