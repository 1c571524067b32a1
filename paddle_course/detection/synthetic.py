"""A synthetic pedestrian data set in Pascal VOC format, made by the package (no download).

Course 3.2 (object detection): a detector learns from images with boxes. Here
the images are drawn: textured street-like backgrounds, distractors (poles,
trees, cars, blobs) and 1-4 human silhouettes (head + torso + arms + legs) of
random size, position, pose and colours. The box of each pedestrian is the
tight box of the pixels drawn for it, so the labels are exact.
"""
from pathlib import Path

import cv2
import numpy as np

from paddle_course.common.fileio import write_text
from paddle_course.common.images import save_image
from paddle_course.common.progress import progress
from paddle_course.detection.voc import write_voc_annotation

LABEL = "pedestrian"


def _random_colour(rng, low=0, high=256):
    return tuple(int(c) for c in rng.integers(low, high, size=3))


def _background(rng, height, width):
    """Sky/ground gradient + noise + building blocks + lines, softly blurred."""
    top, bottom = rng.integers(40, 220, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    image = (top[None, None, :] * (1 - ramp) + bottom[None, None, :] * ramp) * np.ones((1, width, 1))
    image = image + rng.normal(0, rng.uniform(4, 18), size=image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(2, 7)):  # buildings / walls
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height // 2))
        x1, y1 = int(x0 + rng.integers(20, width // 2)), int(y0 + rng.integers(20, height // 2))
        cv2.rectangle(image, (x0, y0), (x1, y1), _random_colour(rng, 30, 230), -1)
    for _ in range(rng.integers(3, 10)):  # road markings, wires, edges
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, p0, p1, _random_colour(rng), int(rng.integers(1, 4)), cv2.LINE_AA)
    return cv2.GaussianBlur(image, (3, 3), 0)


def _distractor(rng, image):
    """Objects that are not pedestrians: poles, trees, cars, blobs."""
    height, width = image.shape[:2]
    kind = rng.integers(0, 4)
    x, y = int(rng.integers(0, width)), int(rng.integers(height // 4, height))
    size = int(rng.integers(20, max(21, height // 2)))
    colour = _random_colour(rng)
    if kind == 0:  # pole / sign
        cv2.line(image, (x, y), (x, y - size), colour, int(rng.integers(2, 6)), cv2.LINE_AA)
        cv2.rectangle(image, (x - 6, y - size - 8), (x + 6, y - size + 4), _random_colour(rng), -1)
    elif kind == 1:  # tree
        cv2.line(image, (x, y), (x, y - size // 2), (40, 70, 100), int(rng.integers(3, 8)), cv2.LINE_AA)
        cv2.circle(image, (x, y - size // 2 - size // 4), max(3, size // 4), (int(rng.integers(20, 90)),
                   int(rng.integers(100, 200)), int(rng.integers(20, 90))), -1, cv2.LINE_AA)
    elif kind == 2:  # car
        w, h = size, max(8, size // 3)
        cv2.rectangle(image, (x - w // 2, y - h), (x + w // 2, y), colour, -1)
        cv2.rectangle(image, (x - w // 4, y - h - h // 2), (x + w // 4, y - h), colour, -1)
        for wx in (x - w // 3, x + w // 3):
            cv2.circle(image, (wx, y), max(2, h // 3), (20, 20, 20), -1, cv2.LINE_AA)
    else:  # blob
        axes = (max(3, size // 3), max(3, int(size * rng.uniform(0.2, 0.8))))
        cv2.ellipse(image, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)


def _draw_person(rng, image, cx, feet_y, person_height):
    """Draw one silhouette standing with its feet at ``(cx, feet_y)``; return its tight box.

    Proportions (a fraction of the height h): head 0.13 h, torso 0.37 h, legs
    0.47 h; shoulders about 0.25 h wide. The box is computed from the pixels
    drawn on a mask, so limbs and head are all inside it.
    """
    h = float(person_height)
    mask = np.zeros(image.shape[:2], np.uint8)
    skin = _random_colour(rng, 60, 240)
    shirt = _random_colour(rng)
    trousers = _random_colour(rng)
    thick_leg = max(2, int(round(h * rng.uniform(0.06, 0.09))))
    thick_arm = max(1, int(round(h * rng.uniform(0.04, 0.06))))
    hip = (cx, int(feet_y - 0.47 * h))
    neck = (cx, int(hip[1] - 0.37 * h))
    head_radius = max(2, int(0.065 * h))
    head = (cx + int(rng.normal(0, 0.01 * h)), int(neck[1] - head_radius - 0.01 * h))
    shoulder = max(2, int(h * rng.uniform(0.10, 0.14)))
    stride = h * rng.uniform(0.0, 0.14)
    feet = [(int(cx - stride), int(feet_y)), (int(cx + stride * rng.uniform(0.2, 1.0)), int(feet_y))]
    swing = h * rng.uniform(-0.12, 0.12)
    hands = [(int(cx - shoulder - abs(swing) * 0.5), int(hip[1] + 0.02 * h)),
             (int(cx + shoulder + swing * 0.5), int(hip[1] + 0.02 * h))]
    for target, value in ((image, None), (mask, 255)):
        def colour(c):
            return (value,) * 3 if value is not None else c

        for foot in feet:
            cv2.line(target, hip, foot, colour(trousers) if value is None else value, thick_leg, cv2.LINE_AA)
        torso = np.array([(cx - shoulder, neck[1]), (cx + shoulder, neck[1]),
                          (cx + int(shoulder * 0.8), hip[1]), (cx - int(shoulder * 0.8), hip[1])], np.int32)
        cv2.fillConvexPoly(target, torso, colour(shirt) if value is None else value, cv2.LINE_AA)
        for side, hand in zip((-1, 1), hands):
            cv2.line(target, (cx + side * shoulder, neck[1] + thick_arm), hand,
                     colour(shirt) if value is None else value, thick_arm, cv2.LINE_AA)
        cv2.circle(target, head, head_radius, colour(skin) if value is None else value, -1, cv2.LINE_AA)
    ys, xs = np.nonzero(mask > 64)
    if len(xs) == 0:
        return None
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def _overlap(box, boxes):
    """Largest fraction of ``box`` covered by any of ``boxes`` (to keep people mostly visible)."""
    worst = 0.0
    for other in boxes:
        iw = min(box[2], other[2]) - max(box[0], other[0])
        ih = min(box[3], other[3]) - max(box[1], other[1])
        if iw > 0 and ih > 0:
            area = (box[2] - box[0]) * (box[3] - box[1])
            worst = max(worst, iw * ih / area)
    return worst


def render_scene(rng, height=240, width=320, max_people=4, min_height=36, max_height=None):
    """One synthetic BGR image and its pedestrian boxes ``[[left, top, right, bottom], ...]``.

    Boxes are pixel edges: ``0 <= left < right <= width``; every image has at least one person.
    """
    max_height = max_height or int(height * 0.75)
    image = _background(rng, height, width)
    for _ in range(rng.integers(2, 7)):
        _distractor(rng, image)
    boxes = []
    wanted = int(rng.integers(1, max_people + 1))
    for _ in range(wanted * 10):
        if len(boxes) == wanted:
            break
        person_height = int(rng.integers(min_height, max_height + 1))
        cx = int(rng.integers(person_height // 5, width - person_height // 5))
        feet_y = int(rng.integers(person_height + 2, height - 1))
        guess = [cx - person_height // 4, feet_y - person_height, cx + person_height // 4, feet_y]
        if _overlap(guess, boxes) > 0.3:
            continue
        box = _draw_person(rng, image, cx, feet_y, person_height)
        if box is not None:
            boxes.append(box)
    return image, boxes


LIGHTING = ("day", "dusk")


def at_dusk(rng, image):
    """The same scene at dusk: a fifth to two fifths of the light, a blue cast and sensor noise.

    A domain the shipped weights never saw (they were trained on daylight scenes): what
    ``paddle-course samples`` gives the pedestrian fine-tune recipe to learn.
    """
    light = rng.uniform(0.2, 0.4)
    tint = np.array([1.15, 1.0, 0.8])  # BGR: bluer, less red
    dark = image.astype(np.float32) * light * tint + rng.normal(0, rng.uniform(4, 10), size=image.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)


def make_synthetic_voc(out_dir, num_images=200, seed=0, val_fraction=0.2, quiet=True, lighting="day"):
    """Write a Pascal-VOC folder of ``num_images`` synthetic scenes; return its path.

    Layout: ``JPEGImages/000000.jpg``, ``Annotations/000000.xml`` (label
    "pedestrian") and ``ImageSets/Main/train.txt`` / ``val.txt`` (the last
    ``val_fraction`` of the images). Same ``seed`` -> same images and boxes.
    ``lighting="dusk"`` darkens every scene (:func:`at_dusk`). The shipped weights were
    trained on the first 480 daylight scenes of seed 0: use another seed for data they never saw.
    """
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    if lighting not in LIGHTING:
        raise ValueError(f"unknown lighting {lighting!r}; choose one of {', '.join(LIGHTING)}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    ids = []
    for index in progress(range(num_images), desc="rendering", quiet=quiet):
        image_id = f"{index:06d}"
        height = int(rng.integers(200, 300))
        width = int(rng.integers(260, 380))
        image, boxes = render_scene(rng, height, width)
        if lighting == "dusk":
            image = at_dusk(rng, image)
        save_image(image, out_dir / "JPEGImages" / f"{image_id}.jpg", jpeg_quality=92)
        write_voc_annotation(out_dir / "Annotations" / f"{image_id}.xml", f"{image_id}.jpg",
                             (height, width, 3), [(LABEL, box) for box in boxes])
        ids.append(image_id)
    num_val = int(round(num_images * val_fraction)) if num_images > 1 else 0
    train_ids, val_ids = ids[:len(ids) - num_val], ids[len(ids) - num_val:]
    write_text(out_dir / "ImageSets" / "Main" / "train.txt", "".join(f"{i}\n" for i in train_ids))
    write_text(out_dir / "ImageSets" / "Main" / "val.txt", "".join(f"{i}\n" for i in val_ids))
    return out_dir
