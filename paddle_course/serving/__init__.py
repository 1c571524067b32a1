"""Serve the course's PaddleHub modules over HTTP: the API of ``hub serving start``, made robust.

Course 3.4 (serving a module): ``hub serving start -m course_sentiment`` turns a module into a web
service.  ``paddle-course serve`` serves the same API -- the same URL, the same request
and reply JSON -- for any module of the registry (:mod:`paddle_course.common.hub`) or any
PaddleHub module folder, with what a learner's laptop needs:

* it listens on 127.0.0.1 by default (PaddleHub's own server binds 0.0.0.0, every interface);
* it answers only requests whose Host header names it (no DNS rebinding), sent as
  ``Content-Type: application/json`` (a web page cannot post to it without a CORS
  preflight, which it does not answer unless ``--cors-origin`` asks);
* every request is checked against limits before any work (body size, texts, characters,
  images, image bytes and pixels read from the file header, queued work per module), and
  every refusal is a JSON reply naming the limit and its CLI option;
* nothing from a request becomes a path (``paths``, ``output_dir`` are refused;
  ``visualization`` returns the drawn image in the reply);
* each module has its own queue and thread; concurrent requests to a module that declares
  ``serving_batch`` are run as one call (micro-batching), each client getting exactly the
  answer it would get alone; a request whose client has gone is dropped before it runs, and
  every request has a deadline;
* slow and idle clients cannot hold connections: the request line and headers must arrive within
  ``--header-timeout-s`` (408, or closed silently if nothing came), and at ``--max-connections``
  the connection waiting longest for its request is closed to make room
  (:mod:`~paddle_course.serving.connections`).

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
"101"    413   the input is over a limit (texts, characters, images, image bytes or pixels)
"101"    429   the module's queue is full (``--max-queue-items``, ``--max-queue-mb``), or all
               ``--max-connections`` connections have a request in progress: try later
               (the connection reply adds ``Retry-After: 1`` and ``Connection: close``)
"101"    503   no answer within the deadline (``--deadline-s``): the server is overloaded
"101"    500   the module failed unexpectedly (a bug; the traceback goes to the server log only)
"111"    404   no such module (or no such URL) on this server
"112"    400   the body is not UTF-8 JSON holding an object
"112"    403   the Host header does not name this server (``--allow-host``)
"112"    405   method not allowed (use POST)
"112"    408   the body did not arrive before the deadline, or the request line and headers not
               within ``--header-timeout-s`` (then the connection is closed)
"112"    413   the body is larger than ``--max-body-mb``
"112"    415   the Content-Type is not application/json
=======  ====  ===================================================================

What PaddleHub 2.4's own ``hub serving start`` does on bad input (measured with Flask 3.1,
Werkzeug 3.1): invalid JSON or an empty body -> HTML "400 Bad Request"; a body that is
valid JSON but not an object (``[1, 2]``, ``"abc"``), or JSON nested thousands deep ->
an HTML "500 Internal Server Error", because ``predict_v2`` calls ``dict.update`` outside its
``try``; a Content-Type other than application/json -> HTML 415; an unknown module -> 200 with
status "111"; an exception raised inside the module -> 200 with status "101" and
``str(error)`` as ``msg``.  It has no size limit of any kind, serves one connection at a
time (``app_compat.run`` starts Flask with ``threaded=False``, so a single client that
sends half a request and stalls blocks every other client until it gives up; see
``bench/serving_results.md``), and passes ``paths``/``output_dir`` from the client to the module (the
course's modules refuse both themselves, and read image sizes from the file header, so
they are safe under ``hub serving start`` too).

The package: :mod:`~paddle_course.serving.protocol` (the reply JSON, the keys of a request),
:mod:`~paddle_course.serving.limits` (the limits and the checks of a body),
:mod:`~paddle_course.serving.batching` (a queue per module, micro-batching),
:mod:`~paddle_course.serving.app` (the ASGI app) and :mod:`~paddle_course.serving.server`
(loading the modules, uvicorn, :func:`serve`), :mod:`~paddle_course.serving.connections` (the
header deadline and the connection cap, in uvicorn's h11 protocol).  Importing it imports no
Paddle, no uvicorn.
"""
from paddle_course.common.hub import COURSE_MODULES
from paddle_course.serving.app import ServingApp
from paddle_course.serving.batching import BatchContract
from paddle_course.serving.limits import Limits
from paddle_course.serving.protocol import (RequestError, check_inputs, json_default, package_result,
                                            serving_signature, to_jsonable)
from paddle_course.serving.server import (DEFAULT_BATCH_WINDOW_MS, DEFAULT_HOST, DEFAULT_PORT, BackgroundServer,
                                          load_module, serve)

__all__ = ["COURSE_MODULES", "DEFAULT_BATCH_WINDOW_MS", "DEFAULT_HOST", "DEFAULT_PORT", "BackgroundServer",
           "BatchContract", "Limits", "RequestError", "ServingApp", "check_inputs", "json_default", "load_module",
           "package_result", "serve", "serving_signature", "to_jsonable"]
