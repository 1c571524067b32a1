"""course_sentiment against the locked test part of the hand-written reviews (issue 10).

``data/sentiment_reviews/test.tsv``: 398 reviews written and labelled by hand before any model was
trained, split from the dev part by a seeded stratified draw, and evaluated once by the lead when the
model was final (``bench/sentiment.py``): overall 0.922, hard part 0.903 (snownlp's shipped model 0.721 /
0.693). This test guards that level against regressions; it is not a place to tune anything.
"""
import csv

import pytest

from paddle_course.common.paths import data_path
from paddle_course.sentiment import classify


def _rows():
    with open(data_path("sentiment_reviews", "test.tsv"), encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _accuracy(rows):
    results = classify([r["text"] for r in rows], batch_size=64)
    return sum(res["sentiment_label"] == int(r["label"]) for res, r in zip(results, rows)) / len(rows)


@pytest.fixture(scope="module")
def rows():
    return _rows()


def test_locked_test_set_is_the_one_evaluated(rows):
    assert len(rows) == 398
    assert sum(r["hard"] == "1" for r in rows) == 277


def test_accuracy_on_the_locked_hand_written_reviews(rows):
    # measured once at 0.922 overall; the target is 0.92
    assert _accuracy(rows) >= 0.91


def test_accuracy_on_the_hard_part(rows):
    # measured once at 0.903; the target is 0.85
    assert _accuracy([r for r in rows if r["hard"] == "1"]) >= 0.88
