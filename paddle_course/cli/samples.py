"""``paddle-course samples [DIR]``: write every sample input the README's commands use."""
from pathlib import Path


def register(subparsers):
    parser = subparsers.add_parser(
        "samples", help="write every sample input the README uses: a street photo, a waybill, fine-tune sets",
        description="Write into DIR the inputs the README's commands take: street.jpg (a real photograph), "
        "waybill.png (a rendered waybill), my_train.tsv and my_dev.tsv (slang reviews for `finetune sentiment`), "
        "my_voc/ (dusk scenes for `finetune pedestrian`), lines/ and lines_dev/ (serif digit lines for "
        "`finetune ocr`), wb_train.jsonl and wb_dev.jsonl (a company's dispatch slips for `finetune waybill`). "
        "Then run the README's commands inside DIR.")
    parser.add_argument("out", type=Path, nargs="?", default=Path("course_samples"), metavar="DIR",
                        help="folder to write into (default: course_samples)")
    parser.add_argument("--quiet", action="store_true", help="print only where the files went")
    parser.set_defaults(func=_samples)


def _samples(args):
    from paddle_course.samples import write_samples

    written = write_samples(args.out, quiet=args.quiet)
    print(f"wrote {len(written)} sample inputs into {args.out}/; the README's commands run inside it: "
          f"cd {args.out} && paddle-course detect street.jpg --out drawn/")
    return 0
