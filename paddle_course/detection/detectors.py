"""The two pedestrian detectors by name (course 3.2): ``load_detector("hog" | "paddle", checkpoint)``.

Both answer ``detect(image_bgr) -> [N, 5]`` (left, top, right, bottom, confidence):

- ``"hog"`` (default): OpenCV's pretrained HOG + linear SVM people detector, which
  ships inside opencv-python and works on real photographs (``hog.py``);
- ``"paddle"``: a small CenterNet-style network trained by the course on its
  synthetic VOC data (``centernet.py``); weights ship in the hub module's assets.

Importing this module imports neither OpenCV nor Paddle (the CLI's ``--help`` reads
the names from here).
"""
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
