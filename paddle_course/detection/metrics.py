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


def mean_average_precision(detections, ground_truths, iou_thresh=0.5):
    """mAP@``iou_thresh`` of one class over a set of images.

    Args:
        detections: per image, an array ``[N, 5]`` of ``x1, y1, x2, y2, score``.
        ground_truths: per image, an array ``[M, 4]`` of ``x1, y1, x2, y2``.

    Returns:
        AP in [0, 1] (with one class, AP = mAP); 0.0 when there is no ground truth.
    """
    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} detection lists for {len(ground_truths)} images")
    num_gt = sum(len(g) for g in ground_truths)
    if num_gt == 0:
        return 0.0
    flat = [(float(d[4]), image, np.asarray(d[:4], dtype="float64"))
            for image, dets in enumerate(detections) for d in np.asarray(dets).reshape(-1, 5)]
    flat.sort(key=lambda item: -item[0])
    matched = [np.zeros(len(g), dtype=bool) for g in ground_truths]
    true_pos = np.zeros(len(flat))
    for k, (_, image, box) in enumerate(flat):
        gts = np.asarray(ground_truths[image], dtype="float64").reshape(-1, 4)
        if len(gts) == 0:
            continue
        ious = box_iou(box, gts)
        best = int(np.argmax(ious))
        if ious[best] >= iou_thresh and not matched[image][best]:
            matched[image][best] = True
            true_pos[k] = 1
    tp = np.cumsum(true_pos)
    fp = np.cumsum(1 - true_pos)
    recall = tp / num_gt
    precision = tp / np.maximum(tp + fp, 1e-12)
    return voc_ap(recall, precision)
