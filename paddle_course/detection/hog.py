"""The out-of-the-box detector: OpenCV's pretrained HOG + linear SVM people detector.

Dalal & Triggs (2005): a 64x128 window is described by histograms of oriented
gradients and scored by a linear SVM, ``margin = w · hog(window) + b``; the
window slides over an image pyramid. The weights ship inside opencv-python
(``cv2.HOGDescriptor_getDefaultPeopleDetector()``), so nothing is downloaded.

What this wrapper adds:

- confidence = sigmoid(2 * margin), a squashing of the SVM margin into (0, 1):
  margin 0 (the SVM's own decision boundary) -> 0.5, margin 1 -> 0.88;
  it orders detections but is not a calibrated probability;
- non-maximum suppression (IoU > 0.4) across pyramid levels;
- the 64x128 window keeps ~8 px left/right and ~16 px above/below the person,
  so each box is shrunk by 1/8 of its width/height on every side to hug the body;
- images larger than ``max_side`` are scaled down first (speed), images whose
  height is under 256 px are scaled up (people smaller than 128 px are otherwise missed).
"""
import cv2
import numpy as np

from paddle_course.detection.nms import nms


class HogPedestrianDetector:
    """``detect(image_bgr) -> array [N, 5]`` of ``left, top, right, bottom, confidence``."""

    name = "hog"

    def __init__(self, win_stride=8, scale=1.05, max_side=640, min_height=256, nms_iou=0.4):
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.win_stride = (win_stride, win_stride)
        self.scale = scale
        self.max_side = max_side
        self.min_height = min_height
        self.nms_iou = nms_iou

    def detect(self, image):
        height, width = image.shape[:2]
        factor = min(1.0, self.max_side / max(height, width))
        if height * factor < self.min_height:
            factor = self.min_height / height
        work = image if factor == 1.0 else cv2.resize(image, None, fx=factor, fy=factor,
                                                       interpolation=cv2.INTER_LINEAR)
        rects, margins = self.hog.detectMultiScale(work, winStride=self.win_stride, padding=(8, 8),
                                                   scale=self.scale)
        if len(rects) == 0:
            return np.zeros((0, 5), dtype="float32")
        rects = np.asarray(rects, dtype="float64") / factor
        margins = np.asarray(margins, dtype="float64").reshape(-1)
        x, y, w, h = rects.T
        boxes = np.stack([x + w / 8, y + h / 8, x + w - w / 8, y + h - h / 8], axis=1)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        confidence = 1.0 / (1.0 + np.exp(-2.0 * margins))
        keep = nms(boxes, confidence, self.nms_iou)
        return np.concatenate([boxes[keep], confidence[keep, None]], axis=1).astype("float32")
