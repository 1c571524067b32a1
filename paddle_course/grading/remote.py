"""The grader's side of the connection to the child: requests, replies and proxies of the child's objects.

A check receives ``module``, a :class:`Remote` standing for the learner's imported file, and
uses it much as it used the module itself: ``Network = get_function(module, "Network")``,
``net = Network(3, seed=0)``, ``net.w = array``, ``net.gradient(x, y)``.  Each of those is one
request to the child; what comes back is plain data decoded by :mod:`wire` (a tuple of
arrays, a dict of floats, ...) or another :class:`Remote` for an object that stays in the
child.  A paddle Tensor comes back as a :class:`RemoteTensor`, which carries a NumPy copy
(``.numpy()``, ``.shape``, ``.dtype``, ``.stop_gradient`` without asking again) and whose
methods (``backward``, ``set_value``) run in the child.

When the learner's code raises, the check sees a :class:`LearnerError` that is also an
instance of the builtin exception of the same name (``except ValueError`` works); it carries
the type, the message and the lines of the learner's file, never an object of the child.
A child that takes too long raises :class:`ChildTimeout`; one that died or sent something
that is not a reply raises :class:`ChildGone`.  The functions at the end of this file are
the few operations that are not a plain attribute access or call (see
``agent.Helpers``).
"""
import builtins
import time

import numpy as np

from paddle_course.grading import wire

OUTPUT_KEEP = 2000  # characters of printed output kept per check (the agent keeps as many per request)
TEXT_KEEP = 400


class ChildTimeout(Exception):
    """The child did not answer before the check's deadline."""


class ChildGone(Exception):
    """The child exited, was killed, or broke the connection."""


class LearnerError(Exception):
    """An exception raised by the learner's code in the child, as data.

    ``type_name`` and ``names`` (the names of its classes, most specific first), ``message``
    and ``frames``: ``[(line, function), ...]`` in the learner's file, innermost last;
    ``syntax``: ``(line, message, text)`` for a SyntaxError in the file.
    """

    def __init__(self, error):
        self.type_name = _text(error.get("type"), 100) or "Exception"
        self.names = [_text(name, 100) for name in _list(error.get("mro"))[:30]]
        self.message = _text(error.get("message"), OUTPUT_KEEP)
        self.frames = []
        for frame in _list(error.get("frames"))[-20:]:
            if isinstance(frame, list) and len(frame) == 2 and type(frame[0]) is int:
                self.frames.append((frame[0], _text(frame[1], 100)))
        syntax = error.get("syntax")
        self.syntax = None
        if isinstance(syntax, list) and len(syntax) == 3 and type(syntax[0]) is int:
            self.syntax = (syntax[0], _text(syntax[1], 300), _text(syntax[2], 300))
        super().__init__(self.message)

    def is_a(self, name):
        return name in self.names

    def __str__(self):
        return self.message


_ERROR_CLASSES = {}


def learner_error(error):
    """A :class:`LearnerError` that is also the builtin exception it is named after (when there is one)."""
    instance = LearnerError(error)
    base = next((getattr(builtins, name) for name in instance.names
                 if isinstance(getattr(builtins, name, None), type)
                 and issubclass(getattr(builtins, name), Exception)
                 and getattr(builtins, name) not in (Exception, StopIteration, StopAsyncIteration)), None)
    if base is None:
        return instance
    if base not in _ERROR_CLASSES:
        try:
            _ERROR_CLASSES[base] = type(f"Learner{base.__name__}", (LearnerError, base), {})
        except TypeError:  # a builtin whose layout cannot be combined
            _ERROR_CLASSES[base] = LearnerError
    try:
        return _ERROR_CLASSES[base](error)
    except TypeError:  # a builtin that wants other arguments (UnicodeDecodeError, ...)
        return instance


def _text(value, limit):
    if not isinstance(value, str):
        return ""
    return value if len(value) <= limit else value[:limit] + "..."


def _list(value):
    return value if isinstance(value, list) else []


class ToTensor:
    """An argument that the child turns into ``paddle.to_tensor(array)``."""

    def __init__(self, array, dtype=None):
        array = np.asarray(array)
        self.array = array.astype(dtype) if dtype is not None else array


def to_tensor(array, dtype=None):
    return ToTensor(array, dtype)


# --- proxies ------------------------------------------------------------------------

class Remote:
    """An object that lives in the child; attribute access, calls and indexing are requests."""

    __slots__ = ("_session", "_id", "_info")

    def __init__(self, session, key, info):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_id", key)
        object.__setattr__(self, "_info", info)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # Python's and NumPy's probes stay on this side
        return self._session.request("getattr", [self, name])

    def __setattr__(self, name, value):
        self._session.request("setattr", [self, name, value])

    def __call__(self, *args, **kwargs):
        return self._session.request("call", [self, list(args), kwargs])

    def __getitem__(self, key):
        return self._session.request("getitem", [self, key])

    def __len__(self):
        length = self._session.request("len", [self])
        if type(length) is not int or length < 0:
            raise TypeError(f"len() of your {self._info['type']} returned {length!r}")
        return length

    def __iter__(self):
        items = self._session.request("iter", [self])
        return iter(items if isinstance(items, list) else [])

    def __repr__(self):
        return self._info["repr"] or f"<{self._info['type']} object>"


class RemoteTensor(Remote):
    """A paddle Tensor of the child, with a NumPy copy taken when it was sent."""

    __slots__ = ("_array",)

    def __init__(self, session, key, info, array):
        super().__init__(session, key, info)
        object.__setattr__(self, "_array", array)

    def numpy(self):
        if self._array is None:  # too large to send along: ask for it
            return self._session.request("call", [self._session.request("getattr", [self, "numpy"]), [], {}])
        return self._array.copy()

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def __float__(self):
        array = self.numpy()
        if array.size != 1:
            raise TypeError(f"only a Tensor of one element can be a float, not of shape {list(array.shape)}")
        return float(array.reshape(()))

    @property
    def shape(self):
        return list(self._info["shape"])

    @property
    def dtype(self):
        return self._info["dtype"]

    @property
    def stop_gradient(self):
        return self._info["stop_gradient"]

    @property
    def size(self):
        return int(np.prod(self._info["shape"]))


def type_name(value):
    """The name of ``value``'s class, in the child for a :class:`Remote`."""
    return value._info["type"] if isinstance(value, Remote) else type(value).__name__


def class_names(value):
    """``["module.Class", ...]``: ``value``'s classes, most specific first."""
    if isinstance(value, Remote):
        return list(value._info["mro"])
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(value).__mro__]


def is_tensor(value):
    return isinstance(value, RemoteTensor)


def _clean_info(info, tensor=False):
    if not isinstance(info, dict):
        raise wire.WireError("a handle without its description")
    clean = {"type": _text(info.get("type"), 100) or "object",
             "mro": [_text(name, 200) for name in _list(info.get("mro"))[:50]],
             "callable": info.get("callable") is True,
             "repr": _text(info.get("repr"), TEXT_KEEP),
             "name": _text(info.get("name"), 100) or None}
    if tensor:
        shape = _list(info.get("shape"))
        if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
            raise wire.WireError("a tensor with an invalid shape")
        clean.update(shape=shape, dtype=_text(info.get("dtype"), 50),
                     stop_gradient=info.get("stop_gradient") is True)
    return clean


# --- the session ------------------------------------------------------------------

class Session:
    """Requests to one sandboxed child; ``deadline`` (``time.monotonic()``) bounds every wait."""

    def __init__(self, sandbox, source):
        self.sandbox, self.source = sandbox, source
        self.reader = wire.FrameReader(sandbox.reply_fd)
        self.deadline = None
        self.output, self.output_total = [], 0
        self.module = None

    # --- the wire -------------------------------------------------------------

    def _encode_argument(self, value, encoder, depth):
        if isinstance(value, Remote):
            if value._session is not self:
                raise ValueError("an object of another child")
            return {"$h": value._id}
        if isinstance(value, ToTensor):
            return {"$tt": encoder.blob(wire.npy_parts(value.array))}
        raise TypeError(f"cannot send a {type(value).__name__} to the child")

    def _decode_handle(self, tag, data, decoder, depth):
        key = data.get(tag)
        if type(key) is not int or len(data) not in (2, 3):
            raise wire.WireError(f"a malformed {tag} value")
        if tag == "$h":
            return Remote(self, key, _clean_info(data.get("info")))
        if tag == "$T":
            blob = data.get("blob")
            array = None if blob is None else wire.array_from_npy(decoder.blob(blob))
            info = _clean_info(data.get("info"), tensor=True)
            if array is not None and list(array.shape) != info["shape"]:
                raise wire.WireError("a tensor whose copy has another shape")
            return RemoteTensor(self, key, info, array)
        raise wire.WireError(f"an unknown tag {tag!r}")

    def _receive(self):
        try:
            return wire.receive(self.reader, self.deadline)
        except wire.Timeout:
            raise ChildTimeout() from None
        except wire.Closed:
            raise ChildGone(self.sandbox.exit_description()) from None
        except wire.WireError as error:
            raise ChildGone(f"your program broke its connection to the grader ({error})") from None

    def wait_ready(self, seconds):
        deadline, self.deadline = self.deadline, time.monotonic() + seconds
        try:
            header, _ = self._receive()
        finally:
            self.deadline = deadline
        if header.get("ready") is not True:
            raise ChildGone("the grader's child did not start")
        problems = [_text(problem, 300) for problem in _list(header.get("problems"))]
        if problems:
            raise ChildGone("the grader's child could not import " + "; ".join(problems))
        return header

    def request(self, op, args):
        """Send one request and return its decoded answer (or raise what the child's code raised)."""
        encoder = wire.Encoder(self._encode_argument)
        body = encoder.encode(args)
        try:
            wire.send(self.sandbox.request_fd, {"op": op, "args": body}, encoder.blobs, self.deadline)
        except wire.Timeout:
            raise ChildTimeout() from None
        except wire.Closed:
            raise ChildGone(self.sandbox.exit_description()) from None
        header, blobs = self._receive()
        self._keep_output(header)
        try:
            if "error" in header and isinstance(header["error"], dict):
                error = header["error"]
            elif "ok" in header:
                return wire.Decoder(blobs, self._decode_handle).decode(header["ok"])
            else:
                raise wire.WireError("a reply with neither a value nor an error")
        except wire.WireError as problem:
            raise ChildGone(f"your program broke its connection to the grader ({problem})") from None
        raise learner_error(error)

    def _keep_output(self, header):
        text, total = header.get("output"), header.get("output_total")
        if not isinstance(text, str) or type(total) is not int or total <= 0:
            return
        kept = sum(len(piece) for piece in self.output)
        if kept < OUTPUT_KEEP:
            self.output.append(text[:OUTPUT_KEEP - kept])
        self.output_total += max(total, len(text))

    def take_output(self):
        """What the learner's code printed since the last call, cut to ``OUTPUT_KEEP`` characters."""
        text, total = "".join(self.output), self.output_total
        self.output, self.output_total = [], 0
        if total > len(text):
            text += f"\n... ({total - len(text)} more characters not shown)"
        return text

    # --- requests with a meaning -----------------------------------------------

    def load(self):
        """Import the learner's file in the child; returns the module as a :class:`Remote`."""
        self.module = self.request("load", [])
        if not isinstance(self.module, Remote):
            raise ChildGone("your program answered the import with something that is not a module")
        return self.module

    def helper(self, name, *args, **kwargs):
        return self.request("helper", [name, list(args), kwargs])


# --- operations a check needs besides attribute access and calls ----------------------

def _session(near):
    if not isinstance(near, Remote):
        raise TypeError(f"needs an object of the child, got {type(near).__name__}")
    return near._session


def keep(near, value):
    """``value`` (an array) stored in the child: pass it to the learner's code, then :func:`fetch` it
    to see whether that code changed it in place."""
    return _session(near).helper("keep", value)


def fetch(value):
    return _session(value).helper("fetch", value) if isinstance(value, Remote) else value


def remote_isinstance(value, cls):
    """``isinstance`` in the child; ``cls`` is a :class:`Remote` class or a dotted name (``"paddle.nn.Layer"``).

    Plain data that came back is never an instance of a class of the child.
    """
    if not isinstance(value, Remote):
        return False
    return _session(value).helper("is_instance", value, cls) is True


def defines(cls, name):
    """Whether the class ``cls`` of the child defines ``name`` itself."""
    return _session(cls).helper("defines", cls, name) is True


def helper(near, name, *args, **kwargs):
    """One of ``agent.Helpers``, run in ``near``'s child."""
    return _session(near).helper(name, *args, **kwargs)
