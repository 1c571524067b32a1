"""How good a pedestrian detector is: VOC mAP@0.5 and images per second on a held-out set (course 3.2)."""
import time

import numpy as np

from paddle_course.common.images import read_image
from paddle_course.detection.detectors import load_detector
from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.synthetic import render_scene
from paddle_course.detection.voc import load_voc


def held_out_set(voc_dir=None, split="val", samples=None, num_images=60, seed=123):
    """``(images, true boxes)``: ``samples`` (``[(image_path, boxes), ...]``), else the ``split`` of
    ``voc_dir``, else ``num_images`` freshly rendered scenes from ``seed``."""
    if samples is None and voc_dir is not None:
        samples = load_voc(voc_dir, split)
    if samples is not None:
        return [read_image(path) for path, _ in samples], [boxes for _, boxes in samples]
    rng = np.random.default_rng(seed)
    images, truths = [], []
    for _ in range(num_images):
        image, boxes = render_scene(rng, int(rng.integers(200, 300)), int(rng.integers(260, 380)))
        images.append(image)
        truths.append(np.asarray(boxes, dtype="float32"))
    return images, truths


def _timed_detections(detector, images, score_thresh):
    """Each image's ``[x1, y1, x2, y2, score]`` rows at or above ``score_thresh``, and the seconds the
    detection took (image reading excluded)."""
    start = time.perf_counter()
    detections = []
    for image in images:
        rows = np.asarray(detector.detect(image)).reshape(-1, 5)
        detections.append(rows[rows[:, 4] >= score_thresh])
    return detections, time.perf_counter() - start


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
    images, truths = held_out_set(voc_dir, split, samples, num_images, seed)
    detections, seconds = _timed_detections(detector, images, score_thresh)
    return {"detector": getattr(detector, "name", type(detector).__name__),
            "map50": mean_average_precision(detections, truths),
            "images": len(images), "images_per_second": len(images) / max(seconds, 1e-9),
            "seconds": round(seconds, 3)}


def map50_on(detector, images, truths, score_thresh=0.01):
    """VOC mAP@0.5 of ``detector.detect`` over the whole set of ``images`` (not an average over batches).

    The one measurement of the course: ``detect evaluate``, the fine-tune's choice of epoch and
    its before/after report all call it, so they print the same number for the same weights.
    """
    detections, _ = _timed_detections(detector, images, score_thresh)
    return mean_average_precision(detections, truths)


def evaluate_on_voc(detector, voc_dir, split="eval", checkpoint=None, score_thresh=0.01):
    """A detector on a hand-boxed VOC split with VOC ``difficult`` boxes ignored (issue 12's
    real set is ``data/pedestrian``, split ``eval``).

    Returns:
        dict with ``detector``, ``map50``, ``recall_at_1fp`` (share of people found with at
        most 1 false box per image), ``people`` (counted boxes), ``images``,
        ``images_per_second`` (detection only), ``seconds``.
    """
    from paddle_course.detection.metrics import recall_at_false_boxes

    if isinstance(detector, str):
        detector = load_detector(detector, checkpoint)
    samples = load_voc(voc_dir, split, with_difficult=True)
    images = [read_image(path) for path, _, _ in samples]
    truths, difficult = [s[1] for s in samples], [s[2] for s in samples]
    detections, seconds = _timed_detections(detector, images, score_thresh)
    return {"detector": getattr(detector, "name", type(detector).__name__),
            "map50": mean_average_precision(detections, truths, difficult=difficult),
            "recall_at_1fp": recall_at_false_boxes(detections, truths, difficult),
            "people": int(sum((~d).sum() for d in difficult)), "images": len(images),
            "images_per_second": len(images) / max(seconds, 1e-9), "seconds": round(seconds, 3)}
