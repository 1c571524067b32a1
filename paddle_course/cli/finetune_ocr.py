"""``paddle-course finetune ocr``: fine-tune the CRNN recognizer on image<TAB>text list files."""
from pathlib import Path

from paddle_course.cli.finetune import check_shared_options
from paddle_course.common.inputs import existing_file


def _finetune(args):
    existing_file(args.train, "label file")
    if args.dev is not None:
        existing_file(args.dev, "label file")
    if args.init is not None and not Path(args.init).is_dir():
        raise FileNotFoundError(f"--init {args.init}: no such checkpoint folder")
    check_shared_options(args)
    from paddle_course.ocr.finetune import finetune

    result = finetune(args.train, args.dev, out_dir=args.out,
                      init=None if args.from_scratch else (args.init or "shipped"), epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, seed=args.seed, quiet=args.quiet,
                      base_mix=args.base_mix, keep_epochs=args.keep_epochs)
    print("\n".join(result["report"].lines()))


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "ocr",
        help="fine-tune the OCR line recognizer (CRNN + CTC) on image<TAB>text files",
        description="Start from the shipped base CRNN and train on your text-line images with hub.Trainer. "
        "List files use PaddleOCR's rec format: one 'image_path<TAB>transcription' per line, paths relative "
        "to the list file. Without --dev a seeded fifth of --train is held out as dev. Against forgetting, "
        "lines rendered like the base's own training data are mixed in (--base-mix). Line accuracy on dev and "
        "on the base's held-out lines is printed before and after; the best dev epoch is kept (the start "
        "counts). Use the result with hub.Module(name='course_ocr', checkpoint=OUT) or "
        "`paddle-course ocr run --checkpoint OUT`. Try it: paddle-course ocr sample-lines d/train --font serif "
        "--kind digits --noisy",
    )
    parser.add_argument("--train", type=Path, required=True, help="training list file")
    parser.add_argument("--dev", type=Path, default=None,
                        help="dev list file, evaluated after every epoch (default: a seeded 20%% of --train, "
                        "held out)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--out", type=Path, required=True,
                        help="checkpoint folder: model.safetensors + crnn_config.json (hub.Trainer's epochs in "
                        "OUT/trainer)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", default=None, help="start from this checkpoint instead of the shipped base CRNN")
    parser.add_argument("--from-scratch", action="store_true", help="start from random weights")
    parser.add_argument("--base-mix", type=float, default=1.0,
                        help="train on this many base-style rendered lines per line of yours, against forgetting "
                        "(default 1.0; 0 turns it off)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; the result is still printed")
    parser.set_defaults(func=_finetune)
