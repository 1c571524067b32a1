"""Serving and installing PaddleHub modules: `paddle-course hub install`, `paddle-course serve`, `hub serving start`.

Servers are real processes on 127.0.0.1 with a free port, asked with urllib; their
replies must equal the in-process call of the same module.  Two small real PaddleHub
modules (one for texts, one for images) are written into a tmp folder so the serving
layer is tested without the course's models; the course modules are served too, in the
slow tests.  HUB_HOME is always a tmp folder whose PaddleHub server address points at a
closed loopback port, so nothing leaves the machine.
"""
import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

import serving_helpers  # noqa: F401 -- first: it keeps PaddleHub's folders out of ~/.paddlehub
from paddle_course import serving
from paddle_course.common import hub_install
from paddle_course.common.paths import hub_module_dir

from serving_helpers import (BIN, Server, child_env, encode_image, free_port, make_hub_home, post, post_raw,
                             test_image, write_toy_modules)


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(command, env):
        port = free_port()
        server = Server([str(part).replace("{port}", str(port)) for part in command], port, env,
                        tmp_path / f"server-{len(servers)}.log", cwd=tmp_path)
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def toy_dirs(tmp_path_factory):
    return write_toy_modules(tmp_path_factory.mktemp("toy_modules"))


@pytest.fixture(scope="session")
def toy_modules(toy_dirs):
    return {name: serving.load_module(str(directory)) for name, directory in toy_dirs.items()}


@pytest.fixture
def app_server(toy_modules):
    """``app_server(**ServingApp options)``: the toy modules served on a thread of this process."""
    servers = []

    def start(modules=None, **options):
        server = serving.BackgroundServer(serving.ServingApp(modules or toy_modules, **options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    home = make_hub_home(tmp_path / "hub_home")
    monkeypatch.setenv("HUB_HOME", str(home))
    return home


def malformed_requests(base_url, oversized_bytes):
    """(url, body) pairs of the kinds a careless client sends; none is a valid request."""
    text_url = base_url + "/predict/toy_textlen"
    image_url = base_url + "/predict/toy_imagestats"
    not_an_image = base64.b64encode(b"GIF89a? no, just text").decode()
    truncated_png = encode_image(test_image())[:60]
    return [
        (text_url, b'{"texts": ["a"'),                      # invalid JSON
        (text_url, b""),                                   # empty body
        (text_url, b"[1, 2, 3]"),                          # JSON, not an object
        (text_url, b'"texts"'),
        (text_url, b"null"),
        (text_url, b"\xff\xfe\xfa garbage \x00"),           # not text at all
        (text_url, b"[" * 5000),                         # nested too deeply
        (text_url, {}),                                    # nothing to predict on
        (text_url, {"texts": []}),                         # empty list
        (text_url, {"texts": "one string"}),               # wrong type
        (text_url, {"texts": ["ok", 3]}),
        (text_url, {"texts": ["ok"], "batch_size": -1}),
        (text_url, {"texts": ["ok"], "batch_size": "8"}),
        (text_url, {"text": ["typo in the key"]}),         # unknown key
        (text_url, b'{"texts": ["\\ud800"]}'),               # a lone surrogate
        (image_url, {"images": ["!!!not base64!!!"]}),
        (image_url, {"images": [not_an_image]}),
        (image_url, {"images": [truncated_png]}),
        (image_url, {"images": []}),
        (image_url, {"images": "abc"}),
        (image_url, {"images": [encode_image(test_image())], "scale": "x"}),  # the module's own error
        (base_url + "/predict/no_such_module", {"texts": ["a"]}),
        (text_url, b"x" * oversized_bytes),                # larger than --max-body-mb
    ]


# ---------------------------------------------------------------- hub install / list (no paddle needed)

def test_hub_install_copies_module_and_is_idempotent(hub_home):
    shipped = [name for name in serving.COURSE_MODULES if (Path(hub_module_dir(name)) / "module.py").is_file()]
    if not shipped:
        pytest.skip("no course module has landed yet")
    name = shipped[0]
    first = hub_install.install_modules([name])
    installed = hub_home / "modules" / name
    assert first[0]["action"] == "installed"
    assert (installed / "module.py").read_bytes() == (Path(hub_module_dir(name)) / "module.py").read_bytes()
    assert not list(installed.rglob("__pycache__"))

    assert hub_install.install_modules([name])[0]["action"] == "up to date"
    (installed / "module.py").write_text("# edited by hand\n", encoding="utf-8")
    assert hub_install.install_modules([name])[0]["action"] == "updated"
    assert hub_install.tree_digest(installed) == hub_install.tree_digest(hub_module_dir(name))
    assert [entry for entry in os.listdir(hub_home / "modules") if entry.startswith(".")] == []

    rows = {row["name"]: row for row in hub_install.list_modules()}
    assert rows[name]["status"] == "installed"
    assert rows[name]["installed"] == rows[name]["version"]


def test_hub_install_rejects_unknown_name_before_copying_anything(hub_home):
    with pytest.raises(ValueError, match="unknown course module 'course_nope'.*course_sentiment"):
        hub_install.install_modules(["course_ocr", "course_nope"])
    assert not (hub_home / "modules" / "course_ocr").exists()


def test_hub_cli_unknown_name_is_one_line_error(hub_home):
    result = subprocess.run([BIN / "paddle-course", "hub", "install", "course_nope"], capture_output=True,
                            text=True, env=child_env(hub_home), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "paddle-course hub: error: unknown course module 'course_nope'; "
        "the course ships: course_sentiment, course_pedestrian, course_ocr"]


# ---------------------------------------------------------------- the app, in process

def test_app_rejects_each_malformed_request_with_a_json_reason(app_server):
    server = app_server(limits=serving.Limits(max_body_mb=0.01))
    text_url = server.url + "/predict/toy_textlen"
    expectations = {
        b'{"texts": ["a"': (400, "112", "not valid JSON"),
        b"": (400, "112", "body is empty"),
        b"[1, 2, 3]": (400, "112", "must be a JSON object"),
        b"[" * 5000: (400, "112", "too deeply"),
        b"\xff\xfe": (400, "112", "not UTF-8"),
        b'{"texts": ["a"], "batch_size": NaN}': (400, "112", "NaN is not JSON"),
        b'{"texts": ["\\udfff"]}': (400, "101", "texts[0] holds a lone surrogate '\\udfff'"),
        b'{"texts": ["ok"], "\\ud800": 1}': (400, "101", "unknown key '\\ud800'"),
    }
    for body, (http_status, status, reason) in expectations.items():
        code, reply = post(text_url, body)
        assert (code, reply["status"]) == (http_status, status), body[:20]
        assert reason in reply["msg"], reply

    cases = [
        ({"texts": []}, "'texts' is an empty list"),
        ({"texts": "one"}, "'texts' must be a list of strings, got str"),
        ({"texts": ["a", None]}, "texts[1] must be a string, got null"),
        ({"text": ["a"]}, "unknown key 'text' for toy_textlen; it accepts: texts, batch_size, upper"),
        ({"texts": ["a"], "batch_size": 0}, "'batch_size' must be a positive integer"),
        ({}, "missing key 'texts'"),
        ({"texts": [" "]}, "a text is empty"),  # the module's own ValueError
    ]
    for body, reason in cases:
        code, reply = post(text_url, body)
        assert code == 400 and reply["status"] == "101", body
        assert reason in reply["msg"], reply

    image_url = server.url + "/predict/toy_imagestats"
    image_cases = [
        ({"images": ["%%%"]}, "images[0]: not valid base64"),
        ({"images": [base64.b64encode(b"plain text").decode()]}, "images[0]: the decoded bytes are not an image"),
        ({"images": [encode_image(test_image())], "scale": "x"}, "scale must be a number, got 'x'"),  # module's own
        ({"images": [encode_image(test_image())], "zoom": 2}, "unexpected keyword argument 'zoom'"),
        ({"images": [encode_image(test_image())], "output_dir": "/tmp"}, "'output_dir' is not accepted over HTTP"),
        ({"paths": ["/etc/hostname"]}, "'paths' is not accepted over HTTP"),
    ]
    for body, reason in image_cases:
        code, reply = post(image_url, body)
        assert code == 400 and reply["status"] == "101", body
        assert reason in reply["msg"], reply

    code, reply = post(text_url, b"x" * 20000)
    assert (code, reply["status"]) == (413, "112") and "more than 0.01 MB (--max-body-mb)" in reply["msg"]
    code, reply = post(server.url + "/predict/nope", {"texts": ["a"]})
    assert (code, reply["status"]) == (404, "111")
    for path in ("/gradio/toy_textlen", "/predict/toy_textlen/x", "/predict/../etc/passwd"):
        code, reply = post(server.url + path, {"texts": ["a"]})
        assert (code, reply["status"]) == (404, "111"), path
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(text_url, timeout=10)
    assert raised.value.code == 405 and json.loads(raised.value.read())["status"] == "112"


def test_app_reply_equals_in_process_call_with_numpy_results(app_server, toy_modules):
    server = app_server()
    image = test_image()
    code, headers, data = post_raw(server.url + "/predict/toy_imagestats",
                                   {"images": [encode_image(image)], "scale": 0.5})
    assert code == 200 and headers["content-type"] == "application/json"
    expected = serving.to_jsonable(toy_modules["toy_imagestats"].image_stats(images=[image], scale=0.5))
    assert json.loads(data) == {"status": "000", "msg": "", "results": expected}
    assert (expected[0]["height"], expected[0]["width"]) == (40, 60)
    assert expected[0]["mean_bgr"] == pytest.approx((image.reshape(-1, 3).mean(axis=0) * 0.5).tolist())
    # the bytes PaddleHub's Flask app sends: sorted keys, compact, \\u escapes, a newline
    code, _, data = post_raw(server.url + "/predict/toy_textlen", {"texts": ["你好"]})
    assert code == 200 and data == (b'{"msg":"","results":[{"length":2,"text":"\\u4f60\\u597d","vowels":0}],'
                                    b'"status":"000"}\n')


def test_serving_never_starts_paddlehubs_usage_statistics_thread(toy_dirs, monkeypatch):
    from paddlehub.server import server as hub_server

    started = []
    monkeypatch.setattr(hub_server.CacheUpdater, "start", lambda self: started.append(self.module))
    modules = {name: serving.load_module(str(directory)) for name, directory in toy_dirs.items()}
    server = serving.BackgroundServer(serving.ServingApp(modules))
    try:
        assert post(server.url + "/predict/toy_textlen", {"texts": ["a"]})[0] == 200
    finally:
        server.stop()
    assert started == []
    hub_server.CacheUpdater("update_cache", module="toy_textlen").start()  # the patch does see a start
    assert started == ["toy_textlen"]


# ---------------------------------------------------------------- real server processes

def test_paddle_course_serve_binds_loopback_and_survives_malformed_requests(toy_dirs, toy_modules, tmp_path,
                                                                           start_server):
    hub_home = make_hub_home(tmp_path / "hub_home")
    server = start_server([BIN / "paddle-course", "serve", "--modules", toy_dirs["toy_textlen"],
                           toy_dirs["toy_imagestats"], "--port", "{port}", "--max-body-mb", "0.05"],
                          child_env(hub_home))
    assert f"Ready: http://127.0.0.1:{server.port}" in server.log()
    assert listening_addresses(server.port) == ["127.0.0.1"]

    texts = ["good food", "太好吃了", "x"]
    status, reply = post(server.base_url + "/predict/toy_textlen", {"texts": texts})
    assert status == 200
    assert reply == {"status": "000", "msg": "",
                     "results": serving.to_jsonable(toy_modules["toy_textlen"].sentiment_classify(texts=texts))}

    bad = malformed_requests(server.base_url, oversized_bytes=60_000)
    seen_statuses = set()
    started = time.monotonic()
    for index in range(300):
        url, body = bad[index % len(bad)]
        status, reply = post(url, body, timeout=30)
        assert status in (400, 404, 413), (index, url, body if isinstance(body, dict) else body[:30])
        assert reply["status"] in ("101", "111", "112") and reply["msg"] and reply["results"] == ""
        seen_statuses.add(status)
        assert time.monotonic() - started < 240, "malformed requests are answered too slowly"
    assert seen_statuses == {400, 404, 413}
    assert server.process.poll() is None
    assert "Traceback" not in server.log()

    image = test_image()
    status, reply = post(server.base_url + "/predict/toy_imagestats", {"images": [encode_image(image)]})
    assert status == 200
    assert reply["results"] == serving.to_jsonable(toy_modules["toy_imagestats"].image_stats(images=[image]))


def listening_addresses(port):
    """The IPv4 addresses a LISTEN socket on ``port`` is bound to, from /proc/net/tcp (Linux)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs /proc/net/tcp (Linux)")
    addresses = []
    for line in table.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address_hex, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            addresses.append(socket.inet_ntoa(bytes.fromhex(address_hex)[::-1]))
    return addresses


def test_hub_serving_start_of_installed_module_answers_like_in_process_call(toy_dirs, toy_modules, tmp_path,
                                                                          start_server):
    hub_home = make_hub_home(tmp_path / "hub_home")
    env = child_env(hub_home)
    subprocess.run([BIN / "hub", "install", toy_dirs["toy_textlen"]], env=env, check=True, timeout=300,
                   capture_output=True)
    assert (hub_home / "modules" / "toy_textlen" / "module.py").is_file()
    server = start_server([BIN / "hub", "serving", "start", "-m", "toy_textlen", "-p", "{port}"], env)

    texts = ["hello", "你好世界"]
    status, reply = post(server.base_url + "/predict/toy_textlen", {"texts": texts})
    assert status == 200
    assert reply == {"status": "000", "msg": "",
                     "results": serving.to_jsonable(toy_modules["toy_textlen"].sentiment_classify(texts=texts))}
    # PaddleHub's own server reports the module's ValueError cleanly (HTTP 200, status 101) ...
    status, reply = post(server.base_url + "/predict/toy_textlen", {"texts": []})
    assert (status, reply["status"], reply["msg"]) == (200, "101", "texts must be a non-empty list of strings")
    # ... but answers a body that is JSON yet not an object with an HTML 500 page (see serving.py).
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(urllib.request.Request(server.base_url + "/predict/toy_textlen", data=b"[1]",
                                                      headers={"Content-Type": "application/json"}), timeout=30)
    assert raised.value.code == 500
    status, reply = post(server.base_url + "/predict/toy_textlen", {"texts": texts})
    assert status == 200 and reply["status"] == "000"


# ---------------------------------------------------------------- the course's own modules (slow: real models)

def course_request(name):
    """A valid request body for course module ``name`` and a body its own checks must reject."""
    if name == "course_sentiment":
        return {"texts": ["这家餐厅的菜很好吃，服务也热情", "质量太差了，再也不买了"]}, {"texts": [""]}
    image = np.full((160, 480, 3), 255, np.uint8)
    if name == "course_ocr":
        cv2.putText(image, "HELLO 2024", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (0, 0, 0), 4)
    else:  # a held-out scene of the pedestrian module's own synthetic set (seed 123, not trained on)
        from paddle_course.detection.synthetic import render_scene

        image, _ = render_scene(np.random.default_rng(123), 240, 320)
    return {"images": [encode_image(image)]}, {"images": [encode_image(image)], "no_such_option": 1}


@pytest.mark.slow
@pytest.mark.parametrize("name", serving.COURSE_MODULES)
def test_course_module_served_by_hub_and_by_paddle_course_equals_in_process_call(name, tmp_path, start_server):
    if not (Path(hub_module_dir(name)) / "module.py").is_file():
        pytest.skip(f"{name} has not landed yet")
    hub_home = make_hub_home(tmp_path / "hub_home")
    env = child_env(hub_home)
    subprocess.run([BIN / "paddle-course", "hub", "install", name], env=env, check=True, timeout=120,
                   capture_output=True)
    body, bad_body = course_request(name)
    module = serving.load_module(name)
    expected = serving.to_jsonable(getattr(module, module.serving_func_name)(**body))

    ours = start_server([BIN / "paddle-course", "serve", "-m", name, "--port", "{port}"], env)
    hubs = start_server([BIN / "hub", "serving", "start", "-m", name, "-p", "{port}"], env)
    replies = []
    for server in (ours, hubs):
        status, _, data = post_raw(f"{server.base_url}/predict/{name}", body, timeout=120)
        assert (status, json.loads(data)) == (200, {"status": "000", "msg": "", "results": expected}), server.base_url
        replies.append(data)
        status, reply = post(f"{server.base_url}/predict/{name}", bad_body, timeout=120)
        assert reply["status"] == "101" and reply["results"] == "" and reply["msg"], reply
        assert "Traceback" not in reply["msg"]
    assert replies[0] == replies[1]  # byte for byte
    assert status == 200  # PaddleHub's server answers a rejected input with HTTP 200 ...
    status, _ = post(f"{ours.base_url}/predict/{name}", bad_body, timeout=120)
    assert status == 400  # ... ours with 400
    if "images" in body:
        _check_no_path_from_the_network(name, body, (ours, hubs), tmp_path)


def _check_no_path_from_the_network(name, body, servers, tmp_path):
    """Under both servers the module writes nothing: ``output_dir`` is refused, a visualization
    comes back in the reply as a base64 JPEG."""
    target = tmp_path / "chosen_by_the_client"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(body["images"][0]), np.uint8), cv2.IMREAD_COLOR)
    for server in servers:
        status, reply = post(f"{server.base_url}/predict/{name}", dict(body, output_dir=str(target)), timeout=120)
        assert reply["status"] == "101" and "output_dir" in reply["msg"], reply
        status, reply = post(f"{server.base_url}/predict/{name}", dict(body, visualization=True), timeout=120)
        assert (status, reply["status"]) == (200, "000"), reply
        result = reply["results"][0]
        assert result["save_path"] == ""
        drawn = cv2.imdecode(np.frombuffer(base64.b64decode(result["visualized_image"]), np.uint8), cv2.IMREAD_COLOR)
        assert drawn is not None and drawn.shape[0] == image.shape[0]
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["hub_home"]  # the servers' working folder


def test_serve_cli_refuses_unknown_module_and_busy_port_in_one_line(toy_dirs, tmp_path):
    env = child_env(make_hub_home(tmp_path / "hub_home"))
    result = subprocess.run([BIN / "paddle-course", "serve", "-m", "no_such_module"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("paddle-course serve: error: unknown module 'no_such_module'")
    assert len(result.stderr.strip().splitlines()) == 1

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run([BIN / "paddle-course", "serve", "-m", toy_dirs["toy_textlen"], "--port", str(port)],
                                capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"paddle-course serve: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(is another server using this port? choose another with --port)"]
