"""Connections of ``paddle-course serve``: a deadline for a request's headers, and a cap on open connections.

uvicorn (0.54, h11) bounds a request's body only through the app (our deadline, 408), and an
idle keep-alive connection only after an answer (``timeout_keep_alive``, whose timer any
received byte cancels).  It has no timer at all before the request headers are complete: a
client that connects and sends nothing, or sends ``POST /predict/x HTTP/1.1\\r\\nHost: ...``
and then one byte a minute (slowloris), keeps its connection forever, and there is no
connection limit.  :class:`GuardedH11Protocol` adds both to uvicorn's own ``H11Protocol``:

* **header deadline** (``--header-timeout-s``): whenever the server is waiting for a request --
  from the moment a connection is accepted, and again from the moment an answer has been
  sent on a keep-alive connection -- the request line and all headers must arrive within
  ``header_timeout_s`` seconds.  Otherwise the connection is closed: answered first with
  HTTP 408 and a JSON error (``Connection: close``) if part of a request had arrived, closed
  silently if nothing had (as uvicorn closes an idle keep-alive connection).  Once the
  headers are in, the request belongs to the app and its ``--deadline-s`` (body: 408,
  answer: 503).  A connection whose answer is being worked on is never closed by this timer.
* **connection cap** (``--max-connections``): when a connection arrives while
  ``max_connections`` are open, the one that has waited longest for its request line and
  headers (an idle keep-alive connection, a client that connected and said nothing, a
  slowloris) is closed to make room -- as at its header deadline, 408 or silently.  A good
  client, which sends its request as soon as it connects, therefore gets through even when
  hundreds of idle or slow connections are held.  Only when every open connection has a
  request being read or answered is the newcomer refused: at its first request it gets
  HTTP 429, ``Retry-After: 1``, ``Connection: close`` and a JSON error naming the option,
  and the app never sees the request.  429, not uvicorn's ``limit_concurrency`` (a
  plain-text 503), because it is the same answer as a full module queue: the server is
  fine, the client should come back later, and every refusal of this server is a 4xx in
  PaddleHub's JSON wrapper.  Requests being read or answered are bounded by the app
  (``--deadline-s``, ``--max-queue-mb``), so a refused client can come back within
  ``--deadline-s`` at most.  Connections over the cap cost a socket and a few KB each until
  their first request or their header deadline; the hard bound beyond that is the
  process's file-descriptor limit (asyncio then stops accepting for a second, and goes on).

uvicorn's protocol class is not a public API: this subclass relies on ``connection_made``,
``handle_events``, ``on_response_complete``, ``connection_lost``, ``self.conn`` (h11),
``self.cycle``, ``self.app`` and ``self.connections``; ``setup.py`` pins ``uvicorn<1`` and
``tests/test_serving_connections.py`` checks the behaviour.
"""
import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from paddle_course.serving.limits import Limits, option
from paddle_course.serving.protocol import encode_reply


def guarded_protocol(limits):
    """A :class:`GuardedH11Protocol` subclass with the ``header_timeout_s`` and ``max_connections`` of
    ``limits`` (:class:`~paddle_course.serving.limits.Limits`), for ``uvicorn.Config(http=...)``."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,),
                {"header_timeout_s": float(limits.header_timeout_s), "max_connections": int(limits.max_connections),
                 "waiting": {}})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (see the module docstring)."""

    header_timeout_s = Limits.header_timeout_s
    max_connections = Limits.max_connections
    # the server's connections waiting for a request's headers, longest waiting first (a dict is ordered)
    waiting = {}

    def connection_made(self, transport):
        full = self._open_connections() >= self.max_connections and not self._make_room()  # before this one joins
        super().connection_made(transport)
        self.header_timer = None
        if full:
            self.app = self._too_many_connections  # answers its first request, whatever it asks
        self._start_header_deadline()

    def connection_lost(self, exc):
        self._stop_header_deadline()
        super().connection_lost(exc)

    def handle_events(self):
        super().handle_events()
        if self._answering():  # a request's headers are in: from now on the app's deadline rules
            self._stop_header_deadline()

    def on_response_complete(self):
        super().on_response_complete()  # may start the next cycle and read a pipelined request
        if not self._answering():
            self._start_header_deadline()

    def _answering(self):
        """Whether a request's headers are in and its answer is not yet sent."""
        return self.cycle is not None and not self.cycle.response_complete

    # ------------------------------------------------------------ the header deadline

    def _start_header_deadline(self):
        self._stop_header_deadline()
        if not self.transport.is_closing():
            self.header_timer = self.loop.call_later(self.header_timeout_s, self._header_deadline_passed)
            self.waiting[self] = None

    def _stop_header_deadline(self):
        self.waiting.pop(self, None)
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _header_deadline_passed(self):
        self._close_waiting(f"the request line and headers did not arrive within {self.header_timeout_s:g} s "
                            f"({option('header_timeout_s')})")

    def _close_waiting(self, why):
        self._stop_header_deadline()
        if self.transport.is_closing() or self._answering():  # an answer is never cut off
            return
        partial, _ = self.conn.trailing_data
        if partial and self.conn.our_state is h11.IDLE and self.conn.their_state is h11.IDLE:
            self._answer_408_and_close(why)
        else:  # nothing sent (an idle connection), or the rest of a body the app did not need
            self.transport.close()

    # ------------------------------------------------------------ the connection cap

    def _open_connections(self):
        count = len(self.connections)
        if count >= self.max_connections:  # closed ones stay in the set until their connection_lost
            count = sum(not connection.transport.is_closing() for connection in self.connections)
        return count

    def _make_room(self):
        """Close the connection waiting longest for its request's headers; False if none is waiting."""
        for connection in list(self.waiting):
            if connection.transport.is_closing() or connection._answering():  # not really waiting any more
                connection._stop_header_deadline()
                continue
            connection._close_waiting(f"the request line and headers had not arrived when the server, at its "
                                      f"limit of {self.max_connections} connections ({option('max_connections')}), "
                                      "needed the connection for another client")
            return True
        return False

    async def _too_many_connections(self, scope, receive, send):
        body = encode_reply("101", f"the server has {self.max_connections} open connections, its limit "
                            f"({option('max_connections')}), each with a request in progress; try again later", "")
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode("ascii")),
                                (b"retry-after", b"1"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    def _answer_408_and_close(self, why):
        body = encode_reply("112", why, "")
        response = h11.Response(status_code=408, reason=b"Request Timeout", headers=[
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close")])
        try:
            self.transport.write(self.conn.send(response) + self.conn.send(h11.Data(data=body))
                                 + self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:  # h11 will not write it in this state: just close
            pass
        self.transport.close()
