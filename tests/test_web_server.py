"""The portal's server on a real loopback socket: slow or half-sent requests are closed, connections beyond
the cap are refused, and a port already in use is one clear error."""

from __future__ import annotations

import socket
import threading
import time

import httpx2
import pytest

from tracker.web import tokens
from tracker.web.app import create_app
from tracker.web.server import ServerLimits, bind, build_server

HALF_HEADER = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture
def serve(ctx):
    """``serve(limits, **options)`` starts the portal in a thread on a free port; returns (port, server)."""
    started = []

    def start(limits: ServerLimits, **options):
        server = build_server(create_app(ctx.settings), limits, **options)
        sock = bind("127.0.0.1", 0)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread))
        wait_for(lambda: server.started, 20)
        return sock.getsockname()[1], server

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive()


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def closed_by_server_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed ``sock`` (EOF); fails if it is still open after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(seconds)
    assert sock.recv(4096) == b""
    return time.monotonic() - start


def test_a_half_sent_header_is_closed_after_the_header_timeout_even_if_it_trickles(serve):
    port, server = serve(ServerLimits(header_timeout=1.5))
    with socket.create_connection(("127.0.0.1", port)) as s:
        start = time.monotonic()
        s.sendall(HALF_HEADER)
        for _ in range(3):  # a byte now and then must not postpone the deadline
            time.sleep(0.3)
            s.sendall(b"X-Slow: 1\r\n")
        closed_by_server_within(s, 10)
        assert 1.4 <= time.monotonic() - start < 4
    wait_for(lambda: not server.server_state.connections, 5)  # the server holds nothing any more


def test_a_connection_that_sends_nothing_is_closed_too(serve):
    port, server = serve(ServerLimits(header_timeout=1, keep_alive=30))
    with socket.create_connection(("127.0.0.1", port)) as s:
        assert closed_by_server_within(s, 10) < 4


def test_a_half_sent_next_request_on_a_kept_alive_connection_is_closed(serve):
    # After a response uvicorn arms its keep-alive timer, but the first byte of a next request cancels it.
    port, _ = serve(ServerLimits(header_timeout=1.5, keep_alive=30))
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(HALF_HEADER + b"\r\n")
        s.settimeout(10)
        reply = b""
        while not reply.endswith(b"\r\n\r\nok"):
            chunk = s.recv(4096)
            assert chunk, reply
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200")
        s.sendall(HALF_HEADER)
        assert closed_by_server_within(s, 10) < 4


def test_an_upload_whose_body_stops_arriving_is_closed_after_the_body_timeout(serve, ctx, caplog):
    with ctx.session(write=True) as session:
        token, _ = tokens.issue(session, ctx.cluster_id, role=tokens.ROLE_DISTRICT, district_code="HBT")
    port, server = serve(ServerLimits(body_timeout=1.5, header_timeout=30))
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"POST /d/{token}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
                  "Content-Type: multipart/form-data; boundary=xyz\r\n\r\n--xyz\r\n".encode())
        start = time.monotonic()
        for _ in range(3):  # still arriving, slowly: not cut
            time.sleep(0.5)
            s.sendall(b"x" * 10)
        closed_by_server_within(s, 10)
        assert 2.9 <= time.monotonic() - start < 6
    wait_for(lambda: not server.server_state.tasks and not server.server_state.connections, 5)
    assert "did not arrive in time" in caplog.text
    assert "Exception in ASGI application" not in caplog.text  # a client cut off is not a server error


def test_connections_beyond_the_cap_get_503_and_the_portal_works_once_the_slow_ones_are_closed(serve):
    port, server = serve(ServerLimits(header_timeout=2, max_connections=3))
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        for s in slow:
            s.sendall(HALF_HEADER)
        wait_for(lambda: len(server.server_state.connections) == 3, 5)
        with socket.create_connection(("127.0.0.1", port)) as extra:
            extra.settimeout(5)
            reply = extra.recv(4096)
            assert reply.startswith(b"HTTP/1.1 503 ")
            assert "Máy chủ đang bận" in reply.decode() and b"connection: close" in reply
            assert extra.recv(4096) == b""
        for s in slow:
            closed_by_server_within(s, 10)
    finally:
        for s in slow:
            s.close()
    r = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert r.status_code == 200 and r.text == "ok"


@pytest.mark.parametrize(("trusted", "logged"), [(None, "203.0.113.7"), ("10.0.0.5", "127.0.0.1")])
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(serve, caplog, trusted, logged):
    port, _ = serve(ServerLimits(), forwarded_allow_ips=trusted)
    r = httpx2.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=5)
    assert r.status_code == 200
    access = [m for m in caplog.messages if "GET /healthz" in m]
    assert len(access) == 1 and access[0].startswith(logged + ":")


# --- a port in use --------------------------------------------------------------------------------------------

def test_tracker_web_on_a_port_in_use_says_so_once_and_exits_2(cli):
    assert cli("init").exit_code == 0
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = cli("web", "--port", str(port))
    assert r.exit_code == 2
    assert f"cổng {port} trên địa chỉ 127.0.0.1" in r.stderr and "đang được một chương trình khác dùng" in r.stderr
    assert f"port {port} on 127.0.0.1" in r.stderr and "already in use" in r.stderr
    assert "Cổng web" not in r.stderr and "Web portal" not in r.stderr  # never claims to serve
    assert "Errno" not in r.stderr and r.stdout == ""


def test_tracker_web_on_an_address_not_of_this_machine_is_a_clear_error(cli):
    assert cli("init").exit_code == 0
    r = cli("web", "--host", "192.0.2.1", "--port", "8000")  # TEST-NET-1: never a local address
    assert r.exit_code == 2
    assert "máy này không có địa chỉ 192.0.2.1" in r.stderr and "Web portal" not in r.stderr
