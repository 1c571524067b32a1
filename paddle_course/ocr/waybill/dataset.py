"""Data readers for the waybill labeller: the character vocabulary, padding by length buckets,
and the JSONL format a user can write by hand for fine-tuning.

JSONL: one object per line, ``{"text": "...", "name": "...", "phone": "...", "address": "..."}``;
a field that the text does not hold is ``null``.  ``phone`` is digits only, ``address``
as printed (whitespace ignored).  The tags are found by locating each field in the
text (:func:`tags_from_fields`); an object may instead carry its own ``"tags"`` list.
"""
import json
import os
import random
import re
import tempfile
import unicodedata

import numpy as np

from .decode import TAG_INDEX, TAGS, fields_from_tags, phone_digits, squeeze
from .divisions import load_divisions, short_city, short_district, short_province

PAD, UNK = "<pad>", "<unk>"


def char_key(ch):
    """The vocabulary key of one character: NFKC (full-width -> ASCII), lower case, one space for any blank."""
    if ch == "\n":
        return "\n"
    if ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    return (folded if len(folded) == 1 else ch).lower()


class Vocab:
    """Character -> id; 0 is padding, 1 is unknown."""

    def __init__(self, chars):
        self.chars = [PAD, UNK] + [c for c in dict.fromkeys(chars) if c not in (PAD, UNK)]
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.cache = {}  # raw character -> id, so NFKC runs once per distinct character

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        get = self.cache.get
        return [get(ch) or self._miss(ch) for ch in text]

    def _miss(self, ch):
        i = self.cache[ch] = self.index.get(char_key(ch), 1)
        return i

    @classmethod
    def build(cls):
        """Blank, line break, ASCII, common CJK punctuation and the 6,763 GB 2312 hanzi, plus confusables."""
        from .lexicon import CONFUSABLES, all_gb2312_hanzi

        punctuation = "，。：；、（）【】《》？！…￥·—“”‘’「」〔〕·"
        chars = [" ", "\n"] + [chr(c) for c in range(33, 127) if not chr(c).isupper()]
        chars += list(punctuation) + list(all_gb2312_hanzi()) + list(CONFUSABLES.values())
        return cls(char_key(c) for c in chars)

    def save(self, path):
        atomic_write_text(path, "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in self.chars))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            chars = [json.loads(line) for line in f if line.strip()]
        vocab = cls([])
        vocab.chars = chars
        vocab.index = {c: i for i, c in enumerate(chars)}
        vocab.cache = {}
        return vocab


def atomic_write_text(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def pad_batch(rows, pad=0):
    """Lists of ids -> (int64 [batch, max_len] array, int64 lengths)."""
    lengths = np.array([len(r) for r in rows], dtype="int64")
    out = np.full((len(rows), max(1, lengths.max(initial=1))), pad, dtype="int64")
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, lengths


def length_buckets(lengths, batch_size, shuffle=False, seed=0):
    """Indices grouped into batches of similar length (less padding); batch order shuffled if asked."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        random.Random(seed).shuffle(batches)
    return batches


def encode_examples(examples, vocab, max_len=256):
    """[(ids, tag ids)] for examples with "text" and "tags", cut to ``max_len`` characters."""
    return [(vocab.encode(e["text"][:max_len]), [TAG_INDEX[t] for t in e["tags"][:max_len]]) for e in examples]


# -- JSONL --------------------------------------------------------------------------------

def read_jsonl(path):
    """Objects of a JSONL file; a line that is not an object with a "text" string is a ValueError naming it."""
    examples = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not JSON ({err.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise ValueError(f'{path}:{number}: expected an object with a "text" string')
            examples.append(obj)
    return examples


def write_jsonl(path, examples, keys=("text", "name", "phone", "address", "format")):
    atomic_write_text(path, "".join(json.dumps({k: e.get(k) for k in keys}, ensure_ascii=False) + "\n"
                                    for e in examples))


def labelled_examples(objects, source="data"):
    """JSONL objects -> examples with tags; an object whose fields cannot be found is a ValueError."""
    examples = []
    for i, obj in enumerate(objects):
        if "tags" in obj:
            tags = list(obj["tags"])
            if len(tags) != len(obj["text"]) or any(t not in TAG_INDEX for t in tags):
                raise ValueError(f"{source}[{i}]: tags must be one of {TAGS} per character")
        else:
            tags = tags_from_fields(obj["text"], obj.get("name"), obj.get("phone"), obj.get("address"),
                                    where=f"{source}[{i}]")
        examples.append({"text": obj["text"], "tags": tags})
    return examples


# -- locating fields in a text ------------------------------------------------------------

SENDER_RE = re.compile(r"(寄件|发件|寄方|发货|^寄|\n寄|From)")
PHONE_RUN_RE = re.compile(r"[+＋(（]?[0-9０-９OolI|DBSZ][0-9０-９OolI|DBSZ()（）\s\-－—+＋.．·]{5,}[0-9０-９OolI|DBSZ]")


def squeezed_index(text):
    """(text without whitespace, position in ``text`` of each kept character)."""
    keep = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in keep), keep


def _sender_positions(text):
    """Positions on lines that belong to a sender block (to prefer the recipient's copy of a field)."""
    marks = set()
    offset = 0
    for line in text.split("\n"):
        if SENDER_RE.search(line):
            marks.update(range(offset, offset + len(line)))
        offset += len(line) + 1
    return marks


def _find(squeezed, keep, value, avoid, taken=()):
    """Original (start, end) of ``value`` in the squeezed text, preferring an occurrence outside ``avoid``
    and never one that overlaps ``taken`` (a field already marked: the name 金山 inside 金山大道)."""
    hits = [m.start() for m in re.finditer(f"(?={re.escape(value)})", squeezed)]
    hits = [h for h in hits if not any(keep[i] in taken for i in range(h, h + len(value)))]
    if not hits:
        return None
    hits.sort(key=lambda h: keep[h] in avoid)
    h = hits[0]
    return keep[h], keep[h + len(value) - 1] + 1


def _region_split(address):
    """Lengths of the province, city and district prefixes of an address (0 when absent)."""
    provinces, cities, districts = set(), set(), set()
    for d in load_divisions():
        provinces.update((d.province, short_province(d.province)))
        if d.city:
            cities.update((d.city, short_city(d.city)))
        if d.district:
            districts.update((d.district, short_district(d.district)))
    cities.update(p for p in provinces if p.endswith("市"))  # 北京北京市朝阳区
    lengths, rest = [], address
    for names in (provinces, cities, districts):
        match = max((n for n in names if rest.startswith(n) and len(n) >= 2), key=len, default="")
        if names is not districts and match and len(rest) == len(match):
            match = ""
        lengths.append(len(match))
        rest = rest[len(match):]
    return lengths


def _phone_spans(text, wanted):
    """(start, end) of the shortest pieces of phone-like runs whose digits are ``wanted``."""
    found = []
    for run in PHONE_RUN_RE.finditer(text):
        piece = run.group(0)
        for i in range(len(piece)):
            if piece[i].isspace():
                continue
            for j in range(i + 1, len(piece) + 1):
                if phone_digits(piece[i:j]) == wanted and not piece[j - 1].isspace():
                    found.append((run.start() + i, run.start() + j))
                    break
            else:
                continue
            break
    return found


def tags_from_fields(text, name, phone, address, where="text"):
    """Tags for ``text`` that decode back to the given fields (see the module docstring)."""
    tags = ["O"] * len(text)
    squeezed, keep = squeezed_index(text)
    avoid = _sender_positions(text)

    def mark(start, end, kinds):
        """Tag text[start:end]; ``kinds`` is [(kind, number of non-blank characters)]."""
        positions = [i for i in range(start, end) if not text[i].isspace()]
        at = 0
        for kind, count in kinds:
            for j, pos in enumerate(positions[at: at + count]):
                tags[pos] = ("B-" if j == 0 else "I-") + kind
            at += count

    if address:
        value = squeeze(address)
        span = _find(squeezed, keep, value, avoid)
        if span is None:
            raise ValueError(f"{where}: address {address!r} is not in the text")
        p, c, d = _region_split(value)
        kinds = [(k, n) for k, n in (("province", p), ("city", c), ("district", d)) if n]
        mark(*span, kinds + [("detail", len(value) - p - c - d)])
    if name:
        value = squeeze(name)
        span = _find(squeezed, keep, value, avoid, taken={i for i, tag in enumerate(tags) if tag != "O"})
        if span is None:
            raise ValueError(f"{where}: name {name!r} is not in the text")
        mark(*span, [("name", len(value))])
    if phone:
        wanted = re.sub(r"\D", "", str(phone))
        spans = _phone_spans(text, wanted)
        spans.sort(key=lambda span: span[0] in avoid)
        if not spans:
            raise ValueError(f"{where}: phone {phone!r} is not in the text")
        start, end = spans[0]
        mark(start, end, [("phone", sum(not ch.isspace() for ch in text[start:end]))])
    got = fields_from_tags(text, tags)
    expected = {"name": squeeze(name) if name else None, "phone": phone_digits(str(phone)) if phone else None,
                "address": squeeze(address) if address else None}
    if got != expected:
        raise ValueError(f"{where}: the fields overlap or are ambiguous in the text ({got} != {expected})")
    return tags
