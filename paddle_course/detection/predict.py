"""Pedestrian detection that returns data (course 3.2): what ``course_pedestrian.object_detection`` returns.

A result is one dict per image: ``data`` (one dict per pedestrian: ``label``,
``confidence``, ``left``, ``top``, ``right``, ``bottom`` in pixels) and ``save_path``
(the drawn image, or "").
"""
from pathlib import Path

import numpy as np

from paddle_course.common.images import image_files, read_image, save_image
from paddle_course.detection.detectors import DEFAULT_DETECTOR, LABEL, load_detector


def as_records(array, score_thresh):
    """Rows ``[l, t, r, b, conf]`` -> the module's dicts, keeping confidence >= ``score_thresh``."""
    return [{"label": LABEL, "confidence": float(c), "left": float(l), "top": float(t),
             "right": float(r), "bottom": float(b)}
            for l, t, r, b, c in np.asarray(array).reshape(-1, 5) if c >= score_thresh]


WEAK_SCORE = 0.2  # boxes from here up to score_thresh are counted (not shown): the photo detector scores
                  # people in vtest frames 0.2-0.5, so at the default 0.5 a learner would see some and not know why


def detect_images(detector, images, names, score_thresh=0.5, visualization=False,
                  output_dir="detection_result", weaker_from=None):
    """Run ``detector`` on BGR arrays; see ``CoursePedestrian.object_detection`` for the result.

    With ``weaker_from`` (a score) each result also has ``weaker``: how many boxes scored from
    ``weaker_from`` up to ``score_thresh`` the threshold hides (they are neither returned nor drawn).
    """
    low = score_thresh if weaker_from is None else min(weaker_from, score_thresh)
    results = []
    for index, (image, name) in enumerate(zip(images, names)):
        found = as_records(detector.detect(image), low)
        records = [record for record in found if record["confidence"] >= score_thresh]
        save_path = ""
        if visualization:
            from paddle_course.detection.draw import draw_detections

            stem = Path(name).stem if name else f"image_{index}"
            save_path = str(save_image(draw_detections(image, records), Path(output_dir) / f"{stem}.jpg"))
        results.append({"data": records, "save_path": save_path})
        if weaker_from is not None:
            results[-1]["weaker"] = len(found) - len(records)
    return results


def detect_files(paths, detector=DEFAULT_DETECTOR, checkpoint=None, score_thresh=0.5, out_dir=None, **options):
    """Detect pedestrians in image files (``paddle-course detect run``); a folder stands for its images.

    Returns the module's result list (one dict per file, see
    ``CoursePedestrian.object_detection``) with two extra keys, ``path`` and ``weaker`` (boxes
    scored from :data:`WEAK_SCORE` up to ``score_thresh``, hidden by the threshold); with
    ``out_dir`` each file is also saved there with its boxes drawn. ``options``
    (``engine``, ``size``, ``tiles``) go to the photo detector (``load_detector``).
    """
    if not paths:
        raise ValueError("give at least one image file")
    paths = image_files(paths)
    images = [read_image(path) for path in paths]  # a bad file is reported before the detector loads
    model = load_detector(detector, checkpoint, **options)
    results = detect_images(model, images, [str(p) for p in paths], score_thresh,
                            visualization=out_dir is not None, output_dir=out_dir or "detection_result",
                            weaker_from=WEAK_SCORE)
    for path, result in zip(paths, results):
        result["path"] = str(path)
    return results
