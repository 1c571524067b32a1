"""Chat messages for the waybill generator: the recipient typed into WeChat/QQ/a shop's chat box.

People do not fill a form when they tell a shop or a friend where to send a parcel: they
type a request around the fields (寄给我妈：..., 地址发你了 ..., ... 谢谢), put chat words
before a field (电话是 ..., 名字写 ... 就行, 她手机 ...), a relation before the name (我爸 ...),
sometimes their own name and number first (我是寄件人 ...: not the recipient), and split
the message over a few bubbles.  Every character besides the recipient's fields is O.

A mixin of :class:`.generator.WaybillGenerator`: it uses the generator's seeded ``rng`` and
its helpers ``pick``, ``chance``, ``name``, ``phone``, ``recipient_fields`` and ``field_order``.
"""
from .divisions import short_city, short_district

RELATIONS = ("我妈", "我爸", "我姐", "我哥", "我弟", "我妹", "我朋友", "我同学", "我老婆", "我老公", "我奶奶", "我爷爷",
             "我外婆", "我外公", "我舅舅", "我姑姑", "我阿姨", "我叔叔", "我表姐", "我闺蜜", "我室友", "我儿子", "我女儿",
             "我对象", "我男朋友", "我女朋友", "我同事", "我老板", "客户", "我家里人", "我舍友", "老人家")
GREETINGS = (("", 40), ("你好", 8), ("您好", 5), ("亲", 4), ("老板", 4), ("在吗", 2), ("嗯嗯", 3), ("好的", 4),
             ("好的老板", 1), ("哈喽", 1), ("麻烦了", 1), ("OK", 1), ("嗯", 1), ("对", 1), ("亲亲", 1), ("老板你好", 1))
# a request before the fields; {rel} is a relation
REQUESTS = (("", 25), ("麻烦寄到", 5), ("帮我寄到", 3), ("寄到", 3), ("发到", 3), ("请寄至", 2), ("请发到", 2),
            ("寄给{rel}", 5), ("帮我寄给{rel}", 2), ("发给{rel}", 3), ("麻烦发给{rel}", 1), ("地址发你了", 3),
            ("我的地址", 2), ("我地址是", 2), ("收货信息如下", 2), ("地址如下", 2), ("发这个", 2), ("寄这个地址", 2),
            ("改一下地址", 1), ("地址改成这个", 1), ("发{rel}那里", 1), ("寄到{rel}家", 1), ("寄到学校", 1),
            ("寄到公司", 1), ("发到单位", 1), ("寄到家里", 1), ("麻烦今天发出", 1), ("拍好了，发这里", 1),
            ("帮忙寄一下", 1), ("这是收货地址", 1), ("发货地址是", 0.5), ("寄快递给{rel}", 1), ("麻烦帮我下单", 0.5),
            ("寄给", 2), ("发给", 1), ("送给", 0.5), ("从{origin}寄的", 1), ("{origin}发货", 0.5), ("我在{origin}", 0.5), ("快递放门卫就行", 0.5), ("放前台就行", 0.3), ("帮忙送到", 1))
# who the recipient is at a company: 找财务部的王芳
DEPARTMENTS = ("财务部", "行政部", "人事部", "销售部", "市场部", "技术部", "前台", "办公室", "采购部", "仓库",
               "客服部", "设计部", "教务处", "后勤处", "三楼", "二组", "护士站")
CLOSINGS = (("", 45), ("谢谢", 6), ("谢谢老板", 2), ("辛苦了", 2), ("到了打电话", 2), ("放门卫就行", 1), ("尽快发货哈", 2),
            ("麻烦快点", 1), ("谢谢啦", 2), ("周末送", 1), ("放快递柜", 1), ("发顺丰", 1), ("不要放驿站", 1), ("~", 1),
            ("哈", 1), ("！", 1), ("。", 1), ("谢谢亲", 1), ("能今天发吗", 1))
# chat words before a field (O)
NAME_WORDS = (("", 55), ("名字写", 4), ("收件人写", 3), ("收件人", 3), ("名字", 2), ("姓名", 2), ("写", 1), ("收件人是", 2),
              ("名字是", 1), ("联系人", 2), ("找", 1), ("联系我", 1), ("人是", 0.5), ("给", 1.5), ("叫", 1), ("交给", 0.5),
              ("找{dept}的", 1.5), ("{dept}的", 0.5), ("收件人是{rel}，叫", 1), ("收件人是{rel}", 0.5),
              ("收件人换成{rel}", 1), ("收货人改成{rel}", 0.5), ("收件人写{rel}", 0.5), ("是{rel}，", 0.5))
PHONE_WORDS = (("", 50), ("电话", 8), ("手机", 5), ("电话是", 3), ("手机号", 3), ("手机号是", 2), ("号码", 1),
               ("她电话", 2), ("他电话", 2), ("她手机", 1), ("他手机", 1), ("联系电话", 2), ("打", 0.5), ("电话号码", 1),
               ("tel", 0.5))
ADDRESS_WORDS = (("", 55), ("地址", 6), ("地址是", 3), ("寄到", 3), ("发到", 2), ("送到", 1), ("地址：", 2),
                 ("收货地址", 2), ("住址", 0.5), ("地址在", 1))
# after the address, what to do with the parcel there (O)
ADDRESS_TAILS = (("", 80), ("找前台", 2), ("前台代收", 1), ("放门卫", 2), ("放驿站", 1), ("交给保安", 1), ("送货上门", 1),
                 ("放快递柜", 1), ("到了打电话", 1), ("放门口", 1))
NAME_TAILS = (("", 70), ("收", 8), ("就行", 2), ("就可以", 1), ("（收）", 1), ("的名字", 0.5))
CHAT_SEPS = ((" ", 30), ("，", 25), (",", 8), ("。", 3), ("  ", 3), ("", 6), ("；", 2), ("!", 1), ("~", 1))


class ChatLines:
    """The recipient in a chat message (see the module docstring)."""

    def _chat_word(self, table, rel):
        # the place the parcel comes from (从杭州寄的) is a place name that is not the address
        origin = self.rng.choice(self.divisions)
        origin = short_city(origin.city or origin.province) if self.chance(0.7) else short_district(origin.district or "城区")
        return self.pick(table).format(rel=rel, dept=self.rng.choice(DEPARTMENTS), origin=origin)

    def _sender_intro(self):
        """I, the sender, first: 我是寄件人 王强 138...，: O (the recipient follows)."""
        who = "".join(text for text, _ in self.name())
        phone = self.phone()
        intro = self.pick((("我是寄件人{w}{s}{p}", 3), ("寄件人{w}{s}{p}", 2), ("我叫{w}{s}电话{p}", 2),
                           ("我是{w}{s}{p}", 1), ("寄件人写我：{w}{s}{p}", 1), ("发件人{w}{s}{p}", 1)))
        return intro.format(w=who, s=self.pick(((" ", 2), ("", 2), ("，", 1))), p=phone) + self.pick(CHAT_SEPS)

    def chat_message(self):
        """The lines of one chat message around the recipient's fields (lists of pieces)."""
        rel = self.rng.choice(RELATIONS)
        fields = self.recipient_fields("one-line")
        order = self.field_order()
        opening = self.pick(GREETINGS)
        request = self._chat_word(REQUESTS, rel)
        if request.endswith(("到", "至", "地址是", "地址", "地址如下", "这里", "那里", "家", "家里", "学校", "公司", "单位")):
            order.remove("address")  # 寄到 ... : the address comes right after the request
            order.insert(0, "address")
        elif request.endswith((rel, "给")) and self.chance(0.8):
            order.remove("name")
            order.insert(0, "name")
        if opening and request:
            opening += self.pick(CHAT_SEPS)
        opening += request
        # a greeting or a whole clause (麻烦今天发出) is set off from the field after it, as people type it
        introduces = request.endswith(("到", "至", "是", "给" + rel, "给", "如下", "这个", "地址", "这里", "那里", "家", "家里",
                                       "学校", "公司", "单位"))
        if opening and not introduces and self.chance(0.9):
            opening += self.pick(((" ", 4), ("，", 4), ("：", 1), ("~", 1), ("。", 1), ("！", 0.5), (",", 1)))
        elif opening and self.chance(0.5):
            opening += self.pick(((":", 2), ("：", 4), (" ", 3), ("，", 2), ("", 1)))
        sender_first = self.chance(0.08)
        pieces = [(self._sender_intro(), None)] if sender_first else []
        if sender_first and not request:
            pieces.append(("帮忙寄给" + rel + self.pick((("：", 2), (" ", 1), ("，", 1))), None))
        pieces.append((opening, None))
        for i, field in enumerate(order):
            if i:
                pieces.append((self.pick(CHAT_SEPS), None))
            words = {"name": NAME_WORDS, "phone": PHONE_WORDS, "address": ADDRESS_WORDS}[field]
            if not (i == 0 and request):
                pieces.append((self._chat_word(words, rel), None))
            if field == "name" and self.chance(0.06):
                pieces.append((rel + self.pick(((" ", 2), ("", 1), ("：", 1))), None))  # 我奶奶 王秀珍
            pieces += fields[field]
            if field == "name":
                pieces.append((self.pick(NAME_TAILS), None))
            elif field == "address" and i < len(order) - 1:
                tail = self.pick(ADDRESS_TAILS)
                pieces.append(((self.pick(((" ", 3), ("，", 1))) + tail) if tail else "", None))
        closing = self.pick(CLOSINGS)
        if closing:
            pieces.append((self.pick(CHAT_SEPS[:-4] if closing[0] not in "~！。哈" else CHAT_SEPS) + closing, None))
        return self._bubbles([p for p in pieces if p[0]])

    def _bubbles(self, pieces):
        """One line, or the message split into bubbles at the O pieces between fields."""
        if not self.chance(0.3):
            return [pieces]
        lines, current = [], []
        for piece in pieces:
            current.append(piece)
            if piece[1] is None and current[:-1] and self.chance(0.35):
                lines.append(current)
                current = []
        if current:
            lines.append(current)
        return lines
