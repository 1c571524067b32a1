"""The recipient's name and phone for the waybill generator, as people print them.

A mixin of :class:`.generator.WaybillGenerator`: it uses the generator's seeded ``rng`` and
its helpers ``pick``, ``chance``, ``hanzi``, ``digits`` and ``common_chars``.
"""
from .lexicon import (
    AREA_CODES,
    COMPOUND_SURNAMES,
    DAI_NAMES,
    DAI_SYLLABLES,
    GIVEN,
    MOBILE_PREFIXES,
    PHONE_LOOKALIKES,
    SURNAMES,
    TIBETAN_MONGOLIAN,
    UYGHUR,
)


class PersonFields:
    """name -> pieces of a name (and an honorific); phone -> a printed mobile or landline."""

    def name(self):
        """(pieces, honorific-piece or None): 张伟, 欧阳娜娜, 王先生, 阿依古丽·买买提."""
        rng = self.rng
        if self.chance(0.02):
            a, b = rng.sample(UYGHUR, 2)
            return [(a + "·" + b, "name")]
        if self.chance(0.03):  # no surname: Tibetan/Mongolian two elements (扎西卓玛); Dai 玉/岩 + a syllable (玉罕)
            if self.chance(0.3):
                return [(rng.choice(DAI_NAMES) + rng.choice(DAI_SYLLABLES), "name")]
            a, b = rng.sample(TIBETAN_MONGOLIAN, 2)
            return [(a + b, "name")]
        if self.chance(0.015):  # a Latin name, as some buyers give it
            first = rng.choice(("Tom", "Lily", "Kevin", "Amy", "David", "Grace", "Jack", "Lucy", "Eric", "Anna"))
            return [(first + rng.choice(("", " " + rng.choice(("Wang", "Li", "Zhang", "Chen", "Liu")))), "name")]
        surname = rng.choice(COMPOUND_SURNAMES) if self.chance(0.15) else rng.choice(SURNAMES)
        if self.chance(0.04):
            surname = rng.choice(self.rare_chars if self.chance(0.4) else self.common_chars)  # a surname outside the list
        honorific = self.pick(((None, 88), ("先生", 5), ("女士", 4), ("小姐", 1), ("老师", 0.6), ("经理", 0.4),
                               ("总", 0.3), ("同学", 0.2), ("师傅", 0.2), ("医生", 0.1), ("阿姨", 0.1), ("主任", 0.1)))
        if honorific and (self.chance(0.6) or len(honorific) == 1):
            return [(surname + honorific, "name")]  # 王先生: the name is how the person is addressed
        given = "".join(self.hanzi(GIVEN) for _ in range(self.pick(((1, 35), (2, 65)))))
        pieces = [(surname + given, "name")]
        if honorific:
            pieces.append((honorific, None))  # 张伟先生: the honorific is not part of the name
        elif self.chance(0.03):
            pieces.append((self.rng.choice((" 收", "收", "(收)", "（收）")), None))  # 张三 收, as on an envelope
        return pieces

    def phone(self):
        """A printed mobile (11 digits, maybe spaced, dashed or +86) or landline with its area code."""
        if self.chance(0.12):
            area = self.rng.choice(AREA_CODES)
            number = self.digits(1).replace("0", "8") + self.digits(self.pick(((7, 1), (6, 3))))
            fmt = self.pick((("{a}-{n}", 50), ("({a}){n}", 10), ("{a} {n}", 10), ("{a}{n}", 20),
                             ("{a}-{h} {t}", 5), ("（{a}）{n}", 5), ("{a}—{n}", 2), ("{a}－{n}", 2), ("{a} - {n}", 1),
                             ("{n}", 2)))
            return fmt.format(a=area, n=number, h=number[:4], t=number[4:])
        number = self.rng.choice(MOBILE_PREFIXES) + self.digits(8)
        fmt = self.pick((("{n}", 70), ("{a} {b} {c}", 8), ("{a}-{b}-{c}", 7), ("+86 {n}", 4), ("+86{n}", 2),
                         ("+86-{n}", 2), ("{a} {b}{c}", 2), ("(+86){n}", 1), ("86-{n}", 1), ("{a}{b} {c}", 2),
                         ("+86 {a} {b} {c}", 1), ("86{n}", 0.5), ("0086 {n}", 0.3), ("{a}—{b}—{c}", 0.5),
                         ("{a}－{b}－{c}", 0.5), ("{a} - {b} - {c}", 0.3),
                         ("{a}.{b}.{c}", 0.7), ("{p} {q} {r}", 1.5), ("{p}-{q}-{r}", 0.5)))  # 1397 0258 143: 4-4-3
        printed = fmt.format(n=number, a=number[:3], b=number[3:7], c=number[7:], p=number[:4], q=number[4:8],
                             r=number[8:])
        if self.chance(0.03):  # OCR reads one digit as a look-alike letter
            spots = [i for i, ch in enumerate(printed) if ch in PHONE_LOOKALIKES and i > 0]
            if spots:
                i = self.rng.choice(spots)
                printed = printed[:i] + self.rng.choice(PHONE_LOOKALIKES[printed[i]]) + printed[i + 1:]
        return printed

    def landline_with_extension(self):
        """Pieces of 0755-86543210转8012 / -8012 / ext.8012: the extension is O (it is dialled after connecting)."""
        area = self.rng.choice(AREA_CODES)
        number = self.digits(1).replace("0", "8") + self.digits(7)
        printed = self.pick(((f"{area}-{number}", 5), (f"({area}){number}", 1), (f"{area} {number}", 1)))
        ext = self.digits(self.rng.randint(2, 4))
        mark = self.pick((("转", 5), ("-", 2), (" 转 ", 1), ("分机", 1), (" ext.", 1), (" Ext ", 0.5), ("#", 0.5),
                          ("（分机", 0.5)))
        return [(printed, "phone"), (mark + ext + ("）" if mark == "（分机" else ""), None)]

    def id_number(self):
        """An 18-character resident ID (region, birth date, sequence, check digit or X): O, never the phone."""
        birth = f"{self.rng.randint(1950, 2006)}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
        return self.digits(6).replace("0", "3", 1) + birth + self.digits(3) + self.rng.choice("0123456789X")
