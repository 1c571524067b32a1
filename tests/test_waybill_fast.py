"""The waybill labeller's NumPy inference path: the same emissions and tags as Paddle's forward + Viterbi,
used for the shipped (eval-mode) WaybillTagger only; training, fine-tuning and subclasses keep Paddle's."""
from pathlib import Path

import numpy as np
import pytest

from paddle_course.ocr.waybill.dataset import length_buckets, pad_batch, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "data" / "waybill" / "handwritten.jsonl"


def both_paths(labeller, texts, batch_size=64):
    """(Paddle emissions, fast emissions, Paddle paths, fast paths, lengths) per length bucket."""
    import paddle

    model, ids = labeller.model, [labeller.vocab.encode(t) for t in texts]
    for batch in length_buckets([len(r) for r in ids], batch_size):
        array, lengths = pad_batch([ids[i] for i in batch])
        with paddle.no_grad():
            tensors = paddle.to_tensor(array), paddle.to_tensor(lengths)
            emissions, paths = model(*tensors).numpy(), model.decode(*tensors).numpy()
        yield emissions, model.fast_emissions(array, lengths), paths, model.fast_decode(array, lengths), lengths


def assert_same(labeller, texts):
    for emissions, fast_emissions, paths, fast_paths, lengths in both_paths(labeller, texts):
        inside = np.arange(emissions.shape[1])[None, :] < lengths[:, None]
        # emissions reach |22|: float32 sums differ in the last bits (Paddle's own float32 is ~1.3e-5 off float64)
        np.testing.assert_allclose(fast_emissions[inside], emissions[inside], rtol=1e-5, atol=1e-5)
        assert fast_paths.shape == paths.shape
        for row, n in enumerate(lengths):
            assert np.array_equal(fast_paths[row, :n], paths[row, :n])


@pytest.fixture(scope="module")
def labeller():
    from paddle_course.ocr.waybill.predict import WaybillLabeller

    return WaybillLabeller()


def test_fast_path_is_used_for_the_shipped_labeller_and_agrees(labeller, monkeypatch):
    texts = [r["text"] for r in read_jsonl(HANDWRITTEN)]
    assert labeller.model.can_use_fast_path()
    expected = labeller.tag_ids(texts)
    assert_same(labeller, texts)
    # Paddle's decode is not called on the fast path, and the tags do not change with the batch size
    monkeypatch.setattr(labeller.model, "decode", lambda *a: pytest.fail("Paddle's decode was used"))
    for threads in ("1", "3"):  # batches on 1 or 3 threads
        monkeypatch.setenv("OMP_NUM_THREADS", threads)
        for got, want in zip(labeller.tag_ids(texts, batch_size=7), expected):
            assert np.array_equal(got, want)


def test_training_mode_and_subclasses_keep_paddles_path(labeller, monkeypatch):
    from paddle_course.ocr.waybill.network import WaybillTagger

    class Homework(WaybillTagger):
        def forward(self, ids, lengths):
            return super().forward(ids, lengths) * 2

    assert not Homework(**labeller.model.config).eval().can_use_fast_path()
    labeller.model.train()
    try:
        assert not labeller.model.can_use_fast_path()
        with pytest.raises(RuntimeError, match="eval"):
            labeller.model.fast_emissions(np.ones((1, 3), dtype="int64"), np.array([3]))
    finally:
        labeller.model.eval()
    calls = []
    monkeypatch.setattr(labeller.model, "can_use_fast_path", lambda: False)
    original = labeller.model.decode
    monkeypatch.setattr(labeller.model, "decode", lambda *a: calls.append(1) or original(*a))
    assert labeller.extract(["张三18625584663广东省深圳市南山区学府路东百度国际大厦"])[0]["phone"] == "18625584663"
    assert calls


def test_viterbi_matches_paddle_on_random_scores():
    import paddle

    from paddle_course.ocr.waybill.network import LinearChainCrf, viterbi_numpy

    paddle.seed(5)
    rng = np.random.default_rng(5)
    crf = LinearChainCrf(13)
    emissions = rng.normal(size=(9, 11, 13)).astype("float32") * 3
    lengths = np.array([11, 1, 5, 2, 11, 7, 3, 10, 4], dtype="int64")
    want = crf.viterbi(paddle.to_tensor(emissions), paddle.to_tensor(lengths)).numpy()
    got = viterbi_numpy(emissions, lengths, crf.transitions.numpy(), crf.start.numpy(), crf.stop.numpy())
    for row, n in enumerate(lengths):
        assert np.array_equal(got[row, :n], want[row, :n])


@pytest.mark.slow
def test_fast_path_agrees_on_the_generator_held_out_split(labeller):
    from paddle_course.ocr.waybill.generator import heldout_examples

    assert_same(labeller, [r["text"] for r in heldout_examples(1000)])
