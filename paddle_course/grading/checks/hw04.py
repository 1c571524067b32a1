"""Checks of homework 4: the Boston regressor as a ``paddle.nn.Layer`` and its training loop.

The learner's model starts from the same weights as a NumPy run and trains on
the same mini-batches; the expected parameters come from replaying SGD in NumPy
(:mod:`paddle_course.grading.replay`, the formulas of
``paddle_course.numpy_net.Network``), so Paddle's autograd is checked against
the hand-derived gradient of course 1.3.  Paddle runs only in the child (imported
before the clock starts, ``preload``): the checks send arrays and read arrays back, and
need no Paddle themselves.
"""
import numpy as np

from paddle_course.grading.framework import (Assignment, CheckFailed, as_array, as_losses, check, expect_close,
                                             expect_true, get_function, show)
from paddle_course.grading.remote import fetch, keep, remote_isinstance, to_tensor
from paddle_course.grading.replay import epoch_orders, replay_sgd

ASSIGNMENT = Assignment(
    id="hw04",
    folder="hw04_paddle_rewrite",
    title="The Boston regressor in PaddlePaddle (用飞桨重写房价预测)",
    covers="Regressor(paddle.nn.Layer) with self.fc = Linear(13, 1) and its dygraph training loop "
    "(SGD, mean squared error, backward/step/clear_grad), checked against NumPy SGD from the same start.",
    check_timeout=60.0,
    preload=("paddle",),
    memory_limit_mb=4096,  # Paddle maps ~2 GB of address space while training
)

# float32 in Paddle against float64 in NumPy
RTOL, ATOL = 1e-4, 1e-5


def _model(module, num_inputs):
    Regressor = get_function(module, "Regressor")
    model = Regressor(num_inputs)
    expect_true(remote_isinstance(model, "paddle.nn.Layer"), "Regressor must subclass paddle.nn.Layer "
                "(class Regressor(paddle.nn.Layer) and super().__init__() first)")
    fc = getattr(model, "fc", None)
    expect_true(remote_isinstance(fc, "paddle.nn.Linear"), "the model has no Linear layer self.fc: "
                "self.fc = paddle.nn.Linear(in_features=num_inputs, out_features=1)", received=show(fc))
    shape = tuple(fc.weight.shape)
    expect_true(shape == (num_inputs, 1),
                f"self.fc.weight has shape {shape}, expected ({num_inputs}, 1): Linear(in_features=num_inputs, "
                "out_features=1) maps num_inputs features to one price"
                + (" (the two sizes are swapped)" if shape == (1, num_inputs) else ""),
                expected=f"({num_inputs}, 1)", received=str(shape))
    return model


def _set_parameters(model, w, b):
    fc = model.fc
    fc.weight.set_value(to_tensor(np.asarray(w, dtype="float32").reshape(fc.weight.shape)))
    fc.bias.set_value(to_tensor(np.asarray(b, dtype="float32").reshape(fc.bias.shape)))


def _get_parameters(model):
    fc = model.fc
    return (fc.weight.numpy().astype(np.float64).reshape(-1, 1),
            fc.bias.numpy().astype(np.float64).reshape(1))


@check(1, tests="Regressor(n) is a paddle.nn.Layer whose self.fc is Linear(n, 1), for n = 13 and another n",
       hint="class Regressor(paddle.nn.Layer): __init__ calls super().__init__(), then "
       "self.fc = paddle.nn.Linear(in_features=num_inputs, out_features=1)")
def regressor_structure(module, rng):
    for num_inputs in (13, int(rng.integers(2, 9))):
        _model(module, num_inputs)


@check(2, tests="model(x) = x w + b for random float32 x, w, b (shape [N, 1])",
       hint="forward(inputs) returns self.fc(inputs); Linear computes inputs @ weight + bias")
def regressor_forward(module, rng):
    num_inputs, num_samples = 13, int(rng.integers(5, 30))
    model = _model(module, num_inputs)
    w, b = rng.normal(size=(num_inputs, 1)), rng.normal(size=1)
    _set_parameters(model, w, b)
    x = rng.normal(size=(num_samples, num_inputs)).astype("float32")
    z = as_array(model(to_tensor(x)), "model(x)", (num_samples, 1))
    expected = x.astype(np.float64) @ w + b
    expect_close(z, expected, "model(x)", rtol=RTOL, atol=ATOL, mistakes={
        "the bias is missing": x.astype(np.float64) @ w,
    })


def _train(module, rng, data, num_epochs, batch_size, learning_rate, seed, start=None):
    """The learner's ``train`` from a start ``(w0, b0)``; returns ``(losses, w0, b0, w, b)``."""
    num_inputs = data.shape[1] - 1
    model = _model(module, num_inputs)
    w0, b0 = start if start is not None else (rng.normal(size=(num_inputs, 1)), rng.normal(size=1) * 0.1)
    _set_parameters(model, w0, b0)
    original = data.copy()
    train = get_function(module, "train")
    shared = keep(model, data)  # the child's copy: fetched back, it shows in-place changes
    losses = train(model, shared, num_epochs=num_epochs, batch_size=batch_size, learning_rate=learning_rate,
                   seed=seed)
    expect_true(np.array_equal(fetch(shared), original), "train changed training_data: it shuffled the caller's "
                "array in place. Shuffle the row indices (order = rng.permutation(N)) instead")
    losses = as_losses(losses)
    w, b = _get_parameters(model)
    return losses, np.asarray(w0, dtype=float), np.asarray(b0, dtype=float), w, b


@check(1, tests="train returns one loss per mini-batch, including the last smaller batch",
       hint="for k in range(0, N, batch_size): rows = order[k:k + batch_size]; losses.append(float(loss)) each step")
def train_loss_count(module, rng):
    data = rng.normal(size=(23, 5))
    losses, *_ = _train(module, rng, data, 3, 5, 0.01, int(rng.integers(1000)))
    expect_true(losses.size == 15, f"train returned {losses.size} losses for N = 23, batch_size = 5, 3 epochs"
                + (": the last, smaller batch is dropped" if losses.size == 12 else ""),
                expected="15 losses (3 epochs x 5 batches)", received=f"{losses.size} losses")


@check(3, tests="train gives the same losses and final w, b as NumPy SGD from the same start and seed",
       hint="opt = paddle.optimizer.SGD(learning_rate, parameters=model.parameters()); per batch: "
       "loss = paddle.mean(F.square_error_cost(model(x), label=y)); loss.backward(); opt.step(); opt.clear_grad(); "
       "batches order[k:k + batch_size] with order = rng.permutation(N) every epoch")
def train_matches_numpy(module, rng):
    num_samples, num_inputs, batch_size, num_epochs, learning_rate = 37, 4, 8, 4, 0.05
    seed = int(rng.integers(1, 10_000))
    data = rng.normal(size=(num_samples, num_inputs + 1))
    losses, w0, b0, w, b = _train(module, rng, data, num_epochs, batch_size, learning_rate, seed)
    args = (data, w0, b0, num_epochs, batch_size, learning_rate)

    def same(run):
        want_losses, want_w, want_b = run
        return (losses.shape == (len(want_losses),) and np.allclose(losses, want_losses, rtol=RTOL, atol=ATOL)
                and np.allclose(w, want_w, rtol=RTOL, atol=ATOL) and np.allclose(b, want_b, rtol=RTOL, atol=ATOL))

    expected = replay_sgd(*args, epoch_orders("reference", seed))
    if same(expected) or same(replay_sgd(*args, epoch_orders("in_place", seed))):
        return
    mistakes = {
        "opt.clear_grad() is missing: Paddle adds new gradients to the old ones until they are cleared":
            replay_sgd(*args, epoch_orders("reference", seed), accumulate_gradients=True),
        "the loss is a sum over the batch: take paddle.mean(...) of the squared errors":
            replay_sgd(*args, epoch_orders("reference", seed), sum_loss=True),
        "the rows are never shuffled: order = rng.permutation(N) at the start of every epoch":
            replay_sgd(*args, epoch_orders("none", seed)),
        "the rows are shuffled only once: draw a new order every epoch":
            replay_sgd(*args, epoch_orders("once", seed)),
        "every epoch uses the same order: create rng = np.random.default_rng(seed) once, before the loop":
            replay_sgd(*args, epoch_orders("reseeded", seed)),
        "the last, smaller batch is dropped":
            replay_sgd(*args, epoch_orders("reference", seed), drop_last=True),
    }
    for description, run in mistakes.items():
        if same(run):
            raise CheckFailed(f"train is wrong: {description}", expected=show(np.asarray(expected[0])),
                              received=show(losses))
    want_losses, want_w, _ = expected
    if losses.size and np.allclose(losses[:1], want_losses[:1], rtol=RTOL, atol=ATOL):
        problem = "the first loss matches but the parameters then move differently from SGD with this learning rate"
    else:
        problem = ("the first loss already differs: is the loss the mean squared error of the batch "
                   "order[k:k + batch_size] with order = rng.permutation(N)?")
    raise CheckFailed(f"train does not match NumPy SGD from the same start: {problem}",
                      expected=f"losses {show(np.asarray(want_losses))}; final w {show(want_w)}",
                      received=f"losses {show(losses)}; final w {show(w)}")


@check(1, tests="train is reproducible: the same seed gives the same losses, another seed other batches",
       hint="take all randomness from rng = np.random.default_rng(seed)")
def train_is_seeded(module, rng):
    data = rng.normal(size=(30, 4))
    seed = int(rng.integers(1, 10_000))
    start = (rng.normal(size=(3, 1)), rng.normal(size=1))
    runs = [_train(module, rng, data, 2, 6, 0.05, s, start=start)[0] for s in (seed, seed, seed + 1)]
    expect_true(runs[0].shape == runs[1].shape and np.allclose(runs[0], runs[1]),
                "two runs with the same seed gave different losses", expected=show(runs[0]), received=show(runs[1]))
    expect_true(not (runs[0].shape == runs[2].shape and np.allclose(runs[0], runs[2])),
                "runs with different seeds gave the same losses: the batches are not shuffled with the seed")


@check(2, tests="on the Boston data (10 epochs, batch_size 10, lr 0.05) the loss goes down and the test MSE "
       "matches NumPy's run from the same start",
       hint="the Paddle model and the NumPy Network are the same function with the same gradient: "
       "from the same weights and batches they must end at the same parameters")
def train_on_boston(module, rng):
    from paddle_course.boston.data import load_data

    training_data, test_data = load_data()
    start = (rng.normal(size=(13, 1)), np.zeros(1))
    seed = int(rng.integers(1000))
    losses, w0, b0, w, b = _train(module, rng, training_data, 10, 10, 0.05, seed, start=start)
    per_epoch = int(np.ceil(len(training_data) / 10))
    expect_true(losses.size == 10 * per_epoch, f"expected {10 * per_epoch} losses, got {losses.size}")
    first, last = losses[:per_epoch].mean(), losses[-per_epoch:].mean()
    expect_true(last < 0.5 * first, "the loss did not go down on the Boston data",
                expected=f"last epoch's mean loss < half of the first's ({first:.4g})", received=f"{last:.4g}")
    x_test, y_test = test_data[:, :-1], test_data[:, -1:]
    received_mse = float(np.mean((x_test @ w + b - y_test) ** 2))
    expected = []
    for kind in ("reference", "in_place"):  # both are a fresh seeded shuffle every epoch
        _, want_w, want_b = replay_sgd(training_data, w0, b0, 10, 10, 0.05, epoch_orders(kind, seed))
        expected.append(float(np.mean((x_test @ want_w + want_b - y_test) ** 2)))
        if np.isclose(received_mse, expected[-1], rtol=1e-3, atol=1e-5):
            return
    expect_close(received_mse, expected[0], "the test MSE after training (vs NumPy SGD)", rtol=1e-3, atol=1e-5)
