"""PaddleHub modules benchmark: accuracy, speed and serving overhead, measured in one run.

    python bench/hub.py            # full run (several minutes: snownlp retrains on 13.9k texts)
    python bench/hub.py --quick    # subsets: a quick smoke run, same table

Prints one table, one row per measurement, with the target and pass/fail:

* course_sentiment: held-out (test split) accuracy, against snownlp 0.12.3's own naive
  Bayes classifier retrained on the same training split (``pip install snownlp==0.12.3``);
  batch inference in sentences/s.
* course_ocr: latency of the hub module against calling the PP-OCRv4 engine it wraps
  (``paddle_course.ocr.engine.engine()``) on the same images, and recognition accuracy on
  images rendered by this script (seeded); and line recognition alone, the course's base
  CRNN (``course_ocr/assets/crnn_base``) against PP-OCRv4's recognizer on the same crops:
  the base CRNN's held-out lines, and serif digit lines in a font it never saw.
* course_pedestrian: images/s and mAP@0.5 on the held-out set.
* serving: p50/p99 latency of a request to ``paddle-course serve`` (a separate process
  on 127.0.0.1) against the in-process call of the module's public method on the
  same input.

A module that is not in this checkout gets a row saying so.  Everything runs offline,
single-threaded (OMP_NUM_THREADS=1 unless set).
"""
import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
from paddle_course.common.progress import quiet_library_noise  # noqa: E402

quiet_library_noise()  # before Paddle is imported: GLOG reads its level at start-up
if "HUB_HOME" not in os.environ:
    # paddlehub makes folders under HUB_HOME on import; the benchmark installs nothing there.
    os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="bench_hub_home_")

import numpy as np  # noqa: E402

from paddle_course import serving  # noqa: E402
from paddle_course.common.paths import hub_module_dir  # noqa: E402


class Table:
    """Rows of (measurement, measured, target, result) printed once, as a markdown table."""

    def __init__(self):
        self.rows = []

    def add(self, name, measured, target="-", passed=None):
        result = "-" if passed is None else ("pass" if passed else "FAIL")
        self.rows.append((name, measured, target, result))
        print(f"  {name}: {measured} [{result}]", file=sys.stderr, flush=True)

    def missing(self, name, why):
        self.rows.append((name, why, "-", "n/a"))
        print(f"  {name}: {why}", file=sys.stderr, flush=True)

    def render(self):
        lines = ["| measurement | measured | target | result |", "|---|---:|---:|:---:|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(lines)


def landed(name):
    return (Path(hub_module_dir(name)) / "module.py").is_file()


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def percentile_ms(times, q):
    return float(np.percentile(np.asarray(times) * 1e3, q))


def encode_image(image):
    import cv2

    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("cannot encode the benchmark image")
    return base64.b64encode(data.tobytes()).decode("ascii")


# ---------------------------------------------------------------- course_sentiment

def snownlp_accuracy(train_pairs, test_pairs):
    """snownlp's Sentiment (naive Bayes over its own word segmentation) retrained on ``train_pairs``."""
    try:
        from snownlp import sentiment as snow_sentiment
    except ImportError:
        return None
    classifier = snow_sentiment.Sentiment()
    classifier.train([t for t, label in train_pairs if label == 0], [t for t, label in train_pairs if label == 1])
    right = sum((classifier.classify(text) >= 0.5) == bool(label) for text, label in test_pairs)
    return right / len(test_pairs)


def bench_sentiment(table, quick):
    name = "course_sentiment"
    if not landed(name):
        table.missing("sentiment test accuracy", f"{name} not in this checkout")
        return None
    from paddle_course import sentiment

    module = serving.load_module(name)
    train_pairs = sentiment.read_tsv(sentiment.split_path("train"))
    test_pairs = sentiment.read_tsv(sentiment.split_path("test"))
    if quick:
        train_pairs, test_pairs = train_pairs[:3000], test_pairs[:400]
    texts = [text for text, _ in test_pairs]
    labels = np.array([label for _, label in test_pairs])
    results = module.sentiment_classify(texts=texts, batch_size=256)
    accuracy = float(np.mean(np.array([r["sentiment_label"] for r in results]) == labels))
    print(f"  training snownlp on {len(train_pairs)} texts ...", file=sys.stderr, flush=True)
    snow = snownlp_accuracy(train_pairs, test_pairs)
    split = f"{len(test_pairs)} test texts" + (", quick subset" if quick else "")
    if snow is None:
        table.add(f"sentiment accuracy ({split})", f"{accuracy:.4f}", ">= 0.90", accuracy >= 0.90)
        table.missing("sentiment accuracy vs snownlp", "snownlp not installed (pip install snownlp==0.12.3)")
    else:
        table.add(f"sentiment accuracy ({split}); snownlp retrained on {len(train_pairs)}: {snow:.4f}",
                  f"{accuracy:.4f} ({(accuracy - snow) * 100:+.1f} points)",
                  ">= 0.90 and >= snownlp + 3 points", accuracy >= 0.90 and accuracy - snow >= 0.03)

    batch = texts[:1024] if len(texts) >= 1024 else (texts * (1024 // len(texts) + 1))[:1024]
    module.sentiment_classify(texts=batch[:64], batch_size=64)  # warm-up
    seconds = median_seconds(lambda: module.sentiment_classify(texts=batch, batch_size=64), 3)
    rate = len(batch) / seconds
    table.add("sentiment batch inference (1024 texts, batch 64)", f"{rate:.0f} sentences/s", ">= 500",
              rate >= 500)
    return module, texts


# ---------------------------------------------------------------- course_ocr

def bench_ocr(table, quick):
    name = "course_ocr"
    if not landed(name):
        table.missing("OCR wrapper latency / engine", f"{name} not in this checkout")
        return None
    from paddle_course.ocr import engine as ocr_engine
    from paddle_course.ocr.metrics import accuracy_on
    from paddle_course.ocr.render import benchmark_images

    module = serving.load_module(name)
    samples = benchmark_images(n=6 if quick else 20, seed=7)
    images = [image for image, _ in samples]
    engine = ocr_engine.engine()
    engine(images[0], box_thresh=0.5, text_score=0.5)
    module.recognize_text(images=[images[0]])  # warm-up
    rounds = 2 if quick else 3
    engine_best = [float("inf")] * len(images)
    module_best = [float("inf")] * len(images)

    def time_engine(image, index):
        start = time.perf_counter()
        engine(image, box_thresh=0.5, text_score=0.5)
        engine_best[index] = min(engine_best[index], time.perf_counter() - start)

    def time_module(image, index):
        start = time.perf_counter()
        module.recognize_text(images=[image])
        module_best[index] = min(module_best[index], time.perf_counter() - start)

    # Interleaved, alternating which goes first, best per image: both see the same machine load.
    for round_index in range(rounds):
        for index, image in enumerate(images):
            first, second = (time_engine, time_module) if (round_index + index) % 2 == 0 else (time_module, time_engine)
            first(image, index)
            second(image, index)
    ratio = sum(module_best) / sum(engine_best)
    table.add(f"OCR hub module / engine latency ({len(images)} images, best of {rounds})",
              f"{ratio:.3f}x ({np.mean(module_best) * 1e3:.0f} vs {np.mean(engine_best) * 1e3:.0f} ms/image)",
              "<= 1.05x", ratio <= 1.05)

    scores = accuracy_on(samples, lambda batch: [r["data"] for r in module.recognize_text(images=batch)])
    table.add(f"OCR accuracy on {len(samples)} rendered images (3 lines each)",
              f"chars {scores['char_accuracy']:.3f}, images exact {scores['line_accuracy']:.3f}")
    bench_line_recognizers(table, quick)
    return module, images[0]


def bench_line_recognizers(table, quick):
    """The course's base CRNN (``assets/crnn_base``) against PP-OCRv4's recognizer on the same line crops,
    recognition only (no detection): the base CRNN's held-out lines (its font, 30 % blurred and noisy), and
    noisy DejaVu Serif digit lines, a font the base CRNN never saw (what ``finetune ocr`` is for)."""
    import random

    from paddle_course.ocr.crnn import BASE_CHECKPOINT, PARAMS_NAME, PaddleLineRecognizer
    from paddle_course.ocr.engine import engine
    from paddle_course.ocr.lines import digits_line, held_out_crops, render_line
    from paddle_course.ocr.metrics import char_accuracy

    if not (BASE_CHECKPOINT / PARAMS_NAME).is_file():
        table.missing("OCR line recognition, base CRNN vs PP-OCRv4", "assets/crnn_base not in this checkout")
        return
    n = 100 if quick else 300
    rng = random.Random(20)
    serif = [(render_line(text, rng, "serif", noisy=True), text) for text in (digits_line(rng) for _ in range(n))]
    recognizers = (("base CRNN", PaddleLineRecognizer(BASE_CHECKPOINT)), ("PP-OCRv4 rec", engine().text_rec))
    for name, crops in ((f"{n} held-out rendered lines (base CRNN's font)", held_out_crops(n)),
                        (f"{n} noisy serif digit lines (a font new to the base CRNN)", serif)):
        bgr = [np.repeat(crop[:, :, None], 3, axis=2) for crop, _ in crops]
        texts = [text for _, text in crops]
        measured = []
        for label, recognizer in recognizers:
            start = time.perf_counter()
            read = [text.replace(" ", "") for text, _ in recognizer(bgr)[0]]
            seconds = time.perf_counter() - start
            chars = np.mean([char_accuracy(r, t) for r, t in zip(read, texts)])
            exact = np.mean([r == t for r, t in zip(read, texts)])
            measured.append(f"{label} chars {chars:.3f}, lines {exact:.3f}, {len(bgr) / seconds:.0f} lines/s")
        table.add(f"OCR line recognition (crops, no detection) on {name}", "; ".join(measured))


# ---------------------------------------------------------------- course_pedestrian

def bench_pedestrian(table, quick):
    name = "course_pedestrian"
    if not landed(name):
        table.missing("pedestrian detection images/s and mAP@0.5", f"{name} not in this checkout")
        return None
    from paddle_course.detection.evaluate import evaluate_detector
    from paddle_course.detection.synthetic import render_scene

    module = serving.load_module(name)  # its default detector
    count = 20 if quick else 60
    for label, detector in ((f"module default ({module.detector_name})", module.detector),
                            ("paddle CenterNet", "paddle")):
        scores = evaluate_detector(detector=detector, num_images=count)
        table.add(f"pedestrian detection, {label}, {scores['images']} held-out synthetic scenes",
                  f"mAP@0.5 {scores['map50']:.3f}, {scores['images_per_second']:.1f} images/s")
    image, _ = render_scene(np.random.default_rng(123), 240, 320)
    return module, image


# ---------------------------------------------------------------- serving

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(names, log_path):
    port = free_port()
    command = [sys.executable, "-m", "paddle_course", "serve", "--quiet", "--port", str(port), "--modules", *names]
    log = open(log_path, "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"paddle-course serve exited:\n{Path(log_path).read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2):
                return process, base_url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("paddle-course serve did not start within 300 s")


def stop_server(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def check_reply(reply, name):
    if reply["status"] != "000":
        raise RuntimeError(f"{name} served an error: {reply['msg']}")


def bench_serving(table, quick, cases):
    """``cases``: (label, module name, in-process call, request body, repeats); one server serves all."""
    if not cases:
        table.missing("serving p50 latency vs in-process", "no course module in this checkout")
        return
    names = list(dict.fromkeys(name for _, name, _, _, _ in cases))
    with tempfile.TemporaryDirectory() as tmp:
        process, base_url = start_server(names, Path(tmp) / "serve.log")
        try:
            for label, name, call, body, repeats in cases:
                data = json.dumps(body).encode("utf-8")
                url = f"{base_url}/predict/{name}"

                def request_new_connection(url=url, data=data, name=name):
                    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=120) as response:
                        check_reply(json.loads(response.read()), name)

                # a client that keeps its connection open (requests.Session, a browser, an app server)
                connection = http.client.HTTPConnection(urllib.parse.urlsplit(base_url).netloc, timeout=120)

                def request_keep_alive(url=url, data=data, name=name):
                    connection.request("POST", urllib.parse.urlsplit(url).path, body=data,
                                       headers={"Content-Type": "application/json"})
                    check_reply(json.loads(connection.getresponse().read()), name)

                def timed(function, into):
                    start = time.perf_counter()
                    function()
                    into.append(time.perf_counter() - start)

                for how, request in (("keep-alive connection", request_keep_alive),
                                     ("new connection per request", request_new_connection)):
                    served, local = [], []
                    for _ in range(3):  # warm-up both
                        request()
                        call()
                    for index in range(repeats):  # interleaved, alternating: both see the same machine load
                        if index % 2:
                            timed(request, served)
                            timed(call, local)
                        else:
                            timed(call, local)
                            timed(request, served)
                    ratio = percentile_ms(served, 50) / percentile_ms(local, 50)
                    table.add(f"served {label}, {how}: p50 / p99 over {repeats} requests (in-process p50 / p99)",
                              f"{percentile_ms(served, 50):.1f} / {percentile_ms(served, 99):.1f} ms "
                              f"({percentile_ms(local, 50):.1f} / {percentile_ms(local, 99):.1f} ms): {ratio:.2f}x",
                              "p50 <= 1.5x in-process", ratio <= 1.5)
                connection.close()
        finally:
            stop_server(process)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsets and fewer repeats")
    args = parser.parse_args(argv)
    print(f"PaddleHub modules benchmark{' (--quick)' if args.quick else ''}, {os.cpu_count()} CPU cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}", flush=True)
    table = Table()
    cases = []
    few, many = (10, 30) if args.quick else (40, 200)

    sentiment_case = bench_sentiment(table, args.quick)
    if sentiment_case:
        module, texts = sentiment_case
        for count in (1, 64):
            batch = texts[:count]
            cases.append((f"course_sentiment, {count} text{'s' if count > 1 else ''}", "course_sentiment",
                          lambda m=module, b=batch: m.sentiment_classify(texts=b, batch_size=len(b)),
                          {"texts": batch, "batch_size": len(batch)}, many))
    ocr_case = bench_ocr(table, args.quick)
    if ocr_case:
        module, image = ocr_case
        cases.append(("course_ocr, 1 image", "course_ocr", lambda m=module, i=image: m.recognize_text(images=[i]),
                      {"images": [encode_image(image)]}, few))
    pedestrian_case = bench_pedestrian(table, args.quick)
    if pedestrian_case:
        module, image = pedestrian_case
        cases.append(("course_pedestrian, 1 image", "course_pedestrian",
                      lambda m=module, i=image: m.object_detection(images=[i]),
                      {"images": [encode_image(image)]}, few))
    bench_serving(table, args.quick, cases)

    print()
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
