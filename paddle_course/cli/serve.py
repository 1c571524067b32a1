"""``paddle-course serve``: serve the course's PaddleHub modules over HTTP (the ``hub serving`` API, course 3.4)."""
from dataclasses import fields

from paddle_course.common.hub import COURSE_MODULES
from paddle_course.serving.limits import Limits, option
from paddle_course.serving.server import DEFAULT_BATCH_WINDOW_MS, DEFAULT_HOST, DEFAULT_PORT


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="serve the PaddleHub modules over HTTP, like `hub serving start`, on 127.0.0.1",
        description="Serve PaddleHub modules with the API of `hub serving start`: POST a JSON body "
        "such as {\"texts\": [...]} or {\"images\": [<base64>...]} to http://HOST:PORT/predict/<module> "
        "and get {\"status\": \"000\", \"msg\": \"\", \"results\": ...}. Unlike `hub serving start` it "
        "listens on 127.0.0.1 by default, checks every request against the limits below before any work, "
        "answers bad requests with a JSON error naming the problem, closes connections that do not send "
        "their request in time, gives each module its own queue and runs concurrent requests to a module "
        "as one batch.",
    )
    parser.add_argument(
        "--modules", "-m", nargs="+", default=list(COURSE_MODULES), metavar="MODULE",
        help="course module names, names of installed PaddleHub modules, or module folders "
        f"(default: {' '.join(COURSE_MODULES)})",
    )
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default %(default)s: this computer only; "
                        "0.0.0.0 opens it to your network)")
    parser.add_argument("--port", "-p", type=int, default=DEFAULT_PORT,
                        help="port to listen on (default %(default)s, as hub serving; 0 picks a free one)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the ready line and errors")
    web = parser.add_argument_group("browsers", "what web pages may do (by default: nothing)")
    web.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                     help="a host name accepted in the Host header besides the address the server is reached on "
                     "(repeatable; '*' accepts any, which lets DNS rebinding through)")
    web.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                     help="a web origin (e.g. http://localhost:3000) whose pages may call the server: it gets "
                     "CORS headers (repeatable; default none)")
    limits = parser.add_argument_group("limits", "checked before any work; each refusal is a JSON reply naming it")
    for limit in fields(Limits):
        limits.add_argument(option(limit.name), type=type(limit.default), default=limit.default,
                            metavar="N", help=f"{limit.metadata['help']} (default %(default)s)")
    parser.add_argument("--batch-window-ms", type=float, default=DEFAULT_BATCH_WINDOW_MS, metavar="MS",
                        help="how long a module may wait for concurrent requests to run as one batch: until "
                        "as many wait as in the last batch, at most this long (default %(default)s; 0: only "
                        "those already waiting)")
    parser.set_defaults(func=_serve)


def _serve(args):
    from paddle_course import serving

    limits = Limits(**{limit.name: getattr(args, limit.name) for limit in fields(Limits)})
    return serving.serve(args.modules, host=args.host, port=args.port, limits=limits,
                         allowed_hosts=args.allow_host, cors_origins=args.cors_origin,
                         batch_window_ms=args.batch_window_ms, quiet=args.quiet)
