"""A unit's clerk at the portal, for the demo: the real server on a loopback port, real HTTP requests.

`make demo` shows that the portal's forms work: it opens a unit's page, reads the form the page shows
(its CSRF token and hidden fields), and posts it, exactly as a browser does. Nothing here is a shortcut
around the portal: the confirmation and the upload go through the same routes, checks and code as a
person's (docs/portal-and-mailbox.md).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser

from sqlmodel import Session

from tracker.config import Settings
from tracker.context import Context
from tracker.web import tokens
from tracker.web.app import create_app
from tracker.web.server import bind, build_server


@dataclass(frozen=True)
class Page:
    status: int
    url: str
    html: str

    def text(self) -> str:
        """The page's visible text, one line per block (what a reader sees, roughly)."""
        parser = _Text()
        parser.feed(self.html)
        return "\n".join(line for line in (" ".join(p.split()) for p in parser.parts) if line)


class _Forms(HTMLParser):
    """Every form of a page: its action and its fields' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif tag in ("input", "button") and self.forms and a.get("name") and a.get("type") != "file":
            self.forms[-1][1][a["name"]] = a.get("value", "")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = [""]
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("p", "div", "li", "tr", "h1", "h2", "h3", "br", "section", "table"):
            self.parts.append("")

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data) -> None:
        if not self._skip:
            self.parts[-1] += data


class PortalVisit:
    """The portal of ``ctx``'s cluster served on 127.0.0.1 (a free port) while the ``with`` block runs."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings: Settings = ctx.settings
        self._server = None
        self._thread: threading.Thread | None = None
        self.base = ""

    def __enter__(self) -> PortalVisit:
        sock = bind("127.0.0.1", 0)
        port = sock.getsockname()[1]
        self._server = build_server(create_app(self.settings), log_config=None)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # a visit, not a server to watch
            logging.getLogger(name).setLevel(logging.WARNING)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name="portal-visit")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the portal did not start / cổng thông tin không khởi động được")
            time.sleep(0.02)
        self.base = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- a unit's link ---------------------------------------------------------------------------------
    def district_link(self, code: str, label: str) -> str:
        """A new secret link of unit ``code`` given to ``label`` (as `tracker tokens issue` makes it)."""
        with Session(self.ctx.engine) as session:
            token, _ = tokens.issue(session, self.ctx.cluster_id, role="district", district_code=code,
                                    label=label)
            session.commit()
        return tokens.link_path("district", token)

    def open(self, path: str) -> Page:
        return self._request(urllib.request.Request(self.base + path))

    def submit(self, page: Page, action_suffix: str, *, file: tuple[str, bytes] | None = None) -> Page:
        """Post the page's form whose action ends with ``action_suffix``, with its fields as the page gave
        them (and ``file`` as the form's file field, when given)."""
        parser = _Forms()
        parser.feed(page.html)
        matching = [(a, f) for a, f in parser.forms if a.endswith(action_suffix)]
        if not matching:
            raise LookupError(f"no form posting to …{action_suffix} on {page.url}")
        action, fields = matching[0]
        if file is None:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = _multipart(fields, "file", *file)
        request = urllib.request.Request(self.base + action, data=body, method="POST",
                                         headers={"Content-Type": content_type, "Origin": self.base})
        return self._request(request)

    def _request(self, request: urllib.request.Request) -> Page:
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - our own loopback server
                return Page(response.status, response.url, response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            return Page(exc.code, request.full_url, exc.read().decode("utf-8", "replace"))


def _multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    quoted = urllib.parse.quote(filename)
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                  f"filename=\"{quoted}\"; filename*=UTF-8''{quoted}\r\n"
                  "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n").encode())
    parts.append(data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
