"""Fine-tune ``course_sentiment`` on your own ``text<TAB>label`` data with PaddleHub's ``hub.Trainer``.

Course part 3.3 (Fine-tune API): a data set (``paddle.io.Dataset``), a model that
starts from the pre-trained weights and knows its ``training_step`` and
``validation_step``, an optimizer, and ``hub.Trainer(...).train(...)``, which
prints the loss while training and the dev accuracy after every epoch and keeps
``epoch_N/`` and ``best_model/`` checkpoints. Load the result back with::

    hub.Module(name="course_sentiment", checkpoint="<out>")

The whole loop is ``fit`` (one function, one ``seed``), so data-parallel training
can be added in one place.
"""
import random
import time
from pathlib import Path

import numpy as np
import paddle

from paddle_course import sentiment
from paddle_course.fileio import write_json
from paddle_course.progress import say


class SentimentDataset(paddle.io.Dataset):
    """A ``text<TAB>label`` file as ``(token_ids, label)`` pairs for ``hub.Trainer``.

    File problems (missing file, wrong columns, bad label, empty text) raise at
    construction with the file and line, see ``paddle_course.sentiment.read_tsv``.
    """

    def __init__(self, path, vocab, max_len=sentiment.DEFAULT_CONFIG["max_len"]):
        super().__init__()
        self.path = Path(path)
        self.pairs = sentiment.read_tsv(self.path)
        self.token_ids = [vocab.encode(sentiment.normalize_text(t), max_len) for t, _ in self.pairs]

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        return self.token_ids[index], np.int64(self.pairs[index][1])


def make_collate_fn(min_len):
    """Pad a list of ``(token_ids, label)`` into ``[ids: int64 [B, L], labels: int64 [B]]``."""

    def collate(samples):
        ids = sentiment.pad_batch([s[0] for s in samples], min_len)
        labels = np.array([s[1] for s in samples], dtype="int64")
        return [ids, labels]

    return collate


def set_seed(seed):
    """Seed every random step of training: weight init and dropout (Paddle), NumPy, Python.

    hub.Trainer's own shuffling is seeded by the epoch number, so it repeats too.
    """
    paddle.seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def fit(train_path, dev_path, checkpoint_dir, *, vocab, config, init_from="shipped", epochs=3, batch_size=32,
        lr=5e-4, seed=1, log_interval=50, quiet=False):
    """Train the sentiment CNN with ``hub.Trainer``; return ``(network with the best dev weights, best dev acc)``.

    ``init_from``: ``"shipped"`` (the module's weights), a checkpoint path, or None
    (random weights, for training from scratch). Optimizer: Adam, ``lr``.
    ``checkpoint_dir`` receives hub.Trainer's ``epoch_N/`` and ``best_model/`` plus
    ``vocab.json``/``config.json`` so it loads on its own. If it already holds
    ``epoch_N/`` folders, hub.Trainer resumes from the latest one.
    """
    import paddlehub as hub
    from paddlehub.utils.log import logger as hub_logger

    paddle.set_device("cpu")
    set_seed(seed)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    vocab.save(checkpoint_dir / "vocab.json")
    write_json(checkpoint_dir / "config.json", config)

    train_dataset = SentimentDataset(train_path, vocab, config["max_len"])
    dev_dataset = SentimentDataset(dev_path, vocab, config["max_len"]) if dev_path else None
    network = sentiment.build_network(len(vocab), config)
    if init_from is not None:
        start = sentiment.shipped_model_dir() if init_from == "shipped" else init_from
        network.set_state_dict(paddle.load(str(sentiment.resolve_checkpoint(start))))
    say(f"fine-tune: {len(train_dataset)} training texts from {train_path}"
        + (f", {len(dev_dataset)} dev texts from {dev_path}" if dev_dataset else "")
        + f"; start from {init_from or 'random weights'}; {epochs} epochs, batch {batch_size}, lr {lr}, seed {seed}",
        quiet)

    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=network.parameters())
    trainer = hub.Trainer(network, optimizer, checkpoint_dir=str(checkpoint_dir), use_vdl=False)
    was_enabled = hub_logger.is_enable
    if quiet:
        hub_logger.disable()
    try:
        trainer.train(train_dataset, epochs=epochs, batch_size=batch_size, eval_dataset=dev_dataset,
                      save_interval=1, log_interval=log_interval,
                      collate_fn=make_collate_fn(max(config["kernel_sizes"])))
    finally:
        if quiet and was_enabled:
            hub_logger.enable()

    best = sentiment.resolve_checkpoint(checkpoint_dir)
    network.set_state_dict(paddle.load(str(best)))
    network.eval()
    best_dev = float(trainer.best_metrics["acc"]) if dev_dataset is not None and trainer.best_metrics else None
    return network, best_dev


def finetune(train_path, dev_path, out_dir, *, epochs=3, batch_size=32, lr=5e-4, seed=1, init_from="shipped",
             log_interval=50, quiet=False):
    """Fine-tune the shipped ``course_sentiment`` weights on ``train_path``, evaluating on ``dev_path``.

    Both files are ``text<TAB>label`` (1 positive, 0 negative; an optional header
    line ``text<TAB>label``). The vocabulary stays the module's: characters it has
    never seen map to ``[UNK]``. Returns the best dev accuracy, the checkpoint to
    load (``out_dir``; ``best_model/`` inside it is used) and the time taken.
    """
    started = time.time()
    _, vocab, config = sentiment.load_model(None if init_from == "shipped" else init_from)
    network, best_dev = fit(train_path, dev_path, out_dir, vocab=vocab, config=config, init_from=init_from,
                            epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, log_interval=log_interval,
                            quiet=quiet)
    result = {
        "checkpoint": str(out_dir),
        "weights": str(sentiment.resolve_checkpoint(out_dir)),
        "best_dev_accuracy": best_dev,
        "seconds": round(time.time() - started, 1),
    }
    say(f"fine-tune done in {result['seconds']} s; best dev accuracy {best_dev}; "
        f"load it with hub.Module(name=\"course_sentiment\", checkpoint=\"{out_dir}\")", quiet)
    return result
