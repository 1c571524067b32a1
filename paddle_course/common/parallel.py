"""Data-parallel plumbing shared by the Boston rewrite and the fine-tunes (course 1.5, 3.3).

Data parallelism runs the same model in N processes (ranks) started by
``python -m paddle.distributed.launch``: every rank holds a full copy of the
parameters, computes the gradient on its piece of each global mini-batch, and the
gradients are averaged over the ranks before the update, so all copies stay equal.
On CPU the ranks talk through the gloo backend.  The launcher hands each rank
``PADDLE_TRAINER_ID``, ``PADDLE_TRAINERS_NUM``, ``PADDLE_TRAINER_ENDPOINTS`` and
``PADDLE_DISTRI_BACKEND=gloo``; ``paddle.distributed.init_parallel_env()`` reads them.

Here: how many ranks were launched and joining them (:func:`init_data_parallel`), how a
global batch splits into equal pieces (:func:`per_process_batch_size`,
:func:`local_batch_sampler`), and, for loops that do not call the model through
``paddle.DataParallel`` (``hub.Trainer``), averaging gradients by hand
(:func:`average_gradients`) and giving each rank its piece of the one-process dropout
masks (:func:`replay_random_draws_of_other_ranks`).
"""
import numbers
import os

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


def processes(world_size):
    """``1 process``, ``2 processes``: for progress lines."""
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
    ``boston.distributed.train_dygraph_distributed``), so shuffling stays ours and identical to
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
    if batch_size is None:
        batch_size = num_samples
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer (or None for full-batch), got {batch_size!r}")
    if batch_size % world_size:
        raise ValueError(f"the global batch size {batch_size} must be divisible by the number of processes "
                         f"{world_size}, so that every process gets the same number of rows")
    if num_samples % world_size:
        # paddle.io.DistributedBatchSampler pads the epoch with repeated rows to
        # make it divisible: the last step would no longer be the one-process step.
        raise ValueError(f"{num_samples} {rows} cannot be split evenly over {world_size} processes; "
                         f"use a number of processes that divides {num_samples}")
    return batch_size // world_size


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
    ``[b, features]``, and for ``[b, max_len, E]``: the sentiment fine-tune pads every batch to
    ``max_len``; a dropout on sequences padded per batch, ``[b, L_r, E]``, would draw
    ``L_r``-dependent counts) and the
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


def mean_over_ranks(loss, metrics):
    """The ranks' mean loss and scalar metric tensors (one all-reduce): the global batch's, for equal pieces."""
    import paddle
    import paddle.distributed as dist

    names = [k for k, v in metrics.items() if isinstance(v, paddle.Tensor) and int(v.numel()) == 1]
    packed = paddle.stack([loss.detach().reshape([])]
                          + [metrics[k].detach().astype(loss.dtype).reshape([]) for k in names])
    dist.all_reduce(packed)
    packed = packed / dist.get_world_size()
    return packed[0], {**metrics, **{k: packed[i + 1] for i, k in enumerate(names)}}

