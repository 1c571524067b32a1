"""The tour's pedestrian stop (course 3.2): the photo detector and HOG on a real frame, the CenterNet
and HOG on two rendered street scenes."""
import time
from pathlib import Path

import numpy as np

from paddle_course.common.images import save_image
from paddle_course.common.progress import say
from paddle_course.detection.detectors import load_detector
from paddle_course.detection.draw import draw_detections
from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.predict import as_records
from paddle_course.detection.synthetic import render_scene


def demo(out_dir, quiet=False, seed=7):
    """Both detectors on two rendered street scenes; the drawn scenes saved into ``out_dir``.

    Saves ``pedestrian_paddle_<i>.jpg`` and ``pedestrian_hog_<i>.jpg`` (boxes
    drawn) into ``out_dir`` and says what was found. No real photograph of
    pedestrians ships with the course's dependencies (see data/README.md), so
    the HOG detector, made for photographs, is expected to find little in the
    drawn scenes; run ``paddle-course detect run your_photo.jpg`` to see it work.

    Returns:
        dict with ``images``, ``people`` (true count), ``paddle_found``,
        ``paddle_map50``, ``hog_found``, ``hog_map50``, ``files``, ``seconds``.
    """
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
            path = save_image(draw_detections(image, records), out_dir / f"pedestrian_{name}_{index}.jpg")
            summary["files"].append(path.name)
            say(f"  {name}: scene {index}: {len(records)} pedestrian(s) found (true: {len(boxes)}), "
                f"saved {path}", quiet)
        summary[f"{name}_found"] = found
        summary[f"{name}_map50"] = round(mean_average_precision(
            detections, [np.asarray(b, dtype="float32") for _, b in scenes]), 3)
    say(f"  mAP@0.5 on these scenes: paddle {summary['paddle_map50']:.2f}, hog {summary['hog_map50']:.2f} "
        "(HOG is made for photographs; try `paddle-course detect run photo.jpg`)", quiet)
    summary.update(real_frame(out_dir, quiet))
    summary["seconds"] = round(time.perf_counter() - start, 1)
    return summary


def real_frame(out_dir, quiet=False, image_id="vtest_0507"):
    """The photo detector (the default) and HOG on one hand-boxed frame of ``data/pedestrian``
    (from the held-out second half of vtest.avi); the drawn frames go to ``out_dir``.

    Returns:
        dict with ``real_people`` (hand-boxed, difficult ones excluded), ``photo_found_real``,
        ``hog_found_real`` (boxes with confidence >= 0.5) and the files in ``real_files``.
    """
    from paddle_course.common.images import read_image
    from paddle_course.common.paths import data_path
    from paddle_course.detection.voc import read_voc_annotation

    voc = data_path("pedestrian")
    image = read_image(voc / "JPEGImages" / f"{image_id}.jpg")
    _, difficult = read_voc_annotation(voc / "Annotations" / f"{image_id}.xml", image.shape, with_difficult=True)
    summary = {"real_people": int((~difficult).sum()), "real_files": []}
    for name in ("photo", "hog"):
        records = as_records(load_detector(name).detect(image), 0.5)
        path = save_image(draw_detections(image, records), Path(out_dir) / f"pedestrian_real_{name}.jpg")
        summary[f"{name}_found_real"] = len(records)
        summary["real_files"].append(path.name)
        say(f"  {name} on a real frame ({image_id}.jpg of vtest.avi): {len(records)} pedestrian(s) found "
            f"(hand-boxed: {summary['real_people']}), saved {path}", quiet)
    return summary
