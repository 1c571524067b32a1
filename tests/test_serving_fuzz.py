"""Fuzzing ``paddle-course serve``: over a thousand malformed requests of many kinds, never a 5xx.

A real server process serves the toy modules of ``serving_helpers``; each request is sent
on its own connection as raw bytes, so the HTTP layer is fuzzed too (request lines,
headers, lengths, chunked bodies, clients that leave halfway).  The requests come from a
seeded generator: the same seed gives the same requests.  Checked: no reply is a 5xx,
every reply of the app is PaddleHub's JSON wrapper, the process is alive at the end with
its memory back near where it started, and good requests are answered exactly as before.
"""
import base64
import json
import random
import struct
import time

import cv2
import pytest

from serving_helpers import (BIN, Server, child_env, encode_image, free_port, make_hub_home, png_header_only,
                             raw_exchange, test_image, write_toy_modules)

SEED = 13
REQUESTS = 2400
TIME_BUDGET_S = 150  # measured: 2,400 requests in ~6 s on 2 busy cores

GOOD_BODIES = [
    ("/predict/toy_textlen", {"texts": ["good food", "太好吃了", "x"]}),
    ("/predict/toy_textlen", {"texts": ["a" * 50], "upper": True, "batch_size": 3}),
    ("/predict/toy_imagestats", {"images": [encode_image(test_image())], "scale": 0.5}),
]


def http_request(path, body, content_type="application/json", host=None, method="POST", extra=b""):
    host = host if host is not None else "127.0.0.1:{port}"
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n".encode("latin-1")
    head += f"Content-Length: {len(body)}\r\n".encode() + extra + b"Connection: close\r\n\r\n"
    return head + body


# ---------------------------------------------------------------- the generators (rng -> (kind, bytes))

def random_json_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -2**63, 10**30, 3])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-320, 3.0])
    if kind in (4, 5):
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x4E00, 0x9FFF), 0, 0x202E, 0x1F600]))
                       for _ in range(rng.randrange(0, 12)))
    if kind == 6:
        return [random_json_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if kind == 7:
        return {rng.choice(["texts", "images", "batch_size", "upper", "scale", "x", ""]): random_json_value(rng, depth + 1)
                for _ in range(rng.randrange(0, 4))}
    return [[]] * rng.randrange(0, 3)


def wrong_types(rng):
    path = rng.choice(["/predict/toy_textlen", "/predict/toy_imagestats"])
    keys = ["texts", "images", "batch_size", "upper", "scale", "paths", "output_dir", "visualization", "unknown"]
    body = {rng.choice(keys): random_json_value(rng) for _ in range(rng.randrange(1, 4))}
    return "wrong types", http_request(path, json.dumps(body).encode())


def mutated_json(rng):
    path, body = rng.choice(GOOD_BODIES)
    data = bytearray(json.dumps(body).encode())
    for _ in range(rng.randrange(1, 5)):
        if not data:
            break
        where = rng.randrange(len(data))
        operation = rng.randrange(5)
        if operation == 0:
            data[where] = rng.randrange(256)
        elif operation == 1:
            del data[where:where + rng.randrange(1, 20)]
        elif operation == 2:
            data[where:where] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif operation == 3:
            data[where:where] = rng.choice([b"\\ud800", b"\\udfff", b"NaN", b"Infinity", b"-", b"\\", b"\xed\xa0\x80",
                                            b"\xc0\xaf", b"\x00", b"[" * 50, b'"', b"1e999999"])
        else:
            data = data[:where]
    return "mutated JSON", http_request(path, bytes(data))


def text_extremes(rng):
    texts = rng.choice([
        ["\ud800"], ["ok", "\udc00x"], ["a" * 20_000], ["a"] * 1_001, [""], ["\x00"], ["\u202e\u200b"], [" "],
        ["😀" * 100], [str(i) for i in range(3000)],
    ])
    data = json.dumps({"texts": texts}, ensure_ascii=rng.random() < 0.5 or any("\ud800" <= c <= "\udfff"
                                                                                for t in texts for c in t))
    return "text extremes", http_request("/predict/toy_textlen", data.encode("utf-8", "surrogatepass"))


def numbers_and_nesting(rng):
    data = rng.choice([
        b'{"texts": ["a"], "batch_size": NaN}', b'{"texts": ["a"], "batch_size": -Infinity}',
        b'{"texts": ["a"], "batch_size": 1e999}', b'{"texts": ["a"], "batch_size": ' + b"9" * 5000 + b"}",
        b'{"texts": ["a"], "batch_size": 2.0}', b'{"texts": ["a"], "batch_size": true}',
        b"[" * rng.randrange(1000, 100_000) + b"]" * rng.randrange(0, 10),
        b'{"a":' * rng.randrange(1000, 20_000), b'{"texts": ' + b"[" * 900 + b"]" * 900 + b"}",
        b"1" * rng.randrange(1, 6000), b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"{}" * 10, b" " * 100,
    ])
    return "numbers, nesting", http_request("/predict/toy_textlen", data)


def bad_images(rng):
    png = cv2.imencode(".png", test_image())[1].tobytes()
    jpeg = cv2.imencode(".jpg", test_image())[1].tobytes()
    raw = rng.choice([
        png[:rng.randrange(1, len(png))], jpeg[:rng.randrange(1, len(jpeg))],
        png[:30] + bytes(rng.randrange(256) for _ in range(200)), png_header_only(32000, 32000),
        png_header_only(rng.randrange(0, 5000), rng.randrange(0, 5000)), png_header_only(2**31, 2),
        b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03", b"GIF89a\xff\xff\xff\xff\x80\x00\x00",
        b"BM" + bytes(12) + struct.pack("<Iii", 40, -2**31, 2**31 - 1), cv2.imencode(".tiff", test_image())[1].tobytes(),
        b"RIFF\xff\xff\xff\xffWEBPVP8X" + bytes(20), bytes(rng.randrange(256) for _ in range(64)), b"",
    ])
    text = base64.b64encode(raw).decode()
    text = rng.choice([text, text[:-1], " " + text, "data:image/png;base64," + text, "data:" + text, text + "===",
                       text.replace("A", "-")])
    body = {"images": rng.choice([[text], [text, encode_image(test_image())], text, [None], [[text]]])}
    return "bad images", http_request("/predict/toy_imagestats", json.dumps(body).encode())


def headers_and_routes(rng):
    body = json.dumps({"texts": ["a"]}).encode()
    content_type = rng.choice([None, "", "text/plain", "application/json; charset=latin-1", "application/json;;",
                               "application/json; charset=utf-8", "application/x-www-form-urlencoded", "*/*"])
    host = rng.choice(["127.0.0.1:{port}", "evil.example", "localhost", "127.0.0.1:1", "[::1]:{port}", "", "a" * 300,
                       "127.0.0.1:{port}:{port}", "localhost.", "%00"])
    method = rng.choice(["POST", "GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"])
    path = rng.choice(["/predict/toy_textlen", "/", "/predict/", "/predict/toy_textlen/", "/predict/../etc/passwd",
                       "/predict/%00", "/predict/toy_textlen?x=1", "/gradio/toy_textlen", "/" + "a" * 5000,
                       "/predict/%E4%BD%A0", "/predict/toy_textlen%2F..", "//predict/toy_textlen"])
    return "headers, routes", http_request(path, body, content_type, host, method)


def raw_http(rng):
    """Broken HTTP; the client half-closes its side after sending (as if it left), so requests that
    wait for bytes that never come end at once instead of at the server's deadline."""
    body = json.dumps({"texts": ["a"]}).encode()
    good = http_request("/predict/toy_textlen", body)
    chunked = good.replace(b"Content-Length: 16\r\n", b"Transfer-Encoding: chunked\r\n")
    data = rng.choice([
        b"GARBAGE\r\n\r\n", b"POST /predict/toy_textlen\r\n\r\n", b"POST /predict/toy_textlen HTTP/9.9\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
        good.replace(b"Content-Length: ", b"Content-Length: -"), good.replace(b"Content-Length: ", b"Content-Length: 99"),
        good.replace(b"Content-Length: ", b"Content-Length: 1, "), good.replace(b"Host:", b"Host :"),
        good.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n"),
        good.replace(b"\r\n\r\n", b"\r\nbad header line\r\n\r\n"), good.replace(b"\r\n", b"\n"),
        chunked.replace(b"\r\n\r\n" + body, b"\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n"),
        chunked.replace(b"\r\n\r\n" + body, b"\r\n\r\nfffffff\r\n" + body * 50),
        chunked.replace(b"\r\n\r\n" + body, b"\r\n\r\n10\r\n" + body + b"\r\n0\r\n\r\n"),  # a valid one
        good.replace(b"Content-Length: 16\r\n", b"Transfer-Encoding: chunked\r\nContent-Length: 16\r\n"),
        good.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"),
        good[:rng.randrange(1, len(good))],  # the client stops halfway
        good + good, b"\x00" * 100, b"\r\n" * 50,
    ])
    return "raw HTTP", data


def limits(rng):
    choice = rng.randrange(4)
    if choice == 0:
        data = json.dumps({"texts": ["a"] * rng.randrange(2025, 60_000)}).encode()
    elif choice == 1:
        data = json.dumps({"texts": ["b" * 10] * 500, "pad": "x" * 3_000_000}).encode()  # > --max-body-mb 2
    elif choice == 2:
        data = json.dumps({"images": [encode_image(test_image())] * 40}).encode()
    else:
        data = b'{"texts": [' + b'"a",' * 200_000 + b'"a"]}'
    path = "/predict/toy_imagestats" if choice == 2 else "/predict/toy_textlen"
    return "limits", http_request(path, data)


GENERATORS = [wrong_types, mutated_json, text_extremes, numbers_and_nesting, bad_images, headers_and_routes,
              raw_http, limits]


def fuzz_requests(seed, count):
    rng = random.Random(seed)
    return [GENERATORS[index % len(GENERATORS)](rng) for index in range(count)]


# ---------------------------------------------------------------- the test

def exchange(server, data, half_close=False):
    return raw_exchange(server.port, data.replace(b"{port}", str(server.port).encode()), timeout=15,
                        half_close=half_close)


def good_replies(server):
    """(status, body) of each good request (the headers hold the date)."""
    replies = [exchange(server, http_request(path, json.dumps(body).encode())) for path, body in GOOD_BODIES]
    return [(status, response.partition(b"\r\n\r\n")[2]) for status, response in replies]


def check_reply(kind, data, status, response):
    assert status is None or status < 500, (kind, data[:200], response[:500])
    if status is None:
        # no answer: the client stopped halfway (the server waits for the rest until it times out: we
        # do not) or sent something that is not HTTP at all
        assert kind == "raw HTTP", (kind, data[:200])
        return
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            body = body[:int(line.split(b":")[1])]  # the first answer (a pipelined request may follow)
    if data.startswith(b"HEAD "):  # an answer without its body
        assert body == b"", response[:300]
    elif b"content-type: application/json" in head.lower():
        reply = json.loads(body)
        assert set(reply) == {"status", "msg", "results"}, reply
        assert (reply["status"] == "000") == (status == 200), reply
    else:  # only h11's own answer to a request that is not HTTP/1.1
        assert status == 400 and kind in ("raw HTTP", "headers, routes"), (kind, data[:200], response[:300])


@pytest.mark.slow  # ~20 s to start the server (Paddle's import), ~6 s of requests
def test_thousands_of_malformed_requests_give_no_5xx_and_leave_the_server_as_it_was(tmp_path):
    dirs = write_toy_modules(tmp_path / "modules")
    port = free_port()
    server = Server([BIN / "paddle-course", "serve", "-m", dirs["toy_textlen"], dirs["toy_imagestats"],
                     "--port", str(port), "--max-body-mb", "2", "--quiet"], port,
                    child_env(make_hub_home(tmp_path / "hub_home")), tmp_path / "server.log", cwd=tmp_path)
    try:
        server.wait_ready()
        requests = fuzz_requests(SEED, REQUESTS)
        for kind, data in requests[:80]:  # warm-up: every kind once or more, so that memory settles
            exchange(server, data, half_close=kind == "raw HTTP")
        before_replies, rss_before = good_replies(server), server.rss_mb()
        started, statuses = time.monotonic(), {}
        for kind, data in requests:
            status, response = exchange(server, data, half_close=kind == "raw HTTP")
            check_reply(kind, data, status, response)
            statuses.setdefault(kind, set()).add(status)
            assert time.monotonic() - started < TIME_BUDGET_S, "the fuzz run is too slow"
        elapsed = time.monotonic() - started
        assert server.process.poll() is None
        assert good_replies(server) == before_replies
        assert all(status == 200 for status, _ in before_replies)
        growth = server.rss_mb() - rss_before
        print(f"\n{len(requests)} fuzz requests in {elapsed:.1f} s; RSS {rss_before:.0f} MB -> "
              f"{rss_before + growth:.0f} MB; statuses by kind: {statuses}")
        assert growth < 50, f"RSS grew by {growth:.0f} MB"
        assert "Traceback" not in server.log() and "Exception" not in server.log(), server.log()[-3000:]
    finally:
        server.stop()


# ---------------------------------------------------------------- the course's modules behind the server

def course_module_requests(rng, image):
    """(module, body) with random values for every keyword the course's serving methods take."""
    options = {"course_sentiment": ("batch_size", "use_gpu"),
               "course_pedestrian": ("score_thresh", "visualization", "batch_size"),
               "course_ocr": ("visualization", "box_thresh", "text_thresh", "angle_classification_thresh", "use_gpu")}
    name = rng.choice(sorted(options))
    body = {"texts": rng.choice([["好"], ["质量太差了", "x" * 300], [" "], ["\u202e"]])} if name == "course_sentiment" \
        else {"images": [image]}
    for key in rng.sample(options[name], rng.randrange(1, len(options[name]) + 1)):
        body[key] = rng.choice([random_json_value(rng), -1, 0, 0.5, 1, 2, 1e308, True, False, "0.5", None, [], {}])
    return name, body


@pytest.mark.slow  # loads the three course modules
def test_course_modules_answer_random_options_without_a_5xx():
    from paddle_course import serving

    modules = {name: serving.load_module(name) for name in serving.COURSE_MODULES}
    server = serving.BackgroundServer(serving.ServingApp(modules))
    image = encode_image(cv2.resize(test_image(), (64, 48)))
    rng = random.Random(SEED)
    try:
        seen = set()
        for _ in range(300):
            name, body = course_module_requests(rng, image)
            status, response = raw_exchange(server.port, http_request(f"/predict/{name}", json.dumps(body).encode())
                                            .replace(b"{port}", str(server.port).encode()), timeout=60)
            assert status is not None and status < 500, (name, body, response[-300:])
            seen.add((name, status))
        assert {status for _, status in seen} >= {200, 400}
    finally:
        server.stop()
