"""Reading text in images, as data (course 3.2): what ``course_ocr.recognize_text`` returns.

:func:`recognize_text` checks the inputs, runs a PP-OCRv4 pipeline
(:mod:`paddle_course.ocr.engine`) and optionally saves annotated copies; the hub
module, ``paddle-course ocr run`` and :func:`read_waybill` all call it.
"""
import time
from pathlib import Path

import numpy as np

from paddle_course.common.images import check_image, image_files, read_image, save_image
from paddle_course.ocr.draw import draw_result
from paddle_course.ocr.engine import engine, engine_with_checkpoint, recognize
from paddle_course.ocr.waybill import extract_lines

THRESHOLDS = ("box_thresh", "text_thresh", "angle_classification_thresh")


def collect_images(images=None, paths=None):
    """The hub module's two inputs, checked: a list of (BGR image, source path or None)."""
    if images is None and paths is None:
        raise ValueError("give images (a list of BGR arrays) or paths (a list of image files)")
    collected = []
    for name, value in (("images", images), ("paths", paths)):
        if value is None:
            continue
        if isinstance(value, (str, Path, np.ndarray)):
            raise ValueError(f"{name} must be a list, got a single {type(value).__name__}; wrap it in [...]")
        for i, item in enumerate(value):
            if name == "images":
                collected.append((check_image(item, f"images[{i}]"), None))
            else:
                collected.append((read_image(item), str(item)))
    if not collected:
        raise ValueError("no images given: the list is empty")
    return collected


def visualization_path(output_dir, source, index):
    """``<output_dir>/<name of the input>.jpg``, or ``ndarray_<time>_<i>.jpg`` for arrays."""
    if source:
        stem = Path(source).stem
    else:
        stem = f"ndarray_{time.strftime('%Y%m%d_%H%M%S')}_{index}"
    return Path(output_dir) / f"{stem}.jpg"



def recognize_text(ocr_engine=None, images=None, paths=None, output_dir="ocr_result", visualization=False,
                   box_thresh=0.5, text_thresh=0.5, angle_classification_thresh=0.9):
    """Detect and read the text lines of each image: ``course_ocr.recognize_text``'s result.

    ``ocr_engine``: a PP-OCRv4 pipeline (default :func:`~paddle_course.ocr.engine.engine`).
    Returns one dict per image (arrays first, then files): ``save_path`` (the annotated
    image, "" unless ``visualization``) and ``data`` (the lines top to bottom, each
    ``{"text", "confidence", "text_box_position"}``).
    """
    for name, value in zip(THRESHOLDS, (box_thresh, text_thresh, angle_classification_thresh)):
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    inputs = collect_images(images, paths)
    found = recognize([image for image, _ in inputs], box_thresh=box_thresh, text_thresh=text_thresh,
                      angle_classification_thresh=angle_classification_thresh, ocr_engine=ocr_engine)
    results = []
    for index, ((image, source), lines) in enumerate(zip(inputs, found)):
        save_path = ""
        if visualization:
            target = visualization_path(output_dir, source, index)
            save_path = str(save_image(draw_result(image, lines), target))
        results.append({"save_path": save_path, "data": lines})
    return results


def pipeline(checkpoint=None):
    """PP-OCRv4, with the fine-tuned CRNN of ``checkpoint`` as recognizer if one is given."""
    return engine_with_checkpoint(checkpoint) if checkpoint else engine()


def read_files(paths, out_dir="ocr_result", visualization=True, text_thresh=0.5, checkpoint=None):
    """``paddle-course ocr run``: read image files (folders are expanded); :func:`recognize_text`'s result."""
    return recognize_text(pipeline(checkpoint), paths=image_files(paths), output_dir=str(out_dir),
                          visualization=visualization, text_thresh=text_thresh)


def read_waybill(path, checkpoint=None):
    """``paddle-course ocr waybill``: OCR one waybill photo and extract name, phone and address.

    The OCR lines go to the trained labeller (:func:`paddle_course.ocr.waybill.extract_lines`);
    the rules fill a field it leaves empty.  Returns ``{"lines", "name", "phone", "address"}``
    (a field not found is None).
    """
    result = recognize_text(pipeline(checkpoint), paths=[str(path)])[0]
    lines = [line["text"] for line in result["data"]]
    return {"lines": lines, **extract_lines([lines])[0]}
