"""``paddle-course finetune waybill``: fine-tune the waybill labeller on JSONL (text + name/phone/address)."""
from pathlib import Path

from paddle_course.cli.finetune import check_shared_options
from paddle_course.common.inputs import existing_file


def _finetune(args):
    existing_file(args.train, "JSONL file")  # a typo is answered before Paddle loads
    if args.dev is not None:
        existing_file(args.dev, "JSONL file")
    check_shared_options(args)
    from paddle_course.ocr.waybill.finetune import finetune

    result = finetune(args.train, args.dev, out_dir=args.out, epochs=args.epochs, batch_size=args.batch_size,
                      learning_rate=args.lr, seed=args.seed, base_mix=args.base_mix, quiet=args.quiet,
                      keep_epochs=args.keep_epochs)
    print("\n".join(result["report"].lines()))
    for when in ("before", "after"):
        acc = result[when]
        print(f"  dev {when:6s} per field: name {acc['name']:.4f}  phone {acc['phone']:.4f}  "
              f"address {acc['address']:.4f}")


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "waybill",
        help="fine-tune the waybill labeller (BiGRU-CRF) on JSONL waybills",
        description="Start from the shipped waybill labeller and train on your waybills with hub.Trainer. "
        "Files are JSONL, one object per line: {\"text\": ..., \"name\": ..., \"phone\": ..., \"address\": ...} "
        "(each field as printed in the text, or null). Without --dev a seeded fifth of --train is held out. "
        "The best dev epoch is kept (the shipped weights count as epoch 0); dev accuracy and the base task "
        "(the hand-written waybills of data/waybill) are printed before and after; against forgetting, "
        "generator waybills are mixed into training (--base-mix). "
        "Use the result with `WaybillLabeller(OUT)` from paddle_course.ocr.waybill.predict.",
    )
    parser.add_argument("--train", type=Path, required=True, help="training JSONL file")
    parser.add_argument("--dev", type=Path, default=None,
                        help="dev JSONL file (default: a seeded 20%% of --train, held out)")
    parser.add_argument("--out", type=Path, required=True, help="output folder: model.safetensors, config.json, "
                        "vocab.jsonl")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-mix", type=float, default=1.0,
                        help="train on this many generator waybills per waybill of yours, against forgetting "
                        "(default 1.0; 0 turns it off)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; the result is still printed")
    parser.set_defaults(func=_finetune)
