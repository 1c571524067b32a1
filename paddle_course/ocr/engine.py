"""The PP-OCRv4 pipeline, offline: detect text boxes, straighten them, read each line (course 3.2).

The three networks of PaddleOCR's pipeline run as ONNX models shipped inside the
``rapidocr-onnxruntime`` wheel (exported from PaddleOCR, Apache-2.0):

1. detection  ``ch_PP-OCRv4_det``  (DB: a probability map of "this pixel is text",
   thresholded and expanded into 4-point boxes);
2. direction  ``ch_ppocr_mobile_v2.0_cls`` (is the crop upside down? 0 / 180 degrees);
3. recognition ``ch_PP-OCRv4_rec`` (an SVTR-LCNet + CTC reading 6623 characters).

:func:`engine` gives that pipeline itself; :func:`engine_with_checkpoint` the same
with the course's fine-tuned CRNN as recognizer; :func:`recognize` adapts the
pipeline's answer to PaddleHub's ``chinese_ocr_db_crnn_mobile`` format.
"""
import functools
import os


def _default_threads():
    """onnxruntime ignores OMP_NUM_THREADS; honour it so shared CPUs stay polite."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else -1


@functools.lru_cache(maxsize=4)
def engine(num_threads=None):
    """The underlying PP-OCRv4 pipeline: ``rapidocr_onnxruntime.RapidOCR``.

    Call it directly to measure the hub module's overhead::

        result, elapse = paddle_course.ocr.engine.engine()(image_bgr)
        # result: [[box (4 x [x, y]), text, score], ...] or None

    One instance per thread count is kept, so models load once per process.
    ``num_threads`` defaults to ``$OMP_NUM_THREADS`` (or all cores if unset).
    """
    from rapidocr_onnxruntime import RapidOCR

    threads = _default_threads() if num_threads is None else int(num_threads)
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)


def recognize(images, box_thresh=0.5, text_thresh=0.5, angle_classification_thresh=0.9, ocr_engine=None):
    """Read every image; one list of lines per image, PaddleHub's format.

    Args:
        images: list of BGR ``uint8`` arrays of shape (H, W, 3), already checked.
        box_thresh: minimum mean DB probability inside a detected box.
        text_thresh: minimum recognition confidence (mean CTC character probability)
            for a line to be kept.
        angle_classification_thresh: a crop is turned by 180 degrees only when the
            direction classifier is at least this sure.
        ocr_engine: a ``RapidOCR``-like callable, default ``engine()``; the hub module
            passes one whose recognizer is a fine-tuned CRNN when given a checkpoint.

    Returns:
        list (one per image) of lists of ``{"text", "confidence", "text_box_position"}``;
        ``text_box_position`` is ``[[x, y]] * 4`` in pixels, clockwise from top-left.
    """
    ocr_engine = ocr_engine or engine()
    ocr_engine.text_cls.cls_thresh = angle_classification_thresh
    results = []
    for image in images:
        lines, _ = ocr_engine(image, box_thresh=box_thresh, text_score=text_thresh)
        results.append([
            {
                "text": text,
                "confidence": float(score),
                "text_box_position": [[int(round(x)), int(round(y))] for x, y in box],
            }
            for box, text, score in (lines or [])
        ])
    return results



def engine_with_checkpoint(checkpoint, num_threads=None):
    """A fresh PP-OCRv4 pipeline whose recognizer is the CRNN in ``checkpoint`` (``paddle-course finetune ocr``)."""
    from rapidocr_onnxruntime import RapidOCR

    from paddle_course.ocr.crnn import PaddleLineRecognizer

    threads = _default_threads() if num_threads is None else int(num_threads)
    pipeline = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)
    pipeline.text_rec = PaddleLineRecognizer(checkpoint)
    return pipeline
