"""``paddle-course tour``: the whole course in one command, figures in one folder.

1. Boston house prices (course 1.3-1.5): the data, the closed-form optimum, NumPy
   full-batch GD and mini-batch SGD, the Paddle dynamic and static graphs from the
   same start, export with ``paddle.jit.save``, reload and predict prices
   (:func:`paddle_course.boston.lesson.walkthrough`).
2. The PaddleHub demos (course 3.2): Chinese sentiment, pedestrian detection, OCR of a
   waybill, each a real model running offline (each package's ``demo``).
"""
import time
from pathlib import Path

from paddle_course.common.fileio import write_json
from paddle_course.common.hub import REGISTRY
from paddle_course.common.progress import say


def _hub_demos():
    """``(title, summary key, demo function)`` in the order of course section 3.2; each demo takes ``(out_dir, quiet)``."""
    from paddle_course.detection.demo import demo as detection_demo
    from paddle_course.ocr.demo import demo as ocr_demo
    from paddle_course.sentiment.demo import demo as sentiment_demo

    demos = (
        ("course_sentiment", "a Paddle BiLSTM over characters and bigrams", "sentiment", sentiment_demo),
        ("course_pedestrian", "SSDLite photo detector, OpenCV HOG and a Paddle CenterNet", "detection",
         detection_demo),
        ("course_ocr", "PP-OCRv4 detection, direction and recognition", "ocr", ocr_demo),
    )
    return tuple((f"Course {REGISTRY[name].lesson} ({name}: {model})", key, demo) for name, model, key, demo in demos)


def run_tour(out_dir="tour_output", quiet=False, skip_hub=False):
    """Run every lesson; write figures and ``summary.json`` into ``out_dir``; returns the summary."""
    from paddle_course.boston.lesson import walkthrough

    out_dir = Path(out_dir)
    start = time.perf_counter()
    say(f"== Boston house prices (NumPy and PaddlePaddle) -> {out_dir}/", quiet)
    summary = {"boston": walkthrough(out_dir, quiet=quiet)}
    if not skip_hub:
        for title, key, demo in _hub_demos():
            say(f"\n== {title}", quiet)
            summary[key] = demo(out_dir, quiet=quiet)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    write_json(out_dir / "summary.json", summary)
    say(f"\ntour finished in {summary['seconds']} s; figures and tables are in {out_dir}/", quiet)
    return summary
