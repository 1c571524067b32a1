"""``paddle-course boston train|predict|compare|optimizers``: the Boston house-price lesson (course 1.3-1.5, 2)."""
from pathlib import Path

# lesson.IMPLEMENTATIONS, written here so that `--help` does not import the lesson
IMPLEMENTATIONS = ("numpy", "dygraph", "static")


def _batch_size(text):
    """``--batch-size`` takes a positive integer or ``full`` (full-batch gradient descent)."""
    if text.lower() in ("full", "none", "all"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--batch-size must be a positive integer or 'full', got {text!r}") from None
    if value <= 0:
        raise ValueError(f"--batch-size must be a positive integer or 'full', got {text!r}")
    return value


def _add_training_options(parser, default_batch="10"):
    parser.add_argument("--data", type=Path, default=None,
                        help="whitespace-separated table of 13 features + price (default: the shipped data/housing.data)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="passes over the training rows (default: 3000 for full batch, 300 for mini-batches)")
    parser.add_argument("--batch-size", default=default_batch, metavar="N|full",
                        help=f"mini-batch size, or 'full' for full-batch gradient descent (default: {default_batch})")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate eta (default: 0.5 for full batch, 0.05 for mini-batches)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the initial weights and the per-epoch shuffling (default: 0)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="Paddle parameter type (NumPy always uses float64; default: float32)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")


def register(subparsers):
    parser = subparsers.add_parser(
        "boston", help="Boston house prices: NumPy and PaddlePaddle (course 1.3-1.5), optimizers (course 2)",
        description="Boston house prices with a hand-written NumPy network and its PaddlePaddle rewrite "
        "(dynamic and static graph). All implementations start from the same weights and batches.")
    commands = parser.add_subparsers(dest="boston_command", metavar="SUBCOMMAND")
    commands.required = True

    train = commands.add_parser(
        "train", help="train one implementation and save it",
        description="Train the linear model with one implementation, save the weights, normalisation "
        "statistics, metrics, a loss-curve figure and (for all implementations) a paddle.jit.save "
        "inference model into --out.")
    train.add_argument("--impl", choices=IMPLEMENTATIONS, default="numpy",
                       help="numpy: the hand-written network; dygraph: paddle.nn.Layer; static: paddle.static Program")
    train.add_argument("--out", type=Path, default=Path("boston_model"), help="output folder (default: boston_model)")
    train.add_argument("--no-export", action="store_true",
                       help="skip the paddle.jit.save export (the NumPy lesson then never imports paddle)")
    _add_training_options(train)
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training with paddle.distributed (--impl dygraph only); start it with "
                       "`python -m paddle.distributed.launch --nproc_per_node 2 paddle-course boston train "
                       "--impl dygraph --distributed`; without the launcher it runs in one process")
    train.set_defaults(func=_train)

    predict = commands.add_parser(
        "predict", help="predict the test houses' prices with a saved model",
        description="Load a model saved by `boston train` (the paddle.jit.save export, or params.npz with "
        "--engine numpy), predict the held-out houses and print prices in $1000s next to the truth; "
        "saves predictions.png into the model folder.")
    predict.add_argument("--model", type=Path, default=Path("boston_model"), help="folder written by `boston train`")
    predict.add_argument("--engine", choices=("auto", "paddle", "numpy"), default="auto",
                         help="auto: the Paddle inference model if present, else NumPy weights")
    predict.add_argument("--data", type=Path, default=None, help="data table (default: the shipped one)")
    predict.add_argument("--show", type=int, default=10, help="how many houses to print (default: 10)")
    predict.set_defaults(func=_predict)

    compare = commands.add_parser(
        "compare", help="NumPy GD/SGD vs Paddle dynamic vs static vs the least-squares optimum",
        description="Train every implementation from the same initial weights and batch order and print "
        "(and save) a table against the closed-form least-squares optimum.")
    compare.add_argument("--out", type=Path, default=Path("boston_compare"), help="output folder")
    _add_training_options(compare)
    compare.set_defaults(func=_compare)

    optimizers = commands.add_parser(
        "optimizers", help="SGD, Momentum, Nesterov, Adagrad, Adadelta, RMSprop, Adam, AdamW on the NumPy network",
        description="Train the NumPy Network with each optimizer of paddle_course.boston.optim (NumPy versions of "
        "paddle.optimizer) from the same start and batches; save optimizers.png and a table "
        "(optimizers.md, optimizers.json) of epochs to 1.01x the least-squares optimum and final test MSE.")
    optimizers.add_argument("--out", type=Path, default=Path("boston_optimizers"), help="output folder")
    optimizers.add_argument("--epochs", type=int, default=200, help="epochs per optimizer (default: 200)")
    optimizers.add_argument("--seed", type=int, default=0, help="seed for the initial weights and shuffling")
    optimizers.add_argument("--data", type=Path, default=None, help="data table (default: the shipped one)")
    optimizers.add_argument("--quiet", action="store_true", help="no progress lines; the table is still printed")
    optimizers.set_defaults(func=_optimizers)


def _train(args):
    from paddle_course.boston import lesson

    run = lesson.train_and_save(args.out, args.impl, args.data, args.epochs, _batch_size(args.batch_size), args.lr,
                                args.seed, args.dtype, export=not args.no_export, distributed=args.distributed,
                                quiet=args.quiet)
    if run.out_dir is None:
        return 0  # a rank other than 0 of a data-parallel run: rank 0 reports
    result = run.result
    print(f"{run.label}: {result.epochs} epochs in {result.seconds:.2f} s ({result.seconds_per_epoch:.4f} s/epoch); "
          f"train MSE {result.train_mse:.5f} ({result.train_mse / run.optimum:.4f} x least-squares optimum), "
          f"test MSE {result.test_mse:.5f}")
    print(f"saved to {run.out_dir}/ ({', '.join(run.files)})")
    return 0


def _optimizers(args):
    from paddle_course.boston.optimizer_comparison import compare_optimizers

    compare_optimizers(args.out, args.epochs, args.seed, args.quiet, data_path=args.data)
    print((args.out / "optimizers.md").read_text(encoding="utf-8"), end="")  # the result, --quiet or not
    print(f"saved {args.out}/optimizers.md, optimizers.json, optimizers.png")
    return 0


def _predict(args):
    from paddle_course.boston import lesson

    predicted, true, mae, figure = lesson.predict_and_plot(args.model, args.data, args.engine)
    print(f"{'house':>5}  {'predicted':>10}  {'true':>8}   ($1000s)")
    for i, (p, t) in enumerate(zip(predicted[:args.show], true[:args.show])):
        print(f"{i:>5}  {p:>10.2f}  {t:>8.2f}")
    print(f"mean absolute error over {len(true)} test houses: {mae:.2f} ($1000s)")
    print(f"figure: {figure}")
    return 0


def _compare(args):
    from paddle_course.boston import lesson

    _, table = lesson.compare_and_save(args.out, args.data, args.epochs, _batch_size(args.batch_size), args.lr,
                                       args.seed, args.dtype, quiet=args.quiet)
    print(table)
    print(f"saved {args.out}/comparison.md, comparison.json, gd_vs_sgd.png")
    return 0
