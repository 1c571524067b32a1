"""paddle-course serve refuses, before any work, what it must not do: limits, image headers, Host, Content-Type, CORS.

The image headers are checked against files written by OpenCV and Pillow and against
hand-made headers that claim huge sizes; the server runs on a thread of this process
(:class:`paddle_course.serving.BackgroundServer`) with the toy modules of ``serving_helpers``.
"""
import base64
import io
import json
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from paddle_course import serving
from paddle_course.common import untrusted_images
from paddle_course.common.untrusted_images import ImageTooLarge, check_image_file, image_size
from paddle_course.serving.app import host_allowed

from serving_helpers import encode_image, png_header_only, post, post_raw, test_image, write_toy_modules

IMAGE = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def toy_modules(tmp_path_factory):
    dirs = write_toy_modules(tmp_path_factory.mktemp("toy_modules"))
    return {name: serving.load_module(str(directory)) for name, directory in dirs.items()}


@pytest.fixture
def app_server(toy_modules):
    servers = []

    def start(**options):
        server = serving.BackgroundServer(serving.ServingApp(toy_modules, **options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- image headers

def _pillow(fmt, **options):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(IMAGE).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt, data", [
    ("PNG", lambda: cv2.imencode(".png", IMAGE)[1].tobytes()),
    ("JPEG", lambda: cv2.imencode(".jpg", IMAGE)[1].tobytes()),
    ("JPEG", lambda: _pillow("JPEG", progressive=True, exif=b"Exif\x00\x00" + b"\x00" * 64)),
    ("BMP", lambda: cv2.imencode(".bmp", IMAGE)[1].tobytes()),
    ("WebP", lambda: cv2.imencode(".webp", IMAGE)[1].tobytes()),      # VP8 (lossy)
    ("WebP", lambda: _pillow("WEBP", lossless=True)),                  # VP8L
    ("GIF", lambda: _pillow("GIF")),
])
def test_image_size_is_read_from_the_header_of_each_format(fmt, data):
    raw = data()
    assert image_size(raw) == untrusted_images.ImageSize(fmt, 53, 37)
    decoded = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (37, 53)  # what the header says is what the decoder allocates


def _jpeg_with_sof(width, height):
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _gif_with_frame(screen, frame):
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0, 0, 0)
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, *frame, 0) + b"\x02\x02\x44\x01\x00"
    return header + descriptor + b"\x3b"


def _bmp(width, height, header_size=40):
    dib = struct.pack("<IiiHH", header_size, width, height, 1, 24) + b"\x00" * (header_size - 16)
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, 14 + len(dib)) + dib


def _webp_vp8x(width, height):
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize("data, size", [
    (png_header_only(32000, 32000), ("PNG", 32000, 32000)),
    (_jpeg_with_sof(65500, 65500), ("JPEG", 65500, 65500)),
    (_gif_with_frame((10, 10), (30000, 20000)), ("GIF", 30000, 20000)),  # a frame beyond the screen
    (_bmp(20000, -30000), ("BMP", 20000, 30000)),                       # negative: rows top-down
    (_webp_vp8x(16384, 16384), ("WebP", 16384, 16384)),
])
def test_huge_sizes_in_headers_are_read_and_refused_before_decoding(data, size):
    assert image_size(data) == untrusted_images.ImageSize(*size)
    before, started = rss_mb(), time.perf_counter()
    with pytest.raises(ImageTooLarge, match=rf"{size[1]} x {size[2]} pixels, more than the limit"):
        untrusted_images.decode_base64_image(base64.b64encode(data).decode(), "images[0]")
    assert time.perf_counter() - started < 0.5 and rss_mb() - before < 50


@pytest.mark.parametrize("data, message", [
    (cv2.imencode(".tiff", IMAGE)[1].tobytes(), "not an image in a format accepted here"),
    (b"P6\n53 37\n255\n" + IMAGE.tobytes(), "not an image in a format accepted here"),  # PNM
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image in a format accepted here"),
    (b"\x00\x00\x01\x00\x01\x00", "not an image in a format accepted here"),  # ICO
    (b"\x89PNG\r\n\x1a\n\x00\x00", "first chunk is not IHDR"),
    (png_header_only(0, 10), "a PNG file of 0 x 10 pixels"),
    (_jpeg_with_sof(100, 0), "not in its frame header"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "ends before its frame header"),
    (b"\xff\xd8\xff\xda\x00\x08", "image data comes before its frame header"),
    (b"GIF89a\x0a\x00\x0a\x00\x00\x00\x00\x3b", "without any image"),
    (_bmp(10, 10, header_size=20), "unknown header size"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8Z", "unknown or truncated first chunk"),
])
def test_malformed_and_unknown_image_files_are_refused_with_the_reason(data, message):
    with pytest.raises(ValueError, match=message):
        check_image_file(data, "images[0]")


def test_strict_base64_gives_every_decoder_the_same_bytes():
    data = cv2.imencode(".png", IMAGE)[1].tobytes()
    text = base64.b64encode(data).decode()
    assert untrusted_images.base64_file_bytes("data:image/png;base64," + text) == data
    for bad in (text[:40] + "\n" + text[40:], text + "!", text[:-2] + "=x"):
        with pytest.raises(ValueError, match="not valid base64"):
            untrusted_images.base64_file_bytes(bad)


# ---------------------------------------------------------------- the server's limits

def test_each_limit_is_refused_with_413_naming_its_option(app_server):
    limits = serving.Limits(max_texts=5, max_text_chars=20, max_images=2, max_image_mb=0.01,
                            max_image_pixels=64 * 64)
    server = app_server(limits=limits)
    text_url, image_url = server.url + "/predict/toy_textlen", server.url + "/predict/toy_imagestats"
    small = encode_image(test_image())  # 60 x 40
    noise = encode_image(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8))  # ~12 KB
    cases = [
        (text_url, {"texts": ["a"] * 6}, "'texts' holds 6 texts, more than this server takes in one request "
                                         "(5, --max-texts)"),
        (text_url, {"texts": ["a" * 21]}, "texts[0] has 21 characters, more than 20 (--max-text-chars)"),
        (text_url, {"texts": ["a"], "upper": "b" * 21}, "upper has 21 characters"),
        (image_url, {"images": [small] * 3}, "'images' holds 3 images, more than this server takes in one request "
                                             "(2, --max-images)"),
        (image_url, {"images": [encode_image(np.zeros((65, 64, 3), np.uint8))]},
         "images[0]: the PNG header says 64 x 65 pixels, more than the limit of 4,096 pixels"),
        (image_url, {"images": [noise]}, "more than 0.01 MB (--max-image-mb)"),
        (image_url, {"images": [base64.b64encode(png_header_only(32000, 32000)).decode()]},
         "32000 x 32000 pixels"),
    ]
    for url, body, message in cases:
        code, reply = post(url, body)
        assert (code, reply["status"], reply["results"]) == (413, "101", ""), body
        assert message in reply["msg"], reply["msg"]
    code, reply = post(text_url, {"texts": ["a"] * 5, "upper": True})
    assert code == 200 and [r["text"] for r in reply["results"]] == ["A"] * 5


def test_millions_of_values_are_refused_before_parsing_in_under_a_second(app_server, toy_modules):
    server = app_server()
    toy_modules["toy_textlen"].calls.clear()
    body = json.dumps({"texts": ["a"] * 2_000_000, "batch_size": 100_000}).encode()
    before, started = rss_mb(), time.perf_counter()
    code, reply = post(server.url + "/predict/toy_textlen", body)
    assert (code, reply["status"]) == (413, "101")
    assert "more than 2,024 JSON values" in reply["msg"] and "--max-texts" in reply["msg"]
    assert time.perf_counter() - started < 1.0
    assert rss_mb() - before < 100  # the body itself is 10 MB; parsed, it would be ~130 MB
    assert toy_modules["toy_textlen"].calls == []
    # commas inside texts are not values
    code, reply = post(server.url + "/predict/toy_textlen", {"texts": ["a, b, c, d" * 100] * 10})
    assert code == 200


def test_body_limit_is_checked_from_content_length_before_reading(app_server):
    import http.client
    import json
    from urllib.parse import urlsplit

    server = app_server(limits=serving.Limits(max_body_mb=0.5))
    # only the headers are sent: the answer must come from Content-Length alone (and a client that
    # wrote the whole 1 MB could meet a closed socket, since the server answers without reading it)
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("POST", "/predict/toy_textlen")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(2**20))
    conn.endheaders()
    response = conn.getresponse()
    code, reply = response.status, json.loads(response.read())
    conn.close()
    assert (code, reply["status"]) == (413, "112") and "1.0 MB, more than 0.5 MB (--max-body-mb)" in reply["msg"]


def test_limits_must_be_positive_and_within_the_modules_own():
    with pytest.raises(ValueError, match="--max-texts must be a positive number"):
        serving.Limits(max_texts=0)
    with pytest.raises(ValueError, match="--max-image-pixels can be at most"):
        serving.Limits(max_image_pixels=10**9)


# ---------------------------------------------------------------- Content-Type, Host, CORS

@pytest.mark.parametrize("content_type, expected", [
    ("application/json", 200), ("application/json; charset=utf-8", 200), ("Application/JSON;charset=UTF-8", 200),
    (None, 415), ("text/plain", 415), ("text/plain;charset=UTF-8", 415), ("application/x-www-form-urlencoded", 415),
    ("multipart/form-data; boundary=x", 415), ("application/json; charset=latin-1", 415), ("application/jsonp", 415),
])
def test_a_json_body_must_be_declared_as_json(app_server, content_type, expected):
    server = app_server()
    code, reply = post(server.url + "/predict/toy_textlen", {"texts": ["a"]}, content_type=content_type)
    assert code == expected, reply
    if expected == 415:
        assert reply["status"] == "112" and "Content-Type: application/json" in reply["msg"]


def test_the_host_header_must_name_this_server(app_server):
    server = app_server(allowed_hosts=["course.example"])
    port = server.port
    for host, expected in [(f"127.0.0.1:{port}", 200), ("127.0.0.1", 200), (f"localhost:{port}", 200),
                           (f"LocalHost:{port}", 200), (f"course.example:{port}", 200),
                           (f"evil.example:{port}", 403), ("evil.example", 403), (f"127.0.0.1:{port + 1}", 403),
                           (f"127.0.0.2:{port}", 403), (f"localhost.evil.example:{port}", 403), ("", 403)]:
        code, reply = post(server.url + "/predict/toy_textlen", {"texts": ["a"]}, headers={"Host": host})
        assert code == expected, host
        if code == 403:
            assert reply["status"] == "112" and "--allow-host" in reply["msg"]
    request = urllib.request.Request(server.url + "/", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 403


def test_host_check_on_other_listening_addresses():
    assert host_allowed("192.168.1.5:8866", ("192.168.1.5", 8866), set())  # reached on the LAN address
    assert not host_allowed("localhost:8866", ("192.168.1.5", 8866), set())
    assert host_allowed("[::1]:8866", ("::1", 8866), set())
    assert host_allowed("localhost:8866", ("::1", 8866), set())
    assert not host_allowed("[::2]:8866", ("::1", 8866), set())
    assert host_allowed("anything:8866", ("127.0.0.1", 8866), {"*"})
    assert host_allowed(None, ("127.0.0.1", 8866), set())  # HTTP/1.0 without Host: not a browser


def test_no_cors_headers_unless_an_origin_is_allowed(app_server):
    closed = app_server()
    code, headers, _ = post_raw(closed.url + "/predict/toy_textlen", {"texts": ["a"]},
                                headers={"Origin": "http://localhost:3000"})
    assert code == 200 and not [h for h in headers if h.lower().startswith("access-control")]
    def preflight(server):
        return urllib.request.Request(server.url + "/predict/toy_textlen", method="OPTIONS",
                                      headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(preflight(closed), timeout=10)
    assert raised.value.code == 405 and "access-control-allow-origin" not in {h.lower() for h in raised.value.headers}

    opened = app_server(cors_origins=["http://localhost:3000"])
    with urllib.request.urlopen(preflight(opened), timeout=10) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    code, headers, _ = post_raw(opened.url + "/predict/toy_textlen", {"texts": ["a"]},
                                headers={"Origin": "http://elsewhere.example"})
    assert code == 200 and "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("value, expected", [
    ({"texts": ["a"] * 101}, False), ({"texts": ["a"] * 102}, True), ([0] * 102, True), ([[]] * 102, True),
    ({"texts": [",a"] * 101}, False), ({"texts": [",a,"] * 101}, False), ({"texts": ['\\",'] * 101}, False),
    ({"texts": ['x\\\\'] * 102}, True), ({"texts": ['"' * 3 + ","] * 101}, False), ({"t": "," * 5000}, False),
    ({"texts": [",a"] * 300}, True),
])
def test_values_are_counted_without_parsing_and_commas_in_strings_do_not_count(value, expected):
    from paddle_course.serving.limits import too_many_values

    raw = json.dumps(value).encode()
    assert too_many_values(raw, 101) is expected
