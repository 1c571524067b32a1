"""``paddle-course finetune ocr``: fine-tune the CRNN recognizer on image<TAB>text list files."""
from pathlib import Path


def _finetune(args):
    from paddle_course.ocr.finetune import finetune

    finetune(args.train, args.dev, out_dir=args.out, init=None if args.from_scratch else (args.init or "shipped"),
             epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, quiet=args.quiet)


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "ocr",
        help="fine-tune the OCR line recognizer (CRNN + CTC) on image<TAB>text files",
        description="Start from the shipped base CRNN and train on your text-line images with hub.Trainer. "
        "List files use PaddleOCR's rec format: one 'image_path<TAB>transcription' per line, paths relative "
        "to the list file. Accuracy on --dev is printed before and after. Use the result with "
        "hub.Module(name='course_ocr', checkpoint=OUT) or `paddle-course ocr run --checkpoint OUT`. "
        "Try it: paddle-course ocr sample-lines d/train --font serif --kind digits --noisy",
    )
    parser.add_argument("--train", type=Path, required=True, help="training list file")
    parser.add_argument("--dev", type=Path, default=None, help="dev list file, evaluated after every epoch")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--out", type=Path, required=True,
                        help="checkpoint folder: model.pdparams + crnn_config.json (hub.Trainer's epochs in OUT/trainer)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", default=None, help="start from this checkpoint instead of the shipped base CRNN")
    parser.add_argument("--from-scratch", action="store_true", help="start from random weights")
    parser.add_argument("--quiet", action="store_true")
    parser.set_defaults(func=_finetune)
