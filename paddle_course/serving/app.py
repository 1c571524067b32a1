"""The Flask app of ``paddle-course serve``: PaddleHub's own app with a checked predict view.

Every error is answered as JSON with PaddleHub's reply wrapper; the codes are listed in
:mod:`paddle_course.serving`.
"""
import contextlib
import json
import logging
import threading

from paddle_course.serving.protocol import RequestError, check_inputs, json_default, package_result, serving_signature

DEFAULT_MAX_BODY_MB = 20.0
logger = logging.getLogger("paddle_course.serving")


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
    from paddlehub.serving import app_compat

    configs = _module_configs(modules)
    app = app_compat.create_app(init_flag=False, configs=configs)
    # PaddleHub replaces app.logger by its own Logger, on which Flask's error logging crashes.
    app.logger = logger
    app.config["MAX_CONTENT_LENGTH"] = int(max_body_mb * 1024 * 1024)
    app.view_functions["predict_serving_v2"] = _predict_view(app, configs, max_body_mb)
    for endpoint in ("gradio_app", "request_gradio_app"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = _no_gradio
    _answer_errors_as_json(app, configs, max_body_mb)
    return app


def _module_configs(modules):
    """PaddleHub's per-module configuration, plus the ``@serving`` method's name and signature."""
    return {name: {
        "init_args": {"directory": str(module.directory)},
        "predict_args": {},
        "module": module,
        "name": module.name,
        "version": str(module.version),
        "category": str(module.type).split("/")[0].upper(),
        "method_name": module.serving_func_name,
        "signature": serving_signature(module),
    } for name, module in modules.items()}


def _reply(app, status, msg, results, http_status):
    body = json.dumps(package_result(status, msg, results), ensure_ascii=False, default=json_default)
    return app.response_class(body, status=http_status, mimetype="application/json")


def _request_json(request, max_body_mb):
    """The request's body parsed as JSON, or a :class:`RequestError` saying why not."""
    max_body_bytes = int(max_body_mb * 1024 * 1024)
    too_large = f"the server's limit of {max_body_mb:g} MB (paddle-course serve --max-body-mb)"
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise RequestError(f"the request body is {request.content_length / 2**20:.1f} MB, more than {too_large}",
                           status="112", http_status=413)
    raw = _read_body(request.stream, max_body_bytes)
    if raw is None:  # a chunked body has no Content-Length to check beforehand
        raise RequestError(f"the request body is more than {too_large}", status="112", http_status=413)
    if not raw.strip():
        raise RequestError('the request body is empty; send a JSON object such as {"texts": [...]}', status="112")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError("the request body is not UTF-8 text (it must be JSON)", status="112") from None
    except json.JSONDecodeError as err:
        raise RequestError(f"the request body is not valid JSON: {err}", status="112") from None
    except RecursionError:
        raise RequestError("the request body's JSON is nested too deeply", status="112") from None


def _predict_view(app, configs, max_body_mb):
    from flask import request

    model_lock = threading.Lock()

    def predict(module_name):
        """POST /predict/<module_name>: check the JSON body, call the module's @serving method."""
        config = configs.get(module_name)
        if config is None:
            raise RequestError(f"Module {module_name} is not available; this server serves: {', '.join(configs)}",
                               status="111", http_status=404)
        inputs = _request_json(request, max_body_mb)
        check_inputs(module_name, config["signature"], inputs)
        serving_method = getattr(config["module"], config["method_name"])
        try:
            with model_lock, _graph_mode_restored():
                results = serving_method(**dict(config["predict_args"], **inputs))
        except (ValueError, TypeError) as err:
            return _reply(app, "101", str(err) or type(err).__name__, "", 400)
        except Exception as err:  # noqa: BLE001 -- a failing module must not take the server down
            logger.exception("module %s failed on a request", module_name)
            return _reply(app, "101", f"{module_name} failed: {type(err).__name__}: {err}", "", 500)
        try:
            return _reply(app, "000", "", results, 200)
        except (TypeError, ValueError) as err:
            return _reply(app, "101", f"{module_name} returned a result that is not JSON: {err}", "", 500)

    return predict


def _no_gradio(module_name, path=None):
    # PaddleHub's /gradio routes start a gradio process per module; the course modules have no
    # gradio app, and an unknown module there is a KeyError (HTTP 500) in PaddleHub.
    raise RequestError("paddle-course serve has no gradio apps; POST JSON to /predict/<module>",
                       status="111", http_status=404)


def _answer_errors_as_json(app, configs, max_body_mb):
    from flask import request
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(RequestError)
    def request_error(err):
        return _reply(app, err.status, str(err), "", err.http_status)

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
        return _reply(app, "111" if err.code == 404 else "112", msg, "", err.code)

    @app.errorhandler(Exception)
    def unexpected_error(err):
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return _reply(app, "101", f"internal server error: {type(err).__name__}: {err}", "", 500)
