"""``paddle-course ocr run|waybill|sample|sample-lines``: OCR and the waybill exercise (course 3.2)."""
import json
from pathlib import Path

from paddle_course.common.inputs import image_files, positive_int


def _check_checkpoint(checkpoint):
    if checkpoint is not None and not Path(checkpoint).exists():
        raise FileNotFoundError(f"checkpoint {checkpoint}: no such file or folder (expected the --out of "
                                f"`paddle-course finetune ocr`)")


def _run(args):
    paths = image_files(args.images)  # a typo is answered before the OCR models load
    _check_checkpoint(args.checkpoint)
    from paddle_course.ocr.predict import read_files

    results = read_files(paths, out_dir=args.out, visualization=not args.no_save,
                         text_thresh=args.text_thresh, checkpoint=args.checkpoint)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for result in results:
        print(f"# {result['save_path'] or '(not saved)'}: {len(result['data'])} lines")
        for line in result["data"]:
            print(f"{line['confidence']:.3f}\t{line['text']}")


def _waybill(args):
    if not Path(args.image).is_file():
        raise FileNotFoundError(f"{args.image}: image file not found" + (" (a folder; waybill reads one image)"
                                                                        if Path(args.image).is_dir() else ""))
    _check_checkpoint(args.checkpoint)
    from paddle_course.ocr.predict import read_waybill

    fields = read_waybill(args.image, checkpoint=args.checkpoint)
    if not args.tsv:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
        return
    for key in ("name", "phone", "address"):
        print(f"{key}\t{fields[key] or ''}")


def _sample(args):
    from paddle_course.common.images import save_image
    from paddle_course.ocr.render import render_waybill

    image, _, fields = render_waybill(seed=args.seed)
    save_image(image, args.out)
    print(f"{args.out}: waybill for {fields['name']} {fields['phone']} {fields['address']}")


def _sample_lines(args):
    positive_int("--n", args.n)
    from paddle_course.ocr.lines import write_rendered_dataset

    path = write_rendered_dataset(args.out, n=args.n, seed=args.seed, font_style=args.font, kind=args.kind,
                                  noisy=args.noisy)
    print(path)


def register(subparsers):
    parser = subparsers.add_parser(
        "ocr",
        help="text detection + recognition (PP-OCRv4) and the waybill (快递单) extractor (course 3.2)",
        description="Read text in images with the course_ocr PaddleHub module (PP-OCRv4 detection, direction "
        "classifier and recognition, offline), or extract a waybill's recipient name, phone and address.",
        epilog="Examples: paddle-course ocr sample wb.png; paddle-course ocr run wb.png; "
        "paddle-course ocr waybill wb.png",
    )
    commands = parser.add_subparsers(dest="ocr_command", metavar="ACTION")
    commands.required = True

    run = commands.add_parser("run", help="read the text lines of images",
                              description="Print confidence<TAB>text per line of each image, and save annotated "
                              "copies (boxes and text) in --out.")
    run.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    run.add_argument("--out", type=Path, default=Path("ocr_result"), help="folder for annotated images")
    run.add_argument("--json", action="store_true", help="print the module's result list as JSON")
    run.add_argument("--no-save", action="store_true", help="do not save annotated images")
    run.add_argument("--text-thresh", type=float, default=0.5, help="drop lines below this confidence")
    run.add_argument("--checkpoint", default=None, help="a fine-tuned CRNN from `paddle-course finetune ocr`")
    run.set_defaults(func=_run)

    waybill = commands.add_parser("waybill", help="extract name, phone and address from a waybill image",
                                  description="OCR one waybill (快递单) image and print the recipient's fields as "
                                  "JSON: {lines, name, phone, address}; a field not found is null.")
    waybill.add_argument("image", metavar="IMAGE")
    waybill.add_argument("--json", action="store_true", help="JSON output (the default)")
    waybill.add_argument("--tsv", action="store_true", help="print field<TAB>value lines instead of JSON")
    waybill.add_argument("--checkpoint", default=None, help="a fine-tuned CRNN from `paddle-course finetune ocr`")
    waybill.set_defaults(func=_waybill)

    sample = commands.add_parser("sample", help="render a seeded waybill image to try OCR on",
                                 description="Write a rendered waybill (known name, phone, address) to OUT.")
    sample.add_argument("out", type=Path, metavar="OUT", help="image file to write, e.g. waybill.png")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(func=_sample)

    lines = commands.add_parser("sample-lines", help="render a labelled text-line set for `finetune ocr`",
                                description="Write OUT/images/*.png and OUT/labels.txt (image<TAB>text), "
                                "PaddleOCR's recognition label format.")
    lines.add_argument("out", type=Path, metavar="OUT")
    lines.add_argument("--n", type=int, default=200, help="number of lines (default 200)")
    lines.add_argument("--seed", type=int, default=0)
    lines.add_argument("--font", choices=("wqy", "serif"), default="wqy",
                       help="wqy: the shipped CJK font; serif: DejaVu Serif (digits and Latin only)")
    lines.add_argument("--kind", choices=("waybill", "digits"), default="waybill",
                       help="waybill lines (names, phones, addresses) or digits only; use digits with serif")
    lines.add_argument("--noisy", action="store_true", help="blur and add pixel noise")
    lines.set_defaults(func=_sample_lines)
