"""Waybills to try the OCR on (course 3.2): photographs shipped in data/, and rendered waybills.

:func:`sample_images` is what the web page offers under "pick a sample": any image in a folder
of ``data/`` named for waybills or OCR (``waybill*``, ``ocr*``), so photos added there later
appear without a code change (at most :data:`MAX_PHOTOS`), then waybills rendered by
:func:`~paddle_course.ocr.render.render_waybill` (seeded names, phones and addresses).
"""
import shutil
from pathlib import Path

from paddle_course.common.images import save_image, shipped_images

PHOTO_FOLDER_WORDS = ("waybill", "ocr")
MAX_PHOTOS = 3
WAYBILL_SEEDS = (3, 7)


def sample_images(out_dir, seeds=WAYBILL_SEEDS):
    """``[(path, caption), ...]`` in ``out_dir``: copies of the shipped photographs, then one rendered waybill per seed."""
    from paddle_course.ocr.render import render_waybill

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    samples = []
    for path in shipped_images(*PHOTO_FOLDER_WORDS)[:MAX_PHOTOS]:
        copy = Path(out_dir) / path.name  # the page hands out files from its own folder, not from data/
        shutil.copyfile(path, copy)
        samples.append((copy, f"photo: {path.name}"))
    for seed in seeds:
        image, _, fields = render_waybill(seed=seed)
        path = save_image(image, Path(out_dir) / f"waybill_seed{seed}.png")
        samples.append((path, f"rendered waybill (seed {seed}): {fields['name']}"))
    return samples
