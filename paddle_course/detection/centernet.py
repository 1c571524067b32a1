"""A small CenterNet-style pedestrian detector in PaddlePaddle (trained by the course).

Course 3.2: "objects as points" (Zhou et al., 2019). The network looks at the
image resized to 192x256 and predicts, on a grid with stride 8 (24x32 cells):

- a heat map ``p`` (sigmoid): how likely a pedestrian's centre falls in each cell;
- four regressions at each cell: the centre's sub-cell offset ``(dx, dy)`` and
  the box size as ``(log w, log h)`` in cells.

Training targets: a Gaussian bump ``exp(-(dx²/2σx² + dy²/2σy²))`` around each
centre with σ = box size / 6 (value 1 exactly at the centre cell). Loss:

    focal = -1/N Σ [ (1-p)² log p                 where y = 1
                   + (1-y)⁴ p² log(1-p)           elsewhere ]
    regression = 1/N Σ_centres |offset - offset*| + |log size - log size*|

Decoding: peaks of the heat map (3x3 max pooling keeps local maxima), top 50,
box = centre ± size / 2, scaled back to the original image.
"""
import math

import cv2
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_course.common.checkpoints import load_state

INPUT_HEIGHT, INPUT_WIDTH, STRIDE = 192, 256, 8
MAX_DETECTIONS = 50


def _conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2D(cin, cout, 3, stride=stride, padding=1, bias_attr=False),
                         nn.BatchNorm2D(cout), nn.ReLU())


class CenterNetLite(nn.Layer):
    """Backbone of strided 3x3 convolutions (stride 16), one upsampling step with a
    skip connection back to stride 8, and two heads (heat map, regression)."""

    def __init__(self, width=16):
        super().__init__()
        c1, c2, c3, c4 = width, width * 2, width * 3, width * 4
        self.stage1 = nn.Sequential(_conv(3, c1, 2), _conv(c1, c1))          # /2
        self.stage2 = nn.Sequential(_conv(c1, c2, 2), _conv(c2, c2))         # /4
        self.stage3 = nn.Sequential(_conv(c2, c3, 2), _conv(c3, c3))         # /8
        self.stage4 = nn.Sequential(_conv(c3, c4, 2), _conv(c4, c4))         # /16
        self.merge = _conv(c4 + c3, c3)
        self.heatmap_head = nn.Sequential(_conv(c3, c3), nn.Conv2D(c3, 1, 1))
        self.regression_head = nn.Sequential(_conv(c3, c3), nn.Conv2D(c3, 4, 1))
        # start every cell at p = 0.1 so the focal loss does not begin with a flood of positives
        prior = -math.log((1 - 0.1) / 0.1)
        self.heatmap_head[-1].bias.set_value(paddle.full([1], prior, dtype="float32"))

    def forward(self, images):
        x8 = self.stage3(self.stage2(self.stage1(images)))
        x16 = self.stage4(x8)
        up = F.interpolate(x16, size=x8.shape[2:], mode="nearest")
        features = self.merge(paddle.concat([up, x8], axis=1))
        return self.heatmap_head(features), self.regression_head(features)


def preprocess(image):
    """BGR uint8 [H, W, 3] -> float32 [3, 192, 256] in [-0.5, 0.5] (RGB order)."""
    resized = cv2.resize(image, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)
    return (resized[:, :, ::-1].astype("float32") / 255.0 - 0.5).transpose(2, 0, 1).copy()


def make_targets(boxes, image_shape):
    """Heat map [1, h, w], regression [4, h, w] and mask [1, h, w] for boxes in image pixels."""
    out_h, out_w = INPUT_HEIGHT // STRIDE, INPUT_WIDTH // STRIDE
    sx = out_w / image_shape[1]
    sy = out_h / image_shape[0]
    heatmap = np.zeros((1, out_h, out_w), dtype="float32")
    regression = np.zeros((4, out_h, out_w), dtype="float32")
    mask = np.zeros((1, out_h, out_w), dtype="float32")
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype("float32")
    for x1, y1, x2, y2 in np.asarray(boxes, dtype="float32").reshape(-1, 4):
        w, h = (x2 - x1) * sx, (y2 - y1) * sy
        cx, cy = (x1 + x2) / 2 * sx, (y1 + y2) / 2 * sy
        ix, iy = min(int(cx), out_w - 1), min(int(cy), out_h - 1)
        sigma_x, sigma_y = max(w / 6, 0.5), max(h / 6, 0.5)
        bump = np.exp(-((xs - ix) ** 2 / (2 * sigma_x ** 2) + (ys - iy) ** 2 / (2 * sigma_y ** 2)))
        heatmap[0] = np.maximum(heatmap[0], bump)
        heatmap[0, iy, ix] = 1.0
        regression[:, iy, ix] = (cx - ix, cy - iy, math.log(max(w, 1e-3)), math.log(max(h, 1e-3)))
        mask[0, iy, ix] = 1.0
    return heatmap, regression, mask


def centernet_loss(heatmap_logits, regression, heatmap_target, regression_target, mask):
    """Focal loss on the heat map + L1 on offsets and log sizes at the centres (see module doc)."""
    p = F.sigmoid(heatmap_logits).clip(1e-4, 1 - 1e-4)
    positive = (heatmap_target >= 1.0).astype("float32")
    num_pos = paddle.clip(positive.sum(), min=1.0)
    pos_loss = -((1 - p) ** 2) * paddle.log(p) * positive
    neg_loss = -((1 - heatmap_target) ** 4) * (p ** 2) * paddle.log(1 - p) * (1 - positive)
    focal = (pos_loss.sum() + neg_loss.sum()) / num_pos
    l1 = (paddle.abs(regression - regression_target) * mask).sum() / num_pos
    return focal + l1, focal, l1


def decode(heatmap_logits, regression, image_shapes, score_thresh=0.05, top_k=MAX_DETECTIONS):
    """Per image an array [N, 5] of ``left, top, right, bottom, score`` in that image's pixels."""
    heat = F.sigmoid(heatmap_logits)
    peaks = (F.max_pool2d(heat, 3, stride=1, padding=1) == heat).astype("float32") * heat
    peaks = peaks.numpy()[:, 0]
    regression = regression.numpy()
    results = []
    out_h, out_w = peaks.shape[1:]
    for b, (height, width) in enumerate(image_shapes):
        flat = peaks[b].reshape(-1)
        order = np.argsort(-flat)[:top_k]
        order = order[flat[order] >= score_thresh]
        iy, ix = np.divmod(order, out_w)
        dx, dy, logw, logh = regression[b][:, iy, ix]
        cx, cy = ix + dx, iy + dy
        w, h = np.exp(np.clip(logw, -5, 6)), np.exp(np.clip(logh, -5, 6))
        sx, sy = width / out_w, height / out_h
        boxes = np.stack([(cx - w / 2) * sx, (cy - h / 2) * sy, (cx + w / 2) * sx, (cy + h / 2) * sy], axis=1)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        results.append(np.concatenate([boxes, flat[order, None]], axis=1).astype("float32"))
    return results


def load_weights(network, checkpoint):
    """Load a weights file (``.safetensors``, or a ``.pdparams`` read safely), a folder with one, or a
    hub.Trainer output folder (see ``common.checkpoints.find_weights``); returns the file's path."""
    path, state = load_state(checkpoint)
    # a hub.Trainer checkpoint of PedestrianFinetuneModel prefixes the keys with "network."
    state = {k[len("network."):] if k.startswith("network.") else k: v for k, v in state.items()}
    missing = set(network.state_dict()) - set(state)
    if missing:
        raise ValueError(f"{path}: not a pedestrian detector checkpoint (missing {sorted(missing)[:3]})")
    network.set_state_dict(state)
    return path


class PaddlePedestrianDetector:
    """``detect(image_bgr) -> array [N, 5]`` with the CenterNet-style network."""

    name = "paddle"

    def __init__(self, checkpoint, width=16):
        self.network = CenterNetLite(width)
        self.checkpoint = load_weights(self.network, checkpoint)
        self.network.eval()

    @classmethod
    def from_network(cls, network):
        """A detector over a network in memory (a fine-tune measures its epochs with it)."""
        detector = cls.__new__(cls)
        detector.network, detector.checkpoint = network, None
        return detector

    def detect_batch(self, images, score_thresh=0.05):
        batch = paddle.to_tensor(np.stack([preprocess(im) for im in images]))
        with paddle.no_grad():
            heat, regression = self.network(batch)
        return decode(heat, regression, [im.shape[:2] for im in images], score_thresh)

    def detect(self, image, score_thresh=0.05):
        return self.detect_batch([image], score_thresh)[0]
