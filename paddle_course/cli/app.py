"""``paddle-course app``: the course in the browser (Boston, Sentiment, Pedestrians, Waybill OCR, Homework)."""

DEFAULT_HOST = "127.0.0.1"  # app.server.DEFAULT_HOST, written here so that `--help` imports nothing
DEFAULT_PORT = 7860


def register(subparsers):
    parser = subparsers.add_parser(
        "app", help="the course in your browser: one local page with a tab per lesson (Gradio, offline)",
        description="Serve one local web page with five tabs: Boston (train any implementation and watch the "
        "loss curve), Sentiment, Pedestrians, Waybill OCR (the three PaddleHub modules' own apps) and "
        "Homework (starter, upload, the autograder's report). It listens on 127.0.0.1 only, makes no share "
        "link, sends no analytics and needs no internet. Stop it with Ctrl+C.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this computer only; 0.0.0.0 lets "
                        "others on your network in)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.set_defaults(func=_serve)


def _serve(args):
    from paddle_course.app.server import serve

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535, got {args.port}")
    serve(args.host, args.port)
    return 0
