"""Model files that cannot run code: safetensors and ``.npz`` out, a restricted unpickler in.

``paddle.load`` unpickles, and a pickle runs whatever its ``__reduce__`` names: a crafted
``model.pdparams`` from a classmate or a forum runs its code the moment it is loaded.
This module is the one door for weights a user hands in:

* :func:`save_state` / :func:`load_state` -- a state dict (names -> arrays) as
  ``.safetensors`` (Hugging Face's format: a JSON header and raw bytes, no code) or
  ``.npz`` (read with ``allow_pickle=False``); written atomically.
* :func:`load_pickle` -- a ``.pdparams``/``.pdopt``/``.pkl`` file read by a restricted
  unpickler that builds only NumPy arrays and scalars (what ``paddle.save`` turns tensors
  into), plain containers (dict, list, tuple, set, ``OrderedDict``), numbers, strings,
  bytes, ``None``.  Anything else -- a function, a class, ``os.system``, ``eval`` of an
  arbitrary string -- is refused with :class:`UnsafeWeightsError` *before* it is called:
  nothing in the file runs.  Object arrays (pickles inside a pickle) are refused too.
* :func:`load_pickled_state` (and :func:`load_state` on a pickled file): :func:`load_pickle`,
  then checked to be a flat dict of names -> arrays (Paddle's ``(name, array)`` tensor pairs
  are unpacked, its table of structured names is dropped).
* :func:`to_paddle` -- a loaded state as ``paddle.Tensor``\\ s, for ``set_state_dict``.

Standard library and NumPy only (``safetensors`` when that format is used; Paddle only
in :func:`to_paddle`).
"""
import io
import os
import pickle
import zipfile
from collections import OrderedDict, defaultdict
from pathlib import Path

import numpy as np

PADDLE_NAME_TABLE = "StructuredToParameterName@@"
PICKLE_SUFFIXES = (".pdparams", ".pdopt", ".pkl", ".pickle")
MAX_PICKLE_BYTES = 2 << 30
# array kinds a weights file may hold: bool, ints, floats, complex
NUMERIC_KINDS = set("biufc")


class UnsafeWeightsError(ValueError):
    """A weights file that is not plain data (or not a weights file at all); nothing in it was run."""


# --- the restricted unpickler ---------------------------------------------------------

def _checked_dtype(dtype, where):
    dtype = np.dtype(dtype)
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.hasobject:
        raise UnsafeWeightsError(f"{where}: an array of dtype {dtype}; a weights file holds numbers only")
    return dtype


class _NDArrayName:
    """What the name ``numpy.ndarray`` means in a restricted pickle: an argument of ``_reconstruct``, not a
    class to call (``ndarray((10**10,))`` would reserve memory the file never paid for)."""


def _reconstruct(subtype, shape, dtype_code):
    """``numpy.core.multiarray._reconstruct``, for ``numpy.ndarray`` itself only.

    Returns an empty array: the BUILD that follows (``ndarray.__setstate__``) sets its dtype,
    shape and data from the bytes in the file, and fails when they do not match.
    """
    if subtype is not _NDArrayName:
        raise UnsafeWeightsError(f"an array of type {subtype!r}; only numpy.ndarray is allowed")
    return np.ndarray.__new__(np.ndarray, (0,), np.uint8)


def _dtype(code, align=False, copy=True):
    """``numpy.dtype(code)`` for a numeric type code such as ``'f4'``."""
    if not isinstance(code, str):
        raise UnsafeWeightsError(f"a dtype made from {type(code).__name__}; expected a type code")
    return _checked_dtype(code, "dtype")


def _scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar``: one number of a numeric dtype from its bytes."""
    dtype = _checked_dtype(dtype, "scalar")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise UnsafeWeightsError("a numpy scalar whose data is not its bytes")
    return np.frombuffer(data, dtype=dtype)[0]


def _paddle_dense_tensor(expression, namespace):
    """Paddle pickles a DenseTensor as ``eval('data', {'data': array})``: the array, and only that."""
    if expression != "data" or not isinstance(namespace, dict) or set(namespace) != {"data"}:
        raise UnsafeWeightsError("the file calls eval() on something else than Paddle's ('data', {'data': array})")
    return namespace["data"]


# plain types a pickle may name (to build a value, or as a defaultdict's factory)
_BUILTINS = {"tuple": tuple, "list": list, "dict": dict, "set": set, "frozenset": frozenset, "complex": complex,
             "int": int, "float": float, "bool": bool, "str": str}


def _defaultdict(factory=None):
    """``collections.defaultdict`` whose factory is a plain type (hub.Trainer's ``metrics.pkl`` has one)."""
    if factory is not None and factory not in _BUILTINS.values():
        raise UnsafeWeightsError(f"a defaultdict whose factory is {factory!r}")
    return defaultdict(factory)


_ALLOWED = {("collections", "OrderedDict"): OrderedDict, ("collections", "defaultdict"): _defaultdict,
            ("builtins", "eval"): _paddle_dense_tensor,
            ("numpy", "ndarray"): _NDArrayName, ("numpy", "dtype"): _dtype}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _reconstruct
    _ALLOWED[(_module, "scalar")] = _scalar
for _name, _type in _BUILTINS.items():
    _ALLOWED[("builtins", _name)] = _ALLOWED[("__builtin__", _name)] = _type


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise UnsafeWeightsError(
                f"the file refers to {module}.{name}, which weights have no reason to contain; refusing to "
                "load it (nothing in it was run). Load only files you trust with paddle.load, or ask for "
                "a .safetensors / .npz copy")
        return allowed

    def persistent_load(self, pid):
        raise UnsafeWeightsError("the file uses persistent ids (another program's format); refusing to load it")


def _check_plain(value, where="the file", depth=0):
    """Every value is plain data: containers, numbers, strings, bytes, numeric arrays; OrderedDict -> dict."""
    if depth > 100:
        raise UnsafeWeightsError(f"{where}: nested more than 100 levels deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            raise UnsafeWeightsError(f"{where}: an array of type {type(value).__name__}")
        _checked_dtype(value.dtype, where)
        return value
    if isinstance(value, np.generic):
        _checked_dtype(value.dtype, where)
        return value
    if isinstance(value, dict):
        return {key: _check_plain(item, f"{where}[{key!r}]", depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_check_plain(item, where, depth + 1) for item in value]
        return type(value)(items) if not isinstance(value, list) else items
    raise UnsafeWeightsError(f"{where}: a value of type {type(value).__name__}, which is not plain data")


def load_pickle(source, max_bytes=MAX_PICKLE_BYTES):
    """Unpickle ``source`` (a path or the file's bytes) allowing plain data only.

    Returns dicts, lists, tuples, numbers, strings and NumPy arrays, as ``paddle.load`` would
    before it turns arrays into tensors.  Raises :class:`UnsafeWeightsError` naming what was
    refused; nothing the file names is ever called.
    """
    name = "the data"
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such weights file")
        if path.stat().st_size > max_bytes:
            raise UnsafeWeightsError(f"{path}: {path.stat().st_size} bytes, more than the {max_bytes} allowed")
        data = path.read_bytes()
    else:
        data = bytes(source)
        if len(data) > max_bytes:
            raise UnsafeWeightsError(f"{len(data)} bytes, more than the {max_bytes} allowed")
    try:
        value = _RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafeWeightsError as error:
        raise UnsafeWeightsError(f"{name}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, RecursionError, UnicodeDecodeError) as error:
        raise UnsafeWeightsError(f"{name}: not a readable weights file ({type(error).__name__}: {error})") from None
    return _check_plain(value, name)


# --- state dicts ---------------------------------------------------------------------

def _as_state(value, name):
    """``value`` as ``{str: ndarray}``; Paddle's ``(name, array)`` tensor pairs become their arrays."""
    if not isinstance(value, dict):
        raise UnsafeWeightsError(f"{name}: holds a {type(value).__name__}, not a state dict (names -> arrays)")
    state = {}
    for key, item in value.items():
        if key == PADDLE_NAME_TABLE and isinstance(item, dict):
            continue  # paddle.save's table of structured names -> parameter names, not a weight
        if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], np.ndarray)):
            item = item[1]
        if isinstance(item, np.generic):
            item = np.asarray(item)
        if not isinstance(key, str) or not isinstance(item, np.ndarray):
            raise UnsafeWeightsError(f"{name}: entry {key!r} is a {type(item).__name__}, not an array")
        state[key] = item
    return state


def load_pickled_state(source):
    """A state dict ``{name: ndarray}`` from a pickled Paddle file (a path or its bytes), code refused."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "the data"
    return _as_state(load_pickle(source), name)


def load_state(path):
    """A state dict ``{name: ndarray}`` from ``.safetensors``, ``.npz`` or a pickled Paddle file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            state = load_file(str(path))
        except (SafetensorError, ValueError, OSError) as error:
            raise UnsafeWeightsError(f"{path}: not a readable safetensors file ({error})") from None
        return _as_state(state, str(path))
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                state = {key: archive[key] for key in archive.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
            raise UnsafeWeightsError(f"{path}: not a readable .npz of arrays ({error})") from None
        for key, array in state.items():
            _checked_dtype(array.dtype, f"{path}[{key!r}]")
        return state
    if suffix in PICKLE_SUFFIXES:
        return load_pickled_state(path)
    raise UnsafeWeightsError(f"{path}: unknown weights format {suffix!r}; expected .safetensors, .npz or "
                             f"one of {', '.join(PICKLE_SUFFIXES)}")


def save_state(state, path):
    """Write ``state`` (names -> arrays or tensors) as ``.safetensors`` or ``.npz``, atomically."""
    from paddle_course.common.fileio import atomic_path

    path = Path(path)
    arrays = {}
    for key, value in dict(state).items():
        if not isinstance(key, str):
            raise ValueError(f"state dict keys must be strings, got {key!r}")
        array = np.asarray(value.numpy() if hasattr(value, "numpy") and callable(value.numpy) else value)
        array = _checked_dtype_array(array, key)
        arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")  # (keeps 0-d arrays 0-d)
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".npz"):
        raise ValueError(f"{path}: save weights as .safetensors or .npz (formats that cannot hold code)")
    with atomic_path(path) as tmp:
        if suffix == ".safetensors":
            from safetensors.numpy import save_file

            save_file(arrays, str(tmp))
        else:
            with open(tmp, "wb") as file:
                np.savez(file, **arrays)
    return path


def _checked_dtype_array(array, key):
    try:
        _checked_dtype(array.dtype, repr(key))
    except UnsafeWeightsError as error:
        raise ValueError(str(error)) from None
    return array


def to_paddle(state):
    """``{name: paddle.Tensor}`` from a loaded state, ready for ``layer.set_state_dict``."""
    import paddle

    return {key: paddle.to_tensor(value) for key, value in state.items()}
