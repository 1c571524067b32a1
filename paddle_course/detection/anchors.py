"""SSD anchors and the box coder of the SSDLite person detector (course 3.2).

SSD (Liu et al., 2016) puts a fixed set of "anchor" boxes on every cell of
several feature maps; the network predicts, per anchor, a score and a small
correction of the anchor. The numbers below are those of the TensorFlow Object
Detection API's ``ssdlite_mobilenet_v2`` configuration the shipped weights were
trained with (checked against the anchors stored in the original graph, see
tests/test_ssdlite.py).

Anchors, for feature map k of K = 6 (sizes 19, 10, 5, 3, 2, 1 on a 300x300 input):

    scale_k = s_min + (s_max - s_min) * k / (K - 1),   s_min = 0.2, s_max = 0.95
    w = scale * sqrt(a),  h = scale / sqrt(a)           for aspect ratios a in 1, 2, 1/2, 3, 1/3
    plus one box of scale sqrt(scale_k * scale_{k+1}) and a = 1 (scale_K = 1);
    the first map uses only (0.1, 1), (scale_0, 2), (scale_0, 1/2).
    centre of cell (i, j) on an n x n map: ((j + 0.5) / n, (i + 0.5) / n)

All in fractions of the image. Order: map by map, row by row, cell by cell,
box spec by box spec -- the order the heads' outputs are flattened in.
``ssd_anchors(height, width)`` also gives the anchors of an input larger than
the 300x300 the model was trained on.

Box coder ("Faster R-CNN" coder, scales 10, 10, 5, 5): with an anchor
(cx_a, cy_a, w_a, h_a) and a prediction (t_y, t_x, t_h, t_w),

    cy = t_y / 10 * h_a + cy_a      cx = t_x / 10 * w_a + cx_a
    h  = exp(t_h / 5) * h_a         w  = exp(t_w / 5) * w_a
"""
import math

import numpy as np
import paddle

NUM_MAPS = 6
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)     # the config writes 1/3 as 0.3333
BOX_CODER_SCALES = (10.0, 10.0, 5.0, 5.0)         # y, x, h, w


def box_specs(num_maps=NUM_MAPS):
    """Per feature map, the list of ``(scale, aspect_ratio)`` of its anchors."""
    scales = [MIN_SCALE + (MAX_SCALE - MIN_SCALE) * k / (num_maps - 1) for k in range(num_maps)] + [1.0]
    specs = []
    for k in range(num_maps):
        if k == 0:
            specs.append([(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)])
        else:
            specs.append([(scales[k], a) for a in ASPECT_RATIOS] + [(math.sqrt(scales[k] * scales[k + 1]), 1.0)])
    return specs


def anchors_per_cell():
    """How many anchors each feature map has per cell: (3, 6, 6, 6, 6, 6)."""
    return tuple(len(s) for s in box_specs())


def feature_map_sizes(height=300, width=300):
    """(rows, columns) of the six maps the heads see: the input divided by 16, 32, ..., 512,
    rounded up ("SAME" padding). 300x300 -> 19, 10, 5, 3, 2, 1."""
    return [(math.ceil(height / s), math.ceil(width / s)) for s in (16, 32, 64, 128, 256, 512)]


def ssd_anchors(height=300, width=300):
    """All anchors of an input of ``height`` x ``width`` pixels as a float32 array [N, 4] of
    ``cx, cy, w, h`` (fractions of the input); N = 1917 at 300x300.

    On a larger input the network is simply run on more cells: the maps grow, and the
    anchors keep the size in pixels they have at 300x300 (``scale * 300`` pixels), so an
    anchor still matches what the heads learned. Centres are at ``(j + 0.5) / n`` as in
    training; they fall on the cells' real centres when the sides are multiples of 128.
    """
    rows = []
    for (n_rows, n_cols), specs in zip(feature_map_sizes(height, width), box_specs()):
        cy, cx = np.meshgrid((np.arange(n_rows) + 0.5) / n_rows, (np.arange(n_cols) + 0.5) / n_cols, indexing="ij")
        w = np.array([s * math.sqrt(a) for s, a in specs]) * 300 / width
        h = np.array([s / math.sqrt(a) for s, a in specs]) * 300 / height
        grid = np.stack(np.broadcast_arrays(cx[..., None], cy[..., None], w, h), axis=-1)  # [rows, cols, A, 4]
        rows.append(grid.reshape(-1, 4))
    return np.concatenate(rows).astype("float32")


def decode_boxes(encodings, anchors):
    """Predicted corrections [..., N, 4] (t_y, t_x, t_h, t_w) + anchors [N, 4] (cx, cy, w, h)
    -> boxes [..., N, 4] as ``x1, y1, x2, y2`` in fractions of the image (formula in the module doc).

    Works on Paddle tensors (inside the exported inference program) and on NumPy arrays."""
    sy, sx, sh, sw = BOX_CODER_SCALES
    lib = np if isinstance(encodings, np.ndarray) else paddle   # a static-graph Value is no paddle.Tensor
    ty, tx, th, tw = (encodings[..., k] for k in range(4))
    cxa, cya, wa, ha = (anchors[..., k] for k in range(4))
    cy = ty / sy * ha + cya
    cx = tx / sx * wa + cxa
    h = lib.exp(th / sh) * ha
    w = lib.exp(tw / sw) * wa
    return lib.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def encode_boxes(boxes, anchors):
    """The inverse of ``decode_boxes`` (NumPy): boxes [N, 4] x1, y1, x2, y2 matched to anchors [N, 4]
    -> training targets [N, 4] (t_y, t_x, t_h, t_w)."""
    sy, sx, sh, sw = BOX_CODER_SCALES
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-8)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-8)
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return np.stack([(cy - anchors[:, 1]) / anchors[:, 3] * sy, (cx - anchors[:, 0]) / anchors[:, 2] * sx,
                     np.log(h / anchors[:, 3]) * sh, np.log(w / anchors[:, 2]) * sw], axis=1).astype("float32")
