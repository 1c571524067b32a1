"""Model files cannot run code (issue 14): every weights file a user hands in is read by the
restricted unpickler and refused, naming the file, before anything in it runs; everything the
course writes is safetensors or JSON; fine-tune folders keep the best and the last N epochs;
the Boston loader streams its table."""
import json
import os
import pickle
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_course.boston.data import load_data
from paddle_course.common.checkpoints import UnsafeWeightsError, load_state
from paddle_course.common.safe_weights import load_state as load_arrays
from paddle_course.common.trainer import atomic_trainer, prune_epochs

PACKAGE = Path(__file__).resolve().parents[1] / "paddle_course"
PICKLE_SUFFIXES = (".pdparams", ".pdopt", ".pkl", ".pickle")


class _Marker:
    """A pickle whose loading would create ``path`` (what a crafted checkpoint does)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _SystemMarker(_Marker):
    """The same through a shell: ``os.system("touch path")`` (the classic crafted pickle)."""

    def __reduce__(self):
        return (os.system, (f"touch '{self.path}'",))


PAYLOADS = {"open": _Marker, "os.system": _SystemMarker}


@pytest.fixture(params=sorted(PAYLOADS))
def payload(request):
    return PAYLOADS[request.param]


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "marker"


def _crafted(path, marker, around=None, payload=_Marker):
    """Write a pickle at ``path`` holding the marker payload (inside ``around`` if given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bomb = payload(marker)
    with open(path, "wb") as file:
        pickle.dump(around(bomb) if around else bomb, file, protocol=2)
    return path


def _is_pickle(path):
    """A pickle of protocol 2 or more starts with PROTO (0x80, 2..5) and ends with STOP ('.')."""
    with open(path, "rb") as file:
        head = file.read(2)
        file.seek(0, os.SEEK_END)
        if file.tell() < 3:
            return False
        file.seek(-1, os.SEEK_END)
        return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5 and file.read(1) == b"."


def _sentiment_checkpoint_dir(tmp_path, marker, payload=_Marker):
    """A checkpoint folder like `finetune sentiment --out`, whose model.pdparams is crafted."""
    from paddle_course.sentiment.model import shipped_model_dir

    folder = tmp_path / "ckpt"
    folder.mkdir()
    for name in ("vocab.json", "config.json"):
        (folder / name).write_bytes((shipped_model_dir() / name).read_bytes())
    _crafted(folder / "model.pdparams", marker, around=lambda p: {"embedding.weight": p}, payload=payload)
    return folder


def test_sentiment_predict_refuses_a_crafted_checkpoint(tmp_path, marker, payload, capsys):
    from paddle_course.cli import main

    folder = _sentiment_checkpoint_dir(tmp_path, marker, payload)
    assert main(["sentiment", "predict", "--checkpoint", str(folder), "a good film"]) == 2
    err = capsys.readouterr().err
    assert str(folder / "model.pdparams") in err and "nothing in it was run" in err
    assert not marker.exists()


def test_sentiment_predict_refuses_a_crafted_weights_file(tmp_path, marker, payload, capsys):
    from paddle_course.cli import main

    crafted = _crafted(tmp_path / "from_a_forum.pdparams", marker, payload=payload)
    assert main(["sentiment", "predict", "--checkpoint", str(crafted), "a good film"]) == 2
    err = capsys.readouterr().err
    assert str(crafted) in err and "nothing in it was run" in err
    assert not marker.exists()


def test_hub_module_refuses_a_crafted_checkpoint(tmp_path, marker, payload):
    from paddle_course.common.hub import load_module

    folder = _sentiment_checkpoint_dir(tmp_path, marker, payload)
    with pytest.raises(UnsafeWeightsError, match="model.pdparams.*nothing in it was run"):
        load_module("course_sentiment", checkpoint=str(folder))
    assert not marker.exists()


@pytest.mark.parametrize("detector", ["paddle", "photo"])
def test_pedestrian_module_refuses_a_crafted_checkpoint(tmp_path, marker, payload, detector):
    from paddle_course.common.hub import load_module

    crafted = _crafted(tmp_path / "run" / "best_model" / "model.pdparams", marker, payload=payload,
                       around=lambda p: {"network.head.weight": p})
    with pytest.raises(UnsafeWeightsError, match="model.pdparams.*nothing in it was run"):
        load_module("course_pedestrian", detector=detector, checkpoint=str(tmp_path / "run"))
    assert crafted.is_file() and not marker.exists()


def test_ocr_checkpoint_refuses_a_crafted_weights_file(tmp_path, marker, payload):
    from paddle_course.ocr.crnn import BASE_CHECKPOINT, CRNNRecognizer

    folder = tmp_path / "ocr_ckpt"  # an older `finetune ocr --out` folder: crnn_config.json + model.pdparams
    folder.mkdir()
    (folder / "crnn_config.json").write_bytes((BASE_CHECKPOINT / "crnn_config.json").read_bytes())
    _crafted(folder / "model.pdparams", marker, payload=payload, around=lambda p: {"fc.weight": p})
    with pytest.raises(UnsafeWeightsError, match="model.pdparams.*nothing in it was run"):
        CRNNRecognizer.load(folder)  # what hub.Module(name="course_ocr", checkpoint=folder) and --init read
    assert not marker.exists()


def test_waybill_labeller_refuses_a_crafted_weights_file(tmp_path, marker, payload):
    from paddle_course.ocr.waybill.predict import ASSETS, WaybillLabeller

    folder = tmp_path / "wb_model"  # a model folder as `finetune waybill --out` writes, with model.pdparams
    folder.mkdir()
    for name in ("config.json", "vocab.jsonl"):
        (folder / name).write_bytes((Path(ASSETS) / name).read_bytes())
    _crafted(folder / "model.pdparams", marker, payload=payload, around=lambda p: {"crf.transitions": p})
    with pytest.raises(UnsafeWeightsError, match="model.pdparams.*nothing in it was run"):
        WaybillLabeller(folder)
    assert not marker.exists()


def test_finetune_init_refuses_a_crafted_file_before_writing_anything(tmp_path, marker, payload, capsys):
    from paddle_course.cli import main

    init = _crafted(tmp_path / "evil.pdparams", marker, payload=payload)
    out = tmp_path / "out"
    code = main(["finetune", "sentiment", "--train", "data/sentiment/dev.tsv", "--out", str(out),
                 "--init", str(init), "--epochs", "1", "--quiet"])
    assert code == 2
    assert str(init) in capsys.readouterr().err
    assert not marker.exists() and not out.exists()


def test_finetune_ocr_init_refuses_a_crafted_folder_before_writing_anything(tmp_path, marker, payload, capsys):
    from paddle_course.cli import main
    from paddle_course.ocr.crnn import BASE_CHECKPOINT

    init = tmp_path / "init"
    init.mkdir()
    (init / "crnn_config.json").write_bytes((BASE_CHECKPOINT / "crnn_config.json").read_bytes())
    _crafted(init / "model.pdparams", marker, payload=payload)
    (tmp_path / "train.txt").write_text("a.png\t1\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["finetune", "ocr", "--train", str(tmp_path / "train.txt"), "--out", str(out), "--init", str(init),
                 "--epochs", "1", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert str(init / "model.pdparams") in err and "nothing in it was run" in err
    assert not marker.exists() and not out.exists()


def _trained_linear():
    """A Linear layer and Adam (with an LR scheduler) after one step, so the optimizer state holds moments."""
    paddle.seed(0)
    model = paddle.nn.Linear(3, 2)
    scheduler = paddle.optimizer.lr.CosineAnnealingDecay(0.1, 10)
    optimizer = paddle.optimizer.Adam(learning_rate=scheduler, parameters=model.parameters())
    model(paddle.ones([1, 3])).sum().backward()
    optimizer.step()
    scheduler.step()
    return model, optimizer


def _resumable_folder(tmp_path):
    """A hub.Trainer folder with one real epoch saved by the course's trainer."""
    model, optimizer = _trained_linear()
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(tmp_path / "run"))
    trainer.save_model(str(tmp_path / "run" / "epoch_1"))
    trainer.best_metrics = {"acc": 0.5}
    trainer._save_metrics()
    return tmp_path / "run", model, optimizer


def _old_folder(tmp_path):
    """A folder as PaddleHub's own hub.Trainer (and the course until 2026-12) wrote it: pickles only."""
    from collections import defaultdict

    model, optimizer = _trained_linear()
    folder = tmp_path / "old_run"
    (folder / "epoch_1").mkdir(parents=True)
    paddle.save(model.state_dict(), str(folder / "epoch_1" / "model.pdparams"))
    paddle.save(optimizer.state_dict(), str(folder / "epoch_1" / "model.pdopt"))
    with open(folder / "metrics.pkl", "wb") as file:
        pickle.dump(defaultdict(int, {"acc": 0.5}), file)
    return folder, model, optimizer


def _resume(folder):
    model = paddle.nn.Linear(3, 2)
    scheduler = paddle.optimizer.lr.CosineAnnealingDecay(0.1, 10)
    optimizer = paddle.optimizer.Adam(learning_rate=scheduler, parameters=model.parameters())
    return atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(folder))


def _assert_resumed(trainer, model, optimizer):
    assert trainer.current_epoch == 1 and trainer.best_metrics == {"acc": 0.5}
    np.testing.assert_array_equal(trainer.model.weight.numpy(), model.weight.numpy())
    saved, restored = optimizer.state_dict(), trainer.optimizer.state_dict()
    tensors = [key for key, value in saved.items() if isinstance(value, paddle.Tensor)]
    assert len(tensors) == 8  # Adam's two moments and two beta powers, of weight and bias
    for key in tensors:
        np.testing.assert_array_equal(restored[key].numpy(), saved[key].numpy())
    assert restored["LR_Scheduler"] == saved["LR_Scheduler"] == {"last_epoch": 1, "last_lr": pytest.approx(0.0975528)}


def test_the_trainer_writes_safetensors_and_json_only(tmp_path):
    folder, _, _ = _resumable_folder(tmp_path)
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == ["best_epoch.json", "epoch_1/model.safetensors", "epoch_1/optimizer.json",
                       "epoch_1/optimizer.safetensors"]
    assert not any(_is_pickle(folder / name) for name in written)
    assert json.loads((folder / "best_epoch.json").read_text()) == {"best_epoch": 0, "metrics": {"acc": 0.5}}


def test_resuming_a_folder_of_the_course_restores_weights_optimizer_epoch_and_metrics(tmp_path):
    folder, model, optimizer = _resumable_folder(tmp_path)
    _assert_resumed(_resume(folder), model, optimizer)


def test_resuming_an_old_folder_of_pickles_restores_the_same(tmp_path):
    folder, model, optimizer = _old_folder(tmp_path)
    _assert_resumed(_resume(folder), model, optimizer)


@pytest.mark.parametrize("crafted", ["metrics.pkl", "epoch_1/model.pdopt", "epoch_1/model.pdparams"])
def test_resuming_an_old_folder_refuses_a_crafted_file_left_in_it(tmp_path, marker, payload, crafted):
    folder, _, _ = _old_folder(tmp_path)
    (folder / crafted).unlink()
    _crafted(folder / crafted, marker, around=lambda p: {"acc": p}, payload=payload)
    with pytest.raises(UnsafeWeightsError, match=f"{crafted.split('/')[-1]}.*nothing in it was run"):
        _resume(folder)
    assert not marker.exists()


@pytest.mark.parametrize("crafted", ["metrics.pkl", "epoch_1/model.pdopt", "epoch_1/model.pdparams"])
def test_a_crafted_pickle_next_to_the_course_files_is_never_read(tmp_path, marker, payload, crafted):
    folder, model, optimizer = _resumable_folder(tmp_path)
    _crafted(folder / crafted, marker, around=lambda p: {"acc": p}, payload=payload)
    _assert_resumed(_resume(folder), model, optimizer)  # safetensors and JSON win over the pickles
    assert not marker.exists()


@pytest.mark.parametrize("damaged", ["epoch_1/model.safetensors", "epoch_1/optimizer.safetensors",
                                     "epoch_1/optimizer.json", "best_epoch.json"])
def test_resuming_a_folder_with_a_damaged_file_names_it(tmp_path, damaged):
    folder, _, _ = _resumable_folder(tmp_path)
    (folder / damaged).write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match=damaged.split("/")[-1]):
        _resume(folder)


def _train_a_small_model(folder, epochs, keep_last_epochs, with_dev=True):
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")

    class Rows(paddle.io.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], np.int64(i % 2)

    class Model(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.fc = paddle.nn.Linear(3, 2)

        def training_step(self, batch, batch_idx):
            loss = paddle.nn.functional.cross_entropy(self.fc(batch[0]), batch[1])
            return {"loss": loss}

        def validation_step(self, batch, batch_idx):
            return {"metrics": {"acc": paddle.to_tensor(float(batch_idx == 0))}}

    paddle.seed(0)
    network = Model()
    optimizer = paddle.optimizer.SGD(parameters=network.parameters())
    trainer = atomic_trainer()(network, optimizer, use_vdl=False, checkpoint_dir=str(folder),
                               keep_last_epochs=keep_last_epochs)
    trainer.train(Rows(), epochs=epochs, batch_size=4, eval_dataset=Rows() if with_dev else None, save_interval=1,
                  log_interval=100)
    return Model


def test_fine_tune_folders_keep_the_best_and_the_last_epochs(tmp_path):
    model_class = _train_a_small_model(tmp_path / "run", epochs=5, keep_last_epochs=2)
    # best_epoch.json: which epoch best_model/ is, and its metrics (hub.Trainer's metrics.pkl, as JSON)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["best_epoch.json", "best_model", "epoch_4",
                                                                  "epoch_5"]
    assert not any(_is_pickle(p) for p in (tmp_path / "run").rglob("*") if p.is_file())
    # best_model/ is loaded, never resumed from: weights only; an epoch also holds the optimizer's state
    assert sorted(p.name for p in (tmp_path / "run" / "best_model").iterdir()) == ["model.safetensors"]
    assert sorted(p.name for p in (tmp_path / "run" / "epoch_5").iterdir()) == ["model.safetensors", "optimizer.json",
                                                                              "optimizer.safetensors"]
    network = model_class()
    trainer = atomic_trainer()(network, paddle.optimizer.SGD(parameters=network.parameters()), use_vdl=False,
                               checkpoint_dir=str(tmp_path / "run"), keep_last_epochs=1)
    assert trainer.current_epoch == 5


def test_keep_last_epochs_0_keeps_best_model_only_and_the_last_epoch_without_a_dev_set(tmp_path):
    _train_a_small_model(tmp_path / "run", epochs=3, keep_last_epochs=0)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["best_epoch.json", "best_model"]
    _train_a_small_model(tmp_path / "no_dev", epochs=3, keep_last_epochs=0, with_dev=False)
    assert sorted(p.name for p in (tmp_path / "no_dev").iterdir()) == ["epoch_3"]  # the result, never removed


def test_prune_epochs_keeps_the_newest_and_everything_else(tmp_path):
    for name in ("epoch_1", "epoch_2", "epoch_10", "epoch_x", "best_model"):
        (tmp_path / name).mkdir()
    removed = prune_epochs(tmp_path, 2)
    assert sorted(os.path.basename(p) for p in removed) == ["epoch_1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model", "epoch_10", "epoch_2", "epoch_x"]
    assert sorted(os.path.basename(p) for p in prune_epochs(tmp_path, 0)) == ["epoch_10", "epoch_2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model", "epoch_x"]
    layer = paddle.nn.Linear(1, 1)
    for wrong in (-1, 1.5, True):
        with pytest.raises(ValueError, match="keep_last_epochs"):
            atomic_trainer()(layer, paddle.optimizer.SGD(parameters=layer.parameters()), keep_last_epochs=wrong,
                             checkpoint_dir=str(tmp_path / "x"))


def test_load_state_refuses_crafted_pickles_of_every_suffix(tmp_path, marker, payload):
    for name in ("a.pdparams", "b.pdopt", "c.pkl"):
        path = _crafted(tmp_path / name, marker, around=lambda p: {"w": [p]}, payload=payload)
        with pytest.raises(UnsafeWeightsError, match=name):
            load_state(path)
    assert not marker.exists()


def test_no_pickle_ships_in_the_package():
    files = [p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > 100 and any(p.suffix == ".safetensors" for p in files)
    pickles = [str(p.relative_to(PACKAGE)) for p in files if p.suffix.lower() in PICKLE_SUFFIXES or _is_pickle(p)]
    assert pickles == []


def test_the_shipped_weights_are_safetensors_the_modules_load():
    from paddle_course.detection.detectors import SHIPPED_CHECKPOINT
    from paddle_course.ocr.crnn import BASE_CHECKPOINT, PARAMS_NAME

    for path in (SHIPPED_CHECKPOINT, BASE_CHECKPOINT / PARAMS_NAME):
        assert path.suffix == ".safetensors" and len(load_arrays(path)) > 30


class _Report:
    def lines(self):
        return ["report"]


FINETUNES = {  # task -> (the library function the CLI calls, what it returns, the keyword that carries the option)
    "sentiment": ("paddle_course.sentiment.finetune", "finetune", {"report": None}),
    "ocr": ("paddle_course.ocr.finetune", "finetune", {"report": _Report()}),
    "pedestrian": ("paddle_course.detection.photo_finetune", "finetune_photo", {"report": _Report()}),
    "pedestrian-paddle": ("paddle_course.detection.finetune", "finetune", {"report": _Report()}),
    "waybill": ("paddle_course.ocr.waybill.finetune", "finetune",
                {"report": _Report(), **{w: {"name": 1.0, "phone": 1.0, "address": 1.0} for w in ("before", "after")}}),
}


def _finetune_args(task, tmp_path):
    (tmp_path / "train.txt").write_text("x\t1\n", encoding="utf-8")
    (tmp_path / "voc").mkdir(exist_ok=True)
    train = {"pedestrian": tmp_path / "voc", "pedestrian-paddle": tmp_path / "voc"}.get(task, tmp_path / "train.txt")
    extra = ["--detector", "paddle"] if task == "pedestrian-paddle" else []
    return ["finetune", task.split("-")[0], "--train", str(train), "--out", str(tmp_path / "out"), *extra]


@pytest.mark.parametrize("task", sorted(FINETUNES))
@pytest.mark.parametrize("keep", [None, 0, 5])
def test_every_finetune_task_passes_keep_epochs_to_its_trainer(task, keep, tmp_path, monkeypatch):
    import importlib

    from paddle_course.cli import main

    module_name, function, result = FINETUNES[task]
    calls = []
    monkeypatch.setattr(importlib.import_module(module_name), function,
                        lambda *args, **kwargs: calls.append(kwargs) or result)
    option = [] if keep is None else ["--keep-epochs", str(keep)]
    assert main(_finetune_args(task, tmp_path) + option) in (0, None)
    assert calls[0]["keep_epochs"] == (2 if keep is None else keep)


@pytest.mark.parametrize("task", sorted(FINETUNES))
def test_a_negative_keep_epochs_is_refused_before_anything_runs(task, tmp_path, capsys):
    from paddle_course.cli import main

    assert main(_finetune_args(task, tmp_path) + ["--keep-epochs", "-1"]) == 2
    assert "--keep-epochs must be 0 or a positive integer, got -1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


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


def _hw05_with(tmp_path, tail):
    """The teacher's hw05 copy with ``tail`` appended (a ``finetune`` that changes what the honest one wrote)."""
    from paddle_course.grading.registry import load_assignment, reference_solution

    source = reference_solution(load_assignment("hw05")[0]).read_text(encoding="utf-8") + tail
    path = tmp_path / "solution.py"
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.slow
def test_hw05_grader_accepts_a_checkpoint_written_as_safetensors(tmp_path):
    """A learner whose trainer writes model.safetensors (the course's format) instead of model.pdparams."""
    from paddle_course.grading import grade

    path = _hw05_with(tmp_path, '''

_honest_finetune = finetune


def finetune(train_path, dev_path, out_dir, *args, **kwargs):
    from safetensors.numpy import save_file
    result = _honest_finetune(train_path, dev_path, out_dir, *args, **kwargs)
    for folder in ("best_model", "epoch_1", "epoch_2"):
        pdparams = os.path.join(str(out_dir), folder, "model.pdparams")
        state = {k: v.numpy() for k, v in paddle.load(pdparams).items()}
        save_file(state, os.path.join(str(out_dir), folder, "model.safetensors"))
        os.remove(pdparams)
    return result
''')
    report = grade("hw05", path, seed=2024)
    assert report.score == 10, [(r.name, r.status, r.message[:200]) for r in report.checks]
