"""Every fine-tune measures before and after on data it did not train on, keeps the best dev epoch (the start
included), reports the number the trainer logged, and never claims to start from scratch when it does not."""
import json

import numpy as np
import pytest

from paddle_course.cli import main as cli_main
from paddle_course.common.finetune_report import FinetuneReport, hold_out


def test_hold_out_is_seeded_disjoint_and_never_empty():
    items = list(range(50))
    train, dev = hold_out(items, seed=3)
    assert len(dev) == 10 and sorted(train + dev) == items and not set(train) & set(dev)
    assert hold_out(items, seed=3) == (train, dev) and hold_out(items, seed=4) != (train, dev)
    assert [len(part) for part in hold_out([1, 2], seed=0)] == [1, 1]
    with pytest.raises(ValueError, match="give a dev file"):
        hold_out([1], seed=0)


def test_the_report_says_when_the_start_was_kept_and_calls_out_forgetting():
    report = FinetuneReport("m", "the shipped weights", "dev.tsv", 3, 0, "ckpt", "load it", 1.0)
    report.measure("your task", "10 dev texts", "accuracy", 0.8, 0.8)
    report.measure("base task", "100 reviews", "accuracy", 0.9, 0.8)
    text = "\n".join(report.lines())
    assert "kept the starting weights (epoch 0)" in text
    assert "0.9000 -> 0.8000" in text and "warning: the base task lost 0.1000 accuracy" in text


class _Linear:
    """A one-weight model and data on which every epoch makes the dev metric worse."""

    @staticmethod
    def make():
        import paddle

        class Model(paddle.nn.Layer):
            def __init__(self):
                super().__init__()
                self.fc = paddle.nn.Linear(1, 1)

            def training_step(self, batch, batch_idx):
                x, y = batch
                return {"loss": paddle.mean((self.fc(x) - y) ** 2)}

            def validation_step(self, batch, batch_idx):
                return {"metrics": {"score": 0.0}}

        paddle.seed(0)
        return Model()


def test_the_trainer_keeps_the_start_when_no_epoch_beats_it_and_does_not_claim_scratch(tmp_path, monkeypatch):
    import paddle
    from paddlehub.utils.log import logger

    from paddle_course.common.safe_weights import load_state
    from paddle_course.common.trainer import atomic_trainer, train_keeping_best

    said = []
    for level in ("info", "warning", "eval"):
        monkeypatch.setattr(logger, level, lambda message, _level=level: said.append((_level, message)))
    model = _Linear.make()
    start = model.fc.weight.numpy().copy()
    x = np.linspace(-1, 1, 32, dtype="float32")[:, None]
    data = [(row, 3 * row + 1) for row in x]
    # the dev metric rewards staying where the model started: every step of training lowers it
    metric = lambda layer: {"score": -float(np.abs(layer.fc.weight.numpy() - start).sum())}  # noqa: E731
    optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path), dev_metric=metric)
    train_keeping_best(trainer, data, data, epochs=2, batch_size=8, log_interval=100)
    assert trainer.best_epoch == 0 and [epoch for epoch, _ in trainer.dev_history] == [0, 1, 2]
    kept = load_state(tmp_path / "best_model" / "model.safetensors")
    np.testing.assert_array_equal(kept["fc.weight"], start)
    assert json.loads((tmp_path / "best_epoch.json").read_text())["best_epoch"] == 0
    messages = " ".join(message for _, message in said)
    assert "start from scratch" not in messages and "training starts from the model's current weights" in messages


@pytest.fixture(scope="module")
def slang_tsv(tmp_path_factory):
    from paddle_course.sentiment.samples import slang_reviews

    folder = tmp_path_factory.mktemp("slang")
    path = folder / "train.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{label}\n" for t, label in slang_reviews(80, seed=1)),
                    encoding="utf-8")
    return path


def test_sentiment_without_dev_holds_out_and_reports_the_logged_number_even_when_quiet(slang_tsv, tmp_path, capsys):
    assert cli_main(["finetune", "sentiment", "--train", str(slang_tsv), "--epochs", "2", "--lr", "2e-3",
                     "--out", str(tmp_path / "ckpt"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "16 of the 80 examples" in out and "never trained on" in out
    report = json.loads((tmp_path / "ckpt" / "finetune_report.json").read_text())
    logged = json.loads((tmp_path / "ckpt" / "best_epoch.json").read_text())["metrics"]["acc"]
    dev, base = report["measures"]
    assert dev["after"] == pytest.approx(logged, abs=1e-12) and f"{logged:.4f}" in out
    assert dev["after"] >= dev["before"]  # the start is kept if no epoch beats it
    assert base["task"] == "base task" and "sentiment_reviews/dev.tsv" in base["data"]
    assert "checkpoint:" in out and str(tmp_path / "ckpt") in out


@pytest.mark.slow
def test_pedestrian_reports_the_map_that_detect_evaluate_measures(tmp_path):
    from paddle_course.detection.evaluate import evaluate_detector
    from paddle_course.detection.finetune import finetune
    from paddle_course.detection.synthetic import make_synthetic_voc
    from paddle_course.detection.voc import load_voc

    voc = make_synthetic_voc(tmp_path / "voc", num_images=30, seed=11)
    summary = finetune(voc, out_dir=tmp_path / "ckpt", epochs=2, batch_size=8, lr=2e-4, seed=0, quiet=True)
    logged = json.loads((tmp_path / "ckpt" / "best_epoch.json").read_text())["metrics"]["map50"]
    measured = evaluate_detector("paddle", samples=load_voc(voc, "val"), checkpoint=summary["checkpoint"])["map50"]
    assert summary["dev_map50"] == pytest.approx(logged, abs=1e-12) == pytest.approx(measured, abs=1e-12)
    assert summary["dev_map50"] >= summary["before_map50"]
    assert summary["report"].measures[1].task == "base task"


@pytest.mark.slow
def test_ocr_without_dev_holds_out_mixes_the_base_lines_and_reports_the_base_task(tmp_path):
    from paddle_course.ocr.finetune import finetune
    from paddle_course.ocr.lines import write_rendered_dataset

    train = write_rendered_dataset(tmp_path / "lines", n=40, seed=1, font_style="serif", kind="digits", noisy=True)
    result = finetune(train, None, out_dir=tmp_path / "ckpt", epochs=1, batch_size=16, seed=0, quiet=True)
    report = result["report"]
    assert "8 of the 40 examples" in report.dev and result["after"]["lines"] == 8
    assert any("32 lines rendered like the base's own training data" in note for note in report.notes)
    base = report.measures[-1]
    assert base.task == "base task" and base.before >= 0.95
    assert result["after"]["acc"] >= result["before"]["acc"]
