"""The boston CLI and the tour: thin commands that run and save what they say."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from paddle_course.cli import main


def test_train_then_predict(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["boston", "train", "--impl", "static", "--epochs", "5", "--out", str(out), "--quiet"]) == 0
    for name in ("params.npz", "stats.json", "metrics.json", "loss.png", "inference"):
        assert (out / name).exists(), name
    assert json.loads((out / "metrics.json").read_text())["impl"] == "static"
    assert main(["boston", "predict", "--model", str(out), "--show", "2"]) == 0
    text = capsys.readouterr().out
    assert "mean absolute error over 102 test houses" in text
    assert (out / "predictions.png").stat().st_size > 1000


def test_numpy_training_without_export_never_needs_paddle(tmp_path):
    code = ("import sys; from paddle_course.cli import main; "
            f"rc = main(['boston','train','--epochs','3','--no-export','--quiet','--out',{str(tmp_path)!r}]); "
            "assert 'paddle' not in sys.modules, 'paddle was imported'; sys.exit(rc)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


@pytest.mark.parametrize("argv, message", [
    (["boston", "train", "--batch-size", "0"], "--batch-size must be a positive integer or 'full'"),
    (["boston", "train", "--lr", "-1", "--epochs", "1", "--no-export"], "eta must be a positive"),
    (["boston", "predict", "--model", "no/such/dir"], "not a saved model"),
    (["boston", "train", "--data", "no/such/file.data"], "no such data file"),
])
def test_bad_arguments_give_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["boston", "train", "--help"])
    text = capsys.readouterr().out
    for option in ("--impl", "--epochs", "--batch-size", "--lr", "--seed", "--out"):
        assert option in text


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "paddle_course", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "tour" in result.stdout


@pytest.mark.slow
def test_compare_writes_table_and_figure(tmp_path, capsys):
    assert main(["boston", "compare", "--epochs", "30", "--out", str(tmp_path), "--quiet"]) == 0
    table = (tmp_path / "comparison.md").read_text()
    assert "closed form (lstsq)" in table and "Paddle static" in table
    assert (tmp_path / "gd_vs_sgd.png").exists()


@pytest.mark.slow
def test_tour_boston_lesson_reaches_the_optimum_and_saves_figures(tmp_path):
    from paddle_course.tour import run_tour

    summary = run_tour(tmp_path, quiet=True, skip_hub=True)
    lesson = summary["boston"]
    assert lesson["gd_ratio"] <= 1.01 and lesson["sgd_ratio"] <= 1.01
    assert max(lesson["paddle_vs_numpy_max_abs_diff"].values()) < 1e-5
    for name in lesson["figures"]:
        assert (tmp_path / name).stat().st_size > 1000
    assert json.loads((tmp_path / "summary.json").read_text())["boston"]["gd_ratio"] == lesson["gd_ratio"]


@pytest.mark.slow
def test_tour_runs_the_three_hub_demos_and_saves_their_pictures(tmp_path):
    from paddle_course.tour import run_tour

    summary = run_tour(tmp_path, quiet=True)
    assert {"boston", "sentiment", "detection", "ocr"} <= set(summary)
    assert (tmp_path / "sentiment_demo.png").is_file()
    assert list(tmp_path.glob("pedestrian_paddle_*.jpg")) and Path(summary["ocr"]["save_path"]).is_file()
    assert summary["ocr"]["fields"]["phone"] == summary["ocr"]["expected"]["phone"]
    assert json.loads((tmp_path / "summary.json").read_text())["seconds"] > 0
