"""``paddle-course waybill extract``: name, phone and address from waybill text (course 3.2, 快递单信息抽取)."""
import json
import sys


def _texts(args):
    """The texts to label: the argument (``-`` reads all of stdin as one text), or --file, one text per line."""
    if args.file is not None:
        with open(args.file, encoding="utf-8") as f:
            return [line.rstrip("\r\n") for line in f if line.strip()]
    if args.text is None:
        raise ValueError("give a TEXT, '-' to read one text from stdin, or --file FILE (one text per line)")
    if args.text == "-":
        return [sys.stdin.read().strip("\r\n")]
    return [args.text]


def _extract(args):
    from paddle_course.ocr.waybill import extract_fields, extract_waybill

    texts = _texts(args)
    results = extract_fields(texts)
    if args.rules_fallback:
        from paddle_course.ocr.waybill.predict import with_fallback

        results = [with_fallback(r, extract_waybill(t.splitlines())) for r, t in zip(results, texts)]
    if args.file is None:
        print(json.dumps(results[0], ensure_ascii=False))
        return
    for text, fields in zip(texts, results):
        print(json.dumps({"text": text, **fields}, ensure_ascii=False))


def register(subparsers):
    parser = subparsers.add_parser(
        "waybill",
        help="extract name, phone and address from waybill text (BiGRU-CRF labeller, course 3.2)",
        description="Waybill (快递单) information extraction from text: a character BiGRU-CRF labeller "
        "tags each character as name / phone / province / city / district / detail and the tags "
        "become the recipient's name, phone and address. For an image use `paddle-course ocr waybill`.",
    )
    commands = parser.add_subparsers(dest="action", metavar="ACTION")
    commands.required = True
    extract = commands.add_parser(
        "extract", help="label waybill text; JSON out",
        description="Print {\"name\", \"phone\", \"address\"} as JSON (a field not found is null). "
        "With --file: one JSON object per line of the file.",
        epilog="Example: paddle-course waybill extract \"张三18625584663广东省深圳市南山区学府路东百度国际大厦\"")
    extract.add_argument("text", nargs="?", metavar="TEXT", help="one waybill text; '-' reads it from stdin")
    extract.add_argument("--file", default=None, metavar="FILE", help="a UTF-8 file, one waybill text per line")
    extract.add_argument("--rules-fallback", action="store_true",
                         help="fill a field the labeller leaves empty with the rule-based extractor")
    extract.set_defaults(func=_extract)
