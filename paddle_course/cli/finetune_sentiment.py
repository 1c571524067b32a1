"""``paddle-course finetune sentiment``: fine-tune course_sentiment on your own text<TAB>label files."""
from pathlib import Path

from paddle_course.cli.finetune import check_shared_options
from paddle_course.common.inputs import existing_file, positive_int

TSV = "TSV file (lines text<TAB>label)"


def _find_weights(checkpoint):
    """The weights file a checkpoint argument means, or FileNotFoundError (common.checkpoints loads numpy: not on --help)."""
    from paddle_course.common.checkpoints import find_weights

    return find_weights(checkpoint)


def _finetune(args):
    existing_file(args.train, TSV)  # a typo is answered before Paddle loads
    if args.dev is not None:
        existing_file(args.dev, TSV)
    if args.init is not None:
        _find_weights(args.init)
    check_shared_options(args)
    positive_int("--log-interval", args.log_interval)
    from paddle_course.sentiment.finetune import finetune

    result = finetune(args.train, args.dev, out_dir=args.out, init=args.init or "shipped", epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, seed=args.seed, quiet=args.quiet,
                      log_interval=args.log_interval, distributed=args.distributed, base_mix=args.base_mix,
                      keep_epochs=args.keep_epochs)
    if result["report"] is not None:  # rank 0 of a data-parallel run reports
        print("\n".join(result["report"].lines()))


def register(task_subparsers):
    parser = task_subparsers.add_parser(
        "sentiment",
        help="fine-tune the course_sentiment module on text<TAB>label files",
        description="Start from the shipped course_sentiment weights and train on your TSV files "
        "(lines text<TAB>label, 1 positive, 0 negative; optional header text<TAB>label) with hub.Trainer. "
        "Without --dev a seeded fifth of --train is held out as dev. Loss is printed every --log-interval steps and "
        "dev accuracy after every epoch; the best dev epoch is kept (the start counts), and accuracy on dev and on "
        "the shipped model's own dev reviews is printed before and after; against forgetting, reviews of the shipped "
        "model's training data are mixed in (--base-mix). Load the result with "
        "hub.Module(name=\"course_sentiment\", checkpoint=OUT) or `paddle-course sentiment predict --checkpoint OUT`.",
    )
    parser.add_argument("--train", type=Path, required=True, help="training TSV file")
    parser.add_argument("--dev", type=Path, default=None,
                        help="dev TSV file, evaluated after every epoch (default: a seeded 20%% of --train, held out)")
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
    parser.add_argument("--base-mix", type=float, default=1.0,
                        help="train on this many reviews of the shipped model's own training data per text of yours, "
                        "against forgetting (default 1.0; 0 turns it off)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; the result is still printed")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel training with paddle.distributed (gloo on CPU); start it with "
                        "`python -m paddle.distributed.launch --nproc_per_node 2 $(which paddle-course) finetune "
                        "sentiment --distributed ...`; same global batch and final weights as one process, only "
                        "rank 0 writes OUT; without the launcher it runs in one process")
    parser.set_defaults(func=_finetune)
