"""``paddle-course samples [DIR]``: every input the README's commands use, written in one go.

A newcomer meets ``street.jpg``, ``waybill.png`` and ``my_train.tsv`` in the README before
anything says where they come from; this writes them all into one folder:

==================  ==================================================================  ===================
file                what                                                                used by
==================  ==================================================================  ===================
street.jpg          a real photograph: frame 566 of OpenCV's ``vtest.avi`` (768x576,    ``detect``,
                    JPEG; Apache-2.0 AND BSD-3-Clause, see data/README.md)              ``hub run``
waybill.png         a rendered waybill (快递单) with a known name, phone and address      ``ocr``
my_train.tsv,       240 / 120 gadget reviews in internet slang (``text<TAB>label``),    ``finetune
my_dev.tsv          which the shipped sentiment model mostly misreads                   sentiment``
my_voc/             200 synthetic street scenes at dusk, Pascal VOC (160 train, 40      ``finetune
                    val), seed 1: scenes the shipped detector never saw                 pedestrian``
lines/, lines_dev/  300 / 100 noisy DejaVu Serif digit lines with ``labels.txt``        ``finetune ocr``
                    (PaddleOCR's rec format): a font the base CRNN never saw
wb_train.jsonl,     300 / 100 company dispatch slips (派车单: the driver and his phone     ``finetune
wb_dev.jsonl        first, 对接人/接货人/ATTN labels, ``=``/``|``/CSV): the shipped labeller   waybill``
                    gets 0.06 of them right (0.99 after the recipe)
==================  ==================================================================  ===================

Everything but the photograph is made from a seed by the package, so the same command writes
the same files.
"""
import shutil
from pathlib import Path

from paddle_course.common.paths import data_path
from paddle_course.common.progress import say

PHOTO = "street.jpg"
SAMPLE_SEED = 1  # not 0: the shipped pedestrian weights were trained on seed 0's scenes


def write_samples(out_dir="course_samples", quiet=False):
    """Write every sample input into ``out_dir``; returns ``[(path, what it is), ...]``."""
    from paddle_course.common.images import save_image
    from paddle_course.detection.synthetic import make_synthetic_voc
    from paddle_course.ocr.lines import write_rendered_dataset
    from paddle_course.ocr.render import render_waybill
    from paddle_course.ocr.waybill.dataset import write_jsonl
    from paddle_course.ocr.waybill.samples import dispatch_slips
    from paddle_course.sentiment.corpus import write_tsv
    from paddle_course.sentiment.samples import train_and_dev_reviews

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def wrote(path, what):
        written.append((Path(path), what))
        say(f"  {path}: {what}", quiet)

    shutil.copyfile(data_path("samples", PHOTO), out_dir / PHOTO)
    wrote(out_dir / PHOTO, "a real street photograph (OpenCV's vtest.avi, frame 566)")
    image, _, fields = render_waybill(seed=0)
    wrote(save_image(image, out_dir / "waybill.png"),
          f"a rendered waybill for {fields['name']} {fields['phone']} {fields['address']}")
    train, dev = train_and_dev_reviews(240, 120, seed=SAMPLE_SEED)
    wrote(write_tsv(out_dir / "my_train.tsv", train), f"{len(train)} slang reviews, text<TAB>label")
    wrote(write_tsv(out_dir / "my_dev.tsv", dev), f"{len(dev)} other slang reviews for dev")
    wrote(make_synthetic_voc(out_dir / "my_voc", 200, seed=SAMPLE_SEED, lighting="dusk", quiet=True),
          "200 synthetic scenes at dusk in Pascal VOC (160 train, 40 val)")
    for name, count, seed in (("lines", 300, SAMPLE_SEED), ("lines_dev", 100, SAMPLE_SEED + 1)):
        wrote(write_rendered_dataset(out_dir / name, n=count, seed=seed, font_style="serif", kind="digits",
                                     noisy=True), f"{count} noisy serif digit lines, image<TAB>text")
    for name, count, seed in (("wb_train.jsonl", 300, SAMPLE_SEED), ("wb_dev.jsonl", 100, SAMPLE_SEED + 1)):
        write_jsonl(out_dir / name, dispatch_slips(count, seed))
        wrote(out_dir / name, f"{count} company dispatch slips (driver first, own labels), JSONL")
    return written
