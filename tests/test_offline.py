"""The package opens no outside connection: the tour, the hub modules it ships, loaded the course's way.

Every way out is watched while the code runs: ``socket.getaddrinfo`` (a name lookup comes
before any connection), ``socket.socket.connect`` / ``connect_ex`` and
``socket.create_connection``.  A non-loopback address is refused and recorded; the test
fails if anything was recorded, also in threads (PaddleHub's usage statistics run in a
thread that swallows its own errors, so only the record shows it).
"""
import ipaddress
import socket
import threading
import time

import pytest

from paddle_course.common.hub import COURSE_MODULES, load_module
from paddle_course.common.paths import hub_module_dir


def _is_loopback(host):
    if host is None:
        return True  # getaddrinfo(None, port): a local, passive address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host in ("", "localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # any other name would have to be looked up: that is already going out


@pytest.fixture()
def outside_attempts(monkeypatch):
    """A list that records every refused outside connection; threads started meanwhile are joined at the end."""
    attempts = []
    real = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
            "getaddrinfo": socket.getaddrinfo, "create_connection": socket.create_connection}

    def refuse(kind, address):
        attempts.append((kind, address, threading.current_thread().name))
        raise OSError(f"test_offline: an outside connection was attempted ({kind} {address!r})")

    def host_of(address):
        return address[0] if isinstance(address, tuple) else None  # AF_UNIX paths are local

    def connect(self, address):
        if not _is_loopback(host_of(address)):
            refuse("connect", address)
        return real["connect"](self, address)

    def connect_ex(self, address):
        if not _is_loopback(host_of(address)):
            refuse("connect_ex", address)
        return real["connect_ex"](self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            refuse("getaddrinfo", host)
        return real["getaddrinfo"](host, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        if not _is_loopback(host_of(address)):
            refuse("create_connection", address)
        return real["create_connection"](address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    before = set(threading.enumerate())
    yield attempts
    deadline = time.monotonic() + 10
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _wait_for_new_threads(before, seconds=10):
    deadline = time.monotonic() + seconds
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def test_the_guard_sees_paddlehubs_usage_statistics(outside_attempts):
    """``hub.Module(directory=...)`` starts PaddleHub's statistics thread, which looks up its server."""
    import paddlehub as hub

    before = set(threading.enumerate())
    hub.Module(directory=str(hub_module_dir("course_sentiment")))
    _wait_for_new_threads(before)
    assert outside_attempts, "the guard did not see PaddleHub's usage-statistics request"
    outside_attempts.clear()  # seen, as expected: this test only proves the guard works


def test_the_course_loader_starts_no_usage_statistics(outside_attempts):
    before = set(threading.enumerate())
    module = load_module("course_sentiment")
    assert module.sentiment_classify(texts=["物流很快，包装也很仔细，满意"])[0]["sentiment_key"] in ("positive", "negative")
    _wait_for_new_threads(before)
    assert outside_attempts == []


@pytest.mark.slow
def test_the_tour_and_the_three_modules_stay_on_this_machine(outside_attempts, tmp_path):
    from paddle_course.common.images import encode_base64_image
    from paddle_course.ocr.render import render_waybill
    from paddle_course.tour import run_tour

    before = set(threading.enumerate())
    summary = run_tour(tmp_path, quiet=True)
    assert {"boston", "sentiment", "detection", "ocr"} <= set(summary)
    image = render_waybill(seed=3)[0]
    calls = {"course_sentiment": lambda m: m.sentiment_classify(texts=["质量太差了"]),
             "course_pedestrian": lambda m: m.serving_method(images=[encode_base64_image(image)]),
             "course_ocr": lambda m: m.recognize_text(images=[image])}
    assert set(calls) == set(COURSE_MODULES)
    for name in COURSE_MODULES:
        assert calls[name](load_module(name)), name
    _wait_for_new_threads(before)
    assert outside_attempts == []
