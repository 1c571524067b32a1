"""``paddle-course finetune waybill``: fine-tune the waybill labeller on JSONL (text + name/phone/address)."""
import json


def _finetune(args):
    from paddle_course.ocr.waybill.finetune import finetune

    report = finetune(args.train, args.dev, out_dir=args.out, epochs=args.epochs, batch_size=args.batch_size,
                      learning_rate=args.lr, seed=args.seed)
    for when in ("before", "after"):
        acc = report[when]
        print(f"dev {when}: name {acc['name']:.3f}  phone {acc['phone']:.3f}  address {acc['address']:.3f}  "
              f"all three {acc['all']:.3f}  (n={acc['n']})")
    print(json.dumps(report, ensure_ascii=False))


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "waybill",
        help="fine-tune the waybill labeller (BiGRU-CRF) on JSONL waybills",
        description="Start from the shipped waybill labeller and train on your waybills with hub.Trainer. "
        "Files are JSONL, one object per line: {\"text\": ..., \"name\": ..., \"phone\": ..., \"address\": ...} "
        "(each field as printed in the text, or null). Dev field accuracy is printed before and after. "
        "Use the result with `WaybillLabeller(OUT)` from paddle_course.ocr.waybill.predict.",
    )
    parser.add_argument("--train", required=True, help="training JSONL file")
    parser.add_argument("--dev", required=True, help="dev JSONL file")
    parser.add_argument("--out", required=True, help="output folder: model.safetensors, config.json, vocab.jsonl")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_finetune)
