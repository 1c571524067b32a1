"""Pedestrian detection (course part 4): detectors, drawing, VOC data, mAP, the tour demo.

Two detectors answer ``detect(image_bgr) -> [N, 5]`` (left, top, right, bottom, confidence):

- ``"hog"`` (default): OpenCV's pretrained HOG + linear SVM people detector, which
  ships inside opencv-python and works on real photographs (``hog.py``);
- ``"paddle"``: a small CenterNet-style network trained by the course on its
  synthetic VOC data (``centernet.py``); weights ship in the hub module's assets.

The ``course_pedestrian`` PaddleHub module, the CLI and the fine-tune wrapper
are thin layers over the functions here.
"""
import base64
import binascii
import time
from pathlib import Path

import cv2
import numpy as np

from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.synthetic import make_synthetic_voc, render_scene
from paddle_course.detection.voc import load_voc, read_image
from paddle_course.common.fileio import atomic_path
from paddle_course.common.paths import hub_module_dir

DETECTORS = ("hog", "paddle")
DEFAULT_DETECTOR = "hog"
LABEL = "pedestrian"
SHIPPED_CHECKPOINT = hub_module_dir("course_pedestrian") / "assets" / "pedestrian_centernet.pdparams"


def load_detector(detector=DEFAULT_DETECTOR, checkpoint=None):
    """A detector object by name; ``checkpoint`` (paddle only) defaults to the shipped weights."""
    if detector == "hog":
        if checkpoint is not None:
            raise ValueError("checkpoint= is only used with detector='paddle'")
        from paddle_course.detection.hog import HogPedestrianDetector

        return HogPedestrianDetector()
    if detector == "paddle":
        from paddle_course.detection.centernet import PaddlePedestrianDetector

        return PaddlePedestrianDetector(checkpoint or SHIPPED_CHECKPOINT)
    raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")


def check_image(image, where="image"):
    """Accept a BGR uint8 array [H, W, 3] (as cv2.imread returns), else a ValueError naming it."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array (BGR, as cv2.imread returns), got {type(image).__name__}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"{where}: expected an image of shape [H, W, 3] with H, W >= 8, got {list(image.shape)}")
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def decode_base64_image(text, where="image"):
    """A base64 string (optionally a ``data:image/...;base64,`` URL) -> BGR array, or a clear ValueError."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: expected a non-empty base64 string")
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: not valid base64") from None
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{where}: the decoded bytes are not an image OpenCV can read")
    return image


def draw_detections(image, detections, colour=(0, 200, 0)):
    """A copy of ``image`` with each box and its confidence drawn."""
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 300))
    for item in detections:
        left, top, right, bottom = (int(round(item[k])) for k in ("left", "top", "right", "bottom"))
        cv2.rectangle(canvas, (left, top), (right, bottom), colour, thickness)
        cv2.putText(canvas, f"{item['confidence']:.2f}", (left, max(10, top - 3)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thickness, colour, thickness, cv2.LINE_AA)
    return canvas


def save_image(path, image):
    """Write an image atomically (format from the suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise OSError(f"cannot write {path}")
    return path


def as_records(array, score_thresh):
    """Rows ``[l, t, r, b, conf]`` -> the module's dicts, keeping confidence >= ``score_thresh``."""
    return [{"label": LABEL, "confidence": float(c), "left": float(l), "top": float(t),
             "right": float(r), "bottom": float(b)}
            for l, t, r, b, c in np.asarray(array).reshape(-1, 5) if c >= score_thresh]


def detect_images(detector, images, names, score_thresh=0.5, visualization=False,
                  output_dir="detection_result"):
    """Run ``detector`` on BGR arrays; see ``CoursePedestrian.object_detection`` for the result."""
    results = []
    for index, (image, name) in enumerate(zip(images, names)):
        records = as_records(detector.detect(image), score_thresh)
        save_path = ""
        if visualization:
            stem = Path(name).stem if name else f"image_{index}"
            save_path = str(save_image(Path(output_dir) / f"{stem}.jpg", draw_detections(image, records)))
        results.append({"data": records, "save_path": save_path})
    return results


def evaluate_detector(detector="paddle", voc_dir=None, split="val", samples=None, checkpoint=None,
                      num_images=60, seed=123, score_thresh=0.01):
    """VOC mAP@0.5 and speed of a detector on a held-out set (for tests and bench/hub.py).

    The set is ``samples`` (``[(image_path, boxes), ...]``), else the ``split``
    of ``voc_dir``, else ``num_images`` freshly rendered synthetic scenes from
    ``seed`` (kept in memory; the shipped weights were trained on seed 0, so any
    other seed is held out).

    Returns:
        dict with ``detector``, ``map50``, ``images``, ``images_per_second``
        (detection only, image reading excluded), ``seconds``.
    """
    if isinstance(detector, str):
        detector = load_detector(detector, checkpoint)
    if samples is not None:
        images = [read_image(path) for path, _ in samples]
        truths = [boxes for _, boxes in samples]
    elif voc_dir is not None:
        loaded = load_voc(voc_dir, split)
        images = [read_image(path) for path, _ in loaded]
        truths = [boxes for _, boxes in loaded]
    else:
        rng = np.random.default_rng(seed)
        images, truths = [], []
        for _ in range(num_images):
            image, boxes = render_scene(rng, int(rng.integers(200, 300)), int(rng.integers(260, 380)))
            images.append(image)
            truths.append(np.asarray(boxes, dtype="float32"))
    start = time.perf_counter()
    detections = []
    for image in images:
        rows = np.asarray(detector.detect(image)).reshape(-1, 5)
        detections.append(rows[rows[:, 4] >= score_thresh])
    seconds = time.perf_counter() - start
    return {"detector": getattr(detector, "name", type(detector).__name__),
            "map50": mean_average_precision(detections, truths),
            "images": len(images), "images_per_second": len(images) / max(seconds, 1e-9),
            "seconds": round(seconds, 3)}


def detect_files(paths, detector=DEFAULT_DETECTOR, checkpoint=None, score_thresh=0.5, out_dir=None):
    """Detect pedestrians in image files (the ``paddle-course detect run`` command).

    Returns the module's result list (one dict per file, see
    ``CoursePedestrian.object_detection``) with an extra ``path`` key; with
    ``out_dir`` each file is also saved there with its boxes drawn.
    """
    if not paths:
        raise ValueError("give at least one image file")
    model = load_detector(detector, checkpoint)
    images = [read_image(path) for path in paths]
    results = detect_images(model, images, [str(p) for p in paths], score_thresh,
                            visualization=out_dir is not None, output_dir=out_dir or "detection_result")
    for path, result in zip(paths, results):
        result["path"] = str(path)
    return results


def demo(out_dir, quiet=False, seed=7):
    """The tour's pedestrian lesson: both detectors on two rendered street scenes.

    Saves ``pedestrian_paddle_<i>.jpg`` and ``pedestrian_hog_<i>.jpg`` (boxes
    drawn) into ``out_dir`` and prints what was found. No real photograph of
    pedestrians ships with the course's dependencies (see data/README.md), so
    the HOG detector, made for photographs, is expected to find little in the
    drawn scenes; run ``paddle-course detect run your_photo.jpg`` to see it work.

    Returns:
        dict with ``images``, ``people`` (true count), ``paddle_found``,
        ``paddle_map50``, ``hog_found``, ``hog_map50``, ``files``, ``seconds``.
    """
    from paddle_course.common.progress import say

    start = time.perf_counter()
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    scenes = [render_scene(rng, 240, 320) for _ in range(2)]
    summary = {"images": len(scenes), "people": sum(len(b) for _, b in scenes), "files": []}
    for name in ("paddle", "hog"):
        model = load_detector(name)
        found, detections = 0, []
        for index, (image, boxes) in enumerate(scenes):
            rows = np.asarray(model.detect(image)).reshape(-1, 5)
            records = as_records(rows, 0.5)
            detections.append(rows)
            found += len(records)
            path = save_image(out_dir / f"pedestrian_{name}_{index}.jpg", draw_detections(image, records))
            summary["files"].append(path.name)
            say(f"  {name}: scene {index}: {len(records)} pedestrian(s) found (true: {len(boxes)}), "
                f"saved {path}", quiet)
        summary[f"{name}_found"] = found
        summary[f"{name}_map50"] = round(mean_average_precision(
            detections, [np.asarray(b, dtype="float32") for _, b in scenes]), 3)
    say(f"  mAP@0.5 on these scenes: paddle {summary['paddle_map50']:.2f}, hog {summary['hog_map50']:.2f} "
        "(HOG is made for photographs; try `paddle-course detect run photo.jpg`)", quiet)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    return summary
