"""``paddle-course finetune sentiment|pedestrian|ocr|waybill ...``: the Fine-tune API wrappers.

Each task's subcommand lives in ``paddle_course.cli.finetune_<task>`` and calls the
``finetune`` module of the task's package (course 3.3): ``paddle_course.sentiment.finetune``,
``paddle_course.detection.finetune``, ``paddle_course.ocr.finetune``.  The options every task
shares are added here (``--keep-epochs``).
"""
import importlib

TASKS = ("sentiment", "pedestrian", "ocr", "waybill")
KEEP_EPOCHS = 2  # common.trainer.KEEP_LAST_EPOCHS (not imported: --help stays free of PaddleHub)


def check_shared_options(args):
    """The numbers every fine-tune takes, checked before Paddle loads: ``--epochs`` and ``--batch-size``
    (whole numbers >= 1, when given), ``--lr`` (> 0, when given), ``--base-mix`` (>= 0) and
    ``--keep-epochs`` (a whole number >= 0)."""
    from paddle_course.common.inputs import non_negative_int, positive_int, positive_number

    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None:
            positive_int(option, value)
    if args.lr is not None:
        positive_number("--lr", args.lr)
    if args.base_mix < 0:
        raise ValueError(f"--base-mix must be 0 or more, got {args.base_mix}")
    non_negative_int("--keep-epochs", args.keep_epochs)


def register(subparsers):
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a course module on your own labelled data (PaddleHub Fine-tune API, course 3.3)",
        description="Fine-tune one of the course's PaddleHub modules on your own data with hub.Trainer. "
        "Progress and evaluation metrics are printed per epoch; the checkpoint can be loaded "
        "back into the same module call.",
    )
    tasks = parser.add_subparsers(dest="task", metavar="TASK")
    tasks.required = True
    for task in TASKS:
        try:
            module = importlib.import_module(f"paddle_course.cli.finetune_{task}")
        except ModuleNotFoundError as exc:  # a task not written yet
            if exc.name != f"paddle_course.cli.finetune_{task}":
                raise
            continue
        module.register(tasks)
    for task_parser in tasks.choices.values():
        task_parser.add_argument(
            "--keep-epochs", type=int, default=KEEP_EPOCHS, metavar="N",
            help=f"keep best_model/ and the last N epoch_N/ folders of the checkpoint folder (default {KEEP_EPOCHS}; "
            "0: best_model/ only, the folder can then not be resumed)")
