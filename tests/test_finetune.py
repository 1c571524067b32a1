"""What the three fine-tune wrappers share: hub.Trainer checkpoints written atomically."""
import paddle
import pytest

from paddle_course.common.trainer import atomic_trainer


def test_an_interrupted_checkpoint_save_keeps_the_previous_one(tmp_path, monkeypatch):
    model = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path))
    epoch_dir = tmp_path / "epoch_1"
    trainer.save_model(str(epoch_dir))
    saved = paddle.load(str(epoch_dir / "model.pdparams"))

    with paddle.no_grad():
        model.weight.set_value(model.weight + 1.0)
    real_save = paddle.save

    def save_then_fail(obj, path, *args, **kwargs):
        if str(path).endswith(".pdopt"):
            raise OSError("disk full")  # the crash comes after model.pdparams was written
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(paddle, "save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        trainer.save_model(str(epoch_dir))
    monkeypatch.undo()

    again = paddle.load(str(epoch_dir / "model.pdparams"))
    assert (again["weight"].numpy() == saved["weight"].numpy()).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_1"]  # no half-written folder left
    assert sorted(p.name for p in epoch_dir.iterdir()) == ["model.pdopt", "model.pdparams"]


def test_the_trainer_class_is_shared():
    from paddle_course.common.trainer import hub_data_parallel_trainer

    assert atomic_trainer() is atomic_trainer()
    assert issubclass(hub_data_parallel_trainer(), atomic_trainer())
