"""Checks of homework 2: the linear network's gradient (vectorised) and seeded mini-batch SGD.

The expected gradient is the formula of ``paddle_course.numpy_net.Network``;
the expected training run is replayed here step by step, together with the
runs that common mistakes produce (no shuffling, one shuffle for all epochs,
re-seeding every epoch, ...) so a failure can say which mistake it was.
"""
import time

import numpy as np

from paddle_course.grading.framework import (Assignment, CheckFailed, as_array, as_losses, check, expect_close,
                                             expect_true, get_function, loops_in, show)
from paddle_course.grading.remote import fetch, helper, keep
from paddle_course.grading.replay import epoch_orders, linear_gradient, replay_sgd


ASSIGNMENT = Assignment(
    id="hw02",
    folder="hw02_numpy_gradient",
    title="NumPy gradient and mini-batch SGD (梯度计算与随机梯度下降)",
    covers="Network.gradient of the linear model vectorised with broadcasting (no Python loop over "
    "samples), and Network.train: mini-batch SGD with a fresh seeded shuffle every epoch.",
    check_timeout=5.0,
)

GRADIENT_HINT = ("gradient_w = 2/N sum_i (z_i - y_i) x_i = 2 * np.mean((z - y) * x, axis=0)[:, np.newaxis]; "
                 "gradient_b = 2 * np.mean(z - y, axis=0) (course 1.3.5)")


def _network(module, rng, num_inputs):
    Network = get_function(module, "Network")
    net = Network(num_inputs, seed=0)
    net.w = rng.normal(size=(num_inputs, 1))
    net.b = rng.normal(size=1)
    return net


def _batch(rng, num_samples, num_inputs):
    return rng.normal(size=(num_samples, num_inputs)), rng.normal(size=(num_samples, 1))


def _call_gradient(net, x, y, num_inputs):
    result = net.gradient(x, y)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(f"gradient should return a pair (gradient_w, gradient_b), got {show(result)}")
    gradient_w = as_array(result[0], "gradient_w", (num_inputs, 1))
    gradient_b = as_array(result[1], "gradient_b", (1,))
    return gradient_w, gradient_b


@check(1, tests="gradient returns gradient_w of shape (n, 1) and gradient_b of shape (1,)",
       hint="gradient_w has the shape of w, (n, 1); gradient_b the shape of b, (1,). "
       "np.mean(..., axis=0) gives (n,): add [:, np.newaxis]")
def gradient_shapes(module, rng):
    num_inputs, num_samples = int(rng.integers(3, 9)), int(rng.integers(10, 40))
    net = _network(module, rng, num_inputs)
    _call_gradient(net, *_batch(rng, num_samples, num_inputs), num_inputs)


@check(2, tests="gradient_w = 2/N sum_i (z_i - y_i) x_i on random x, y, w, b",
       hint=GRADIENT_HINT)
def gradient_w_values(module, rng):
    num_inputs, num_samples = int(rng.integers(3, 9)), int(rng.integers(10, 40))
    net = _network(module, rng, num_inputs)
    x, y = _batch(rng, num_samples, num_inputs)
    expected, _ = linear_gradient(x, y, net.w, net.b)
    gradient_w, _ = _call_gradient(net, x, y, num_inputs)
    expect_close(gradient_w, expected, "gradient_w", mistakes={
        "the sign is flipped: the error is z - y (prediction minus target), not y - z": -expected,
        f"it is N = {num_samples} times too large: divide by N (use np.mean, not np.sum) -- missing 1/N":
            expected * num_samples,
        "it is half the right value: the derivative of (z - y)^2 brings a factor 2": expected / 2,
        "it uses y instead of the error z - y": 2.0 * np.mean(y * x, axis=0)[:, None],
    })


@check(1, tests="gradient_b = 2/N sum_i (z_i - y_i) on random x, y, w, b",
       hint="gradient_b = 2/N sum_i (z_i - y_i) = 2 * np.mean(z - y, axis=0), shape (1,): "
       "dz/db = 1, so the bias gradient is the mean error -- no x in it")
def gradient_b_values(module, rng):
    num_inputs, num_samples = int(rng.integers(3, 9)), int(rng.integers(10, 40))
    net = _network(module, rng, num_inputs)
    x, y = _batch(rng, num_samples, num_inputs)
    _, expected = linear_gradient(x, y, net.w, net.b)
    error = x @ net.w + net.b - y
    _, gradient_b = _call_gradient(net, x, y, num_inputs)
    expect_close(gradient_b, expected, "gradient_b", mistakes={
        "the sign is flipped: the error is z - y, not y - z": -expected,
        f"it is summed over the N = {num_samples} samples instead of averaged (missing 1/N)": expected * num_samples,
        "it is half the right value: the derivative of (z - y)^2 brings a factor 2": expected / 2,
        "the bias gradient is multiplied by x: dz/db = 1, so use the mean of z - y only":
            np.array([2.0 * np.mean(error * x)]),
        f"it is averaged over N * n = {num_samples * num_inputs} numbers, not over the N samples":
            np.array([2.0 * np.sum(error) / (num_samples * num_inputs)]),
    })


@check(1, tests="gradient is vectorised: no Python loop in it, and N = 200 000 samples take well under a second",
       hint="broadcasting does the sum over samples: (z - y) is (N, 1), x is (N, n), (z - y) * x is (N, n); "
       "np.mean(..., axis=0) averages over the samples in one call")
def gradient_is_vectorised(module, rng):
    Network = get_function(module, "Network")
    gradient = getattr(Network, "gradient", None)
    expect_true(gradient is not None, "Network has no method `gradient`")
    loops = loops_in(gradient)
    if loops:
        kind, line = loops[0]
        raise CheckFailed(f"gradient contains a {kind} (line {line}): compute it for all samples at once "
                          "with broadcasting, without a Python loop")
    num_inputs, num_samples = 13, 200_000
    net = _network(module, rng, num_inputs)
    # only speed here (the values have their own checks): the 20 MB of inputs are drawn in the child
    seed = int(rng.integers(1 << 30))
    x = helper(net, "random_normal", seed, (num_samples, num_inputs))
    y = helper(net, "random_normal", seed + 1, (num_samples, 1))
    started = time.perf_counter()
    _call_gradient(net, x, y, num_inputs)
    seconds = time.perf_counter() - started
    # a vectorised gradient takes ~10 ms here; a loop over samples takes seconds
    expect_true(seconds < 1.0, f"gradient took {seconds:.2f} s for N = 200 000 samples: it is not vectorised",
                expected="< 1 s", received=f"{seconds:.2f} s")


# --- training ---------------------------------------------------------------

def _train(module, rng, data, num_epochs, batch_size, eta, seed, exact_gradient=True):
    """Run the learner's ``train`` from random initial weights; returns ``(losses, w0, b0, net)``."""
    num_inputs = data.shape[1] - 1
    net = _network(module, rng, num_inputs)
    w0, b0 = np.array(net.w, dtype=float), np.array(net.b, dtype=float)
    if exact_gradient:
        # grade train on its own: a wrong gradient already lost its points above
        helper(net, "exact_linear_gradient", net)
    original = data.copy()
    shared = keep(net, data)  # the learner's train gets the child's copy; fetched back, it shows in-place changes
    losses = net.train(shared, num_epochs=num_epochs, batch_size=batch_size, eta=eta, seed=seed)
    expect_true(np.array_equal(fetch(shared), original, equal_nan=True),
                "train changed training_data: it shuffled the caller's array in place. "
                "Shuffle the row indices (order = rng.permutation(N)) or a copy instead")
    losses = as_losses(losses)
    return losses, w0, b0, net


@check(1, tests="train returns one loss per mini-batch, including the last smaller batch",
       hint="with N samples and batch_size B there are ceil(N / B) batches per epoch: "
       "for k in range(0, N, batch_size), rows = order[k:k + batch_size]")
def train_loss_count(module, rng):
    num_samples, batch_size, num_epochs = 23, 5, 3
    data = rng.normal(size=(num_samples, 5))
    losses, *_ = _train(module, rng, data, num_epochs, batch_size, 0.01, int(rng.integers(1000)))
    expected = num_epochs * 5
    messages = {num_epochs * 4: "the last, smaller batch (3 rows) of every epoch is dropped",
                num_epochs: "one loss per epoch: append the loss of every mini-batch",
                5: "only the last epoch's losses are returned"}
    expect_true(losses.size == expected,
                f"train returned {losses.size} losses for N = 23, batch_size = 5, 3 epochs"
                + (f": {messages[losses.size]}" if losses.size in messages else ""),
                expected=f"{expected} losses (3 epochs x 5 batches)", received=f"{losses.size} losses")


@check(2, tests="train reproduces seeded mini-batch SGD step by step: losses and final w, b from the same start",
       hint="rng = np.random.default_rng(seed) once; every epoch order = rng.permutation(N); "
       "rows = order[k:k + batch_size]; record the loss before the update; w -= eta * gradient_w (course 1.3.7)")
def train_matches_reference(module, rng):
    num_samples, num_inputs, batch_size, num_epochs, eta = 37, 4, 8, 4, 0.05
    seed = int(rng.integers(1, 10_000))
    data = rng.normal(size=(num_samples, num_inputs + 1))
    losses, w0, b0, net = _train(module, rng, data, num_epochs, batch_size, eta, seed)
    final_w = as_array(net.w, "self.w after train", (num_inputs, 1))
    final_b = as_array(net.b, "self.b after train", (1,))
    args = (data, w0, b0, num_epochs, batch_size, eta)
    accepted = [replay_sgd(*args, epoch_orders("reference", seed)), replay_sgd(*args, epoch_orders("in_place", seed))]
    for want_losses, want_w, want_b in accepted:
        if (losses.shape == (len(want_losses),) and np.allclose(losses, want_losses, rtol=1e-6, atol=1e-9)
                and np.allclose(final_w, want_w, rtol=1e-6, atol=1e-9)
                and np.allclose(final_b, want_b, rtol=1e-6, atol=1e-9)):
            return
    mistakes = {
        "the rows are never shuffled: call order = rng.permutation(N) at the start of every epoch":
            replay_sgd(*args, epoch_orders("none", seed)),
        "the rows are shuffled only once: draw a new order = rng.permutation(N) in every epoch":
            replay_sgd(*args, epoch_orders("once", seed)),
        "every epoch uses the same order because the generator is re-created inside the epoch loop: "
        "create rng = np.random.default_rng(seed) once, before the loop":
            replay_sgd(*args, epoch_orders("reseeded", seed)),
        "the loss is recorded after the update: record the mini-batch's loss before updating":
            replay_sgd(*args, epoch_orders("reference", seed), loss_after=True),
        "the last, smaller batch is dropped": replay_sgd(*args, epoch_orders("reference", seed), drop_last=True),
    }
    for description, (want_losses, want_w, want_b) in mistakes.items():
        if (losses.shape == (len(want_losses),) and np.allclose(losses, want_losses, rtol=1e-6, atol=1e-9)
                and np.allclose(final_w, want_w, rtol=1e-6, atol=1e-9)):
            raise CheckFailed(f"train is wrong: {description}", expected=show(np.asarray(accepted[0][0])),
                              received=show(losses))
    want_losses, want_w, _ = accepted[0]
    if losses.shape == (len(want_losses),) and np.allclose(losses[:1], want_losses[:1]):
        problem = ("the first loss matches but later ones do not: check the update "
                   "(w <- w - eta * gradient_w, b <- b - eta * gradient_b, using self.gradient) and the batch order")
    else:
        problem = ("the losses differ from the expected run from the first step: are the batches "
                   "order[k:k + batch_size] of order = rng.permutation(N) with rng = np.random.default_rng(seed)?")
    raise CheckFailed(f"train does not reproduce the expected SGD run: {problem}",
                      expected=show(np.asarray(want_losses)), received=show(losses))


@check(1, tests="train is reproducible: the same seed gives the same losses, another seed other batches",
       hint="take all randomness from rng = np.random.default_rng(seed), never from np.random.shuffle "
       "or np.random.permutation (the global, unseeded generator)")
def train_is_seeded(module, rng):
    data = rng.normal(size=(30, 4))
    seed = int(rng.integers(1, 10_000))
    start = rng.integers(1 << 30)
    runs = [_train(module, np.random.default_rng(start), data, 2, 6, 0.05, s)[0] for s in (seed, seed, seed + 1)]
    expect_true(runs[0].shape == runs[1].shape and np.allclose(runs[0], runs[1]),
                "two runs with the same seed gave different losses: the shuffle does not use "
                "np.random.default_rng(seed)", expected=show(runs[0]), received=show(runs[1]))
    expect_true(not (runs[0].shape == runs[2].shape and np.allclose(runs[0], runs[2])),
                "runs with different seeds gave the same losses: the batches are not shuffled with the seed")


@check(1, tests="train lowers the loss on the Boston training data (20 epochs, batch_size 10, eta 0.05)",
       hint="each step moves against the gradient: w <- w - eta * gradient_w; "
       "the mean loss of the last epoch must be well below the first epoch's")
def train_decreases_boston_loss(module, rng):
    from paddle_course.boston.data import load_data

    training_data, _ = load_data()
    losses, *_ = _train(module, rng, training_data, 20, 10, 0.05, int(rng.integers(1000)), exact_gradient=False)
    per_epoch = int(np.ceil(len(training_data) / 10))
    expect_true(losses.size == 20 * per_epoch, f"expected {20 * per_epoch} losses, got {losses.size}")
    first, last = losses[:per_epoch].mean(), losses[-per_epoch:].mean()
    expect_true(np.isfinite(last) and last < 0.5 * first,
                "the loss did not go down: check the sign of the update and of the gradient",
                expected=f"last epoch's mean loss < half of the first epoch's ({first:.4g})",
                received=f"{last:.4g}")
