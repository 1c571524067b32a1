"""Serve the page on this computer only, with nothing fetched from the internet.

:func:`serve` is ``paddle-course app``.  The page is a Gradio app mounted in a FastAPI app that
this module runs with uvicorn itself (Gradio's own ``launch()`` would first ask the new server
for its page with a 3 s limit, and on a busy laptop it fails with "localhost is not accessible").
What keeps it offline:

* Gradio's analytics are off (:func:`paddle_course.common.webui.import_gradio`): no usage report,
  no version check;
* Gradio's ``index.html`` preconnects to Google Fonts and loads ``iframeResizer`` from cdnjs
  (for pages embedded in other sites); :class:`OfflinePage` serves the HTML without both;
* the theme's fonts are Gradio's local ones, and the course's two CJK fonts are served by the
  app at ``/course-fonts/`` (so Chinese shows even where the browser has no CJK font);
* it listens on 127.0.0.1 unless told otherwise, and never makes a share link.
"""
import re
import socket
import threading
import time
from types import MappingProxyType

from paddle_course.common.plots import CJK_FONT_FILES
from paddle_course.common.webui import CJK_FAMILIES, MAX_REQUEST_MB, import_gradio

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
FONTS_ROUTE = "/course-fonts"
FONT_FILES = MappingProxyType({path.name: path for path in CJK_FONT_FILES})
#: what of Gradio's index.html would reach out: Google Fonts preconnects, scripts from a CDN
OUTSIDE_TAGS = re.compile(rb'<link[^>]+href="https://[^"]*"[^>]*>|<script[^>]+src="https://[^"]*"[^>]*>\s*</script>'
                          # and the link to a web-app manifest Gradio only serves with pwa=True (a 404 otherwise)
                          rb'|<link rel="manifest"[^>]*>')
CJK_RANGES = "U+2000-206F, U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"


def font_css():
    """``@font-face`` rules for the course's CJK fonts (``webui.CJK_FAMILIES``), as the app serves them."""
    rules = []
    for family, path in zip(CJK_FAMILIES, CJK_FONT_FILES):
        kind = "opentype" if path.suffix == ".otf" else "truetype"
        rules.append(f'@font-face {{ font-family: "{family}"; src: url("{FONTS_ROUTE}/{path.name}") format("{kind}"); '
                     f"unicode-range: {CJK_RANGES}; font-display: swap; }}")
    return "\n".join(rules)


class OfflinePage:
    """ASGI middleware: HTML pages go out without tags that load anything from another site."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held, chunks = None, []

        async def rewrite(message):
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    held = message  # sent once the whole body is known, with its new length
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = OUTSIDE_TAGS.sub(b"", b"".join(chunks))
                headers = [(k, v) for k, v in held["headers"] if k.lower() != b"content-length"]
                await send({**held, "headers": headers + [(b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, rewrite)


def create_app(page):
    """The FastAPI app serving ``page`` (a ``gradio.Blocks``) at ``/`` and the CJK fonts at ``/course-fonts/``."""
    gr = import_gradio()
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse
    from starlette.middleware import Middleware

    app = FastAPI(middleware=[Middleware(OfflinePage)], docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(FONTS_ROUTE + "/{name}")
    def course_font(name: str):
        if name not in FONT_FILES:
            raise HTTPException(status_code=404)
        return FileResponse(FONT_FILES[name], headers={"Cache-Control": "max-age=86400"})

    gr.mount_gradio_app(app, page, path="/", max_file_size=MAX_REQUEST_MB * 1024 * 1024, ssr_mode=False,
                        show_error=True)
    # What launch() would set: Gradio then only takes uploads from its own upload folder and only
    # serves files the app made (it skips these checks for a Blocks that has not "launched").
    page.has_launched = True
    return app


def check_port_free(host, port):
    """Raise ValueError naming the port when something already listens there (uvicorn would just exit)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValueError(f"cannot listen on {host}:{port} ({exc.strerror}); is the app already running? "
                             "Choose another port with --port") from None


def make_server(page, host=DEFAULT_HOST, port=DEFAULT_PORT):
    """A ``uvicorn.Server`` for the page (not started); ``port=0`` picks a free port."""
    import uvicorn

    config = uvicorn.Config(create_app(page), host=host, port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


class RunningApp:
    """A server started in a background thread (tests, notebooks); :meth:`stop` ends it."""

    def __init__(self, server, thread):
        self.server, self.thread = server, thread

    @property
    def port(self):
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self):
        return f"http://{self.server.config.host}:{self.port}/"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


def start_in_background(page, host=DEFAULT_HOST, port=0, timeout=60):
    """Serve ``page`` from a daemon thread; returns a :class:`RunningApp` once it accepts connections."""
    server = make_server(page, host, port)
    thread = threading.Thread(target=server.run, name="paddle-course-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the app did not start on {host}:{port}")
        time.sleep(0.05)
    return RunningApp(server, thread)


def serve(host=DEFAULT_HOST, port=DEFAULT_PORT, say=print):
    """``paddle-course app``: build the page and serve it until Ctrl+C."""
    from paddle_course.app.page import build_page
    from paddle_course.app.training import start_forkserver

    check_port_free(host, port)
    start_forkserver()  # imports Paddle for the Boston trainings while the modules load
    page = build_page(say=say, css=font_css())
    server = make_server(page, host, port)
    say(f"paddle-course app: open http://{host}:{port}/ in your browser (Ctrl+C stops it)")
    server.run()
