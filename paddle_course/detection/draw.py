"""Boxes drawn on an image, each with its confidence (what ``visualization=True`` saves)."""
import cv2


def draw_detections(image, detections, colour=(0, 200, 0)):
    """A copy of ``image`` with each box and its confidence drawn (``detections``: the module's dicts)."""
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 300))
    for item in detections:
        left, top, right, bottom = (int(round(item[k])) for k in ("left", "top", "right", "bottom"))
        cv2.rectangle(canvas, (left, top), (right, bottom), colour, thickness)
        cv2.putText(canvas, f"{item['confidence']:.2f}", (left, max(10, top - 3)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thickness, colour, thickness, cv2.LINE_AA)
    return canvas
