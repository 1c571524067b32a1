"""The ASGI app of ``paddle-course serve``: PaddleHub's ``/predict/<module>`` API, checked step by step.

A request goes through these gates, each answering a JSON error in PaddleHub's wrapper
(the codes are listed in :mod:`paddle_course.serving`), cheapest first:

1. the Host header names the address the connection came in on (or ``--allow-host``):
   a web page cannot reach the server through DNS rebinding (403);
2. the route and method (404, 405) and the module (404);
3. ``Content-Type: application/json`` (415): a page's ``fetch`` with text/plain needs no
   CORS preflight, application/json does, and no CORS header is sent unless ``--cors-origin``
   asks for one;
4. the body's size and the module's queue (:mod:`paddle_course.serving.limits`), then the
   JSON, its keys and its values (400, 413, 429);
5. the module's queue (:mod:`paddle_course.serving.batching`) until the answer, the client
   leaving (nothing is run, nothing sent) or the deadline (503).
"""
import asyncio
import ipaddress
import logging
import time

from paddle_course.serving.batching import ModuleQueue, Reply
from paddle_course.serving.limits import Limits, check_values, option, parse_body
from paddle_course.serving.protocol import RequestError, check_inputs, encode_reply, serving_signature

logger = logging.getLogger("paddle_course.serving")
# bodies up to this size are parsed and checked on the event loop; larger ones on a thread
PARSE_INLINE_BYTES = 64 * 1024


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


class ServingApp:
    """The ASGI app serving ``modules`` (``{name: module instance}``) under ``/predict/<name>``.

    ``allowed_hosts``: host names accepted in the Host header besides the address the
    connection came in on (``"*"``: any); ``cors_origins``: origins sent CORS headers
    (``"*"``: any); ``batch_window_ms``: how long a module's queue waits for requests to
    merge with the first one.
    """

    def __init__(self, modules, limits=None, allowed_hosts=(), cors_origins=(), batch_window_ms=2.0):
        self.limits = limits or Limits()
        self.allowed_hosts = {host.lower() for host in allowed_hosts}
        self.cors_origins = set(cors_origins)
        self.modules = modules
        self.signatures = {name: serving_signature(module) for name, module in modules.items()}
        self.batch_window_s = batch_window_ms / 1000
        self.queues = {}  # made on the event loop, at the first request

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.close)
            return
        if scope["type"] != "http":
            return
        headers = _headers(scope)
        try:
            reply = await self._handle(scope, headers, receive)
        except RequestError as err:
            reply = Reply(err.http_status, encode_reply(err.status, str(err), ""))
        except ClientGone:
            return
        except Exception as err:  # noqa: BLE001 -- every reply is JSON, even for a bug of ours
            logger.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            reply = Reply(500, encode_reply("101", f"internal server error: {type(err).__name__}", ""))
        await self._send(send, reply, headers)

    def close(self):
        for queue in self.queues.values():
            queue.close()

    def queue(self, name):
        if name not in self.queues:
            self.queues[name] = ModuleQueue(name, self.modules[name], self.signatures[name], self.limits,
                                            self.batch_window_s)
        return self.queues[name]

    # ------------------------------------------------------------ routing

    async def _handle(self, scope, headers, receive):
        arrived = time.monotonic()
        if not host_allowed(headers.get("host"), scope.get("server"), self.allowed_hosts):
            raise RequestError(f"the Host header {headers.get('host')!r} does not name this server; "
                               f"use its address, or start it with {option('allow_host')} NAME",
                               status="112", http_status=403)
        method, path = scope["method"], scope["path"]
        if path == "/" and method in ("GET", "HEAD"):
            return self._index()
        if not path.startswith("/predict/") or "/" in path[len("/predict/"):]:
            raise RequestError(f"no such URL; POST a JSON body to /predict/<module>, modules: {', '.join(self.modules)}",
                               status="111", http_status=404)
        name = path[len("/predict/"):]
        if method == "OPTIONS" and self._cors_origin(headers):
            return Reply(204, b"")
        if method != "POST":
            raise RequestError(f"{method} is not allowed here; POST a JSON body to /predict/<module>",
                               status="112", http_status=405)
        if name not in self.modules:
            raise RequestError(f"Module {name} is not available; this server serves: {', '.join(self.modules)}",
                               status="111", http_status=404)
        check_content_type(headers.get("content-type"))
        return await self._predict(name, headers, receive, arrived)

    def _index(self):
        modules = {name: {"version": str(module.version), "type": str(module.type)}
                   for name, module in self.modules.items()}
        return Reply(200, encode_reply("000", "paddle-course serve: POST a JSON body to /predict/<module>", modules))

    # ------------------------------------------------------------ predicting

    async def _predict(self, name, headers, receive, arrived):
        queue = self.queue(name)
        deadline = arrived + self.limits.deadline_s
        declared = _content_length(headers.get("content-length"), self.limits)
        queue.reserve_bytes(declared)
        reserved = declared
        try:
            raw, reserved = await self._read_body(receive, queue, reserved, deadline)
            if len(raw) <= PARSE_INLINE_BYTES:
                inputs, items = self._checked(name, raw)
            else:
                inputs, items = await asyncio.to_thread(self._checked, name, raw)
            del raw
            job = queue.submit(inputs, items, reserved, arrived, deadline)
        except BaseException:
            queue.release_bytes(reserved)
            raise
        return await _wait_for(job, receive, deadline, self.limits.deadline_s)

    async def _read_body(self, receive, queue, reserved, deadline):
        """The body, at most ``--max-body-mb``, within the deadline; its bytes counted in the queue's budget."""
        limit = self.limits.max_body_bytes
        chunks, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise RequestError(f"the request body did not arrive within {self.limits.deadline_s:g} s "
                                   f"({option('deadline_s')})", status="112", http_status=408) from None
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestError(f"the request body is more than {self.limits.max_body_mb:g} MB "
                                   f"({option('max_body_mb')})", status="112", http_status=413)
            if size > reserved:  # a body sent without Content-Length, or longer than it said
                queue.reserve_bytes(size - reserved)
                reserved = size
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), reserved

    def _checked(self, name, raw):
        """The request's keywords and its number of texts + images, or a RequestError."""
        inputs = parse_body(raw, self.limits)
        check_inputs(name, self.signatures[name], inputs)
        check_values(inputs, self.limits)
        items = sum(len(inputs[key]) for key in ("texts", "images") if key in inputs)
        return inputs, max(items, 1)

    # ------------------------------------------------------------ replying

    def _cors_origin(self, headers):
        origin = headers.get("origin")
        if origin is not None and ("*" in self.cors_origins or origin in self.cors_origins):
            return origin
        return None

    async def _send(self, send, reply, headers):
        response_headers = [(b"content-type", b"application/json"),
                            (b"content-length", str(len(reply.body)).encode("ascii")),
                            (b"x-content-type-options", b"nosniff")]
        origin = self._cors_origin(headers)
        if origin is not None:
            response_headers += [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
            if reply.http_status == 204:
                response_headers += [(b"access-control-allow-methods", b"POST"),
                                     (b"access-control-allow-headers", b"Content-Type"),
                                     (b"access-control-max-age", b"600")]
        if reply.http_status == 405:
            response_headers.append((b"allow", b"POST"))
        await send({"type": "http.response.start", "status": reply.http_status, "headers": response_headers})
        await send({"type": "http.response.body", "body": reply.body})


async def _wait_for(job, receive, deadline, deadline_s):
    """The job's reply; raises ClientGone if the client leaves first, a 503 RequestError at the deadline."""
    disconnect = asyncio.ensure_future(receive())  # completes only when the client goes
    try:
        done, _ = await asyncio.wait({job.future, disconnect}, timeout=max(0.0, deadline - time.monotonic()),
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnect.cancel()
    if job.future in done:
        return job.future.result()
    job.gone = True  # dropped before it runs; if it is running, its answer is thrown away
    if disconnect in done:
        raise ClientGone
    raise RequestError(f"no answer within the deadline of {deadline_s:g} s ({option('deadline_s')}): "
                       "the server is busy, try again later", http_status=503)


def _headers(scope):
    """The request headers as a dict of lower-case str names to str values (the last one wins)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}


def _content_length(value, limits):
    if value is None:
        return 0
    length = int(value)  # h11 has checked it is a number
    if length > limits.max_body_bytes:
        raise RequestError(f"the request body is {length / 2**20:.1f} MB, more than {limits.max_body_mb:g} MB "
                           f"({option('max_body_mb')})", status="112", http_status=413)
    return length


def check_content_type(value):
    """``application/json``, optionally with ``charset=utf-8``; else a 415 RequestError."""
    media_type, _, parameters = (value or "").partition(";")
    charset = parameters.strip().lower()
    if media_type.strip().lower() != "application/json" or charset not in ("", "charset=utf-8", 'charset="utf-8"'):
        raise RequestError(f"the request must be sent as 'Content-Type: application/json' (UTF-8), "
                           f"not {value!r}", status="112", http_status=415)


def host_allowed(host_header, server_address, allowed_names):
    """Whether the Host header names this server: the address the connection came in on
    (``localhost`` for a loopback address), with its port if one is given, or an allowed name.

    A request without a Host header (HTTP/1.0) is not from a browser and is let through.
    """
    if host_header is None:
        return True
    if "*" in allowed_names:
        return True
    name, _, port = host_header.strip().lower().rpartition(":")
    if not name or "]" in port:  # no port given ("example.org", "[::1]")
        name, port = host_header.strip().lower(), ""
    if port and server_address and port != str(server_address[1]):
        return False
    name = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    if name in allowed_names:
        return True
    if not server_address:
        return False
    try:
        local = ipaddress.ip_address(server_address[0])
    except ValueError:
        return False
    if name == "localhost":
        return local.is_loopback
    try:
        return ipaddress.ip_address(name) == local
    except ValueError:
        return False


async def _lifespan(receive, send, on_shutdown):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
