"""The photo detector reproduces the original TensorFlow graph and can be fine-tuned.

``tests/data/ssdlite_reference.npz`` holds, for three real images, the 300x300 input and
what the original ``frozen_inference_graph.pb`` computed on it (tools/convert_ssdlite.py).
"""
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_course.detection.anchors import decode_boxes, encode_boxes, feature_map_sizes, ssd_anchors
from paddle_course.detection.detectors import SHIPPED_PHOTO_WEIGHTS as WEIGHTS
from paddle_course.detection.photo import PhotoPedestrianDetector, load_weights, network_size, select_detections
from paddle_course.detection.photo_finetune import PhotoFinetuneModel, VOCPhotoDataset, match_anchors
from paddle_course.detection.ssdlite import SSDLiteMobileNetV2
from paddle_course.detection.voc import read_voc_annotation

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "ssdlite_reference.npz"
REAL = ROOT / "data" / "pedestrian"


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(REFERENCE, allow_pickle=False))


@pytest.fixture(scope="module")
def network():
    net = SSDLiteMobileNetV2()
    load_weights(net, WEIGHTS)
    net.eval()
    return net


def normalized(images):
    """As the graph's Preprocessor: float32 x * (2/255) - 1, NCHW."""
    return (images.astype("float32") * np.float32(0.007843138) - np.float32(1.0)).transpose(0, 3, 1, 2)


def test_anchors_match_the_original_graph(reference):
    tf = reference["anchors"]  # ymin, xmin, ymax, xmax
    tf_centre = np.stack([(tf[:, 1] + tf[:, 3]) / 2, (tf[:, 0] + tf[:, 2]) / 2,
                          tf[:, 3] - tf[:, 1], tf[:, 2] - tf[:, 0]], axis=1)
    np.testing.assert_allclose(ssd_anchors(), tf_centre, atol=1e-6)


def test_anchors_of_a_larger_input_keep_their_size_in_pixels():
    assert feature_map_sizes(300, 300) == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    assert network_size(576, 768) == (384, 512)
    small, large = ssd_anchors(), ssd_anchors(384, 512)
    assert len(large) == 3 * 24 * 32 + 6 * (12 * 16 + 6 * 8 + 3 * 4 + 2 * 2 + 1)
    np.testing.assert_allclose(large[0, 2:] * [512, 384], small[0, 2:] * 300, rtol=1e-6)


def test_layer_reproduces_tensorflow_outputs(network, reference):
    with paddle.no_grad():
        encodings, logits = network(paddle.to_tensor(normalized(reference["images"])))
    np.testing.assert_allclose(encodings.numpy(), reference["box_encodings"], atol=1e-4)
    np.testing.assert_allclose(logits.numpy(), reference["class_logits"], atol=1e-4)
    scores = 1 / (1 + np.exp(-reference["class_logits"][..., 1]))
    np.testing.assert_allclose(paddle.nn.functional.sigmoid(logits[..., 1]).numpy(), scores, atol=1e-5)


def test_detections_match_tensorflow_postprocessing(network, reference):
    with paddle.no_grad():
        encodings, logits = network(paddle.to_tensor(normalized(reference["images"])))
    boxes = decode_boxes(encodings, paddle.to_tensor(ssd_anchors())).numpy()   # decoding in Paddle
    scores = paddle.nn.functional.sigmoid(logits[..., 1]).numpy()
    for k in range(len(reference["images"])):
        rows = select_detections(boxes[k], scores[k], (0, 0, 1, 1), 0.01, 0.6, 100)
        count = int(reference["num_detections"][k])
        tf_scores = reference["detection_scores"][k][:count]
        tf_boxes = reference["detection_boxes"][k][:count][:, [1, 0, 3, 2]]   # -> x1, y1, x2, y2
        keep = tf_scores >= 0.01
        assert len(rows) == keep.sum()
        np.testing.assert_allclose(rows[:, 4], tf_scores[keep], atol=1e-5)
        np.testing.assert_allclose(rows[:, :4].clip(0, 1), tf_boxes[keep], atol=1e-5)


def test_encode_is_the_inverse_of_decode():
    anchors = ssd_anchors()
    rng = np.random.default_rng(0)
    encodings = rng.normal(0, 1, size=anchors.shape).astype("float32")
    boxes = decode_boxes(encodings, anchors)
    np.testing.assert_allclose(encode_boxes(boxes, anchors), encodings, atol=1e-3)


def test_every_box_gets_an_anchor():
    boxes = np.array([[0.1, 0.1, 0.14, 0.2], [0.5, 0.3, 0.6, 0.7]], dtype="float32")   # a small and a tall one
    labels, targets = match_anchors(boxes, ssd_anchors())
    assert labels.sum() >= 2
    assert np.abs(targets[labels == 0]).sum() == 0


def test_weights_file_is_tensors_only():
    from safetensors import safe_open

    with safe_open(str(WEIGHTS), framework="numpy") as f:
        assert "source" in f.metadata() and "cftang" in f.metadata()["source"]
        assert len(list(f.keys())) == 176


def test_inference_engine_matches_dygraph(tmp_path):
    import cv2

    image = cv2.imread(str(REAL / "JPEGImages" / "vtest_0000.jpg"))
    for size in ("aspect", "square"):   # the exported program takes any input size
        dygraph = PhotoPedestrianDetector(WEIGHTS, size=size).detect(image)
        inference = PhotoPedestrianDetector(WEIGHTS, engine="inference", size=size,
                                            inference_dir=tmp_path / "m").detect(image)
        assert len(dygraph) == len(inference) > 0
        np.testing.assert_allclose(inference, dygraph, atol=1e-2)


def test_gradients_reach_the_first_layer_and_a_step_lowers_the_loss():
    paddle.seed(0)
    samples = [(REAL / "JPEGImages" / "vtest_0000.jpg", read_voc_annotation(REAL / "Annotations" / "vtest_0000.xml"))]
    dataset = VOCPhotoDataset(samples=samples)
    batch = [paddle.to_tensor(np.stack([np.asarray(x)])) for x in dataset[0]]
    model = PhotoFinetuneModel(WEIGHTS)
    model.train()
    optimizer = paddle.optimizer.Adam(learning_rate=1e-4, parameters=model.parameters())
    losses = []
    for step in range(3):
        loss = model.training_step(batch, step)["loss"]
        loss.backward()
        if step == 0:
            grad = model.network.backbone.stem.weight.grad
            assert grad is not None and float(paddle.abs(grad).sum()) > 0
        optimizer.step()
        optimizer.clear_grad()
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_a_finetune_checkpoint_loads_back_and_a_crafted_one_runs_nothing(tmp_path):
    import pickle

    from paddle_course.common.safe_weights import UnsafeWeightsError

    model = PhotoFinetuneModel(WEIGHTS)
    (tmp_path / "best_model").mkdir()
    paddle.save(model.state_dict(), str(tmp_path / "best_model" / "model.pdparams"))
    network = SSDLiteMobileNetV2()
    assert load_weights(network, tmp_path) == tmp_path / "best_model" / "model.pdparams"
    np.testing.assert_array_equal(network.backbone.stem.weight.numpy(), model.network.backbone.stem.weight.numpy())

    class Attack:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "PWNED",))

    (tmp_path / "evil.pdparams").write_bytes(pickle.dumps({"stem.weight": Attack()}))
    with pytest.raises(UnsafeWeightsError):
        load_weights(SSDLiteMobileNetV2(), tmp_path / "evil.pdparams")
    assert not (tmp_path / "PWNED").exists()
