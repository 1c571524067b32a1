"""Slow and idle clients cannot hold ``paddle-course serve``: the header deadline and the connection cap.

The server runs on a thread of this process (:class:`paddle_course.serving.BackgroundServer`)
with the toy modules of ``serving_helpers``, and short deadlines so that the tests are quick;
the clients are raw sockets, so that they can stop in the middle of a request line.
"""
import http.client
import json
import selectors
import socket
import time

import pytest

from paddle_course import serving

from serving_helpers import post, write_toy_modules

BODY = b'{"texts": ["abc"]}'


@pytest.fixture(scope="module")
def toy_modules(tmp_path_factory):
    dirs = write_toy_modules(tmp_path_factory.mktemp("toy_modules"))
    return {name: serving.load_module(str(directory)) for name, directory in dirs.items()}


@pytest.fixture
def start(toy_modules):
    servers = []

    def start(**limits):
        server = serving.BackgroundServer(serving.ServingApp(toy_modules, limits=serving.Limits(**limits)))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def request_bytes(port, body=BODY, path="/predict/toy_textlen"):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("ascii") + body


def good_request(server, timeout=5):
    """(HTTP status, reply, seconds) of one request on a new connection."""
    started = time.perf_counter()
    status, reply = post(server.url + "/predict/toy_textlen", json.loads(BODY), timeout=timeout)
    return status, reply, time.perf_counter() - started


def read_until_closed(sockets, timeout):
    """{socket: (everything it received, seconds from now until the server closed it)}, for sockets
    the server closes within ``timeout``; the others are left out."""
    started = time.monotonic()
    received = {sock: [] for sock in sockets}
    closed = {}
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while len(closed) < len(sockets) and time.monotonic() - started < timeout:
            for key, _ in selector.select(timeout=0.1):
                try:
                    chunk = key.fileobj.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    received[key.fileobj].append(chunk)
                else:
                    closed[key.fileobj] = (b"".join(received[key.fileobj]), time.monotonic() - started)
                    selector.unregister(key.fileobj)
    return closed


def connect(server, data=b""):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    if data:
        sock.sendall(data)
    return sock


def test_slowloris_connections_do_not_delay_a_good_client_and_are_closed_408_at_the_header_deadline(start):
    server = start(header_timeout_s=2.0)
    opened = time.monotonic()
    partial = request_bytes(server.port)[:60]  # the request line and part of the Host header
    slow = [connect(server, partial) for _ in range(200)]
    try:
        time.sleep(0.3)
        for sock in slow:  # a slowloris trickles bytes to look alive: the deadline does not move
            sock.sendall(b"0")
        status, reply, seconds = good_request(server)
        assert (status, reply["status"]) == (200, "000")
        assert seconds < 1.0
        reading = time.monotonic() - opened
        closed = read_until_closed(slow, timeout=2.0 + 3.0 - reading)
        assert len(closed) == 200, f"{200 - len(closed)} slow connections still open"
        for data, _ in closed.values():
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
            assert json.loads(body) == {"status": "112", "results": "",
                                        "msg": "the request line and headers did not arrive within 2 s "
                                               "(--header-timeout-s)"}
        assert reading + min(seconds for _, seconds in closed.values()) > 1.95  # none before its deadline
        status, reply, seconds = good_request(server)
        assert (status, reply["status"], seconds < 1.0) == (200, "000", True)
    finally:
        for sock in slow:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed_silently_at_the_header_deadline(start):
    server = start(header_timeout_s=1.0)
    idle = connect(server)
    try:
        closed = read_until_closed([idle], timeout=3.0)
        assert list(closed.values()) and closed[idle][0] == b""  # closed, and nothing written to it
        assert 0.9 < closed[idle][1] < 2.0
    finally:
        idle.close()


def test_a_keep_alive_client_is_unaffected_and_an_idle_one_is_closed_after_the_deadline(start):
    server = start(header_timeout_s=1.0)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        started = time.monotonic()
        first_socket = None
        while time.monotonic() - started < 3.0:  # three header deadlines long, on one connection
            connection.request("POST", "/predict/toy_textlen", BODY, {"Content-Type": "application/json"})
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())["status"]) == (200, "000")
            first_socket = first_socket or connection.sock
            assert connection.sock is first_socket  # never reconnected
            time.sleep(0.3)
        # idle longer than the deadline after an answer: the server closes it, without a reply
        closed = read_until_closed([connection.sock], timeout=3.0)
        assert closed and closed[connection.sock][0] == b""
    finally:
        connection.close()


def test_a_long_answer_is_never_cut_off_by_the_header_deadline(start):
    server = start(header_timeout_s=0.5)
    sock = connect(server, request_bytes(server.port, b'{"texts": ["sleep:1.5"]}', "/predict/toy_sleepy"))
    try:
        closed = read_until_closed([sock], timeout=1.5 + 0.5 + 3.0)
        data, seconds = closed[sock]
        assert data.startswith(b"HTTP/1.1 200 ")
        assert json.loads(data.partition(b"\r\n\r\n")[2]) == {"msg": "", "results": [{"text": "sleep:1.5"}],
                                                                "status": "000"}
        assert 1.5 + 0.4 < seconds < 1.5 + 0.5 + 1.5  # answered, then closed at the deadline for the next request
    finally:
        sock.close()


def test_pipelined_requests_are_all_answered(start):
    server = start(header_timeout_s=1.0)
    sock = connect(server, request_bytes(server.port) * 3)
    try:
        data, _ = read_until_closed([sock], timeout=4.0)[sock]
        assert data.count(b"HTTP/1.1 200 OK") == 3
    finally:
        sock.close()


def test_a_body_left_unread_after_an_early_answer_cannot_hold_the_connection(start):
    server = start(header_timeout_s=1.0, max_body_mb=0.01)
    head = (f"POST /predict/toy_textlen HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n").encode("ascii")
    sock = connect(server, head + b"[")  # answered 413 from Content-Length; the body never comes
    try:
        data, seconds = read_until_closed([sock], timeout=4.0)[sock]
        assert data.startswith(b"HTTP/1.1 413 ")
        assert seconds < 2.5
    finally:
        sock.close()


def test_at_the_cap_the_connection_waiting_longest_for_its_request_makes_room(start):
    server = start(max_connections=3)
    slow = connect(server, request_bytes(server.port)[:30])
    time.sleep(0.1)  # the server has accepted it first
    idle = [connect(server) for _ in range(2)]
    try:
        time.sleep(0.2)
        status, reply, seconds = good_request(server)  # the 4th connection
        assert (status, reply["status"], seconds < 1.0) == (200, "000", True)
        data, _ = read_until_closed([slow], timeout=2.0)[slow]
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body)["msg"] == ("the request line and headers had not arrived when the server, at its "
                                           "limit of 3 connections (--max-connections), needed the connection for "
                                           "another client")
        assert read_until_closed(idle, timeout=0.5) == {}  # the others are left alone
    finally:
        for sock in [slow, *idle]:
            sock.close()


def test_when_every_connection_is_being_answered_a_new_one_gets_429_json_and_is_closed(start):
    server = start(max_connections=2, header_timeout_s=1.0)
    busy = [connect(server, request_bytes(server.port, b'{"texts": ["sleep:1.5"]}', "/predict/toy_sleepy"))
            for _ in range(2)]
    try:
        time.sleep(0.3)  # both requests are in the module's queue
        sock = connect(server, request_bytes(server.port))
        data, _ = read_until_closed([sock], timeout=3.0)[sock]
        sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 429 ")
        assert b"retry-after: 1" in head.lower() and b"connection: close" in head.lower()
        assert json.loads(body) == {"status": "101", "results": "",
                                    "msg": "the server has 2 open connections, its limit (--max-connections), "
                                           "each with a request in progress; try again later"}
        answered = read_until_closed(busy, timeout=8.0)  # one after the other, then closed when idle
        assert [data[:13] for data, _ in answered.values()] == [b"HTTP/1.1 200 "] * 2
        status, reply, _ = good_request(server)
        assert (status, reply["status"]) == (200, "000")
    finally:
        for sock in busy:
            sock.close()


@pytest.mark.parametrize("limits, message", [
    ({"header_timeout_s": 0}, "--header-timeout-s must be a positive number"),
    ({"max_connections": 0}, "--max-connections must be a positive number"),
    ({"max_connections": 2.5}, "--max-connections must be a whole number"),
])
def test_connection_limits_are_checked(limits, message):
    with pytest.raises(ValueError, match=message):
        serving.Limits(**limits)
