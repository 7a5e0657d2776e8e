"""Serving the portal: the listening socket, and the limits uvicorn does not enforce by itself.

uvicorn (0.55, h11) never times out a request that is still arriving: its keep-alive timer only runs
between requests and is cancelled by every byte received (uvicorn#157 asked for a
"timeout-request-start"; 0.55 has none). A client sending half a request header held its connection,
and a file descriptor, for ever. Its ``limit_concurrency`` only answers 503 to *complete* requests, so
such connections are never counted out, and only make the cap refuse the real users. :class:`GuardedH11Protocol` adds:

- a deadline for the request line and headers, counted from when the server starts waiting for them
  (the connection opened, or the previous response ended), not reset by each byte;
- a limit on silence while a request body arrives (the same rule as nginx's ``client_body_timeout``);
- a cap on open connections: one beyond it gets a 503 at once and is closed, so a flood holds at most
  ``max_connections`` descriptors.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from tracker.errors import TrackerError

log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ServerLimits:
    header_timeout: float = 30.0  # seconds to send the request line and headers
    body_timeout: float = 60.0  # seconds of silence allowed while the body arrives
    max_connections: int = 100  # open connections at once; far above a cluster's dozen users
    keep_alive: int = 5  # seconds an idle connection stays open after a response (uvicorn's default)


BUSY_TEXT = ("Máy chủ đang bận, xin thử lại sau ít phút. / "
             "The server is busy, try again in a few minutes.\n").encode()
BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                 b"content-length: %d\r\nretry-after: 30\r\nconnection: close\r\n\r\n" % len(BUSY_TEXT) + BUSY_TEXT)


class _Tally:
    """Counts an event and logs it at most once per ``interval`` seconds: a flood must not flood the log."""

    def __init__(self, message: str, interval: float = 60.0) -> None:
        self.message, self.interval = message, interval
        self.count, self.logged_at = 0, float("-inf")

    def add(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged_at >= self.interval:
            log.warning(self.message, self.count)
            self.count, self.logged_at = 0, now


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline, a body idle limit and a connection cap."""

    limits = ServerLimits()
    refused: _Tally
    cut_off: _Tally

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._waiting_for: str | None = None  # "header" | "body" while a timer runs

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.refused.add()
            transport.write(BUSY_RESPONSE)
            transport.close()
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch(received=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def _watch(self, received: bool = False) -> None:
        """Arm the timer that fits where the client's request stands."""
        state = self.conn.their_state
        if self.transport.is_closing():
            self._stop()
        elif state is h11.IDLE:  # waiting for a request line and headers, maybe half of them
            if self._waiting_for != "header":
                self._arm("header", self.limits.header_timeout)
        elif state is h11.SEND_BODY:
            if received or self._waiting_for != "body":
                self._arm("body", self.limits.body_timeout)
        else:  # the request is complete (the app is working on it) or the connection is ending
            self._stop()

    def _arm(self, waiting_for: str, seconds: float) -> None:
        self._stop()
        self._waiting_for = waiting_for
        self._timer = self.loop.call_later(seconds, self._expired)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._waiting_for = None, None

    def _expired(self) -> None:
        waiting_for = self._waiting_for
        self._timer, self._waiting_for = None, None
        if self.transport.is_closing():
            return
        if waiting_for == "body" and self.flow.read_paused:  # the app is slow to read, not the client to send
            self._arm("body", self.limits.body_timeout)
            return
        if waiting_for == "body" or self.conn.trailing_data[0]:  # a connection that sent nothing is not news
            self.cut_off.add()
        self.transport.close()


def protocol_class(limits: ServerLimits) -> type[GuardedH11Protocol]:
    """The protocol of one server: its limits, and its own tallies of what they stopped."""
    refused = _Tally(f"Refused %d connection(s) beyond the cap of {limits.max_connections} open connections.")
    cut_off = _Tally(f"Closed %d connection(s) whose request did not arrive in time (header within "
                     f"{limits.header_timeout:g} s, body without a pause of {limits.body_timeout:g} s).")
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits, "refused": refused,
                                                              "cut_off": cut_off})


def bind(host: str, port: int) -> socket.socket:
    """The portal's listening socket, bound before anything says it is serving.

    Raises :class:`TrackerError` (exit code 2) naming the address when it cannot be had.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        # create_server sets SO_REUSEADDR, as uvicorn does: a restart does not wait for TIME_WAIT.
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None


def _cannot_listen(host: str, port: int, exc: OSError) -> TrackerError:
    where_vi, where_en = f"cổng {port} trên địa chỉ {host}", f"port {port} on {host}"
    if exc.errno == errno.EADDRINUSE:
        return TrackerError(
            f"Không mở được {where_vi}: cổng đang được một chương trình khác dùng. Chọn cổng khác bằng "
            f"--port, hoặc dừng chương trình đó.",
            f"Cannot listen on {where_en}: the port is already in use by another program. Choose another "
            f"with --port, or stop that program.")
    if exc.errno == errno.EACCES:
        return TrackerError(
            f"Không mở được {where_vi}: không có quyền (cổng dưới 1024 cần quyền quản trị). Chọn cổng từ "
            f"1024 trở lên bằng --port và đặt một reverse proxy phía trước.",
            f"Cannot listen on {where_en}: permission denied (ports below 1024 need administrator rights). "
            f"Choose a port from 1024 with --port and put a reverse proxy in front.")
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return TrackerError(
            f"Không mở được {where_vi}: máy này không có địa chỉ {host}. Dùng --host 127.0.0.1 (chỉ máy "
            f"này) hoặc --host 0.0.0.0 (mọi địa chỉ của máy).",
            f"Cannot listen on {where_en}: this machine has no address {host}. Use --host 127.0.0.1 (this "
            f"machine only) or --host 0.0.0.0 (all its addresses).")
    return TrackerError(f"Không mở được {where_vi}: {exc.strerror or exc}.",
                        f"Cannot listen on {where_en}: {exc.strerror or exc}.")


def build_server(app, limits: ServerLimits = ServerLimits(), *, forwarded_allow_ips: str | None = None,
                 log_config: dict | None = None):
    """A uvicorn server for ``app`` under ``limits``; run it with ``server.run(sockets=[bind(...)])``."""
    import uvicorn

    config = uvicorn.Config(
        # No WebSocket support: an upgraded connection would leave the protocol, and with it the limits.
        app, http=protocol_class(limits), ws="none", log_config=log_config, log_level="info",
        proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips, server_header=False,
        # One more than the cap: the protocol refuses connections beyond it; uvicorn's own check (which
        # counts the connection asking, and running tasks) then only stops tasks piling up after their
        # clients left.
        limit_concurrency=limits.max_connections + 1, timeout_keep_alive=limits.keep_alive,
    )
    return uvicorn.Server(config)
