"""The child's side of grading: import the learner's file and run calls on request, nothing else.

This file runs inside the sandbox (:mod:`paddle_course.grading.sandbox`), copied there with
``wire.py``; it cannot import ``paddle_course``, and no check runs here.  Started as::

    python -I -S agent.py CONFIG.json

it sets its ``sys.path`` and hard resource limits, imports what the assignment preloads
(paddle takes seconds, which is not the learner's fault), says ``ready`` and then answers
requests one at a time: ``load`` the learner's file; ``getattr``/``setattr``/``call``/
``getitem``/``len``/``iter`` on an object it holds; ``helper`` for the few operations a check
needs that are not a plain call (make a Tensor, seed paddle, run under ``paddle.no_grad()``,
write an input file, ...).  Every reply is plain data (numbers, strings, lists, dicts, arrays;
a paddle Tensor as a handle plus a NumPy copy) or a handle to an object that stays here.

Once the learner's file is imported it can change anything in this process, this file
included: so nothing here decides anything.  The grader compares, scores and words every
message; what this side says is only ever "the learner's code returned this".
"""
import builtins
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import traceback

OUTPUT_KEEP = 2000  # characters of printed output kept per request
REPR_KEEP = 300
SNAPSHOT_MAX = 1 << 24  # entries of a Tensor sent along with its handle


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``OUTPUT_KEEP`` characters and counts the rest."""

    def __init__(self):
        self.kept, self.total = [], 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = OUTPUT_KEEP - min(self.total, OUTPUT_KEEP)
        if room > 0:
            self.kept.append(text[:room])
        self.total += len(text)
        return len(text)


class Kept:
    """A helper's result that stays in the child as a handle even if it is plain data."""

    def __init__(self, value):
        self.value = value


class Agent:
    def __init__(self, config, wire):
        self.config, self.wire = config, wire
        self.submission = config["submission"]
        self.objects = {}
        self.reader = wire.FrameReader(config["request_fd"])
        self.reply_fd = config["reply_fd"]
        os.set_blocking(self.reply_fd, True)

    # --- values -------------------------------------------------------------

    def keep(self, value):
        key = len(self.objects) + 1
        self.objects[key] = value
        return key

    def info(self, value):
        kind = type(value)
        mro = []
        for cls in getattr(kind, "__mro__", (kind,)):
            mro.append(f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', '?')}")
        try:
            text = repr(value)
        except BaseException as exc:  # noqa: BLE001 - a learner's __repr__ may do anything
            text = f"<{kind.__name__} object (repr raised {type(exc).__name__})>"
        text = text if len(text) <= REPR_KEEP else text[:REPR_KEEP] + "..."
        name = getattr(value, "__name__", None)
        return {"type": kind.__name__, "mro": mro, "callable": callable(value), "repr": text,
                "name": name if isinstance(name, str) else None}

    def encode_handle(self, value, encoder, depth):
        if isinstance(value, Kept):
            return {"$h": self.keep(value.value), "info": self.info(value.value)}
        paddle = sys.modules.get("paddle")
        if paddle is not None and isinstance(value, paddle.Tensor):
            info = self.info(value)
            info.update(shape=[int(n) for n in value.shape], dtype=str(value.dtype),
                        stop_gradient=bool(value.stop_gradient))
            blob = None
            if value.size <= SNAPSHOT_MAX:
                array = value.numpy()
                blob = encoder.blob(self.wire.npy_parts(array))
            return {"$T": self.keep(value), "info": info, "blob": blob}
        # subclasses of the plain containers travel as the containers themselves
        if isinstance(value, dict):
            return encoder.encode(dict(value), depth)
        if isinstance(value, (list, tuple)):
            return encoder.encode((tuple if isinstance(value, tuple) else list)(value), depth)
        for plain in (int, float, str):
            if isinstance(value, plain):
                return encoder.encode(plain(value), depth)
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(value, numpy.ndarray) and type(value) is not numpy.ndarray:
            return encoder.encode(numpy.asarray(value), depth)
        return {"$h": self.keep(value), "info": self.info(value)}

    def decode_handle(self, tag, data, decoder, depth):
        if tag == "$h":
            key = data["$h"]
            if key not in self.objects:
                raise LookupError(f"no object {key} in the child")
            return self.objects[key]
        if tag == "$tt":
            import paddle

            return paddle.to_tensor(self.wire.array_from_npy(decoder.blob(data["$tt"])))
        raise self.wire.WireError(f"unknown tag {tag!r}")

    def reply(self, header, encoder=None):
        blobs = encoder.blobs if encoder is not None else []
        self.wire.send(self.reply_fd, header, blobs)

    # --- the learner's exceptions ------------------------------------------

    def describe(self, exc):
        """An exception as data: type, message, and the frames in the learner's file."""
        frames = [[frame.lineno, frame.name] for frame in traceback.extract_tb(exc.__traceback__)
                  if frame.filename == self.submission]
        try:
            message = str(exc)
        except BaseException:  # noqa: BLE001
            message = "<str() of the exception failed>"
        error = {"type": type(exc).__name__,
                 "mro": [cls.__name__ for cls in type(exc).__mro__],
                 "message": message[:OUTPUT_KEEP], "frames": frames[-20:]}
        if isinstance(exc, SyntaxError) and exc.filename == self.submission:
            error["syntax"] = [exc.lineno, str(exc.msg), (exc.text or "").rstrip()[:300]]
        return error

    # --- requests ------------------------------------------------------------

    def run(self):
        while True:
            try:
                header, blobs = self.wire.receive(self.reader)
            except self.wire.Closed:
                return
            capture = CappedOutput()
            encoder = self.wire.Encoder(self.encode_handle)
            with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):
                try:
                    decoder = self.wire.Decoder(blobs, self.decode_handle)
                    value = self.handle(header["op"], decoder.decode(header.get("args", [])))
                    answer = {"ok": encoder.encode(value)}
                except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are the learner's too
                    encoder.blobs.clear()
                    answer = {"error": self.describe(exc)}
            text = "".join(capture.kept)
            self.reply(dict(answer, output=text, output_total=capture.total), encoder)

    def handle(self, op, args):
        if op == "load":
            return self.load()
        if op == "helper":
            name, positional, keywords = args
            return getattr(Helpers, name)(self, *positional, **keywords)
        target = args[0]
        if op == "getattr":
            return getattr(target, args[1])
        if op == "setattr":
            setattr(target, args[1], args[2])
            return None
        if op == "call":
            return target(*args[1], **args[2])
        if op == "getitem":
            return target[args[1]]
        if op == "len":
            return len(target)
        if op == "iter":
            return list(target)
        raise ValueError(f"unknown request {op!r}")

    def load(self):
        import importlib.util

        sys.argv = [self.submission]
        spec = importlib.util.spec_from_file_location("submission", self.submission)
        module = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = module
        spec.loader.exec_module(module)
        return Kept(module)


class Helpers:
    """Operations a check asks for that are not a plain attribute access or call."""

    @staticmethod
    def keep(agent, value):
        """``value`` (e.g. an array) as an object of the child, so that changes to it in place show."""
        return Kept(value)

    @staticmethod
    def random_normal(agent, seed, shape):
        """A large random input drawn here rather than sent (hw02 times the gradient on 200 000 rows)."""
        import numpy as np

        return Kept(np.random.default_rng(seed).normal(size=tuple(shape)))

    @staticmethod
    def fetch(agent, value):
        return value

    @staticmethod
    def to_array(agent, value):
        """``np.asarray(value, dtype=float64)``: what the checks did with a returned object that is not an array."""
        import numpy as np

        return np.asarray(value, dtype=np.float64)

    @staticmethod
    def is_instance(agent, value, cls):
        """``isinstance(value, cls)``; ``cls`` is an object of the child or a dotted name like ``paddle.nn.Layer``."""
        if isinstance(cls, str):
            module_name, _, name = cls.rpartition(".")
            cls = getattr(__import__(module_name, fromlist=[name]), name)
        return isinstance(value, cls)

    @staticmethod
    def defines(agent, cls, name):
        """Whether the class ``cls`` defines ``name`` itself (not through a base class)."""
        return name in vars(cls)

    @staticmethod
    def source_line(agent, function):
        """The first line of ``function`` in the learner's file, or None when it is defined elsewhere."""
        function = getattr(function, "__func__", function)
        code = getattr(function, "__code__", None)
        if code is None or code.co_filename != agent.submission:
            return None
        return code.co_firstlineno

    @staticmethod
    def exact_linear_gradient(agent, net):
        """hw02: give ``net`` the exact gradient of the linear model, so ``train`` is graded on its own.

        ``dL/dw = 2/N sum_i (z_i - y_i) x_i``, ``dL/db = 2/N sum_i (z_i - y_i)`` (the formula of
        ``paddle_course.grading.replay.linear_gradient``).
        """
        import numpy as np

        def gradient(x, y):
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            error = x @ net.w + net.b - y
            return 2.0 * np.mean(error * x, axis=0)[:, None], 2.0 * np.mean(error, axis=0)

        net.gradient = gradient

    @staticmethod
    def paddle_seed(agent, seed):
        import paddle

        paddle.seed(seed)

    @staticmethod
    def call_no_grad(agent, function, *args, **kwargs):
        """``function(*args, **kwargs)`` under ``paddle.no_grad()`` (as hub.Trainer evaluates)."""
        import paddle

        with paddle.no_grad():
            return function(*args, **kwargs)

    @staticmethod
    def make_vocab(agent, chars, bigrams=(), words=None):
        """hw05: a course ``Vocab`` of ``chars`` and ``bigrams`` (with a lexicon of ``words``: word -> tag),
        made here for the learner's ``TsvDataset``."""
        from paddle_course import sentiment

        return sentiment.Vocab(chars, bigrams, lexicon=sentiment.Lexicon(words) if words else None)

    @staticmethod
    def predict_probs(agent, network, texts, vocab=None, config=None):
        """hw05: ``p(positive)`` of ``network`` for ``texts`` (the shipped vocabulary and config by default)."""
        from paddle_course import sentiment

        shipped_vocab, shipped_config = sentiment.shipped_vocab_and_config()
        return sentiment.predict_probs(network, vocab or shipped_vocab, config or shipped_config, list(texts))

    @staticmethod
    def make_workdir(agent, prefix):
        return tempfile.mkdtemp(prefix=prefix, dir=".")

    @staticmethod
    def write_text(agent, path, text):
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)

    @staticmethod
    def file_info(agent, path):
        """What is at ``path``: ``{"is_file", "is_dir", "size", "entries"}`` (no links followed)."""
        info = {"is_file": False, "is_dir": False, "size": 0, "entries": []}
        try:
            stat = os.lstat(path)
        except OSError:
            return info
        import stat as stat_module

        info["is_file"] = stat_module.S_ISREG(stat.st_mode)
        info["is_dir"] = stat_module.S_ISDIR(stat.st_mode)
        info["size"] = stat.st_size
        if info["is_dir"]:
            info["entries"] = sorted(os.listdir(path))[:200]
        return info

    @staticmethod
    def read_bytes(agent, path, limit):
        with open(path, "rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"{path} is larger than {limit} bytes")
        return data


def apply_limits(limits):
    """Hard resource limits (soft = hard), so nothing started here can raise them again."""
    import resource

    applied = {}
    for name, value in limits.items():
        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
        applied[name] = value
    return applied


def main(argv):
    with open(argv[1], encoding="utf-8") as file:
        config = json.load(file)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [here, *config["sys_path"]]
    import wire

    sys.path[:] = [os.path.dirname(config["submission"]), *config["sys_path"]]
    sys.dont_write_bytecode = True
    import _sitebuiltins  # python -S leaves out exit() and quit(); learners' files may call them

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    # the learner's file sits in the writable working folder: a file that rewrites itself only
    # touches this copy
    shutil.copyfile(config["submission_source"], config["submission"])
    agent = Agent(config, wire)
    problems = []
    for name in config.get("preload", []):
        try:
            __import__(name)
        except Exception as exc:  # noqa: BLE001 - reported to the grader, which says it is the course's problem
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    applied = apply_limits(config.get("limits", {}))
    agent.reply({"ready": True, "pid": os.getpid(), "limits": applied, "problems": problems})
    agent.run()


if __name__ == "__main__":
    main(sys.argv)
