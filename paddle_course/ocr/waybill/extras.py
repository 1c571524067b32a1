"""The lines a waybill carries besides the recipient, for the waybill generator: noise lines
(订单号, 运单号, 打印时间, ...), the sender's block, a food-delivery slip's lines, and the
two-column layout where the sender's fields sit beside the recipient's.  Every character
printed here is O, except the recipient's own fields in ``two_columns``.

A mixin of :class:`.generator.WaybillGenerator`: it uses the generator's seeded ``rng`` and its
helpers ``pick``, ``chance``, ``stem``, ``digits``, ``name``, ``phone``, ``address`` and ``divisions``.
"""
from .divisions import short_city, short_district
from .lexicon import (
    COURIER_LATIN,
    COURIERS,
    DELIVERY_PLATFORMS,
    DISHES,
    FIELD_SEPS,
    GOODS,
    INSTITUTIONS,
    LABEL_SEPS,
    ORDER_STATES,
    PAGE_TITLES,
    REMARKS,
    SENDER_ADDRESS_LABELS,
    SENDER_LABELS,
    SENDER_NAME_LABELS,
    SENDER_PHONE_LABELS,
    SHOP_PLATFORMS,
    SHOP_SUFFIXES,
    STATION_LABELS,
    STATION_SUFFIXES,
)


class ExtraLines:
    """Noise lines, sender blocks, food-delivery slips, two columns (see the module docstring)."""

    def noise_line(self):
        r = self.rng
        sep = self.pick(LABEL_SEPS)
        date = f"20{r.randint(18, 26)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        return self.pick((
            (f"订单号{sep}{self.digits(r.randint(12, 19))}", 12),
            (f"订单编号{sep}{self.digits(r.randint(12, 19))}", 4),
            (f"运单号{sep}{r.choice(('SF', 'YT', 'JT', 'ZT', 'JD', ''))}{self.digits(r.randint(12, 15))}", 10),
            (self.digits(r.randint(12, 15)), 4),
            (f"打印时间{sep}{date} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}", 5),
            (r.choice(COURIERS), 10),
            (f"备注{sep}{r.choice(REMARKS)}", 5),
            (f"物品{sep}{r.choice(GOODS)}", 4),
            (f"重量{sep}{r.randint(0, 20)}.{r.randint(0, 9)}kg", 3),
            (f"件数{sep}{r.randint(1, 3)}", 2),
            (f"邮编{sep}{self.digits(6)}", 3),
            (f"快递公司{sep}{r.choice(COURIERS)[:2]}{self.pick(((' ', 1), ('', 1)))}{self.digits(r.randint(12, 15))}", 1),
            (f"取件码{sep}{r.randint(1, 30)}-{r.randint(1, 9)}-{r.randint(1000, 9999)}", 1),
            ("签收人：", 2), ("已验视", 2), (r.choice(("寄付月结", "到付", "寄付现结")), 2),
            (f"代收货款{sep}¥{r.randint(0, 500)}.00", 1),
            (f"{self.digits(3)}-{r.choice('ABCDEFGW')}{self.digits(2)} {self.digits(2)}", 3),
            (f"集包地{sep}{self.stem()}转运中心", 2),
            (f"{short_city(r.choice(self.divisions).city or '北京市')}转运中心", 1),
            (f"第{r.randint(1, 3)}/{r.randint(3, 5)}件", 1),
            (f"Order No. {self.digits(r.randint(10, 16))}", 1),
            ("收件人签名：", 1), ("客服电话 95338", 1), (f"{date}", 1),
            (f"{r.choice(('收件单位', '单位', '公司', '收件公司'))}{sep}{self.stem()}{r.choice(INSTITUTIONS)}", 2),
            (f"目的地{sep}{self.digits(3)}{r.choice(('', 'WF', 'WB', 'A'))}-{self.digits(3)}", 1),
            (self.header_line(), 4), (self.station_line(), 4),
            (r.choice(("默认地址", "[默认]", "【默认】", "默认", "设为默认", "家", "公司", "学校", "修改地址", "复制")), 2),
        ))

    def header_line(self):
        """The first line of an order page or a label: 拼多多 订单详情, 下单成功, 韵达 YUNDA 4620...: all O."""
        r = self.rng
        gap = self.pick((("", 3), (" ", 3), ("  ", 1)))
        return self.pick((
            (r.choice(SHOP_PLATFORMS) + gap + r.choice(PAGE_TITLES), 6),
            (r.choice(SHOP_PLATFORMS), 2),
            (r.choice(ORDER_STATES), 4),
            (r.choice(COURIERS) + gap + r.choice(COURIER_LATIN) + self.pick((("", 1), (" " + self.digits(13), 2))), 3),
            (r.choice(COURIER_LATIN) + " " + self.digits(r.randint(12, 15)), 1),
            (r.choice(COURIERS) + gap + r.choice(("标快", "特快送", "电子面单", "经济快递", "次日达", "隔日达")), 2),
            (r.choice(SHOP_PLATFORMS) + gap + r.choice(ORDER_STATES), 1),
        ))

    def station_line(self):
        """A courier's station or sorting line (站点：昆明官渡营业部): a place name that is not the address, O."""
        r = self.rng
        d = r.choice(self.divisions)
        place = short_city(d.city or d.province) + self.pick((("", 3), (self.stem(), 3), (short_district(d.district or "城区"), 2)))
        line = r.choice(STATION_LABELS) + self.pick(LABEL_SEPS) + place + r.choice(STATION_SUFFIXES)
        if self.chance(0.3):
            line += r.choice((" 路区：", " 派件员：", " 编号 ", " ")) + str(r.randint(1, 60))
        if self.chance(0.15):  # 三段码 with the province: 380-C 宁夏
            line = f"{self.digits(3)}-{r.choice('ABCDEFGW')}{r.choice(('', self.digits(2)))} {short_city(d.province)}"
        return line

    def takeout_lines(self):
        """(lines before, lines after) the customer on a food-delivery slip (外卖单): all O."""
        r = self.rng
        sep = self.pick(LABEL_SEPS)
        clock = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        head = [self.pick(((f"#{r.randint(1, 99)} {r.choice(DELIVERY_PLATFORMS)}", 3), (r.choice(DELIVERY_PLATFORMS), 2),
                           (f"{r.choice(DELIVERY_PLATFORMS)} #{r.randint(1, 99):02d}", 2), (f"#{r.randint(1, 99)}", 1)))]
        if self.chance(0.7):
            head.append(self.stem() + self.rng.choice(SHOP_SUFFIXES) + self.pick((("", 5), ("（" + self.stem() + "店）", 1))))
        if self.chance(0.6):
            head.append(f"{r.choice(('下单时间', '下单', '订单时间'))}{sep}20{r.randint(20, 26)}-{r.randint(1, 12):02d}-"
                        f"{r.randint(1, 28):02d} {clock}")
        if self.chance(0.4):
            head.append(f"{r.choice(('期望送达', '送达时间', '预计送达'))}{sep}{r.choice(('立即送达', clock, '尽快送达'))}")
        items = []
        for _ in range(r.randint(0, 3)):
            dish = r.choice(DISHES) + self.pick((("", 4), ("(大份)", 1), ("（小份）", 1), ("(微辣)", 1), ("(加饭)", 1)))
            items.append(dish + self.pick(((f" x{r.randint(1, 3)}", 3), (f" ×{r.randint(1, 3)}", 2),
                                           (f"*{r.randint(1, 3)}", 1), (f" ¥{r.randint(5, 60)}", 1))))
        if items and self.chance(0.5):
            items[0] = r.choice(("商品", "菜品", "商品信息")) + sep + items[0]
        tail = [f"备注{sep}{r.choice(REMARKS + ('少放辣', '不要葱', '放宿管处', '需要餐具'))}"] if self.chance(0.5) else []
        if self.chance(0.3):
            tail.append(f"实付{sep}¥{r.randint(10, 120)}.{r.randint(0, 9)}")
        return (head + items, tail) if self.chance(0.6) else (head, items + tail)

    def masked_phone(self, printed):
        """A sender's number as couriers print it for privacy: 138****2271, 0755-8765****."""
        spots = [i for i, ch in enumerate(printed) if ch.isdigit()]
        if len(spots) < 8:
            return printed
        start = self.rng.choice((3, 4, len(spots) - 4))
        hidden = set(spots[start:start + 4])
        return "".join("*" if i in hidden else ch for i, ch in enumerate(printed))

    def sender_who(self):
        """The sender: a person, or a shop / warehouse (maybe with its city in brackets)."""
        if not self.chance(0.3):
            return "".join(text for text, _ in self.name())
        who = self.stem() + self.rng.choice(("旗舰店", "专营店", "官方店", "商行", "仓", "电商", "自营仓", "发货仓",
                                             "配送中心", "电子", "有限公司", "工作室"))
        if self.chance(0.2):
            city = short_city(self.rng.choice(self.divisions).city or "北京市")
            who += self.rng.choice(("（{}）", "({})", "-{}")).format(city)
        return who

    def sender_lines(self, one_line, labelled=False):
        """A 寄件人 block (label, name or shop, phone, maybe address, in any order): every character is O."""
        label = self.pick(SENDER_LABELS) + self.pick(LABEL_SEPS)
        who = self.sender_who()
        phone = self.phone()
        if self.chance(0.3):
            phone = self.masked_phone(phone)
        with_address = self.chance(0.7)
        address = "".join(text for text, _ in self.address()) if with_address else ""
        if with_address and self.chance(0.25):  # only the sender's province and city (浙江省温州市)
            address = "".join(text for text, kind in self.region()[0] if kind in ("province", "city")) or address
        sep = self.pick(FIELD_SEPS[:4])
        if address and self.chance(0.06):  # a same-city order: 取件 + where the courier picks up, then the sender
            pickup = self.rng.choice(("取件", "取货", "取件地址", "取货地址", "发货地")) + self.pick(LABEL_SEPS)
            return [pickup + address + self.pick(((" ", 2), ("  ", 1))) + label + who + sep + phone]
        if not labelled and self.chance(0.3):  # 寄件人：广州市... 黄先生 020-...: the sender's fields in another order
            fields = [f for f in (who, phone, address) if f]
            self.rng.shuffle(fields)
            return [label + sep.join(fields)] if one_line or self.chance(0.6) else [label + fields[0], sep.join(fields[1:])]
        parts = [label + who, phone]
        if labelled and self.chance(0.5):  # every sender field labelled: 寄件人电话, 寄件地址 (or plain 电话, 地址)
            fields = [self.pick(SENDER_NAME_LABELS) + self.pick(LABEL_SEPS) + who,
                      self.pick(SENDER_PHONE_LABELS) + self.pick(LABEL_SEPS) + phone]
            if address:
                fields.append(self.pick(SENDER_ADDRESS_LABELS) + self.pick(LABEL_SEPS) + address)
            if one_line or self.chance(0.3):
                return [sep.join(fields)]
            return fields
        if not one_line and self.chance(0.2):  # 寄件人信息 on a line of its own, the fields below
            header = self.rng.choice(("寄件人信息", "寄件人：", "发件人信息", "寄件信息", "寄方信息", "发件人"))
            return [header, sep.join([who, phone])] + ([address] if address else [])
        if one_line or self.chance(0.5):
            return [sep.join(parts + ([address] if address else []))]
        return [sep.join(parts)] + ([address] if address else [])

    def two_columns(self):
        """Recipient and sender printed side by side (收件人 | 寄件人), read by OCR row by row:
        a header row, then the name, phone and address rows, each ``left<gap>right``."""
        r = self.rng
        recipient = [self.name(), [(self.phone(), "phone")], self.address()]
        sender_phone = self.phone()
        sender = [self.sender_who(), self.masked_phone(sender_phone) if self.chance(0.3) else sender_phone,
                  "".join(text for text, _ in self.address())]
        heads = r.choice((("收件人", "寄件人"), ("收件信息", "寄件信息"), ("收方", "寄方"), ("收货人", "发货人"),
                          ("收", "寄"), ("To", "From")))
        recipient_left = self.chance(0.5)
        gap = self.pick(((" ", 4), ("  ", 3), ("   ", 2), ("\t", 1)))
        rows = [[(heads[0] if recipient_left else heads[1], None), (gap, None),
                 (heads[1] if recipient_left else heads[0], None)]]
        if self.chance(0.3):  # name and phone on one row
            recipient = [recipient[0] + [(" ", None)] + recipient[1], recipient[2]]
            sender = [sender[0] + " " + sender[1], sender[2]]
        for mine, theirs in zip(recipient, sender):
            rows.append(mine + [(gap + theirs, None)] if recipient_left else [(theirs + gap, None)] + mine)
        return rows
