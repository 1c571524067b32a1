"""Build ``data/pedestrian/`` (the real-photo evaluation set of issue 12) from the hand-made boxes.

Dev-only, run once: ``python tools/make_pedestrian_eval_set.py FRAMES PHOTOS BOXES data/pedestrian``.
FRAMES holds the 48 lossless frames ``vtest_XXXX.png`` of OpenCV's ``vtest.avi``, PHOTOS the
opencv-doc photos, BOXES one VOC XML per image drawn by hand (see data/README.md). Images become
JPEG (quality 90; a ``.jpg`` input is copied byte for byte), the XML's ``<filename>``/``<folder>``
are updated, and the splits are written to ``ImageSets/Main/``:

- ``train.txt``  vtest frames 0-321 (first 32 s, for fine-tuning),
- ``val.txt``    vtest frames 338-389 (the fine-tune's dev split),
- ``test.txt``   vtest frames 405-794 (second half of the video, held out),
- ``photos.txt`` the other real photos (basketball1/2, left06, right06),
- ``eval.txt``   every vtest frame + photos.txt: the set the targets of issue 12 are measured on,
- ``extra.txt``  messi5 (its blurred crowd is not boxed: reported separately, not in eval.txt).
"""
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2

PHOTOS = ("basketball1", "basketball2", "left06", "right06")
EXTRA = ("messi5",)
LAST_TRAIN_FRAME, LAST_DEV_FRAME = 321, 389


def main(frames, photos, boxes, out):
    frames, photos, boxes, out = map(Path, (frames, photos, boxes, out))
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    splits = {"train": [], "val": [], "test": [], "photos": [], "extra": []}
    for xml_path in sorted(boxes.glob("*.xml")):
        stem = xml_path.stem
        tree = ET.parse(xml_path)
        name = tree.getroot().findtext("filename")
        source = frames / name if stem.startswith("vtest_") else photos / name
        target = out / "JPEGImages" / f"{stem}.jpg"
        if source.suffix.lower() == ".jpg":
            shutil.copyfile(source, target)
        elif not cv2.imwrite(str(target), cv2.imread(str(source)), [cv2.IMWRITE_JPEG_QUALITY, 90]):
            raise OSError(f"{target}: could not write")
        tree.getroot().find("filename").text = target.name
        tree.getroot().find("folder").text = "JPEGImages"
        tree.write(out / "Annotations" / f"{stem}.xml", encoding="utf-8")
        if stem.startswith("vtest_"):
            index = int(stem.split("_")[1])
            splits["train" if index <= LAST_TRAIN_FRAME else "val" if index <= LAST_DEV_FRAME else "test"].append(stem)
        else:
            splits["photos" if stem in PHOTOS else "extra"].append(stem)
    splits["eval"] = splits["train"] + splits["val"] + splits["test"] + splits["photos"]
    for split, ids in splits.items():
        (out / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return {split: len(ids) for split, ids in splits.items()}


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    print(main(*sys.argv[1:]))
