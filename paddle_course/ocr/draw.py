"""An OCR result drawn: the boxes on the image and the recognised text beside it (PaddleOCR's ``draw_ocr``)."""
import random

import cv2
import numpy as np

from paddle_course.ocr.render import pil_font


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
                  fill=colour, font=pil_font(size=size))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)

