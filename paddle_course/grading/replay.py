"""Replaying mini-batch SGD on the linear model, right and in the ways learners get it wrong.

Course 1.3.7: every epoch ``order = rng.permutation(N)`` with one
``rng = numpy.random.default_rng(seed)``, batches ``order[k:k + batch_size]``,
the loss recorded before the update.  hw02 (NumPy) and hw04 (Paddle) compare a
learner's run with :func:`replay_sgd`, and with the variants below to name the
mistake when it does not match.
"""
import numpy as np


def linear_gradient(x, y, w, b):
    """``dL/dw = 2/N sum_i (z_i - y_i) x_i`` (n, 1) and ``dL/db = 2/N sum_i (z_i - y_i)`` (1,)."""
    error = x @ w + b - y
    return 2.0 * np.mean(error * x, axis=0)[:, None], 2.0 * np.mean(error, axis=0)


def epoch_orders(kind, seed):
    """A function ``(num_samples, num_epochs) -> iterator of row orders`` for one way of shuffling.

    ``reference``: a new ``rng.permutation(N)`` every epoch; ``in_place``: the rows
    of a copy shuffled again every epoch (``rng.shuffle``, equally valid);
    ``none``, ``once`` and ``reseeded`` (the generator re-created every epoch) are mistakes.
    """
    def make(num_samples, num_epochs):
        rng = np.random.default_rng(seed)
        current = np.arange(num_samples)
        once = None
        for _ in range(num_epochs):
            if kind == "reference":
                yield rng.permutation(num_samples)
            elif kind == "in_place":
                current = current[rng.permutation(num_samples)]
                yield current
            elif kind == "none":
                yield np.arange(num_samples)
            elif kind == "once":
                once = rng.permutation(num_samples) if once is None else once
                yield once
            elif kind == "reseeded":
                yield np.random.default_rng(seed).permutation(num_samples)
            else:
                raise ValueError(f"unknown kind of epoch order {kind!r}")
    return make


def replay_sgd(data, w, b, num_epochs, batch_size, eta, orders, drop_last=False, loss_after=False,
               accumulate_gradients=False, sum_loss=False):
    """The SGD run for a sequence of epoch orders; returns ``(losses, w, b)``.

    The switches reproduce mistakes: ``drop_last`` skips the last smaller batch,
    ``loss_after`` records the loss after the update, ``accumulate_gradients``
    never clears the gradients (Paddle without ``opt.clear_grad()``), ``sum_loss``
    differentiates the sum of the squared errors instead of their mean.
    """
    w, b = np.array(w, dtype=float), np.array(b, dtype=float)
    total_w, total_b = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for order in orders(len(data), num_epochs):
        stop = len(data) - len(data) % batch_size if drop_last else len(data)
        for k in range(0, stop, batch_size):
            rows = order[k:k + batch_size]
            x, y = data[rows, :-1], data[rows, -1:]
            gradient_w, gradient_b = linear_gradient(x, y, w, b)
            if sum_loss:
                gradient_w, gradient_b = gradient_w * len(rows), gradient_b * len(rows)
            if accumulate_gradients:
                total_w, total_b = total_w + gradient_w, total_b + gradient_b
                gradient_w, gradient_b = total_w, total_b
            reduce = np.sum if sum_loss else np.mean  # the learner reports the loss they differentiate
            loss_before = float(reduce((x @ w + b - y) ** 2))
            w, b = w - eta * gradient_w, b - eta * gradient_b
            losses.append(float(reduce((x @ w + b - y) ** 2)) if loss_after else loss_before)
    return losses, w, b
