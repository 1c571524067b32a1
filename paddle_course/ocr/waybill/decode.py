"""The course's tag scheme and the decoding of a tag sequence into the recipient's fields.

Course 3 (PaddleNLP 快递单信息抽取): every character gets one tag, B (begin) or I
(inside) of one of six kinds, or O (outside):

    name  phone  province  city  district  detail     + O

Decoding (tags -> ``{"name", "phone", "address"}``):

* name: the first name span, whitespace dropped;
* phone: the first phone span, digits only: full-width digits and the OCR
  confusables O/o/D -> 0, l/I/| -> 1, B -> 8, S -> 5, Z -> 2 are read as digits, spaces, dashes and brackets
  go, a +86 / 0086 country code is dropped, a landline keeps its area code;
  fewer than 7 digits is no phone;
* address: every province/city/district/detail character in reading order,
  whitespace and line breaks dropped (an address wrapped over two lines, or
  printed as 所在地区 + 详细地址, comes out as one string);
* a name loses punctuation at its ends (禚洪涛- with a dash glued to it by a
  ``name-phone-address`` layout reads 禚洪涛; 阿依·古丽 keeps its middle dot);
* a name without a letter or hanzi, or an address without a letter, hanzi or
  digit (punctuation alone) is no field; an address loses a table's borders
  (┃ │ |) at its ends.

A field with no tagged character is ``None``.
"""
import itertools
import unicodedata

import numpy as np

KINDS = ("name", "phone", "province", "city", "district", "detail")
ADDRESS_KINDS = frozenset(("province", "city", "district", "detail"))
TAGS = ("O",) + tuple(f"{bi}-{kind}" for kind in KINDS for bi in ("B", "I"))
TAG_INDEX = {tag: i for i, tag in enumerate(TAGS)}

# per tag id: its kind's number (0 for O, 1.. in KINDS order) and whether it is a B tag
KIND_OF_TAG = np.array([0] + [1 + KINDS.index(t[2:]) for t in TAGS[1:]], dtype="int64")
BEGIN_OF_TAG = np.array([t.startswith("B-") for t in TAGS])
NAME_KIND, PHONE_KIND = 1 + KINDS.index("name"), 1 + KINDS.index("phone")

PHONE_CONFUSABLES = {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "B": "8", "S": "5", "Z": "2"}


def tag_kind(tag):
    """'B-city' -> 'city', 'O' -> None."""
    return None if tag == "O" else tag[2:]


def spans(text, tags):
    """[(kind, start, end)] of maximal runs: a B tag, or a change of kind, starts a new span.

    An I tag after whitespace (tagged O) continues the span before it: '张 三' is one
    name, an address wrapped onto the next line one detail.
    """
    found = []
    for i, tag in enumerate(tags):
        kind = tag_kind(tag)
        if kind is None:
            continue
        if (found and found[-1][0] == kind and tag.startswith("I-")
                and not text[found[-1][2]:i].strip()):
            found[-1][2] = i + 1
        else:
            found.append([kind, i, i + 1])
    return [tuple(span) for span in found]


def phone_digits(printed):
    """The digits of a printed phone number: '+86 138-0013-8000' -> '13800138000', '(0755)8654 3210' -> '075586543210'."""
    digits = []
    for ch in printed:
        ch = unicodedata.normalize("NFKC", ch)
        ch = PHONE_CONFUSABLES.get(ch, ch)
        if len(ch) == 1 and "0" <= ch <= "9":
            digits.append(ch)
    number = "".join(digits)
    if len(number) == 13 and number.startswith("861"):
        number = number[2:]
    elif len(number) == 15 and number.startswith("00861"):
        number = number[4:]
    elif number.startswith("86") and len(number) in (12, 13) and number[2] == "0":
        number = number[2:]  # +86 010 12345678 style landline
    return number if len(number) >= 7 else None


def squeeze(text):
    """Drop every whitespace character (spaces and line breaks are layout, not content)."""
    return "".join(text.split())


def clean_name(name):
    """The name without punctuation or symbols at its ends; None when nothing with a letter or hanzi is left."""
    if name is None:
        return None
    start, end = 0, len(name)
    while start < end and unicodedata.category(name[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(name[end - 1])[0] in "PS":
        end -= 1
    name = name[start:end]
    return name if any(ch.isalpha() for ch in name) else None


def clean_address(address):
    """The address without a table's borders at its ends (┃ │ |: a label's grid read as text); None when
    nothing with a letter, hanzi or digit is left (punctuation alone is a mis-tag, not a field)."""
    if address is None:
        return None
    address = address.strip("|" + "".join(map(chr, range(0x2500, 0x2580))))
    return address if any(ch.isalnum() for ch in address) else None


def fields_from_tags(text, tags):
    """Turn one text's tags into ``{"name", "phone", "address"}`` (see the module docstring)."""
    name = phone = None
    address = []
    for kind, start, end in spans(text, tags):
        piece = text[start:end]
        if kind == "name" and name is None:
            name = squeeze(piece) or None
        elif kind == "phone" and phone is None:
            phone = phone_digits(piece)
        elif kind in ADDRESS_KINDS:
            address.append(piece)
    address = clean_address(squeeze("".join(address)) or None)
    name = clean_name(name)  # a name or an address of punctuation alone is a mis-tag, not a field
    return {"name": name, "phone": phone, "address": address}


def _first_span(kinds, begins, kind):
    """(start, end) of the first run of ``kind`` (a B tag starts a new run), or None."""
    hits = np.flatnonzero(kinds == kind)
    if not hits.size:
        return None
    start = int(hits[0])
    stops = np.flatnonzero((kinds[start + 1:] != kind) | begins[start + 1:])
    return start, start + 1 + int(stops[0]) if stops.size else len(kinds)


def fields_from_ids(text, tag_ids):
    """``fields_from_tags`` for a NumPy array of tag ids, with the whitespace taken out first.

    Equivalent for every tagging the labeller is trained to give (whitespace tagged O); it
    works on the text without whitespace, so a run of one kind split by a blank is one span.
    """
    keep = [i for i, ch in enumerate(text) if not ch.isspace()] if any(ch.isspace() for ch in text) else None
    if keep is not None:
        text = "".join(text[i] for i in keep)
        tag_ids = np.asarray(tag_ids)[keep]
    kinds, begins = KIND_OF_TAG[tag_ids], BEGIN_OF_TAG[tag_ids]
    span = _first_span(kinds, begins, NAME_KIND)
    name = text[span[0]:span[1]] if span else None
    span = _first_span(kinds, begins, PHONE_KIND)
    phone = phone_digits(text[span[0]:span[1]]) if span else None
    address = "".join(itertools.compress(text, (kinds > PHONE_KIND).tolist())) or None
    return {"name": clean_name(name), "phone": phone, "address": clean_address(address)}
