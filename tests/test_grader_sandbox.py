"""The pieces of the contained grader: the wire format, the sandbox's limits and views, the stand-in course API."""
import io
import json
import os
import struct

import numpy as np
import pytest

from paddle_course.grading import grade, sandbox, wire
from paddle_course.grading.registry import load_assignment, reference_solution

SEED = 2024


# --- the wire format ---------------------------------------------------------------

def _refuse(value, encoder, depth):
    raise TypeError(f"not plain: {type(value).__name__}")


def _no_handles(tag, data, decoder, depth):
    raise wire.WireError(f"unknown tag {tag}")


def _round_trip(value):
    encoder = wire.Encoder(_refuse)
    body = encoder.encode(value)
    blobs = [bytes(b"".join(bytes(memoryview(part).cast("B")) for part in blob)) if isinstance(blob, list)
             else bytes(blob) for blob in encoder.blobs]
    text = json.dumps(body, allow_nan=False)
    return wire.Decoder(blobs, _no_handles).decode(json.loads(text))


def test_plain_values_come_back_as_the_same_types():
    values = [None, True, 3, -2.5, float("nan"), float("-inf"), "文字", b"\x00\xff", [1, (2, 3)],
              {"a": {1: (None,)}}, np.float32(1.5), np.int64(-7), np.bool_(False),
              np.arange(6, dtype=np.int16).reshape(2, 3).T, np.array(["ab", "c"]), np.zeros((0, 4)), np.array(2.0)]
    for value in values:
        back = _round_trip(value)
        assert type(back) is type(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
        elif isinstance(value, float) and np.isnan(value):
            assert np.isnan(back)
        else:
            assert back == value


def test_an_object_array_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.array_from_npy(buffer.getvalue())
    assert not marker.exists()


@pytest.mark.parametrize("data", [
    {"$x": 1},  # unknown tag
    {"$f": "1e400"},  # a float that is not nan/inf
    {"$a": 5},  # a blob that is not there
    {"$d": [[["a"], 1]]},  # an unhashable key
    {},
])
def test_malformed_values_are_refused(data):
    with pytest.raises(wire.WireError):
        wire.Decoder([], _no_handles).decode(data)


def _frame(payload):
    return struct.pack(">Q", len(payload)) + payload


def test_frames_are_capped_and_json_constants_refused():
    import time

    read_fd, write_fd = os.pipe()
    deadline = time.monotonic() + 10
    try:
        os.write(write_fd, struct.pack(">Q", 10 ** 12))
        with pytest.raises(wire.WireError, match="more than"):
            wire.FrameReader(read_fd).read_frame(deadline)
        os.write(write_fd, _frame(b'{"a": NaN}'))
        with pytest.raises(wire.WireError, match="not JSON"):
            wire.receive(wire.FrameReader(read_fd), deadline)
        os.write(write_fd, _frame(b'{"blobs": 100000}'))
        with pytest.raises(wire.WireError, match="blobs"):
            wire.receive(wire.FrameReader(read_fd), deadline)
        os.write(write_fd, struct.pack(">Q", 100) + b"short")
        os.close(write_fd)
        write_fd = None
        with pytest.raises(wire.Closed):
            wire.FrameReader(read_fd).read_frame(deadline)
    finally:
        os.close(read_fd)
        if write_fd is not None:
            os.close(write_fd)


def test_reading_stops_at_the_deadline():
    read_fd, write_fd = os.pipe()
    try:
        import time

        started = time.monotonic()
        with pytest.raises(wire.Timeout):
            wire.FrameReader(read_fd).read_frame(deadline=started + 0.2)
        assert time.monotonic() - started < 2
    finally:
        os.close(read_fd)
        os.close(write_fd)


# --- the sandbox -----------------------------------------------------------------------

PROBE = r'''
import json, os, resource, socket
facts = {"limits": {}, "raised": []}
for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE"):
    soft, hard = resource.getrlimit(getattr(resource, name))
    facts["limits"][name] = [soft, hard]
    try:
        resource.setrlimit(getattr(resource, name), (soft, hard + 1 if hard >= 0 else hard))
        facts["raised"].append(name)
    except (ValueError, OSError):
        pass
facts["env"] = sorted(os.environ)
facts["cwd"] = os.getcwd()
facts["visible"] = {path: os.path.exists(path) for path in @@PATHS@@}
try:
    open("/usr/grader_was_here", "w")
    facts["usr_writable"] = True
except OSError:
    facts["usr_writable"] = False
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1).close()
    facts["network"] = "connected"
except OSError as error:
    facts["network"] = type(error).__name__
facts["pid"] = os.getpid()
print("FACTS" + json.dumps(facts))
'''


def _probe(tmp_path):
    from paddle_course.common.paths import PACKAGE_DIR, homework_path

    hidden = [str(PACKAGE_DIR), str(homework_path("solutions")), str(PACKAGE_DIR.parent), os.getcwd()]
    source = reference_solution(load_assignment("hw01")[0]).read_text(encoding="utf-8")
    path = tmp_path / "probe.py"
    path.write_text(source + PROBE.replace("@@PATHS@@", repr(hidden)), encoding="utf-8")
    report = grade("hw01", path, seed=SEED)
    assert report.full_marks, report.import_error
    line = next(line for line in report.import_output.splitlines() if line.startswith("FACTS"))
    return json.loads(line[len("FACTS"):]), hidden


def test_the_child_has_hard_limits_and_a_fixed_environment(tmp_path):
    facts, _ = _probe(tmp_path)
    limits = sandbox.Limits()
    assert facts["raised"] == []  # soft = hard: none can be raised
    for name, (soft, hard) in facts["limits"].items():
        assert soft == hard, name
    assert facts["limits"]["RLIMIT_AS"][0] == load_assignment("hw01")[0].memory_limit_mb << 20
    assert facts["limits"]["RLIMIT_NOFILE"][0] == limits.open_files
    assert facts["limits"]["RLIMIT_CORE"][0] == 0
    assert set(facts["env"]) <= {"HOME", "TMPDIR", "LANG", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
                                 "MPLBACKEND", "USER", "OMP_NUM_THREADS", "LC_CTYPE", "PWD"}


def test_in_bubblewrap_the_course_is_hidden_and_there_is_no_network(tmp_path):
    if sandbox.containment().tool != "bwrap":
        pytest.skip("the full sandbox needs bubblewrap")
    facts, hidden = _probe(tmp_path)
    assert facts["visible"] == {path: False for path in hidden}
    assert facts["cwd"] == sandbox.BOX_WORK
    assert facts["usr_writable"] is False
    assert facts["network"] != "connected"
    assert facts["pid"] < 10  # its own PID namespace


def test_no_cgroup_is_left_behind(tmp_path):
    if sandbox.containment().cgroup is None:
        pytest.skip("no cgroup can be made here")
    bases = list(sandbox.Cgroup._v1_bases().values())
    v2 = sandbox.Cgroup._v2_base()
    bases += [v2] if v2 is not None else []

    def groups():
        return {child for base in bases for child in base.iterdir() if child.name.startswith(sandbox.TEMP_PREFIX)}

    # the groups of this grading, not those of another grader running now or one killed earlier
    before = groups()
    grade("hw01", reference_solution(load_assignment("hw01")[0]), seed=SEED)
    assert groups() - before == set()


# --- the stand-in course API (hw05) ----------------------------------------------------

def test_the_stand_in_sentiment_module_matches_the_real_one(tmp_path):
    """The sandbox's paddle_course.sentiment must build the same network, ids and errors as the real one."""
    import paddle

    from paddle_course import sentiment
    from paddle_course.grading.sandbox_course import sentiment as stand_in

    for name in ("LABEL_KEYS", "PAD", "UNK", "TSV_HEADER", "DEFAULT_CONFIG", "WEIGHTS_FILE"):
        assert getattr(stand_in, name) == getattr(sentiment, name), name
    real_network, vocab, config = sentiment.load_model()
    twin_network, twin_vocab, twin_config = stand_in.load_model()
    assert twin_config == config
    real_state = real_network.state_dict()
    assert {k: list(v.shape) for k, v in twin_network.state_dict().items()} == {
        k: list(v.shape) for k, v in real_state.items()}
    twin = stand_in.build_network(twin_vocab, config)
    twin.set_state_dict(real_state)
    twin.eval()
    texts = ["拍照绝了，续航给力", "续航感人", "好", "房间 干净\u3000服务热情", "ＹＹＤＳ，不太好"]
    assert np.allclose(stand_in.predict_probs(twin, twin_vocab, config, texts),
                       sentiment.predict_probs(real_network, vocab, config, texts), atol=1e-6)
    assert np.allclose(stand_in.predict_probs(twin_network, twin_vocab, config, texts),
                       sentiment.predict_probs(real_network, vocab, config, texts), atol=1e-6)
    for text in texts:
        for twin_ids, real_ids in zip(twin_vocab.encode(text), vocab.encode(text)):
            assert np.array_equal(twin_ids, real_ids)
    words = {"好": 1, "不太好": 2}
    small = stand_in.Vocab(list("好不太"), ["好</s>"], 8, stand_in.Lexicon(words))
    real_small = sentiment.Vocab(list("好不太"), ["好</s>"], 8, sentiment.Lexicon(words))
    for twin_ids, real_ids in zip(small.encode("不太好，好"), real_small.encode("不太好，好")):
        assert np.array_equal(twin_ids, real_ids)
    encoded = [vocab.encode("好书"), vocab.encode("差")]
    for twin_array, real_array in zip(stand_in.pad_batch(encoded), sentiment.pad_batch(encoded)):
        assert np.array_equal(twin_array, real_array)
    checkpoint = tmp_path / "model.pdparams"
    paddle.save(real_state, str(checkpoint))
    assert stand_in.load_weights(checkpoint).keys() == sentiment.load_weights(checkpoint).keys()
    good = tmp_path / "good.tsv"
    good.write_text("text\tlabel\n好 书\t1\n\n差\t0\n", encoding="utf-8")
    assert stand_in.read_tsv(good) == sentiment.read_tsv(good)
    for bad in ("好\t2\n", "a\tb\tc\n", " \t1\n"):
        path = tmp_path / "bad.tsv"
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError) as real_error:
            sentiment.read_tsv(path)
        with pytest.raises(ValueError) as twin_error:
            stand_in.read_tsv(path)
        assert str(twin_error.value) == str(real_error.value)
    assert isinstance(twin, paddle.nn.Layer) and stand_in.SentimentBiLSTM is stand_in.network_class()
    batch = [paddle.to_tensor(a) for a in sentiment.pad_batch(encoded)] + [paddle.to_tensor(np.array([1, 0]))]
    for step in ("training_step", "validation_step"):
        twin_result, real_result = getattr(twin, step)(batch, 0), getattr(real_network, step)(batch, 0)
        assert np.isclose(float(twin_result["loss"]), float(real_result["loss"]), atol=1e-6)
        assert float(twin_result["metrics"]["acc"]) == float(real_result["metrics"]["acc"])
