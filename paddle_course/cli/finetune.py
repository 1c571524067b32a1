"""``paddle-course finetune sentiment|pedestrian|ocr|waybill ...``: the Fine-tune API wrappers.

Each task's subcommand lives in ``paddle_course.cli.finetune_<task>`` and calls the
``finetune`` module of the task's package (course 3.3): ``paddle_course.sentiment.finetune``,
``paddle_course.detection.finetune``, ``paddle_course.ocr.finetune``.
"""
import importlib

TASKS = ("sentiment", "pedestrian", "ocr", "waybill")


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
