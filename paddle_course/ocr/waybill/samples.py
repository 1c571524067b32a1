"""Sample waybills for the fine-tune recipe (course 3.3): cross-border orders printed with English labels.

The shipped labeller learned Chinese waybill layouts (「收件人：」, 「电话」, one line or several);
orders from cross-border shops print the same fields under English labels (``Consignee: 王强 |
Tel: ...``), where the labeller before 2026-12 took ``Co`` for a name or kept the ``|`` (all three
fields 0.69).  Since then the generator prints English labels too and the shipped labeller reads
these samples (1.00 before fine-tuning): the recipe still runs, but it no longer shows a shift.
:func:`english_label_waybills` re-prints the recipient of seeded generator waybills in such
layouts.  ``paddle-course samples`` writes them as ``wb_train.jsonl`` and ``wb_dev.jsonl``.
"""
import random

from paddle_course.ocr.waybill.generator import WaybillGenerator

LAYOUTS = (
    "Consignee: {name} | Tel: {phone} | Address: {address}",
    "Consignee {name} Mobile {phone} Address {address}",
    "Ship to: {name}, Mobile {phone}, {address}",
    "NAME:{name};PHONE:{phone};ADDR:{address}",
    "To: {name} / Phone: +86 {phone} / Add: {address}",
    "Receiver {name}  Contact No. {phone}  Delivery Address {address}",
    "Order No. {order}\nRecipient: {name}\nTel: {phone}\nAddress: {address}",
)


def english_label_waybills(count, seed=0):
    """``count`` seeded waybills ``{"text", "name", "phone", "address", "format"}`` with English field labels.

    Names, phones and addresses come from the course's waybill generator (seed ``seed + 5000``,
    none of its training, dev or held-out seeds); the layout from :data:`LAYOUTS`.
    """
    rng = random.Random(seed)
    rows = []
    for sample in WaybillGenerator(seed + 5000).samples(count):
        layout = rng.randrange(len(LAYOUTS))
        text = LAYOUTS[layout].format(name=sample["name"], phone=sample["phone"], address=sample["address"],
                                      order="".join(rng.choice("0123456789") for _ in range(12)))
        rows.append({"text": text, "name": sample["name"], "phone": sample["phone"], "address": sample["address"],
                     "format": f"english-{layout}"})
    return rows
