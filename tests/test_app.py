"""``paddle-course app`` through its API (``gradio_client``): every tab answers, bad input is a sentence, nothing leaves.

One app is built and served for the whole module (the three hub modules load once), on a free
port of 127.0.0.1.  While it is built, served and used, every outside connection is refused and
recorded (the guard of ``tests/test_offline.py``), and each test ends by checking none was tried.
"""
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from test_offline import _is_loopback

BOSTON_SGD = "NumPy, mini-batch SGD"


@pytest.fixture(scope="module")
def outside_attempts():
    """Module-wide: socket look-ups and connections to anything but this machine are refused and recorded."""
    attempts = []
    real = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
            "getaddrinfo": socket.getaddrinfo, "create_connection": socket.create_connection}

    def guard(kind, address, host):
        if not _is_loopback(host):
            attempts.append((kind, address, threading.current_thread().name))
            raise OSError(f"test_app: an outside connection was attempted ({kind} {address!r})")

    def host_of(address):
        return address[0] if isinstance(address, tuple) else None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect",
                      lambda self, a: (guard("connect", a, host_of(a)), real["connect"](self, a))[1])
        patch.setattr(socket.socket, "connect_ex",
                      lambda self, a: (guard("connect_ex", a, host_of(a)), real["connect_ex"](self, a))[1])
        patch.setattr(socket, "getaddrinfo",
                      lambda host, *a, **k: (guard("getaddrinfo", host, host), real["getaddrinfo"](host, *a, **k))[1])
        patch.setattr(socket, "create_connection",
                      lambda a, *r, **k: (guard("create_connection", a, host_of(a)),
                                          real["create_connection"](a, *r, **k))[1])
        yield attempts


@pytest.fixture(scope="module")
def app(outside_attempts):
    from paddle_course.app.page import build_page
    from paddle_course.app.server import font_css, start_in_background
    from paddle_course.app.training import start_forkserver

    start_forkserver()
    running = start_in_background(build_page(say=lambda message: None, css=font_css()))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(app):
    from paddle_course.common.webui import import_gradio

    import_gradio()  # also teaches this process's gradio_client the schemas of file boxes
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=False)


@pytest.fixture(autouse=True)
def nothing_went_outside(request):
    yield
    if "outside_attempts" in request.fixturenames or "app" in request.fixturenames:
        assert request.getfixturevalue("outside_attempts") == []


def _file(path):
    from gradio_client import handle_file

    return handle_file(str(path))


# --- the page itself ---------------------------------------------------------------------------

def test_every_tab_has_its_endpoint(client):
    endpoints = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/boston_train", "/sentiment", "/detect_pedestrians", "/read_waybill", "/homework_starter",
            "/homework_check"} <= endpoints


def test_the_page_asks_no_other_site_for_fonts_or_scripts(app):
    with urllib.request.urlopen(app.url, timeout=30) as response:
        html = response.read().decode("utf-8")
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html)
    assert "Course CJK" in html  # the page's CSS names the fonts the app serves itself
    with urllib.request.urlopen(app.url + "theme.css", timeout=30) as response:
        assert "https://" not in response.read().decode("utf-8")
    with urllib.request.urlopen(app.url + "course-fonts/course-cjk-supplement.otf", timeout=30) as response:
        assert response.read(4) == b"OTTO"


def test_the_guard_sees_gradios_version_check(outside_attempts):
    """With analytics on, Gradio asks api.gradio.app for its latest version: the guard must see that."""
    from gradio import analytics

    analytics.version_check()  # what Blocks() starts in a thread unless analytics are off
    assert any("gradio.app" in str(address) for _, address, _ in outside_attempts), outside_attempts
    outside_attempts.clear()  # seen, as expected: this test only proves the guard works


def test_the_app_turned_gradios_analytics_off(app):
    import os

    from gradio import analytics

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and not analytics.analytics_enabled()


def test_each_hub_module_offers_create_gradio_app_in_paddlehubs_convention():
    import gradio

    from paddle_course.common.hub import COURSE_MODULES, load_module

    for name in COURSE_MODULES:
        assert isinstance(load_module(name).create_gradio_app(), gradio.Blocks), name


# --- Boston ------------------------------------------------------------------------------------

def _train(client, choice=BOSTON_SGD, lr=0.05, batch=10, epochs=30, seed=0, optimizer="SGD"):
    job = client.submit(choice, lr, batch, epochs, seed, optimizer, api_name="/boston_train")
    updates = list(job)
    return updates, job.outputs()[-1]


def test_boston_streams_the_curve_and_ends_with_the_lessons_numbers(client):
    from paddle_course.boston import lesson

    updates, (curve, status, table, predictions) = _train(client, epochs=60)
    assert status.startswith("**Done:**"), status
    progress = [u[1] for u in updates if "epoch" in u[1] and not u[1].startswith("**Done")]
    assert progress, "no update while training: the curve is not streamed"
    assert all(u[0] for u in updates if "epoch" in u[1]), "a progress update without its curve"
    expected = lesson.train("numpy", None, epochs=60, batch_size=10, learning_rate=0.05, seed=0)
    assert f"train MSE {expected.train_mse:.5f}" in status
    assert "closed form (lstsq)" in table and "NumPy SGD b=10" in table
    assert curve and predictions


def test_boston_two_trainings_at_once_do_not_mix(client, app):
    """A dynamic and a static graph from two pages at the same time: each ends where it ends alone."""
    from gradio_client import Client

    from paddle_course.boston import lesson

    other = Client(app.url, verbose=False, download_files=False)
    runs = {"Paddle, dynamic graph": ("dygraph", client), "Paddle, static graph": ("static", other)}
    with ThreadPoolExecutor(2) as pool:
        futures = {label: pool.submit(_train, c, label, 0.05, 10, 8, 3) for label, (_, c) in runs.items()}
        finals = {label: future.result()[1] for label, future in futures.items()}
    for label, (impl, _) in runs.items():
        alone = lesson.train(impl, None, epochs=8, batch_size=10, learning_rate=0.05, seed=3)
        assert f"train MSE {alone.train_mse:.5f}" in finals[label][1], (label, finals[label][1], alone.train_mse)
        table = finals[label][2]  # the NumPy twin above the Paddle run, its weights within float32 of them
        assert "| NumPy SGD b=10 |" in table
        paddle_row = next(row for row in table.splitlines() if row.startswith("| Paddle"))
        assert float(paddle_row.rstrip(" |").rsplit("|", 1)[1]) < 1e-5


def test_boston_diverging_rate_shows_the_lessons_advice_not_a_traceback(client):
    _, (curve, status, _, _) = _train(client, lr=5.0, epochs=20)
    assert status.startswith("**Problem:** training diverged")
    assert "Lower the learning rate" in status and "Traceback" not in status
    assert curve, "the curve up to the divergence is shown"


@pytest.mark.parametrize("change, words", [
    (dict(epochs=0), "epochs must be between 1 and"),
    (dict(lr=-1), "learning rate must be a positive number"),
    (dict(batch=0), "batch size must be between 1 and 404"),
    (dict(lr=None), "learning rate is empty"),
])
def test_boston_bad_settings_are_a_sentence(client, change, words):
    _, (_, status, _, _) = _train(client, **change)
    assert status.startswith("**Problem:**") and words in status


def test_boston_settings_name_what_is_wrong_with_any_choice():
    from paddle_course.app.boston import settings_from_page

    with pytest.raises(ValueError, match="choose an implementation"):
        settings_from_page("Paddle, quantum graph", 0.05, 10, 10, 0, "SGD")  # Gradio itself refuses it first
    with pytest.raises(ValueError, match="choose an optimizer"):
        settings_from_page(BOSTON_SGD, 0.05, 10, 10, 0, "Lion")
    settings = settings_from_page("NumPy, gradient descent (full batch)", 0.5, 7, 10.0, 2.0, "Adam")
    assert (settings.impl, settings.batch_size, settings.epochs, settings.seed) == ("numpy", None, 10, 2)


def test_boston_trains_with_another_optimizer(client):
    _, (_, status, table, _) = _train(client, choice="Paddle, static graph", lr=0.01, epochs=5, optimizer="Adam")
    assert status.startswith("**Done:**") and "Paddle static Adam b=10" in table


# --- Sentiment ---------------------------------------------------------------------------------

def test_sentiment_gives_each_line_its_label_and_probability(client):
    from paddle_course.common.hub import load_module

    texts = ["这家店的服务很周到，下次还来", "质量太差了，用了两天就坏了"]
    status, table, chart = client.predict("\n".join(texts) + "\n\n", api_name="/sentiment")
    assert status.startswith("**Done:** 2 review(s)")
    expected = load_module("course_sentiment").sentiment_classify(texts=texts)
    assert table["data"] == [[r["text"], r["sentiment_key"], r["positive_probs"]] for r in expected]
    assert chart


def test_sentiment_empty_text_is_a_sentence(client):
    status, table, chart = client.predict(" \n  \n", api_name="/sentiment")
    assert status.startswith("**Problem:**") and "empty" in status
    assert chart is None


def test_sentiment_chart_draws_the_sentences_in_chinese():
    import warnings

    from paddle_course.common.plots import missing_glyphs
    from paddle_course.sentiment.demo import DEMO_TEXTS
    from paddle_course.sentiment.draw import plot_probabilities

    results = [{"text": t, "sentiment_label": i % 2, "positive_probs": 0.3 + 0.1 * i} for i, t in enumerate(DEMO_TEXTS)]
    assert missing_glyphs("".join(DEMO_TEXTS) + "這個產品質量還不錯，說實話") == []
    figure = plot_probabilities(results)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == DEMO_TEXTS
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        figure.canvas.draw()


# --- Pedestrians and the waybill ---------------------------------------------------------------

def test_pedestrians_returns_boxes_and_the_modules_json(client, tmp_path):
    from paddle_course.detection.samples import sample_images

    from paddle_course.common.hub import load_module
    from paddle_course.common.images import read_image

    scene = next(path for path, caption in sample_images(tmp_path) if "drawn scene" in caption)
    status, drawn, result = client.predict(_file(scene), "paddle", 0.3, api_name="/detect_pedestrians")
    assert status.startswith("**Done:**") and "paddle detector" in status
    assert drawn and result["data"]
    module = load_module("course_pedestrian", detector="paddle")
    assert result == module.object_detection(images=[read_image(scene)], score_thresh=0.3)[0]


def _bad_uploads(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image", encoding="utf-8")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB
    return [(text, "notes.jpg is not an image"), (empty, "empty.png is empty"), (huge, "huge.png is 50.0 MB")]


@pytest.mark.parametrize("endpoint, extra", [("/detect_pedestrians", ("hog", 0.5)), ("/read_waybill", ())])
def test_bad_uploads_are_a_sentence_in_the_page(client, tmp_path, endpoint, extra):
    for path, words in _bad_uploads(tmp_path):
        answer = client.predict(_file(path), *extra, api_name=endpoint)
        assert answer[0].startswith("**Problem:**") and words in answer[0], answer[0]
        assert answer[1] is None  # no drawing


def test_waybill_is_read_and_its_recipient_extracted(client, tmp_path):
    from paddle_course.ocr.samples import sample_images

    path, caption = sample_images(tmp_path, seeds=(5,))[-1]
    from paddle_course.ocr.render import render_waybill

    expected = render_waybill(seed=5)[2]
    status, drawn, lines, fields = client.predict(_file(path), api_name="/read_waybill")
    assert status.startswith("**Done:**")
    assert fields == expected
    assert any(row["text"].startswith("收件人") for row in lines)
    assert drawn


# --- Homework ----------------------------------------------------------------------------------

def _label(client, assignment_id):
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/homework_starter"]
    return next(choice for choice in info["parameters"][0]["type"]["enum"] if choice.startswith(assignment_id))


def test_homework_starter_is_the_shipped_one(client):
    from paddle_course.grading.registry import assignment_folder, load_assignment

    download, statement, _ = client.predict(_label(client, "hw03"), api_name="/homework_starter")
    path = download["path"] if isinstance(download, dict) else download  # the server's copy, on this machine
    assert path.endswith("hw03_solution.py")
    starter = assignment_folder(load_assignment("hw03")[0]) / "starter.py"
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == starter.read_text(encoding="utf-8")
    assert "作业 3" in statement or "Homework 3" in statement


def test_homework_grades_like_the_cli(client, tmp_path):
    """The page's report has the score and the per-check verdicts of `paddle-course homework check --json`."""
    from homework_mistakes import MISTAKES, write_wrong_solution

    wrong = write_wrong_solution("hw02_no_shuffle", tmp_path)
    report = client.predict(_label(client, "hw02"), _file(wrong), api_name="/homework_check")
    cli = subprocess.run([sys.executable, "-m", "paddle_course", "homework", "check", "hw02", str(wrong), "--json"],
                         capture_output=True, text=True, timeout=600)
    expected = json.loads(cli.stdout)
    assert f"score: {expected['score']}/{expected['max_score']}" in report
    for check in expected["checks"]:
        assert f"[{check['status']}] {check['earned']}/{check['points']} {check['name']}" in report
    assert MISTAKES["hw02_no_shuffle"].check in report and "[FAIL]" in report


@pytest.mark.parametrize("content, words", [(b"\xff\xfe\x00bad", "is not UTF-8 text"), (b"", "is empty")])
def test_homework_bad_uploads_are_a_sentence(client, tmp_path, content, words):
    path = tmp_path / "solution.py"
    path.write_bytes(content)
    report = client.predict(_label(client, "hw01"), _file(path), api_name="/homework_check")
    assert report.startswith("**Problem:**") and words in report


def test_homework_takes_only_python_files(client, tmp_path):
    from gradio_client.exceptions import AppError

    path = tmp_path / "notes.txt"
    path.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(AppError, match=r"Invalid file type.*\.py"):  # Gradio's own check, shown in the page
        client.predict(_label(client, "hw01"), _file(path), api_name="/homework_check")


def test_homework_without_a_file_says_so(client):
    report = client.predict(_label(client, "hw01"), None, api_name="/homework_check")
    assert report.startswith("**Problem:**") and "no file yet" in report


# --- the command line --------------------------------------------------------------------------

def test_app_help_is_quick_and_imports_nothing_heavy():
    code = ("import sys, time\nstart = time.perf_counter()\nfrom paddle_course.cli import main\n"
            "try:\n    main(['app', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(time.perf_counter() - start)\n"
            "print(sorted(m for m in ('gradio', 'paddle', 'numpy', 'matplotlib', 'cv2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    *_, seconds, heavy = result.stdout.strip().splitlines()
    assert "--port" in result.stdout and "127.0.0.1" in result.stdout
    assert heavy == "[]" and float(seconds) < 1.0


def test_app_on_a_busy_port_says_so(capsys):
    from paddle_course.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.perf_counter()
        assert main(["app", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert time.perf_counter() - started < 5  # refused before the modules load


def test_the_cli_and_the_server_agree_on_the_defaults():
    from paddle_course.app import server
    from paddle_course.cli import app as app_cli

    assert (app_cli.DEFAULT_HOST, app_cli.DEFAULT_PORT) == (server.DEFAULT_HOST, server.DEFAULT_PORT) \
        == ("127.0.0.1", 7860)


def test_the_app_keeps_no_mutable_state_at_module_level():
    """What one visitor does cannot reach another through a module: every module-level name of the app
    is a constant (immutable), a function, a class or a module."""
    import inspect
    import types

    from paddle_course import app
    from paddle_course.app import boston, homework, page, server, training

    immutable = (str, int, float, tuple, frozenset, bytes, type(None), types.MappingProxyType, re.Pattern)
    for module in (app, boston, homework, page, server, training):
        for name, value in vars(module).items():
            if name.startswith("__") or inspect.isfunction(value) or inspect.isclass(value) \
                    or isinstance(value, types.ModuleType):
                continue
            assert isinstance(value, immutable), f"{module.__name__}.{name} is a {type(value).__name__}"


def test_boston_full_batch_ignores_the_batch_size(client):
    _, (_, status, table, _) = _train(client, choice="NumPy, gradient descent (full batch)", lr=0.5, batch=7,
                                      epochs=50)
    assert "NumPy GD" in table and np.isfinite(float(re.search(r"train MSE ([0-9.]+)", status).group(1)))


def test_sample_photos_are_picked_up_from_data_one_per_source_most_people_first(tmp_path, monkeypatch):
    from paddle_course.common.images import save_image
    from paddle_course.detection.samples import sample_images

    voc = tmp_path / "data" / "pedestrians"
    (voc / "Annotations").mkdir(parents=True)
    image = np.full((40, 60, 3), 128, np.uint8)
    for stem, people in (("vtest_0001", 2), ("vtest_0002", 5), ("messi5", 3), ("calibration01", 0)):
        save_image(image, voc / "JPEGImages" / f"{stem}.jpg")
        (voc / "Annotations" / f"{stem}.xml").write_text("<annotation>" + "<object></object>" * people
                                                          + "</annotation>", encoding="utf-8")
    (tmp_path / "homework").mkdir()
    monkeypatch.setenv("PADDLE_COURSE_HOME", str(tmp_path))
    samples = sample_images(tmp_path / "page")
    captions = [caption for _, caption in samples]
    assert captions[:2] == ["photo: vtest_0002.jpg (5 people boxed)", "photo: messi5.jpg (3 people boxed)"]
    assert all("drawn scene" in caption for caption in captions[2:]) and len(captions) == 4
    assert all(path.parent == tmp_path / "page" and path.is_file() for path, _ in samples)
