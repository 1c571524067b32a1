"""快递单识别: pull the recipient's name, phone and address out of OCR'd lines.

Course 3.2 (PaddleHub), the waybill exercise: OCR gives lines of text in reading
order; a few plain rules turn them into fields.  The rules, in order:

1. Normalise each line: full-width ``：`` and ``（）`` become ASCII, spaces go.
2. Sender lines are skipped: a line starting with 寄件人 / 寄件 / 发件人 / 寄方,
   and (when it has no label of its own) the line right after it, since OCR
   often splits "寄件人：李四  139..." into two boxes.
3. phone: a Chinese mobile number ``1[3-9]\\d{9}`` or a landline
   ``0\\d{2,3}-?\\d{7,8}`` not glued to other digits (so a 12-digit 运单号 is not
   a phone); a number on a line labelled 电话 / 手机 / 联系电话 / Tel wins over
   one found on any other non-sender line.
4. name: the text after 收件人 / 收货人 / 姓名 / 联系人 (phone removed), keeping its
   leading Chinese characters (or the whole rest if it has none); failing that,
   an unlabelled line of 2-4 Chinese characters only that is not a courier's
   name (快递 速运 速递 物流 邮政 快运).
5. address: the text after 地址 / 收件地址 / 收货地址 / 详细地址; failing that, the
   first unlabelled line (no ``word:`` in front) with at least two address words (省 市 区 县 镇 乡 村 路 街 道 号 巷 弄 室
   栋 幢 楼 单元).  The next line is appended when it has no label, no phone and
   at least one address word (an address wrapped over two lines).

A field not found is ``None``.
"""
import re

MOBILE = r"(?<!\d)1[3-9]\d{9}(?!\d)"
LANDLINE = r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"
PHONE_RE = re.compile(f"{MOBILE}|{LANDLINE}")

SENDER_RE = re.compile(r"^(寄件人|寄件|发件人|寄方|发货人)")
NAME_LABEL_RE = re.compile(r"^(收件人|收货人|收方|姓名|联系人)(姓名)?:?")
PHONE_LABEL_RE = re.compile(r"^(电话|手机|手机号|联系电话|联系方式|tel|phone)(号码)?:?", re.IGNORECASE)
ADDRESS_LABEL_RE = re.compile(r"^(收件地址|收货地址|详细地址|地址)(信息)?:?")
ANY_LABEL_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,6}:")
ADDRESS_WORDS = "省市区县镇乡村路街道号巷弄室栋幢楼单元"
CJK_RUN_RE = re.compile(r"^[\u4e00-\u9fff·]+")
CJK_NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
COMPANY_WORDS = ("快递", "速运", "速递", "物流", "邮政", "快运")


def normalise(line):
    """Full-width punctuation to ASCII and no spaces, so one regex fits every line."""
    line = str(line).replace("：", ":").replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", line)


def address_score(text):
    """How many distinct address words the text has."""
    return len({ch for ch in text if ch in ADDRESS_WORDS})


def find_phone(text):
    match = PHONE_RE.search(text)
    return match.group(0) if match else None


def extract_waybill(lines):
    """Extract the recipient from a waybill's OCR lines (see the module docstring for the rules).

    Args:
        lines: list of strings in reading order (e.g. ``[d["text"] for d in result["data"]]``).

    Returns:
        ``{"name": str | None, "phone": str | None, "address": str | None}``.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    cleaned = [normalise(line) for line in lines]
    cleaned = [line for line in cleaned if line]

    # rule 2: drop the sender's lines
    recipient_lines, skip_next = [], False
    for line in cleaned:
        if SENDER_RE.match(line):
            skip_next = True
            continue
        if skip_next and not ANY_LABEL_RE.match(line):
            skip_next = False
            continue
        skip_next = False
        recipient_lines.append(line)

    name = phone = address = None
    address_index = None
    for i, line in enumerate(recipient_lines):
        if phone is None and PHONE_LABEL_RE.match(line):
            phone = find_phone(line)
        if name is None and (match := NAME_LABEL_RE.match(line)):
            rest = PHONE_RE.sub("", line[match.end():]).strip(":")
            run = CJK_RUN_RE.match(rest)
            name = (run.group(0) if run else rest) or None
        if address is None and (match := ADDRESS_LABEL_RE.match(line)):
            address, address_index = line[match.end():] or None, i

    if phone is None:
        phone = next((p for p in map(find_phone, recipient_lines) if p), None)
    if name is None:
        name = next((line for line in recipient_lines
                     if CJK_NAME_RE.match(line) and address_score(line) == 0
                     and not any(word in line for word in COMPANY_WORDS)), None)
    if address is None:
        for i, line in enumerate(recipient_lines):
            if address_score(line) >= 2 and not ANY_LABEL_RE.match(line):
                address, address_index = PHONE_RE.sub("", line), i
                break
    if address is not None and address_index + 1 < len(recipient_lines):
        following = recipient_lines[address_index + 1]
        if (not ANY_LABEL_RE.match(following) and find_phone(following) is None
                and address_score(following) >= 1):
            address += following
    return {"name": name, "phone": phone, "address": address}
