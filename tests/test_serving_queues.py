"""A queue per module, micro-batching, clients that leave, deadlines, a full queue.

Concurrent clients are threads of this process talking to a :class:`BackgroundServer` over
loopback; the toy modules (``serving_helpers``) record every call they get, so a test can
see what ran, in which calls.  Micro-batching is also checked on the course's sentiment
module: each client gets exactly, to the last bit, what it would get alone.
"""
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from paddle_course import serving

import serving_helpers
from serving_helpers import post, write_toy_modules


@pytest.fixture(scope="module")
def toy_modules(tmp_path_factory):
    dirs = write_toy_modules(tmp_path_factory.mktemp("toy_modules"))
    return {name: serving.load_module(str(directory)) for name, directory in dirs.items()}


@pytest.fixture
def app_server(toy_modules):
    servers = []
    for module in toy_modules.values():
        for record in ("calls", "ran"):
            getattr(type(module), record, []).clear()

    def start(modules=None, **options):
        server = serving.BackgroundServer(serving.ServingApp(modules or toy_modules, **options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def post_all(url, bodies, workers=None):
    """POST every body at once (one thread each); the (status, reply) pairs in order."""
    with ThreadPoolExecutor(workers or len(bodies)) as pool:
        return list(pool.map(lambda body: post(url, body, timeout=60), bodies))


def send_and_leave(port, path, body):
    """Send a whole request, then close the connection without reading the answer."""
    data = json.dumps(body).encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)


def in_background(function, *args):
    thread = threading.Thread(target=function, args=args, daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------- micro-batching

def test_concurrent_requests_are_merged_and_each_gets_its_own_answer(app_server, toy_modules):
    module = toy_modules["toy_textlen"]
    server = app_server(batch_window_ms=50)  # a wide window: the threads' requests all land in it
    bodies = [{"texts": [f"text {i} " + "ae" * i, "x" * (i + 1)][: 1 + i % 2], "batch_size": 1 + i % 3}
              for i in range(24)]
    replies = post_all(server.url + "/predict/toy_textlen", bodies)
    module_calls = list(module.calls)
    for body, (code, reply) in zip(bodies, replies):
        alone = serving.to_jsonable(module.sentiment_classify(**body))
        assert (code, reply) == (200, {"status": "000", "msg": "", "results": alone})
    assert len(module_calls) < len(bodies)  # merged
    assert sum(n for n, _ in module_calls) == sum(len(b["texts"]) for b in bodies)
    assert all(batch_size == min(n, 16) for n, batch_size in module_calls)  # the declared max_batch_size


def test_requests_with_other_options_are_not_merged_and_an_error_stays_with_its_request(app_server, toy_modules):
    module = toy_modules["toy_textlen"]
    server = app_server(batch_window_ms=50)
    bodies = [{"texts": [f"t{i}"], "upper": i % 2 == 0} for i in range(10)] + [{"texts": [" "]}]
    replies = post_all(server.url + "/predict/toy_textlen", bodies)
    for body, (code, reply) in zip(bodies[:-1], replies[:-1]):
        assert code == 200 and reply["results"] == serving.to_jsonable(module.sentiment_classify(**body))
    assert replies[-1][0] == 400 and replies[-1][1]["msg"] == "a text is empty"


def test_modules_without_a_batch_declaration_get_one_call_per_request(app_server, toy_modules):
    server = app_server(batch_window_ms=50)
    bodies = [{"texts": [f"sleep:0.0{i}"]} for i in range(6)]
    replies = post_all(server.url + "/predict/toy_sleepy", bodies)
    assert [reply["results"] for _, reply in replies] == [[{"text": b["texts"][0]}] for b in bodies]
    assert server.app.queues["toy_sleepy"].calls == 6


# ---------------------------------------------------------------- queues, clients that leave, deadlines

def test_a_busy_module_does_not_hold_up_another(app_server):
    server = app_server()
    busy = in_background(post, server.url + "/predict/toy_sleepy", {"texts": ["sleep:2"]})
    time.sleep(0.3)
    started = time.monotonic()
    code, _ = post(server.url + "/predict/toy_textlen", {"texts": ["quick"]})
    assert code == 200 and time.monotonic() - started < 1.0
    busy.join()


def test_a_request_whose_client_has_gone_is_dropped_before_it_runs(app_server, toy_modules):
    server = app_server()
    busy = in_background(post, server.url + "/predict/toy_sleepy", {"texts": ["sleep:1.5"]})
    time.sleep(0.3)
    send_and_leave(server.port, "/predict/toy_sleepy", {"texts": ["left before running"]})
    busy.join()
    code, reply = post(server.url + "/predict/toy_sleepy", {"texts": ["after"]})
    assert code == 200
    assert type(toy_modules["toy_sleepy"]).ran == ["sleep:1.5", "after"]
    assert server.app.queues["toy_sleepy"].queued_items == 0 and server.app.queues["toy_sleepy"].queued_bytes == 0


def test_a_request_past_its_deadline_is_answered_503_and_never_runs(app_server, toy_modules):
    server = app_server(limits=serving.Limits(deadline_s=0.5))
    busy = in_background(post, server.url + "/predict/toy_sleepy", {"texts": ["sleep:1.5"]})
    time.sleep(0.2)
    started = time.monotonic()
    code, reply = post(server.url + "/predict/toy_sleepy", {"texts": ["too late"]})
    assert (code, reply["status"]) == (503, "101") and "deadline of 0.5 s (--deadline-s)" in reply["msg"]
    assert time.monotonic() - started < 1.0
    busy.join()
    time.sleep(0.2)
    assert "too late" not in type(toy_modules["toy_sleepy"]).ran


def test_a_full_queue_answers_429_naming_the_limit(app_server):
    server = app_server(limits=serving.Limits(max_queue_items=3))
    busy = in_background(post, server.url + "/predict/toy_sleepy", {"texts": ["sleep:1"]})
    time.sleep(0.3)
    waiting = in_background(post, server.url + "/predict/toy_sleepy", {"texts": ["a", "b"]})
    time.sleep(0.2)
    code, reply = post(server.url + "/predict/toy_sleepy", {"texts": ["one too many"]})
    assert (code, reply["status"]) == (429, "101") and "--max-queue-items" in reply["msg"]
    busy.join()
    waiting.join()
    assert post(server.url + "/predict/toy_sleepy", {"texts": ["again"]})[0] == 200


# ---------------------------------------------------------------- the course's sentiment module

@pytest.fixture(scope="module")
def sentiment_module():
    return serving.load_module("course_sentiment")


@pytest.mark.parametrize("fast", [True, False], ids=["numpy inference path", "paddle forward"])
def test_sentiment_probabilities_do_not_depend_on_the_other_texts_to_the_last_bit(sentiment_module, monkeypatch,
                                                                                   fast):
    from paddle_course.sentiment.corpus import read_tsv, split_path

    if not fast:
        monkeypatch.setattr(type(sentiment_module.network), "can_use_fast_logits", lambda self: False)
    texts = [text for text, _ in read_tsv(split_path("dev"))[:160]] + ["好", "差评", "还行吧"]
    alone = np.array([sentiment_module._positive_probs([text], 1)[0] for text in texts])
    order = np.random.default_rng(0).permutation(len(texts))
    for batch_size in (1, 7, 64, 500):
        together = sentiment_module._positive_probs([texts[i] for i in order], batch_size)
        assert np.array_equal(alone[order], together), batch_size


def test_served_sentiment_merges_clients_and_answers_each_as_if_alone(app_server, sentiment_module):
    from paddle_course.sentiment.corpus import read_tsv, split_path

    texts = [text for text, _ in read_tsv(split_path("dev"))[:96]]
    bodies = [{"texts": texts[i:i + 1 + i % 3], "batch_size": 1 + i % 4} for i in range(0, 96, 3)]
    server = app_server({"course_sentiment": sentiment_module}, batch_window_ms=20)
    replies = post_all(server.url + "/predict/course_sentiment", bodies)
    for body, (code, reply) in zip(bodies, replies):
        alone = serving.to_jsonable(sentiment_module.sentiment_classify(**body))
        assert (code, reply) == (200, {"status": "000", "msg": "", "results": alone})
    assert server.app.queues["course_sentiment"].calls < len(bodies)


# ---------------------------------------------------------------- the image modules keep their promise too

def _scenes():
    from paddle_course.detection.synthetic import render_scene
    from paddle_course.ocr.render import render_waybill

    rng = np.random.default_rng(123)
    images = [render_scene(rng, 240, 320)[0] for _ in range(3)] + [render_waybill(seed=3)[0]]
    return [serving_helpers.encode_image(image, ".jpg") for image in images]


@pytest.mark.parametrize("name", ["course_pedestrian", pytest.param("course_ocr", marks=pytest.mark.slow)])
def test_image_modules_answer_each_image_of_a_merged_call_as_if_alone(name):
    module = serving.load_module(name)
    contract = serving.BatchContract.of(module, serving.serving_signature(module))
    images = _scenes()
    requests = [{"images": images[:2]}, {"images": images[2:3]}, {"images": images[3:] + images[:1]}]
    assert len({contract.group(request) for request in requests}) == 1
    merged = getattr(module, module.serving_func_name)(**contract.merge(requests))
    alone = [result for request in requests for result in getattr(module, module.serving_func_name)(**request)]
    assert serving.to_jsonable(merged) == serving.to_jsonable(alone)
    assert contract.group({"images": images, "visualization": True}) != contract.group(requests[0])
