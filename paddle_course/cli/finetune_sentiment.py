"""``paddle-course finetune sentiment``: fine-tune course_sentiment on your own text<TAB>label files."""
from pathlib import Path


def _finetune(args):
    from paddle_course.sentiment.finetune import finetune

    finetune(args.train, args.dev, out_dir=args.out, init=args.init or "shipped", epochs=args.epochs,
             batch_size=args.batch_size, lr=args.lr, seed=args.seed, quiet=args.quiet,
             log_interval=args.log_interval, distributed=args.distributed)


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "sentiment",
        help="fine-tune the course_sentiment module on text<TAB>label files",
        description="Start from the shipped course_sentiment weights and train on your TSV files "
        "(lines text<TAB>label, 1 positive, 0 negative; optional header text<TAB>label) with hub.Trainer. "
        "Loss is printed every --log-interval steps and dev accuracy after every epoch. Load the result with "
        "hub.Module(name=\"course_sentiment\", checkpoint=OUT) or `paddle-course sentiment predict --checkpoint OUT`.",
    )
    parser.add_argument("--train", type=Path, required=True, help="training TSV file")
    parser.add_argument("--dev", type=Path, default=None, help="dev TSV file, evaluated after every epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="texts per step (default 32); with --distributed the global batch, split evenly "
                        "over the processes")
    parser.add_argument("--lr", type=float, default=5e-4, help="Adam learning rate (default 5e-4)")
    parser.add_argument("--out", type=Path, required=True,
                        help="checkpoint folder (epoch_N/, best_model/); an existing one is resumed by hub.Trainer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", default=None, help="start from these weights instead of the shipped ones")
    parser.add_argument("--log-interval", type=int, default=10, help="print the loss every N steps")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel training with paddle.distributed (gloo on CPU); start it with "
                        "`python -m paddle.distributed.launch --nproc_per_node 2 $(which paddle-course) finetune "
                        "sentiment --distributed ...`; same global batch and final weights as one process, only "
                        "rank 0 writes OUT; without the launcher it runs in one process")
    parser.set_defaults(func=_finetune)
