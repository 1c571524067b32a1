"""The photo pedestrian detector: SSDLite-MobileNetV2 + anchors + NMS (course 3.2).

``PhotoPedestrianDetector(...).detect(image_bgr) -> array [N, 5]`` of ``left, top,
right, bottom, confidence`` in the image's pixels, like the HOG and CenterNet
detectors. Steps:

1. the image is resized for the network, in one of two ways (``size=``):
   - ``"square"``: to 300x300, stretched, exactly as the model was trained and as the
     original graph does; people of a 768x576 frame shrink to 52 % of their height;
   - ``"aspect"`` (default): aspect ratio kept, long side about 512, each side a
     multiple of 128 (768x576 -> 512x384: people keep 67 % of their height). The network
     is convolutional, so it simply runs on more cells; the anchors keep their size in
     pixels (``anchors.ssd_anchors(h, w)``). Sides that are multiples of 128 keep the
     anchor centres on the cells' real centres; other sizes measured clearly worse;
   then RGB, scaled to [-1, 1];
   with ``tiles=(columns, rows)`` the image is also cut into overlapping tiles, each
   handled the same way, so small people are seen larger (one more pass per tile);
2. the network gives per anchor 4 box corrections and the person logit;
   ``decode_boxes`` turns the first into boxes, a sigmoid the second into scores;
3. boxes scoring at least ``min_score`` go through greedy NMS (IoU > ``nms_iou``
   suppressed; 0.6 as in the original graph), are scaled to the image's pixels and
   clipped to it; at most ``max_detections`` are kept.

Two engines run step 2: ``"dygraph"`` (the Layer; needed for fine-tuning) and
``"inference"`` (Paddle Inference with oneDNN on the program ``paddle.jit.save``
exports from the same Layer, any input size; about 3.5x faster on CPU, measured).
"""
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import paddle
from paddle_course.common.fileio import atomic_dir

from paddle_course.detection.anchors import decode_boxes, ssd_anchors
from paddle_course.detection.ssdlite import INPUT_SIZE, SSDLiteMobileNetV2

WEIGHTS_NAME = "ssdlite_mobilenet_v2_person.safetensors"
ENGINES = ("dygraph", "inference")
SIZES = ("aspect", "square")
LONG_SIDE, MULTIPLE = 512, 128


def weights_file(path):
    """The weights file of ``path``: itself, or a fine-tune folder's (``best_model/``)``model.safetensors``
    (an older folder's ``model.pdparams``)."""
    from paddle_course.common.checkpoints import weights_in

    path = Path(path)
    if path.is_dir():
        found = [p for p in (weights_in(path), weights_in(path / "best_model")) if p is not None]
        if not found:
            raise FileNotFoundError(f"{path}: no model.safetensors (or model.pdparams) in it or in best_model/")
        path = found[0]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file not found")
    return path


def load_weights(network, path):
    """Load the shipped ``.safetensors`` or a fine-tune's weights file / output folder into
    ``network`` (an ``SSDLiteMobileNetV2``). Both go through ``common.safe_weights``: a pickled
    file is read by its restricted unpickler, so a crafted one cannot run code."""
    from paddle_course.common.checkpoints import unfit_keys
    from paddle_course.common.safe_weights import load_state

    path = weights_file(path)
    # a hub.Trainer checkpoint of the fine-tune model prefixes the keys with "network."
    state = {k.removeprefix("network."): v for k, v in load_state(path).items()}
    expected = network.state_dict()
    unfit = unfit_keys(expected, state)
    missing = sorted(k for k, (_, found) in unfit.items() if found is None)
    wrong = sorted(k for k, (_, found) in unfit.items() if found is not None)
    if missing or wrong:
        raise ValueError(f"{path}: not SSDLite-MobileNetV2 person weights (missing {missing[:3]}, "
                         f"wrong shape {wrong[:3]})")
    network.set_state_dict({k: paddle.to_tensor(np.asarray(state[k])) for k in expected})
    return path


def network_size(height, width, size="aspect"):
    """(height, width) the network sees for an image of ``height`` x ``width`` (see the module doc)."""
    if size == "square":
        return INPUT_SIZE, INPUT_SIZE
    if size != "aspect":
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    scale = LONG_SIDE / max(height, width)
    return tuple(max(MULTIPLE, round(side * scale / MULTIPLE) * MULTIPLE) for side in (height, width))


def preprocess(image, size=(INPUT_SIZE, INPUT_SIZE)):
    """BGR uint8 [H, W, 3] -> float32 [3, h, w] for ``size`` = (h, w), RGB, x / 127.5 - 1."""
    height, width = size
    interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    resized = cv2.resize(image, (width, height), interpolation=interpolation)
    return (resized[:, :, ::-1].astype("float32") * np.float32(2 / 255) - 1.0).transpose(2, 0, 1).copy()


@lru_cache(maxsize=16)
def anchors_for(height, width):
    return ssd_anchors(height, width)


def tile_windows(height, width, grid=(2, 2), overlap=0.25):
    """Overlapping windows ``(x0, y0, x1, y1)``: ``grid`` = (columns, rows), each window
    (1 + overlap) / n of the side, spread evenly from edge to edge."""
    columns, rows = grid
    tw = width if columns == 1 else round(width * (1 + overlap) / columns)
    th = height if rows == 1 else round(height * (1 + overlap) / rows)
    xs = [round(i * (width - tw) / max(columns - 1, 1)) for i in range(columns)]
    ys = [round(j * (height - th) / max(rows - 1, 1)) for j in range(rows)]
    return [(x0, y0, x0 + tw, y0 + th) for y0 in ys for x0 in xs]


def nms(boxes, scores, iou_thresh):
    """Indices of the boxes greedy NMS keeps, best first: a box is dropped when its IoU with a
    better kept box is above ``iou_thresh`` (IoU without the "+1" of pixel counts, as TensorFlow)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype="int64")
    kept = paddle.vision.ops.nms(paddle.to_tensor(np.asarray(boxes, "float32")), iou_thresh,
                                 paddle.to_tensor(np.asarray(scores, "float32")))
    return kept.numpy().reshape(-1)


def select_detections(boxes, scores, window, min_score, nms_iou, max_detections):
    """Boxes [N, 4] (fractions of ``window``) and scores [N] -> rows [M, 5] in image pixels after NMS."""
    keep = scores >= min_score
    boxes, scores = boxes[keep].astype("float64"), scores[keep].astype("float64")
    x0, y0, x1, y1 = window
    boxes = boxes * np.array([x1 - x0, y1 - y0, x1 - x0, y1 - y0]) + np.array([x0, y0, x0, y0])
    if len(boxes):
        kept = nms(boxes, scores, nms_iou)[:max_detections]
        boxes, scores = boxes[kept], scores[kept]
    return np.concatenate([boxes, scores[:, None]], axis=1) if len(boxes) else np.zeros((0, 5))


def export_inference_model(weights, out_dir):
    """Save the network with ``weights`` for Paddle Inference (``paddle.jit.save``; any batch, any size)."""
    network = SSDLiteMobileNetV2()
    load_weights(network, weights)
    network.eval()
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "image")]
    static = paddle.jit.to_static(network, input_spec=spec, full_graph=True)
    with atomic_dir(out_dir) as tmp:
        paddle.jit.save(static, str(Path(tmp) / "model"))
    return Path(out_dir)


def default_inference_dir(weights):
    """Where the exported program of ``weights`` is cached (made on first use). The name holds
    the weights' and the network code's sha256 and Paddle's version: a change of any of them
    makes a new export instead of running a stale program."""
    from paddle_course.detection import ssdlite

    weights_digest = hashlib.sha256(weights_file(weights).read_bytes()).hexdigest()[:12]
    code_digest = hashlib.sha256(Path(ssdlite.__file__).read_bytes()).hexdigest()[:8]
    root = Path(os.environ.get("PADDLE_COURSE_CACHE", Path.home() / ".cache" / "paddle_course"))
    return root / "photo_ssd_inference" / f"{weights_digest}-{code_digest}-paddle{paddle.__version__}"


def inference_predictor(model_dir, threads=2):
    """A Paddle Inference predictor on CPU with oneDNN.

    The program x2paddle generates (fixed batch 1 in its reshapes) fails in Paddle 3.3.1's
    ``operator_reshape_onednn_fuse_pass`` and needs ``config.delete_pass`` of it; this
    Layer's program (batch -1) runs with every pass, as fast as without that one."""
    from paddle import inference

    model_dir = Path(model_dir)
    program = next((model_dir / name for name in ("model.json", "model.pdmodel")
                    if (model_dir / name).is_file()), None)
    if program is None:
        raise FileNotFoundError(f"{model_dir}: no model.json / model.pdmodel (export it first)")
    config = inference.Config(str(program), str(model_dir / "model.pdiparams"))
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(threads)
    config.enable_mkldnn()
    config.disable_glog_info()
    return inference.create_predictor(config)


class PhotoPedestrianDetector:
    """``detect(image_bgr) -> array [N, 5]`` of ``left, top, right, bottom, confidence``."""

    name = "photo"

    def __init__(self, weights, engine="dygraph", size="aspect", tiles=None, min_score=0.05, nms_iou=0.6,
                 max_detections=100, threads=2, inference_dir=None):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        network_size(300, 400, size)  # checks the name
        self.engine, self.size, self.tiles = engine, size, tiles
        self.min_score, self.nms_iou, self.max_detections = min_score, nms_iou, max_detections
        if engine == "dygraph":
            self.network = SSDLiteMobileNetV2()
            self.weights = load_weights(self.network, weights)
            self.network.eval()
        else:
            self.weights = weights_file(weights)
            model_dir = Path(inference_dir) if inference_dir else default_inference_dir(weights)
            if not model_dir.is_dir():
                export_inference_model(weights, model_dir)
            self.predictor = inference_predictor(model_dir, threads)

    @classmethod
    def from_network(cls, network, **options):
        """A dygraph detector over a network in memory (a fine-tune measures its epochs with it);
        ``options`` as for the constructor (size, tiles, min_score, nms_iou, max_detections)."""
        detector = cls.__new__(cls)
        settings = {"size": "aspect", "tiles": None, "min_score": 0.05, "nms_iou": 0.6, "max_detections": 100,
                    **options}
        detector.engine, detector.network, detector.weights = "dygraph", network, None
        for name, value in settings.items():
            setattr(detector, name, value)
        return detector

    def run(self, batch):
        """The network on a batch [B, 3, h, w] -> (box corrections [B, N, 4], person logits [B, N])."""
        if self.engine == "dygraph":
            with paddle.no_grad():
                encodings, logits = self.network(paddle.to_tensor(batch))
            return encodings.numpy(), logits.numpy()[..., 1]
        handle = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        handle.reshape(list(batch.shape))
        handle.copy_from_cpu(np.ascontiguousarray(batch, dtype="float32"))
        self.predictor.run()
        encodings, logits = (self.predictor.get_output_handle(n).copy_to_cpu()
                             for n in self.predictor.get_output_names())
        return encodings, logits[..., 1]

    def detect(self, image):
        height, width = image.shape[:2]
        windows = [(0, 0, width, height)]
        if self.tiles:
            windows += tile_windows(height, width, self.tiles)
        rows = []
        # windows of one size share a batch (all tiles have the same size)
        for size in dict.fromkeys(network_size(y1 - y0, x1 - x0, self.size) for x0, y0, x1, y1 in windows):
            group = [w for w in windows if network_size(w[3] - w[1], w[2] - w[0], self.size) == size]
            batch = np.stack([preprocess(image[y0:y1, x0:x1], size) for x0, y0, x1, y1 in group])
            encodings, logits = self.run(batch)
            boxes = decode_boxes(encodings, anchors_for(*size))
            scores = 1.0 / (1.0 + np.exp(-logits))
            rows += [select_detections(b, s, w, self.min_score, self.nms_iou, self.max_detections)
                     for b, s, w in zip(boxes, scores, group)]
        rows = np.concatenate(rows)
        if len(windows) > 1 and len(rows):
            rows = rows[nms(rows[:, :4], rows[:, 4], self.nms_iou)]
        rows[:, [0, 2]] = rows[:, [0, 2]].clip(0, width)
        rows[:, [1, 3]] = rows[:, [1, 3]].clip(0, height)
        rows = rows[(rows[:, 2] > rows[:, 0]) & (rows[:, 3] > rows[:, 1])][:self.max_detections]
        return rows.astype("float32")
