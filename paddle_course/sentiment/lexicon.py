"""A sentiment lexicon as a third input: each character gets the tag of the lexicon word covering it.

Tags: 0 none, 1 positive word, 2 negative word, 3 negator (不/没有/并非...), 4 degree adverb
(非常/稍微...), 5 contrast or concession word (但是/虽然/即使...). Words are found by forward
maximum matching (longest word first, at most ``MAX_WORD`` characters), so 不好 is one negative
word, not a negator followed by a positive one.

The lexicon gives the network a prior for sentiment words it never saw in training (e.g. 精湛);
the network learns how far to trust it. Source of the word lists: ``lexicon.tsv`` (see
tools/build_lexicon.py: jionlp 1.5.31, Apache-2.0, plus the contrast words written here).


"""
from pathlib import Path

import numpy as np

TAGS = ("none", "positive", "negative", "negator", "degree", "contrast")
MAX_WORD = 4


class Lexicon:
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
