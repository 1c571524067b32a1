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
    return summary


def result_lines(summary, out_dir):
    """What the tour found, in a few lines (printed with or without ``--quiet``: quiet means no progress,
    not no result).  Every number is from ``summary`` (``summary.json``)."""
    out_dir = Path(out_dir)
    files = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    lines = [f"tour finished in {summary.get('seconds', '?')} s; {len(files)} files in {out_dir}/ "
             f"(summary.json has every number)"]
    boston = summary.get("boston", {})
    if boston:
        diffs = boston.get("paddle_vs_numpy_max_abs_diff", {})
        lines.append(f"  Boston (1.3-1.5): GD ends at {boston.get('gd_ratio', float('nan')):.4f} x and SGD at "
                     f"{boston.get('sgd_ratio', float('nan')):.4f} x the least-squares optimum; Paddle's weights = "
                     f"NumPy's to {max(diffs.values(), default=float('nan')):.1e}; test houses off by "
                     f"${boston.get('test_mae_thousands', float('nan')):.2f}k on average -> "
                     + ", ".join(boston.get("figures", [])))
    sentiment = summary.get("sentiment")
    if sentiment:
        results = sentiment.get("results", [])
        positive = sum(r.get("sentiment_label", 0) for r in results)
        lines.append(f"  sentiment (3.2): {len(results)} reviews, {positive} read as positive -> "
                     f"{Path(sentiment.get('figure', '')).name}")
    detection = summary.get("detection")
    if detection:
        scores = ", ".join(f"{key[:-len('_map50')]} {value:.2f}" for key, value in detection.items()
                           if key.endswith("_map50"))
        real = detection.get("real_people")
        found = ", ".join(f"{key[:-len('_found_real')]} {value}" for key, value in detection.items()
                          if key.endswith("_found_real"))
        lines.append(f"  pedestrians (3.2): mAP@0.5 {scores} on {detection.get('images')} drawn scenes "
                     f"({detection.get('people')} people)"
                     + (f"; on a real video frame with {real} hand-boxed people, boxes scored >= 0.5: {found}" if real else "")
                     + " -> pedestrian_*.jpg")
    ocr = summary.get("ocr")
    if ocr:
        fields, expected = ocr.get("fields", {}), ocr.get("expected", {})
        right = sum(fields.get(key) == value for key, value in expected.items())
        lines.append(f"  waybill OCR (3.2): {right} of {len(expected)} fields read right ("
                     + ", ".join(f"{key} {fields.get(key)}" for key in expected) + f") -> "
                     f"{Path(ocr.get('save_path', '')).name}")
    return lines
