"""Protection of the portal's forms against cross-site posting, and the server secret behind it.

Two independent checks on every POST:

1. A CSRF token in the form (hidden field ``csrf``): ``HMAC-SHA256(server secret, "csrf" + token hash)``.
   It is tied to the access link, so it cannot be reused with another link, and it cannot be computed
   without the server secret even by someone who knows the link.
2. The ``Origin`` header (or, when a browser sends none, the ``Referer``) must name this server's own
   host. ``Origin: null`` and foreign hosts are refused. A request with neither header (old clients,
   scripts) relies on check 1 alone.

The server secret is 32 random bytes in ``<config folder>/data/web-secret.key`` (created with mode
0600 on first use, shared by every server process of the installation). Deleting the file only makes
pages opened before it was deleted post a stale form once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

SECRET_FILE = "web-secret.key"


def secret_path(config_file: Path) -> Path:
    return Path(config_file).resolve().parent / "data" / SECRET_FILE


def load_or_create_secret(path: Path) -> bytes:
    """The server secret at ``path``; created atomically (O_EXCL) if missing, so two processes agree."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ValueError(f"the portal secret in {path} is too short; delete the file to make a new one")
    return text.encode("ascii")


def csrf_token(secret: bytes, token_hash: str) -> str:
    return hmac.new(secret, b"csrf\0" + token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, token_hash: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(secret, token_hash), str(submitted))


def same_origin(host: str | None, origin: str | None, referer: str | None) -> bool:
    """Whether a POST comes from a page of this server (``host`` is the request's Host header).

    The host and port are compared, not the scheme: behind a TLS-terminating proxy the application
    sees http while the browser says https.
    """
    if not host:
        return False
    own = _host_port(host)
    if origin is not None:
        if origin.strip().lower() == "null":
            return False
        return _host_port(urlsplit(origin).netloc) == own
    if referer:
        return _host_port(urlsplit(referer).netloc) == own
    return True


def _host_port(netloc: str) -> str:
    """``Example.org:443`` → ``example.org`` (default ports dropped, case folded)."""
    netloc = netloc.strip().lower()
    for default in (":80", ":443"):
        if netloc.endswith(default):
            return netloc[: -len(default)]
    return netloc
