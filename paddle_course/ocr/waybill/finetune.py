"""Fine-tune the waybill labeller on your own waybills with PaddleHub's ``hub.Trainer`` (the course's atomic one) (Course 3).

    from paddle_course.ocr.waybill.finetune import finetune
    report = finetune("train.jsonl", "dev.jsonl", out_dir="my_waybill_model")
    report["before"]["all"], report["after"]["all"]       # dev field exact match

The files are JSONL, one waybill per line (see :mod:`.dataset`):
``{"text": "收件人：张三\\n电话：138...\\n地址：...", "name": "张三", "phone": "138...", "address": "..."}``.
The shipped weights are the starting point; the fine-tuned model is written to
``out_dir`` in the same layout (config.json, vocab.jsonl, model.safetensors), so
``WaybillLabeller(out_dir)`` loads it.
"""
import os
import tempfile

import numpy as np

from .dataset import encode_examples, labelled_examples, pad_batch, read_jsonl
from .metrics import exact_match
from .predict import ASSETS, WaybillLabeller


class WaybillDataset:
    """(ids, tag ids) per example, as a ``paddle.io.Dataset``-compatible sequence."""

    def __init__(self, examples, vocab, max_len=512):
        self.items = encode_examples(examples, vocab, max_len)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate(samples):
    """Pad one batch: [ids int64 [B, T], lengths int64 [B], tags int64 [B, T]]."""
    ids, lengths = pad_batch([s[0] for s in samples])
    tags, _ = pad_batch([s[1] for s in samples])
    return [ids, lengths, tags]


def dev_accuracy(labeller, rows):
    return exact_match(rows, labeller.extract([r["text"] for r in rows]))


def _scores(labeller, rows):
    """The dev metric the trainer chooses the epoch on: all three fields right first, then each field."""
    accuracy = dev_accuracy(labeller, rows)
    return {key: accuracy[key] for key in ("all", "name", "phone", "address")}


def base_waybills(count, seed):
    """``count`` waybills from the generator the shipped labeller was trained on, to mix into a fine-tune
    against forgetting (seed ``seed + 60_000``: none of its training, dev or held-out seeds)."""
    from .generator import WaybillGenerator

    return WaybillGenerator(seed + 60_000).samples(count) if count else []


def train_and_dev(train_path, dev_path, seed):
    """``(train rows, dev rows, how dev was made)``: ``dev_path``'s rows, else a seeded fifth of the training file."""
    from paddle_course.common.finetune_report import held_out_note, hold_out

    train_rows = read_jsonl(train_path)
    if dev_path is not None:
        return train_rows, read_jsonl(dev_path), f"the waybills of {dev_path}"
    kept, held = hold_out(train_rows, seed=seed)
    return kept, held, held_out_note(len(held), len(train_rows), train_path, seed)


def finetune(train_path, dev_path=None, out_dir="waybill_model", model_dir=ASSETS, epochs=3, batch_size=32,
             learning_rate=1e-3, seed=0, checkpoint_dir=None, base_mix=1.0, quiet=False, keep_epochs=2):
    """Train from ``model_dir`` on ``train_path``, keep the best dev epoch, report before and after.

    Without ``dev_path`` a seeded fifth of ``train_path`` is held out as dev.  Against forgetting,
    ``base_mix`` times as many generator waybills (:func:`base_waybills`) are trained on next to
    yours.  Every epoch is measured on dev (all three fields right); the best is kept, the
    shipped weights counting as epoch 0.  The base task is ``data/waybill/handwritten.jsonl``.

    Returns ``{"before", "after", "base_before", "base_after", "n_train", "n_dev", "out_dir", "report"}``,
    each accuracy dict with name / phone / address / all / n (see :func:`.metrics.exact_match`);
    ``report`` is the :class:`~paddle_course.common.finetune_report.FinetuneReport`, also in
    ``out_dir/finetune_report.json``.  hub.Trainer's ``epoch_N/`` and ``best_model/`` go to
    ``checkpoint_dir`` (default: a temporary folder), which keeps ``best_model/`` and the last
    ``keep_epochs`` epochs (2, as ``common.trainer.KEEP_LAST_EPOCHS``; 0: none).
    """
    import time

    import paddle

    from paddle_course.common.paths import data_path

    paddle.seed(seed)
    np.random.seed(seed)
    train_rows, dev_rows, dev_note = train_and_dev(train_path, dev_path, seed)
    train_examples = labelled_examples(train_rows, source=str(train_path))
    labelled_examples(dev_rows, source=str(dev_path or train_path))  # a dev row whose fields are not in its text
    mix = base_waybills(round(base_mix * len(train_rows)), seed) if base_mix > 0 else []
    base_rows = read_jsonl(data_path("waybill", "handwritten.jsonl"))
    labeller = WaybillLabeller(model_dir)
    before, base_before = dev_accuracy(labeller, dev_rows), dev_accuracy(labeller, base_rows)
    started = time.time()
    trainer = _train(labeller, train_examples + mix, dev_rows, epochs, batch_size, learning_rate, checkpoint_dir,
                     quiet, keep_epochs)
    after, base_after = dev_accuracy(labeller, dev_rows), dev_accuracy(labeller, base_rows)
    save_model_files(labeller, out_dir)
    report = _report(model_dir, dev_note, trainer, epochs, out_dir, time.time() - started, len(mix), len(train_rows),
                     (before, after, base_before, base_after))
    return {"before": before, "after": after, "base_before": base_before, "base_after": base_after,
            "n_train": len(train_rows), "n_dev": len(dev_rows), "out_dir": os.path.abspath(out_dir), "report": report}


def save_model_files(labeller, out_dir):
    from .train import save_model

    save_model(labeller.model, labeller.vocab, out_dir)


def _train(labeller, examples, dev_rows, epochs, batch_size, learning_rate, checkpoint_dir, quiet, keep_epochs=2):
    """hub.Trainer on ``examples``, choosing the epoch on dev; leaves the kept weights in ``labeller.model``."""
    import paddle

    from paddle_course.common.checkpoints import best_checkpoint_dir, load_weights
    from paddle_course.common.trainer import atomic_trainer, train_keeping_best

    model = labeller.model
    model.train()
    optimizer = paddle.optimizer.Adam(learning_rate, parameters=model.parameters(),
                                      grad_clip=paddle.nn.ClipGradByGlobalNorm(5.0))
    dev_items = WaybillDataset(labelled_examples(dev_rows), labeller.vocab)
    with tempfile.TemporaryDirectory() as tmp:
        folder = checkpoint_dir or tmp
        trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=folder,
                                   dev_metric=lambda layer: _scores(labeller, dev_rows), keep_last_epochs=keep_epochs)
        train_keeping_best(trainer, WaybillDataset(examples, labeller.vocab), dev_items, epochs=epochs,
                           batch_size=batch_size, log_interval=max(1, len(examples) // batch_size // 4),
                           collate_fn=collate, quiet=quiet)
        model.set_state_dict(load_weights(best_checkpoint_dir(folder)))
    model.eval()
    return trainer


def _report(model_dir, dev_note, trainer, epochs, out_dir, seconds, mixed, own, scores):
    from paddle_course.common.finetune_report import FinetuneReport

    before, after, base_before, base_after = scores
    report = FinetuneReport("the waybill labeller (BiGRU-CRF)",
                            "the shipped weights" if model_dir == ASSETS else str(model_dir), dev_note, epochs,
                            trainer.best_epoch, str(out_dir), f"WaybillLabeller('{out_dir}')", seconds)
    if mixed:
        report.notes.append(f"against forgetting: {mixed} waybills of the generator the shipped labeller learned "
                            f"from were trained on next to the {own} of yours")
    report.measure("your task", f"{before['n']} dev waybills", "all three right", before["all"], after["all"])
    report.measure("base task", f"{base_before['n']} hand-written waybills (data/waybill)", "all three right",
                   base_before["all"], base_after["all"])
    report.save(out_dir)
    return report
