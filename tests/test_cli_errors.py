"""What a newcomer's mistakes get from the command line: an explanation, a suggestion, at once, no traceback."""
import subprocess
import sys

import pytest

from paddle_course.cli import main


@pytest.mark.parametrize("argv", [
    ["boston", "train", "--impl", "numpy", "--lr", "5", "--no-export"],
    ["boston", "train", "--impl", "numpy", "--lr", "5", "--batch-size", "full", "--no-export"],
    ["boston", "train", "--impl", "dygraph", "--lr", "5", "--epochs", "3", "--no-export"],
    ["boston", "train", "--impl", "static", "--lr", "5", "--epochs", "3", "--no-export"],
    ["boston", "compare", "--lr", "5", "--epochs", "5"],
])
def test_a_diverging_learning_rate_is_explained_not_a_traceback(argv, tmp_path, capsys):
    code = main([*argv, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert "training diverged" in err and "at epoch" in err
    assert "converges only for eta < 1.00" in err and "--lr 0.5 or smaller" in err


def test_the_diverged_error_is_a_value_error_with_the_numbers():
    from paddle_course.boston.data import load_data
    from paddle_course.boston.diverged import DivergedError, gd_stable_limit
    from paddle_course.boston.numpy_net import Network

    training_data, _ = load_data()
    with pytest.raises(DivergedError) as caught:
        Network(13, seed=0).train(training_data, 300, None, 5.0)
    assert isinstance(caught.value, ValueError)
    assert caught.value.learning_rate == 5.0 and caught.value.epoch > 0
    # the limit is real: just below it GD converges, just above it diverges
    limit = gd_stable_limit(training_data)
    assert abs(limit - 1.0) < 1e-6
    Network(13, seed=0).train(training_data, 3000, None, 0.95 * limit)
    with pytest.raises(DivergedError):
        Network(13, seed=0).train(training_data, 3000, None, 1.1 * limit)


@pytest.mark.parametrize("argv, message", [
    (["detect", "runn", "street.jpg"], "unknown action 'runn'; did you mean 'run'?"),
    (["ocr", "wayblil", "waybill.png"], "unknown action 'wayblil'; did you mean 'waybill'?"),
    (["boston", "trian"], "unknown action 'trian'; did you mean 'train'?"),
    (["finetune", "sentimnet", "--train", "x.tsv"], "unknown task 'sentimnet'; did you mean 'sentiment'?"),
    (["tuor"], "unknown command 'tuor'; did you mean 'tour'?"),
    (["boston", "train", "--impl", "nump"], "invalid choice: 'nump'; did you mean 'numpy'?"),
])
def test_a_misspelt_action_gets_the_closest_one(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_named_like_an_action_is_still_a_missing_file(capsys):
    assert main(["detect", "run.jpg"]) == 2
    assert "run.jpg: image file not found" in capsys.readouterr().err


def test_detect_on_a_folder_reads_the_images_inside(tmp_path, capsys):
    from paddle_course.common.images import save_image
    from paddle_course.detection.synthetic import render_scene
    import numpy as np

    rng = np.random.default_rng(5)
    for name in ("a.jpg", "b.png"):
        save_image(render_scene(rng)[0], tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    assert main(["detect", str(tmp_path), "--detector", "paddle"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a.jpg'}:" in out and f"{tmp_path / 'b.png'}:" in out and "notes.txt" not in out


QUICK_MISTAKES = [
    (["ocr", "run", "missing.png"], "missing.png: image file not found"),
    (["ocr", "waybill", "missing.png"], "missing.png: image file not found"),
    (["ocr", "run", "."], ".: a folder with no image files"),
    (["detect", "run", "missing.jpg"], "missing.jpg: image file not found"),
    (["detect", "evaluate", "--voc", "missing_voc"], "missing_voc: VOC folder not found"),
    (["sentiment", "predict", "好", "--checkpoint", "missing_ckpt"], "checkpoint missing_ckpt: no such file"),
    (["sentiment", "evaluate", "--split", "missing.tsv"], "missing.tsv: no such TSV file"),
    (["finetune", "sentiment", "--train", "missing.tsv", "--out", "x"], "missing.tsv: no such TSV file"),
    (["finetune", "sentiment", "--train", "setup.py", "--epochs", "0", "--out", "x"],
     "--epochs must be a positive integer, got 0"),
    (["finetune", "ocr", "--train", "missing.txt", "--out", "x"], "missing.txt: no such label file"),
    (["finetune", "pedestrian", "--train", "missing_voc", "--out", "x"], "missing_voc: VOC folder not found"),
    (["finetune", "pedestrian", "--train", ".", "--lr", "0", "--out", "x"], "--lr must be a positive number"),
]


@pytest.mark.parametrize("argv, message", QUICK_MISTAKES)
def test_simple_mistakes_are_answered_before_paddle_or_opencv_load(argv, message):
    """A missing file or a bad number is found with pathlib alone: no Paddle, OpenCV or model is loaded first."""
    code = ("import sys\nfrom paddle_course.cli import main\n"
            f"code = main({argv!r})\n"
            "print(code, sorted(m for m in ('cv2', 'paddle', 'paddlehub', 'onnxruntime', 'matplotlib') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "2 []", result.stdout[-500:] + result.stderr[-2000:]
    assert message in result.stderr and "Traceback" not in result.stderr
