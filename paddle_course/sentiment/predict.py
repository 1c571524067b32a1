"""Classify texts with the sentiment model: probabilities, PaddleHub senta-style results, accuracy.

What the ``course_sentiment`` hub module's ``sentiment_classify`` returns is
:func:`classify`'s result; :func:`evaluate` measures accuracy on a ``text<TAB>label`` file.
"""
import os
from pathlib import Path

import numpy as np

from paddle_course.sentiment.corpus import LABEL_KEYS, SPLITS, read_tsv, split_path
from paddle_course.sentiment.model import load_model
from paddle_course.sentiment.vocab import pad_batch


def check_texts(texts):
    """Validate the input of ``sentiment_classify``: a non-empty list of non-empty strings."""
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, got one string; wrap it in a list: [text]")
    if not isinstance(texts, (list, tuple)):
        raise ValueError(f"texts must be a list of strings, got {type(texts).__name__}")
    if not texts:
        raise ValueError("texts is empty: give at least one text to classify")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] is {type(text).__name__}, not a string")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or only whitespace")
    return list(texts)


def predict_logits(network, vocab, texts, batch_size=64):
    """Raw logits ``[N, 2]`` (float64) in input order; texts of similar length are batched together
    (less padding); the network ignores padding, so the logits do not depend on the batching."""
    import paddle

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    encoded = [vocab.encode(t) for t in texts]
    order = np.argsort([len(e[0]) for e in encoded], kind="stable")
    logits = np.empty((len(texts), 2), dtype="float64")
    # an eval-mode SentimentBiLSTM has an inference-only path with the same logits (~2x faster on CPU)
    fast = network.fast_logits if getattr(network, "can_use_fast_logits", lambda: False)() else None
    with paddle.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            batch = pad_batch([encoded[i] for i in rows])
            if fast is not None:
                logits[rows] = fast(*[paddle.to_tensor(a) for a in batch[:3]], batch[3])
            else:
                logits[rows] = network(*[paddle.to_tensor(a) for a in batch]).numpy()
    return logits


def calibrated_positive_probs(logits, temperature=1.0):
    """``p(positive) = softmax(z / T)_1 = sigmoid((z_1 - z_0) / T)``, ``T`` fitted on held-out data
    (:func:`paddle_course.sentiment.calibration.fit_temperature`); ``T`` never changes the winner."""
    margin = np.clip((logits[:, 1] - logits[:, 0]) / temperature, -500, 500)
    return 1.0 / (1.0 + np.exp(-margin))


def predict_probs(network, vocab, config, texts, batch_size=64):
    """``p(positive)`` for every text, as a float64 array, calibrated with ``config["temperature"]``."""
    return calibrated_positive_probs(predict_logits(network, vocab, texts, batch_size), config.get("temperature", 1.0))


def format_results(texts, positive_probs):
    """PaddleHub senta format, one dict per text; probabilities rounded to 4 decimals like senta."""
    results = []
    for text, p in zip(texts, positive_probs):
        positive = round(float(p), 4)
        label = int(positive >= 0.5)  # from the rounded value, so label and probs never disagree
        results.append({
            "text": text,
            "sentiment_label": label,
            "sentiment_key": LABEL_KEYS[label],
            "positive_probs": positive,
            "negative_probs": round(1.0 - positive, 4),
        })
    return results


def classify(texts, batch_size=1, checkpoint=None, model=None):
    """Classify ``texts`` (see ``course_sentiment.sentiment_classify`` for the result format).

    ``model`` is a ``(network, vocab, config)`` triple from ``load_model`` to reuse.
    """
    texts = check_texts(texts)
    network, vocab, config = model or load_model(checkpoint)
    return format_results(texts, predict_probs(network, vocab, config, texts, batch_size))


def _as_model(module_or_model):
    """``(network, vocab, config)`` from a hub module, a triple, a checkpoint path, or None (shipped)."""
    if module_or_model is None or isinstance(module_or_model, (str, os.PathLike)):
        return load_model(module_or_model)
    if isinstance(module_or_model, tuple):
        return module_or_model
    if hasattr(module_or_model, "network") and hasattr(module_or_model, "vocab"):
        return module_or_model.network, module_or_model.vocab, module_or_model.config
    raise ValueError(f"cannot evaluate a {type(module_or_model).__name__}: give the course_sentiment module, "
                     "a (network, vocab, config) triple, or a checkpoint path")


def evaluate(module_or_model=None, split="test", batch_size=256):
    """Accuracy on a split: ``mean(argmax p(y|text) == label)``.

    ``split`` is ``"train"``, ``"dev"``, ``"test"`` (the shipped files, see ``split_path``)
    or the path of any ``text<TAB>label`` file. ``module_or_model``: the loaded
    ``course_sentiment`` module, a ``load_model`` triple, a checkpoint path, or None
    for the shipped weights.
    """
    path = split_path(split) if split in SPLITS else Path(split)
    return accuracy(_as_model(module_or_model), read_tsv(path), batch_size)


def accuracy(model, pairs, batch_size=256):
    """Accuracy of a ``(network, vocab, config)`` triple on ``(text, label)`` pairs (what a fine-tune measures)."""
    network, vocab, config = model
    probs = predict_probs(network, vocab, config, [t for t, _ in pairs], batch_size)
    labels = np.array([lab for _, lab in pairs])
    return float(np.mean((probs >= 0.5).astype(int) == labels))

