"""``paddle-course`` / ``python -m paddle_course``: one command line for the whole course.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; a subcommand only parses its arguments, calls one
library function and prints what it returns, so everything the CLI does can also
be done from Python.  Registering imports nothing heavy (no OpenCV, matplotlib,
Paddle, NumPy): the library is imported inside each handler, so ``--help`` and an
argument error answer at once (``tests/test_cli.py`` checks it).
"""
import argparse
import difflib
import importlib
import sys

from paddle_course.common.progress import quiet_library_noise

# (module in paddle_course.cli, one line for --help), in the order of the course
COMMAND_MODULES = (
    "samples",
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


# What the library raises for a learner's mistake (a missing or malformed file, a bad value, a
# diverging learning rate -- ``boston.diverged.DivergedError`` is a ValueError): printed as the
# message alone, exit code 2.  Anything else is a bug and keeps its traceback.
USER_ERRORS = (CourseError, ValueError, OSError)


class CourseArgumentParser(argparse.ArgumentParser):
    """argparse that answers a misspelt subcommand or choice with the closest one (``difflib``)."""

    def _check_value(self, action, value):
        if action.choices is None or value in action.choices:
            return super()._check_value(action, value)
        choices = [str(choice) for choice in action.choices]
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if isinstance(action, argparse._SubParsersAction):
            kind = {"subcommand": "action"}.get((action.metavar or "command").lower(), (action.metavar or "").lower())
            self.error(f"unknown {kind} {value!r}{hint} (choose from {', '.join(choices)})")
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {', '.join(choices)})")


def build_parser():
    parser = CourseArgumentParser(
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
    """Insert a group's default action when the word after the group is not one of its actions.

    A word that is no file and looks like a misspelt action (``detect runn``, ``ocr wayblil``) is
    left alone, so that the parser answers "unknown action 'runn'; did you mean 'run'?".
    """
    if len(argv) < 2 or argv[0] not in DEFAULT_ACTIONS or argv[1].startswith("-"):
        return argv
    group = next(action for action in parser._subparsers._group_actions if action.dest == "command")
    actions = next(a for a in group.choices[argv[0]]._subparsers._group_actions).choices
    if argv[1] in actions or _looks_like_misspelt_action(argv[1], actions):
        return argv
    return [argv[0], DEFAULT_ACTIONS[argv[0]], *argv[1:]]


def _looks_like_misspelt_action(word, actions):
    from pathlib import Path

    if "." in word or "/" in word or "\\" in word or Path(word).exists():
        return False  # a file name (existing or not) is the default action's argument
    return bool(difflib.get_close_matches(word, list(actions), n=1))


def main(argv=None):
    quiet_library_noise()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_with_default_action(parser, argv))
    try:
        result = args.func(args)
    except USER_ERRORS as exc:
        print(f"paddle-course {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
