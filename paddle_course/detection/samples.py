"""Images to try the detectors on (course 3.2): photographs shipped in data/, and drawn street scenes.

:func:`sample_images` is what the web page offers under "pick a sample": every photograph in a
folder of ``data/`` whose name speaks of people (``pedestrian*``, ``people``, ``person*``,
``detection``), so photos added there later appear without a code change, then a few scenes
drawn by :func:`~paddle_course.detection.synthetic.render_scene` (the Paddle detector's kind of
image; the HOG detector is made for photographs).
"""
from pathlib import Path

from paddle_course.common.images import save_image, shipped_images

PHOTO_FOLDER_WORDS = ("pedestrian", "people", "person", "detection")
SCENE_SEEDS = (7, 11)


def sample_images(out_dir, seeds=SCENE_SEEDS):
    """``[(path, caption), ...]``: the shipped photographs, then one drawn scene per seed, written to ``out_dir``."""
    import numpy as np

    from paddle_course.detection.synthetic import render_scene

    samples = [(path, f"photo: {path.name}") for path in shipped_images(*PHOTO_FOLDER_WORDS)]
    for seed in seeds:
        image, boxes = render_scene(np.random.default_rng(seed), 240, 320)
        path = save_image(image, Path(out_dir) / f"drawn_street_seed{seed}.png")
        samples.append((path, f"drawn scene (seed {seed}, {len(boxes)} people)"))
    return samples
