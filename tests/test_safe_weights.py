"""Model files that cannot run code (issue 14): safetensors/.npz round trips, and a restricted unpickler that
refuses every crafted pickle before anything in it runs (each attack would create a marker file)."""
import io
import os
import pickle
import pickletools
from collections import defaultdict

import numpy as np
import pytest

from paddle_course.common.safe_weights import (UnsafeWeightsError, load_pickle, load_pickled_state, load_state,
                                                save_state, to_paddle)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "code in the weights file ran"


def _state():
    rng = np.random.default_rng(0)
    return {"fc.weight": rng.normal(size=(4, 3)).astype("float32"), "fc.bias": np.zeros(3, dtype="float32"),
            "embedding.weight": rng.normal(size=(5, 2)), "steps": np.array(7, dtype="int64"),
            "mask": np.array([True, False])}


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_a_state_round_trips_through_formats_that_hold_no_code(suffix, tmp_path):
    state = _state()
    path = save_state(state, tmp_path / f"model{suffix}")
    loaded = load_state(path)
    assert set(loaded) == set(state)
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"model{suffix}"]  # written atomically, no leftovers


def test_paddle_tensors_are_saved_and_come_back_for_set_state_dict(tmp_path):
    import paddle

    layer = paddle.nn.Linear(3, 2)
    save_state(layer.state_dict(), tmp_path / "linear.safetensors")
    other = paddle.nn.Linear(3, 2)
    other.set_state_dict(to_paddle(load_state(tmp_path / "linear.safetensors")))
    assert np.array_equal(other.weight.numpy(), layer.weight.numpy())


def test_what_paddle_and_hub_trainer_write_loads_as_plain_data(tmp_path):
    import paddle

    layer = paddle.nn.Linear(3, 2)
    optimizer = paddle.optimizer.Adam(parameters=layer.parameters())
    layer(paddle.ones([4, 3])).mean().backward()
    optimizer.step()
    paddle.save(layer.state_dict(), str(tmp_path / "model.pdparams"))
    paddle.save(optimizer.state_dict(), str(tmp_path / "model.pdopt"))
    paddle.save({"t": paddle.to_tensor([1.0, 2.0]), "n": [paddle.to_tensor([3])]}, str(tmp_path / "mixed.pdparams"))
    with open(tmp_path / "metrics.pkl", "wb") as file:  # hub.Trainer: pickle.dump(self.best_metrics), a defaultdict
        pickle.dump(defaultdict(int, {"acc": np.float64(0.75)}), file)

    state = load_state(tmp_path / "model.pdparams")
    reference = paddle.load(str(tmp_path / "model.pdparams"))
    assert set(state) == set(reference)
    assert all(np.array_equal(state[k], reference[k].numpy()) for k in state)
    optimizer_state = load_pickle(tmp_path / "model.pdopt")
    assert any(key.endswith("moment1_0") for key in optimizer_state)
    mixed = load_pickle(tmp_path / "mixed.pdparams")
    assert mixed["t"][0] == "generated_tensor_0" or isinstance(mixed["t"][0], str)
    assert np.array_equal(mixed["t"][1], [1.0, 2.0])
    assert load_pickle(tmp_path / "metrics.pkl") == {"acc": 0.75}


def test_the_shipped_sentiment_weights_load_like_paddle_load(tmp_path):
    import paddle

    from paddle_course import sentiment

    network = sentiment.load_model()[0]
    path = tmp_path / "model.pdparams"
    paddle.save(network.state_dict(), str(path))
    state, reference = load_state(path), paddle.load(str(path))
    assert set(state) == set(reference)
    assert all(np.array_equal(state[k], reference[k].numpy()) for k in state)


# --- crafted files: each would create the marker if anything in it ran ------------------

def _reduce(function, *args):
    class Payload:
        def __reduce__(self):
            return (function, args)

    return Payload()


def _attacks(marker):
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": {"w": _reduce(os.system, f"touch {marker}")},
        "builtins.exec": {"w": _reduce(exec, touch)},
        "builtins.eval of code": {"w": _reduce(eval, touch)},
        "builtins.open": [_reduce(open, str(marker), "w")],
        "eval('data', ...) around a payload": {"w": _reduce(eval, "data", {"data": _reduce(os.system, f"touch {marker}")})},
        "__import__ and getattr": {"w": _reduce(getattr, _reduce(__import__, "os"), "system")},
        "subprocess.Popen": {"w": _reduce(__import__("subprocess").Popen, ["touch", str(marker)])},
        "defaultdict with os.system as factory": {"w": _reduce(defaultdict, os.system)},
        "an object array holding a payload": {"w": np.array([_reduce(os.system, f"touch {marker}")], dtype=object)},
    }


@pytest.mark.parametrize("name", list(_attacks("/nowhere")))
def test_a_crafted_pickle_is_refused_before_it_runs(name, tmp_path, marker):
    path = tmp_path / "model.pdparams"
    path.write_bytes(pickle.dumps(_attacks(marker)[name], protocol=4))
    with pytest.raises(UnsafeWeightsError) as error:
        load_state(path)
    assert "model.pdparams" in str(error.value)
    with pytest.raises(UnsafeWeightsError):
        load_pickle(path.read_bytes())


def test_old_protocols_and_persistent_ids_are_refused_too(tmp_path, marker):
    text_pickle = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()  # protocol 0, by hand
    with pytest.raises(UnsafeWeightsError, match="os.system|posix.system"):
        load_pickle(text_pickle)

    buffer = io.BytesIO()

    class WithIds(pickle.Pickler):
        def persistent_id(self, obj):
            return "tensor-1" if isinstance(obj, np.ndarray) else None

    WithIds(buffer, protocol=2).dump({"w": np.ones(2)})
    with pytest.raises(UnsafeWeightsError, match="persistent"):
        load_pickle(buffer.getvalue())


def test_a_huge_array_claimed_by_a_tiny_file_is_refused(marker):
    """``numpy.ndarray((10**12,))`` would reserve memory the file never paid for."""
    data = (b"\x80\x04cnumpy\nndarray\n" + pickle.dumps((10 ** 12,), protocol=4)[2:-1] + b"R.")
    pickletools.dis(data, out=io.StringIO())  # a well-formed pickle
    with pytest.raises(UnsafeWeightsError):
        load_pickle(data)


def test_an_npz_with_pickled_objects_is_refused(tmp_path, marker):
    path = tmp_path / "model.npz"
    np.savez(path, w=np.array([_reduce(os.system, f"touch {marker}")], dtype=object))
    with pytest.raises(UnsafeWeightsError, match="not a readable .npz"):
        load_state(path)


def test_bad_input_gets_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        load_state(tmp_path / "missing.pdparams")
    (tmp_path / "model.pt").write_bytes(b"\x00")
    with pytest.raises(UnsafeWeightsError, match="unknown weights format"):
        load_state(tmp_path / "model.pt")
    (tmp_path / "broken.pdparams").write_bytes(b"not a pickle at all")
    with pytest.raises(UnsafeWeightsError, match="not a readable weights file"):
        load_state(tmp_path / "broken.pdparams")
    (tmp_path / "list.pdparams").write_bytes(pickle.dumps([np.ones(2)]))
    with pytest.raises(UnsafeWeightsError, match="not a state dict"):
        load_state(tmp_path / "list.pdparams")
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(UnsafeWeightsError, match="safetensors"):
        load_state(tmp_path / "broken.safetensors")
    with pytest.raises(ValueError, match="cannot hold code"):
        save_state({"w": np.ones(2)}, tmp_path / "model.pdparams")
    with pytest.raises(ValueError, match="numbers only"):
        save_state({"w": np.array(["a"], dtype=object)}, tmp_path / "model.npz")
    assert load_pickled_state(pickle.dumps({"w": np.ones(2)}))["w"].shape == (2,)


def test_an_optimizer_state_round_trips_as_safetensors_and_json(tmp_path):
    import json

    import paddle

    from paddle_course.common.checkpoints import load_optimizer_state, save_optimizer_state

    state = {"w_moment1_0": paddle.to_tensor([[1.0, 2.0]]), "w_beta1_pow_acc_0": paddle.to_tensor([0.9]),
             "master_weights": {"w": paddle.to_tensor([3.0], dtype="float32")},
             "LR_Scheduler": {"last_epoch": 4, "last_lr": float("inf"), "name": "x", "gammas": (0.1, 0.5)},
             "step": np.int64(7)}
    save_optimizer_state(state, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optimizer.json", "optimizer.safetensors"]
    assert set(load_state(tmp_path / "optimizer.safetensors")) == {"w_moment1_0", "w_beta1_pow_acc_0",
                                                                  "master_weights/w"}
    assert json.loads((tmp_path / "optimizer.json").read_text())["groups"] == {"master_weights": ["w"]}
    loaded = load_optimizer_state(tmp_path)
    assert sorted(loaded) == sorted(state)
    np.testing.assert_array_equal(loaded["w_moment1_0"].numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(loaded["master_weights"]["w"].numpy(), [3.0])
    assert loaded["LR_Scheduler"] == {"last_epoch": 4, "last_lr": float("inf"), "name": "x", "gammas": [0.1, 0.5]}
    assert loaded["step"] == 7
    with pytest.raises(ValueError, match="neither safetensors nor JSON"):
        save_optimizer_state({"f": len}, tmp_path / "other")
    with pytest.raises(FileNotFoundError, match="optimizer.safetensors"):
        load_optimizer_state(tmp_path / "missing")


def test_checkpoints_write_no_pickle_and_prefer_safetensors_in_a_folder(tmp_path):
    import paddle

    from paddle_course.common import checkpoints

    with pytest.raises(ValueError, match="cannot hold code"):
        checkpoints.save_state({"w": np.ones(2)}, tmp_path / "model.pdparams")
    old = tmp_path / "run" / "epoch_3"
    old.mkdir(parents=True)
    paddle.save({"w": paddle.to_tensor([1.0])}, str(old / "model.pdparams"))  # an old folder: still found, read safely
    assert checkpoints.find_weights(tmp_path / "run") == old / "model.pdparams"
    assert checkpoints.best_checkpoint_dir(tmp_path / "run") == old
    new = tmp_path / "run" / "epoch_4"
    checkpoints.save_state({"w": np.array([2.0])}, new / "model.safetensors")
    assert checkpoints.latest_epoch_dir(tmp_path / "run") == new
    best = tmp_path / "run" / "best_model"
    paddle.save({"w": paddle.to_tensor([3.0])}, str(best / "model.pdparams"))
    checkpoints.save_state({"w": np.array([4.0])}, best / "model.safetensors")
    assert checkpoints.find_weights(tmp_path / "run") == best / "model.safetensors"
    assert checkpoints.load_weights(tmp_path / "run")["w"].numpy().tolist() == [4.0]
    with pytest.raises(FileNotFoundError, match="no model.safetensors or model.pdparams found"):
        checkpoints.find_weights(tmp_path / "run" / "epoch_x")


@pytest.mark.parametrize("text", ['[1, 2]', '{"values": {}}', '{"values": [], "groups": {}}',
                                  '{"values": {}, "groups": {"master_weights": ["missing"]}}',
                                  '{"values": {}, "groups": {"master_weights": "w"}}'])
def test_an_optimizer_json_that_does_not_fit_is_named(tmp_path, text):
    import paddle

    from paddle_course.common.checkpoints import load_optimizer_state, save_optimizer_state

    save_optimizer_state({"m": paddle.to_tensor([1.0])}, tmp_path)
    (tmp_path / "optimizer.json").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="optimizer.json: not an optimizer.json written by the course"):
        load_optimizer_state(tmp_path)
