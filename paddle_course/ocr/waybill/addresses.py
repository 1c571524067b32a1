"""Addresses for the waybill generator: real divisions as people print them, then the street part.

A mixin of :class:`.generator.WaybillGenerator`: it uses the generator's seeded
``rng`` and its helpers ``pick``, ``chance``, ``stem``, ``hanzi`` and ``divisions``.
"""
from .divisions import short_city, short_district, short_province
from .lexicon import COMPLEX_STEMS, COMPLEX_SUFFIXES, INSTITUTIONS, PICKUP_POINTS, ROAD_SUFFIXES, TAILS, TAIL_PLACES


class AddressPrinter:
    """region -> province/city/district pieces; detail -> road, number, building, room (or village, institution)."""

    def region(self):
        """Pieces for province, city, district as printed: full, short, omitted, spaced."""
        d = self.rng.choice(self.divisions)
        pieces = []
        short = self.chance(0.15)
        if d.is_municipality:
            form = self.pick((("full", 70), ("short", 12), ("twice", 12), ("none", 6)))
            if form == "full":
                pieces.append((d.province, "province"))
            elif form == "short":
                pieces.append((short_province(d.province), "province"))
            elif form == "twice":  # 北京 北京市 朝阳区: shops export province and city both
                pieces += [(self.rng.choice((d.province, short_province(d.province))), "province"),
                           (d.province, "city")]
        else:
            if not self.chance(0.12):
                pieces.append((short_province(d.province) if short else d.province, "province"))
            if d.city and not (pieces and self.chance(0.04)):
                pieces.append((short_city(d.city) if short and self.chance(0.5) else d.city, "city"))
        if d.district:
            district = short_district(d.district) if short and self.chance(0.2) else d.district
            if self.chance(0.05):  # a functional zone printed where the district goes: 高新区, 经济技术开发区
                district = self.functional_zone(d)
            pieces.append((district, "district"))
        if not pieces:
            pieces.append((d.province, "province"))
        if self.chance(0.2):
            sep = self.pick(((" ", 8), ("  ", 1)))
            spaced = []
            for i, piece in enumerate(pieces):
                spaced.append(piece)
                if i < len(pieces) - 1:
                    spaced.append((sep, None))
            return spaced, d
        return pieces, d

    def functional_zone(self, division):
        """A development zone people write as the district (not in the division list): 高新区, X经济技术开发区."""
        place = self.pick((("", 3), (short_city(division.city or division.province), 2), (self.stem(), 3)))
        return place + self.pick((("高新区", 5), ("高新技术产业开发区", 1), ("经济技术开发区", 3), ("经开区", 2),
                                  ("新区", 2), ("开发区", 2), ("工业园区", 2), ("新技术开发区", 1), ("综合保税区", 0.5),
                                  ("产业园区", 1), ("自贸区", 0.5)))

    def road(self):
        return self.stem() + self.pick(ROAD_SUFFIXES)

    def number(self):
        n = str(self.rng.choice((self.rng.randint(1, 99), self.rng.randint(1, 999), self.rng.randint(1, 3000))))
        return self.pick(((n + "号", 70), (n + "号院", 6), (f"{self.rng.randint(1, 999)}弄{n}号", 5),
                          (f"{n}-{self.rng.randint(1, 20)}号", 5), (n + "号附" + str(self.rng.randint(1, 9)) + "号", 2),
                          (n + "号" + self.rng.choice("甲乙丙"), 1)))

    def room(self):
        r = self.rng
        floor, unit = r.randint(1, 33), r.randint(1, 12)
        room = f"{floor}{r.randint(1, 12):02d}" if r.random() < 0.8 else str(r.randint(101, 3099))
        letter = r.choice("ABCDEFG")
        # the 室 after a room number is as often left out as printed
        return self.pick(((f"{r.randint(1, 40)}栋{unit}单元{room}室", 14), (f"{r.randint(1, 40)}栋{room}", 8),
                          (f"{r.randint(1, 40)}栋{unit}单元{room}", 9), (f"{r.randint(1, 40)}幢{unit}单元{room}", 2),
                          (f"{r.randint(1, 40)}号楼{unit}单元{room}室", 4), (f"{r.randint(1, 40)}-{unit}-{room}室", 1),
                          (f"{r.randint(1, 40)}幢{room}室", 6), (f"{r.randint(1, 40)}号楼{unit}单元{room}", 10),
                          (f"{r.randint(1, 40)}号楼{room}室", 8), (f"{letter}座{room}", 6), (f"{room}室", 8),
                          (f"{unit}单元{room}", 5), (f"{r.randint(1, 40)}-{unit}-{room}", 5), (f"{floor}楼", 4),
                          (f"{floor}层{room}", 2), (f"{r.randint(1, 40)}栋{floor}楼", 3), (f"{letter}栋{room}", 3),
                          (f"{r.randint(1, 9)}期{r.randint(1, 40)}栋{room}", 2), (f"{letter}{room}", 2),
                          (f"{r.randint(1, 40)}号{room}", 2), (f"{r.randint(1, 40)}栋{unit}单元", 3),
                          (f"{r.choice('一二三四五六七八九十')}号楼{room}", 2),
                          (f"{r.choice('一二三四五六七八九')}单元{room}", 1),
                          # 门 for the unit (Tianjin, Beijing), a lettered block: 5号楼3门402, A12栋
                          (f"{r.randint(1, 40)}号楼{r.randint(1, 8)}门{room}", 3), (f"{r.randint(1, 40)}门{room}", 1),
                          (f"{letter}{r.randint(1, 30)}栋", 1), (f"{letter}{r.randint(1, 30)}栋{room}", 1),
                          (f"{r.randint(1, 40)}座{room}", 2), (room, 3)))  # 宇飞大厦1203: the room number alone

    def building(self):
        stem = self.rng.choice(COMPLEX_STEMS) if self.chance(0.6) else self.stem()
        if self.chance(0.03):  # 佳和·阳光新城: two names joined by a middle dot
            stem += "·" + self.stem()
        if self.chance(0.15):  # an estate known by its name alone (a developer + a stem), no 小区/花园
            return stem + (self.stem() if self.chance(0.5) else "")
        return stem + self.rng.choice(COMPLEX_SUFFIXES)

    def detail(self, division):
        """The street part: [street/town] road number [building] [room] [tail], or a village, or an institution."""
        r = self.rng
        parts = []
        if division.district is None or self.chance(0.22):
            parts.append(self.stem() + self.pick((("街道", 5), ("镇", 4), ("乡", 1))))
        kind = self.pick((("street", 70), ("village", 12), ("institution", 10), ("road-only", 8)))
        if kind == "village":
            if not parts or not parts[-1].endswith(("镇", "乡")):
                parts.append(self.stem() + self.pick((("镇", 3), ("乡", 1))))
            parts.append(self.stem() + self.pick((("村", 8), ("社区", 2))))
            parts.append(self.pick(((f"{r.randint(1, 12)}组{r.randint(1, 99)}号", 3), (f"{r.randint(1, 200)}号", 3),
                                    (self.stem() + "路" + str(r.randint(1, 200)) + "号", 2), ("", 2),
                                    ("村委会旁", 1), (f"{r.randint(1, 12)}组", 1))))
        elif kind == "institution":
            if self.chance(0.5):
                parts.append(self.road() + self.number())
            # an institution is often named after its city or county: 林芝市第一中学, 昆山人民医院
            place = self.pick(((self.stem(), 6), (short_city(division.city or division.province), 2),
                               (division.city or division.province, 1), (short_district(division.district or "城区"), 1)))
            parts.append(place + self.pick((("", 6), ("第一", 1), ("第二", 1), ("市", 0.5))) + r.choice(INSTITUTIONS))
            if self.chance(0.2):
                parts.append(r.choice(("家属院", "家属楼", "教师公寓", "宿舍", "职工宿舍", "附属楼")))
            parts.append(self.pick(((self.stem()[:2] + "校区" + f"{r.randint(1, 30)}号宿舍楼{r.randint(101, 699)}", 2),
                                    (f"{r.randint(1, 12)}号楼{r.randint(101, 1299)}", 2), ("", 3),
                                    (r.choice(("门诊楼", "住院部", "行政楼", "图书馆", "传达室", "研发部")), 2))))
        else:
            parts.append(self.road())
            if kind == "street":
                parts.append(self.number())
                if self.chance(0.75):
                    parts.append(self.building())
                if self.chance(0.7):
                    parts.append(self.room())
            else:
                parts.append(self.pick(((self.number(), 5), ("", 3), (r.choice("东西南北") + self.building(), 2),
                                        (r.choice(("与", "和")) + self.road() + "交叉口", 1))))
        if self.chance(0.07):
            parts.append(r.choice(TAILS))
        elif self.chance(0.08):
            parts.append(self.pickup_tail())
        elif self.chance(0.04):
            parts.append(self.landmark_tail())
        sep = " " if self.chance(0.1) else ""
        return sep.join(p for p in parts if p)

    def pickup_tail(self):
        """Where the parcel is left, printed as the end of the address: 酒店前台, 门诊楼护士站, 南门快递柜."""
        place = self.pick(((self.rng.choice(TAIL_PLACES), 5), ("", 4), (self.stem() + self.rng.choice(("店", "酒店")), 1)))
        return place + self.rng.choice(PICKUP_POINTS)

    def landmark_tail(self):
        """A landmark and the shop or door by it, as people end an address: 人民医院对面 五金店, 第二小学旁."""
        r = self.rng
        landmark = self.stem() + r.choice(("医院", "小学", "中学", "超市", "银行", "加油站", "菜市场", "公园", "车站", "邮局"))
        where = r.choice(("旁", "对面", "隔壁", "后面", "斜对面", "旁边", "往北100米", "附近"))
        shop = self.pick((("", 4), (self.stem() + r.choice(("五金店", "便利店", "门市", "副食店", "药店", "修车铺")), 2),
                          (r.choice(("蓝色大门", "二楼", "小卖部")), 1)))
        return landmark + where + (self.pick(((" ", 1), ("", 2))) + shop if shop else "")

    def address(self):
        """Pieces of the address: region pieces then the detail."""
        region, division = self.region()
        detail = self.detail(division)
        pieces = list(region)
        if self.chance(0.15):
            pieces.append((" ", None))
        pieces.append((detail, "detail"))
        return pieces
