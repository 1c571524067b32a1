"""Model files cannot run code (issue 14): every weights file a user hands in is read by the
restricted unpickler and refused, naming the file, before anything in it runs; fine-tune
folders keep the best and the last N epochs; the Boston loader streams its table."""
import os
import pickle
import resource
import subprocess
import sys
import textwrap

import numpy as np
import paddle
import pytest

from paddle_course.boston.data import load_data
from paddle_course.common.checkpoints import UnsafeWeightsError, load_state
from paddle_course.common.trainer import atomic_trainer, prune_epochs


class _Marker:
    """A pickle whose loading would create ``path`` (what a crafted checkpoint does)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "marker"


def _crafted(path, marker, around=None):
    """Write a pickle at ``path`` holding the marker payload (inside ``around`` if given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _Marker(marker)
    with open(path, "wb") as file:
        pickle.dump(around(payload) if around else payload, file, protocol=2)
    return path


def _sentiment_checkpoint_dir(tmp_path, marker):
    """A checkpoint folder like `finetune sentiment --out`, whose model.pdparams is crafted."""
    from paddle_course.sentiment.model import shipped_model_dir

    folder = tmp_path / "ckpt"
    folder.mkdir()
    for name in ("vocab.json", "config.json"):
        (folder / name).write_bytes((shipped_model_dir() / name).read_bytes())
    _crafted(folder / "model.pdparams", marker, around=lambda p: {"embedding.weight": p})
    return folder


def test_sentiment_predict_refuses_a_crafted_checkpoint(tmp_path, marker, capsys):
    from paddle_course.cli import main

    folder = _sentiment_checkpoint_dir(tmp_path, marker)
    assert main(["sentiment", "predict", "--checkpoint", str(folder), "a good film"]) == 2
    err = capsys.readouterr().err
    assert str(folder / "model.pdparams") in err and "nothing in it was run" in err
    assert not marker.exists()


def test_hub_module_refuses_a_crafted_checkpoint(tmp_path, marker):
    from paddle_course.common.hub import load_module

    folder = _sentiment_checkpoint_dir(tmp_path, marker)
    with pytest.raises(UnsafeWeightsError, match="model.pdparams"):
        load_module("course_sentiment", checkpoint=str(folder))
    assert not marker.exists()


def test_finetune_init_refuses_a_crafted_file_before_writing_anything(tmp_path, marker, capsys):
    from paddle_course.cli import main

    init = _crafted(tmp_path / "evil.pdparams", marker)
    out = tmp_path / "out"
    code = main(["finetune", "sentiment", "--train", "data/sentiment/dev.tsv", "--out", str(out),
                 "--init", str(init), "--epochs", "1", "--quiet"])
    assert code == 2
    assert str(init) in capsys.readouterr().err
    assert not marker.exists() and not out.exists()


def _resumable_folder(tmp_path):
    """A hub.Trainer folder with one real epoch saved by the course's trainer."""
    paddle.seed(0)
    model = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=model.parameters())
    model(paddle.ones([1, 3])).sum().backward()
    optimizer.step()  # so that model.pdopt holds Adam's moments, as after a real epoch
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path / "run"))
    trainer.save_model(str(tmp_path / "run" / "epoch_1"))
    trainer.best_metrics = {"acc": 0.5}
    trainer._save_metrics()
    return tmp_path / "run"


def _resume(folder):
    model = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=model.parameters())
    return atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(folder))


def test_resuming_a_plain_folder_restores_weights_epoch_and_metrics(tmp_path):
    folder = _resumable_folder(tmp_path)
    saved = paddle.load(str(folder / "epoch_1" / "model.pdparams"))
    trainer = _resume(folder)
    assert trainer.current_epoch == 1 and trainer.best_metrics == {"acc": 0.5}
    np.testing.assert_array_equal(trainer.model.weight.numpy(), saved["weight"].numpy())
    moments = paddle.load(str(folder / "epoch_1" / "model.pdopt"))
    restored = trainer.optimizer.state_dict()
    for key, value in moments.items():
        if isinstance(value, paddle.Tensor):
            np.testing.assert_array_equal(restored[key].numpy(), value.numpy())


@pytest.mark.parametrize("crafted", ["metrics.pkl", "epoch_1/model.pdopt", "epoch_1/model.pdparams"])
def test_resuming_a_folder_refuses_a_crafted_file_left_in_it(tmp_path, marker, crafted):
    folder = _resumable_folder(tmp_path)
    (folder / crafted).unlink()
    _crafted(folder / crafted, marker, around=lambda p: {"acc": p})
    with pytest.raises(UnsafeWeightsError, match=crafted.split("/")[-1]):
        _resume(folder)
    assert not marker.exists()


def test_load_state_refuses_crafted_pickles_of_every_suffix(tmp_path, marker):
    for name in ("a.pdparams", "b.pdopt", "c.pkl"):
        path = _crafted(tmp_path / name, marker, around=lambda p: {"w": [p]})
        with pytest.raises(UnsafeWeightsError, match=name):
            load_state(path)
    assert not marker.exists()


def test_fine_tune_folders_keep_the_best_and_the_last_epochs(tmp_path):
    paddle.seed(0)
    model = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=model.parameters())
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")

    class Rows(paddle.io.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], np.int64(i % 2)

    class Model(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.fc = model

        def training_step(self, batch, batch_idx):
            loss = paddle.nn.functional.cross_entropy(self.fc(batch[0]), batch[1])
            return {"loss": loss}

        def validation_step(self, batch, batch_idx):
            return {"metrics": {"acc": paddle.to_tensor(float(batch_idx == 0))}}

    network = Model()
    optimizer = paddle.optimizer.SGD(parameters=network.parameters())
    trainer = atomic_trainer()(network, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path / "run"))
    trainer.train(Rows(), epochs=5, batch_size=4, eval_dataset=Rows(), save_interval=1, log_interval=100)
    # best_epoch.json: which epoch best_model/ is (common.trainer)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["best_epoch.json", "best_model", "epoch_4",
                                                                  "epoch_5", "metrics.pkl"]
    trainer = atomic_trainer()(Model(), optimizer, use_vdl=False, checkpoint_dir=str(tmp_path / "run"),
                               keep_last_epochs=1)
    assert trainer.current_epoch == 5


def test_prune_epochs_keeps_the_newest_and_everything_else(tmp_path):
    for name in ("epoch_1", "epoch_2", "epoch_10", "epoch_x", "best_model"):
        (tmp_path / name).mkdir()
    removed = prune_epochs(tmp_path, 2)
    assert sorted(os.path.basename(p) for p in removed) == ["epoch_1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model", "epoch_10", "epoch_2", "epoch_x"]
    with pytest.raises(ValueError, match="keep_last_epochs"):
        layer = paddle.nn.Linear(1, 1)
        atomic_trainer()(layer, paddle.optimizer.SGD(parameters=layer.parameters()), keep_last_epochs=0,
                         checkpoint_dir=str(tmp_path / "x"))


def test_load_data_names_a_binary_file(tmp_path):
    binary = tmp_path / "housing.data"
    binary.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe" * 100)
    with pytest.raises(ValueError, match=r"housing\.data.*binary"):
        load_data(binary)
    latin = tmp_path / "latin.data"
    latin.write_bytes("1 2 3\n\xe9t\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.data: not a UTF-8 text table"):
        load_data(latin)


def test_load_data_streams_gives_the_same_numbers_as_before(tmp_path):
    from paddle_course.boston.data import default_data_file, load_dataset

    train, test = load_data()
    dataset = load_dataset()
    np.testing.assert_array_equal(train, dataset.training_data)
    np.testing.assert_array_equal(test, dataset.test_data)
    rows = np.loadtxt(default_data_file())
    stats_rows = rows[:train.shape[0]]
    expected = (rows - stats_rows.mean(axis=0)) / (stats_rows.max(axis=0) - stats_rows.min(axis=0))
    np.testing.assert_allclose(np.vstack([train, test]), expected, rtol=1e-12)


@pytest.mark.slow
def test_load_data_memory_is_bounded_on_a_large_file(tmp_path):
    """200 MB of text: peak RSS grows by the result array and little more (the old loader: ~5x the file)."""
    path = tmp_path / "big.data"
    row = " ".join(["0.00632", "18.00", "2.310", "0", "0.5380", "6.5750", "65.20", "4.0900", "1", "296.0",
                    "15.30", "396.90", "4.98", "24.00"]) + "\n"
    block = row * 10000
    with open(path, "w") as file:
        while file.tell() < 200 << 20:
            file.write(block)
    size = path.stat().st_size
    script = textwrap.dedent(f"""
        import resource
        import numpy as np
        from paddle_course.boston.data import load_data
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        train, test = load_data({str(path)!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((peak - base) * 1024, train.nbytes + test.nbytes)
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    grown, result_bytes = map(int, out.stdout.split()[-2:])
    assert grown < result_bytes + (64 << 20), (grown, result_bytes, size)
