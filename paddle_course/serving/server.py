"""Loading the modules and running the HTTP server of ``paddle-course serve`` (Werkzeug, threaded)."""
import logging
import sys

from paddle_course.common import hub
from paddle_course.serving.app import DEFAULT_MAX_BODY_MB, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
# A client that stops sending in the middle of a request is dropped after this many seconds.
REQUEST_TIMEOUT_S = 60


def load_module(name_or_dir):
    """A module to serve: :func:`paddle_course.common.hub.load_module` (no usage-statistics thread),
    refused unless it has a ``@serving`` method."""
    module = hub.load_module(name_or_dir)
    if module.serving_func_name is None:
        raise ValueError(f"module {module.name!r} has no @serving method, so it cannot be served")
    return module


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


def serve(modules=hub.COURSE_MODULES, host=DEFAULT_HOST, port=DEFAULT_PORT, max_body_mb=DEFAULT_MAX_BODY_MB,
          quiet=False):
    """Load ``modules`` and serve them until interrupted (Ctrl+C or SIGTERM).

    ``modules`` are course module names, names of modules installed in PaddleHub's module
    folder, or module folders.  Prints one line per module, then ``Ready: <url>`` when the
    server accepts requests.
    """
    import signal

    from paddle_course.common.progress import say

    if not modules:
        raise ValueError("give at least one module to serve")
    if max_body_mb <= 0:
        raise ValueError(f"--max-body-mb must be positive, got {max_body_mb}")
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {port}")
    for name in modules:  # every name is checked before any model is loaded
        hub.find_module_dir(name)
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
