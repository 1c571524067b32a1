"""The tour's OCR stop (course 3.2): render a waybill, read it, extract the recipient, save the picture."""
from pathlib import Path

from paddle_course.common.fileio import write_json
from paddle_course.common.progress import say
from paddle_course.ocr.predict import recognize_text
from paddle_course.ocr.render import render_waybill
from paddle_course.ocr.waybill import extract_waybill


def demo(out_dir, quiet=False):
    """Read a rendered waybill with PP-OCRv4 and extract its recipient; ``ocr_waybill.jpg`` and ``.json`` in ``out_dir``.

    Returns ``{"lines", "fields", "expected", "save_path"}``.
    """
    out_dir = Path(out_dir)
    image, _, expected = render_waybill(seed=7)
    say("OCR: reading a rendered waybill (PP-OCRv4 detection + direction + recognition)", quiet)
    result = recognize_text(images=[image], output_dir=str(out_dir / "ocr_result"), visualization=True)[0]
    lines = [line["text"] for line in result["data"]]
    for line in result["data"]:
        say(f"  {line['confidence']:.3f}  {line['text']}", quiet)
    fields = extract_waybill(lines)
    say(f"  waybill -> name={fields['name']} phone={fields['phone']} address={fields['address']}", quiet)
    save_path = out_dir / "ocr_waybill.jpg"
    Path(result["save_path"]).replace(save_path)
    write_json(out_dir / "ocr_waybill.json", {"lines": lines, "fields": fields, "expected": expected})
    say(f"  annotated image: {save_path}", quiet)
    return {"lines": lines, "fields": fields, "expected": expected, "save_path": str(save_path)}
