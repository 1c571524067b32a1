"""Characters and character bigrams to ids, and batches of ids: the text processing of the sentiment BiLSTM.

Course 3.2 (文本情感分类): a review becomes two id sequences of the same length -- its
characters ``c_t`` and its bigrams ``c_t c_{t+1}`` -- so the network sees words such as
不错/失望 without a word segmenter; with a :class:`~paddle_course.sentiment.lexicon.Lexicon`
each character also gets the tag of the lexicon word covering it.
"""
import collections
import json
import unicodedata
from pathlib import Path

import numpy as np

from paddle_course.common.fileio import write_json

PAD, UNK = "[PAD]", "[UNK]"


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
        return write_json(path, {"chars": self.chars[2:], "bigrams": self.bigrams[2:], "max_len": self.max_len})

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
