"""The sentiment model on disk: the shipped weights, a checkpoint's weights, vocabulary and config together.

A model is three things that only work together: ``model.pdparams`` (the
:class:`~paddle_course.sentiment.network.SentimentCNN`'s weights), ``vocab.json`` and
``config.json`` (the hyper-parameters).  The shipped ones are in the ``course_sentiment``
hub module's ``assets/``.
"""
import json
from pathlib import Path

from paddle_course.common.checkpoints import find_weights
from paddle_course.common.fileio import atomic_dir, write_json
from paddle_course.common.paths import hub_module_dir

MODULE_NAME = "course_sentiment"
TRAIN_SEED = 1

# Hyper-parameters of the shipped model; `finetune.train_model` writes them to config.json.
DEFAULT_CONFIG = {
    "embedding_dim": 64,
    "num_filters": 96,
    "kernel_sizes": [2, 3, 4],
    "dropout": 0.3,
    "max_len": 200,
    "min_char_freq": 2,
}
DEFAULT_TRAIN = {"epochs": 4, "batch_size": 64, "lr": 2e-3, "seed": TRAIN_SEED}


def shipped_model_dir():
    """``paddle_course/hub_modules/course_sentiment/assets``: the shipped weights, vocab and config."""
    return hub_module_dir(MODULE_NAME) / "assets"


def resolve_checkpoint(checkpoint):
    """The ``model.pdparams`` a ``checkpoint=`` argument means (see :mod:`paddle_course.common.checkpoints`)."""
    return find_weights(checkpoint)


def _side_file(weights, name, assets_dir):
    """``vocab.json``/``config.json`` next to the weights, or one folder up, else the assets' one."""
    for folder in (weights.parent, weights.parent.parent):
        if (folder / name).is_file():
            return folder / name
    return Path(assets_dir) / name


def load_model(checkpoint=None, assets_dir=None):
    """``(network, vocab, config)`` in eval mode: the weights in ``assets_dir`` (default: the
    shipped ones), or those of ``checkpoint`` (see ``resolve_checkpoint``)."""
    import paddle

    from paddle_course.sentiment.network import build_network
    from paddle_course.sentiment.vocab import Vocab

    assets_dir = Path(assets_dir) if assets_dir else shipped_model_dir()
    weights = resolve_checkpoint(checkpoint) if checkpoint else assets_dir / "model.pdparams"
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: no such file; retrain it with `paddle-course sentiment train`")
    vocab = Vocab.load(_side_file(weights, "vocab.json", assets_dir))
    saved = json.loads(_side_file(weights, "config.json", assets_dir).read_text(encoding="utf-8"))
    config = {**DEFAULT_CONFIG, **saved}
    network = build_network(len(vocab), config)
    state = paddle.load(str(weights))
    expected = {k: list(v.shape) for k, v in network.state_dict().items()}
    wrong = [k for k, shape in expected.items() if k not in state or list(state[k].shape) != shape]
    if wrong:
        raise ValueError(f"checkpoint {weights} does not fit the course_sentiment network described by its "
                         f"config.json (missing or wrong shape: {', '.join(wrong[:3])})")
    network.set_state_dict(state)
    network.eval()
    return network, vocab, config


def save_model(out_dir, network, vocab, config, extra=None):
    """Write ``model.pdparams``, ``vocab.json``, ``config.json`` (+ ``metrics.json``) as one atomic folder."""
    import paddle

    with atomic_dir(out_dir) as tmp:
        paddle.save(network.state_dict(), str(tmp / "model.pdparams"))
        vocab.save(tmp / "vocab.json")
        write_json(tmp / "config.json", config)
        if extra:
            write_json(tmp / "metrics.json", extra)
    return Path(out_dir)

