"""The Boston lesson end to end (course 1.3-1.5): train any implementation, compare them, predict prices.

The one place that runs the lesson's steps; ``paddle-course boston ...``, the tour and
the data-parallel entry all call it:

* :func:`train` one implementation (NumPy, Paddle dynamic or static graph) -> :class:`TrainResult`;
* :func:`train_and_save`: train (in one process or data-parallel), save, plot the loss
  (``paddle-course boston train``);
* :func:`predict_and_plot`: a saved model's prices for the test houses (``boston predict``);
* :func:`compare` / :func:`compare_and_save`: every implementation against the optimum (``boston compare``);
* :func:`walkthrough`: the tour's Boston stop, all of the above in six steps.

Every implementation starts from the same initial weights (``Network(13, seed)``) and
draws its mini-batches with the same seed, so their results can be compared number
for number, and against the closed-form least-squares optimum.
"""
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from paddle_course.boston.data import Normalizer, check_batch_size, closed_form_solution, linear_mse, load_dataset
from paddle_course.boston import optim
from paddle_course.boston.numpy_net import Network
from paddle_course.boston.optim import PADDLE_TWINS
from paddle_course.common.fileio import atomic_path, write_json, write_text
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
    optimizer: str = "SGD"

    @property
    def label(self):
        return "closed form (lstsq)" if self.impl == "closed-form" else run_label(self.impl, self.batch_size,
                                                                                   self.optimizer)

    @property
    def seconds_per_epoch(self):
        return self.seconds / self.epochs if self.epochs else float("nan")

    def summary(self):
        d = asdict(self)
        for key in ("w", "b", "losses"):
            d.pop(key)
        return d


def run_label(impl, batch_size, optimizer="SGD"):
    """How the lesson names a run: ``NumPy GD``, ``Paddle dynamic SGD b=10``, ``Paddle static Adam b=10``."""
    method = "GD" if batch_size is None and optimizer == "SGD" else optimizer
    if batch_size is not None:
        method += f" b={batch_size}"
    return {"numpy": "NumPy", "dygraph": "Paddle dynamic", "static": "Paddle static"}[impl] + " " + method


def train(impl, dataset=None, epochs=None, batch_size=10, learning_rate=None, seed=0, dtype="float32",
          quiet=True, optimizer="SGD", callback=None):
    """Train one implementation on the Boston data; returns a :class:`TrainResult`.

    ``impl`` is ``numpy``, ``dygraph`` or ``static``; ``batch_size=None`` is
    full-batch gradient descent.  Defaults (epochs, learning rate) are the NumPy
    network's, which reach the least-squares optimum within 1%.  ``optimizer``
    (one of ``optim.PADDLE_TWINS``) replaces the plain step ``w <- w - eta * grad``:
    the NumPy class of :mod:`~paddle_course.boston.optim` for ``numpy``, the
    ``paddle.optimizer`` class of the same name for Paddle.  ``callback(epoch,
    iteration, loss)`` is called after every step (the app draws the curve with it).
    """
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {impl!r}; choose one of {', '.join(IMPLEMENTATIONS)}")
    if optimizer not in PADDLE_TWINS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(PADDLE_TWINS)}")
    dataset = dataset or load_dataset()
    epochs = Network.default_epochs(batch_size) if epochs is None else epochs
    learning_rate = Network.default_eta(batch_size) if learning_rate is None else float(learning_rate)
    net = Network(dataset.training_data.shape[1] - 1, seed=seed)
    start = time.perf_counter()
    if impl == "numpy":
        # plain SGD is the lesson's own update step; the others are course 2's NumPy optimizers
        numpy_optimizer = None if optimizer == "SGD" else getattr(optim, optimizer)(learning_rate=learning_rate)
        losses = net.train(dataset.training_data, epochs, batch_size, learning_rate, seed=seed, quiet=quiet,
                           optimizer=numpy_optimizer, callback=callback)
        w, b = net.w, net.b
    elif impl == "dygraph":
        from paddle_course.boston import paddle_net

        model = paddle_net.Regressor(net.num_inputs, dtype=dtype)
        paddle_net.set_parameters(model, net.w, net.b)
        losses = paddle_net.train_dygraph(model, dataset.training_data, epochs, batch_size, learning_rate,
                                          seed=seed, quiet=quiet, optimizer=optimizer, callback=callback)
        w, b = paddle_net.get_parameters(model)
    else:
        from paddle_course.boston import paddle_net

        w, b, losses = paddle_net.train_static(dataset.training_data, epochs, batch_size, learning_rate,
                                               net.w, net.b, seed=seed, dtype=dtype, quiet=quiet,
                                               optimizer=optimizer, callback=callback)
    seconds = time.perf_counter() - start
    return TrainResult(impl, batch_size, epochs, learning_rate, seed, seconds,
                       linear_mse(w, b, dataset.training_data), linear_mse(w, b, dataset.test_data), w, b, losses,
                       optimizer)


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
        from paddle_course.boston import paddle_net

        model = paddle_net.Regressor(len(result.w), dtype="float32")
        paddle_net.set_parameters(model, result.w, result.b)
        paddle_net.export_model(model, out_dir / INFERENCE_DIR)
    return out_dir


def test_prices(w, b, dataset):
    """The test houses' prices in $1000s as ``(predicted, true)`` for weights ``w``, ``b`` trained on ``dataset``.

    The model predicts normalised prices; ``dataset.stats.price`` turns them back (course 1.3.4).
    """
    predicted = dataset.stats.price(dataset.test_data[:, :-1] @ np.asarray(w) + np.asarray(b))
    return predicted.ravel(), dataset.raw_test[:, -1]


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
        from paddle_course.boston import paddle_net

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


# --- the lesson's commands: each trains, saves what it says, and returns what it measured ---

@dataclass
class TrainingRun:
    """What :func:`train_and_save` did: the result, where it is saved (rank 0 only) and with how many processes."""

    result: TrainResult
    label: str
    optimum: float
    out_dir: Path | None
    files: list
    world_size: int = 1


def train_and_save(out_dir, impl="numpy", data_path=None, epochs=None, batch_size=10, learning_rate=None, seed=0,
                   dtype="float32", export=True, distributed=False, quiet=True):
    """``paddle-course boston train``: train ``impl``, save it into ``out_dir``, plot its loss curve.

    Writes ``params.npz``, ``stats.json``, ``metrics.json``, ``loss.png`` and with
    ``export`` the ``inference/`` model (see :func:`save_run`).  ``distributed=True``
    trains the dynamic graph data-parallel over the ranks of ``python -m
    paddle.distributed.launch`` (one process without it, see
    :mod:`paddle_course.boston.distributed`); only rank 0 writes, adding
    ``distributed.json`` (processes and time per epoch).
    """
    dataset = load_dataset(data_path)
    batch_size = check_batch_size(batch_size)
    run = None
    if distributed:
        if impl != "dygraph":
            raise ValueError(f"--distributed trains the Paddle dynamic-graph model: use --impl dygraph, not {impl}")
        from paddle_course.boston import distributed as data_parallel

        result, run = _train_data_parallel(data_parallel, dataset, epochs, batch_size, learning_rate, seed, dtype,
                                           quiet)
    else:
        say(f"training {impl} on {len(dataset.training_data)} houses "
            f"({'full batch' if batch_size is None else f'batch {batch_size}'})", quiet)
        result = train(impl, dataset, epochs, batch_size, learning_rate, seed, dtype, quiet)
    world_size = run["world_size"] if run else 1
    label = result.label if run is None else f"{result.label}, {run.pop('processes')}"
    optimum = closed_form(dataset).train_mse
    if run is not None and run.pop("rank") != 0:
        return TrainingRun(result, label, optimum, None, [], world_size)  # the same weights: one writer is enough
    out_dir = Path(out_dir)
    save_run(result, dataset, out_dir, export=export)
    files = [PARAMS_FILE, STATS_FILE, METRICS_FILE]
    if run is not None:
        from paddle_course.boston.distributed import DISTRIBUTED_FILE

        write_json(out_dir / DISTRIBUTED_FILE, run)
        files.append(DISTRIBUTED_FILE)
    from paddle_course.boston.figures import plot_loss_curves

    plot_loss_curves({label: result.losses}, out_dir / "loss.png", title=f"{label}: training loss",
                     xlabel="epoch" if batch_size is None else "iteration", optimum=optimum)
    files += ["loss.png"] + ([INFERENCE_DIR + "/"] if export else [])
    return TrainingRun(result, label, optimum, out_dir, files, world_size)


def _train_data_parallel(data_parallel, dataset, epochs, batch_size, learning_rate, seed, dtype, quiet):
    """:func:`train`'s dynamic graph, data-parallel: ``(TrainResult, run information)`` on every rank."""
    epochs = Network.default_epochs(batch_size) if epochs is None else epochs
    learning_rate = Network.default_eta(batch_size) if learning_rate is None else learning_rate
    w, b, losses, run = data_parallel.train_data_parallel(dataset.training_data, epochs, batch_size, learning_rate,
                                                          seed=seed, dtype=dtype, quiet=quiet)
    result = TrainResult("dygraph", batch_size, epochs, learning_rate, seed, run["seconds"],
                         linear_mse(w, b, dataset.training_data), linear_mse(w, b, dataset.test_data), w, b, losses)
    return result, run


def predict_and_plot(model_dir, data_path=None, engine="auto"):
    """``paddle-course boston predict``: :func:`predict_prices` and a figure ``predictions.png`` in ``model_dir``.

    Returns ``(predicted, true, mean absolute error, figure path)``; prices in $1000s.
    """
    from paddle_course.boston.figures import plot_predictions

    predicted, true = predict_prices(model_dir, load_dataset(data_path), engine)
    figure = plot_predictions(true, predicted, Path(model_dir) / "predictions.png")
    return predicted, true, float(np.abs(predicted - true).mean()), figure


def compare_and_save(out_dir, data_path=None, epochs=None, batch_size=10, learning_rate=None, seed=0,
                     dtype="float32", quiet=True):
    """``paddle-course boston compare``: :func:`compare`, then ``comparison.md``, ``.json`` and ``gd_vs_sgd.png``.

    Returns ``(results, markdown table)``.
    """
    from paddle_course.boston.figures import plot_gd_vs_sgd

    results = compare(load_dataset(data_path), epochs, check_batch_size(batch_size), learning_rate, seed, dtype,
                      quiet=quiet)
    table = save_comparison(results, out_dir)
    gd, sgd = results[0], results[1]
    plot_gd_vs_sgd(gd.losses, sgd.losses, results[-1].train_mse, Path(out_dir) / "gd_vs_sgd.png")
    return results, table


def walkthrough(out_dir, quiet=False, epochs=None, batch_size=10, seed=0):
    """The tour's Boston stop: every step of the lesson, narrated; figures and a table into ``out_dir``.

    Returns a summary dict: the optimum, how close GD and SGD come to it, how far the
    Paddle graphs are from NumPy's weights, the test error of the exported model.
    """
    from paddle_course.boston.figures import plot_gd_vs_sgd, plot_predictions

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset()
    say(f"[1/6] data: {dataset.training_data.shape[0]} training and {dataset.test_data.shape[0]} test houses, "
        f"13 features, normalised with training-row statistics", quiet)
    gd, sgd, dygraph, static, optimum = compare(dataset, epochs, batch_size, None, seed, quiet=quiet)
    say(f"[2/6] closed-form least squares (numpy.linalg.lstsq): train MSE {optimum.train_mse:.5f}, "
        f"test MSE {optimum.test_mse:.5f}", quiet)
    say(f"[3/6] NumPy: GD {gd.epochs} epochs -> {gd.train_mse / optimum.train_mse:.4f} x optimum "
        f"({gd.seconds:.2f} s); SGD batch {batch_size}, {sgd.epochs} epochs -> "
        f"{sgd.train_mse / optimum.train_mse:.4f} x optimum ({sgd.seconds:.2f} s)", quiet)
    plot_gd_vs_sgd(gd.losses, sgd.losses, optimum.train_mse, out_dir / "boston_gd_vs_sgd.png",
                   sgd_label=f"mini-batch SGD (batch {batch_size})")
    # Paddle: the same initial weights, epochs and batch order as the NumPy SGD run
    agreement = {r.impl: float(max(np.abs(r.w - sgd.w).max(), np.abs(r.b - sgd.b).max())) for r in (dygraph, static)}
    say(f"[4/6] Paddle, {sgd.epochs} epochs from NumPy's initial weights and batch order: "
        f"dynamic {dygraph.train_mse / optimum.train_mse:.4f} x optimum ({dygraph.seconds:.2f} s), "
        f"static {static.train_mse / optimum.train_mse:.4f} x optimum ({static.seconds:.2f} s); max |param - NumPy| "
        f"dynamic {agreement['dygraph']:.1e}, static {agreement['static']:.1e} (float32)", quiet)
    model_dir = out_dir / "boston_model"
    save_run(dygraph, dataset, model_dir, export=True)
    predicted, true = predict_prices(model_dir, dataset, engine="paddle")
    mae = float(np.abs(predicted - true).mean())
    plot_predictions(true, predicted, out_dir / "boston_predictions.png")
    say(f"[5/6] exported with paddle.jit.save to {model_dir / INFERENCE_DIR}, reloaded with "
        f"paddle.jit.load: test mean absolute error {mae:.2f} ($1000s); first house predicted "
        f"{predicted[0]:.1f}, true {true[0]:.1f}", quiet)
    table = save_comparison([gd, sgd, dygraph, static, optimum], out_dir / "boston_comparison")
    say("[6/6] comparison with the least-squares optimum:\n" + table, quiet)
    return {
        "optimum_train_mse": optimum.train_mse,
        "gd_ratio": gd.train_mse / optimum.train_mse,
        "sgd_ratio": sgd.train_mse / optimum.train_mse,
        "paddle_vs_numpy_max_abs_diff": agreement,
        "test_mae_thousands": mae,
        "figures": ["boston_gd_vs_sgd.png", "boston_predictions.png"],
    }
