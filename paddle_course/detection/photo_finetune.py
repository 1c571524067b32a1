"""Fine-tune the photo detector (SSDLite-MobileNetV2) on a Pascal VOC folder with ``hub.Trainer``.

Course 3.3, the SSD way (Liu et al., 2016), with the loss settings of the
TensorFlow ``ssdlite_mobilenet_v2`` configuration the weights were trained with:

- matching: each anchor takes the box it overlaps most; IoU >= 0.5 makes it a
  positive (label 1, box target = ``encode_boxes(box, anchor)``), below 0.5 a
  negative (label 0); every box also claims its best anchor, so none is left out;
- classification: sigmoid cross-entropy on both logits against one-hot
  (background, person) -- the scores are sigmoids, not a softmax;
- hard negative mining: of the negatives only the 3 per positive (at least 3 per
  image) with the highest classification loss count;
- localisation: smooth-L1 (δ = 1) between predicted and target corrections, positives only;

    loss = (Σ_pos CE + Σ_hard neg CE + Σ_pos smoothL1) / max(1, #positives)
"""
import time
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F

from paddle_course.common.trainer import KEEP_LAST_EPOCHS
from paddle_course.detection.anchors import decode_boxes, encode_boxes
from paddle_course.detection.photo import anchors_for, load_weights, preprocess, select_detections
from paddle_course.detection.metrics import mean_average_precision
from paddle_course.detection.ssdlite import SSDLiteMobileNetV2
from paddle_course.detection.voc import load_voc, read_image

MATCH_IOU = 0.5
NEGATIVES_PER_POSITIVE, MIN_NEGATIVES = 3, 3
MAX_BOXES = 64
TRAIN_SIZE = (384, 512)   # (height, width): what "aspect" gives a 4:3 image; other shapes are stretched to it


def corner_anchors(anchors):
    """cx, cy, w, h -> x1, y1, x2, y2."""
    return np.concatenate([anchors[:, :2] - anchors[:, 2:] / 2, anchors[:, :2] + anchors[:, 2:] / 2], axis=1)


def iou_matrix(a, b):
    """IoU of every box of ``a`` [N, 4] with every box of ``b`` [M, 4] (x1, y1, x2, y2) -> [N, M]."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def match_anchors(boxes, anchors, iou_thresh=MATCH_IOU, ignore=None):
    """Boxes [M, 4] (fractions, x1 y1 x2 y2) -> labels [N] (1 person, 0 background, -1 ignored),
    targets [N, 4]. Anchors overlapping an ``ignore`` box (VOC "difficult": tiny, mostly hidden)
    by IoU >= ``iou_thresh`` are left out of the loss instead of being taught as background."""
    labels = np.zeros(len(anchors), dtype="int64")
    targets = np.zeros((len(anchors), 4), dtype="float32")
    corners = corner_anchors(anchors)
    if ignore is not None and len(ignore):
        labels[iou_matrix(corners, np.asarray(ignore, "float32").reshape(-1, 4)).max(axis=1) >= iou_thresh] = -1
    if len(boxes) == 0:
        return labels, targets
    iou = iou_matrix(corners, boxes)
    best_box = iou.argmax(axis=1)
    best_iou = iou.max(axis=1)
    best_box[iou.argmax(axis=0)] = np.arange(len(boxes))     # every box claims its best anchor
    best_iou[iou.argmax(axis=0)] = 1.0
    positive = best_iou >= iou_thresh
    labels[positive] = 1
    targets[positive] = encode_boxes(boxes[best_box[positive]], anchors[positive])
    return labels, targets


def ssd_loss(encodings, logits, labels, targets):
    """The loss of the module doc; returns (loss, classification part, localisation part)."""
    onehot = F.one_hot(paddle.clip(labels, min=0), 2).astype("float32")
    ce = F.binary_cross_entropy_with_logits(logits, onehot, reduction="none").sum(axis=-1)   # [B, N]
    positive = (labels == 1).astype("float32")
    num_pos = positive.sum(axis=1)                                                        # [B]
    # hard negatives: rank the negatives' losses per image and keep the k largest
    negative_ce = paddle.where(labels == 0, ce, paddle.full_like(ce, -1.0)).detach()
    rank = paddle.argsort(paddle.argsort(negative_ce, axis=1, descending=True), axis=1)
    k = paddle.maximum(num_pos * NEGATIVES_PER_POSITIVE, paddle.full_like(num_pos, MIN_NEGATIVES))
    hard = ((rank.astype("float32") < k[:, None]) & (labels == 0)).astype("float32")
    smooth_l1 = F.smooth_l1_loss(encodings, targets, reduction="none", delta=1.0).sum(axis=-1)
    total_pos = paddle.clip(num_pos.sum(), min=1.0)
    cls = (ce * (positive + hard)).sum() / total_pos
    loc = (smooth_l1 * positive).sum() / total_pos
    return cls + loc, cls, loc


def random_window(height, width, rng, min_side=0.5):
    """A seeded random window ``(x0, y0, x1, y1)`` of ``min_side``..1 of each side. Zooming in
    shows the network people larger than they are in the frame."""
    scale = rng.uniform(min_side, 1.0)
    cw, ch = int(width * scale), int(height * scale)
    x0, y0 = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
    return x0, y0, x0 + cw, y0 + ch


def crop_boxes(boxes, window):
    """Boxes (pixels) whose centre is inside ``window``, shifted into it and clipped to it."""
    x0, y0, x1, y1 = window
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    inside = (centres[:, 0] > x0) & (centres[:, 0] < x1) & (centres[:, 1] > y0) & (centres[:, 1] < y1)
    return np.clip(boxes[inside] - [x0, y0, x0, y0], 0, [x1 - x0, y1 - y0, x1 - x0, y1 - y0]).astype("float32")


class VOCPhotoDataset(paddle.io.Dataset):
    """One split of a VOC folder (or ``samples``: ``[(image_path, boxes[, difficult]), ...]``) as SSD
    samples at ``size`` (h, w): ``(image [3,h,w], labels [N], targets [N,4], boxes [64,4] in fractions,
    num_boxes)`` with N anchors; difficult boxes are ignored in the loss; ``augment`` adds a
    seeded random crop (half the time) and horizontal flip."""

    def __init__(self, voc_dir=None, split="train", augment=False, seed=0, samples=None, size=TRAIN_SIZE):
        super().__init__()
        self.samples = samples if samples is not None else load_voc(voc_dir, split)
        self.size = tuple(size)
        self.anchors = anchors_for(*self.size)
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.images, self.boxes, self.ignored = [], [], []
        for image_path, boxes, *difficult in self.samples:
            boxes = np.asarray(boxes, dtype="float32").reshape(-1, 4)
            difficult = np.asarray(difficult[0] if difficult else np.zeros(len(boxes)), bool)
            if len(boxes) > MAX_BOXES:
                raise ValueError(f"{image_path}: {len(boxes)} boxes, at most {MAX_BOXES} are supported")
            self.images.append(read_image(image_path))
            self.boxes.append(boxes[~difficult])
            self.ignored.append(boxes[difficult])

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        image, boxes, ignored = self.images[index], self.boxes[index], self.ignored[index]
        if self.augment and self.rng.random() < 0.5:
            window = random_window(*image.shape[:2], self.rng)
            image = image[window[1]:window[3], window[0]:window[2]]
            boxes, ignored = crop_boxes(boxes, window), crop_boxes(ignored, window)
        height, width = image.shape[:2]
        scale = np.array([width, height, width, height], dtype="float32")
        boxes, ignored = boxes / scale, ignored / scale
        image = preprocess(image, self.size)
        if self.augment and self.rng.random() < 0.5:
            image = image[:, :, ::-1].copy()
            boxes[:, [0, 2]] = 1.0 - boxes[:, [2, 0]]
            ignored[:, [0, 2]] = 1.0 - ignored[:, [2, 0]]
        labels, targets = match_anchors(boxes, self.anchors, ignore=ignored)
        padded = np.zeros((MAX_BOXES, 4), dtype="float32")
        padded[:len(boxes)] = boxes
        return image, labels, targets, padded, np.int64(len(boxes))


class PhotoFinetuneModel(paddle.nn.Layer):
    """SSDLite-MobileNetV2 with the two steps ``hub.Trainer`` calls."""

    def __init__(self, init_weights=None, freeze_blocks=0):
        """``freeze_blocks`` > 0 keeps the stem and the first ``freeze_blocks`` inverted residual
        blocks fixed (fewer weights to move on a small data set)."""
        super().__init__()
        self.network = SSDLiteMobileNetV2()
        if init_weights is not None:
            load_weights(self.network, init_weights)
        if freeze_blocks:
            for layer in [self.network.backbone.stem, *self.network.backbone.blocks[:freeze_blocks]]:
                for parameter in layer.parameters():
                    parameter.stop_gradient = True

    def forward(self, images):
        return self.network(images)

    def training_step(self, batch, batch_idx):
        images, labels, targets = batch[:3]
        encodings, logits = self(images)
        loss, cls, loc = ssd_loss(encodings, logits, labels, targets)
        return {"loss": loss, "metrics": {"cls_loss": float(cls), "loc_loss": float(loc)}}

    def validation_step(self, batch, batch_idx):
        images, labels, targets, boxes, counts = batch
        encodings, logits = self(images)
        loss, _, _ = ssd_loss(encodings, logits, labels, targets)
        decoded = decode_boxes(encodings.numpy(), anchors_for(*images.shape[2:]))
        scores = F.sigmoid(logits[..., 1]).numpy()
        detections = [select_detections(b, s, (0, 0, 1, 1), 0.05, 0.6, 100) for b, s in zip(decoded, scores)]
        boxes, counts = boxes.numpy(), counts.numpy()
        truths = [boxes[i, :int(counts[i])] for i in range(len(counts))]
        return {"loss": loss, "metrics": {"map50": mean_average_precision(detections, truths)}}


def split_ids(voc_dir, dev_fraction=0.2, seed=0):
    """``(train ids, dev ids)`` of a VOC folder: its ``train.txt``/``val.txt`` when it has a
    non-empty ``val.txt``, else a seeded ``dev_fraction`` of the training ids held out, so the
    reported metric is always on images the model was not trained on."""
    from paddle_course.detection.voc import read_split

    voc_dir = Path(voc_dir)
    ids = read_split(voc_dir, "train")
    val_list = voc_dir / "ImageSets" / "Main" / "val.txt"
    if val_list.is_file() and val_list.read_text(encoding="utf-8").strip():
        return ids, read_split(voc_dir, "val")
    if len(ids) < 2:
        raise ValueError(f"{voc_dir}: {len(ids)} image(s); a dev split needs at least 2 (or give --dev)")
    order = np.random.default_rng(seed).permutation(len(ids))
    count = max(1, round(dev_fraction * len(ids)))
    dev = sorted(ids[i] for i in order[:count])
    return [i for i in ids if i not in set(dev)], dev


def voc_samples(voc_dir, ids):
    """``[(image_path, boxes, difficult), ...]`` of the given image ids of a VOC folder."""
    from paddle_course.detection.voc import read_voc_annotation

    voc_dir = Path(voc_dir)
    samples = []
    for image_id in ids:
        image_path = voc_dir / "JPEGImages" / f"{image_id}.jpg"
        boxes, difficult = read_voc_annotation(voc_dir / "Annotations" / f"{image_id}.xml",
                                               read_image(image_path).shape, with_difficult=True)
        samples.append((image_path, boxes, difficult))
    return samples


def photo_scores(weights, samples):
    """mAP@0.5 and recall at <= 1 false box per image of the photo detector (default mode)
    with ``weights`` on ``samples`` (difficult boxes ignored)."""
    from paddle_course.detection.photo import PhotoPedestrianDetector

    return detector_scores(PhotoPedestrianDetector(weights), samples)


def detector_scores(detector, samples):
    """:func:`photo_scores` of a detector object: what the fine-tune measures every epoch and before/after."""
    from paddle_course.detection.metrics import recall_at_false_boxes

    found = [detector.detect(read_image(path)) for path, _, _ in samples]
    truths, difficult = [s[1] for s in samples], [s[2] for s in samples]
    return {"map50": round(mean_average_precision(found, truths, difficult=difficult), 4),
            "recall_at_1fp": round(recall_at_false_boxes(found, truths, difficult), 4), "images": len(samples)}


def finetune_photo(train, dev=None, *, out_dir, init="shipped", other="photos", epochs=8, batch_size=4, lr=5e-5,
                   freeze_blocks=0, seed=0, quiet=False, keep_epochs=KEEP_LAST_EPOCHS):
    """Course 3.3: fine-tune the photo detector on a VOC folder with ``hub.Trainer``; a summary dict
    (also ``<out_dir>/metrics.json``) with dev mAP before and after and the forgetting check.

    Args:
        train: VOC folder; ``train.txt`` (or every annotation) trains, ``val.txt`` is the dev split,
            or a seeded 20 % is held out when there is no ``val.txt`` and no ``dev``.
        dev: a VOC folder to evaluate on instead (its ``val.txt``, or every annotation).
        init: "shipped" or a weights file / fine-tune folder to start from.
        other: images not trained on whose metric should not drop: "photos" (the course's real
            photos, ``data/pedestrian`` split ``photos``), a VOC folder, or None.
        keep_epochs: how many of the last ``epoch_N/`` folders ``out_dir`` keeps besides ``best_model/``
            (0: none).

    Returns:
        dict with ``train_images``, ``dev_images``, ``dev_before``, ``dev_after``, ``other_before``,
        ``other_after`` (each ``{"map50", "recall_at_1fp", "images"}`` or None), ``seconds``,
        ``checkpoint`` (load it with ``detector="photo", checkpoint=...``).
    """
    from paddle_course.common.checkpoints import best_checkpoint_dir
    from paddle_course.common.fileio import write_json
    from paddle_course.common.progress import say
    from paddle_course.common.seeding import seed_everything
    from paddle_course.common.trainer import atomic_trainer, train_keeping_best
    from paddle_course.detection.detectors import SHIPPED_PHOTO_WEIGHTS

    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs and batch size must be positive and lr > 0 (got {epochs}, {batch_size}, {lr})")
    paddle.set_device("cpu")
    seed_everything(seed)
    out_dir, init = Path(out_dir), SHIPPED_PHOTO_WEIGHTS if init == "shipped" else init
    train_ids, dev_ids = split_ids(train, seed=seed)
    if dev is not None:
        dev_ids = split_ids(dev, seed=seed)[1] if (Path(dev) / "ImageSets" / "Main" / "val.txt").is_file() \
            else sorted(p.stem for p in (Path(dev) / "Annotations").glob("*.xml"))
    train_samples, dev_samples = voc_samples(train, train_ids), voc_samples(dev or train, dev_ids)
    other_samples = _other_samples(other)
    say(f"training on {len(train_samples)} images, dev {len(dev_samples)}, other {len(other_samples)}", quiet)
    summary = {"train_images": len(train_samples), "dev_images": len(dev_samples),
               "dev_note": _dev_note(train, dev, seed, len(train_ids) + len(dev_ids)),
               "dev_before": photo_scores(init, dev_samples),
               "other_before": photo_scores(init, other_samples) if other_samples else None}
    model = PhotoFinetuneModel(init, freeze_blocks=freeze_blocks)
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    # every epoch is measured as dev_before/dev_after are (the whole dev set); the best is kept, the start included
    trainer = atomic_trainer()(model, optimizer, use_gpu=False, use_vdl=False, checkpoint_dir=str(out_dir),
                               dev_metric=lambda layer: _dev_metric(layer, dev_samples), keep_last_epochs=keep_epochs)
    start = time.perf_counter()
    train_keeping_best(trainer, VOCPhotoDataset(samples=train_samples, augment=True, seed=seed),
                       VOCPhotoDataset(samples=dev_samples), epochs=epochs, batch_size=batch_size,
                       log_interval=max(1, len(train_samples) // batch_size), quiet=quiet)
    checkpoint = best_checkpoint_dir(out_dir)
    summary.update(seconds=round(time.perf_counter() - start, 1), checkpoint=str(checkpoint),
                   best_epoch=trainer.best_epoch, dev_after=photo_scores(checkpoint, dev_samples),
                   other_after=photo_scores(checkpoint, other_samples) if other_samples else None)
    write_json(out_dir / "metrics.json", summary)
    return {**summary, "report": _report(summary, init, epochs, out_dir, other)}


def _dev_note(train, dev, seed, total):
    """How the dev split came about (:func:`split_ids`), in one line for the report."""
    from paddle_course.common.finetune_report import held_out_note

    if dev is not None:
        return f"the images of {dev}"
    val_list = Path(train) / "ImageSets" / "Main" / "val.txt"
    if val_list.is_file() and val_list.read_text(encoding="utf-8").strip():
        return f"the val split of {train} (ImageSets/Main/val.txt)"
    return held_out_note(round(0.2 * total), total, f"{train}'s train split", seed)


def _dev_metric(layer, dev_samples):
    from paddle_course.detection.photo import PhotoPedestrianDetector

    scores = detector_scores(PhotoPedestrianDetector.from_network(layer.network), dev_samples)
    return {"map50": scores["map50"], "recall_at_1fp": scores["recall_at_1fp"]}  # mAP first: it chooses


def _report(summary, init, epochs, out_dir, other):
    from paddle_course.common.finetune_report import FinetuneReport
    from paddle_course.detection.detectors import SHIPPED_PHOTO_WEIGHTS

    report = FinetuneReport("course_pedestrian's photo detector (SSDLite)",
                            "the shipped weights" if init == SHIPPED_PHOTO_WEIGHTS else str(init),
                            summary["dev_note"], epochs, summary["best_epoch"], str(out_dir),
                            f"hub.Module(name='course_pedestrian', detector='photo', checkpoint='{out_dir}')",
                            summary["seconds"])
    rows = [("your task", "dev", f"{summary['dev_images']} dev images")]
    if summary["other_before"] is not None:
        rows.append(("base task", "other", f"{summary['other_before']['images']} other photos ({other})"))
    for task, key, data in rows:
        for metric, label in (("map50", "mAP@0.5"), ("recall_at_1fp", "recall, <=1 false box")):
            report.measure(task, data, label, summary[f"{key}_before"][metric], summary[f"{key}_after"][metric])
    report.save(out_dir)
    return report


def _other_samples(other):
    if other is None:
        return []
    if other == "photos":
        from paddle_course.common.paths import data_path

        voc_dir = data_path("pedestrian")
        return voc_samples(voc_dir, (voc_dir / "ImageSets" / "Main" / "photos.txt").read_text().split())
    ids = sorted(p.stem for p in (Path(other) / "Annotations").glob("*.xml"))
    return voc_samples(other, ids)
