"""Checkpoints: which ``model.pdparams`` a ``checkpoint=`` argument means, loading it, saving one atomically.

Every model of the course takes the same kinds of ``checkpoint``:

* a ``.pdparams`` file;
* a folder holding ``model.pdparams`` (``train --out``, or one ``epoch_N/`` / ``best_model/``
  folder of ``hub.Trainer``);
* a fine-tune output folder, where ``best_model/`` wins over the latest ``epoch_N/``.
"""
from pathlib import Path

from paddle_course.common.fileio import atomic_path

PARAMS_FILE = "model.pdparams"


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
    for candidate in (path / PARAMS_FILE, path / "best_model" / PARAMS_FILE):
        if candidate.is_file():
            return candidate
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
    """``(path, state dict)`` of the weights ``checkpoint`` means, read with ``paddle.load``."""
    import paddle

    path = find_weights(checkpoint)
    return path, paddle.load(str(path))


def save_state(state_dict, path):
    """``paddle.save`` to ``path`` atomically: an interrupted save leaves the previous file intact."""
    import paddle

    with atomic_path(path) as tmp:
        paddle.save(state_dict, str(tmp))
    return Path(path)
