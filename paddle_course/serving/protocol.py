"""The ``hub serving`` protocol: the reply wrapper, JSON for NumPy results, and the checks of a request.

A request is ``POST /predict/<module>`` with a JSON object whose keys are the keyword
arguments of the module's ``@serving`` method; the reply is
``{"status": ..., "msg": ..., "results": ...}`` (see :mod:`paddle_course.serving`).
"""
import base64
import inspect
import json
from pathlib import Path

# Keyword arguments of the modules' methods that name files on the server: a client must not
# choose what the server reads or where it writes (it may be another machine with --host).
SERVER_SIDE_KEYS = {
    "paths": "it would read files on the server; send the images themselves, base64-encoded, as 'images'",
    "output_dir": "the server writes no files; with visualization the drawn image comes back in the reply",
}


class RequestError(Exception):
    """A request this server refuses, with the reply's ``status`` code and HTTP status."""

    def __init__(self, message, status="101", http_status=400):
        super().__init__(message)
        self.status = status
        self.http_status = http_status


def package_result(status, msg, results):
    """PaddleHub's reply wrapper: ``{"status": status, "msg": msg, "results": results}``."""
    return {"status": status, "msg": msg, "results": results}


def json_default(value):
    """Make what modules commonly return JSON-serialisable: NumPy scalars and arrays, paths.

    Used as ``json.dumps(..., default=json_default)`` both by the server and by anyone who
    wants to compare a served reply with an in-process call.
    """
    if hasattr(value, "tolist"):  # numpy.ndarray and numpy scalars
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"a {type(value).__name__} in the module's result cannot be written as JSON")


def to_jsonable(obj):
    """``obj`` as it comes out of a JSON round trip (what a client of the server receives)."""
    return json.loads(json.dumps(obj, ensure_ascii=False, default=json_default))


def encode_reply(status, msg, results):
    """The reply's bytes, exactly as PaddleHub's Flask app writes them.

    Flask 3's JSON provider (``hub serving start``) sorts the keys, writes compact JSON with
    non-ASCII characters as ``\\u`` escapes (PaddleHub's ``JSON_AS_ASCII = False`` is a setting
    Flask 3 no longer reads) and ends with a newline; the same bytes here make a reply
    byte-for-byte PaddleHub's, and a lone surrogate in a result is written as an escape too.
    Raises TypeError/ValueError if ``results`` is not JSON-serialisable.
    """
    reply = package_result(status, msg, results)
    return (json.dumps(reply, sort_keys=True, separators=(",", ":"), default=json_default) + "\n").encode("ascii")


def serving_signature(module):
    """The signature of the module's ``@serving`` method, without ``self``.

    PaddleHub's ``@serving`` wraps the method in ``_wrapper(*args, **kwargs)`` without
    ``functools.wraps``; the original function is the wrapper's only closure cell.
    """
    method = getattr(type(module), module.serving_func_name)
    for cell in method.__closure__ or ():
        if inspect.isfunction(cell.cell_contents):
            method = cell.cell_contents
            break
    parameters = list(inspect.signature(method).parameters.values())[1:]
    return inspect.Signature(parameters)



# ---------------------------------------------------------------- checking a request

def _describe(value):
    return "null" if value is None else type(value).__name__


def check_inputs(module_name, signature, inputs):
    """Refuse, with a message naming the problem, a request body the module cannot take.

    Checks the keys against the ``@serving`` method's parameters (unknown keys unless it
    takes ``**kwargs``, missing required ones, ``SERVER_SIDE_KEYS``) and ``batch_size`` (a
    positive integer).  ``texts`` and ``images`` are checked against the server's limits by
    :func:`paddle_course.serving.limits.check_values`; anything else is the module's job
    (its ValueError becomes a 400 reply).
    """
    if not isinstance(inputs, dict):
        raise RequestError(
            f"the request body must be a JSON object such as {{\"texts\": [...]}} or {{\"images\": [...]}}, "
            f"got a JSON {_describe(inputs)}",
            status="112",
        )
    for key, why in SERVER_SIDE_KEYS.items():
        if key in inputs:
            raise RequestError(f"{key!r} is not accepted over HTTP: {why}")
    parameters = signature.parameters
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = [name for name, p in parameters.items()
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if not takes_any_keyword:
        unknown = sorted(set(inputs) - set(named))
        if unknown:
            raise RequestError(
                f"unknown key {unknown[0]!r} for {module_name}; it accepts: {', '.join(named)}"
            )
    missing = [name for name in named
               if parameters[name].default is inspect.Parameter.empty and name not in inputs]
    if missing:
        raise RequestError(f"missing key {missing[0]!r} for {module_name}")
    for data_key in ("texts", "images"):
        if data_key in named and not any(key in inputs for key in ("texts", "images", "paths", "data")):
            raise RequestError(f"missing key {data_key!r} for {module_name}: nothing to predict on")
    if "batch_size" in inputs:
        batch_size = inputs["batch_size"]
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise RequestError(f"'batch_size' must be a positive integer, got {batch_size!r}")


