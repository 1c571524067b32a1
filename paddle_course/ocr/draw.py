"""An OCR result drawn: numbered boxes on the image, the recognised lines listed beside it."""
import random

import cv2
import numpy as np

from paddle_course.ocr.render import pil_font

ROW_HEIGHT, TEXT_SIZE, BADGE_SIZE, MARGIN = 30, 20, 12, 12


def draw_result(image, lines):
    """The image with each text box drawn and numbered, and beside it one row per line: number, text, confidence.

    PaddleOCR's ``draw_ocr`` writes each text at its box's place on the right; two boxes on
    one row (「申通快递」 and 「运单号：…」 on a waybill) then run into each other.  Here the
    right panel is a numbered list in reading order, as tall as the lines need, so no label
    covers another; the number on each box says which row it is.
    """
    from PIL import Image, ImageDraw

    h, w = image.shape[:2]
    font, badge_font = pil_font(size=TEXT_SIZE), pil_font(size=BADGE_SIZE)
    rows = [f"{i + 1}. {line['text']}  ({line['confidence']:.2f})" for i, line in enumerate(lines)]
    panel_w = max([w] + [int(font.getlength(row)) + 2 * MARGIN for row in rows])
    canvas = Image.new("RGB", (w + panel_w, max(h, 2 * MARGIN + ROW_HEIGHT * len(rows))), (255, 255, 255))
    canvas.paste(Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)), (0, 0))
    draw = ImageDraw.Draw(canvas)
    rng = random.Random(0)  # the same colours every time
    for i, (line, row) in enumerate(zip(lines, rows)):
        colour = (rng.randint(0, 170), rng.randint(0, 170), rng.randint(0, 170))  # dark enough on white
        box = [tuple(int(v) for v in p) for p in line["text_box_position"]]
        draw.polygon(box, outline=colour, width=2)
        _badge(draw, str(i + 1), box[0], colour, badge_font)
        draw.text((w + MARGIN, MARGIN + i * ROW_HEIGHT), row, fill=colour, font=font)
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)


def _badge(draw, text, corner, colour, font):
    """``text`` in white on a filled square of ``colour`` on top of ``corner`` (the box's top-left)."""
    x, y = corner
    width = int(font.getlength(text)) + 4
    top = max(0, y - BADGE_SIZE - 2)
    draw.rectangle([x, top, x + width, top + BADGE_SIZE + 2], fill=colour)
    draw.text((x + 2, top), text, fill=(255, 255, 255), font=font)
