"""Fine-tune the text-line recognizer (CRNN + CTC) with PaddleHub's Fine-tune API (course 3.3).

:func:`finetune` starts from the base CRNN shipped in the ``course_ocr`` module
(``assets/crnn_base``) and trains on your lines, given in PaddleOCR's recognition label
format: one ``image_path<TAB>transcription`` per line, paths relative to the list file
(:class:`RecListDataset`).  The checkpoint folder it writes plugs into the hub module:
``hub.Module(name="course_ocr", checkpoint=DIR)`` reads with this CRNN while detection
stays PP-OCRv4.  :func:`pretrain_base` is how the base CRNN was made (rendered lines,
a plain dynamic-graph loop).
"""
import math
import random
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import paddle
import paddle.nn as nn

from paddle_course.common.checkpoints import best_checkpoint_dir, load_weights
from paddle_course.common.finetune_report import FinetuneReport, held_out_note, hold_out
from paddle_course.common.images import read_image
from paddle_course.common.inputs import existing_file, positive_int, positive_number
from paddle_course.common.progress import progress, say
from paddle_course.common.seeding import seed_everything
from paddle_course.common.trainer import KEEP_LAST_EPOCHS, atomic_trainer, train_keeping_best
from paddle_course.ocr.crnn import (BASE_CHECKPOINT, HEIGHT, CRNNRecognizer, default_characters, prepare_line_image)
from paddle_course.ocr.lines import held_out_crops, pretrain_line, render_line
from paddle_course.ocr.metrics import line_metrics


def collate(samples):
    """Pad a batch: images to the widest (white, +1.0), labels to the longest (0).

    Returns ``[images, labels, label_lengths, widths]``; ``widths`` are each image's own
    width, which the CRNN uses to keep the padding out of a line (``forward``, ``loss``,
    ``validation_step``).
    """
    width = max(image.shape[2] for image, _ in samples)
    images = np.ones((len(samples), 1, HEIGHT, width), dtype="float32")
    longest = max(len(ids) for _, ids in samples)
    labels = np.zeros((len(samples), longest), dtype="int32")
    lengths = np.zeros(len(samples), dtype="int64")
    widths = np.zeros(len(samples), dtype="int64")
    for i, (image, ids) in enumerate(samples):
        images[i, :, :, :image.shape[2]] = image
        labels[i, :len(ids)] = ids
        lengths[i] = len(ids)
        widths[i] = image.shape[2]
    return [images, labels, lengths, widths]


class LineSamples(paddle.io.Dataset):
    """Text lines ready for the CRNN: ``samples`` (prepared image, label ids) and their ``texts``."""

    def __init__(self, samples, texts):
        super().__init__()
        self.samples, self.texts = list(samples), list(texts)

    def subset(self, indices):
        """The lines at ``indices``, in that order."""
        return LineSamples([self.samples[i] for i in indices], [self.texts[i] for i in indices])

    def __add__(self, other):
        return LineSamples(self.samples + other.samples, self.texts + other.texts)

    def __getitem__(self, idx):
        return self.samples[idx]

    def __len__(self):
        return len(self.samples)


class RecListDataset(LineSamples):
    """Lines of ``image_path<TAB>transcription`` (PaddleOCR's rec label format).

    Every line is checked when the dataset is built, so a bad one is reported as
    ``FILE:LINE: problem`` before any training starts: no TAB, a missing or
    unreadable image, an empty transcription, characters outside the dictionary.
    Image paths are relative to the list file's folder (absolute paths work too).
    Images are kept in memory already resized, so epochs are fast.
    """

    def __init__(self, list_file, characters):
        self.list_file = existing_file(list_file, "label file")
        index = {ch: i + 1 for i, ch in enumerate(characters)}
        samples, texts = [], []
        text = self.list_file.read_text(encoding="utf-8-sig")
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                image, transcription = self._read_line(f"{self.list_file}:{lineno}", line, index, characters)
                samples.append((prepare_line_image(image), [index[ch] for ch in transcription]))
                texts.append(transcription)
        if not samples:
            raise ValueError(f"{self.list_file}: no labelled lines")
        super().__init__(samples, texts)

    def _read_line(self, where, line, index, characters):
        """``(grey image, transcription)`` of one list line, or a ValueError starting with ``FILE:LINE``."""
        if "\t" not in line:
            raise ValueError(f"{where}: expected 'image_path<TAB>transcription', found no TAB")
        rel, transcription = line.split("\t", 1)
        transcription = transcription.strip()
        if not transcription:
            raise ValueError(f"{where}: empty transcription for {rel}")
        unknown = sorted({ch for ch in transcription if ch not in index})
        if unknown:
            raise ValueError(f"{where}: characters outside the dictionary: {''.join(unknown)!r} "
                             f"(the recognizer knows {len(characters)} characters)")
        path = Path(rel.strip())
        path = path if path.is_absolute() else self.list_file.parent / path
        try:
            return read_image(path, cv2.IMREAD_GRAYSCALE), transcription
        except FileNotFoundError:
            raise ValueError(f"{where}: image not found: {path}") from None
        except ValueError:
            raise ValueError(f"{where}: not a readable image: {path}") from None


def evaluate(model, dataset, batch_size=64):
    """``{"acc", "char_acc", "lines"}`` of ``model`` on a ``RecListDataset``.

    Reads with ``model.read`` (equal-width groups, no padding), so the numbers do not
    depend on the batch size or on the order of the lines.
    """
    decoded = [text for text, _ in model.read([image for image, _ in dataset.samples], batch_size)]
    return {**line_metrics(decoded, dataset.texts), "lines": len(dataset)}

def width_buckets(widths, batch_size, rng):
    """Batches of indices of similar width (less padding to compute), in a seeded random order."""
    order = sorted(range(len(widths)), key=lambda i: (widths[i], rng.random()))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def base_lines(count, characters, seed):
    """``count`` lines rendered like the base CRNN's own training data, to mix into a fine-tune.

    ``pretrain_line`` texts in the shipped font, 30 % blurred and noisy, as :func:`pretrain_base`
    draws them, from a seed no pre-training or held-out line uses.  Training on the learner's
    lines alone teaches the CRNN that every line looks like them: after 5 epochs on serif digits
    the base read ``湖4武汉市`` for ``湖北省武汉市`` (catastrophic forgetting); rehearsing the base's
    own kind of lines next to the new ones keeps what it knew.
    """
    rng = random.Random(seed + 30_000)
    index = {ch: i + 1 for i, ch in enumerate(characters)}
    samples, texts = [], []
    for _ in range(count):
        text = pretrain_line(rng, characters)
        samples.append((prepare_line_image(render_line(text, rng, "wqy", noisy=rng.random() < 0.3)),
                        [index[c] for c in text]))
        texts.append(text)
    return LineSamples(samples, texts)


def base_task_lines(n=300):
    """The base CRNN's own held-out check (``held_out_crops``): its task, measured before and after."""
    crops = held_out_crops(n)
    return LineSamples([(prepare_line_image(crop), []) for crop, _ in crops], [text for _, text in crops])


def train_and_dev(train, dev, characters, seed):
    """``(train set, dev set, how dev was made)``: ``dev``'s lines, else a seeded fifth of ``train``'s."""
    train_set = RecListDataset(train, characters)
    if dev is not None:
        dev_set = RecListDataset(dev, characters)
        return train_set, dev_set, f"{len(dev_set)} lines of {dev}"
    kept, held = hold_out(range(len(train_set)), seed=seed)
    return train_set.subset(kept), train_set.subset(held), held_out_note(len(held), len(train_set), train, seed)


def finetune(train, dev=None, *, out_dir, init="shipped", epochs=5, batch_size=32, lr=1e-3, seed=0, quiet=False,
             base_mix=1.0, keep_epochs=KEEP_LAST_EPOCHS):
    """Fine-tune the CRNN with ``hub.Trainer`` on a rec label file; write a checkpoint folder.

    Args:
        train, dev: ``image_path<TAB>transcription`` list files; without ``dev`` a seeded fifth
            of ``train`` is held out as dev (and not trained on).
        out_dir: the checkpoint folder; hub.Trainer's per-epoch files go to ``out_dir/trainer``.
        init: "shipped" (the base CRNN shipped with the module), a checkpoint folder, or None (from scratch).
        base_mix: against forgetting, ``base_mix`` times as many lines of the base's own kind
            (:func:`base_lines`) are mixed into training (0: none; from scratch: none).
        keep_epochs: how many of the last ``epoch_N/`` folders ``out_dir/trainer`` keeps besides
            ``best_model/`` (0: none).

    The epoch kept is the best on dev, the starting weights included.  Returns ``{"checkpoint",
    "before", "after", "base_before", "base_after", "seconds", "report"}``: ``before``/``after``
    are ``{"acc", "char_acc", "lines"}`` on dev, ``base_*`` on the base's held-out lines
    (:func:`base_task_lines`); ``report`` is the :class:`FinetuneReport` (also in
    ``out_dir/finetune_report.json``).
    """
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_number("lr", lr)
    paddle.set_device("cpu")
    seed_everything(seed)
    init = BASE_CHECKPOINT if init == "shipped" else init
    model = CRNNRecognizer.load(init) if init else CRNNRecognizer(default_characters())
    train_set, dev_set, dev_note = train_and_dev(train, dev, model.characters, seed)
    mix = base_lines(round(base_mix * len(train_set)), model.characters, seed) if init and base_mix > 0 else None
    base_set = base_task_lines()
    before, base_before = evaluate(model, dev_set), evaluate(model, base_set)
    say(f"before: dev line accuracy {before['acc']:.4f} on {before['lines']} lines, base task {base_before['acc']:.4f}",
        quiet)
    trainer, seconds = _train(model, train_set + mix if mix else train_set, dev_set, Path(out_dir) / "trainer",
                              epochs, batch_size, lr, quiet, keep_epochs)
    after, base_after = evaluate(model, dev_set), evaluate(model, base_set)
    report = FinetuneReport("course_ocr's CRNN line recognizer",
                            "the shipped base CRNN" if init == BASE_CHECKPOINT else str(init or "random weights"),
                            dev_note, epochs, trainer.best_epoch, str(out_dir),
                            f"hub.Module(name='course_ocr', checkpoint='{out_dir}')", seconds)
    if mix:
        report.notes.append(f"against forgetting: {len(mix)} lines rendered like the base's own training data were "
                            f"trained on next to the {len(train_set)} lines of {train}")
    report.measure("your task", f"{before['lines']} dev lines", "line accuracy", before["acc"], after["acc"])
    report.measure("your task", f"{before['lines']} dev lines", "char accuracy", before["char_acc"], after["char_acc"])
    report.measure("base task", f"the base's {base_before['lines']} held-out rendered lines", "line accuracy",
                   base_before["acc"], base_after["acc"])
    model.save(out_dir, extra={"trained_on": str(train), "epochs": epochs, "seed": seed, "before": before,
                               "after": after, "base_before": base_before, "base_after": base_after})
    report.save(out_dir)
    return {"checkpoint": str(out_dir), "before": before, "after": after, "base_before": base_before,
            "base_after": base_after, "seconds": seconds, "report": report}


def _train(model, train_set, dev_set, trainer_dir, epochs, batch_size, lr, quiet, keep_epochs=KEEP_LAST_EPOCHS):
    """hub.Trainer over ``train_set``, choosing on dev line accuracy; leaves the kept epoch's weights in ``model``."""
    shutil.rmtree(trainer_dir, ignore_errors=True)  # a rerun starts from `init`, not from old epochs
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(trainer_dir),
                               dev_metric=lambda network: _dev_scores(network, dev_set), keep_last_epochs=keep_epochs)
    started = time.time()
    train_keeping_best(trainer, train_set, dev_set, epochs=epochs, batch_size=batch_size,
                       log_interval=math.ceil(len(train_set) / batch_size), collate_fn=collate, quiet=quiet)
    model.set_state_dict(load_weights(best_checkpoint_dir(trainer_dir)))
    model.eval()
    return trainer, time.time() - started


def _dev_scores(network, dev_set):
    scores = evaluate(network, dev_set)
    return {"acc": scores["acc"], "char_acc": scores["char_acc"]}  # line accuracy first: it chooses the epoch


def pretrain_base(out=BASE_CHECKPOINT, lines=8000, epochs=10, batch_size=16, lr=4e-3, seed=0, quiet=False):
    """Train the base CRNN from scratch on rendered lines (how ``assets/crnn_base`` was made).

    Lines come from ``pretrain_line`` in the shipped font (WenQuanYi Micro Hei), 30 %
    blurred and noisy, rendered again with new text every epoch (``lines`` per epoch),
    so the network never sees the same line twice.  Plain dynamic-graph loop
    (to_tensor, forward, CTC loss, backward, step) over width buckets; Adam with a
    linear warm-up, then a cosine decay, and gradients clipped to norm 5 (CTC's early
    gradients are large).  After every epoch the 300 held-out lines
    (``held_out_crops``) are read with ``read``.

    Returns ``{"checkpoint", "acc", "char_acc", "seconds", "cpu_seconds", "history"}``;
    ``acc``/``char_acc`` are the last epoch's held-out accuracy.
    """
    paddle.set_device("cpu")
    seed_everything(seed)
    rng = random.Random(seed)
    model = CRNNRecognizer(default_characters())
    held = [(prepare_line_image(crop), text) for crop, text in held_out_crops(300, seed)]
    steps_per_epoch = math.ceil(lines / batch_size)
    warmup = min(200, steps_per_epoch)
    schedule = paddle.optimizer.lr.LinearWarmup(
        paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=epochs * steps_per_epoch - warmup),
        warmup_steps=warmup, start_lr=lr / 20, end_lr=lr)
    optimizer = paddle.optimizer.Adam(learning_rate=schedule, parameters=model.parameters(),
                                      grad_clip=nn.ClipGradByGlobalNorm(5.0))
    started, cpu_started = time.time(), time.process_time()
    history = []
    for epoch in range(epochs):
        train = _render_lines(rng, lines, model.characters, desc=f"render {epoch + 1}", quiet=quiet)
        batches = width_buckets([image.shape[2] for image, _ in train], batch_size, rng)
        total = _train_epoch(model, optimizer, schedule, train, batches, desc=f"epoch {epoch + 1}", quiet=quiet)
        decoded = [text for text, _ in model.read([image for image, _ in held])]
        scores = line_metrics(decoded, [text for _, text in held])
        history.append({"epoch": epoch + 1, "loss": round(total, 4), **scores})
        say(f"epoch {epoch + 1}/{epochs}: loss {total:.3f}, held-out line accuracy "
            f"{scores['acc']:.3f}, char accuracy {scores['char_acc']:.4f} ({time.time() - started:.0f} s, "
            f"{time.process_time() - cpu_started:.0f} s CPU)", quiet)
    seconds, cpu_seconds = time.time() - started, time.process_time() - cpu_started
    model.save(out, extra={"trained_on": f"{epochs} x {lines} rendered lines (pretrain_line), seed {seed}",
                           "pretrain": {"lines": lines, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                                        "seed": seed, "seconds": round(seconds), "cpu_seconds": round(cpu_seconds)},
                           "held_out": {"lines": len(held), **scores}, "history": history})
    return {"checkpoint": str(out), **scores, "seconds": seconds, "cpu_seconds": cpu_seconds, "history": history}



def _render_lines(rng, count, characters, desc, quiet):
    """``count`` fresh training lines for :func:`pretrain_base`: ``[(prepared image, label ids)]``."""
    index = {ch: i + 1 for i, ch in enumerate(characters)}
    train = []
    for _ in progress(range(count), desc=desc, quiet=quiet):
        text = pretrain_line(rng, characters)
        train.append((prepare_line_image(render_line(text, rng, "wqy", noisy=rng.random() < 0.3)),
                      [index[c] for c in text]))
    return train


def _train_epoch(model, optimizer, schedule, train, batches, desc, quiet):
    """One epoch of the plain loop (to_tensor, forward, CTC loss, backward, step); the mean batch loss."""
    model.train()
    total = 0.0
    for batch in progress(batches, desc=desc, quiet=quiet):
        images, labels, lengths, widths = (paddle.to_tensor(a) for a in collate([train[i] for i in batch]))
        loss = model.loss(model(images, widths), labels, lengths, widths)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        schedule.step()
        total += float(loss)
    return total / len(batches)
