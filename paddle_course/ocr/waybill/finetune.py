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


def finetune(train_path, dev_path, out_dir, model_dir=ASSETS, epochs=3, batch_size=32, learning_rate=1e-3,
             seed=0, checkpoint_dir=None):
    """Train from ``model_dir`` on ``train_path``, report dev field accuracy before and after.

    Returns ``{"before": {...}, "after": {...}, "n_train": int, "n_dev": int, "out_dir": str}``,
    each accuracy dict with name / phone / address / all / n (see :func:`.metrics.exact_match`).
    """
    import paddle

    from paddle_course.common.trainer import atomic_trainer

    from .train import save_model

    paddle.seed(seed)
    np.random.seed(seed)
    train_rows, dev_rows = read_jsonl(train_path), read_jsonl(dev_path)
    train_examples = labelled_examples(train_rows, source=str(train_path))
    labelled_examples(dev_rows, source=str(dev_path))  # a dev row whose fields are not in its text is an error
    labeller = WaybillLabeller(model_dir)
    before = dev_accuracy(labeller, dev_rows)

    model = labeller.model
    model.train()
    optimizer = paddle.optimizer.Adam(learning_rate, parameters=model.parameters(),
                                      grad_clip=paddle.nn.ClipGradByGlobalNorm(5.0))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=checkpoint_dir or tmp)
        trainer.train(WaybillDataset(train_examples, labeller.vocab), epochs=epochs, batch_size=batch_size,
                      log_interval=max(1, len(train_examples) // batch_size // 4), save_interval=epochs,
                      collate_fn=collate)
    model.eval()
    after = dev_accuracy(labeller, dev_rows)
    save_model(model, labeller.vocab, out_dir)
    return {"before": before, "after": after, "n_train": len(train_rows), "n_dev": len(dev_rows),
            "out_dir": os.path.abspath(out_dir)}
