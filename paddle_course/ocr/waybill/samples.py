"""Sample waybills for the fine-tune recipe (course 3.3): a company's internal dispatch slips (派车单).

The shipped labeller learned the waybills couriers and shops print.  A company that delivers
with its own vans prints something else: a dispatch slip (派车单, 送货单, 调拨单) made by its own
system, where the DRIVER comes first with his phone (承运司机 / 驾驶员 / DRV), the recipient
sits under labels no courier uses (对接人, 接货人, 签收人, ATTN, 接收人) and the fields are
separated by ``=``, ``|``, ``→`` or commas of a CSV export.  The shipped labeller takes the
driver for the recipient there; a learner who fine-tunes on 300 such slips teaches it the
company's format.  :func:`dispatch_slips` prints seeded generator recipients in these layouts;
``paddle-course samples`` writes them as ``wb_train.jsonl`` (300) and ``wb_dev.jsonl`` (100).

Measured with the README's recipe (2026-12-02, round 5's weights, the samples of the round-5
generator): dev all three fields right 0.06 -> 0.99; the base task, the 180 hand-written waybills,
1.000 -> 1.000 with the default ``--base-mix 1`` and 1.000 -> 0.572 with ``--base-mix 0`` (without generator waybills mixed in, the
labeller learns to skip the first person and number of every waybill).

(Until 2026-12 these samples were cross-border orders with English labels, ``Consignee: ... |
Tel: ...``; the labeller learned those labels from its generator and read them all, so the
recipe showed no shift any more.)
"""
import random

from paddle_course.ocr.waybill.generator import WaybillGenerator

CSV_HEADER = "单号,司机,司机电话,送货地址,收货联系人,联系电话,件数"
LAYOUTS = (
    "派车单 No.{order}\n承运司机：{dname}  {dphone}  车牌：{plate}\n卸货地点：{address}\n对接人：{name}  联络：{phone}",
    "DISPATCH {order} | DRV {dname}/{dphone} | DEST {address} | ATTN {name}/{phone}",
    "【内部调拨】{order} 司机{dname}({dphone}) → {address} 接货人{name}{phone}",
    "送货单#{order};驾驶员={dname};驾驶员手机={dphone};送达点={address};接收人={name};接收电话={phone}",
    "配送任务 {order}\n跟车员 {dname} {dphone}\n目的地 {address}\n签收人 {name} {phone}\n件数 {qty}",
    CSV_HEADER + "\n{order},{dname},{dphone},{address},{name},{phone},{qty}",
)
PLATE_AREAS = "京沪粤苏浙鲁川鄂湘豫皖闽赣冀辽吉黑晋陕甘青云贵桂琼渝津蒙宁新藏"


def dispatch_slips(count, seed=0):
    """``count`` seeded dispatch slips ``{"text", "name", "phone", "address", "format"}``.

    The recipient's name, phone and address come from the course's waybill generator (seed
    ``seed + 5000``, none of its training, dev or held-out seeds), the driver from another of its
    samples; the layout from :data:`LAYOUTS`.  Generator samples without all three fields are skipped.
    """
    rng = random.Random(seed)
    gen = WaybillGenerator(seed + 5000)
    rows = []
    while len(rows) < count:
        sample, driver = gen.sample(), gen.sample()
        if not (sample["name"] and sample["phone"] and sample["address"] and driver["name"] and driver["phone"]):
            continue
        if driver["name"] == sample["name"] or driver["phone"] == sample["phone"]:
            continue
        layout = rng.randrange(len(LAYOUTS))
        text = LAYOUTS[layout].format(
            name=sample["name"], phone=sample["phone"], address=sample["address"], dname=driver["name"],
            dphone=driver["phone"], order="".join(rng.choice("0123456789") for _ in range(10)),
            plate=rng.choice(PLATE_AREAS) + rng.choice("ABCDEFGH") + "".join(rng.choice("0123456789") for _ in range(5)),
            qty=rng.randint(1, 40))
        rows.append({"text": text, "name": sample["name"], "phone": sample["phone"], "address": sample["address"],
                     "format": f"dispatch-{layout}"})
    return rows
