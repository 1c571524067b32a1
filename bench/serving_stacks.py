"""What an HTTP stack costs before any work: the measurement behind ``paddle-course serve``'s choice.

    python bench/serving_stacks.py [--rounds 3] [--seconds 3]

Three servers answer the same small JSON body to a POST with a fixed small JSON reply,
each in its own process on 127.0.0.1: Werkzeug's threaded server (what Flask and
PaddleHub's ``hub serving start`` run on), uvicorn (h11) with a plain ASGI callable, and
uvicorn with Starlette's routing.  One asyncio client process sends with 1 and 16
keep-alive connections (reconnecting when the server closes); the rounds alternate the
servers so that all see the same machine load.  Prints requests/s, p50 and p99.
"""
import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time

BODY = json.dumps({"texts": ["这家餐厅的菜很好吃"]}).encode()
REPLY = json.dumps({"status": "000", "msg": "", "results": [{"text": "x"}]}).encode()
STACKS = ("werkzeug", "uvicorn + ASGI", "uvicorn + starlette")


def werkzeug_app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(REPLY)))])
    return [REPLY]


async def asgi_app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(REPLY)).encode())]})
    await send({"type": "http.response.body", "body": REPLY})


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def predict(request):
        await request.body()
        return Response(REPLY, media_type="application/json")

    return Starlette(routes=[Route("/predict/{name}", predict, methods=["POST"])])


def run_server(stack, port):
    if stack == "werkzeug":
        from werkzeug.serving import make_server

        make_server("127.0.0.1", port, werkzeug_app, threaded=True).serve_forever()
    else:
        import uvicorn

        app = asgi_app if stack == "uvicorn + ASGI" else starlette_app()
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, http="h11",
                    loop="asyncio", lifespan="off")


async def load(port, connections, seconds):
    request = (f"POST /predict/m HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(BODY)}\r\n\r\n").encode() + BODY
    latencies, stop = [], time.perf_counter() + seconds

    async def client():
        reader = writer = None
        while time.perf_counter() < stop:
            started = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b"connection: close" in head:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*[client() for _ in range(connections)])
    latencies.sort()
    return len(latencies) / seconds, 1e3 * latencies[len(latencies) // 2], 1e3 * latencies[int(len(latencies) * 0.99)]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("STACK", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.serve:
        run_server(args.serve[0], int(args.serve[1]))
        return 0
    servers = {}
    for stack in STACKS:
        port = free_port()
        servers[stack] = (port, subprocess.Popen([sys.executable, __file__, "--serve", stack, str(port)],
                                                 stderr=subprocess.DEVNULL))
    time.sleep(5)
    print("| round | stack | clients | requests/s | p50 ms | p99 ms |\n|---:|---|---:|---:|---:|---:|")
    try:
        for round_ in range(args.rounds):
            for stack in STACKS if round_ % 2 == 0 else STACKS[::-1]:
                for connections in (1, 16):
                    rps, p50, p99 = asyncio.run(load(servers[stack][0], connections, args.seconds))
                    print(f"| {round_} | {stack} | {connections} | {rps:.0f} | {p50:.2f} | {p99:.2f} |", flush=True)
    finally:
        for _, process in servers.values():
            process.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
