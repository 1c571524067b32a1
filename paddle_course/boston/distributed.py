"""Data-parallel training of the Boston model with ``paddle.distributed`` on CPU.

Course 1.5 trains ``Regressor`` in one process.  Data parallelism runs the same
model in N processes (ranks): every rank holds a full copy of the parameters,
computes the gradient on its share of each mini-batch, and
``paddle.DataParallel`` averages the gradients of all ranks before the update,
so all copies stay identical.  On CPU the ranks talk through the gloo backend,
which Paddle's launcher selects by itself when there is no GPU::

    python -m paddle.distributed.launch --nproc_per_node 2 \\
        paddle-course boston train --impl dygraph --distributed --out boston_dp

(Paddle 3.3's launcher takes a ``.py`` file or an executable, not ``-m module``;
``paddle-course`` is the executable pip installed.)  The launcher starts the
ranks and hands each one ``PADDLE_TRAINER_ID``, ``PADDLE_TRAINERS_NUM``,
``PADDLE_TRAINER_ENDPOINTS`` and ``PADDLE_DISTRI_BACKEND=gloo``;
``paddle.distributed.init_parallel_env()`` reads them.  Without the launcher
the same command trains in one process.

Same numbers as one process: the global mini-batches are exactly those of
``paddle_net.train_dygraph`` (``data.minibatch_indices`` with
``numpy.random.default_rng(seed)``, drawn identically on every rank), and
``paddle.io.DistributedBatchSampler`` cuts each global batch of ``B`` rows into
``world_size`` consecutive pieces of ``B / world_size`` rows.  The mean of the
ranks' mean gradients is then the mean gradient of the global batch, so the
update, and after many steps the parameters, equal the one-process run's
(up to floating-point rounding; ``tests/test_distributed.py`` checks 1e-5).

Only rank 0 writes files (weights, metrics, figure, inference model) and prints
(``lesson.train_and_save``).

The sentiment fine-tune (``paddle-course finetune sentiment --distributed``, see
``paddle_course.sentiment.finetune``) trains with PaddleHub's ``hub.Trainer``
instead of our own loop; ``paddle_course.common.trainer.hub_data_parallel_trainer`` makes it as exact:
gradients averaged, and dropout masks that are the ranks' pieces of the
one-process masks (``paddle_course.common.parallel.replay_random_draws_of_other_ranks``).
"""
import json
import os
import time
from pathlib import Path

import numpy as np

from paddle_course.boston import paddle_net
from paddle_course.boston.data import minibatch_indices
from paddle_course.boston.numpy_net import Network
from paddle_course.common import parallel
from paddle_course.common.progress import progress, say

DISTRIBUTED_FILE = "distributed.json"  # world size and timings, next to metrics.json


def train_dygraph_distributed(model, training_data, num_epochs, batch_size=10, learning_rate=0.05, shuffle=True,
                              seed=0, quiet=True):
    """``paddle_net.train_dygraph`` split over the launched processes (data parallel).

    Every rank, each epoch::

        order = rng.permutation(N)                  same seed, same order on every rank
        for positions in DistributedBatchSampler:   this rank's B / world_size positions of the global batch
            x, y = rows order[positions]
            loss = mean((DataParallel(model)(x) - y)^2)
            loss.backward()                         gradients all-reduced: g = 1/world_size * sum_r g_r
            opt.step(); opt.clear_grad()            p <- p - learning_rate * g, the same on every rank

    With one process it is the ordinary training loop.  Returns ``(losses,
    epoch_seconds)``: the loss of every global step (the ranks' losses averaged
    once per epoch, so logging costs one all-reduce per epoch, not per step) and
    the wall time of every epoch.  Both are the same on every rank.
    """
    import paddle

    num_inputs = model.fc.weight.shape[0]
    data, batch_size = paddle_net.check_training_args(training_data, num_inputs, batch_size, learning_rate,
                                                       num_epochs)
    rank, world_size = parallel.init_data_parallel()
    sampler = parallel.local_batch_sampler(len(data), batch_size, world_size, rank)
    dtype = model.fc.weight.dtype
    features = paddle.to_tensor(data[:, :-1], dtype=dtype)
    prices = paddle.to_tensor(data[:, -1:], dtype=dtype)
    model.train()
    # DataParallel broadcasts rank 0's parameters at construction and hooks the
    # gradient all-reduce into backward(); with one rank there is nothing to sync.
    forward = paddle.DataParallel(model) if world_size > 1 else model
    opt = paddle.optimizer.SGD(learning_rate=learning_rate, parameters=model.parameters())
    rng = np.random.default_rng(seed)
    losses, epoch_seconds = [], []
    for epoch_id in progress(range(num_epochs), desc=f"data-parallel epochs ({parallel.processes(world_size)})",
                             quiet=quiet or rank != 0):
        start = time.perf_counter()
        # minibatch_indices with batch_size=None is one batch holding the whole
        # epoch's order: the same rng draw as the one-process loop's
        (order,) = minibatch_indices(len(data), None, shuffle, rng)
        epoch_losses = _epoch(forward, opt, features, prices, order, sampler, world_size)
        bad = np.flatnonzero(~np.isfinite(epoch_losses))
        if bad.size:
            raise paddle_net.diverged_error(epoch_losses[bad[0]], epoch_id, int(bad[0]), learning_rate, data,
                                            batch_size)
        losses.extend(epoch_losses.tolist())
        epoch_seconds.append(time.perf_counter() - start)
    model.eval()
    return losses, epoch_seconds


def _epoch(forward, opt, features, prices, order, sampler, world_size):
    """One epoch of this rank's pieces; the global batches' losses (the ranks' mean, one all-reduce)."""
    import paddle
    import paddle.distributed as dist
    import paddle.nn.functional as F

    step_losses = []
    for positions in sampler:
        index = paddle.to_tensor(order[positions])
        x, y = paddle.gather(features, index), paddle.gather(prices, index)
        avg_loss = paddle.mean(F.square_error_cost(forward(x), label=y))
        avg_loss.backward()
        opt.step()
        opt.clear_grad()
        step_losses.append(avg_loss.detach())
    epoch_losses = paddle.stack(step_losses).reshape([-1])
    if world_size > 1:
        dist.all_reduce(epoch_losses)  # sum over ranks, then / world_size: the global batch's loss
        epoch_losses = epoch_losses / world_size
    return epoch_losses.numpy().astype(np.float64)


def train_data_parallel(training_data, epochs, batch_size=10, learning_rate=0.05, seed=0, dtype="float32",
                        quiet=True):
    """Train the Boston ``Regressor`` data-parallel from ``Network(13, seed)``'s initial weights.

    What ``lesson.train("dygraph", ...)`` does in one process, split over the launched
    ranks with :func:`train_dygraph_distributed`.  Returns ``(w, b, losses, run)`` on
    every rank; ``run`` holds ``rank``, ``world_size``, ``processes``, ``backend``,
    ``global_batch_size``, ``rows_per_process_per_step``, ``epochs``, ``seconds``,
    ``seconds_per_epoch`` and ``final_loss`` (rank 0 saves it as ``distributed.json``,
    see ``lesson.train_and_save``).
    """
    rank, world_size = parallel.init_data_parallel()
    quiet = quiet or rank != 0
    net = Network(training_data.shape[1] - 1, seed=seed)
    model = paddle_net.Regressor(net.num_inputs, dtype=dtype)
    paddle_net.set_parameters(model, net.w, net.b)
    rows_per_process = (batch_size or len(training_data)) // world_size
    say(f"data-parallel training on {parallel.processes(world_size)}: {len(training_data)} houses, global batch "
        f"{batch_size or 'full'} ({rows_per_process} rows per process and step)", quiet)
    start = time.perf_counter()
    losses, epoch_seconds = train_dygraph_distributed(model, training_data, epochs, batch_size, learning_rate,
                                                      seed=seed, quiet=quiet)
    seconds = time.perf_counter() - start
    w, b = paddle_net.get_parameters(model)
    run = {
        "rank": rank,
        "world_size": world_size,
        "processes": parallel.processes(world_size),
        "backend": os.environ.get("PADDLE_DISTRI_BACKEND", "gloo") if world_size > 1 else "none (1 process)",
        "global_batch_size": batch_size,
        "rows_per_process_per_step": rows_per_process,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "final_loss": losses[-1] if losses else None,
    }
    return w, b, losses, run


def read_run(out_dir):
    """``distributed.json`` of a data-parallel run, as a dict."""
    path = Path(out_dir) / DISTRIBUTED_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not written (was the run distributed, and did rank 0 finish?)")
    return json.loads(path.read_text(encoding="utf-8"))
