"""Stand-in of ``paddle_course.sentiment`` inside the grading sandbox (see ``sandbox_course/__init__.py``).

The character + bigram BiLSTM, its vocabulary and lexicon, the ``text<TAB>label`` reader and
prediction, as the real package has them; no corpus preparation, training or serving.  Keep in
step with the real package: ``tests/test_grader_sandbox.py`` fails when they differ.
"""
import collections
import json
import unicodedata
from pathlib import Path

import numpy as np

from paddle_course.common.paths import hub_module_dir

MODULE_NAME = "course_sentiment"
LABEL_KEYS = ("negative", "positive")  # index = label: 0 negative, 1 positive
PAD, UNK = "[PAD]", "[UNK]"
TSV_HEADER = "text\tlabel"
WEIGHTS_FILE = "model.safetensors"
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
NETWORK_KEYS = ("char_dim", "bigram_dim", "lex_dim", "hidden_size", "dropout")


def normalize_text(text):
    """One line of text: every run of whitespace (tabs, newlines, full-width spaces) -> one space."""
    return " ".join(str(text).split())


def read_tsv(path):
    """Read a ``text<TAB>label`` file into ``[(text, label), ...]``; label 1 positive, 0 negative.

    A first line ``text<TAB>label`` is a header and skipped; a header with more columns
    after those two (the hand-written reviews: ``domain``, ``phenomenon``, ``hard``) makes
    every line have that many, and the extra ones are ignored. Every problem raises
    ValueError naming the file and line: wrong number of columns, a label that is
    not 0 or 1, an empty text; a missing file raises FileNotFoundError.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a TSV file with lines text<TAB>label)")
    pairs = []
    columns = ["text", "label"]
    with open(path, encoding="utf-8-sig") as file:
        for lineno, line in enumerate(file, start=1):
            line = line.rstrip("\r\n")
            if lineno == 1 and line.split("\t")[:2] == columns:
                columns = line.split("\t")
                continue
            if not line.strip():
                continue  # blank lines, e.g. at the end of a hand-written file
            fields = line.split("\t")
            if len(fields) != len(columns):
                raise ValueError(f"{path}:{lineno}: expected {len(columns)} tab-separated columns "
                                 f"({', '.join(columns)}), found {len(fields)}")
            text, label = fields[0].strip(), fields[1].strip()
            if label not in ("0", "1"):
                raise ValueError(f"{path}:{lineno}: label must be 0 (negative) or 1 (positive), got {label!r}")
            if not text:
                raise ValueError(f"{path}:{lineno}: empty text")
            pairs.append((text, int(label)))
    if not pairs:
        raise ValueError(f"{path}: no examples (expected lines text<TAB>label)")
    return pairs


TAGS = ("none", "positive", "negative", "negator", "degree", "contrast")
MAX_WORD = 4


class Lexicon:
    """Word -> tag (1 positive, 2 negative, 3 negator, 4 degree, 5 contrast); ``tag(text)``: one tag a character."""

    def __init__(self, words):
        """``words``: mapping word -> tag id (1..5)."""
        self.words = {w: int(t) for w, t in words.items() if 1 <= len(w) <= MAX_WORD}
        bad = {t for t in self.words.values() if not 0 < t < len(TAGS)}
        if bad:
            raise ValueError(f"lexicon tags must be 1..{len(TAGS) - 1}, got {sorted(bad)}")

    def tag(self, text):
        """int64 array of one tag per character of ``text``."""
        tags = np.zeros(len(text), dtype="int64")
        i = 0
        while i < len(text):
            for size in range(min(MAX_WORD, len(text) - i), 0, -1):
                tag = self.words.get(text[i:i + size])
                if tag:
                    tags[i:i + size] = tag
                    i += size
                    break
            else:
                i += 1
        return tags

    @classmethod
    def load(cls, path):
        words = {}
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not fields[1].isdigit():
                raise ValueError(f"{path}:{lineno}: expected word<TAB>tag")
            words[fields[0]] = int(fields[1])
        return cls(words)


def normalize_for_model(text):
    """NFKC (full-width letters/digits -> ASCII), lower case, whitespace runs -> one space: ｙｙｄｓ -> yyds."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return " ".join(text.split())


def bigrams(text):
    """``c_t c_{t+1}`` for every position t; the last one pairs the last character with an end mark."""
    return [text[i:i + 2] if i + 1 < len(text) else text[i] + "</s>" for i in range(len(text))]


class Vocab:
    """Characters and bigrams -> ids. Id 0 pads, id 1 is unknown, in both vocabularies.

    ``encode(text) -> (char_ids, bigram_ids, lexicon_tags)``; without a ``lexicon``
    every tag is 0.  ``len(vocab)`` is the number of characters.
    """

    def __init__(self, chars, bigram_list=(), max_len=64, lexicon=None):
        self.chars = [PAD, UNK] + [c for c in chars if c not in (PAD, UNK)]
        self.bigrams = [PAD, UNK] + [b for b in bigram_list if b not in (PAD, UNK)]
        self.char_ids = {c: i for i, c in enumerate(self.chars)}
        self.bigram_ids = {b: i for i, b in enumerate(self.bigrams)}
        self.max_len = int(max_len)
        self.lexicon = lexicon

    def __len__(self):
        return len(self.chars)

    @property
    def num_bigrams(self):
        return len(self.bigrams)

    @classmethod
    def build(cls, texts, min_char_freq=2, min_bigram_freq=2, max_bigrams=30000, max_len=64, lexicon=None):
        """Most frequent first (ties by string), so the same texts give the same ids."""
        char_freq, bigram_freq = collections.Counter(), collections.Counter()
        for text in texts:
            text = normalize_for_model(text)[:max_len]
            char_freq.update(text)
            bigram_freq.update(bigrams(text))
        chars = sorted((c for c, n in char_freq.items() if n >= min_char_freq), key=lambda c: (-char_freq[c], c))
        grams = sorted((b for b, n in bigram_freq.items() if n >= min_bigram_freq), key=lambda b: (-bigram_freq[b], b))
        return cls(chars, grams[:max_bigrams], max_len, lexicon)

    def encode(self, text):
        """``(char_ids, bigram_ids, lexicon_tags)``: int64 arrays of one length (at most ``max_len``)."""
        text = normalize_for_model(text)[:self.max_len] or " "
        chars = np.array([self.char_ids.get(c, 1) for c in text], dtype="int64")
        grams = np.array([self.bigram_ids.get(b, 1) for b in bigrams(text)], dtype="int64")
        tags = self.lexicon.tag(text) if self.lexicon is not None else np.zeros(len(text), dtype="int64")
        return chars, grams, tags

    def save(self, path):
        # JSON, not one item per line: the vocabulary contains the space character.
        data = {"chars": self.chars[2:], "bigrams": self.bigrams[2:], "max_len": self.max_len}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path, lexicon=None):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not {"chars", "bigrams", "max_len"} <= set(data):
            raise ValueError(f"{path}: not a course_sentiment vocabulary (a JSON object with chars, bigrams, max_len)")
        return cls(data["chars"], data["bigrams"], data["max_len"], lexicon)


def pad_batch(encoded, width=None):
    """``[(chars, bigrams, tags)]`` -> ``(chars, bigrams, tags)`` int64 ``[B, L]`` each and ``lengths [B]``,
    right-padded with 0 to the longest text, or to ``width`` if that is wider (a fixed width gives every
    batch the same shape, which data-parallel dropout needs, see ``common.parallel``)."""
    width = max([width or 0] + [len(e[0]) for e in encoded])
    arrays = [np.zeros((len(encoded), width), dtype="int64") for _ in range(3)]
    for row, seqs in enumerate(encoded):
        for array, seq in zip(arrays, seqs):
            array[row, :len(seq)] = seq
    lengths = np.array([len(e[0]) for e in encoded], dtype="int64")
    return (*arrays, lengths)


_NETWORK_CLASS = None


def network_class():
    """The ``SentimentBiLSTM`` class (a ``paddle.nn.Layer``); subclass it to add hub.Trainer steps (homework 5)."""
    global _NETWORK_CLASS
    if _NETWORK_CLASS is not None:
        return _NETWORK_CLASS
    import paddle

    nn = paddle.nn
    F = paddle.nn.functional

    class SentimentBiLSTM(nn.Layer):
        """``forward(chars, bigrams, tags, lengths) -> logits [B, 2]`` (index 0 negative, 1 positive).

        For a review ``x_1..x_n``: ``e_t = [E_char(x_t); E_bigram(x_t x_{t+1}); E_tag(tag_t)]``,
        ``h_t = [LSTM_fw(e_1..e_t); LSTM_bw(e_t..e_n)]``,
        ``z = W [max_t h_t; h^fw_n; h^bw_1] + b``; ``p(y | x) = softmax(z / T)`` with the
        temperature ``T`` fitted on held-out data after training (``calibration.py``).
        Padding (id 0) never changes a text's logits: the LSTM stops at ``lengths`` and the
        max-pool skips padded positions.

        ``training_step``/``validation_step`` are what ``hub.Trainer`` calls; a batch is
        ``[chars, bigrams, tags, lengths, labels]``.
        """

        def __init__(self, num_chars, num_bigrams, char_dim=128, bigram_dim=64, lex_dim=16, hidden_size=128, dropout=0.3):
            super().__init__()
            self.char_embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
            self.bigram_embedding = nn.Embedding(num_bigrams, bigram_dim, padding_idx=0)
            self.lex_embedding = nn.Embedding(len(TAGS), lex_dim) if lex_dim else None
            self.embedding_dropout = nn.Dropout(dropout / 2)
            self.lstm = nn.LSTM(char_dim + bigram_dim + lex_dim, hidden_size, direction="bidirect")
            self.dropout = nn.Dropout(dropout)
            self.fc = nn.Linear(4 * hidden_size, len(LABEL_KEYS))

        def features(self, chars, bigrams, tags, lengths):
            """``[max_t h_t; h^fw_n; h^bw_1]``: ``[B, 4H]``."""
            parts = [self.char_embedding(chars), self.bigram_embedding(bigrams)]
            if self.lex_embedding is not None:
                parts.append(self.lex_embedding(tags))
            x = self.embedding_dropout(paddle.concat(parts, axis=-1))
            outputs, (h, _) = self.lstm(x, sequence_length=lengths.astype("int32"))  # outputs [B, L, 2H]
            valid = (chars != 0).unsqueeze(-1)  # [B, L, 1]
            masked = paddle.where(valid, outputs, paddle.full_like(outputs, -1e4))
            # adaptive_max_pool1d, not .max(axis=1): same value, but max's backward is ~50x slower on CPU (Paddle 3.3)
            pooled = F.adaptive_max_pool1d(masked.transpose([0, 2, 1]), 1).squeeze(2)
            last = paddle.concat([h[-2], h[-1]], axis=-1)  # final forward state at n, backward state at 1
            return paddle.concat([pooled, last], axis=-1)

        def forward(self, chars, bigrams, tags, lengths):
            return self.fc(self.dropout(self.features(chars, bigrams, tags, lengths)))

        def _loss_and_accuracy(self, batch):
            *inputs, labels = batch
            logits = self(*inputs)
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
    _NETWORK_CLASS = SentimentBiLSTM
    return SentimentBiLSTM


def __getattr__(name):
    if name == "SentimentBiLSTM":  # as ``from paddle_course.sentiment import SentimentBiLSTM`` (made on first use)
        return network_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_network(vocab, config):
    """The BiLSTM as a ``paddle.nn.Layer`` for ``vocab``'s characters and bigrams."""
    return network_class()(len(vocab), vocab.num_bigrams, **{k: config[k] for k in NETWORK_KEYS if k in config})


def shipped_model_dir():
    """The shipped weights, vocab, lexicon and config (in the sandbox: a read-only copy)."""
    return hub_module_dir(MODULE_NAME) / "assets"


def shipped_vocab_and_config():
    """``(vocab, config)`` of the shipped module: ``vocab.json`` + ``lexicon.tsv``, ``config.json`` over the defaults."""
    assets = shipped_model_dir()
    saved = json.loads((assets / "config.json").read_text(encoding="utf-8"))
    config = {**DEFAULT_CONFIG, **saved}
    lexicon = Lexicon.load(assets / "lexicon.tsv") if config["lex_dim"] else None
    return Vocab.load(assets / "vocab.json", lexicon), config


def load_weights(path):
    """A state dict ``{name: ndarray}``: a ``.safetensors`` file (tensors only, nothing in it can run), or a
    checkpoint of ``hub.Trainer`` (``paddle.save``'s pickle, written by the learner's own run in the sandbox)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return load_file(str(path))
    import paddle

    return {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in paddle.load(str(path)).items()}


def load_model():
    """``(network, vocab, config)`` with the shipped weights, in eval mode."""
    import paddle

    vocab, config = shipped_vocab_and_config()
    network = build_network(vocab, config)
    network.set_state_dict({k: paddle.to_tensor(v) for k, v in load_weights(shipped_model_dir() / WEIGHTS_FILE).items()})
    network.eval()
    return network, vocab, config


def predict_probs(network, vocab, config, texts, batch_size=64):
    """``p(positive) = sigmoid((z_1 - z_0) / T)`` for every text, as a float64 array (batches in input order)."""
    import paddle

    encoded = [vocab.encode(t) for t in texts]
    order = np.argsort([len(e[0]) for e in encoded], kind="stable")
    logits = np.empty((len(texts), 2), dtype="float64")
    with paddle.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            logits[rows] = network(*[paddle.to_tensor(a) for a in pad_batch([encoded[i] for i in rows])]).numpy()
    margin = np.clip((logits[:, 1] - logits[:, 0]) / config.get("temperature", 1.0), -500, 500)
    return 1.0 / (1.0 + np.exp(-margin))
