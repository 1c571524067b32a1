"""``hub.Trainer`` made safe for the course's fine-tunes (course 3.3, PaddleHub's Fine-tune API).

* :func:`atomic_trainer` -- ``hub.Trainer`` whose checkpoints are written atomically, read
  back on resume without running code, and pruned to the best and the last few epochs;
* :func:`hub_data_parallel_trainer` -- the same, trained data-parallel over the ranks of
  ``python -m paddle.distributed.launch`` with the numbers of one process.

Both are functions returning a class, so that importing this module does not import
PaddleHub; they are cached, so every caller gets the same class.
"""
import functools
import os
import pickle
import shutil
import time

from paddle_course.common import parallel
from paddle_course.common.checkpoints import load_metrics, load_optimizer_state, load_weights
from paddle_course.common.fileio import atomic_dir, atomic_path

KEEP_LAST_EPOCHS = 2


@functools.cache
def atomic_trainer():
    """``hub.Trainer`` whose checkpoints are written atomically.

    hub.Trainer writes ``epoch_N/model.pdparams``, ``model.pdopt`` and ``metrics.pkl``
    in place, so an interrupted save leaves a half-written checkpoint that the next
    run resumes from.  Here each folder is written next to its final name and
    renamed into place, and ``metrics.pkl`` likewise: a crash leaves the previous
    checkpoint intact.

    Resuming a folder (hub.Trainer's ``_load_checkpoint``) reads ``metrics.pkl``,
    ``epoch_N/model.pdparams`` and ``model.pdopt`` through the restricted unpickler of
    :mod:`paddle_course.common.safe_weights` instead of ``pickle.load``/``paddle.load``: a
    crafted file left in the folder is refused (``UnsafeWeightsError`` naming it) and
    nothing in it runs.

    ``keep_last_epochs`` (default :data:`KEEP_LAST_EPOCHS`; None keeps all): after each
    save only the newest that many ``epoch_N/`` folders stay; ``best_model/`` always stays.
    """
    import paddle
    import paddlehub as hub

    class AtomicTrainer(hub.Trainer):
        def __init__(self, *args, keep_last_epochs=KEEP_LAST_EPOCHS, **kwargs):
            if keep_last_epochs is not None and keep_last_epochs < 1:
                raise ValueError(f"keep_last_epochs must be at least 1 (the folder resumes from the last), "
                                 f"got {keep_last_epochs}")
            self.keep_last_epochs = keep_last_epochs
            super().__init__(*args, **kwargs)

        def load_model(self, load_dir):
            self.model.set_state_dict(load_weights(os.path.join(load_dir, "model.pdparams")))
            self.optimizer.set_state_dict(load_optimizer_state(os.path.join(load_dir, "model.pdopt")))

        def _load_metrics(self):
            metrics_file = os.path.join(self.checkpoint_dir, "metrics.pkl")
            if os.path.exists(metrics_file):
                self.best_metrics = load_metrics(metrics_file)

        def _save_checkpoint(self):
            super()._save_checkpoint()
            if self.keep_last_epochs is not None:
                prune_epochs(self.checkpoint_dir, self.keep_last_epochs)

        def save_model(self, save_dir):
            with atomic_dir(save_dir) as tmp:
                paddle.save(self.model.state_dict(), os.path.join(tmp, "model.pdparams"))
                paddle.save(self.optimizer.state_dict(), os.path.join(tmp, "model.pdopt"))

        def _save_metrics(self):
            with atomic_path(os.path.join(self.checkpoint_dir, "metrics.pkl")) as tmp:
                with open(tmp, "wb") as file:
                    pickle.dump(self.best_metrics, file)

    return AtomicTrainer


def prune_epochs(checkpoint_dir, keep_last):
    """Remove every ``epoch_N/`` in ``checkpoint_dir`` but the ``keep_last`` highest ``N``; returns the removed.

    ``best_model/`` and anything not named ``epoch_N`` are left alone.  (One sentiment run
    that kept every epoch grew to 639 MB.)
    """
    epochs = []
    for entry in os.scandir(checkpoint_dir):
        number = entry.name[len("epoch_"):]
        if entry.is_dir() and entry.name.startswith("epoch_") and number.isdigit():
            epochs.append((int(number), entry.path))
    removed = [path for _, path in sorted(epochs)[:-keep_last]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


@functools.cache
def hub_data_parallel_trainer():
    """``paddlehub.Trainer`` that trains like one process with the global batch, on the launched ranks.

    PaddleHub 2.4's ``Trainer`` wraps the model in ``paddle.DataParallel`` when
    launched on several ranks, then computes the loss with
    ``self.model._layers.training_step(...)``, which bypasses the wrapper: the
    gradients are never all-reduced and every rank trains on its own share of
    the data only.  This subclass, on 2 or more ranks:

    * averages the gradients after ``backward()`` (see :func:`~paddle_course.common.parallel.average_gradients`);
    * replays the other ranks' dropout draws, so that the masks are the
      one-process run's (see :func:`~paddle_course.common.parallel.replay_random_draws_of_other_ranks`);
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

    class DataParallelTrainer(atomic_trainer()):
        def __init__(self, model, optimizer, *args, **kwargs):
            self.step_losses, self.epoch_seconds, self._epoch_started = [], {}, None
            super().__init__(model, optimizer, *args, **kwargs)
            if self.nranks > 1:
                self._random_hooks = parallel.replay_random_draws_of_other_ranks(model, self.local_rank, self.nranks)

        def _load_checkpoint(self):
            if os.path.isdir(self.checkpoint_dir):  # rank 0 created it; another machine's ranks may not see it
                super()._load_checkpoint()
            if self.nranks > 1:
                _check_ranks_resume_together(self.current_epoch, self.local_rank, self.checkpoint_dir)

        def training_step(self, batch, batch_idx):
            if batch_idx == 0:
                self._epoch_started = time.perf_counter()
            loss, metrics = super().training_step(batch, batch_idx)  # forward and backward on this rank's rows
            if self.nranks > 1:
                parallel.average_gradients(self.model._layers.parameters())
                loss, metrics = parallel.mean_over_ranks(loss, metrics)
            self.step_losses.append(float(loss))
            return loss, metrics

        def optimizer_zero_grad(self, epoch_idx, batch_idx, optimizer):
            super().optimizer_zero_grad(epoch_idx, batch_idx, optimizer)
            self.epoch_seconds[epoch_idx] = time.perf_counter() - self._epoch_started

    return DataParallelTrainer


def _check_ranks_resume_together(current_epoch, rank, checkpoint_dir):
    """Raise unless every rank found the same ``epoch_N/`` to resume from (one all-reduce)."""
    import paddle
    import paddle.distributed as dist

    epochs = paddle.to_tensor([current_epoch, -current_epoch], dtype="int64")
    dist.all_reduce(epochs, op=dist.ReduceOp.MAX)
    latest, earliest = int(epochs[0]), -int(epochs[1])
    if latest != earliest:
        raise RuntimeError(
            f"rank {rank}: the ranks found different checkpoints to resume from in {checkpoint_dir} "
            f"(epochs {earliest} to {latest}); resuming a data-parallel run needs the folder on a file system "
            f"all ranks share, or start with an empty folder")
