"""Shared by the serving tests: small real PaddleHub modules, a client, server processes, image files.

The toy modules are real PaddleHub modules (``@moduleinfo``, ``@serving``) written into a tmp
folder, so the serving layer is tested without the course's models:

* ``toy_textlen`` (texts; declares ``serving_batch``, records every call it gets);
* ``toy_imagestats`` (images; no ``serving_batch``: one call per request);
* ``toy_sleepy`` (texts; a text ``"sleep:0.5"`` sleeps that long; records every text it runs).
"""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

if "paddlehub" not in sys.modules and "HUB_HOME" not in os.environ:
    # PaddleHub makes its folders under HUB_HOME when imported (here, by load_module): keep them out
    # of the user's ~/.paddlehub.  Its own configuration is kept (tests/test_offline.py relies on it);
    # the server processes get a HUB_HOME of their own (make_hub_home).
    os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="hub_home_")

import cv2
import numpy as np
import pytest

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240  # paddle + a model on a loaded 2-core machine

TOY_TEXT_MODULE = '''
from paddlehub.module.module import moduleinfo, serving


@moduleinfo(name="toy_textlen", version="1.0.0", summary="length and vowel count of texts",
            author="tests", author_email="", type="nlp/toy")
class ToyTextLen:
    serving_batch = {"items": "texts", "batch_size": "batch_size", "max_batch_size": 16}
    calls = []  # (number of texts, batch_size) of every call

    @serving
    def sentiment_classify(self, texts=None, batch_size=1, upper=False):
        """Returns: a list of {"text", "length", "vowels"}, one per text."""
        if not isinstance(texts, list) or not texts:
            raise ValueError("texts must be a non-empty list of strings")
        if any(not t.strip() for t in texts):
            raise ValueError("a text is empty")
        self.calls.append((len(texts), batch_size))
        return [{"text": t.upper() if upper else t, "length": len(t), "vowels": sum(c in "aeiou" for c in t)}
                for t in texts]
'''

TOY_IMAGE_MODULE = '''
import base64

import cv2
import numpy as np
from paddlehub.module.module import moduleinfo, serving


@moduleinfo(name="toy_imagestats", version="1.0.0", summary="size and mean colour of images",
            author="tests", author_email="", type="cv/toy")
class ToyImageStats:
    def image_stats(self, images=None, scale=1.0):
        """Returns: a list of {"height", "width", "mean_bgr"} (numpy values), one per image."""
        if not images:
            raise ValueError("images must be a non-empty list of BGR arrays")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise ValueError("scale must be a number, got %r" % (scale,))
        return [{"height": np.int64(im.shape[0]), "width": np.int64(im.shape[1]),
                 "mean_bgr": im.reshape(-1, 3).mean(axis=0) * scale} for im in images]

    @serving
    def serving_method(self, images, **kwargs):
        arrays = []
        for index, b64 in enumerate(images):
            array = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
            if array is None:
                raise ValueError("images[%d] is not an image" % index)
            arrays.append(array)
        return self.image_stats(images=arrays, **kwargs)
'''

TOY_SLEEPY_MODULE = '''
import time

from paddlehub.module.module import moduleinfo, serving


@moduleinfo(name="toy_sleepy", version="1.0.0", summary="sleeps as told", author="tests", author_email="",
            type="nlp/toy")
class ToySleepy:
    ran = []  # every text it has run

    @serving
    def run(self, texts):
        """``"sleep:S"`` sleeps S seconds; returns one {"text"} per text."""
        for text in texts:
            self.ran.append(text)
            if text.startswith("sleep:"):
                time.sleep(float(text[len("sleep:"):]))
        return [{"text": text} for text in texts]
'''

TOY_MODULES = {"toy_textlen": TOY_TEXT_MODULE, "toy_imagestats": TOY_IMAGE_MODULE, "toy_sleepy": TOY_SLEEPY_MODULE}


def write_toy_modules(root):
    dirs = {}
    for name, source in TOY_MODULES.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "module.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dirs[name] = root / name
    return dirs


# ---------------------------------------------------------------- clients

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url, body, timeout=60, content_type="application/json", headers=None):
    """POST ``body`` (bytes, or an object sent as JSON); returns (HTTP status, parsed JSON reply)."""
    status, _, data = post_raw(url, body, timeout, content_type, headers)
    return status, json.loads(data)


def post_raw(url, body, timeout=60, content_type="application/json", headers=None):
    """POST; returns (HTTP status, response headers, body bytes)."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode("utf-8")
    all_headers = {"Content-Type": content_type} if content_type is not None else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=body, method="POST", headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def raw_exchange(port, data, timeout=10, half_close=False):
    """Send raw bytes to 127.0.0.1:port; return (status code or None, the whole response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if _complete(b"".join(chunks)):
                    break
        except OSError:
            pass
    response = b"".join(chunks)
    if not response.startswith(b"HTTP/1."):
        return None, response
    return int(response.split(b" ", 2)[1]), response


def _complete(response):
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


# ---------------------------------------------------------------- server processes

def make_hub_home(path):
    """A fresh HUB_HOME whose PaddleHub server (usage statistics, downloads) is a closed loopback port."""
    (path / "conf").mkdir(parents=True, exist_ok=True)
    (path / "conf" / "config.yaml").write_text(
        "log:\n  enable: true\n  level: WARNING\nserver: http://127.0.0.1:9\n", encoding="utf-8")
    return path


def child_env(hub_home):
    return dict(os.environ, HUB_HOME=str(hub_home), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


class Server:
    """A server process, its port and log; stopped by ``stop`` (terminate, wait, kill)."""

    def __init__(self, command, port, env, log_path, cwd=None):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        stdin=subprocess.DEVNULL, cwd=cwd)

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rss_mb(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def wait_ready(self, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        pytest.fail(f"server not ready after {timeout} s:\n{self.log()[-3000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


# ---------------------------------------------------------------- images

def test_image():
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :30] = (10, 200, 30)
    cv2.putText(image, "hi", (32, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    return image


test_image.__test__ = False


def encode_image(image, ext=".png"):
    ok, data = cv2.imencode(ext, image)
    assert ok
    return base64.b64encode(data.tobytes()).decode("ascii")


def png_header_only(width, height):
    """A small PNG file whose header claims ``width x height`` pixels: its one IDAT holds a few
    rows of a deflate stream of zeros (a decoder would allocate the whole image first)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * (1 + 3 * min(width, 8192)) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
