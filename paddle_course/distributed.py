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

Only rank 0 writes files (weights, metrics, figure, inference model) and prints.

The sentiment fine-tune (``paddle-course finetune sentiment --distributed``, see
``paddle_course.finetune.sentiment``) trains with PaddleHub's ``hub.Trainer``
instead of our own loop; :func:`hub_data_parallel_trainer` makes it as exact:
gradients averaged, and dropout masks that are the ranks' pieces of the
one-process masks (:func:`replay_random_draws_of_other_ranks`).
"""
import json
import os
import time
from pathlib import Path

import numpy as np

from paddle_course.data import check_batch_size, load_dataset, minibatch_indices
from paddle_course.fileio import write_json
from paddle_course.progress import progress, say

DISTRIBUTED_FILE = "distributed.json"  # world size and timings, next to metrics.json


def launched_world_size():
    """How many ranks the launcher started (1 when not run by ``paddle.distributed.launch``)."""
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def init_data_parallel():
    """Join the process group if started by the launcher; returns ``(rank, world_size)``.

    ``init_parallel_env`` is only called for 2 or more ranks (for one it would
    just warn); on CPU the launcher has set ``PADDLE_DISTRI_BACKEND=gloo``.
    """
    import paddle.distributed as dist

    if launched_world_size() < 2:
        return 0, 1
    if not dist.is_initialized():
        os.environ.setdefault("PADDLE_DISTRI_BACKEND", "gloo")  # CPU-only: gloo is the one collective backend
        dist.init_parallel_env()
    return dist.get_rank(), dist.get_world_size()


def _processes(world_size):
    return f"{world_size} process{'es' if world_size > 1 else ''}"


class _Rows:
    """A stand-in dataset of ``n`` rows: the sampler only needs its length."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def local_batch_sampler(num_samples, batch_size, world_size, rank):
    """``paddle.io.DistributedBatchSampler`` giving rank ``rank`` its piece of every global batch.

    Without shuffling, the sampler hands out positions ``0 .. n-1`` so that
    global step ``k`` covers positions ``[k B, (k+1) B)`` (``B = batch_size``,
    the *global* batch) and rank ``r`` gets the ``r``-th run of ``B / world_size``
    of them; the last, shorter batch is split the same way.  Positions are
    turned into rows by each epoch's seeded permutation (see
    :func:`train_dygraph_distributed`), so shuffling stays ours and identical to
    the one-process run.

    ``batch_size`` must be a multiple of ``world_size``, otherwise the ranks'
    pieces differ in size and averaging their mean gradients would weight
    rows unequally.
    """
    import paddle

    return paddle.io.DistributedBatchSampler(_Rows(num_samples),
                                             batch_size=per_process_batch_size(num_samples, batch_size, world_size),
                                             num_replicas=world_size, rank=rank, shuffle=False, drop_last=False)


def per_process_batch_size(num_samples, batch_size, world_size, rows="training rows"):
    """``B / world_size``, the rows every process takes from each global batch of ``B = batch_size``.

    Raises ``ValueError`` unless both ``B`` and ``num_samples`` divide evenly
    (``batch_size=None``: one global batch of all rows).  Then every global
    batch, the last shorter one included, splits into ``world_size`` pieces of
    equal size, and the mean of the pieces' mean gradients is the global batch's
    mean gradient.  ``rows`` names the rows in the message.
    """
    batch_size = check_batch_size(batch_size) or num_samples
    if batch_size % world_size:
        raise ValueError(f"the global batch size {batch_size} must be divisible by the number of processes "
                         f"{world_size}, so that every process gets the same number of rows")
    if num_samples % world_size:
        # paddle.io.DistributedBatchSampler pads the epoch with repeated rows to
        # make it divisible: the last step would no longer be the one-process step.
        raise ValueError(f"{num_samples} {rows} cannot be split evenly over {world_size} processes; "
                         f"use a number of processes that divides {num_samples}")
    return batch_size // world_size


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
    import paddle.distributed as dist
    import paddle.nn.functional as F

    from paddle_course import paddle_net

    num_inputs = model.fc.weight.shape[0]
    data, batch_size = paddle_net.check_training_args(training_data, num_inputs, batch_size, learning_rate,
                                                       num_epochs)
    rank, world_size = init_data_parallel()
    sampler = local_batch_sampler(len(data), batch_size, world_size, rank)
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
    for epoch_id in progress(range(num_epochs), desc=f"data-parallel epochs ({_processes(world_size)})",
                             quiet=quiet or rank != 0):
        start = time.perf_counter()
        # minibatch_indices with batch_size=None is one batch holding the whole
        # epoch's order: the same rng draw as the one-process loop's
        (order,) = minibatch_indices(len(data), None, shuffle, rng)
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
        epoch_losses = epoch_losses.numpy().astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(epoch_losses))
        if bad.size:
            raise paddle_net.diverged_error(epoch_losses[bad[0]], epoch_id, int(bad[0]), learning_rate)
        losses.extend(epoch_losses.tolist())
        epoch_seconds.append(time.perf_counter() - start)
    model.eval()
    return losses, epoch_seconds


def train_boston(out_dir, epochs=None, batch_size=10, learning_rate=None, seed=0, dtype="float32", quiet=False,
                 data_path=None, export=True):
    """``paddle-course boston train --impl dygraph --distributed``: train data-parallel, rank 0 saves.

    Starts like ``boston.train("dygraph", ...)`` (``Network(13, seed)``'s initial
    weights copied into a ``Regressor``), trains with
    :func:`train_dygraph_distributed`, and on rank 0 only writes what ``boston
    train`` writes (``params.npz``, ``stats.json``, ``metrics.json``, ``loss.png``
    and the ``inference/`` export) plus ``distributed.json`` with the number of
    processes and the time per epoch.  Returns the ``boston.TrainResult`` on
    every rank.
    """
    from paddle_course import boston, paddle_net
    from paddle_course.numpy_net import Network
    from paddle_course.plots import plot_loss_curves

    dataset = load_dataset(data_path)
    batch_size = check_batch_size(batch_size)
    epochs = Network.default_epochs(batch_size) if epochs is None else epochs
    learning_rate = Network.default_eta(batch_size) if learning_rate is None else learning_rate
    rank, world_size = init_data_parallel()
    quiet = quiet or rank != 0
    net = Network(dataset.training_data.shape[1] - 1, seed=seed)
    model = paddle_net.Regressor(net.num_inputs, dtype=dtype)
    paddle_net.set_parameters(model, net.w, net.b)
    rows_per_process = (batch_size or len(dataset.training_data)) // world_size
    say(f"data-parallel training on {_processes(world_size)}: {len(dataset.training_data)} houses, global batch "
        f"{batch_size or 'full'} ({rows_per_process} rows per process and step)", quiet)
    start = time.perf_counter()
    losses, epoch_seconds = train_dygraph_distributed(model, dataset.training_data, epochs, batch_size,
                                                      learning_rate, seed=seed, quiet=quiet)
    seconds = time.perf_counter() - start
    w, b = paddle_net.get_parameters(model)
    result = boston.TrainResult("dygraph", batch_size, epochs, learning_rate, seed, seconds,
                                boston.linear_mse(w, b, dataset.training_data), boston.linear_mse(w, b, dataset.test_data),
                                w, b, losses)
    if rank != 0:
        return result  # the other ranks hold the same parameters: one writer is enough
    out_dir = Path(out_dir)
    boston.save_run(result, dataset, out_dir, export=export)
    write_json(out_dir / DISTRIBUTED_FILE, {
        "world_size": world_size,
        "backend": os.environ.get("PADDLE_DISTRI_BACKEND", "gloo") if world_size > 1 else "none (1 process)",
        "global_batch_size": batch_size,
        "rows_per_process_per_step": rows_per_process,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "final_loss": losses[-1] if losses else None,
    })
    optimum = boston.closed_form(dataset).train_mse
    label = f"{result.label}, {_processes(world_size)}"
    plot_loss_curves({label: losses}, out_dir / "loss.png", title=f"{label}: training loss",
                     xlabel="epoch" if batch_size is None else "iteration", optimum=optimum)
    say(f"{label}: {epochs} epochs in {seconds:.2f} s ({seconds / max(epochs, 1):.4f} s/epoch); train MSE "
        f"{result.train_mse:.5f} ({result.train_mse / optimum:.4f} x least-squares optimum), test MSE "
        f"{result.test_mse:.5f}", quiet)
    say(f"saved to {out_dir}/ (params.npz, stats.json, metrics.json, {DISTRIBUTED_FILE}, loss.png"
        f"{', inference/' if export else ''})", quiet)
    return result


def read_run(out_dir):
    """``distributed.json`` of a data-parallel run, as a dict."""
    path = Path(out_dir) / DISTRIBUTED_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not written (was the run distributed, and did rank 0 finish?)")
    return json.loads(path.read_text(encoding="utf-8"))


# --- For training loops that do not call the model through DataParallel (hub.Trainer) ---

def average_gradients(parameters):
    """Average every parameter's gradient over the ranks: ``g <- 1/world_size * sum_r g_r``.

    ``paddle.DataParallel`` does this inside ``backward()``, but only for
    outputs computed by calling the *wrapper*; a loop that calls
    ``wrapper._layers`` directly gets each rank's own gradient and the copies
    drift apart without any error.  Call this after ``backward()`` and before
    ``optimizer.step()`` in such loops.  Does nothing in a single process.
    """
    import paddle
    import paddle.distributed as dist

    if launched_world_size() < 2:
        return
    world_size = dist.get_world_size()
    with paddle.no_grad():  # the averaging is bookkeeping, not part of the graph
        for param in parameters:
            if param.grad is None or param.stop_gradient:
                continue
            dist.all_reduce(param.grad)  # in place: the sum over ranks
            param.grad.scale_(1.0 / world_size)


# Layers whose training-mode forward draws from Paddle's global generator as many random
# numbers as their input's shape says (checked for Dropout in tests/test_sentiment_distributed.py).
RANDOM_LAYERS = ("Dropout", "Dropout2D", "Dropout3D", "AlphaDropout", "FeatureAlphaDropout")


def replay_random_draws_of_other_ranks(model, rank, world_size):
    """Give rank ``rank`` the dropout masks the one-process run draws for its rows.

    With one process, a dropout layer draws one mask for the whole global batch
    of ``B`` rows, row after row, from Paddle's generator.  Rank ``r`` holds rows
    ``[r b, (r+1) b)`` of that batch (``b = B / world_size``; see
    :func:`per_process_batch_size`), so its piece of that mask comes after the
    draws for the ``r`` pieces before it.  With the same seed on every rank,
    this hook makes the generator draw (and throw away) ``r`` masks of this
    rank's input shape before the layer's forward and ``world_size - 1 - r``
    after it: every rank ends each step with the generator where the one-process
    run ends, and used exactly its piece of the one-process mask.  Dropout stays
    on, so the data-parallel run is the same regularised training, not a
    variant without dropout; the extra draws cost ``world_size - 1`` masks of
    ``b`` rows per dropout layer and step, nothing next to the forward pass.

    Valid when every rank's dropout input has the same shape (true for inputs
    ``[b, features]``, as in ``SentimentCNN``; a dropout on sequences padded
    per batch, ``[b, L_r, E]``, would draw ``L_r``-dependent counts) and the
    layers of :data:`RANDOM_LAYERS` are the only consumers of randomness during
    training.  Returns the hook handles (``handle.remove()`` undoes them).
    """
    import paddle

    random_layers = tuple(getattr(paddle.nn, name) for name in RANDOM_LAYERS if hasattr(paddle.nn, name))

    def skip(times):
        def hook(layer, inputs, *output):
            if layer.training and times:
                with paddle.no_grad():  # the draws only move the generator; the results are dropped
                    for _ in range(times):
                        layer.forward(*inputs)  # forward(), not layer(): no hooks, no recursion
            return None  # inputs and outputs unchanged

        return hook

    handles = []
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, random_layers):
            handles.append(layer.register_forward_pre_hook(skip(rank)))
            handles.append(layer.register_forward_post_hook(skip(world_size - 1 - rank)))
    return handles


def _mean_over_ranks(loss, metrics):
    """The ranks' mean loss and scalar metric tensors (one all-reduce): the global batch's, for equal pieces."""
    import paddle
    import paddle.distributed as dist

    names = [k for k, v in metrics.items() if isinstance(v, paddle.Tensor) and int(v.numel()) == 1]
    packed = paddle.stack([loss.detach().reshape([])]
                          + [metrics[k].detach().astype(loss.dtype).reshape([]) for k in names])
    dist.all_reduce(packed)
    packed = packed / dist.get_world_size()
    return packed[0], {**metrics, **{k: packed[i + 1] for i, k in enumerate(names)}}


def hub_data_parallel_trainer():
    """``paddlehub.Trainer`` that trains like one process with the global batch, on the launched ranks.

    PaddleHub 2.4's ``Trainer`` wraps the model in ``paddle.DataParallel`` when
    launched on several ranks, then computes the loss with
    ``self.model._layers.training_step(...)``, which bypasses the wrapper: the
    gradients are never all-reduced and every rank trains on its own share of
    the data only.  This subclass, on 2 or more ranks:

    * averages the gradients after ``backward()`` (see :func:`average_gradients`);
    * replays the other ranks' dropout draws, so that the masks are the
      one-process run's (see :func:`replay_random_draws_of_other_ranks`);
    * reports the ranks' mean loss and metrics, i.e. the global batch's, in
      hub.Trainer's log lines;
    * resumes only if all ranks find the same ``epoch_N/`` (ranks on another
      machine may not see rank 0's folder: then it is a clear error, not ranks
      silently starting from different weights).

    Everything else (the DistributedBatchSampler, rank-0-only evaluation and
    checkpoints) is hub.Trainer's own.  ``batch_size`` in ``train()`` is then
    *per rank*: the global batch is ``world_size`` times it.  On every rank the
    trainer records ``step_losses`` (the global batch's loss at every step) and
    ``epoch_seconds`` (``{epoch: seconds}``, training steps only, not the
    evaluation and checkpoint that rank 0 runs after each epoch).
    """
    import paddle
    import paddle.distributed as dist

    from paddle_course.finetune import atomic_trainer

    class DataParallelTrainer(atomic_trainer()):
        def __init__(self, model, optimizer, *args, **kwargs):
            self.step_losses, self.epoch_seconds, self._epoch_started = [], {}, None
            super().__init__(model, optimizer, *args, **kwargs)
            if self.nranks > 1:
                self._random_hooks = replay_random_draws_of_other_ranks(model, self.local_rank, self.nranks)

        def _load_checkpoint(self):
            if os.path.isdir(self.checkpoint_dir):  # rank 0 created it; another machine's ranks may not see it
                super()._load_checkpoint()
            if self.nranks > 1:
                epochs = paddle.to_tensor([self.current_epoch, -self.current_epoch], dtype="int64")
                dist.all_reduce(epochs, op=dist.ReduceOp.MAX)
                latest, earliest = int(epochs[0]), -int(epochs[1])
                if latest != earliest:
                    raise RuntimeError(
                        f"rank {self.local_rank}: the ranks found different checkpoints to resume from in "
                        f"{self.checkpoint_dir} (epochs {earliest} to {latest}); resuming a data-parallel run "
                        f"needs the folder on a file system all ranks share, or start with an empty folder")

        def training_step(self, batch, batch_idx):
            if batch_idx == 0:
                self._epoch_started = time.perf_counter()
            loss, metrics = super().training_step(batch, batch_idx)  # forward and backward on this rank's rows
            if self.nranks > 1:
                average_gradients(self.model._layers.parameters())
                loss, metrics = _mean_over_ranks(loss, metrics)
            self.step_losses.append(float(loss))
            return loss, metrics

        def optimizer_zero_grad(self, epoch_idx, batch_idx, optimizer):
            super().optimizer_zero_grad(epoch_idx, batch_idx, optimizer)
            self.epoch_seconds[epoch_idx] = time.perf_counter() - self._epoch_started

    return DataParallelTrainer
