"""Boxes drawn on an image, each with its confidence (what ``visualization=True`` saves)."""
import cv2

FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_detections(image, detections, colour=(0, 200, 0)):
    """A copy of ``image`` with each box and its confidence drawn (``detections``: the module's dicts).

    The confidence sits on a filled label at the box's top-left corner (above the box when
    there is room), in a size that stays readable on small and large images.
    """
    canvas = image.copy()
    side = max(image.shape[:2])
    thickness = max(1, round(side / 300))
    scale = max(0.45, side / 900)
    text_thickness = max(1, round(scale * 1.6))
    for item in detections:
        left, top, right, bottom = (int(round(item[k])) for k in ("left", "top", "right", "bottom"))
        cv2.rectangle(canvas, (left, top), (right, bottom), colour, thickness)
        label = f"{item['confidence']:.2f}"
        (width, height), baseline = cv2.getTextSize(label, FONT, scale, text_thickness)
        label_h = height + baseline + 4
        y0 = top - label_h if top - label_h >= 0 else top  # inside the box when it touches the top edge
        x0 = max(0, min(left, image.shape[1] - width - 6))  # moved left when it would leave the image
        cv2.rectangle(canvas, (x0, y0), (x0 + width + 6, y0 + label_h), colour, cv2.FILLED)
        cv2.putText(canvas, label, (x0 + 3, y0 + height + 2), FONT, scale, (0, 0, 0), text_thickness, cv2.LINE_AA)
    return canvas
