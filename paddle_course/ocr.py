"""OCR with PP-OCRv4, offline: detect text boxes, straighten them, read each line.

Course 3 (PaddleHub): "文字识别" and the 快递单识别 exercise.  The three networks
of PaddleOCR's pipeline run here as ONNX models shipped inside the
``rapidocr-onnxruntime`` wheel (exported from PaddleOCR, Apache-2.0):

1. detection  ``ch_PP-OCRv4_det``  (DB: a probability map of "this pixel is text",
   thresholded and expanded into 4-point boxes);
2. direction  ``ch_ppocr_mobile_v2.0_cls`` (is the crop upside down? 0 / 180 degrees);
3. recognition ``ch_PP-OCRv4_rec`` (an SVTR-LCNet + CTC reading 6623 characters).

``engine()`` gives that pipeline itself; ``recognize()`` adapts its answer to
PaddleHub's ``chinese_ocr_db_crnn_mobile`` format, which the ``course_ocr`` hub
module returns.  Test and benchmark images are rendered here with a CJK font
shipped in the module's assets (a subset of WenQuanYi Micro Hei, Apache-2.0,
cut down to the characters the recognizer knows), so nothing is downloaded.
"""
import base64
import binascii
import functools
import os
import random
import time
from pathlib import Path

import cv2
import numpy as np

from paddle_course.common.fileio import atomic_path, write_json
from paddle_course.common.paths import hub_module_dir
from paddle_course.common.progress import say

MODULE_NAME = "course_ocr"
MODULE_DIR = hub_module_dir(MODULE_NAME)
FONT_PATH = MODULE_DIR / "assets" / "fonts" / "wqy-microhei-ppocr.ttf"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


# ---------------------------------------------------------------- the engine
def _default_threads():
    """onnxruntime ignores OMP_NUM_THREADS; honour it so shared CPUs stay polite."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else -1


@functools.lru_cache(maxsize=4)
def engine(num_threads=None):
    """The underlying PP-OCRv4 pipeline: ``rapidocr_onnxruntime.RapidOCR``.

    Call it directly to measure the hub module's overhead::

        result, elapse = paddle_course.ocr.engine()(image_bgr)
        # result: [[box (4 x [x, y]), text, score], ...] or None

    One instance per thread count is kept, so models load once per process.
    ``num_threads`` defaults to ``$OMP_NUM_THREADS`` (or all cores if unset).
    """
    from rapidocr_onnxruntime import RapidOCR

    threads = _default_threads() if num_threads is None else int(num_threads)
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)


def recognize(images, box_thresh=0.5, text_thresh=0.5, angle_classification_thresh=0.9, ocr_engine=None):
    """Read every image; one list of lines per image, PaddleHub's format.

    Args:
        images: list of BGR ``uint8`` arrays of shape (H, W, 3), already checked.
        box_thresh: minimum mean DB probability inside a detected box.
        text_thresh: minimum recognition confidence (mean CTC character probability)
            for a line to be kept.
        angle_classification_thresh: a crop is turned by 180 degrees only when the
            direction classifier is at least this sure.
        ocr_engine: a ``RapidOCR``-like callable, default ``engine()``; the hub module
            passes one whose recognizer is a fine-tuned CRNN when given a checkpoint.

    Returns:
        list (one per image) of lists of ``{"text", "confidence", "text_box_position"}``;
        ``text_box_position`` is ``[[x, y]] * 4`` in pixels, clockwise from top-left.
    """
    ocr_engine = ocr_engine or engine()
    ocr_engine.text_cls.cls_thresh = angle_classification_thresh
    results = []
    for image in images:
        lines, _ = ocr_engine(image, box_thresh=box_thresh, text_score=text_thresh)
        results.append([
            {
                "text": text,
                "confidence": float(score),
                "text_box_position": [[int(round(x)), int(round(y))] for x, y in box],
            }
            for box, text, score in (lines or [])
        ])
    return results


# ---------------------------------------------------------------- checking inputs
def as_bgr(image, where="image"):
    """Check one image array and return it as contiguous BGR uint8 (H, W, 3)."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array (H, W, 3), got {type(image).__name__}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{where}: expected shape (H, W, 3) or (H, W), got {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"{where}: image is empty ({image.shape[0]}x{image.shape[1]} pixels)")
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.number) or not np.isfinite(image).all():
            raise ValueError(f"{where}: pixel values must be finite numbers")
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def read_image(path):
    """Read an image file as BGR; a clear error if it is missing or not an image."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode: non-ASCII paths work
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"{path}: not an image (OpenCV cannot decode it)")
    return image


def decode_base64_image(text, where="images[0]"):
    """Turn one base64 string (optionally a ``data:image/...;base64,`` URL) into BGR."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: expected a non-empty base64 string, got {type(text).__name__}")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: not valid base64") from None
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR) if raw else None
    if image is None:
        raise ValueError(f"{where}: base64 decodes to {len(raw)} bytes that are not an image")
    return image


def encode_base64_image(image, ext=".png"):
    """The inverse of ``decode_base64_image``: what a serving client sends."""
    ok, buf = cv2.imencode(ext, image)
    if not ok:
        raise ValueError("cannot encode the image")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def collect_images(images=None, paths=None):
    """The hub module's two inputs, checked: a list of (BGR image, source path or None)."""
    if images is None and paths is None:
        raise ValueError("give images (a list of BGR arrays) or paths (a list of image files)")
    collected = []
    for name, value in (("images", images), ("paths", paths)):
        if value is None:
            continue
        if isinstance(value, (str, Path, np.ndarray)):
            raise ValueError(f"{name} must be a list, got a single {type(value).__name__}; wrap it in [...]")
        for i, item in enumerate(value):
            if name == "images":
                collected.append((as_bgr(item, f"images[{i}]"), None))
            else:
                collected.append((read_image(item), str(item)))
    if not collected:
        raise ValueError("no images given: the list is empty")
    return collected


# ---------------------------------------------------------------- visualization
def _pil_font(font=None, size=28):
    from PIL import ImageFont

    return ImageFont.truetype(str(font or FONT_PATH), size)


def draw_result(image, lines):
    """Boxes drawn on the image, and the recognised text beside it (PaddleOCR's ``draw_ocr``)."""
    from PIL import Image, ImageDraw

    h, w = image.shape[:2]
    left = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    canvas = Image.new("RGB", (w * 2, h), (255, 255, 255))
    canvas.paste(left, (0, 0))
    draw = ImageDraw.Draw(canvas)
    rng = random.Random(0)  # the same colours every time
    for line in lines:
        colour = (rng.randint(0, 200), rng.randint(0, 200), rng.randint(0, 200))
        box = [tuple(p) for p in line["text_box_position"]]
        draw.polygon(box, outline=colour, width=2)
        box_h = max(abs(box[3][1] - box[0][1]), 12)
        size = max(10, min(int(box_h * 0.8), 40))
        draw.text((w + box[0][0], box[0][1]), f"{line['text']} ({line['confidence']:.2f})",
                  fill=colour, font=_pil_font(size=size))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)


def save_image(image, path):
    """Write an image atomically (the format follows the suffix)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".jpg", image)
    if not ok:
        raise ValueError(f"{path}: cannot encode an image with this suffix")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.tobytes())
    return path


def visualization_path(output_dir, source, index):
    """``<output_dir>/<name of the input>.jpg``, or ``ndarray_<time>_<i>.jpg`` for arrays."""
    if source:
        stem = Path(source).stem
    else:
        stem = f"ndarray_{time.strftime('%Y%m%d_%H%M%S')}_{index}"
    return Path(output_dir) / f"{stem}.jpg"


# ---------------------------------------------------------------- rendering images
def render_text_image(lines, font=None, font_size=32, line_gap=None, margin=24, width=None,
                      color=(20, 20, 20), background=(255, 255, 255), seed=None, noise=0.0, blur=0):
    """Render text lines into a BGR image with known content, for tests and benchmarks.

    Args:
        lines: list of strings, one per printed line.
        font: a .ttf/.ttc path; default the shipped CJK font (WenQuanYi Micro Hei subset).
        font_size: glyph size in pixels; line_gap: pixels between lines (default font_size/2).
        width: canvas width (default: the longest line plus margins).
        seed, noise: Gaussian pixel noise of std ``noise`` (0..255), drawn from ``seed``.
        blur: odd kernel size of a Gaussian blur (0 = none).
    """
    from PIL import Image, ImageDraw

    if isinstance(lines, str):
        lines = [lines]
    pil_font = _pil_font(font, font_size)
    line_gap = font_size // 2 if line_gap is None else line_gap
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [probe.textlength(line, font=pil_font) for line in lines] or [0]
    width = width or int(max(widths)) + 2 * margin
    height = 2 * margin + len(lines) * font_size + max(len(lines) - 1, 0) * line_gap
    canvas = Image.new("RGB", (max(width, 2), max(height, 2)), background)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * (font_size + line_gap)), line, fill=color, font=pil_font)
    image = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)
    if blur:
        image = cv2.GaussianBlur(image, (blur, blur), 0)
    if noise:
        rng = np.random.default_rng(seed)
        image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    return image


# A few common words, so the seeded samples read like waybills and receipts.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国文红云飞鹏辉玲燕婷雪琳晨阳宇浩然子涵欣怡佳"
PROVINCES = [("浙江省", "杭州市", ["西湖区", "上城区", "滨江区"]), ("江苏省", "南京市", ["鼓楼区", "玄武区", "江宁区"]),
             ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]), ("四川省", "成都市", ["武侯区", "锦江区", "青羊区"]),
             ("湖北省", "武汉市", ["洪山区", "江汉区", "武昌区"]), ("山东省", "青岛市", ["市南区", "崂山区", "黄岛区"]),
             ("北京市", "北京市", ["海淀区", "朝阳区", "东城区"]), ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区"])]
ROADS = ["文三路", "中山路", "人民路", "解放路", "建设大道", "长江路", "学院路", "科技园路", "和平街", "新华街"]
COMPANIES = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "邮政EMS"]


def random_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2))))


def random_phone(rng):
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def random_address(rng):
    province, city, districts = rng.choice(PROVINCES)
    head = province if province == city else province + city
    return f"{head}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"


def random_waybill(seed=0):
    """A seeded waybill: ``(lines to print, {"name", "phone", "address"} of the recipient)``."""
    rng = random.Random(seed)
    fields = {"name": random_name(rng), "phone": random_phone(rng), "address": random_address(rng)}
    number = "".join(rng.choice("0123456789") for _ in range(12))
    lines = [
        f"{rng.choice(COMPANIES)}  运单号：{number}",
        f"收件人：{fields['name']}",
        f"电话：{fields['phone']}",
        f"地址：{fields['address']}",
        f"寄件人：{random_name(rng)}  {random_phone(rng)}",
    ]
    return lines, fields


def render_waybill(seed=0, font_size=30):
    """A rendered waybill image with known fields: ``(BGR image, lines, fields)``."""
    lines, fields = random_waybill(seed)
    return render_text_image(lines, font_size=font_size, seed=seed), lines, fields


def random_text_line(rng):
    """One seeded line of the kinds a waybill holds: a name, phone, address or number."""
    kind = rng.randrange(5)
    if kind == 0:
        return random_name(rng)
    if kind == 1:
        return random_phone(rng)
    if kind == 2:
        return random_address(rng)
    if kind == 3:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 14)))
    return rng.choice(COMPANIES)


def benchmark_images(n=20, seed=0, lines_per_image=3, font_size=30):
    """``n`` seeded images with known text, to measure speed and accuracy.

    Returns a list of ``(BGR image, [expected line, ...])``.
    """
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        lines = [random_text_line(rng) for _ in range(lines_per_image)]
        samples.append((render_text_image(lines, font_size=font_size, seed=seed + i), lines))
    return samples


# ---------------------------------------------------------------- measuring
def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_accuracy(predicted, expected):
    """``1 - edit_distance(predicted, expected) / len(expected)``, floored at 0."""
    if not expected:
        return float(predicted == expected)
    return max(0.0, 1.0 - edit_distance(predicted, expected) / len(expected))


def accuracy_on(samples, recognize_fn):
    """Line and character accuracy of ``recognize_fn(list of images) -> list of line lists``.

    Recognised lines of one image are joined top to bottom; so are the expected
    lines, after removing spaces (the recognizer does not always print them).

    Returns ``{"images", "line_accuracy", "char_accuracy"}`` where a line counts
    as right when the whole image's text matches exactly.
    """
    images = [image for image, _ in samples]
    predictions = recognize_fn(images)
    exact, chars = 0, 0.0
    for (_, expected), lines in zip(samples, predictions):
        want = "".join(expected).replace(" ", "")
        got = "".join(line["text"] for line in lines).replace(" ", "")
        exact += got == want
        chars += char_accuracy(got, want)
    return {"images": len(samples), "line_accuracy": exact / len(samples), "char_accuracy": chars / len(samples)}


# ---------------------------------------------------------------- the course's commands
def load_module(checkpoint=None):
    """The ``course_ocr`` hub module from the package's folder (no install needed)."""
    import paddlehub as hub

    kwargs = {"checkpoint": str(checkpoint)} if checkpoint else {}
    return hub.Module(directory=str(MODULE_DIR), **kwargs)


def expand_paths(paths):
    """Image files, with folders expanded to the images inside them (sorted)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    if not found:
        raise ValueError("no image files found in " + ", ".join(map(str, paths)))
    return [str(p) for p in found]


def run(paths, out_dir="ocr_result", visualization=True, text_thresh=0.5, checkpoint=None, quiet=False):
    """``paddle-course ocr run``: read image files, print their lines, save annotated copies."""
    module = load_module(checkpoint)
    results = module.recognize_text(paths=expand_paths(paths), output_dir=str(out_dir),
                                    visualization=visualization, text_thresh=text_thresh)
    return results


def read_waybill(path, checkpoint=None):
    """``paddle-course ocr waybill``: OCR one waybill photo and extract name, phone and address."""
    from .waybill import extract_waybill

    module = load_module(checkpoint)
    result = module.recognize_text(paths=[str(path)])[0]
    lines = [line["text"] for line in result["data"]]
    return {"lines": lines, **extract_waybill(lines)}


def demo(out_dir, quiet=False):
    """The tour's OCR stop: render a waybill, read it, extract the recipient, save the picture.

    Returns ``{"lines", "fields", "expected", "save_path"}``.
    """
    from .waybill import extract_waybill

    out_dir = Path(out_dir)
    image, _, expected = render_waybill(seed=7)
    say("OCR: reading a rendered waybill (PP-OCRv4 detection + direction + recognition)", quiet)
    module = load_module()
    result = module.recognize_text(images=[image], output_dir=str(out_dir / "ocr_result"), visualization=True)[0]
    lines = [line["text"] for line in result["data"]]
    for line in result["data"]:
        say(f"  {line['confidence']:.3f}  {line['text']}", quiet)
    fields = extract_waybill(lines)
    say(f"  waybill -> name={fields['name']} phone={fields['phone']} address={fields['address']}", quiet)
    save_path = out_dir / "ocr_waybill.jpg"
    Path(result["save_path"]).replace(save_path)
    write_json(out_dir / "ocr_waybill.json", {"lines": lines, "fields": fields, "expected": expected})
    say(f"  annotated image: {save_path}", quiet)
    return {"lines": lines, "fields": fields, "expected": expected, "save_path": str(save_path)}


def print_ocr(paths, out_dir="ocr_result", as_json=False, visualization=True, text_thresh=0.5, checkpoint=None):
    """``paddle-course ocr run``: print each image's lines (or the whole result as JSON)."""
    import json

    results = run(paths, out_dir=out_dir, visualization=visualization, text_thresh=text_thresh, checkpoint=checkpoint)
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return results
    for result in results:
        print(f"# {result['save_path'] or '(not saved)'}: {len(result['data'])} lines")
        for line in result["data"]:
            print(f"{line['confidence']:.3f}\t{line['text']}")
    return results


def print_waybill(path, as_json=True, checkpoint=None):
    """``paddle-course ocr waybill``: the recipient's fields of one waybill image."""
    import json

    fields = read_waybill(path, checkpoint=checkpoint)
    if as_json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        for key in ("name", "phone", "address"):
            print(f"{key}\t{fields[key] or ''}")
    return fields


def write_sample_waybill(path, seed=0):
    """``paddle-course ocr sample``: render a seeded waybill image to try the commands on."""
    image, lines, fields = render_waybill(seed=seed)
    save_image(image, path)
    print(f"{path}: waybill for {fields['name']} {fields['phone']} {fields['address']}")
    return fields
