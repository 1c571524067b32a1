"""The command line as a whole: every group registers, and the course's short spellings work."""
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
