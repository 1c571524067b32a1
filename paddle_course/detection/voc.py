"""Pascal VOC annotations: read them with errors that name the file, write them atomically.

A VOC folder is ``JPEGImages/<id>.jpg``, ``Annotations/<id>.xml`` and
``ImageSets/Main/<split>.txt`` (one id a line). Each ``<object>`` has a
``<name>`` and a ``<bndbox>`` with ``xmin ymin xmax ymax`` in pixels; here
``0 <= xmin < xmax <= width`` and ``0 <= ymin < ymax <= height``.
"""
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from paddle_course.common.fileio import write_text
from paddle_course.common.images import read_image

# Both names mean the one class of this detector ("person" is VOC's own class name).
KNOWN_LABELS = ("pedestrian", "person")


def write_voc_annotation(path, filename, shape, objects):
    """Write one VOC XML file; ``objects`` is ``[(label, [xmin, ymin, xmax, ymax]), ...]``."""
    height, width, depth = shape
    parts = [
        "<annotation>",
        "  <folder>JPEGImages</folder>",
        f"  <filename>{escape(filename)}</filename>",
        f"  <size><width>{width}</width><height>{height}</height><depth>{depth}</depth></size>",
    ]
    for label, (xmin, ymin, xmax, ymax) in objects:
        parts += [
            "  <object>",
            f"    <name>{escape(label)}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>",
            f"    <bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox>",
            "  </object>",
        ]
    parts.append("</annotation>")
    return write_text(path, "\n".join(parts) + "\n")


def _number(element, tag, where):
    child = element.find(tag)
    if child is None or child.text is None:
        raise ValueError(f"{where}: <{tag}> is missing")
    try:
        return float(child.text)
    except ValueError:
        raise ValueError(f"{where}: <{tag}> is not a number: {child.text.strip()!r}") from None


def read_voc_annotation(path, image_shape=None, with_difficult=False):
    """Boxes of one XML file as a float32 array ``[N, 4]`` (xmin, ymin, xmax, ymax).

    With ``with_difficult`` the result is ``(boxes, difficult)``, ``difficult`` a bool
    array ``[N]`` from ``<difficult>1</difficult>`` (VOC: tiny, mostly hidden or too
    blurred; the metric ignores such boxes and the detections on them).

    ``image_shape`` (height, width) is the real image size; when given it is the
    one the boxes are checked against, else ``<size>`` of the XML is used.
    Raises ``FileNotFoundError`` / ``ValueError`` naming the file (and the
    object's position) for a missing or malformed file, an annotation with no
    objects, an unknown label, or a box outside the image.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: annotation file not found")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise ValueError(f"{path}:{line}: malformed XML (column {column}): {exc}") from None
    if image_shape is not None:
        height, width = image_shape[:2]
    else:
        size = root.find("size")
        if size is None:
            raise ValueError(f"{path}: <size> is missing")
        width, height = _number(size, "width", str(path)), _number(size, "height", str(path))
    objects = root.findall("object")
    if not objects:
        raise ValueError(f"{path}: no <object> in the annotation (every training image needs a box)")
    boxes, difficult = [], []
    for number, obj in enumerate(objects, start=1):
        where = f"{path}: object {number}"
        name = (obj.findtext("name") or "").strip()
        if name.lower() not in KNOWN_LABELS:
            raise ValueError(f"{where}: unknown label {name!r} (known: {', '.join(KNOWN_LABELS)})")
        bndbox = obj.find("bndbox")
        if bndbox is None:
            raise ValueError(f"{where}: <bndbox> is missing")
        xmin, ymin, xmax, ymax = (_number(bndbox, tag, where) for tag in ("xmin", "ymin", "xmax", "ymax"))
        if not (0 <= xmin < xmax <= width and 0 <= ymin < ymax <= height):
            raise ValueError(f"{where}: box ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) is outside the image "
                             f"of {int(width)}x{int(height)} pixels or empty")
        boxes.append((xmin, ymin, xmax, ymax))
        difficult.append((obj.findtext("difficult") or "0").strip() == "1")
    if with_difficult:
        return np.asarray(boxes, dtype="float32"), np.asarray(difficult, dtype=bool)
    return np.asarray(boxes, dtype="float32")


def read_split(voc_dir, split="train"):
    """The image ids of ``ImageSets/Main/<split>.txt``; all annotations if that file is missing."""
    voc_dir = Path(voc_dir)
    if not voc_dir.is_dir():
        raise FileNotFoundError(f"{voc_dir}: VOC folder not found")
    list_file = voc_dir / "ImageSets" / "Main" / f"{split}.txt"
    if list_file.is_file():
        ids = [line.split()[0] for line in list_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        ids = sorted(p.stem for p in (voc_dir / "Annotations").glob("*.xml"))
    if not ids:
        raise ValueError(f"{list_file}: no images listed (and no Annotations/*.xml)")
    return ids


def load_voc(voc_dir, split="train", with_difficult=False):
    """``[(image_path, boxes[N, 4]), ...]`` of one split, every file checked up front;
    with ``with_difficult`` ``[(image_path, boxes, difficult[N]), ...]``."""
    voc_dir = Path(voc_dir)
    samples = []
    for image_id in read_split(voc_dir, split):
        image_path = voc_dir / "JPEGImages" / f"{image_id}.jpg"
        image = read_image(image_path)
        annotation = read_voc_annotation(voc_dir / "Annotations" / f"{image_id}.xml", image.shape,
                                         with_difficult)
        samples.append((image_path, *annotation) if with_difficult else (image_path, annotation))
    return samples
