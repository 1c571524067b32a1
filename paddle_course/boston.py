"""The Boston lesson end to end: train any implementation, compare them, predict prices.

This is what ``paddle-course boston ...`` and the tour call.  Every
implementation starts from the same initial weights (``Network(13, seed)``) and
draws its mini-batches with the same seed, so their results can be compared
number for number, and against the closed-form least-squares optimum.
"""
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from paddle_course.data import Normalizer, closed_form_solution, load_dataset, split_xy
from paddle_course.common.fileio import atomic_path, write_json, write_text
from paddle_course.numpy_net import Network
from paddle_course.common.progress import say

IMPLEMENTATIONS = ("numpy", "dygraph", "static")
PARAMS_FILE = "params.npz"
STATS_FILE = "stats.json"
METRICS_FILE = "metrics.json"
INFERENCE_DIR = "inference"


@dataclass
class TrainResult:
    """One trained model and how it did."""

    impl: str
    batch_size: int | None
    epochs: int
    learning_rate: float
    seed: int
    seconds: float
    train_mse: float
    test_mse: float
    w: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)
    losses: list = field(repr=False)

    @property
    def label(self):
        if self.impl == "closed-form":
            return "closed form (lstsq)"
        method = "GD" if self.batch_size is None else f"SGD b={self.batch_size}"
        return {"numpy": f"NumPy {method}", "dygraph": f"Paddle dynamic {method}",
                "static": f"Paddle static {method}"}[self.impl]

    @property
    def seconds_per_epoch(self):
        return self.seconds / self.epochs if self.epochs else float("nan")

    def summary(self):
        d = asdict(self)
        for key in ("w", "b", "losses"):
            d.pop(key)
        return d


def linear_mse(w, b, data):
    """Mean squared error of ``z = x w + b`` on normalised rows (last column the target)."""
    x, y = split_xy(data)
    return float(np.mean((x @ w + b - y) ** 2))


def train(impl, dataset=None, epochs=None, batch_size=10, learning_rate=None, seed=0, dtype="float32",
          quiet=True):
    """Train one implementation on the Boston data; returns a :class:`TrainResult`.

    ``impl`` is ``numpy``, ``dygraph`` or ``static``; ``batch_size=None`` is
    full-batch gradient descent.  Defaults (epochs, learning rate) are the NumPy
    network's, which reach the least-squares optimum within 1%.
    """
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {impl!r}; choose one of {', '.join(IMPLEMENTATIONS)}")
    dataset = dataset or load_dataset()
    epochs = Network.default_epochs(batch_size) if epochs is None else epochs
    learning_rate = Network.default_eta(batch_size) if learning_rate is None else learning_rate
    net = Network(dataset.training_data.shape[1] - 1, seed=seed)
    start = time.perf_counter()
    if impl == "numpy":
        losses = net.train(dataset.training_data, epochs, batch_size, learning_rate, seed=seed, quiet=quiet)
        w, b = net.w, net.b
    elif impl == "dygraph":
        from paddle_course import paddle_net

        model = paddle_net.Regressor(net.num_inputs, dtype=dtype)
        paddle_net.set_parameters(model, net.w, net.b)
        losses = paddle_net.train_dygraph(model, dataset.training_data, epochs, batch_size, learning_rate,
                                          seed=seed, quiet=quiet)
        w, b = paddle_net.get_parameters(model)
    else:
        from paddle_course import paddle_net

        w, b, losses = paddle_net.train_static(dataset.training_data, epochs, batch_size, learning_rate,
                                               net.w, net.b, seed=seed, dtype=dtype, quiet=quiet)
    seconds = time.perf_counter() - start
    return TrainResult(impl, batch_size, epochs, learning_rate, seed, seconds,
                       linear_mse(w, b, dataset.training_data), linear_mse(w, b, dataset.test_data), w, b, losses)


def closed_form(dataset=None):
    """The least-squares optimum as a :class:`TrainResult` row (no epochs, no losses)."""
    dataset = dataset or load_dataset()
    start = time.perf_counter()
    w, b, train_mse = closed_form_solution(dataset.training_data)
    seconds = time.perf_counter() - start
    return TrainResult("closed-form", None, 0, 0.0, 0, seconds, train_mse, linear_mse(w, b, dataset.test_data), w, b, [])


def save_run(result, dataset, out_dir, export=True):
    """Save a trained model: weights, normalisation statistics, metrics, and for Paddle an inference model.

    ``out_dir/params.npz`` holds ``w`` and ``b``; ``stats.json`` the training-row
    statistics that turn predictions back into prices; ``metrics.json`` the
    result summary; with ``export`` the weights are also saved with
    ``paddle.jit.save`` in ``out_dir/inference`` (for ``boston predict``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / PARAMS_FILE) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, w=result.w, b=result.b)
    write_json(out_dir / STATS_FILE, dataset.stats.to_dict())
    write_json(out_dir / METRICS_FILE, result.summary())
    if export:
        from paddle_course import paddle_net

        model = paddle_net.Regressor(len(result.w), dtype="float32")
        paddle_net.set_parameters(model, result.w, result.b)
        paddle_net.export_model(model, out_dir / INFERENCE_DIR)
    return out_dir


def predict_prices(model_dir, dataset=None, engine="auto"):
    """Predict the test houses' prices with a saved model, in $1000s.

    ``engine="paddle"`` loads ``model_dir/inference`` with ``paddle.jit.load``;
    ``"numpy"`` uses ``params.npz``; ``"auto"`` prefers the Paddle export.
    Returns ``(predicted, true)`` arrays of prices.
    """
    model_dir = Path(model_dir)
    if not (model_dir / STATS_FILE).is_file():
        raise FileNotFoundError(f"{model_dir}: not a saved model (no {STATS_FILE}); "
                                "train one with `paddle-course boston train --out DIR`")
    stats = Normalizer.from_dict(json.loads((model_dir / STATS_FILE).read_text(encoding="utf-8")))
    if dataset is None:
        dataset = load_dataset()
    x_test = stats.transform_features(dataset.raw_test[:, :-1])
    if engine not in ("auto", "paddle", "numpy"):
        raise ValueError(f"engine must be auto, paddle or numpy, got {engine!r}")
    if engine == "paddle" or (engine == "auto" and (model_dir / INFERENCE_DIR).is_dir()):
        from paddle_course import paddle_net

        y_norm = paddle_net.predict(paddle_net.load_model(model_dir / INFERENCE_DIR), x_test)
    else:
        if not (model_dir / PARAMS_FILE).is_file():
            raise FileNotFoundError(f"{model_dir}: no {PARAMS_FILE} to predict with")
        params = np.load(model_dir / PARAMS_FILE)
        y_norm = x_test @ params["w"] + params["b"]
    return stats.price(y_norm).ravel(), dataset.raw_test[:, -1]


def compare(dataset=None, epochs=None, batch_size=10, learning_rate=None, seed=0, dtype="float32",
            gd_epochs=None, quiet=True):
    """Train NumPy GD, NumPy SGD, Paddle dynamic and Paddle static from the same start; add the optimum.

    Returns the list of :class:`TrainResult` (closed form last).
    """
    dataset = dataset or load_dataset()
    results = [train("numpy", dataset, gd_epochs, None, None, seed, quiet=quiet)]
    for impl in IMPLEMENTATIONS:
        results.append(train(impl, dataset, epochs, batch_size, learning_rate, seed, dtype, quiet=quiet))
        say(f"  {results[-1].label:<28} train MSE {results[-1].train_mse:.5f}  "
            f"({results[-1].seconds:.2f} s)", quiet)
    results.append(closed_form(dataset))
    return results


def comparison_table(results):
    """A markdown table of results against the least-squares optimum and the NumPy SGD weights."""
    optimum = next(r for r in results if r.impl == "closed-form").train_mse
    numpy_runs = [r for r in results if r.impl == "numpy"]
    lines = [
        "| implementation | epochs | seconds | s/epoch | train MSE | test MSE | train MSE / optimum | max abs diff of w,b vs NumPy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        diff = "-"
        # a Paddle run is compared with the NumPy run of the same batch size and length
        reference = next((n for n in numpy_runs if (n.batch_size, n.epochs) == (r.batch_size, r.epochs)), None)
        if reference is not None and r.impl in ("dygraph", "static"):
            diff = f"{max(np.abs(r.w - reference.w).max(), np.abs(r.b - reference.b).max()):.2e}"
        per_epoch = f"{r.seconds_per_epoch:.4f}" if r.epochs else "-"
        lines.append(f"| {r.label} | {r.epochs or '-'} | {r.seconds:.3f} | {per_epoch} | {r.train_mse:.5f} | "
                     f"{r.test_mse:.5f} | {r.train_mse / optimum:.4f} | {diff} |")
    return "\n".join(lines)


def save_comparison(results, out_dir):
    """Write ``comparison.md`` and ``comparison.json`` into ``out_dir``; returns the markdown."""
    out_dir = Path(out_dir)
    table = comparison_table(results)
    write_text(out_dir / "comparison.md", table + "\n")
    write_json(out_dir / "comparison.json", [dict(r.summary(), label=r.label) for r in results])
    return table
