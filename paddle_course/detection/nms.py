"""Greedy non-maximum suppression."""
import numpy as np

from paddle_course.detection.metrics import box_iou


def nms(boxes, scores, iou_thresh=0.5):
    """Indices of the boxes kept: take the best, drop those with IoU > ``iou_thresh`` to it, repeat."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while len(order):
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_thresh]
    return np.asarray(keep, dtype="int64")
