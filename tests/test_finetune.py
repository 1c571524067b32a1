"""What the three fine-tune wrappers share: hub.Trainer checkpoints written atomically."""
import paddle
import pytest

from paddle_course.common import trainer as trainer_module
from paddle_course.common.safe_weights import load_state
from paddle_course.common.trainer import atomic_trainer


def test_an_interrupted_checkpoint_save_keeps_the_previous_one(tmp_path, monkeypatch):
    model = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path))
    epoch_dir = tmp_path / "epoch_1"
    trainer.save_model(str(epoch_dir))
    saved = load_state(epoch_dir / "model.safetensors")

    with paddle.no_grad():
        model.weight.set_value(model.weight + 1.0)

    def fail(*args, **kwargs):
        raise OSError("disk full")  # the crash comes after model.safetensors was written

    monkeypatch.setattr(trainer_module, "save_optimizer_state", fail)
    with pytest.raises(OSError, match="disk full"):
        trainer.save_model(str(epoch_dir))
    monkeypatch.undo()

    again = load_state(epoch_dir / "model.safetensors")
    assert (again["weight"] == saved["weight"]).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_1"]  # no half-written folder left
    assert sorted(p.name for p in epoch_dir.iterdir()) == ["model.safetensors", "optimizer.json",
                                                            "optimizer.safetensors"]


def test_the_trainer_class_is_shared():
    from paddle_course.common.trainer import hub_data_parallel_trainer

    assert atomic_trainer() is atomic_trainer()
    assert issubclass(hub_data_parallel_trainer(), atomic_trainer())
