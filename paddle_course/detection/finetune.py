"""Fine-tune the ``course_pedestrian`` Paddle detector on a Pascal VOC folder with ``hub.Trainer``.

Course 3.3 (Fine-tune API): a ``paddle.io.Dataset`` (``VOCPedestrianDataset``),
a model that knows its ``training_step`` and ``validation_step``
(``PedestrianFinetuneModel``), an optimizer, and ``hub.Trainer(...).train(...)``,
which logs the loss, evaluates the dev set after every epoch (``map50``: VOC
mAP@0.5 over the whole dev set, the measurement of ``detect evaluate``) and keeps
``epoch_N/`` and ``best_model/`` (the best dev epoch; the shipped weights count as
epoch 0).  Before and after, it measures the dev set and the base task (synthetic
scenes the shipped weights never saw) and writes them to ``<out>/metrics.json`` and
``<out>/finetune_report.json``. Load the result with::

    hub.Module(name="course_pedestrian", detector="paddle", checkpoint="<out>")
"""
import time
from pathlib import Path

import numpy as np
import paddle

from paddle_course.common.checkpoints import best_checkpoint_dir
from paddle_course.common.fileio import write_json
from paddle_course.common.finetune_report import FinetuneReport, held_out_note, hold_out
from paddle_course.common.images import read_image
from paddle_course.common.inputs import existing_dir, positive_int, positive_number
from paddle_course.common.progress import say
from paddle_course.common.seeding import seed_everything
from paddle_course.common.trainer import KEEP_LAST_EPOCHS, atomic_trainer, train_keeping_best
from paddle_course.detection import centernet
from paddle_course.detection.detectors import SHIPPED_CHECKPOINT
from paddle_course.detection.evaluate import held_out_set, map50_on
from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.synthetic import render_scene
from paddle_course.detection.voc import load_voc

BASE_TASK = {"num_images": 60, "seed": 123}  # `detect evaluate`'s synthetic scenes: held out from the shipped weights

MAX_BOXES = 32


class VOCPedestrianDataset(paddle.io.Dataset):
    """One split of a VOC folder as CenterNet training samples.

    Every image and XML is read and checked at construction, so a bad file fails
    at once with its name (see ``paddle_course.detection.voc``). An item is
    ``(image [3,192,256], heatmap [1,24,32], regression [4,24,32], mask [1,24,32],
    boxes [32,4] in input pixels, num_boxes)``; ``augment`` adds a seeded random
    horizontal flip.  ``samples`` (``[(image file or BGR array, boxes), ...]``) replaces
    the split's files.
    """

    def __init__(self, voc_dir, split="train", augment=False, seed=0, samples=None):
        super().__init__()
        self.samples = load_voc(voc_dir, split) if samples is None else list(samples)
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.inputs, self.boxes = [], []
        for image_path, boxes in self.samples:
            image = image_path if isinstance(image_path, np.ndarray) else read_image(image_path)
            boxes = np.asarray(boxes, dtype="float32").reshape(-1, 4)
            if len(boxes) > MAX_BOXES:
                raise ValueError(f"{image_path}: {len(boxes)} boxes, at most {MAX_BOXES} are supported")
            height, width = image.shape[:2]
            scale = np.array([centernet.INPUT_WIDTH / width, centernet.INPUT_HEIGHT / height] * 2, dtype="float32")
            self.inputs.append(centernet.preprocess(image))
            self.boxes.append(boxes * scale)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        image, boxes = self.inputs[index], self.boxes[index].copy()
        if self.augment and self.rng.random() < 0.5:
            image = image[:, :, ::-1].copy()
            boxes[:, [0, 2]] = centernet.INPUT_WIDTH - boxes[:, [2, 0]]
        heatmap, regression, mask = centernet.make_targets(boxes, (centernet.INPUT_HEIGHT, centernet.INPUT_WIDTH))
        padded = np.zeros((MAX_BOXES, 4), dtype="float32")
        padded[:len(boxes)] = boxes
        return image, heatmap, regression, mask, padded, np.int64(len(boxes))


class PedestrianFinetuneModel(paddle.nn.Layer):
    """The CenterNet-style network with the two steps ``hub.Trainer`` calls."""

    def __init__(self, init_checkpoint=None, width=16):
        super().__init__()
        self.network = centernet.CenterNetLite(width)
        if init_checkpoint is not None:
            centernet.load_weights(self.network, init_checkpoint)

    def forward(self, images):
        return self.network(images)

    def _loss(self, batch):
        images, heatmap, regression, mask = batch[:4]
        heat_logits, reg = self(images)
        return heat_logits, reg, centernet.centernet_loss(heat_logits, reg, heatmap, regression, mask)

    def training_step(self, batch, batch_idx):
        _, _, (loss, focal, l1) = self._loss(batch)
        return {"loss": loss, "metrics": {"heatmap_loss": float(focal), "box_l1": float(l1)}}

    def validation_step(self, batch, batch_idx):
        heat_logits, reg, (loss, _, _) = self._loss(batch)
        size = (centernet.INPUT_HEIGHT, centernet.INPUT_WIDTH)
        detections = centernet.decode(heat_logits, reg, [size] * heat_logits.shape[0])
        boxes, counts = batch[4].numpy(), batch[5].numpy()
        truths = [boxes[i, :int(counts[i])] for i in range(len(counts))]
        return {"loss": loss, "metrics": {"map50": mean_average_precision(detections, truths)}}


def base_scenes(count, seed):
    """``count`` daylight scenes drawn like the shipped weights' training data, as ``[(BGR image, boxes)]``.

    Mixed into a fine-tune against forgetting: on dusk scenes alone, 5 epochs took the
    daylight mAP@0.5 from 0.73 to 0.21 (catastrophic forgetting); rehearsing the base's own
    kind of scenes keeps it.  A seed (``seed + 50_000``) neither the shipped weights' training
    set (0) nor the base-task check (123) uses.
    """
    rng = np.random.default_rng(seed + 50_000)
    scenes = []
    for _ in range(count):
        image, boxes = render_scene(rng, int(rng.integers(200, 300)), int(rng.integers(260, 380)))
        scenes.append((image, boxes))
    return scenes


def train_and_dev(train_dir, dev_dir, seed):
    """``(train samples, dev samples, how dev was made)`` as ``[(image_path, boxes), ...]`` lists.

    Dev is ``dev_dir``'s val split (or every file), else ``train_dir``'s val split if it has
    one, else a seeded fifth of the training images, held out.  An image listed in both
    ``train.txt`` and the dev split is an error: its score would be a score on training data.
    """
    train = load_voc(train_dir, "train")
    if dev_dir is not None:
        split = "val" if (Path(dev_dir) / "ImageSets" / "Main" / "val.txt").is_file() else "all"
        dev, note = load_voc(dev_dir, split), f"the {split} images of {dev_dir}"
    elif (Path(train_dir) / "ImageSets" / "Main" / "val.txt").is_file() \
            and (Path(train_dir) / "ImageSets" / "Main" / "val.txt").read_text().strip():
        dev, note = load_voc(train_dir, "val"), f"the val split of {train_dir} (ImageSets/Main/val.txt)"
    else:
        kept, dev = hold_out(train, seed=seed)
        return kept, dev, held_out_note(len(dev), len(train), f"{train_dir}'s train split", seed)
    both = {Path(p).resolve() for p, _ in train} & {Path(p).resolve() for p, _ in dev}
    if both:
        raise ValueError(f"{len(both)} image(s) are in the training split and in the dev set, e.g. "
                         f"{sorted(both)[0]}: a score on them would be a score on training data")
    return train, dev, note


def finetune(train, dev=None, *, out_dir, init="shipped", epochs=10, batch_size=16, lr=2e-3, seed=0, quiet=False,
             base_mix=1.0, keep_epochs=KEEP_LAST_EPOCHS):
    """Train with ``hub.Trainer``; return a summary dict (also in ``<out_dir>/metrics.json``).

    Args:
        train: VOC folder; its ``ImageSets/Main/train.txt`` split is used
            (every annotation if that list is missing).
        dev: VOC folder for evaluation (its ``val`` split, or every file); default: the
            ``val`` split of ``train`` if it has one, else a seeded fifth of ``train``, held out.
        init: "shipped" (start from the module's weights, i.e. fine-tune),
            None (from scratch), or a checkpoint path.
        base_mix: against forgetting, ``base_mix`` times as many daylight scenes of the base's
            own kind (:func:`base_scenes`) are trained on next to yours (0: none; from scratch: none).
        keep_epochs: how many of the last ``epoch_N/`` folders ``out_dir`` keeps besides ``best_model/`` (0: none).

    Returns:
        dict with ``epochs``, ``train_images``, ``dev_images``, ``dev_map50`` (exact VOC
        mAP@0.5 of the kept weights on the whole dev set: the number the trainer logged),
        ``before_map50``, ``base_before``/``base_after`` (mAP@0.5 on the base task),
        ``best_epoch``, ``seconds``, ``checkpoint`` (folder to pass as ``checkpoint=``),
        ``report`` (the :class:`FinetuneReport`, also in ``finetune_report.json``).
    """
    existing_dir(train, "VOC folder")
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_number("lr", lr)
    paddle.set_device("cpu")
    seed_everything(seed)
    out_dir = Path(out_dir)
    train_samples, dev_samples, dev_note = train_and_dev(train, dev, seed)
    mix = base_scenes(round(base_mix * len(train_samples)), seed) if init is not None and base_mix > 0 else []
    train_ds = VOCPedestrianDataset(train, augment=True, seed=seed, samples=train_samples + mix)
    dev_images, dev_truths = held_out_set(samples=dev_samples)
    base_images, base_truths = held_out_set(**BASE_TASK)
    say(f"training on {len(train_samples)} images" + (f" and {len(mix)} base scenes" if mix else "")
        + f", evaluating on {len(dev_samples)} ({dev_note})", quiet)
    start = SHIPPED_CHECKPOINT if init == "shipped" and SHIPPED_CHECKPOINT.is_file() else \
        (None if init == "shipped" else init)
    model = PedestrianFinetuneModel(start)
    measure = {"dev": lambda net: map50_on(centernet.PaddlePedestrianDetector.from_network(net), dev_images,
                                           dev_truths),
               "base": lambda net: map50_on(centernet.PaddlePedestrianDetector.from_network(net), base_images,
                                            base_truths)}
    model.eval()
    before = {name: f(model.network) for name, f in measure.items()}
    dev_ds = VOCPedestrianDataset(train, samples=dev_samples)
    trainer, seconds = _train(model, train_ds, dev_ds, measure["dev"], out_dir, epochs, batch_size, lr, quiet,
                              keep_epochs)
    after = {name: f(model.network) for name, f in measure.items()}
    notes = [f"against forgetting: {len(mix)} daylight scenes drawn like the shipped weights' training data "
             f"were trained on next to the {len(train_samples)} images of {train}"] if mix else []
    report = _report(start, dev_note, len(dev_samples), before, after, trainer, epochs, out_dir, seconds, notes)
    summary = {"epochs": epochs, "train_images": len(train_samples), "base_mix_images": len(mix),
               "dev_images": len(dev_samples),
               "dev_map50": after["dev"], "before_map50": before["dev"], "base_before": before["base"],
               "base_after": after["base"], "best_epoch": trainer.best_epoch, "seconds": round(seconds, 1),
               "checkpoint": str(best_checkpoint_dir(out_dir))}
    write_json(out_dir / "metrics.json", summary)
    return {**summary, "report": report}


def _train(model, train_ds, dev_ds, dev_map50, out_dir, epochs, batch_size, lr, quiet, keep_epochs=KEEP_LAST_EPOCHS):
    """hub.Trainer, choosing the epoch on the dev set's exact mAP@0.5; leaves the kept weights in ``model``."""
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_gpu=False, use_vdl=False, checkpoint_dir=str(out_dir),
                               dev_metric=lambda layer: {"map50": dev_map50(layer.network)},
                               keep_last_epochs=keep_epochs)
    started = time.perf_counter()
    steps = max(1, (len(train_ds) + batch_size - 1) // batch_size)
    train_keeping_best(trainer, train_ds, dev_ds, epochs=epochs, batch_size=batch_size,
                       log_interval=max(1, steps // 2), quiet=quiet)
    centernet.load_weights(model.network, best_checkpoint_dir(out_dir))
    model.eval()
    return trainer, time.perf_counter() - started


def _report(start, dev_note, dev_count, before, after, trainer, epochs, out_dir, seconds, notes):
    report = FinetuneReport("course_pedestrian's Paddle CenterNet",
                            "the shipped weights" if start == SHIPPED_CHECKPOINT else str(start or "random weights"),
                            dev_note, epochs, trainer.best_epoch, str(out_dir),
                            f"hub.Module(name='course_pedestrian', detector='paddle', checkpoint='{out_dir}')",
                            seconds, notes=notes)
    report.measure("your task", f"{dev_count} dev images", "mAP@0.5", before["dev"], after["dev"])
    report.measure("base task", f"{BASE_TASK['num_images']} synthetic scenes (seed {BASE_TASK['seed']})", "mAP@0.5",
                   before["base"], after["base"])
    report.save(out_dir)
    return report
