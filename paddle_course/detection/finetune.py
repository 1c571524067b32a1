"""Fine-tune the ``course_pedestrian`` Paddle detector on a Pascal VOC folder with ``hub.Trainer``.

Course 3.3 (Fine-tune API): a ``paddle.io.Dataset`` (``VOCPedestrianDataset``),
a model that knows its ``training_step`` and ``validation_step``
(``PedestrianFinetuneModel``), an optimizer, and ``hub.Trainer(...).train(...)``,
which logs the loss, evaluates the dev set after every epoch (``map50``: VOC
mAP@0.5 averaged over dev batches) and keeps ``epoch_N/`` and ``best_model/``.
At the end the exact mAP@0.5 over the whole dev set is measured and written to
``<out>/metrics.json``. Load the result with::

    hub.Module(name="course_pedestrian", detector="paddle", checkpoint="<out>")
"""
import time
from pathlib import Path

import numpy as np
import paddle

from paddle_course.common.checkpoints import best_checkpoint_dir
from paddle_course.common.fileio import write_json
from paddle_course.common.images import read_image
from paddle_course.common.progress import say
from paddle_course.common.seeding import seed_everything
from paddle_course.common.trainer import atomic_trainer
from paddle_course.detection import centernet
from paddle_course.detection.detectors import SHIPPED_CHECKPOINT
from paddle_course.detection.evaluate import evaluate_detector
from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.voc import load_voc

MAX_BOXES = 32


class VOCPedestrianDataset(paddle.io.Dataset):
    """One split of a VOC folder as CenterNet training samples.

    Every image and XML is read and checked at construction, so a bad file fails
    at once with its name (see ``paddle_course.detection.voc``). An item is
    ``(image [3,192,256], heatmap [1,24,32], regression [4,24,32], mask [1,24,32],
    boxes [32,4] in input pixels, num_boxes)``; ``augment`` adds a seeded random
    horizontal flip.
    """

    def __init__(self, voc_dir, split="train", augment=False, seed=0):
        super().__init__()
        self.samples = load_voc(voc_dir, split)
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.inputs, self.boxes = [], []
        for image_path, boxes in self.samples:
            image = read_image(image_path)
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


def _dev_dataset(train_dir, dev_dir):
    """The evaluation set: ``dev_dir``'s val split (or every file), else ``train_dir``'s val split if it has one."""
    if dev_dir is not None:
        split = "val" if (Path(dev_dir) / "ImageSets" / "Main" / "val.txt").is_file() else "all"
        return VOCPedestrianDataset(dev_dir, split)
    val_list = Path(train_dir) / "ImageSets" / "Main" / "val.txt"
    if val_list.is_file() and val_list.read_text().strip():
        return VOCPedestrianDataset(train_dir, "val")
    return None


def finetune(train, dev=None, *, out_dir, init="shipped", epochs=10, batch_size=16, lr=2e-3, seed=0, quiet=False):
    """Train with ``hub.Trainer``; return a summary dict (also in ``<out_dir>/metrics.json``).

    Args:
        train: VOC folder; its ``ImageSets/Main/train.txt`` split is used
            (every annotation if that list is missing).
        dev: VOC folder for evaluation (its ``val`` split, or every file);
            default: the ``val`` split of ``train`` if it has one.
        init: "shipped" (start from the module's weights, i.e. fine-tune),
            None (from scratch), or a checkpoint path.

    Returns:
        dict with ``epochs``, ``train_images``, ``dev_images``, ``dev_map50``
        (exact VOC mAP@0.5 of the best model on the whole dev set, or None),
        ``seconds``, ``checkpoint`` (folder to pass as ``checkpoint=``).
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs and batch size must be positive and lr > 0 (got {epochs}, {batch_size}, {lr})")
    paddle.set_device("cpu")
    seed_everything(seed)
    out_dir = Path(out_dir)
    train_ds = VOCPedestrianDataset(train, "train", augment=True, seed=seed)
    dev_ds = _dev_dataset(train, dev)
    say(f"training on {len(train_ds)} images, evaluating on {len(dev_ds) if dev_ds else 0}", quiet)
    if init == "shipped":
        init = SHIPPED_CHECKPOINT if SHIPPED_CHECKPOINT.is_file() else None
    model = PedestrianFinetuneModel(init)
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_gpu=False, use_vdl=False, checkpoint_dir=str(out_dir))
    start = time.perf_counter()
    steps = max(1, (len(train_ds) + batch_size - 1) // batch_size)
    trainer.train(train_ds, epochs=epochs, batch_size=batch_size, eval_dataset=dev_ds,
                  log_interval=max(1, steps // 2), save_interval=1)
    seconds = time.perf_counter() - start
    checkpoint = best_checkpoint_dir(out_dir)
    summary = {"epochs": epochs, "train_images": len(train_ds), "dev_images": len(dev_ds) if dev_ds else 0,
               "dev_map50": None, "seconds": round(seconds, 1), "checkpoint": str(checkpoint)}
    if dev_ds is not None:
        detector = centernet.PaddlePedestrianDetector(checkpoint)
        summary["dev_map50"] = evaluate_detector(detector, samples=dev_ds.samples)["map50"]
        say(f"dev mAP@0.5 of {checkpoint}: {summary['dev_map50']:.3f}", quiet)
    write_json(out_dir / "metrics.json", summary)
    return summary
