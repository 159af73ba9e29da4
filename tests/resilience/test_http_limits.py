"""What one connection may make the server hold: the request head is bounded in size (431) and
time (408), and a body may not pause forever (408). Raw sockets against the real server."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.resilience.proc import ServerProcess

SOCKET_TIMEOUT = 30  # far above the 1-2 s limits under test: only a server that never answers hits it


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One response on a kept-alive connection (Content-Length bodies only)."""
    return read_responses(sock, 1)[0]


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """`count` responses in a row on one connection (Content-Length bodies only)."""
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(answers)} of {count} answers"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        while len(data) < length:
            chunk = sock.recv(65536)
            assert chunk, "the connection closed inside a body"
            data += chunk
        answers.append((int(head.split(b" ")[1]), data[:length]))
        data = data[length:]
    return answers


def status_and_error(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body)["error"]["code"]


@pytest.fixture
def quick(server_factory):
    return server_factory(header_timeout_seconds=1.0, body_timeout_seconds=2.0, max_header_bytes=16_384)


@pytest.mark.parametrize("head", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(400)) + b"\r\n",
    b"GET /healthz?" + b"q" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
])
def test_a_head_over_the_limit_is_refused_with_431(quick, head: bytes) -> None:
    with connect(quick.url) as sock:
        sock.sendall(head)
        status, code = status_and_error(read_all(sock))
    assert (status, code) == (431, "headers_too_large")


def test_an_endless_header_is_cut_off_without_reading_it_all(quick) -> None:
    with connect(quick.url) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        refused = False
        for _ in range(2000):  # up to 64 MB, unless the server stops us first
            try:
                sock.sendall(b"z" * 32_768)
            except (BrokenPipeError, ConnectionResetError):
                refused = True
                break
        assert refused, "the server kept reading a header of 64 MB"


def test_a_head_under_the_limit_is_served(quick) -> None:
    with connect(quick.url) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 12_000 + b"\r\n\r\n")
        status, body = read_response(sock)
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_a_body_after_a_small_head_is_not_counted_as_head(quick) -> None:
    body = json.dumps({"email": "a@example.com", "password": "x" * 1000, "pad": "p" * 60_000}).encode()
    with connect(quick.url) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        status, _ = read_response(sock)
    assert status == 400  # the unknown field "pad", decided by the app: the head was not refused


def test_headers_that_never_finish_get_a_408(quick) -> None:
    with connect(quick.url) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
        status, code = status_and_error(read_all(sock))
    assert (status, code) == (408, "request_timeout")


def test_a_connection_that_sends_nothing_is_closed(quick) -> None:
    with connect(quick.url) as sock:
        assert read_all(sock) == b""


def test_a_body_that_stops_arriving_gets_a_408(quick) -> None:
    with connect(quick.url) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"email\":")
        status, code = status_and_error(read_all(sock))
    assert (status, code) == (408, "request_timeout")
    with connect(quick.url) as again:  # the server is fine afterwards
        again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(again)[0] == 200


def test_a_slow_but_steady_body_is_received(quick) -> None:
    body = json.dumps({"email": "slow@example.com", "password": "wrong password here"}).encode()
    with connect(quick.url) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 8):
            sock.sendall(body[i:i + 8])
            time.sleep(0.25)  # pauses well inside the 2 s limit; the whole body takes longer than it
        status, _ = read_response(sock)
    assert status == 401


def test_an_idle_kept_alive_connection_is_not_cut_at_the_header_deadline(quick) -> None:
    with connect(quick.url) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
        time.sleep(2.5)  # longer than the 1 s head deadline, far shorter than the keep-alive
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200


@pytest.mark.timeout(120)
def test_modelpilot_serve_has_the_limits(tmp_path) -> None:
    proc = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    url = proc.start()
    try:
        with connect(url) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
            assert status_and_error(read_all(sock)) == (431, "headers_too_large")
    finally:
        proc.kill()


def test_pipelined_requests_are_answered_in_order(quick) -> None:
    """Requests sent back to back on one connection, before any answer: each gets its own answer,
    in the order sent (the connection's pipeline queue)."""
    paths = [b"/healthz", b"/api/v1/nowhere", b"/healthz", b"/api/v1/auth/me"]
    with connect(quick.url) as sock:
        sock.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path for path in paths))
        statuses = [status for status, _ in read_responses(sock, len(paths))]
    assert statuses == [200, 404, 200, 401]


def test_a_client_that_reads_slowly_gets_every_byte(quick) -> None:
    """Far more answer than the socket buffers hold, to a client that does not read at first: the
    server pauses writing (flow control) and resumes as the client reads; nothing is lost."""
    host, port = quick.url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.settimeout(SOCKET_TIMEOUT)
    sock.connect((host, int(port)))
    with sock:
        with connect(quick.url) as probe:
            probe.sendall(b"GET /css/components.css HTTP/1.1\r\nHost: x\r\n\r\n")
            status, expected = read_response(probe)
        assert status == 200 and len(expected) > 10_000
        count = 200  # several MB in all
        sock.sendall(b"GET /css/components.css HTTP/1.1\r\nHost: x\r\n\r\n" * count)
        time.sleep(1.0)  # the server fills the buffers and has to wait for the reader
        answers = read_responses(sock, count)
    assert [status for status, _ in answers] == [200] * count
    assert all(body == expected for _, body in answers)
