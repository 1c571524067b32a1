"""Pedestrian detectors on real photographs (issue 12), measured in one run.

    python bench/pedestrian.py              # every row
    python bench/pedestrian.py --no-tiles   # without the slow 2x2-tile rows

On ``data/pedestrian`` split ``eval`` (48 hand-boxed vtest.avi frames + 4 opencv-doc photos;
VOC ``difficult`` boxes ignored) each detector gets mAP@0.5, recall at <= 1 false box per image
and images/s (detection only, 768x576 frames are most of the set), with its ratio to HOG.
Rows: HOG (the classic baseline), the course's CenterNet, the photo detector in dygraph and
through Paddle Inference, and both with 2x2 tiles. images/s is wall clock (detection only); on a
shared machine read it with the load average printed around the table. "CPU s/img" is the
process's CPU time per image (all threads, JPEG decoding included), which the neighbours move less. ``messi5`` (split ``extra``) is
reported on its own line (its defocused crowd is not boxed).

Targets (issue 12): photo mAP@0.5 >= 0.7 and >= 3x HOG; >= 10 images/s at 768x576 with
Paddle Inference on 2 cores.
"""
import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np  # noqa: E402

from paddle_course.common.paths import data_path  # noqa: E402
from paddle_course.detection.detectors import load_detector  # noqa: E402
from paddle_course.detection.evaluate import evaluate_on_voc  # noqa: E402


def detectors(tiles, cache):
    rows = [("hog", lambda: load_detector("hog")),
            ("centernet (paddle)", lambda: load_detector("paddle")),
            ("photo dygraph", lambda: load_detector("photo")),
            ("photo inference", lambda: load_detector("photo", engine="inference", inference_dir=cache))]
    if tiles:
        rows += [("photo dygraph + tiles", lambda: load_detector("photo", tiles=(2, 2))),
                 ("photo inference + tiles",
                  lambda: load_detector("photo", engine="inference", tiles=(2, 2), inference_dir=cache))]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-tiles", action="store_true", help="skip the 2x2-tile rows")
    args = parser.parse_args(argv)
    voc = data_path("pedestrian")
    cache = os.path.join(tempfile.mkdtemp(prefix="bench_pedestrian_"), "photo_inference")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}", flush=True)
    header = (f"{'detector':26s} {'mAP@0.5':>8s} {'x HOG':>6s} {'recall@1fp':>10s} {'x HOG':>6s} "
              f"{'images/s':>8s} {'x HOG':>6s} {'CPU s/img':>9s}   messi5 AP")
    print(header, flush=True)
    hog = None
    for name, make in detectors(not args.no_tiles, cache):
        detector = make()
        detector.detect(np.zeros((576, 768, 3), "uint8"))   # warm-up (and the inference export), not timed
        cpu = time.process_time()
        r = evaluate_on_voc(detector, voc, "eval")
        cpu = (time.process_time() - cpu) / r["images"]
        extra = evaluate_on_voc(detector, voc, "extra")
        hog = hog or r
        print(f"{name:26s} {r['map50']:8.3f} {r['map50'] / max(hog['map50'], 1e-9):6.1f} "
              f"{r['recall_at_1fp']:10.3f} {r['recall_at_1fp'] / max(hog['recall_at_1fp'], 1e-9):6.1f} "
              f"{r['images_per_second']:8.2f} {r['images_per_second'] / hog['images_per_second']:6.2f} {cpu:9.3f}   "
              f"{extra['map50']:.3f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"\n{hog['images']} images, {hog['people']} people counted (difficult boxes ignored)")


if __name__ == "__main__":
    main()
