"""Checkpoints: which ``model.pdparams`` a ``checkpoint=`` argument means, loading it, saving one atomically.

Every model of the course takes the same kinds of ``checkpoint``:

* a ``.pdparams`` file;
* a folder holding ``model.pdparams`` (``train --out``, or one ``epoch_N/`` / ``best_model/``
  folder of ``hub.Trainer``);
* a fine-tune output folder, where ``best_model/`` wins over the latest ``epoch_N/``.

A folder may hold ``model.safetensors`` instead of (or besides) ``model.pdparams``; the
safetensors file wins.  Every weights file is read through
:mod:`paddle_course.common.safe_weights`: ``.safetensors``/``.npz`` cannot carry code, and a
``.pdparams``/``.pdopt``/``.pkl`` goes through a restricted unpickler that refuses anything
but arrays, plain containers and numbers (:class:`UnsafeWeightsError`, naming the file)
before anything in it runs.  Nothing here calls ``paddle.load``.
"""
from pathlib import Path

import numpy as np

from paddle_course.common import safe_weights
from paddle_course.common.fileio import atomic_path
from paddle_course.common.safe_weights import UnsafeWeightsError  # noqa: F401  (re-exported for callers)

PARAMS_FILE = "model.pdparams"
SAFE_PARAMS_FILE = "model.safetensors"


def _epoch_number(folder):
    number = folder.name.split("_", 1)[1] if "_" in folder.name else ""
    return int(number) if number.isdigit() else None


def latest_epoch_dir(folder):
    """The ``epoch_N/`` folder with the highest ``N`` that holds ``model.pdparams``, or None."""
    epochs = [(_epoch_number(p), p) for p in Path(folder).glob("epoch_*")]
    epochs = sorted((n, p) for n, p in epochs if n is not None and (p / PARAMS_FILE).is_file())
    return epochs[-1][1] if epochs else None


def find_weights(checkpoint):
    """The ``model.pdparams`` file that ``checkpoint`` means (see the module docstring).

    Raises FileNotFoundError naming the checkpoint and where it looked.
    """
    path = Path(checkpoint)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint {path}: no such file or folder (no model.pdparams found)")
    for folder in (path, path / "best_model"):
        for name in (SAFE_PARAMS_FILE, PARAMS_FILE):
            if (folder / name).is_file():
                return folder / name
    latest = latest_epoch_dir(path)
    if latest is not None:
        return latest / PARAMS_FILE
    raise FileNotFoundError(f"checkpoint {path}: no model.pdparams found in it, nor in best_model/ or epoch_N/")


def best_checkpoint_dir(trainer_dir):
    """The folder a ``hub.Trainer`` run's result is in: ``best_model/`` if it evaluated, else the latest ``epoch_N/``."""
    trainer_dir = Path(trainer_dir)
    if (trainer_dir / "best_model" / PARAMS_FILE).is_file():
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
    """The state dict (paddle Tensors) in one weights file, code refused; for ``set_state_dict``."""
    return safe_weights.to_paddle(safe_weights.load_state(path))


def load_optimizer_state(path):
    """An optimizer's state (``model.pdopt``) as ``paddle.load`` returns it, through the restricted unpickler.

    Arrays become Tensors, plain values (the LR scheduler's dict) stay as they are;
    paddle.save's table of structured names is dropped, as ``paddle.load`` does.
    """
    import paddle

    value = safe_weights.load_pickle(path)
    if not isinstance(value, dict):
        raise UnsafeWeightsError(f"{path}: holds a {type(value).__name__}, not an optimizer state dict")
    state = {}
    for key, item in value.items():
        if key == safe_weights.PADDLE_NAME_TABLE:
            continue
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            item = item[1]
        state[key] = paddle.to_tensor(item) if isinstance(item, np.ndarray) else item
    return state


def load_metrics(path):
    """hub.Trainer's ``metrics.pkl`` (a dict of metric -> number) through the restricted unpickler."""
    value = safe_weights.load_pickle(path)
    if not isinstance(value, dict):
        raise UnsafeWeightsError(f"{path}: holds a {type(value).__name__}, not hub.Trainer's metrics dict")
    return value


def save_state(state_dict, path):
    """Save weights to ``path`` atomically: an interrupted save leaves the previous file intact.

    ``.safetensors``/``.npz`` are written code-free (:func:`safe_weights.save_state`); a
    ``.pdparams`` with ``paddle.save`` (still read back through the restricted unpickler).
    """
    import paddle

    if Path(path).suffix.lower() in (".safetensors", ".npz"):
        return safe_weights.save_state(state_dict, path)
    with atomic_path(path) as tmp:
        paddle.save(state_dict, str(tmp))
    return Path(path)
