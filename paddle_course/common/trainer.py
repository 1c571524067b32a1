"""``hub.Trainer`` made safe and honest for the course's fine-tunes (course 3.3, PaddleHub's Fine-tune API).

* :func:`atomic_trainer` -- ``hub.Trainer`` whose checkpoints are written atomically in
  formats that cannot carry code (safetensors and JSON, never a pickle), read back on resume
  without running code, and pruned to the best and the last few epochs; and
  which, given a ``dev_metric``, chooses the best epoch on the exact metric of the whole dev
  set, counts the starting weights as epoch 0 (a fine-tune never keeps weights that are worse
  on dev than where it started), and says what it resumes from instead of PaddleHub's
  "checkpoint not found, start from scratch" when it starts from pre-trained weights;
* :func:`hub_data_parallel_trainer` -- the same, trained data-parallel over the ranks of
  ``python -m paddle.distributed.launch`` with the numbers of one process;
* :func:`train_keeping_best` -- the loop every package's ``finetune`` runs with them.

The classes come from functions, so that importing this module does not import PaddleHub;
they are cached, so every caller gets the same class.  The before/after report that every
fine-tune prints is :mod:`paddle_course.common.finetune_report`.
"""
import contextlib
import functools
import json
import os
import shutil
import time
from collections import defaultdict

from paddle_course.common import parallel
from paddle_course.common.checkpoints import (PARAMS_FILE, load_metrics, load_optimizer_state, load_weights,
                                              save_optimizer_state, weights_in)
from paddle_course.common.fileio import atomic_dir, atomic_path

KEEP_LAST_EPOCHS = 2
BEST_EPOCH_FILE = "best_epoch.json"  # hub.Trainer's metrics.pkl as JSON, and which epoch best_model/ is
LEGACY_METRICS_FILE = "metrics.pkl"  # what hub.Trainer (and the course before) pickled: read safely, never written


class _CourseTrainerSteps:
    """What :func:`atomic_trainer` adds to ``hub.Trainer`` (a mixin: defined without importing PaddleHub)."""

    def __init__(self, model, optimizer, *args, dev_metric=None, keep_last_epochs=KEEP_LAST_EPOCHS, **kwargs):
        if keep_last_epochs is not None and (isinstance(keep_last_epochs, bool) or not isinstance(keep_last_epochs, int)
                                             or keep_last_epochs < 0):
            raise ValueError(f"keep_last_epochs must be 0 (only best_model/) or more, or None (every epoch), "
                             f"got {keep_last_epochs!r}")
        self.keep_last_epochs = keep_last_epochs
        self.dev_metric, self.best_epoch, self.dev_history = dev_metric, None, []
        super().__init__(model, optimizer, *args, **kwargs)

    def load_model(self, load_dir):
        weights = weights_in(load_dir)
        if weights is None:
            raise FileNotFoundError(f"{load_dir}: no {PARAMS_FILE} (nor an old model.pdparams) to resume from")
        self.model.set_state_dict(load_weights(weights))
        self.optimizer.set_state_dict(load_optimizer_state(load_dir))

    def _load_metrics(self):
        """The best metrics so far: ``best_epoch.json``, else an old folder's ``metrics.pkl`` (read safely)."""
        recorded = _read_best_epoch_file(self.checkpoint_dir)
        if recorded is not None and isinstance(recorded.get("metrics"), dict):
            self.best_metrics = defaultdict(int, recorded["metrics"])
            return
        metrics_file = os.path.join(self.checkpoint_dir, LEGACY_METRICS_FILE)
        if os.path.exists(metrics_file):
            self.best_metrics = defaultdict(int, load_metrics(metrics_file))

    def _save_checkpoint(self):
        super()._save_checkpoint()
        if self.keep_last_epochs is not None:
            keep = self.keep_last_epochs
            if keep == 0 and weights_in(os.path.join(self.checkpoint_dir, "best_model")) is None:
                keep = 1  # no dev set, no best_model/: the last epoch is the result, never removed
            prune_epochs(self.checkpoint_dir, keep)

    def _load_checkpoint(self):
        from paddlehub.utils.log import logger

        if _latest_epoch(self.checkpoint_dir) is None:  # hub.Trainer would say "start from scratch"
            if self.local_rank == 0:
                logger.info(f"no epoch_N/ in {self.checkpoint_dir} to resume from: training starts from "
                            f"the model's current weights")
            return
        super()._load_checkpoint()
        self.best_epoch = _read_best_epoch(self.checkpoint_dir)

    def save_model(self, save_dir):
        """``model.safetensors``, and in an ``epoch_N/`` ``optimizer.safetensors`` and ``optimizer.json``:
        no file that can carry code.

        (hub.Trainer writes ``model.pdparams`` and ``model.pdopt`` with ``paddle.save``, i.e. pickles,
        into ``best_model/`` too.)  ``best_model/`` is loaded, never resumed from (hub.Trainer resumes
        from the latest ``epoch_N/``), so it gets no optimizer state: Adam's two moments are twice the
        weights (a sentiment ``best_model/`` is 12 MB instead of 34 MB).
        """
        from paddle_course.common.safe_weights import save_state

        with atomic_dir(save_dir) as tmp:
            save_state(self.model.state_dict(), os.path.join(tmp, PARAMS_FILE))
            if os.path.basename(os.path.normpath(save_dir)) != "best_model":
                # before the first step Adam has no state yet: an empty file is right
                save_optimizer_state(self.optimizer.state_dict(), tmp)

    def _save_metrics(self):  # hub.Trainer calls it right after saving a new best_model/
        """``best_epoch.json``: the best metrics (hub.Trainer's ``metrics.pkl``, as JSON) and their epoch."""
        self.best_epoch = self.current_epoch
        record = {"best_epoch": self.best_epoch, "metrics": {k: float(v) for k, v in self.best_metrics.items()}}
        with atomic_path(os.path.join(self.checkpoint_dir, BEST_EPOCH_FILE)) as tmp:
            tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")

    def evaluate(self, eval_dataset, batch_size=1, num_workers=0, collate_fn=None):
        import paddle
        from paddlehub.utils.log import logger

        if self.dev_metric is None:
            return super().evaluate(eval_dataset, batch_size, num_workers, collate_fn)
        if self.local_rank != 0:
            return None  # hub.Trainer evaluates on rank 0 only
        layer = self.model._layers if isinstance(self.model, paddle.DataParallel) else self.model
        layer.eval()
        with paddle.no_grad():
            metrics = {name: float(value) for name, value in self.dev_metric(layer).items()}
        self.dev_history.append((self.current_epoch, metrics))
        logger.eval(f"[Evaluation result] epoch {self.current_epoch}, the whole dev set: "
                    + " ".join(f"{name}={value:.4f}" for name, value in metrics.items()))
        return {"metrics": metrics}

    def train(self, train_dataset, epochs=1, batch_size=1, num_workers=0, eval_dataset=None, log_interval=10,
              save_interval=10, collate_fn=None):
        if eval_dataset is not None and self.dev_metric is not None and self.current_epoch == 0 \
                and self.local_rank == 0:
            self._keep_the_start(eval_dataset)
        super().train(train_dataset, epochs, batch_size, num_workers, eval_dataset, log_interval, save_interval,
                      collate_fn)

    def _keep_the_start(self, eval_dataset):
        """Measure the starting weights and save them as best_model/: the epoch-0 candidate."""
        from paddlehub.utils.log import logger

        self.best_metrics = self.evaluate(eval_dataset)["metrics"]
        self.save_model(os.path.join(self.checkpoint_dir, "best_model"))
        self._save_metrics()
        logger.eval("the starting weights are best_model/ (epoch 0) until an epoch does better on dev")


@functools.cache
def atomic_trainer():
    """``hub.Trainer`` with atomic checkpoints and, given ``dev_metric``, an honest choice of the best epoch.

    * hub.Trainer pickles: ``epoch_N/`` and ``best_model/`` get ``model.pdparams`` and
      ``model.pdopt`` (``paddle.save``) and the folder ``metrics.pkl`` (``pickle.dump``), written
      in place.  Here each of those folders holds ``model.safetensors`` (the weights), and each
      ``epoch_N/`` also ``optimizer.safetensors`` (the optimizer's tensors) and ``optimizer.json``
      (the rest of its state: the LR scheduler's numbers) to resume from; the best metrics go to
      ``best_epoch.json`` with the epoch they are from; nothing written can carry code.  Each
      folder is written next to its final name and renamed into place, the JSON likewise: a
      crash leaves the previous checkpoint intact.
    * Resuming a folder (hub.Trainer's ``_load_checkpoint``) reads those files, or, in a
      folder written by PaddleHub's own hub.Trainer or an older course version,
      ``epoch_N/model.pdparams``, ``model.pdopt`` and ``metrics.pkl`` through the restricted
      unpickler of :mod:`paddle_course.common.safe_weights` instead of
      ``pickle.load``/``paddle.load``: a crafted file left in the folder is refused
      (``UnsafeWeightsError`` naming it) and nothing in it runs.
    * ``keep_last_epochs`` (default :data:`KEEP_LAST_EPOCHS`; None keeps all): after each
      save only the newest that many ``epoch_N/`` folders stay; ``best_model/`` always stays.
      0 keeps ``best_model/`` only (such a folder cannot be resumed); without a dev set there
      is no ``best_model/`` and the last epoch stays.
    * ``dev_metric(model) -> {name: value, ...}`` (the first name is the one that chooses):
      hub.Trainer's own evaluation averages ``validation_step``'s metric over batches, which for
      a metric like mAP is not the metric of the whole set (a fine-tune logged ``best
      map50=0.8579`` and then measured 0.844 on the same images).  With ``dev_metric`` the
      evaluation after every epoch *is* the metric of the whole dev set, the one the fine-tune
      reports, so the number logged, the epoch kept and the number printed at the end agree.
    * ``train`` with a dev set first measures the starting weights and saves them as
      ``best_model/`` (epoch 0): an epoch replaces them only if it is better on dev.
      ``best_epoch`` and ``dev_history`` (``[(epoch, metrics), ...]``) say what happened.
    * hub.Trainer logs "PaddleHub model checkpoint not found, start from scratch..." whenever
      ``checkpoint_dir`` holds no ``epoch_N/`` to resume, even when the model was just loaded
      with pre-trained weights.  Here that case says what is true: nothing to resume, training
      starts from the model's current weights.
    """
    import paddlehub as hub

    return type("AtomicTrainer", (_CourseTrainerSteps, hub.Trainer), {"__doc__": atomic_trainer.__doc__})


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
    removed = [path for _, path in sorted(epochs)[:max(0, len(epochs) - keep_last)]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _latest_epoch(checkpoint_dir):
    """The highest ``N`` of the ``epoch_N/`` folders in ``checkpoint_dir`` (hub.Trainer's rule), or None."""
    if not os.path.isdir(checkpoint_dir):
        return None
    numbers = [int(name.split("_")[-1]) for name in os.listdir(checkpoint_dir)
               if name.startswith("epoch_") and name.split("_")[-1].isdigit()]
    return max(numbers) if numbers else None


def _read_best_epoch_file(checkpoint_dir):
    """``best_epoch.json`` as a dict, or None (a folder written by PaddleHub's own hub.Trainer has none)."""
    path = os.path.join(checkpoint_dir, BEST_EPOCH_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path}: not the best_epoch.json a course fine-tune writes ({error})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}: not the best_epoch.json a course fine-tune writes (a {type(record).__name__})")
    return record


def _read_best_epoch(checkpoint_dir):
    record = _read_best_epoch_file(checkpoint_dir)
    return None if record is None else record.get("best_epoch")


@contextlib.contextmanager
def hub_logs(quiet):
    """PaddleHub's log lines (loss per step, evaluation per epoch) off while ``quiet``."""
    from paddlehub.utils.log import logger

    was_enabled = logger.is_enable
    if quiet:
        logger.disable()
    try:
        yield
    finally:
        if quiet and was_enabled:
            logger.enable()


def train_keeping_best(trainer, train_dataset, dev_dataset, *, epochs, batch_size, log_interval, collate_fn=None,
                       quiet=False):
    """``trainer.train(...)`` saving every epoch, evaluating each on ``dev_dataset``; returns the trainer.

    The trainer is an :func:`atomic_trainer` (or :func:`hub_data_parallel_trainer`) made with
    ``dev_metric``: afterwards ``trainer.best_epoch`` (0: the start was never beaten),
    ``trainer.best_metrics`` and ``trainer.dev_history`` tell which weights ``best_model/`` holds.
    """
    with hub_logs(quiet):
        trainer.train(train_dataset, epochs=epochs, batch_size=batch_size, eval_dataset=dev_dataset,
                      log_interval=max(1, log_interval), save_interval=1, collate_fn=collate_fn)
    return trainer


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
