"""Checkpoints: which weights file a ``checkpoint=`` argument means, loading it, saving one atomically.

What the course writes cannot carry code:

* weights: ``model.safetensors`` (a JSON header and raw bytes);
* an optimizer's state (``hub.Trainer``'s epochs): ``optimizer.safetensors`` for its tensors
  and ``optimizer.json`` for the rest (the LR scheduler's ``last_epoch``/``last_lr``).

Every model of the course takes the same kinds of ``checkpoint``:

* a weights file: ``.safetensors``, ``.npz`` (read with ``allow_pickle=False``), or a
  ``.pdparams`` that someone else wrote with ``paddle.save`` (PaddleHub's own ``hub.Trainer``,
  an older version of the course);
* a folder holding ``model.safetensors`` or ``model.pdparams`` (``train --out``, or one
  ``epoch_N/`` / ``best_model/`` folder of ``hub.Trainer``); ``model.safetensors`` wins;
* a fine-tune output folder, where ``best_model/`` wins over the latest ``epoch_N/``.

Every weights file is read through :mod:`paddle_course.common.safe_weights`: a
``.pdparams``/``.pdopt``/``.pkl`` goes through a restricted unpickler that refuses anything
but arrays, plain containers and numbers (:class:`UnsafeWeightsError`, naming the file)
before anything in it runs.  Nothing here calls ``paddle.load`` or writes a pickle.
"""
import json
from pathlib import Path

import numpy as np

from paddle_course.common import safe_weights
from paddle_course.common.fileio import atomic_path
from paddle_course.common.safe_weights import UnsafeWeightsError  # noqa: F401  (re-exported for callers)

PARAMS_FILE = "model.safetensors"  # what the course writes
LEGACY_PARAMS_FILE = "model.pdparams"  # paddle.save's pickle (hub.Trainer, older course folders): read safely
WEIGHTS_FILES = (PARAMS_FILE, LEGACY_PARAMS_FILE)  # in the order a folder is searched
OPTIMIZER_FILE = "optimizer.safetensors"  # the optimizer's tensors (Adam's moments, ...)
OPTIMIZER_VALUES_FILE = "optimizer.json"  # the rest of its state dict (the LR scheduler's numbers)
LEGACY_OPTIMIZER_FILE = "model.pdopt"
_GROUP_SEPARATOR = "/"  # a nested dict of tensors (``master_weights``) is stored as "outer/inner"


def _epoch_number(folder):
    number = folder.name.split("_", 1)[1] if "_" in folder.name else ""
    return int(number) if number.isdigit() else None


def weights_in(folder):
    """The weights file of one checkpoint folder (``model.safetensors``, else ``model.pdparams``), or None."""
    for name in WEIGHTS_FILES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def latest_epoch_dir(folder):
    """The ``epoch_N/`` folder with the highest ``N`` that holds weights (:func:`weights_in`), or None."""
    epochs = [(_epoch_number(p), p) for p in Path(folder).glob("epoch_*")]
    epochs = sorted((n, p) for n, p in epochs if n is not None and weights_in(p) is not None)
    return epochs[-1][1] if epochs else None


def find_weights(checkpoint):
    """The weights file that ``checkpoint`` means (see the module docstring).

    Raises FileNotFoundError naming the checkpoint and where it looked.
    """
    path = Path(checkpoint)
    if path.is_file():
        return path
    wanted = " or ".join(WEIGHTS_FILES)
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint {path}: no such file or folder (no {wanted} found)")
    for folder in (path, path / "best_model"):
        if weights_in(folder) is not None:
            return weights_in(folder)
    latest = latest_epoch_dir(path)
    if latest is not None:
        return weights_in(latest)
    raise FileNotFoundError(f"checkpoint {path}: no {wanted} found in it, nor in best_model/ or epoch_N/")


def best_checkpoint_dir(trainer_dir):
    """The folder a ``hub.Trainer`` run's result is in: ``best_model/`` if it evaluated, else the latest ``epoch_N/``."""
    trainer_dir = Path(trainer_dir)
    if weights_in(trainer_dir / "best_model") is not None:
        return trainer_dir / "best_model"
    latest = latest_epoch_dir(trainer_dir)
    if latest is None:
        raise FileNotFoundError(f"{trainer_dir}: hub.Trainer wrote no checkpoint (no best_model/ or epoch_N/)")
    return latest


def load_state(checkpoint):
    """``(path, state dict of paddle Tensors)`` of the weights ``checkpoint`` means.

    Read without running anything in the file (see the module docstring); raises
    :class:`UnsafeWeightsError` naming the file if it is not plain weights.
    """
    path = find_weights(checkpoint)
    return path, safe_weights.to_paddle(safe_weights.load_state(path))


def load_weights(path):
    """The state dict (paddle Tensors) of a weights file, or of the folder :func:`find_weights` searches;
    code refused."""
    return safe_weights.to_paddle(safe_weights.load_state(find_weights(path)))


def unfit_keys(expected, state):
    """The keys of ``expected`` (a layer's ``state_dict()``) that ``state`` lacks or holds in another
    shape, in ``expected``'s order, each with ``(expected shape, shape in state or None)``.

    ``layer.set_state_dict`` only warns about them and keeps the layer's own (random) weights, so
    every loader checks first.
    """
    return {key: (tuple(value.shape), tuple(state[key].shape) if key in state else None)
            for key, value in expected.items()
            if key not in state or tuple(state[key].shape) != tuple(value.shape)}


# --- an optimizer's state: optimizer.safetensors + optimizer.json ---------------------

def _is_tensor(value):
    return isinstance(value, np.ndarray) or (hasattr(value, "numpy") and callable(value.numpy))


def _json_value(value, where):
    """``value`` as JSON can hold it (NumPy scalars become numbers), or ValueError."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(item, where) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _json_value(item, f"{where}[{key!r}]") for key, item in value.items()}
    raise ValueError(f"optimizer state {where}: a {type(value).__name__}, which neither safetensors nor JSON holds")


def save_optimizer_state(state_dict, folder):
    """An optimizer's ``state_dict()`` as ``folder/optimizer.safetensors`` + ``folder/optimizer.json``.

    Tensors go to the safetensors file; a dict of tensors (``master_weights``) too, each under
    ``"outer/inner"``; every other value (the LR scheduler's ``{"last_epoch", "last_lr"}``) to
    the JSON file, which also lists those groups.  Neither file can carry code.
    """
    tensors, values, groups = {}, {}, {}
    for key, value in state_dict.items():
        if _is_tensor(value):
            tensors[key] = value
        elif isinstance(value, dict) and value and all(_is_tensor(item) for item in value.values()):
            groups[key] = sorted(value)
            tensors.update({f"{key}{_GROUP_SEPARATOR}{inner}": item for inner, item in value.items()})
        else:
            values[key] = _json_value(value, repr(key))
    folder = Path(folder)
    safe_weights.save_state(tensors, folder / OPTIMIZER_FILE)
    with atomic_path(folder / OPTIMIZER_VALUES_FILE) as tmp:
        tmp.write_text(json.dumps({"values": values, "groups": groups}, indent=1) + "\n", encoding="utf-8")
    return folder / OPTIMIZER_FILE


def _read_optimizer_values(path, tensor_names):
    """``(values, groups)`` of ``optimizer.json``, checked against the tensors of ``optimizer.safetensors``."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        values, groups = record["values"], record["groups"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not an optimizer.json written by the course ({type(error).__name__}: {error})") \
            from None
    if not isinstance(values, dict) or not isinstance(groups, dict) or not all(
            isinstance(names, list) and all(isinstance(name, str) for name in names) for names in groups.values()):
        raise ValueError(f"{path}: not an optimizer.json written by the course (no dict of values and groups)")
    missing = {f"{outer}{_GROUP_SEPARATOR}{name}" for outer, names in groups.items() for name in names}
    missing -= set(tensor_names)
    if missing:
        raise ValueError(f"{path}: not an optimizer.json written by the course, or not the one of the "
                         f"{OPTIMIZER_FILE} beside it (which has no {sorted(missing)[0]!r})")
    return values, groups


def load_optimizer_state(folder):
    """The optimizer state saved in ``folder`` (one ``epoch_N/``), as ``optimizer.set_state_dict`` takes it.

    Reads ``optimizer.safetensors`` + ``optimizer.json`` (:func:`save_optimizer_state`); a
    folder written by ``paddle.save`` (hub.Trainer's ``model.pdopt``) through the restricted
    unpickler instead: arrays become Tensors, plain values stay as they are, paddle.save's table
    of structured names is dropped, as ``paddle.load`` does.
    """
    import paddle

    folder = Path(folder)
    if (folder / OPTIMIZER_FILE).is_file():
        tensors = safe_weights.load_state(folder / OPTIMIZER_FILE)
        values, groups = _read_optimizer_values(folder / OPTIMIZER_VALUES_FILE, tensors)
        state = dict(values)
        for outer, names in groups.items():
            state[outer] = {name: paddle.to_tensor(tensors.pop(f"{outer}{_GROUP_SEPARATOR}{name}")) for name in names}
        state.update(safe_weights.to_paddle(tensors))
        return state
    path = folder / LEGACY_OPTIMIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no {OPTIMIZER_FILE} (nor an old {LEGACY_OPTIMIZER_FILE}) to resume "
                                f"the optimizer from")
    value = safe_weights.load_pickle(path)
    if not isinstance(value, dict):
        raise UnsafeWeightsError(f"{path}: holds a {type(value).__name__}, not an optimizer state dict")

    def tensor(item):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            item = item[1]
        if isinstance(item, dict):
            return {key: tensor(inner) for key, inner in item.items()}
        return paddle.to_tensor(item) if isinstance(item, np.ndarray) else item

    return {key: tensor(item) for key, item in value.items() if key != safe_weights.PADDLE_NAME_TABLE}


def load_metrics(path):
    """hub.Trainer's ``metrics.pkl`` (a dict of metric -> number) through the restricted unpickler."""
    value = safe_weights.load_pickle(path)
    if not isinstance(value, dict):
        raise UnsafeWeightsError(f"{path}: holds a {type(value).__name__}, not hub.Trainer's metrics dict")
    return value


def save_state(state_dict, path):
    """Save weights to ``path`` (``.safetensors`` or ``.npz``) atomically: an interrupted save leaves the
    previous file intact.  A pickle (``.pdparams``) is refused: the course writes nothing that can carry code."""
    return safe_weights.save_state(state_dict, path)
