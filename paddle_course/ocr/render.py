"""Images with known text, drawn by the package (course 3.2): waybills, lines, benchmark samples.

Test, benchmark and training images are rendered here with a CJK font shipped in the
``course_ocr`` module's assets (a subset of WenQuanYi Micro Hei, Apache-2.0, cut down to
the characters the recognizer knows), so nothing is downloaded.  The seeded generators
(names, phones, addresses, couriers) make the samples read like waybills and receipts.
"""
import random

import cv2
import numpy as np

from paddle_course.common.paths import hub_module_dir

MODULE_NAME = "course_ocr"
MODULE_DIR = hub_module_dir(MODULE_NAME)
FONT_PATH = MODULE_DIR / "assets" / "fonts" / "wqy-microhei-ppocr.ttf"


def pil_font(font=None, size=28):
    """A PIL TrueType font: ``font`` (a .ttf/.ttc path) or the shipped CJK font."""
    from PIL import ImageFont

    return ImageFont.truetype(str(font or FONT_PATH), size)


def render_text_image(lines, font=None, font_size=32, line_gap=None, margin=24, width=None,
                      color=(20, 20, 20), background=(255, 255, 255), seed=None, noise=0.0, blur=0):
    """Render text lines into a BGR image with known content, for tests and benchmarks.

    Args:
        lines: list of strings, one per printed line.
        font: a .ttf/.ttc path; default the shipped CJK font (WenQuanYi Micro Hei subset).
        font_size: glyph size in pixels; line_gap: pixels between lines (default font_size/2).
        width: canvas width (default: the longest line plus margins).
        seed, noise: Gaussian pixel noise of std ``noise`` (0..255), drawn from ``seed``.
        blur: odd kernel size of a Gaussian blur (0 = none).
    """
    from PIL import Image, ImageDraw

    if isinstance(lines, str):
        lines = [lines]
    font_object = pil_font(font, font_size)
    line_gap = font_size // 2 if line_gap is None else line_gap
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [probe.textlength(line, font=font_object) for line in lines] or [0]
    width = width or int(max(widths)) + 2 * margin
    height = 2 * margin + len(lines) * font_size + max(len(lines) - 1, 0) * line_gap
    canvas = Image.new("RGB", (max(width, 2), max(height, 2)), background)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * (font_size + line_gap)), line, fill=color, font=font_object)
    image = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)
    if blur:
        image = cv2.GaussianBlur(image, (blur, blur), 0)
    if noise:
        rng = np.random.default_rng(seed)
        image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    return image




# A few common words, so the seeded samples read like waybills and receipts.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国文红云飞鹏辉玲燕婷雪琳晨阳宇浩然子涵欣怡佳"
PROVINCES = [("浙江省", "杭州市", ["西湖区", "上城区", "滨江区"]), ("江苏省", "南京市", ["鼓楼区", "玄武区", "江宁区"]),
             ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]), ("四川省", "成都市", ["武侯区", "锦江区", "青羊区"]),
             ("湖北省", "武汉市", ["洪山区", "江汉区", "武昌区"]), ("山东省", "青岛市", ["市南区", "崂山区", "黄岛区"]),
             ("北京市", "北京市", ["海淀区", "朝阳区", "东城区"]), ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区"])]
ROADS = ["文三路", "中山路", "人民路", "解放路", "建设大道", "长江路", "学院路", "科技园路", "和平街", "新华街"]
COMPANIES = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "邮政EMS"]


def random_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2))))


def random_phone(rng):
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def random_address(rng):
    province, city, districts = rng.choice(PROVINCES)
    head = province if province == city else province + city
    return f"{head}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"


def random_waybill(seed=0):
    """A seeded waybill: ``(lines to print, {"name", "phone", "address"} of the recipient)``."""
    rng = random.Random(seed)
    fields = {"name": random_name(rng), "phone": random_phone(rng), "address": random_address(rng)}
    number = "".join(rng.choice("0123456789") for _ in range(12))
    lines = [
        f"{rng.choice(COMPANIES)}  运单号：{number}",
        f"收件人：{fields['name']}",
        f"电话：{fields['phone']}",
        f"地址：{fields['address']}",
        f"寄件人：{random_name(rng)}  {random_phone(rng)}",
    ]
    return lines, fields


def render_waybill(seed=0, font_size=30):
    """A rendered waybill image with known fields: ``(BGR image, lines, fields)``."""
    lines, fields = random_waybill(seed)
    return render_text_image(lines, font_size=font_size, seed=seed), lines, fields


def random_text_line(rng):
    """One seeded line of the kinds a waybill holds: a name, phone, address or number."""
    kind = rng.randrange(5)
    if kind == 0:
        return random_name(rng)
    if kind == 1:
        return random_phone(rng)
    if kind == 2:
        return random_address(rng)
    if kind == 3:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 14)))
    return rng.choice(COMPANIES)


def benchmark_images(n=20, seed=0, lines_per_image=3, font_size=30):
    """``n`` seeded images with known text, to measure speed and accuracy.

    Returns a list of ``(BGR image, [expected line, ...])``.
    """
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        lines = [random_text_line(rng) for _ in range(lines_per_image)]
        samples.append((render_text_image(lines, font_size=font_size, seed=seed + i), lines))
    return samples

