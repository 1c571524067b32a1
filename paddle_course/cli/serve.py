"""``paddle-course serve``: serve the course's PaddleHub modules over HTTP (the ``hub serving`` API)."""
from paddle_course.common.hub import COURSE_MODULES

# the server's defaults, written here so that `--help` does not import the server
DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_BODY_MB = "127.0.0.1", 8866, 20.0


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="serve the PaddleHub modules over HTTP, like `hub serving start`, on 127.0.0.1 (course 3.4)",
        description="Serve PaddleHub modules with the API of `hub serving start`: POST a JSON body "
        "such as {\"texts\": [...]} or {\"images\": [<base64>...]} to http://HOST:PORT/predict/<module> "
        "and get {\"status\": \"000\", \"msg\": \"\", \"results\": ...}. Unlike `hub serving start` it "
        "listens on 127.0.0.1 by default, answers bad requests with a JSON error naming the problem, "
        "and limits the request size.",
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
    parser.add_argument("--max-body-mb", type=float, default=DEFAULT_MAX_BODY_MB,
                        help="largest request body accepted, in MB; larger ones get HTTP 413 "
                        "(default %(default)s)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the ready line and errors")
    parser.set_defaults(func=_serve)


def _serve(args):
    from paddle_course import serving

    return serving.serve(args.modules, host=args.host, port=args.port, max_body_mb=args.max_body_mb,
                         quiet=args.quiet)
