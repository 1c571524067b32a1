"""A seeded generator of tagged waybill texts: the labeller's training data.

Course 3 (PaddleNLP 快递单信息抽取) trains on texts whose every character carries a
tag (see :mod:`.decode`).  We have no licensed corpus of real waybills, so we print
them: real administrative divisions (:mod:`.divisions`), common and compound
surnames with 1-2 character given names, mobiles and landlines in the ways people
write them, roads, numbers, buildings and rooms, the labels shops and couriers
print (or none), every field order, on one line or many, with the lines a waybill
carries besides the recipient (订单号, 运单号, a 寄件人 block whose fields are NOT
the recipient's, in any order, its phone often masked as 138****2271), and the noise
OCR makes (dropped or extra spaces, full-width digits, a confusable character).
Rarer layouts: recipient and sender side by side in two columns read row by row,
food-delivery slips (platform, shop, dishes around the customer), landlines with an
extension (the extension is not the phone), an address wrapped after its district.
Chat messages (:mod:`.chat`): the recipient typed into a chat box around requests and chat words.

Every example is built as pieces of (text, kind); the tags follow from the pieces
(whitespace is always O), and the gold fields follow from the tags with the same
decoding the model uses, so the two cannot disagree.

    gen = WaybillGenerator(seed=0)
    example = gen.sample()   # {"text", "tags", "name", "phone", "address", "format"}
"""
import random
import re

from .addresses import AddressPrinter
from .chat import ChatLines
from .decode import fields_from_tags
from .divisions import load_divisions
from .extras import ExtraLines
from .lexicon import (
    ADDRESS_LABELS,
    CONFUSABLES,
    ENGLISH,
    FIELD_SEPS,
    LABEL_SEPS,
    NAME_LABELS,
    PHONE_LABELS,
    PLACE_STEMS,
    RECIPIENT_MARKS,
    REGION_LABELS,
    all_gb2312_hanzi,
    common_hanzi,
)
from .people import PersonFields


class Doc:
    """A text under construction: pieces of (text, kind), kind None for O."""

    def __init__(self):
        self.pieces = []

    def add(self, text, kind=None):
        if text:
            self.pieces.append((text, kind))
        return self

    def extend(self, pieces):
        self.pieces.extend(pieces)
        return self

    def chars_and_tags(self):
        """B on the first character of a kind's run, I after it; whitespace is O and does not end a run."""
        chars, tags, last = [], [], None
        for text, kind in self.pieces:
            for ch in text:
                chars.append(ch)
                if ch.isspace():
                    tags.append("O")
                    continue
                tags.append("O" if kind is None else ("I-" if last == kind else "B-") + kind)
                last = kind
        return chars, tags


class WaybillGenerator(AddressPrinter, PersonFields, ExtraLines, ChatLines):
    """Seeded generator of tagged waybill texts (see the module docstring)."""

    def __init__(self, seed=0, rare_char_rate=0.12):
        self.rng = random.Random(seed)
        self.divisions = load_divisions()
        self.rare_chars = all_gb2312_hanzi()
        self.common_chars = common_hanzi()
        self.rare_char_rate = rare_char_rate

    # -- small helpers --------------------------------------------------------
    def pick(self, weighted):
        """One item of a tuple of (item, weight) pairs."""
        items, weights = zip(*weighted)
        return self.rng.choices(items, weights)[0]

    def chance(self, p):
        return self.rng.random() < p

    def hanzi(self, pool):
        """A character of ``pool``, or (rarely) any GB 2312 character, so every embedding gets trained."""
        if self.chance(self.rare_char_rate):
            return self.rng.choice(self.rare_chars)
        return self.rng.choice(pool)

    def stem(self, stems=PLACE_STEMS):
        if self.chance(0.25):
            return self.hanzi(self.common_chars) + self.hanzi(self.common_chars)
        return self.rng.choice(stems)

    def digits(self, n):
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    # -- layouts ---------------------------------------------------------------
    def field_order(self):
        orders = ((("name", "phone", "address"), 45), (("address", "name", "phone"), 12),
                  (("name", "address", "phone"), 10), (("phone", "name", "address"), 10),
                  (("address", "phone", "name"), 8), (("phone", "address", "name"), 5))
        return list(self.pick(orders))

    def label_for(self, field):
        table = {"name": NAME_LABELS, "phone": PHONE_LABELS, "address": ADDRESS_LABELS}[field]
        if self.chance(0.04):
            left, right = self.rng.choice((("【", "】"), ("[", "]"), ("<", ">"), ("(", ")")))
            return left + self.pick(table) + right + self.rng.choice(("", " "))
        return self.pick(table) + self.pick(LABEL_SEPS)

    def recipient_fields(self, style):
        """{"name", "phone", "address"}: the pieces of each field (a phone may bring an extension or a second number)."""
        fields = {"name": self.name(), "phone": [(self.phone(), "phone")], "address": self.address()}
        if self.chance(0.02):  # an ID number after the name (实名寄递, customs): O, not the phone
            fields["name"] += [(self.pick(FIELD_SEPS[:4]) + self.rng.choice(("身份证", "身份证号", "证件号码", ""))
                                + self.pick(LABEL_SEPS), None), (self.id_number(), None)]
        if self.chance(0.035):  # an office landline with its extension: the number is the phone, the extension is not
            fields["phone"] = self.landline_with_extension()
        elif self.chance(0.03):  # a second number: the first one printed is the recipient's phone
            fields["phone"] += [(self.rng.choice(("/", " / ", "，", " ", "、")), None), (self.phone(), None)]
        elif style == "labelled" and self.chance(0.04):  # 手机 and 电话 both labelled: the first is taken
            second = self.rng.choice(("电话", "固话", "座机", "备用电话", "手机", "其他电话")) + self.pick(LABEL_SEPS)
            fields["phone"] += [(self.pick(FIELD_SEPS[:4]), None), (second + self.phone(), None)]
        return fields

    def recipient(self, style, marked):
        """The recipient block as a list of lines, each a list of pieces."""
        fields = self.recipient_fields(style)
        missing = self.pick(((None, 94), ("name", 2.5), ("phone", 2.5), ("address", 1)))
        order = [f for f in self.field_order() if f != missing]
        lines, current = [], []
        sep = self.pick(FIELD_SEPS)

        if style == "labelled":
            all_labels = self.chance(0.8)
            split_region = "address" in order and self.chance(0.12)
            per_line = self.chance(0.65)
            for i, field in enumerate(order):
                pieces = list(fields[field])
                labelled = all_labels or i == 0 or self.chance(0.3)
                if field == "address" and split_region:
                    region, rest = self.split_region(pieces)
                    head = [(self.rng.choice(REGION_LABELS) + self.pick(LABEL_SEPS), None)] + region
                    tail = [("详细地址" + self.pick(LABEL_SEPS), None)] + rest
                    if per_line:
                        lines += [current, head] if current else [head]
                        current = tail
                    else:
                        current += ([(sep, None)] if current else []) + head + [(sep, None)] + tail
                    continue
                joined = bool(current) and (not per_line or (field == "phone" and self.chance(0.25)))
                if labelled and not (joined and field == "phone" and self.chance(0.4)):
                    pieces = [(self.label_for(field), None)] + pieces  # 收方：汤敏 152 ...: a phone after the name may go unlabelled
                if current and not joined:
                    lines.append(current)
                    current = []
                current += ([(sep, None)] if current else []) + pieces
            lines.append(current)
        elif style == "one-line":
            for field in order:
                current += ([(sep, None)] if current else []) + list(fields[field])
            if self.chance(0.1) and "address" in order:  # a postcode after the address (a shop's export)
                at = next(i for i, p in enumerate(current) if p[1] == "detail") + 1
                current[at:at] = [(self.pick(((" ", 3), ("，", 3), (",", 2), (" ，", 1))), None), (self.digits(6), None)]
            lines.append(current)
            if marked:
                lines[0] = [(self.pick(RECIPIENT_MARKS) + self.pick(LABEL_SEPS), None)] + lines[0]
        else:  # multi-line, unlabelled
            for field in order:
                if current and self.chance(0.6):
                    lines.append(current)
                    current = []
                current += ([(sep, None)] if current else []) + list(fields[field])
            lines.append(current)
            if marked and self.chance(0.25):  # 收件人信息 on a line of its own
                lines = [[(self.rng.choice(("收件人信息", "收件人：", "收货信息", "收件信息", "收方信息")), None)]] + lines
            elif marked or self.chance(0.1):
                lines[0] = [(self.pick(RECIPIENT_MARKS) + self.pick(LABEL_SEPS), None)] + lines[0]
        if style != "one-line" and self.chance(0.12):
            lines = self.wrap_address(lines)
            lines = self.wrap_address(lines) if self.chance(0.25) else lines  # a narrow label may wrap it twice
        return lines

    def split_region(self, pieces):
        """(region, rest) of an address printed as 所在地区 + 详细地址: shops put the province, city,
        district and often the 街道/镇 in 所在地区 (pieces keep their kinds: the gold address joins both)."""
        region = [p for p in pieces if p[1] in ("province", "city", "district")]
        rest = [p for p in pieces if p[1] not in ("province", "city", "district", None)]
        town = re.match(r"\S{2,5}?(街道|镇|乡)", rest[0][0]) if rest else None
        if town and len(rest[0][0]) > town.end() and self.chance(0.6):
            region.append((town.group(0), "detail"))
            rest[0] = (rest[0][0][town.end():].lstrip(), "detail")
        elif rest and not town and self.chance(0.6):
            region.append((self.stem() + self.pick((("街道", 3), ("镇", 1))), "detail"))
        if self.chance(0.3):  # 广东省 佛山市 顺德区: the region as picked from a list, spaced
            region = [q for p in region for q in (p, (" ", None))][:-1]
        return region, rest

    def wrap_address(self, lines):
        """Split the address onto the next line, as a narrow label prints it: after its city or
        district (a line of its own for the region), or at a random point of the detail."""
        if self.chance(0.35):
            for li, line in enumerate(lines):
                cuts = [pi for pi in range(1, len(line)) if line[pi - 1][1] in ("city", "district")
                        and line[pi][1] in ("district", "detail")]
                if cuts:
                    pi = self.rng.choice(cuts)
                    return lines[:li] + [line[:pi], line[pi:]] + lines[li + 1:]
        for li, line in enumerate(lines):
            for pi, (text, kind) in enumerate(line):
                if kind == "detail" and len(text) >= 6:
                    cut = self.rng.randint(2, len(text) - 2)
                    first = line[:pi] + [(text[:cut], "detail")]
                    second = [(text[cut:], "detail")] + line[pi + 1:]
                    return lines[:li] + [first, second] + lines[li + 1:]
        return lines

    # -- OCR noise on the finished characters ------------------------------------
    def ocr_noise(self, chars, tags, typed=False):
        r = self.rng
        if self.chance(0.25) and not typed:  # OCR joins boxes: spaces vanish (line breaks stay); not in typed chats
            keep = [i for i, ch in enumerate(chars) if ch not in " \t\u3000"]
            chars, tags = [chars[i] for i in keep], [tags[i] for i in keep]
        if self.chance(0.1):  # full-width digits in a field
            kind = r.choice(("phone", "detail", None))
            chars = [chr(ord(c) + 0xFEE0) if c.isdigit() and c.isascii() and (kind is None or t.endswith(kind))
                     else c for c, t in zip(chars, tags)]
        if self.chance(0.1):  # one confusable character
            spots = [i for i, c in enumerate(chars) if c in CONFUSABLES and tags[i] != "O"]
            if spots:
                i = r.choice(spots)
                chars[i] = CONFUSABLES[chars[i]]
        if self.chance(0.05):  # one misread character inside the address or name
            spots = [i for i, t in enumerate(tags) if t.endswith(("detail", "name")) and "\u4e00" <= chars[i] <= "\u9fff"]
            if spots:
                chars[r.choice(spots)] = r.choice(self.common_chars)
        if self.chance(0.05):  # a stray space inside a field
            spots = [i for i in range(1, len(chars)) if tags[i].startswith("I-")]
            if spots:
                i = r.choice(spots)
                chars.insert(i, "\n" if not typed and self.chance(0.2) else " ")  # or wrapped onto the next line (1377⏎0584219)
                tags.insert(i, "O")
        return chars, tags

    # -- whole texts -------------------------------------------------------------
    def negative(self):
        """A text with no recipient: noise lines, English, digits."""
        r = self.rng
        kind = self.pick((("noise", 5), ("english", 3), ("digits", 1), ("sender", 1)))
        if kind == "noise":
            lines = [self.noise_line() for _ in range(r.randint(1, 4))]
        elif kind == "english":
            lines = [" ".join(r.choice(ENGLISH) for _ in range(r.randint(2, 12)))]
        elif kind == "digits":
            lines = [self.digits(r.randint(1, 30))]
        else:
            lines = self.sender_lines(one_line=self.chance(0.5))
        return "\n".join(lines)

    def sample(self):
        """One example: {"text", "tags", "name", "phone", "address", "format"}."""
        if self.chance(0.03):
            text = self.negative()
            return {"text": text, "tags": ["O"] * len(text), "name": None, "phone": None, "address": None,
                    "format": "none"}
        style = self.pick((("labelled", 40), ("one-line", 35), ("multi-line", 25), ("two-column", 1.5), ("chat", 14)))
        if style == "chat":
            return self._finish(self.chat_message(), style)
        if style == "two-column" or (style == "labelled" and self.chance(0.06)):
            return self._finish(self._special_lines(style), style)
        with_sender = self.chance(0.15 if style == "one-line" else 0.3)
        lines = self.recipient(style, marked=(with_sender and self.chance(0.7)) or self.chance(0.06))
        doc_lines = []  # lists of pieces
        if style != "one-line":
            doc_lines += [[(self.noise_line(), None)] for _ in range(self.pick(((0, 5), (1, 3), (2, 2), (3, 1))))]
            if self.chance(0.3):  # the page's or the label's title first: 拼多多 订单详情, 下单成功
                doc_lines.insert(0, [(self.header_line(), None)])
        sender = [[(line, None)] for line in self.sender_lines(one_line=style == "one-line",
                                                               labelled=style == "labelled")] if with_sender else []
        sender_first = self.chance(0.5)
        if style == "one-line":
            parts = (sender + lines) if sender_first else (lines + sender)
            glue = self.pick(FIELD_SEPS[:5])
            merged = []
            for part in parts:
                merged += ([(glue, None)] if merged else []) + part
            doc_lines = [merged]
        else:
            doc_lines += (sender + lines) if sender_first else (lines + sender)
            if self.chance(0.4):
                doc_lines += [[(self.noise_line(), None)] for _ in range(self.rng.randint(1, 3))]
        return self._finish(doc_lines, style)

    def _special_lines(self, style):
        """The lines of a two-column label, or of a food-delivery slip (labelled customer between the shop's lines)."""
        if style == "two-column":
            return self.two_columns()
        before, after = self.takeout_lines()
        return [[(line, None)] for line in before] + self.recipient("labelled", False) + [[(line, None)] for line in after]

    def _finish(self, doc_lines, style):
        """Lines of pieces -> the example, with OCR noise; the gold fields decoded from the tags."""
        if style in ("labelled", "multi-line") and self.chance(0.03):  # a table's borders read as text: ┃收┃李明轩 ...┃
            bar = self.rng.choice("┃|│")
            doc_lines = [[(bar, None)] + line + [(bar, None)] for line in doc_lines]
        doc = Doc()
        for i, line in enumerate(doc_lines):
            if i:
                doc.add("\n")
            doc.extend(line)
        chars, tags = self.ocr_noise(*doc.chars_and_tags(), typed=style == "chat")
        text = "".join(chars)
        fields = fields_from_tags(text, tags)
        return {"text": text, "tags": tags, **fields, "format": style}

    def samples(self, n):
        return [self.sample() for _ in range(n)]


HELDOUT_SEED = 7777  # training runs use seeds 0-6 and their dev sets seed + 10000


def heldout_examples(n=1000, seed=HELDOUT_SEED):
    """The generator-held-out split: ``n`` examples from a seed no training run used (no file needed)."""
    return WaybillGenerator(seed).samples(n)
