"""Characters to ids, and batches of ids: the text processing of the sentiment CNN."""
import json
from pathlib import Path

import numpy as np

from paddle_course.common.fileio import write_json

PAD, UNK = "[PAD]", "[UNK]"


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

