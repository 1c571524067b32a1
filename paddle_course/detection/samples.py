"""Images to try the detectors on (course 3.2): photographs shipped in data/, and drawn street scenes.

:func:`sample_images` is what the web page offers under "pick a sample".  It picks up the
photographs in a folder of ``data/`` whose name speaks of people (``pedestrian*``, ``people``,
``person*``, ``detection``), so photos added there appear without a code change: one per source
(``vtest_0000`` and ``vtest_0017`` are frames of one video), the ones a VOC annotation beside them
(``Annotations/<name>.xml``) shows with the most people first, at most :data:`MAX_PHOTOS`.  Then
come scenes drawn by :func:`~paddle_course.detection.synthetic.render_scene` (the small Paddle
detector's kind of image).
"""
import re
import shutil
from pathlib import Path

from paddle_course.common.images import save_image, shipped_images

PHOTO_FOLDER_WORDS = ("pedestrian", "people", "person", "detection")
MAX_PHOTOS = 3
SCENE_SEEDS = (7, 11)


def boxed_people(photo):
    """How many objects the photo's VOC annotation (``../Annotations/<stem>.xml``) lists; None without one."""
    annotation = Path(photo).parent.parent / "Annotations" / f"{Path(photo).stem}.xml"
    return annotation.read_text(encoding="utf-8").count("<object>") if annotation.is_file() else None


def sample_photos(limit=MAX_PHOTOS):
    """``[(path, people or None), ...]``: at most ``limit`` shipped photos, one per source, most people first."""
    best = {}
    for path in shipped_images(*PHOTO_FOLDER_WORDS):
        people = boxed_people(path)
        if people == 0:
            continue  # annotated, and nobody in it
        source = re.sub(r"[\d_]+$", "", path.stem)
        rank = -1 if people is None else people
        if source not in best or rank > best[source][0]:
            best[source] = (rank, path, people)
    ranked = sorted(best.values(), key=lambda item: (-item[0], str(item[1])))
    return [(path, people) for _, path, people in ranked[:limit]]


def sample_images(out_dir, seeds=SCENE_SEEDS):
    """``[(path, caption), ...]`` in ``out_dir``: copies of the shipped photographs, then one drawn scene per seed."""
    import numpy as np

    from paddle_course.detection.synthetic import render_scene

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    samples = []
    for path, people in sample_photos():
        copy = Path(out_dir) / path.name  # the page hands out files from its own folder, not from data/
        shutil.copyfile(path, copy)
        samples.append((copy, f"photo: {path.name}" + ("" if people is None else f" ({people} people boxed)")))
    for seed in seeds:
        image, boxes = render_scene(np.random.default_rng(seed), 240, 320)
        path = save_image(image, Path(out_dir) / f"drawn_street_seed{seed}.png")
        samples.append((path, f"drawn scene (seed {seed}, {len(boxes)} people)"))
    return samples
