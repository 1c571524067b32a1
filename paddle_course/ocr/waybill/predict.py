"""Batched waybill extraction with the trained labeller: texts in, plain dicts out.

    from paddle_course.ocr.waybill.predict import extract_waybills
    extract_waybills(["张三18625584663广东省深圳市南山区学府路东百度国际大厦"])
    # [{"name": "张三", "phone": "18625584663", "address": "广东省深圳市南山区学府路东百度国际大厦"}]

Texts are labelled in batches of similar length (little padding), each character
tagged by the BiGRU-CRF, and the tags decoded by :func:`.decode.fields_from_tags`.
The shipped network runs on its NumPy inference path (``WaybillTagger.fast_decode``: the
same tags as Paddle's forward + Viterbi, ~3x faster on CPU); a subclass, or a model in
training mode, runs Paddle's own ``decode``.  On the NumPy path the batches run on
``inference_threads()`` Python threads (NumPy lets go of the GIL inside its array loops)
with NumPy's BLAS held to one thread each: its matrices here are small, and OpenBLAS's
own threads spin-wait for each other, which on a busy machine made a 2-thread run ~5x
slower than a 1-thread one (measured: 295 vs 1,677 texts/s at load 3.4).
A multi-line waybill is one text with its lines joined by "\\n".
"""
import contextlib
import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .dataset import Vocab, length_buckets, pad_batch
from .decode import TAGS, fields_from_ids

ASSETS = os.path.join(os.path.dirname(__file__), "assets")
MAX_CHARS = 2000  # a waybill is a few hundred characters; far longer input is not a waybill
EMPTY = {"name": None, "phone": None, "address": None}


def check_texts(texts, max_chars=MAX_CHARS):
    """A list of strings, or a clear error: TypeError for a non-string, ValueError for an over-long text."""
    if isinstance(texts, str):
        raise TypeError("extract_waybills takes a list of texts; use extract_waybill for one text")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, not str")
        if len(text) > max_chars:
            raise ValueError(f"text {i} has {len(text)} characters; a waybill text may have at most {max_chars}")
    return texts


def inference_threads():
    """Threads for the NumPy path: ``OMP_NUM_THREADS`` if set (the course's way to say how many
    cores a job may use), else the CPUs this process may run on; at most 4."""
    wanted = os.environ.get("OMP_NUM_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), 4)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 4))


_BLAS = {}


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread (threadpoolctl, when installed; else no change)."""
    if "controller" not in _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _BLAS["controller"] = None
        else:
            _BLAS["controller"] = ThreadpoolController()
    controller = _BLAS["controller"]
    return controller.limit(limits=1, user_api="blas") if controller is not None else contextlib.nullcontext()


class WaybillLabeller:
    """The BiGRU-CRF labeller loaded from ``model_dir`` (config.json, vocab.jsonl, model.safetensors or model.pdparams)."""

    def __init__(self, model_dir=ASSETS):
        from paddle_course.common.checkpoints import load_state

        from .network import WaybillTagger

        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        self.vocab = Vocab.load(os.path.join(model_dir, "vocab.jsonl"))
        self.model = WaybillTagger(**config)
        # weights read code-free (model.safetensors, or a .pdparams through the restricted unpickler)
        self.weights_path, state = load_state(model_dir)
        self.model.set_state_dict(state)
        self.model.eval()

    def tag_ids(self, texts, batch_size=64):
        """One NumPy array of tag ids per text (texts already checked)."""
        import paddle

        ids = [self.vocab.encode(t) for t in texts]
        out = [None] * len(texts)
        batches = [[i for i in batch if ids[i]] for batch in length_buckets([len(r) for r in ids], batch_size)]
        padded = [pad_batch([ids[i] for i in batch]) for batch in batches if batch]
        batches = [batch for batch in batches if batch]
        # an eval-mode WaybillTagger has a NumPy inference path with the same tags (~3x faster on CPU)
        if getattr(self.model, "can_use_fast_path", lambda: False)():
            threads = min(inference_threads(), len(padded))
            with one_blas_thread():
                if threads > 1:
                    with ThreadPoolExecutor(threads) as pool:
                        paths = list(pool.map(lambda batch: self.model.fast_decode(*batch), padded))
                else:
                    paths = [self.model.fast_decode(*batch) for batch in padded]
        else:
            with paddle.no_grad():
                paths = [self.model.decode(paddle.to_tensor(array), paddle.to_tensor(lengths)).numpy()
                         for array, lengths in padded]
        for batch, (_, lengths), found in zip(batches, padded, paths):
            for row, i in enumerate(batch):
                out[i] = found[row, : lengths[row]]
        return [ids if ids is not None else np.zeros(0, dtype="int64") for ids in out]

    def tag(self, texts, batch_size=64):
        """One list of tag names per text (texts already checked)."""
        return [[TAGS[t] for t in ids] for ids in self.tag_ids(texts, batch_size)]

    def extract(self, texts, batch_size=64, max_chars=MAX_CHARS):
        """``[{"name", "phone", "address"}]``, one dict per text; a field not found is None.

        Raises TypeError for a non-string, ValueError for a text over ``max_chars``.
        """
        texts = check_texts(texts, max_chars)
        results = [dict(EMPTY) for _ in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        for i, ids in zip(todo, self.tag_ids([texts[i] for i in todo], batch_size)):
            results[i] = fields_from_ids(texts[i], ids)
        return results


_DEFAULT = {}


def default_labeller():
    """The shipped labeller, loaded once per process."""
    if "labeller" not in _DEFAULT:
        _DEFAULT["labeller"] = WaybillLabeller()
    return _DEFAULT["labeller"]


def extract_waybills(texts, batch_size=64):
    """Extract the recipient's fields from each text with the shipped labeller (see ``WaybillLabeller.extract``)."""
    return default_labeller().extract(texts, batch_size)


def extract_waybill(text):
    """One text (a str; OCR lines joined by "\\n", or a list of lines) -> ``{"name", "phone", "address"}``."""
    if isinstance(text, (list, tuple)):
        text = "\n".join(text)
    return extract_waybills([text])[0]


def with_fallback(fields, fallback):
    """Fill the labeller's empty fields from another extractor's (e.g. today's rules) for the same text."""
    return {key: fields.get(key) if fields.get(key) is not None else fallback.get(key) for key in EMPTY}


def extract_ocr_lines(lines_per_image, fallback=None, batch_size=64):
    """OCR lines of each image (lists of strings in reading order) -> one dict per image.

    The lines are joined with "\\n" and labelled together; ``fallback(lines)`` (e.g. the
    rule-based ``extract_waybill``) fills a field the labeller leaves empty.
    """
    texts = ["\n".join(str(line) for line in lines) for lines in lines_per_image]
    results = extract_waybills(texts, batch_size)
    if fallback is not None:
        results = [with_fallback(r, fallback(list(lines))) if None in r.values() else r
                   for r, lines in zip(results, lines_per_image)]
    return results
