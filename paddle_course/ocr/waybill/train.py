"""Train the waybill labeller on generated waybills (Course 3, 快递单信息抽取), seeded, on CPU.

    OMP_NUM_THREADS=2 python -m paddle_course.ocr.waybill.train --out my_waybill_model

The defaults train from scratch (4 epochs of 60,000 generated texts, 3,752 steps).  The shipped
weights were trained in warm-started stages (``assets/train_log.json``); their last:

    python -m paddle_course.ocr.waybill.train --out stage6 --init stage5 --seed 20 --n-train 20000 \
        --epochs 3 --lr 5e-4 --handwritten-repeat 10 --handwritten data/waybill/train_handwritten/t1.jsonl ...

The training texts come from ``WaybillGenerator(seed)``, the dev texts from another
seed; the checkpoint with the best dev all-three-fields exact match is kept.  Texts written
by hand (``--handwritten FILE``, the JSONL of ``dataset.py``) can be mixed in, each seen
``--handwritten-repeat`` times per epoch: the generator knows only the formats it was written
for, people write others.  Hand-written *evaluation* sets never go here.
Writes config.json, vocab.jsonl, model.safetensors and train_log.json to ``--out``.
"""
import argparse
import json
import os
import time

import numpy as np

from .dataset import (Vocab, atomic_write_text, encode_examples, labelled_examples, length_buckets, pad_batch,
                      read_jsonl)
from .decode import TAGS, fields_from_tags
from .generator import WaybillGenerator
from .metrics import exact_match


def batches_of(encoded, batch_size, shuffle, seed):
    for batch in length_buckets([len(ids) for ids, _ in encoded], batch_size, shuffle, seed):
        ids, lengths = pad_batch([encoded[i][0] for i in batch])
        tags, _ = pad_batch([encoded[i][1] for i in batch])
        yield ids, lengths, tags


def evaluate(model, examples, vocab, batch_size=256):
    """Field exact match of the model's decoded tags against the examples' own fields."""
    import paddle

    model.eval()
    encoded = encode_examples(examples, vocab, max_len=10 ** 6)
    predicted = [None] * len(examples)
    with paddle.no_grad():
        for batch in length_buckets([len(ids) for ids, _ in encoded], batch_size):
            ids, lengths = pad_batch([encoded[i][0] for i in batch])
            paths = model.decode(paddle.to_tensor(ids), paddle.to_tensor(lengths)).numpy()
            for row, i in enumerate(batch):
                tags = [TAGS[t] for t in paths[row, : lengths[row]]]
                predicted[i] = fields_from_tags(examples[i]["text"], tags)
    model.train()
    return exact_match(examples, predicted)


def save_model(model, vocab, out_dir):
    """config.json, vocab.jsonl and model.safetensors (code-free, written atomically) in ``out_dir``."""
    from paddle_course.common.checkpoints import save_state

    os.makedirs(out_dir, exist_ok=True)
    save_state({k: v.numpy() for k, v in model.state_dict().items()}, os.path.join(out_dir, "model.safetensors"))
    atomic_write_text(os.path.join(out_dir, "config.json"), json.dumps(model.config, indent=1) + "\n")
    vocab.save(os.path.join(out_dir, "vocab.jsonl"))


def warm_start(model, init):
    """Load the weights in folder ``init`` into ``model``; weights of other shapes are a ValueError."""
    from paddle_course.common.checkpoints import load_state, unfit_keys

    weights = load_state(init)[1]
    own = model.state_dict()
    unfit = unfit_keys(own, weights) | {k: (None, tuple(v.shape)) for k, v in weights.items() if k not in own}
    if unfit:
        key = min(unfit)
        here, there = unfit[key]
        raise ValueError(f"{init}: weights of another size or network ({key}: {there} there, {here} here); "
                         "pass the same --hidden and --layers")
    model.set_state_dict(weights)


def train(out_dir, n_train=60000, n_dev=2000, epochs=4, batch_size=64, lr=3e-3, seed=1, log=print,
          emb_dim=64, hidden=96, num_layers=1, init=None, handwritten=(), handwritten_repeat=1):
    """Generate, train, keep the best dev checkpoint; returns the training log (a dict).

    ``handwritten``: JSONL files of hand-written training texts, added ``handwritten_repeat`` times.
    """
    import paddle

    from .network import WaybillTagger

    paddle.seed(seed)
    np.random.seed(seed)
    start = time.perf_counter()
    # the hand-written files first: a bad row is reported before a minute of generating
    written = [e for path in handwritten for e in labelled_examples(read_jsonl(path), source=path)]
    train_examples = WaybillGenerator(seed).samples(n_train)
    dev_examples = WaybillGenerator(seed + 10_000).samples(n_dev)
    vocab = Vocab.build()
    encoded = encode_examples(train_examples + written * handwritten_repeat, vocab)
    log(f"generated {n_train} + {n_dev} texts in {time.perf_counter() - start:.0f}s; "
        f"{len(written)} hand-written x {handwritten_repeat}; vocab {len(vocab)}")

    model = WaybillTagger(len(vocab), emb_dim=emb_dim, hidden=hidden, num_layers=num_layers)
    if init:  # warm start from earlier weights (same vocabulary and sizes)
        warm_start(model, init)
        log(f"started from {init}: dev {json.dumps(evaluate(model, dev_examples, vocab))}")
    steps = epochs * ((len(encoded) + batch_size - 1) // batch_size)
    schedule = paddle.optimizer.lr.OneCycleLR(max_learning_rate=lr, total_steps=steps)
    opt = paddle.optimizer.Adam(schedule, parameters=model.parameters(),
                                grad_clip=paddle.nn.ClipGradByGlobalNorm(5.0))
    history, best, step = [], -1.0, 0
    for epoch in range(epochs):
        total = 0.0
        for b, (ids, lengths, tags) in enumerate(batches_of(encoded, batch_size, True, seed + epoch)):
            loss = model.loss(paddle.to_tensor(ids), paddle.to_tensor(lengths), paddle.to_tensor(tags))
            loss.backward()
            opt.step()
            opt.clear_grad()
            schedule.step()
            total += float(loss)
            step += 1
            if step % 200 == 0:
                log(f"epoch {epoch} step {step}/{steps} loss {total / (b + 1):.3f} "
                    f"({time.perf_counter() - start:.0f}s)")
        dev = evaluate(model, dev_examples, vocab)
        history.append({"epoch": epoch, "loss": total / (b + 1), "dev": dev,
                        "seconds": time.perf_counter() - start})
        log(f"epoch {epoch}: dev {json.dumps(dev)}")
        if dev["all"] > best:
            best = dev["all"]
            save_model(model, vocab, out_dir)
    result = {"seed": seed, "n_train": n_train, "n_dev": n_dev, "epochs": epochs, "batch_size": batch_size,
              "lr": lr, "init": init, "handwritten": [os.path.basename(p) for p in handwritten],
              "n_handwritten": len(written), "handwritten_repeat": handwritten_repeat, "config": model.config,
              "history": history, "best_dev_all": best, "seconds": time.perf_counter() - start}
    atomic_write_text(os.path.join(out_dir, "train_log.json"), json.dumps(result, indent=1) + "\n")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default="waybill_model",
                        help="folder for config.json, vocab.jsonl, model.safetensors, train_log.json "
                             "(the shipped weights are in paddle_course/ocr/waybill/assets: pass it only to replace them)")
    parser.add_argument("--n-train", type=int, default=60000, help="generated training texts per epoch")
    parser.add_argument("--n-dev", type=int, default=2000, help="generated dev texts (seed + 10000) that pick the best epoch")
    parser.add_argument("--epochs", type=int, default=4, help="passes over the training texts")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per step (grouped by length)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--seed", type=int, default=1, help="seeds the generator, the shuffling and the initial weights")
    parser.add_argument("--hidden", type=int, default=96, help="BiGRU hidden size per direction")
    parser.add_argument("--layers", type=int, default=1, help="BiGRU layers")
    parser.add_argument("--init", help="directory with model.safetensors to start from (same sizes)")
    parser.add_argument("--handwritten", action="append", default=[], metavar="FILE",
                        help="JSONL of hand-written training texts (text, name, phone, address); repeatable")
    parser.add_argument("--handwritten-repeat", type=int, default=1, metavar="K",
                        help="times each hand-written text is seen per epoch")
    args = parser.parse_args(argv)
    for path in args.handwritten + ([os.path.join(args.init, "model.safetensors")] if args.init else []):
        if not os.path.isfile(path):
            parser.error(f"{path}: no such file")
    try:
        result = train(args.out, args.n_train, args.n_dev, args.epochs, args.batch_size, args.lr, args.seed,
                       hidden=args.hidden, num_layers=args.layers, init=args.init,
                       handwritten=args.handwritten, handwritten_repeat=args.handwritten_repeat)
    except ValueError as err:  # a hand-written row whose fields are not in its text, weights of other sizes
        parser.error(str(err))
    print(f"best dev all-three exact {result['best_dev_all']:.4f} in {result['seconds']:.0f}s")


if __name__ == "__main__":
    main()
