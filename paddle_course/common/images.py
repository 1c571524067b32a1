"""Images in and out, with one set of rules for every model and the server.

An image inside the course is what ``cv2.imread`` returns: a BGR ``uint8`` array
``(H, W, 3)``.  Everything that takes images from outside goes through here:

* :func:`read_image` -- a file (any path, non-ASCII too) -> BGR;
* :func:`check_image` -- an array from a caller -> BGR ``uint8`` (grey and BGRA are
  converted, other number types clipped to 0..255), at least :data:`MIN_SIDE` pixels a side;
* :func:`decode_base64_image` / :func:`encode_base64_image` -- what ``hub serving`` clients send;
* :func:`save_image` -- ``save_image(image, path)``, atomically, the format from the suffix;
* :func:`image_files` -- files and folders given on a command line -> image files;
* :func:`shipped_images` -- the images in the folders of ``data/`` named for a topic (the pages' samples).

Every error names the input (``images[2]``, the file) and what is wrong with it.  OpenCV is
imported when an image is decoded or encoded, so a missing file is reported without waiting for it.
"""
import base64
import binascii
from pathlib import Path

import numpy as np

from paddle_course.common.fileio import atomic_path
from paddle_course.common.paths import course_dir

#: The smallest height and width accepted: no detector or recognizer finds anything in less.
MIN_SIDE = 8
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def read_image(path, flags=None):
    """Read an image file as BGR (``flags=cv2.IMREAD_GRAYSCALE``: grey); a clear error if it is missing or not an image."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: image file not found")
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode: non-ASCII paths work
    image = decode_image_bytes(data.tobytes(), flags)
    if image is None:
        raise ValueError(f"{path}: not an image (OpenCV cannot decode it)")
    return image


def check_image(image, where="image"):
    """Check one image array and return it as contiguous BGR ``uint8`` of shape ``(H, W, 3)``."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array (BGR, as cv2.imread returns), got {type(image).__name__}")
    if image.ndim == 2:
        image = image[:, :, None].repeat(3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"{where}: expected shape (H, W, 3), (H, W, 4) or (H, W), got {image.shape}")
    if image.shape[0] < MIN_SIDE or image.shape[1] < MIN_SIDE:
        raise ValueError(f"{where}: expected an image of shape (H, W, 3) with H, W >= {MIN_SIDE}, "
                         f"got {image.shape}")
    if image.shape[2] == 4:
        image = image[:, :, :3]  # BGRA -> BGR: the alpha channel is dropped, as cv2.COLOR_BGRA2BGR does
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.number) or not np.isfinite(image).all():
            raise ValueError(f"{where}: pixel values must be finite numbers")
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def base64_bytes(text, where="image"):
    """The bytes of one base64 string (a ``data:image/...;base64,`` URL works too)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: expected a non-empty base64 string, got {type(text).__name__}")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: not valid base64") from None


def decode_image_bytes(raw, flags=None):
    """The image in the bytes of an image file (``flags``: ``cv2.IMREAD_COLOR`` by default), or None if
    OpenCV cannot read them."""
    import cv2

    if not raw:
        return None
    return cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR if flags is None else flags)


def decode_base64_image(text, where="image"):
    """One base64 string -> BGR array, or a ValueError naming ``where`` and the problem."""
    raw = base64_bytes(text, where)
    image = decode_image_bytes(raw)
    if image is None:
        raise ValueError(f"{where}: the decoded bytes are not an image OpenCV can read ({len(raw)} bytes)")
    return image


def encode_base64_image(image, ext=".png"):
    """The inverse of :func:`decode_base64_image`: what a serving client sends."""
    import cv2

    ok, buffer = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f"cannot encode the image as {ext}")
    return base64.b64encode(buffer.tobytes()).decode("ascii")


def save_image(image, path, jpeg_quality=None):
    """Write ``image`` to ``path`` atomically (format from the suffix, ``.jpg`` if none); returns the path."""
    import cv2

    path = Path(path)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if jpeg_quality else []
    ok, buffer = cv2.imencode(path.suffix or ".jpg", image, params)
    if not ok:
        raise ValueError(f"{path}: cannot encode an image with this suffix")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.tobytes())
    return path


def image_files(paths):
    """Image files, with folders expanded to the images inside them (sorted by name)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    if not found:
        raise ValueError("no image files found in " + ", ".join(map(str, paths)))
    return [str(p) for p in found]


def shipped_images(*folder_words):
    """Image files in the folders of ``data/`` whose name contains one of ``folder_words`` (sorted; maybe empty).

    ``shipped_images("pedestrian", "people")`` picks up photos added to ``data/pedestrians/``
    (or ``data/people/`` ...) without a code change.
    """
    try:
        data = course_dir("data")
    except FileNotFoundError:
        return []
    folders = [p for p in data.iterdir() if p.is_dir() and any(w in p.name.lower() for w in folder_words)]
    return sorted(p for folder in folders for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
