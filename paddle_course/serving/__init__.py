"""Serve the course's PaddleHub modules over HTTP: the API of ``hub serving start``, made robust.

Course 3.4 (serving a module): ``hub serving start -m course_sentiment`` turns a module into a web
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

The package: :mod:`~paddle_course.serving.protocol` (the request and reply JSON and the
checks of a request), :mod:`~paddle_course.serving.app` (the Flask app) and
:mod:`~paddle_course.serving.server` (loading the modules, the HTTP server, :func:`serve`).
Nothing heavy is imported until a function runs.
"""
from paddle_course.common.hub import COURSE_MODULES
from paddle_course.serving.app import create_app
from paddle_course.serving.protocol import RequestError, check_inputs, json_default, package_result, to_jsonable
from paddle_course.serving.server import (DEFAULT_HOST, DEFAULT_MAX_BODY_MB, DEFAULT_PORT, load_module, make_server,
                                          serve)

__all__ = ["COURSE_MODULES", "DEFAULT_HOST", "DEFAULT_MAX_BODY_MB", "DEFAULT_PORT", "RequestError", "check_inputs",
           "create_app", "json_default", "load_module", "make_server", "package_result", "serve", "to_jsonable"]
