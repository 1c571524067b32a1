"""Boxes drawn on an image, each with its confidence (what ``visualization=True`` saves)."""
import cv2

LABEL_TEXT, LABEL_BACKGROUND, OUTLINE = (255, 255, 255), (32, 32, 32), (0, 0, 0)


def draw_detections(image, detections, colour=(0, 220, 0)):
    """A copy of ``image`` with each box and its confidence drawn (``detections``: the module's dicts).

    Every box has a dark outline and its score sits in white on a dark label, so both stay
    readable on any background (a green box and green digits vanished on grass).
    """
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    scale = 0.45 * thickness
    for item in detections:
        left, top, right, bottom = (int(round(item[k])) for k in ("left", "top", "right", "bottom"))
        cv2.rectangle(canvas, (left, top), (right, bottom), OUTLINE, thickness + 2)
        cv2.rectangle(canvas, (left, top), (right, bottom), colour, thickness)
        _label(canvas, f"{item['confidence']:.2f}", left, top, scale, thickness)
    return canvas


def _label(canvas, text, left, top, scale, thickness):
    """``text`` in white on a filled dark box just above ``(left, top)`` (inside the box at the image's top)."""
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = 2 * thickness
    box_top = top - height - baseline - 2 * pad
    if box_top < 0:
        box_top = top
    left = min(max(0, left), max(0, canvas.shape[1] - width - 2 * pad))
    cv2.rectangle(canvas, (left, box_top), (left + width + 2 * pad, box_top + height + baseline + 2 * pad),
                  LABEL_BACKGROUND, cv2.FILLED)
    cv2.putText(canvas, text, (left + pad, box_top + pad + height), cv2.FONT_HERSHEY_SIMPLEX, scale, LABEL_TEXT,
                thickness, cv2.LINE_AA)
