"""The sentiment model on disk: the shipped weights, a checkpoint's weights, vocabulary and config together.

A model is four files that only work together: ``model.safetensors`` (the
:class:`~paddle_course.sentiment.network.SentimentBiLSTM`'s weights; a format that holds
tensors only, so loading it cannot run code), ``vocab.json`` (characters and bigrams),
``lexicon.tsv`` (word -> tag, see :mod:`~paddle_course.sentiment.lexicon`) and
``config.json`` (hyper-parameters and the fitted temperature).  The shipped ones are in
the ``course_sentiment`` hub module's ``assets/``.  The course's fine-tune writes
``epoch_N/model.safetensors`` and ``best_model/model.safetensors`` too; a ``model.pdparams``
(PaddleHub's own ``hub.Trainer``, an older course version, a classmate) is read by
:mod:`paddle_course.common.safe_weights`'s restricted unpickler, never by ``paddle.load``.
"""
import json
from pathlib import Path

from paddle_course.common.fileio import atomic_dir, write_json
from paddle_course.common.paths import hub_module_dir

MODULE_NAME = "course_sentiment"
TRAIN_SEED = 1
WEIGHTS_FILE = "model.safetensors"

# Hyper-parameters of the shipped model; `finetune.train_model` writes them to config.json.
DEFAULT_CONFIG = {
    "char_dim": 128,
    "bigram_dim": 64,
    "lex_dim": 16,
    "hidden_size": 128,
    "dropout": 0.3,
    "max_len": 64,
    "min_char_freq": 2,
    "temperature": 1.0,
}
DEFAULT_TRAIN = {"epochs": 3, "batch_size": 64, "lr": 5e-4, "seed": TRAIN_SEED}


def shipped_model_dir():
    """``paddle_course/hub_modules/course_sentiment/assets``: the shipped weights, vocab and config."""
    return hub_module_dir(MODULE_NAME) / "assets"


def resolve_checkpoint(checkpoint):
    """The weights file a ``checkpoint=`` argument means: a weights file, a folder with ``model.safetensors``,
    or what :func:`paddle_course.common.checkpoints.find_weights` finds (``model.pdparams``, ``best_model/``,
    the latest ``epoch_N/``; ``model.safetensors`` before ``model.pdparams`` in each)."""
    path = Path(checkpoint)
    if path.is_dir() and (path / WEIGHTS_FILE).is_file():
        return path / WEIGHTS_FILE
    from paddle_course.common.checkpoints import find_weights  # numpy: not at import (the CLI reads DEFAULT_TRAIN)

    return find_weights(checkpoint)


def _side_file(weights, name, assets_dir):
    """``vocab.json``/``config.json``/``lexicon.tsv`` next to the weights, or one folder up, else the assets' one."""
    for folder in (weights.parent, weights.parent.parent):
        if (folder / name).is_file():
            return folder / name
    return Path(assets_dir) / name


def load_weights(path):
    """A state dict ``{name: ndarray}`` from a weights file (safetensors, ``.npz``, or a pickle read without
    running code); ``layer.set_state_dict`` takes it as it is."""
    from paddle_course.common.safe_weights import load_state

    return load_state(path)


def load_model(checkpoint=None, assets_dir=None):
    """``(network, vocab, config)`` in eval mode: the weights in ``assets_dir`` (default: the
    shipped ones), or those of ``checkpoint`` (see ``resolve_checkpoint``)."""
    from paddle_course.common.checkpoints import unfit_keys
    from paddle_course.common.safe_weights import load_state, to_paddle
    from paddle_course.sentiment.lexicon import Lexicon
    from paddle_course.sentiment.network import build_network
    from paddle_course.sentiment.vocab import Vocab

    assets_dir = Path(assets_dir) if assets_dir else shipped_model_dir()
    weights = resolve_checkpoint(checkpoint) if checkpoint else assets_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: no such file; retrain it with `paddle-course sentiment train`")
    saved = json.loads(_side_file(weights, "config.json", assets_dir).read_text(encoding="utf-8"))
    config = {**DEFAULT_CONFIG, **saved}
    lexicon = Lexicon.load(_side_file(weights, "lexicon.tsv", assets_dir)) if config["lex_dim"] else None
    vocab = Vocab.load(_side_file(weights, "vocab.json", assets_dir), lexicon)
    network = build_network(vocab, config)
    state = load_state(weights)
    expected = network.state_dict()
    wrong = list(unfit_keys(expected, state))
    if wrong:
        raise ValueError(f"checkpoint {weights} does not fit the course_sentiment network described by its "
                         f"config.json (missing or wrong shape: {', '.join(wrong[:3])})")
    network.set_state_dict(to_paddle({k: state[k] for k in expected}))
    network.eval()
    return network, vocab, config


def save_lexicon(lexicon, path):
    from paddle_course.common.fileio import write_text

    return write_text(path, "".join(f"{w}\t{t}\n" for w, t in sorted(lexicon.words.items())))


def save_model(out_dir, network, vocab, config, extra=None):
    """Write ``model.safetensors``, ``vocab.json``, ``lexicon.tsv``, ``config.json`` (+ ``metrics.json``)
    as one atomic folder."""
    from paddle_course.common.safe_weights import save_state

    with atomic_dir(out_dir) as tmp:
        save_state(network.state_dict(), tmp / WEIGHTS_FILE)
        vocab.save(tmp / "vocab.json")
        if vocab.lexicon is not None:
            save_lexicon(vocab.lexicon, tmp / "lexicon.tsv")
        write_json(tmp / "config.json", config)
        if extra:
            write_json(tmp / "metrics.json", extra)
    return Path(out_dir)
