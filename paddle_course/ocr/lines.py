"""Rendered text-line crops with known text: the OCR fine-tune's data (course 3.3).

Each crop looks like what PP-OCRv4's detector hands the recognizer: one line, cut
around the ink with a seeded margin, optionally blurred and noisy.  Written to disk in
PaddleOCR's recognition label format (``image_path<TAB>transcription``) by
:func:`write_rendered_dataset` (``paddle-course ocr sample-lines``).
"""
import random
from pathlib import Path

import cv2
import numpy as np

from paddle_course.common.fileio import write_text
from paddle_course.common.images import save_image
from paddle_course.common.plots import matplotlib_font
from paddle_course.ocr.render import (FONT_PATH, random_address, random_name, random_phone, random_text_line,
                                      render_text_image)


def font_path(style):
    """``wqy``: the shipped WenQuanYi subset; ``serif``: matplotlib's DejaVu Serif (Latin and digits)."""
    if style == "wqy":
        return str(FONT_PATH)
    if style == "serif":
        return str(matplotlib_font("DejaVuSerif.ttf"))
    raise ValueError(f"unknown font style {style!r}; use 'wqy' or 'serif'")


def digits_line(rng):
    """A line only of digits and '-': phones, tracking numbers, landlines."""
    kind = rng.randrange(3)
    if kind == 0:
        return random_phone(rng)
    if kind == 1:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 14)))
    return "0" + "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 3))) + "-" + \
        "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 8)))


def render_line(text, rng, font_style="wqy", noisy=False):
    """One text line as a grey crop like the ones PP-OCRv4's detector hands the recognizer.

    Seeded: a font size of 24-36 px, then a crop around the ink with a margin of -1 px
    (the detector's boxes can shave a glyph) to 35 % of the ink's height above and
    below, and 0-12 px at the ends; if ``noisy``, a 3x3 blur and pixel noise (std 12).
    """
    size = rng.randint(24, 36)
    image = render_text_image([text], font=font_path(font_style), font_size=size, margin=size // 2 + 2)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rows, cols = np.nonzero(image < 128)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    room = max(1, (bottom - top) * 35 // 100)
    top, bottom = max(0, top - rng.randint(-1, room)), min(image.shape[0], bottom + rng.randint(-1, room))
    left, right = max(0, left - rng.randint(0, 12)), min(image.shape[1], right + rng.randint(0, 12))
    image = np.ascontiguousarray(image[top:bottom, left:right])
    if noisy:
        image = cv2.GaussianBlur(image, (3, 3), 0)
        noise = np.random.default_rng(rng.randrange(2**31)).normal(0, 12, image.shape)
        image = np.clip(image + noise, 0, 255).astype(np.uint8)
    return image


def write_rendered_dataset(out_dir, n=200, seed=0, font_style="wqy", kind="waybill", noisy=False):
    """Render ``n`` seeded lines and write them with a ``labels.txt`` list file.

    ``kind``: ``waybill`` (names, phones, addresses, numbers, couriers) or ``digits``.
    Returns the list file's path.
    """
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        text = random_text_line(rng) if kind == "waybill" else digits_line(rng)
        name = f"images/{i:05d}.png"
        save_image(render_line(text, rng, font_style, noisy), out_dir / name)
        rows.append(f"{name}\t{text}")
    return write_text(out_dir / "labels.txt", "\n".join(rows) + "\n")



def labelled_line(rng):
    """A waybill line with its printed label, as the detector crops it (no spaces)."""
    kind = rng.randrange(5)
    if kind == 0:
        return "收件人：" + random_name(rng)
    if kind == 1:
        return "寄件人：" + random_name(rng)
    if kind == 2:
        return "电话：" + random_phone(rng)
    if kind == 3:
        return "地址：" + random_address(rng)
    return "运单号：" + "".join(rng.choice("0123456789") for _ in range(12))


def pretrain_line(rng, characters):
    """One training text for the base CRNN.

    Waybill lines alone show most surnames and given-name characters a handful of
    times per thousand lines, so a quarter of the lines are random strings drawn
    uniformly from the dictionary: every character is seen often enough to be learnt.
    """
    draw = rng.random()
    if draw < 0.45:
        return random_text_line(rng)
    if draw < 0.60:
        return digits_line(rng)
    if draw < 0.75:
        return labelled_line(rng)
    return "".join(rng.choice(characters) for _ in range(rng.randint(2, 12)))


def held_out_crops(n=300, seed=0):
    """The base CRNN's held-out check: ``n`` rendered grey line crops, 3/4 waybill lines and
    1/4 digit lines, 30 % of them blurred and noisy, from a seed (``seed + 10000``) that no
    training line uses.  Returns ``[(grey uint8 crop, text)]``."""
    rng = random.Random(seed + 10_000)
    crops = []
    for _ in range(n):
        text = random_text_line(rng) if rng.random() < 0.75 else digits_line(rng)
        crops.append((render_line(text, rng, "wqy", noisy=rng.random() < 0.3), text))
    return crops

