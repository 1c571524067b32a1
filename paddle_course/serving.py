"""Serve the course's PaddleHub modules over HTTP: the API of ``hub serving start``, made robust.

Course 4 (deployment): ``hub serving start -m course_sentiment`` turns a module into a web
service.  ``paddle-course serve`` serves the same API -- the same URL, the same request
and reply JSON -- with these differences, which a learner's laptop needs:

* it listens on 127.0.0.1 by default (PaddleHub's own server binds 0.0.0.0, every
  network interface);
* bad requests get a JSON error reply naming the problem, with a fitting HTTP status,
  where PaddleHub 2.4 answers an HTML page or HTTP 500 (see "What PaddleHub does" below);
* request bodies are capped (``--max-body-mb``, HTTP 413) and a slow client times out;
* keys that name files on the server (``paths``, ``output_dir``) are refused: a client
  sends images, it does not choose what the server reads or where it writes.

The API (PaddleHub's)::

    POST /predict/<module name>          Content-Type: application/json
    text modules:   {"texts": ["这家店很好吃", ...], "batch_size": 1}
    image modules:  {"images": ["<base64 of a JPEG/PNG file>", ...], <other keyword arguments>}
    reply:          {"status": "000", "msg": "", "results": <what the module's @serving method returns>}

The JSON object is passed as keyword arguments to the module's ``@serving`` method,
exactly as PaddleHub does (``paddlehub.serving.app_compat.predict_v2``).

Reply codes (``status`` is PaddleHub's; the HTTP status is ours, PaddleHub always uses 200):

=======  ====  ===================================================================
status   HTTP  meaning
=======  ====  ===================================================================
"000"    200   results computed
"101"    400   the input was rejected: a bad value, or the module raised ValueError/TypeError
"101"    500   the module failed unexpectedly (the traceback goes to the server log only)
"111"    404   no such module (or no such URL) on this server
"112"    400   the body is not a JSON object (PaddleHub: "outdated HTTP protocol format")
"112"    405   method not allowed (use POST)
"112"    413   the body is larger than ``--max-body-mb``
=======  ====  ===================================================================

What PaddleHub 2.4's own ``hub serving start`` does on bad input (measured with Flask 3.1,
Werkzeug 3.1): invalid JSON or an empty body -> HTML "400 Bad Request"; a body that is
valid JSON but not an object (``[1, 2]``, ``"abc"``), or JSON nested thousands deep ->
an HTML "500 Internal Server Error", because ``predict_v2`` calls ``dict.update`` outside its ``try`` and Flask's own
error logging then crashes on PaddleHub's replacement logger (``Logger.__call__() got an
unexpected keyword argument 'exc_info'``); a Content-Type other than application/json ->
HTML 415; an unknown module -> 200 with status "111"; an exception raised inside the
module (e.g. the modules' ValueError on an empty text list) -> 200 with status "101" and
``str(error)`` as ``msg``, which is clean (a missing ``images`` key reads
"serving_method() missing 1 required positional argument: 'images'").  It has no body
size limit, and passes ``paths``/``output_dir`` from the client to the module.  The server
process survives all of these (300 mixed bad requests, then a good one answered), but
its log fills with a traceback per HTTP 500.
"""
import contextlib
import base64
import binascii
import inspect
import json
import logging
import os
import sys
import threading
from pathlib import Path

from paddle_course.paths import hub_module_dir

COURSE_MODULES = ("course_sentiment", "course_pedestrian", "course_ocr")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
DEFAULT_MAX_BODY_MB = 20.0
# A client that stops sending in the middle of a request is dropped after this many seconds.
REQUEST_TIMEOUT_S = 60

logger = logging.getLogger("paddle_course.serving")

# Keyword arguments of the modules' methods that name files on the server: a client must not
# choose what the server reads or where it writes (it may be another machine with --host).
SERVER_SIDE_KEYS = {
    "paths": "it would read files on the server; send the images themselves, base64-encoded, as 'images'",
    "output_dir": "the server keeps its own output folder; leave it out",
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


# ---------------------------------------------------------------- finding and loading modules

def module_home():
    """PaddleHub's module folder: ``$HUB_HOME/modules``, by default ``~/.paddlehub/modules``.

    The same rule as ``paddlehub.env.MODULE_HOME``, without importing PaddleHub (slow).
    """
    hub_home = os.environ.get("HUB_HOME") or os.path.join(os.path.expanduser("~"), ".paddlehub")
    return Path(hub_home) / "modules"


def find_module_dir(name_or_dir):
    """The folder of a module given by course name, installed name, or folder path.

    Order: a course module shipped in the package (always in step with the installed
    paddle_course); an existing folder containing ``module.py``; a module installed in
    PaddleHub's module folder (``hub install``, ``paddle-course hub install``).
    """
    if name_or_dir in COURSE_MODULES:
        shipped = Path(hub_module_dir(name_or_dir))
        if (shipped / "module.py").is_file():
            return shipped
        installed = module_home() / name_or_dir
        if (installed / "module.py").is_file():
            return installed
        raise FileNotFoundError(f"course module {name_or_dir} is missing from this installation ({shipped}); "
                                "reinstall paddle_course")
    path = Path(name_or_dir)
    if (path / "module.py").is_file():
        return path.resolve()
    installed = module_home() / str(name_or_dir).replace("-", "_")
    if (installed / "module.py").is_file():
        return installed
    raise ValueError(
        f"unknown module {name_or_dir!r}: not a course module ({', '.join(COURSE_MODULES)}), "
        f"not a folder with a module.py, and not installed in {module_home()}"
    )


def load_module(name_or_dir):
    """Instantiate a PaddleHub module from its folder, as ``hub.Module(directory=...)`` does.

    ``HubModule.load`` imports ``<folder>/module.py`` and returns the ``@moduleinfo`` class;
    we instantiate it ourselves rather than through ``hub.Module`` because that also starts
    PaddleHub's usage-statistics thread, which contacts paddlepaddle.org.cn.
    """
    directory = find_module_dir(name_or_dir)
    from paddlehub.module.module import Module as HubModule

    module_cls = HubModule.load(str(directory))
    module_cls.directory = str(directory)
    module = module_cls()
    if module.serving_func_name is None:
        raise ValueError(f"module {module.name!r} has no @serving method, so it cannot be served")
    return module


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


def _check_text_list(texts):
    if not isinstance(texts, list):
        raise RequestError(f"'texts' must be a list of strings, got {_describe(texts)}")
    if not texts:
        raise RequestError("'texts' is an empty list; send at least one text")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise RequestError(f"texts[{index}] must be a string, got {_describe(text)}")


def _check_image_list(images):
    import cv2
    import numpy as np

    if not isinstance(images, list):
        raise RequestError(f"'images' must be a list of base64-encoded image files, got {_describe(images)}")
    if not images:
        raise RequestError("'images' is an empty list; send at least one base64-encoded image")
    for index, image in enumerate(images):
        if not isinstance(image, str):
            raise RequestError(f"images[{index}] must be a base64 string, got {_describe(image)}")
        try:
            data = base64.b64decode("".join(image.split()), validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"images[{index}] is not valid base64") from None
        # A reduced grayscale decode is enough to prove the bytes are an image, at a fraction
        # of the cost of the full decode the module does next.
        decoded = None
        if data:
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
        if decoded is None:
            raise RequestError(
                f"images[{index}] is valid base64 but not an image file OpenCV can read "
                "(send the bytes of a JPEG/PNG/BMP file, base64-encoded)"
            )


def check_inputs(module_name, signature, inputs):
    """Refuse, with a message naming the problem, a request body the module cannot take.

    Checks the keys against the ``@serving`` method's parameters (unknown keys unless it
    takes ``**kwargs``, missing required ones, ``SERVER_SIDE_KEYS``), and the values of the keys the course's
    modules share: ``texts`` (non-empty list of strings), ``images`` (non-empty list of
    base64-encoded image files), ``batch_size`` (a positive integer).  Anything else is the
    module's job (its ValueError becomes a 400 reply).
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
    if "texts" in inputs:
        _check_text_list(inputs["texts"])
    if "images" in inputs:
        _check_image_list(inputs["images"])
    if "batch_size" in inputs:
        batch_size = inputs["batch_size"]
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise RequestError(f"'batch_size' must be a positive integer, got {batch_size!r}")


# ---------------------------------------------------------------- the Flask app

def _read_body(stream, limit):
    """The request body, or None once it grows past ``limit`` bytes (reads at most limit + 1)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


@contextlib.contextmanager
def _graph_mode_restored():
    """Give back Paddle's graph mode as it was before a module call.

    PaddleHub 2.4 runs each method of a module that is not a ``paddle.nn.Layer``
    inside ``paddle.enable_static()`` and does not switch back when the method
    raises, so one bad request would leave every later dygraph module in static mode.
    """
    import paddle

    was_dynamic = paddle.in_dynamic_mode()
    try:
        yield
    finally:
        if was_dynamic and not paddle.in_dynamic_mode():
            paddle.disable_static()


def create_app(modules, max_body_mb=DEFAULT_MAX_BODY_MB):
    """The Flask app serving ``modules`` (``{name: module instance}``) under ``/predict/<name>``.

    It is PaddleHub's own app (``paddlehub.serving.app_compat.create_app``: same routes,
    same module registry) with the predict view replaced by a checked one and every error
    answered as JSON.  Module calls are serialised by a lock: one Paddle predictor is not
    meant to be run from several threads at once.
    """
    from flask import request
    from paddlehub.serving import app_compat
    from werkzeug.exceptions import HTTPException

    configs = {}
    for name, module in modules.items():
        configs[name] = {
            "init_args": {"directory": str(module.directory)},
            "predict_args": {},
            "module": module,
            "name": module.name,
            "version": str(module.version),
            "category": str(module.type).split("/")[0].upper(),
            "method_name": module.serving_func_name,
            "signature": serving_signature(module),
        }
    app = app_compat.create_app(init_flag=False, configs=configs)
    # PaddleHub replaces app.logger by its own Logger, on which Flask's error logging crashes.
    app.logger = logger
    max_body_bytes = int(max_body_mb * 1024 * 1024)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    model_lock = threading.Lock()

    def reply(status, msg, results, http_status):
        body = json.dumps(package_result(status, msg, results), ensure_ascii=False, default=json_default)
        return app.response_class(body, status=http_status, mimetype="application/json")

    def predict(module_name):
        """POST /predict/<module_name>: check the JSON body, call the module's @serving method."""
        config = configs.get(module_name)
        if config is None:
            raise RequestError(
                f"Module {module_name} is not available; this server serves: {', '.join(configs)}",
                status="111", http_status=404,
            )
        if request.content_length is not None and request.content_length > max_body_bytes:
            raise RequestError(
                f"the request body is {request.content_length / 2**20:.1f} MB, more than the "
                f"server's limit of {max_body_mb:g} MB (paddle-course serve --max-body-mb)",
                status="112", http_status=413,
            )
        raw = _read_body(request.stream, max_body_bytes)
        if raw is None:  # a chunked body has no Content-Length to check beforehand
            raise RequestError(
                f"the request body is more than the server's limit of {max_body_mb:g} MB "
                "(paddle-course serve --max-body-mb)", status="112", http_status=413,
            )
        if not raw.strip():
            raise RequestError('the request body is empty; send a JSON object such as {"texts": [...]}',
                               status="112")
        try:
            inputs = json.loads(raw)
        except UnicodeDecodeError:
            raise RequestError("the request body is not UTF-8 text (it must be JSON)", status="112") from None
        except json.JSONDecodeError as err:
            raise RequestError(f"the request body is not valid JSON: {err}", status="112") from None
        except RecursionError:
            raise RequestError("the request body's JSON is nested too deeply", status="112") from None
        check_inputs(module_name, config["signature"], inputs)
        serving_method = getattr(config["module"], config["method_name"])
        arguments = dict(config["predict_args"], **inputs)
        try:
            with model_lock, _graph_mode_restored():
                results = serving_method(**arguments)
        except (ValueError, TypeError) as err:
            return reply("101", str(err) or type(err).__name__, "", 400)
        except Exception as err:  # noqa: BLE001 -- a failing module must not take the server down
            logger.exception("module %s failed on a request", module_name)
            return reply("101", f"{module_name} failed: {type(err).__name__}: {err}", "", 500)
        try:
            return reply("000", "", results, 200)
        except (TypeError, ValueError) as err:
            return reply("101", f"{module_name} returned a result that is not JSON: {err}", "", 500)

    app.view_functions["predict_serving_v2"] = predict

    def no_gradio(module_name, path=None):
        # PaddleHub's /gradio routes start a gradio process per module; the course modules have no
        # gradio app, and an unknown module there is a KeyError (HTTP 500) in PaddleHub.
        raise RequestError("paddle-course serve has no gradio apps; POST JSON to /predict/<module>",
                           status="111", http_status=404)

    for endpoint in ("gradio_app", "request_gradio_app"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = no_gradio

    @app.errorhandler(RequestError)
    def request_error(err):
        return reply(err.status, str(err), "", err.http_status)

    @app.errorhandler(HTTPException)
    def http_error(err):
        if err.code == 413:
            msg = f"the request body is larger than the server's limit of {max_body_mb:g} MB " \
                  "(paddle-course serve --max-body-mb)"
        elif err.code == 404:
            msg = f"no such URL; POST to /predict/<module>, modules: {', '.join(configs)}"
        elif err.code == 405:
            msg = f"{request.method} is not allowed here; POST a JSON body to /predict/<module>"
        else:
            msg = err.description or err.name
        return reply("111" if err.code == 404 else "112", msg, "", err.code)

    @app.errorhandler(Exception)
    def unexpected_error(err):
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return reply("101", f"internal server error: {type(err).__name__}: {err}", "", 500)

    return app


def check_address_free(host, port):
    """Raise ValueError now, before minutes of model loading, if ``host:port`` cannot be bound."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself will
        try:
            probe.bind((host, int(port)))
        except OSError as err:
            raise ValueError(
                f"cannot listen on {host}:{port}: {err.strerror or err} "
                "(is another server using this port? choose another with --port)"
            ) from None


def make_server(app, host=DEFAULT_HOST, port=DEFAULT_PORT):
    """A threaded Werkzeug server for ``app`` bound to ``host:port`` (port 0: any free port).

    Raises ValueError with a clear message if the address cannot be used.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server as werkzeug_make_server

    class TimedRequestHandler(WSGIRequestHandler):
        timeout = REQUEST_TIMEOUT_S  # socket timeout: a stalled client cannot hold a thread forever

    try:
        server = werkzeug_make_server(host, int(port), app, threaded=True, request_handler=TimedRequestHandler)
    except OSError as err:
        raise ValueError(
            f"cannot listen on {host}:{port}: {err.strerror or err} "
            "(is another server using this port? choose another with --port)"
        ) from None
    server.daemon_threads = True
    return server


def serve(modules=COURSE_MODULES, host=DEFAULT_HOST, port=DEFAULT_PORT, max_body_mb=DEFAULT_MAX_BODY_MB,
          quiet=False):
    """Load ``modules`` and serve them until interrupted (Ctrl+C or SIGTERM).

    ``modules`` are course module names, names of modules installed in PaddleHub's module
    folder, or module folders.  Prints one line per module, then ``Ready: <url>`` when the
    server accepts requests.
    """
    import signal

    from paddle_course.progress import say

    if not modules:
        raise ValueError("give at least one module to serve")
    if max_body_mb <= 0:
        raise ValueError(f"--max-body-mb must be positive, got {max_body_mb}")
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {port}")
    for name in modules:  # every name is checked before any model is loaded
        find_module_dir(name)
    check_address_free(host, port)
    loaded = {}
    for name in modules:
        say(f"loading {name} ...", quiet)
        module = load_module(name)
        loaded[module.name] = module
    server = make_server(create_app(loaded, max_body_mb=max_body_mb), host, port)
    if quiet:  # no line per request
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{server.server_port}"
    for name, module in loaded.items():
        say(f"serving {name} {module.version} ({module.type}): POST {base_url}/predict/{name}", quiet)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: other machines on your network can reach this server",
              file=sys.stderr, flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    # The ready line is printed even when quiet: scripts wait for it.
    print(f"Ready: {base_url} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    say("server stopped", quiet)
    return 0
