"""Loading the modules and running ``paddle-course serve``: uvicorn (HTTP/1.1 by h11) and the ASGI app.

Why uvicorn: a trivial JSON endpoint, 16 keep-alive clients on this course's 2 shared
cores (``bench/serving_stacks.py``, six noisy rounds): Werkzeug's threaded server (Flask's,
PaddleHub's) 660-1,170 requests/s, uvicorn with a plain ASGI callable 1,740-3,310,
uvicorn with Starlette 1,170-2,990.  Starlette costs little, but a plain ASGI callable
gives direct control over what matters here: reading the body chunk by chunk against the
limits, and noticing a client that leaves.  One event loop reads and checks every
request, and the model work goes to one thread per module
(:mod:`paddle_course.serving.batching`).  ``bench/serving.py`` has the served numbers.

uvicorn has no timeout for a request's headers and no connection limit of its own that
answers in our JSON (``limit_concurrency`` sends a plain-text 503 and counts idle
connections too): :func:`uvicorn_server` runs uvicorn's h11 protocol with both added
(:mod:`paddle_course.serving.connections`, ``--header-timeout-s``, ``--max-connections``).
Idle keep-alive connections are closed after ``KEEP_ALIVE_S`` or ``--header-timeout-s``,
whichever is shorter.
"""
import logging
import sys
import threading

from paddle_course.common import hub
from paddle_course.serving.app import ServingApp
from paddle_course.serving.limits import Limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
DEFAULT_BATCH_WINDOW_MS = 5.0
# an idle keep-alive connection is closed after this many seconds (or --header-timeout-s if shorter)
KEEP_ALIVE_S = 5


def load_module(name_or_dir):
    """A module to serve: :func:`paddle_course.common.hub.load_module` (no usage-statistics thread),
    refused unless it has a ``@serving`` method."""
    module = hub.load_module(name_or_dir)
    if module.serving_func_name is None:
        raise ValueError(f"module {module.name!r} has no @serving method, so it cannot be served")
    return module


def bind_socket(host, port):
    """A TCP socket bound (not yet listening) to ``host:port`` (port 0: a free one), so that a busy
    port is reported at once, before minutes of model loading; ValueError with a clear message."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets that
    # say they are TCP, and with it on, the reply's second write waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except OSError as err:
        sock.close()
        raise ValueError(
            f"cannot listen on {host}:{port}: {err.strerror or err} "
            "(is another server using this port? choose another with --port)"
        ) from None
    return sock


def uvicorn_server(app, host=DEFAULT_HOST, port=DEFAULT_PORT):
    """A ``uvicorn.Server`` for ``app``: h11 with a header deadline and a connection cap taken from
    ``app.limits`` (:mod:`paddle_course.serving.connections`), no websockets, no proxy headers,
    no logging set-up."""
    import uvicorn

    from paddle_course.serving.connections import guarded_protocol

    protocol = guarded_protocol(getattr(app, "limits", None) or Limits())
    config = uvicorn.Config(
        app, host=host, port=int(port), http=protocol, ws="none", loop="asyncio", lifespan="on",
        proxy_headers=False, server_header=False, access_log=False, log_config=None, log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """A server running on a thread of this process (for tests and benchmarks): ``.port``, ``.url``, ``.stop()``."""

    def __init__(self, app, host=DEFAULT_HOST, port=0):
        self.app = app
        sock = bind_socket(host, port)
        self.port = sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.server = uvicorn_server(app, host, self.port)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       name="paddle-course-serve", daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the server on {host}:{port} did not start")
            self.thread.join(0.01)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(15)


def serve(modules=hub.COURSE_MODULES, host=DEFAULT_HOST, port=DEFAULT_PORT, limits=None, allowed_hosts=(),
          cors_origins=(), batch_window_ms=DEFAULT_BATCH_WINDOW_MS, quiet=False):
    """Load ``modules`` and serve them until interrupted (Ctrl+C or SIGTERM).

    ``modules`` are course module names, names of modules installed in PaddleHub's module
    folder, or module folders.  Prints one line per module, then ``Ready: <url>`` when the
    server accepts requests.
    """
    from paddle_course.common.progress import say

    if not modules:
        raise ValueError("give at least one module to serve")
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {port}")
    if batch_window_ms < 0:
        raise ValueError(f"--batch-window-ms must be 0 or more, got {batch_window_ms}")
    limits = limits or Limits()
    for name in modules:  # every name is checked before any model is loaded
        hub.find_module_dir(name)
    sock = bind_socket(host, port)
    loaded = {}
    for name in modules:
        say(f"loading {name} ...", quiet)
        module = load_module(name)
        loaded[module.name] = module
    app = ServingApp(loaded, limits, allowed_hosts=allowed_hosts, cors_origins=cors_origins,
                     batch_window_ms=batch_window_ms)
    server = uvicorn_server(app, host, port)
    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{sock.getsockname()[1]}"
    for name, module in loaded.items():
        say(f"serving {name} {module.version} ({module.type}): POST {base_url}/predict/{name}", quiet)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: other machines on your network can reach this server",
              file=sys.stderr, flush=True)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    # uvicorn warns once per malformed request ("Invalid HTTP request received."): a client could fill the log
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
    sock.listen(server.config.backlog)
    # The ready line is printed even when quiet: scripts wait for it.  Connections made from now
    # on wait in the socket's backlog until the loop below accepts them.
    print(f"Ready: {base_url} (Ctrl+C to stop)", flush=True)
    server.run(sockets=[sock])  # uvicorn turns SIGINT and SIGTERM into a graceful stop
    say("server stopped", quiet)
    return 0
