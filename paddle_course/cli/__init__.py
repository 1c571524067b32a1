"""``paddle-course`` / ``python -m paddle_course``: one command line for the whole course.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; a subcommand only parses its arguments, calls one
library function and prints what it returns, so everything the CLI does can also
be done from Python.  Registering imports nothing heavy (no OpenCV, matplotlib,
Paddle, NumPy): the library is imported inside each handler, so ``--help`` and an
argument error answer at once (``tests/test_cli.py`` checks it).
"""
import argparse
import importlib
import sys

from paddle_course.common.progress import quiet_library_noise

# (module in paddle_course.cli, one line for --help), in the order of the course
COMMAND_MODULES = (
    "tour",
    "boston",
    "homework",
    "sentiment",
    "detect",
    "ocr",
    "waybill",
    "finetune",
    "serve",
    "app",
    "hub",
)


# `paddle-course detect street.jpg` means `paddle-course detect run street.jpg` (the course's
# own spelling of these commands); the other actions of these groups are still available by name.
DEFAULT_ACTIONS = {"detect": "run", "ocr": "run"}


class CourseError(Exception):
    """An error meant for the user: printed as one line, exit code 2."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="paddle-course",
        description="The PaddlePaddle course, runnable offline: Boston house prices in NumPy and "
        "PaddlePaddle, homework with an autograder, and PaddleHub modules for sentiment, "
        "pedestrian detection and OCR.",
        epilog="Start with `paddle-course tour`. Every subcommand has its own --help.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"paddle_course.cli.{name}").register(subparsers)
    return parser


def _with_default_action(parser, argv):
    """Insert a group's default action when the word after the group is not one of its actions."""
    if len(argv) < 2 or argv[0] not in DEFAULT_ACTIONS or argv[1].startswith("-"):
        return argv
    group = next(action for action in parser._subparsers._group_actions if action.dest == "command")
    actions = next(a for a in group.choices[argv[0]]._subparsers._group_actions).choices
    return argv if argv[1] in actions else [argv[0], DEFAULT_ACTIONS[argv[0]], *argv[1:]]


def main(argv=None):
    quiet_library_noise()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_with_default_action(parser, argv))
    try:
        result = args.func(args)
    except (CourseError, ValueError, FileNotFoundError) as exc:
        print(f"paddle-course {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
