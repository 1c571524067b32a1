"""VOC mean average precision at IoU 0.5 (one class), written out so it can be read.

Course 3.2: a detection is a true positive when its IoU with a not-yet-matched
ground-truth box is at least 0.5; detections are taken from the most to the
least confident; a second detection of the same person is a false positive.
"""
import numpy as np


def box_iou(box, boxes):
    """IoU of one box with each of ``boxes`` (all ``[x1, y1, x2, y2]``).

    IoU = area(A ∩ B) / (area(A) + area(B) - area(A ∩ B)).
    """
    boxes = np.asarray(boxes, dtype="float64").reshape(-1, 4)
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def voc_ap(recall, precision):
    """Area under the precision-recall curve, VOC 2010+ ("all points").

    Precision is first made monotone (p(r) = max over r' >= r of p(r')), then
    AP = sum over recall steps of (r_{i+1} - r_i) * p_{i+1}.
    """
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def match_detections(detections, ground_truths, difficult=None, iou_thresh=0.5):
    """Detections of all images, most confident first, each marked 1 (true positive),
    0 (false positive) or -1 (ignored: it found a VOC "difficult" box, which neither
    counts as found nor as missed). Returns ``(outcome [K], number of counted boxes)``."""
    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} detection lists for {len(ground_truths)} images")
    truths = [np.asarray(g, dtype="float64").reshape(-1, 4) for g in ground_truths]
    if difficult is None:
        difficult = [np.zeros(len(g), dtype=bool) for g in truths]
    difficult = [np.asarray(d, dtype=bool).reshape(-1) for d in difficult]
    flat = [(float(d[4]), image, np.asarray(d[:4], dtype="float64"))
            for image, dets in enumerate(detections) for d in np.asarray(dets).reshape(-1, 5)]
    flat.sort(key=lambda item: -item[0])
    matched = [np.zeros(len(g), dtype=bool) for g in truths]
    outcome = np.zeros(len(flat))
    for k, (_, image, box) in enumerate(flat):
        gts = truths[image]
        if len(gts) == 0:
            continue
        ious = box_iou(box, gts)
        best = int(np.argmax(ious))
        if ious[best] < iou_thresh:
            continue
        if difficult[image][best]:
            outcome[k] = -1
        elif not matched[image][best]:
            matched[image][best] = True
            outcome[k] = 1
    return outcome, int(sum((~d).sum() for d in difficult))


def mean_average_precision(detections, ground_truths, iou_thresh=0.5, difficult=None):
    """mAP@``iou_thresh`` of one class over a set of images.

    Args:
        detections: per image, an array ``[N, 5]`` of ``x1, y1, x2, y2, score``.
        ground_truths: per image, an array ``[M, 4]`` of ``x1, y1, x2, y2``.
        difficult: per image, a bool array ``[M]`` (VOC ``difficult``), or None: those
            boxes are not counted, and a detection on one is ignored.

    Returns:
        AP in [0, 1] (with one class, AP = mAP); 0.0 when there is no ground truth.
    """
    outcome, num_gt = match_detections(detections, ground_truths, difficult, iou_thresh)
    if num_gt == 0:
        return 0.0
    outcome = outcome[outcome >= 0]
    tp = np.cumsum(outcome == 1)
    fp = np.cumsum(outcome == 0)
    recall = tp / num_gt
    precision = tp / np.maximum(tp + fp, 1e-12)
    return voc_ap(recall, precision)


def recall_at_false_boxes(detections, ground_truths, difficult=None, false_per_image=1.0, iou_thresh=0.5):
    """Share of the (counted) people found while at most ``false_per_image`` false boxes per
    image are allowed: the detections are taken from the most confident down, and the
    threshold stops before false positives exceed ``false_per_image * number of images``."""
    outcome, num_gt = match_detections(detections, ground_truths, difficult, iou_thresh)
    outcome = outcome[outcome >= 0]
    if num_gt == 0 or len(outcome) == 0:
        return 0.0
    tp, fp = np.cumsum(outcome == 1), np.cumsum(outcome == 0)
    within = fp <= false_per_image * len(ground_truths)
    return float(tp[within].max() / num_gt) if within.any() else 0.0
