"""The wire format between the grader and the contained child: plain data only, nothing that runs code.

A message is one JSON header frame followed by ``blobs`` binary frames; every frame is an
8-byte big-endian length and its bytes.  Arrays travel as ``.npy`` bytes written by
``np.save(..., allow_pickle=False)`` and read by ``np.load(..., allow_pickle=False)``; never pickle.

Values inside the JSON header are encoded so that every type comes back as itself:

==========================  =============================================
``None``, bool, int, str    themselves
float                       itself; ``{"$f": "nan" | "inf" | "-inf"}``
list                        a JSON list
tuple                       ``{"$t": [...]}``
dict                        ``{"$d": [[key, value], ...]}``
``numpy.ndarray``           ``{"$a": blob}``
a numpy scalar              ``{"$s": blob}`` (a 0-d array)
bytes                       ``{"$b": blob}``
an object of the child      ``{"$h": id, "info": {...}}`` (a handle)
a paddle Tensor             ``{"$T": id, "info": {...}, "blob": blob | None}``
==========================  =============================================

Arguments from the grader may also hold ``{"$tt": blob}``: "make this array a paddle Tensor".

This file is copied into the child's folder and imported there as a top-level module, so it
imports nothing but the standard library and NumPy.  Decoding is strict because the grader
never trusts the child: sizes are capped, unknown tags and array types that could hold
objects are refused, and any problem raises :class:`WireError`.
"""
import io
import json
import math
import os
import select
import struct
import time

import numpy as np

HEADER = struct.Struct(">Q")
MAX_MESSAGE = 256 << 20  # bytes of one message (header and blobs) the grader accepts from the child
MAX_HEADER = 8 << 20  # bytes of its JSON header: parsed into Python objects, so kept smaller
MAX_BLOBS = 4096
MAX_DEPTH = 64
# array kinds that cannot hold Python objects: bool, ints, floats, complex, bytes, str
PLAIN_KINDS = set("biufcSU")


class WireError(Exception):
    """The other side sent something that is not a valid message (or went away mid-message)."""


class Timeout(Exception):
    """No complete message before the deadline."""


class Closed(WireError):
    """The other side closed its end (it exited)."""


# --- frames -------------------------------------------------------------------

def write_frames(fd, frames, deadline=None):
    """Write ``frames`` to ``fd``, each after its length; a frame is bytes or a list of buffers.

    On a non-blocking ``fd`` waits at most until ``deadline`` (``time.monotonic()`` seconds) for
    the other side to read, then raises :class:`Timeout`: a child that stops reading cannot
    block the grader.
    """
    for frame in frames:
        parts = [memoryview(part).cast("B") for part in (frame if isinstance(frame, list) else [frame])]
        _write_all(fd, memoryview(HEADER.pack(sum(part.nbytes for part in parts))), deadline)
        for part in parts:
            _write_all(fd, part, deadline)


def _write_all(fd, view, deadline):
    while len(view):
        try:
            written = os.write(fd, view[:1 << 20])
        except BlockingIOError:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise Timeout() from None
            select.select([], [fd], [], remaining)
            continue
        except BrokenPipeError:
            raise Closed("the other side closed the connection") from None
        view = view[written:]


class FrameReader:
    """Reads frames from a non-blocking ``fd`` until a deadline (``time.monotonic()`` seconds)."""

    def __init__(self, fd, max_message=MAX_MESSAGE):
        self.fd, self.max_message = fd, max_message
        self.budget = max_message
        os.set_blocking(fd, False)

    def _read_exact(self, size, deadline):
        """``size`` bytes, read straight into one buffer (a 20 MB array is not copied around)."""
        buffer = bytearray(size)
        view, done = memoryview(buffer), 0
        while done < size:
            try:
                got = os.readv(self.fd, [view[done:]])
            except BlockingIOError:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Timeout() from None
                select.select([self.fd], [], [], remaining)
                continue
            if got == 0:
                raise Closed("the other side closed the connection")
            done += got
        return buffer

    def read_frame(self, deadline=None, limit=None):
        """One frame; at most ``limit`` bytes, and all frames of a message together at most ``max_message``."""
        (length,) = HEADER.unpack(self._read_exact(HEADER.size, deadline))
        allowed = self.budget if limit is None else min(limit, self.budget)
        if length > allowed:
            raise WireError(f"a frame of {length} bytes, more than the {allowed} allowed")
        self.budget -= length
        return self._read_exact(length, deadline)


def widen(fd, size=1 << 20):
    """Make the pipe ``fd`` hold ``size`` bytes (Linux ``F_SETPIPE_SZ``): fewer round trips for big arrays."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass


# --- messages -----------------------------------------------------------------

def send(fd, header, blobs=(), deadline=None):
    """Send one message: the JSON ``header`` (``blobs`` is filled in) and its binary blobs."""
    header = dict(header, blobs=len(blobs))
    write_frames(fd, [json.dumps(header, ensure_ascii=False, allow_nan=False).encode("utf-8"), *blobs], deadline)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def receive(reader, deadline=None):
    """One message as ``(header dict, [blob bytes, ...])``."""
    reader.budget = reader.max_message
    frame = reader.read_frame(deadline, limit=MAX_HEADER)
    try:
        header = json.loads(bytes(frame).decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError(f"a message that is not JSON ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise WireError("a message that is not a JSON object")
    count = header.get("blobs", 0)
    if type(count) is not int or not 0 <= count <= MAX_BLOBS:
        raise WireError(f"a message announcing {count!r} blobs")
    blobs = [reader.read_frame(deadline) for _ in range(count)]
    return header, blobs


# --- values -------------------------------------------------------------------

def npy_parts(array):
    """``array`` in ``.npy`` format as ``[header, data]`` buffers (the data is not copied)."""
    array = array if array.flags.c_contiguous else array.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    return [header.getvalue(), array.reshape(-1).view(np.uint8)]


def array_from_npy(data):
    """An array from ``.npy`` bytes, sharing their memory; refuses object arrays and record types.

    The header is read by NumPy's own parser; the data is taken as it is (``np.frombuffer``),
    never unpickled.
    """
    data = memoryview(data).cast("B")
    try:
        stream = io.BytesIO(bytes(data[:4096]))
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, fortran_order, dtype = read_header(stream)
    except (ValueError, KeyError, OSError, EOFError, TypeError, SyntaxError) as error:
        raise WireError(f"an array that is not valid .npy data ({type(error).__name__})") from None
    if dtype.kind not in PLAIN_KINDS or dtype.fields or dtype.hasobject:
        raise WireError(f"an array of dtype {dtype}, which is not plain data")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    offset = stream.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise WireError(f"an array of shape {shape} whose data has {len(data) - offset} bytes")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


class Encoder:
    """Turns a value into JSON-able data plus blobs; ``handle(value)`` decides about other objects.

    ``handle`` returns the JSON for an object that is not plain data (the child keeps it and sends
    a handle); the grader's side passes one that refuses, so it can only ever send plain data and
    references to the child's own objects.
    """

    def __init__(self, handle):
        self.handle, self.blobs = handle, []

    def blob(self, data):
        self.blobs.append(data)
        return len(self.blobs) - 1

    def encode(self, value, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError(f"a value nested more than {MAX_DEPTH} levels deep")
        kind = type(value)
        if value is None or kind in (bool, str):
            return value
        if kind is int:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$f": repr(value)}
        if kind is list:
            return [self.encode(item, depth + 1) for item in value]
        if kind is tuple:
            return {"$t": [self.encode(item, depth + 1) for item in value]}
        if kind is dict:
            return {"$d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if kind is bytes:
            return {"$b": self.blob(value)}
        if kind is np.ndarray and value.dtype.kind in PLAIN_KINDS and not value.dtype.fields:
            return {"$a": self.blob(npy_parts(value))}
        if isinstance(value, np.generic) and type(value).__module__ == "numpy" and \
                np.dtype(type(value)).kind in PLAIN_KINDS:
            return {"$s": self.blob(npy_parts(np.asarray(value)))}
        return self.handle(value, self, depth)


class Decoder:
    """The inverse of :class:`Encoder`; ``handle(tag, data, decoder)`` builds the other side's objects."""

    def __init__(self, blobs, handle):
        self.blobs, self.handle, self.used = blobs, handle, set()

    def blob(self, index):
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError(f"a reference to blob {index!r} of {len(self.blobs)}")
        return self.blobs[index]

    def decode(self, data, depth=0):
        if depth > MAX_DEPTH:
            raise WireError(f"a value nested more than {MAX_DEPTH} levels deep")
        kind = type(data)
        if data is None or kind in (bool, int, float, str):
            return data
        if kind is list:
            return [self.decode(item, depth + 1) for item in data]
        if kind is not dict or len(data) == 0:
            raise WireError(f"an unexpected {kind.__name__} in a value")
        tag = next(iter(data))
        body = data[tag]
        if tag == "$f":
            if body not in ("nan", "inf", "-inf"):
                raise WireError(f"a float {body!r}")
            return float(body)
        if tag == "$t":
            return tuple(self.decode(item, depth + 1) for item in self._list(body))
        if tag == "$d":
            result = {}
            for pair in self._list(body):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("a dict entry that is not a [key, value] pair")
                key = self.decode(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError(f"a dict key of type {type(key).__name__}") from None
                result[key] = self.decode(pair[1], depth + 1)
            return result
        if tag == "$a":
            return array_from_npy(self.blob(body))
        if tag == "$s":
            array = array_from_npy(self.blob(body))
            if array.ndim != 0:
                raise WireError("a numpy scalar that is not 0-d")
            return array[()]
        if tag == "$b":
            return bytes(self.blob(body))
        return self.handle(tag, data, self, depth)

    @staticmethod
    def _list(body):
        if type(body) is not list:
            raise WireError("a tagged value whose body is not a list")
        return body
