"""The command line as a whole: every group registers, and the course's short spellings work."""
import subprocess
import sys

import pytest

from paddle_course.cli import COMMAND_MODULES, _with_default_action, build_parser, main


def test_every_command_group_is_registered():
    parser = build_parser()
    group = next(action for action in parser._subparsers._group_actions if action.dest == "command")
    assert list(group.choices) == list(COMMAND_MODULES)


@pytest.mark.parametrize("argv, expected", [
    (["detect", "street.jpg"], ["detect", "run", "street.jpg"]),
    (["ocr", "a.png", "b.png", "--json"], ["ocr", "run", "a.png", "b.png", "--json"]),
    (["ocr", "waybill", "a.png"], ["ocr", "waybill", "a.png"]),       # a named action is kept
    (["detect", "evaluate"], ["detect", "evaluate"]),
    (["ocr", "--help"], ["ocr", "--help"]),                           # the group's own help
    (["boston", "train"], ["boston", "train"]),                       # groups without a default
])
def test_detect_and_ocr_default_to_run(argv, expected):
    assert _with_default_action(build_parser(), argv) == expected


def test_ocr_image_reads_the_text(tmp_path, capsys):
    image = tmp_path / "waybill.png"
    assert main(["ocr", "sample", str(image), "--seed", "3"]) == 0
    assert main(["ocr", str(image), "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "收件人" in out and "(not saved)" in out


HEAVY = ("cv2", "matplotlib", "paddle", "paddlehub", "numpy", "tqdm")


@pytest.mark.parametrize("argv, heavy", [
    (["--help"], HEAVY), (["detect", "--help"], HEAVY), (["boston", "--bogus"], HEAVY),
    (["sentiment", "predict", "--help"], HEAVY), (["serve", "--help"], HEAVY),
    (["detect", "runn", "x.jpg"], ("cv2", "matplotlib", "paddle", "paddlehub")),  # a missing image: no OpenCV
])
def test_help_and_argument_errors_import_no_heavy_library(argv, heavy):
    """`--help` and a mistyped command answer at once: the parser is built from cheap modules only."""
    code = ("import sys\nfrom paddle_course.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout[-500:] + result.stderr[-2000:]


def test_the_boston_cli_offers_every_implementation_of_the_lesson():
    from paddle_course.boston import lesson
    from paddle_course.cli import boston as boston_cli

    assert boston_cli.IMPLEMENTATIONS == lesson.IMPLEMENTATIONS
