"""Stand-in of ``paddle_course.sentiment`` inside the grading sandbox (see ``sandbox_course/__init__.py``).

The character TextCNN, its vocabulary, the ``text<TAB>label`` reader and prediction, as the real
module has them; no corpus preparation, training or serving.  Keep in step with the real module:
``tests/test_grader_sandbox.py`` fails when they differ.
"""
import json
from pathlib import Path

import numpy as np

from paddle_course.common.paths import hub_module_dir

MODULE_NAME = "course_sentiment"
LABEL_KEYS = ("negative", "positive")  # index = label: 0 negative, 1 positive
PAD, UNK = "[PAD]", "[UNK]"
TSV_HEADER = "text\tlabel"
DEFAULT_CONFIG = {
    "embedding_dim": 64,
    "num_filters": 96,
    "kernel_sizes": [2, 3, 4],
    "dropout": 0.3,
    "max_len": 200,
    "min_char_freq": 2,
}


def normalize_text(text):
    """One line of text: every run of whitespace (tabs, newlines, full-width spaces) -> one space."""
    return " ".join(str(text).split())


def read_tsv(path):
    """Read a ``text<TAB>label`` file into ``[(text, label), ...]``; label 1 positive, 0 negative.

    A first line ``text<TAB>label`` is a header and skipped. Every problem raises
    ValueError naming the file and line: wrong number of columns, a label that is
    not 0 or 1, an empty text; a missing file raises FileNotFoundError.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a TSV file with lines text<TAB>label)")
    pairs = []
    with open(path, encoding="utf-8-sig") as file:
        for lineno, line in enumerate(file, start=1):
            line = line.rstrip("\r\n")
            if lineno == 1 and line == TSV_HEADER:
                continue
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 2:
                raise ValueError(f"{path}:{lineno}: expected 2 tab-separated columns (text, label), "
                                 f"found {len(fields)}")
            text, label = fields[0].strip(), fields[1].strip()
            if label not in ("0", "1"):
                raise ValueError(f"{path}:{lineno}: label must be 0 (negative) or 1 (positive), got {label!r}")
            if not text:
                raise ValueError(f"{path}:{lineno}: empty text")
            pairs.append((text, int(label)))
    if not pairs:
        raise ValueError(f"{path}: no examples (expected lines text<TAB>label)")
    return pairs


class Vocab:
    """Characters -> ids. Id 0 pads a batch, id 1 stands for a character never seen in training."""

    def __init__(self, chars):
        self.itos = [PAD, UNK] + [c for c in chars if c not in (PAD, UNK)]
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    @classmethod
    def build(cls, texts, min_freq=2):
        """Every character seen at least ``min_freq`` times, most frequent first (ties by code point)."""
        freq = {}
        for text in texts:
            for char in text:
                freq[char] = freq.get(char, 0) + 1
        chars = sorted((c for c, n in freq.items() if n >= min_freq), key=lambda c: (-freq[c], c))
        return cls(chars)

    def encode(self, text, max_len):
        """Ids of the first ``max_len`` characters of ``text``."""
        unk = self.stoi[UNK]
        return np.array([self.stoi.get(c, unk) for c in text[:max_len]], dtype="int64")

    def save(self, path):
        Path(path).write_text(json.dumps(self.itos, ensure_ascii=False), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path):
        itos = json.loads(Path(path).read_text(encoding="utf-8"))
        if itos[:2] != [PAD, UNK]:
            raise ValueError(f"{path}: not a course_sentiment vocabulary (must start with {PAD}, {UNK})")
        return cls(itos[2:])


def pad_batch(id_arrays, min_len):
    """Stack id arrays into one ``[batch, max(len, min_len)]`` int64 array, right-padded with 0."""
    width = max([min_len] + [len(ids) for ids in id_arrays])
    batch = np.zeros((len(id_arrays), width), dtype="int64")
    for row, ids in enumerate(id_arrays):
        batch[row, :len(ids)] = ids
    return batch


_NETWORK_CLASS = None


def network_class():
    """The ``SentimentCNN`` class (a ``paddle.nn.Layer``); subclass it to add hub.Trainer steps (homework 5)."""
    global _NETWORK_CLASS
    if _NETWORK_CLASS is not None:
        return _NETWORK_CLASS
    import paddle

    nn = paddle.nn
    F = paddle.nn.functional

    class SentimentCNN(nn.Layer):
        """Character TextCNN: embedding -> parallel 1-D convolutions -> masked max-pool -> fc."""

        def __init__(self, vocab_size, embedding_dim=64, num_filters=96, kernel_sizes=(2, 3, 4), dropout=0.3):
            super().__init__()
            self.kernel_sizes = list(kernel_sizes)
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            self.convs = nn.LayerList([nn.Conv1D(embedding_dim, num_filters, k) for k in self.kernel_sizes])
            self.dropout = nn.Dropout(dropout)
            self.fc = nn.Linear(num_filters * len(self.kernel_sizes), len(LABEL_KEYS))

        def forward(self, token_ids):
            """``token_ids``: int64 ``[batch, length]``, 0 = padding. Returns logits ``[batch, 2]``."""
            lengths = (token_ids != 0).astype("int64").sum(axis=1, keepdim=True)  # [B, 1]
            x = self.embedding(token_ids).transpose([0, 2, 1])  # [B, E, L] for Conv1D (NCL)
            pooled = []
            for k, conv in zip(self.kernel_sizes, self.convs):
                c = conv(x)  # [B, F, L-k+1]
                positions = paddle.arange(c.shape[2], dtype="int64").unsqueeze(0)  # [1, L-k+1]
                valid = positions < paddle.maximum(lengths - k + 1, paddle.ones_like(lengths))
                c = paddle.where(valid.unsqueeze(1), c, paddle.full_like(c, -1e9))
                pooled.append(F.relu(F.adaptive_max_pool1d(c, 1).squeeze(2)))
            return self.fc(self.dropout(paddle.concat(pooled, axis=1)))

        def _loss_and_accuracy(self, batch):
            token_ids, labels = batch
            logits = self(token_ids)
            loss = F.cross_entropy(logits, labels.reshape([-1, 1]))
            acc = (logits.argmax(axis=1) == labels.reshape([-1])).astype("float32").mean()
            return loss, acc

        def training_step(self, batch, batch_idx):
            """hub.Trainer: ``loss = mean cross-entropy``; metric ``acc`` on the batch."""
            loss, acc = self._loss_and_accuracy(batch)
            return {"loss": loss, "metrics": {"acc": acc}}

        def validation_step(self, batch, batch_idx):
            """hub.Trainer: mean loss and accuracy on one evaluation batch (plain floats)."""
            loss, acc = self._loss_and_accuracy(batch)
            return {"loss": float(loss), "metrics": {"acc": float(acc)}}

    _NETWORK_CLASS = SentimentCNN
    return SentimentCNN


def __getattr__(name):
    if name == "SentimentCNN":  # as ``from paddle_course.sentiment import SentimentCNN`` (made on first use)
        return network_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_network(vocab_size, config):
    """The character TextCNN as a ``paddle.nn.Layer``."""
    keys = ("embedding_dim", "num_filters", "kernel_sizes", "dropout")
    return network_class()(vocab_size, **{k: config[k] for k in keys})


def shipped_model_dir():
    """The shipped weights, vocab and config (in the sandbox: a read-only copy)."""
    return hub_module_dir(MODULE_NAME) / "assets"


def shipped_vocab_and_config():
    """``(vocab, config)`` of the shipped module: ``vocab.json`` and ``config.json`` over the defaults."""
    assets = shipped_model_dir()
    saved = json.loads((assets / "config.json").read_text(encoding="utf-8"))
    return Vocab.load(assets / "vocab.json"), {**DEFAULT_CONFIG, **saved}


def load_model():
    """``(network, vocab, config)`` with the shipped weights, in eval mode."""
    import paddle

    vocab, config = shipped_vocab_and_config()
    network = build_network(len(vocab), config)
    network.set_state_dict(paddle.load(str(shipped_model_dir() / "model.pdparams")))
    network.eval()
    return network, vocab, config


def predict_probs(network, vocab, config, texts, batch_size=64):
    """``p(positive)`` for every text, as a float64 array (batches in input order)."""
    import paddle

    min_len = max(config["kernel_sizes"])
    ids = [vocab.encode(normalize_text(t), config["max_len"]) for t in texts]
    order = np.argsort([len(x) for x in ids], kind="stable")
    probs = np.empty(len(ids), dtype="float64")
    with paddle.no_grad():
        for start in range(0, len(ids), batch_size):
            rows = order[start:start + batch_size]
            batch = paddle.to_tensor(pad_batch([ids[i] for i in rows], min_len))
            probs[rows] = paddle.nn.functional.softmax(network(batch), axis=1)[:, 1].numpy()
    return probs
