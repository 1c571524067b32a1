"""Serving benchmark: ``paddle-course serve`` against PaddleHub's own ``hub serving start``, in one run.

    python bench/serving.py                 # the full run (~15 minutes on 2 busy cores)
    python bench/serving.py --quick         # shorter windows, one repeat
    python bench/serving.py --out results.json --markdown bench/serving_results.md

Both servers run at once on 127.0.0.1 (free ports), each as its own process, serving
``course_sentiment`` and ``course_pedestrian`` (PaddleHub's after ``paddle-course hub
install`` into a temporary HUB_HOME whose PaddleHub server address is a closed loopback
port).  They are measured one after the other, alternating, ``--repeats`` times, so both
see the same machine load; ratios are taken within a repeat.

Table 1, throughput: requests/s, p50 and p99 latency for 1, 4, 16 and 64 concurrent
clients, each sending one short text (a short review from the dev split, in turn) or
one pedestrian image (a 320x240 synthetic scene, held out) per request and waiting for
the answer.  Clients keep their connection open when the server allows it (PaddleHub's
Werkzeug server closes it after each answer, so its clients reconnect), plus one row
with a new connection per request for both.  The load generator is one asyncio process
on the same two cores as the servers.  Each cell also gives requests per CPU-second of the
server process (all its threads and children, from ``/proc/<pid>/stat``), a number that
depends less on what else the machine is doing than requests/s; the tables start with the
date, the commit and the load average before and after the run.

Table 2, abuse (``paddle-course serve`` only): each abusive request of issue 13, its HTTP
status, the time to the answer and the server's peak RSS growth (``VmHWM``, reset
through ``/proc/<pid>/clear_refs`` before each request); then slow clients: 200 slowloris
connections (a partial request, then a byte every 0.5 s) and 300 idle ones (more than
``--max-connections``), with the time until the server has closed them all and what a
good client got meanwhile.  The slowloris row is measured against ``hub serving start`` too.
"""
import argparse
import asyncio
import base64
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
from paddle_course.common.progress import quiet_library_noise  # noqa: E402

quiet_library_noise()

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("course_sentiment", "course_pedestrian")
CLIENTS = (1, 4, 16, 64)


# ---------------------------------------------------------------- the two servers

def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_hub_home():
    """A HUB_HOME with the course modules installed and PaddleHub's server pointed at a closed port."""
    home = Path(tempfile.mkdtemp(prefix="bench_serving_hub_home_"))
    (home / "conf").mkdir()
    (home / "conf" / "config.yaml").write_text("log:\n  enable: true\n  level: WARNING\nserver: http://127.0.0.1:9\n", encoding="utf-8")
    env = dict(os.environ, HUB_HOME=str(home))
    subprocess.run([sys.executable, "-m", "paddle_course", "hub", "install", *MODULES], env=env, check=True,
                   capture_output=True, timeout=300)
    return home


class ServerProcess:
    def __init__(self, label, command, port, env, log_dir):
        self.label, self.port = label, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(Path(log_dir) / f"{label.replace(' ', '_')}.log", "wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        stdin=subprocess.DEVNULL, cwd=log_dir)

    def wait_ready(self, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.flush()
                tail = Path(self.log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.label} exited:\n{tail}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.label} did not start within {timeout} s")

    def status(self, field):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(field)

    def cpu_seconds(self):
        """User + system CPU time of the server process and its children so far (all their threads)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:  # gone meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def reset_peak_rss(self):
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _children(pid):
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children + [grandchild for child in children for grandchild in _children(child)]


def start_servers(log_dir):
    hub_home = private_hub_home()
    env = dict(os.environ, HUB_HOME=str(hub_home), PYTHONUNBUFFERED="1")
    ours_port, hub_port = free_port(), free_port()
    # --deadline-s 120: at 64 clients an image waits ~30 s, and PaddleHub's server has no deadline
    ours = ServerProcess("paddle-course serve", [sys.executable, "-m", "paddle_course", "serve", "--quiet",
                                                 "--deadline-s", "120", "--port", str(ours_port), "-m", *MODULES],
                         ours_port, env, log_dir)
    hub = ServerProcess("hub serving start", [str(Path(sys.executable).parent / "hub"), "serving", "start",
                                              "-p", str(hub_port), "-m", *MODULES], hub_port, env, log_dir)
    return ours.wait_ready(), hub.wait_ready()


# ---------------------------------------------------------------- the load

def http_request(port, path, body, host=None, content_type="application/json"):
    host = host or f"127.0.0.1:{port}"
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.startswith("content-length:"))
    body = await reader.readexactly(length)
    return int(lines[0].split()[1]), "connection: close" in lines, body


async def client_loop(port, requests, stop_at, keep_alive, record):
    """One client: send, wait for the whole answer, repeat until ``stop_at``."""
    reader = writer = None
    index = 0
    while time.perf_counter() < stop_at:
        data = requests[index % len(requests)]
        index += 1
        started = time.perf_counter()
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        status, close, body = await read_response(reader)
        record(time.perf_counter() - started, status == 200 and json.loads(body)["status"] == "000")
        if close or not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def measure(server, path, bodies, clients, seconds, keep_alive=True, warmup=1.0):
    """Requests/s, p50 and p99 (ms) and failures with ``clients`` concurrent clients for ``seconds``."""
    requests = [http_request(server.port, path, body) for body in bodies]
    latencies, failures, warmed = [], [0], [0]

    def record(latency, ok):
        if recording[0]:
            latencies.append(latency)
            failures[0] += not ok
        else:
            warmed[0] += 1

    recording = [False]

    async def run():
        start = time.perf_counter()
        tasks = [asyncio.ensure_future(client_loop(server.port, requests[i:] + requests[:i], start + warmup + seconds,
                                                   keep_alive, record)) for i in range(clients)]
        await asyncio.sleep(warmup)
        recording[0] = True
        began = time.perf_counter()
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    cpu_before = server.cpu_seconds()
    elapsed = asyncio.run(run())
    cpu = server.cpu_seconds() - cpu_before  # the warm-up's requests are in it too: counted below
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50_ms": 1e3 * latencies[len(latencies) // 2],
            "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "per_cpu_s": (len(latencies) + warmed[0]) / max(cpu, 1e-9),
            "requests": len(latencies), "failures": failures[0]}


def workloads():
    import cv2
    import numpy as np

    from paddle_course.detection.synthetic import render_scene
    from paddle_course.sentiment.corpus import read_tsv, split_path

    short = [text for text, _ in read_tsv(split_path("dev")) if 4 <= len(text) <= 20][:200]
    text_bodies = [json.dumps({"texts": [text]}, ensure_ascii=False).encode() for text in short]
    image = render_scene(np.random.default_rng(123), 240, 320)[0]
    image_b64 = base64.b64encode(cv2.imencode(".jpg", image)[1].tobytes()).decode()
    image_bodies = [json.dumps({"images": [image_b64]}).encode()]
    return {"one short text": ("/predict/course_sentiment", text_bodies),
            "one pedestrian image": ("/predict/course_pedestrian", image_bodies)}


def throughput(servers, seconds, repeats):
    rows = []
    cases = [(name, clients, True) for name in ("one short text", "one pedestrian image") for clients in CLIENTS]
    cases.append(("one short text", 16, False))
    loads = workloads()
    for name, clients, keep_alive in cases:
        path, bodies = loads[name]
        runs = {server.label: [] for server in servers}
        # an image takes ~0.5 s: 64 clients keep a window open for ~30 s, so images get fewer repeats
        for repeat in range(repeats if "text" in name else max(1, repeats - 2)):
            order = servers if repeat % 2 == 0 else servers[::-1]  # alternate who goes first
            for server in order:
                runs[server.label].append(measure(server, path, bodies, clients, seconds, keep_alive))
        row = {"workload": name, "clients": clients, "connection": "keep-alive" if keep_alive else "new per request"}
        for label, results in runs.items():
            row[label] = {key: statistics.median(r[key] for r in results)
                          for key in ("rps", "p50_ms", "p99_ms", "per_cpu_s")}
            row[label]["failures"] = sum(r["failures"] for r in results)
        ours, hub = (runs[server.label] for server in servers)
        row["rps_ratio"] = statistics.median(o["rps"] / h["rps"] for o, h in zip(ours, hub))
        row["p99_ratio"] = statistics.median(o["p99_ms"] / h["p99_ms"] for o, h in zip(ours, hub))
        rows.append(row)
        print(format_throughput_row(row, servers), file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------- abuse

def huge_png(width=32000, height=32000, rows=13_500):
    """A ~1.3 MB PNG whose header says width x height: ``rows`` rows of zeros, deflated."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    deflate, row, parts = zlib.compressobj(9), b"\x00" * (1 + 3 * width), []
    for _ in range(rows):
        parts.append(deflate.compress(row))
    parts.append(deflate.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


def abusive_requests(port, image_b64):
    text = "这家餐厅的菜很好吃，服务也热情，下次还会再来的。价格也合理，推荐大家来尝尝看"  # ~40 characters
    png = base64.b64encode(huge_png()).decode()
    return [
        ("32000x32000 PNG header (%.1f MB)" % (len(png) * 3 / 4 / 2**20), "/predict/course_pedestrian",
         json.dumps({"images": [png]}).encode(), {}),
        ("100,000 texts (%.1f MB)", "/predict/course_sentiment",
         json.dumps({"texts": [text] * 100_000}, ensure_ascii=False).encode(), {}),
        ("2M texts, batch_size 100000 (%.1f MB)", "/predict/course_sentiment",
         json.dumps({"texts": ["好"] * 2_000_000, "batch_size": 100_000}, ensure_ascii=False).encode(), {}),
        ("text/plain body", "/predict/course_sentiment", json.dumps({"texts": [text]}).encode(),
         {"content_type": "text/plain"}),
        ("foreign Host (evil.example)", "/predict/course_sentiment", json.dumps({"texts": [text]}).encode(),
         {"host": f"evil.example:{port}"}),
        ("lone surrogate", "/predict/course_sentiment", b'{"texts": ["\\ud800"]}', {}),
        ("output_dir from the network", "/predict/course_pedestrian",
         json.dumps({"images": [image_b64], "output_dir": "/tmp/abuse"}).encode(), {}),
    ]


async def one_exchange(port, data):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    status, _, body = await read_response(reader)
    writer.close()
    return status, body


def abuse(server, seconds_flood=3.0):
    loads = workloads()
    image_b64 = json.loads(loads["one pedestrian image"][1][0])["images"][0]
    rows = []
    for label, path, body, options in abusive_requests(server.port, image_b64):
        data = http_request(server.port, path, body, **options)
        label = label % (len(body) / 2**20) if "%" in label else label
        time.sleep(0.5)
        before = server.status("VmRSS")
        server.reset_peak_rss()
        started = time.perf_counter()
        status, reply = asyncio.run(one_exchange(server.port, data))
        elapsed = time.perf_counter() - started
        rows.append({"request": label, "status": status, "seconds": elapsed,
                     "rss_growth_mb": server.status("VmHWM") - before, "msg": json.loads(reply)["msg"][:120]})
        print(format_abuse_row(rows[-1]), file=sys.stderr, flush=True)
    for count, trickle in ((200, True), (300, False)):
        rows.append(slow_clients(server, count, trickle))
        print(format_abuse_row(rows[-1]), file=sys.stderr, flush=True)
    # the visualization flood: 64 clients asking for drawn images for a few seconds
    flood = [json.dumps({"images": [image_b64], "visualization": True}).encode()]
    before = server.status("VmRSS")
    server.reset_peak_rss()
    result = measure(server, "/predict/course_pedestrian", flood, 64, seconds_flood, warmup=0.0)
    written = [p for p in Path(server.log.name).parent.iterdir() if p.is_dir()]
    rows.append({"request": f"visualization flood (64 clients, {seconds_flood:g} s)", "status": 200,
                 "seconds": result["p99_ms"] / 1e3, "rss_growth_mb": server.status("VmHWM") - before,
                 "msg": f"{result['requests']} answered, {result['failures']} failed, p99 {result['p99_ms']:.0f} ms; "
                        f"folders written: {len(written)}"})
    print(format_abuse_row(rows[-1]), file=sys.stderr, flush=True)
    return rows


def slow_clients(server, count, trickle, limit_s=30.0):
    """``count`` connections that never finish a request, while a good client asks for an answer.

    ``trickle``: slowloris -- each sends the request line and part of its headers, then one more
    byte every 0.5 s; else each sends nothing at all.  The row: what the slow connections got
    (HTTP status, or "closed" for none), the time until the server had closed the last of them,
    the peak RSS growth, and the good client's status and time in the reply column.
    """
    partial = http_request(server.port, "/predict/course_sentiment", b'{"texts": ["ok"]}')[:60]
    good = http_request(server.port, "/predict/course_sentiment", json.dumps({"texts": ["这家店很好吃"]}).encode())

    async def slow_one(opened):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(partial if trickle else b"")
        trickler = asyncio.ensure_future(_trickle(writer)) if trickle else None
        data = b""
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), limit_s):  # until the server closes it
                data += chunk
        except ConnectionResetError:  # a trickled byte crossed the server's close
            pass
        except asyncio.TimeoutError:
            data = None
        finally:
            if trickler is not None:
                trickler.cancel()
            writer.close()
        return data, time.perf_counter() - opened

    async def run():
        opened = time.perf_counter()
        slow = [asyncio.ensure_future(slow_one(opened)) for _ in range(count)]
        await asyncio.sleep(1.0)  # all connected and stalled
        started = time.perf_counter()
        status, _ = await one_exchange(server.port, good)
        good_s = time.perf_counter() - started
        return await asyncio.gather(*slow), status, good_s

    time.sleep(0.5)
    before = server.status("VmRSS")
    server.reset_peak_rss()
    results, good_status, good_s = asyncio.run(run())
    statuses = {}
    for data, _ in results:
        key = "open" if data is None else data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "closed"
        statuses[key] = statuses.get(key, 0) + 1
    label = (f"slowloris: {count} connections, partial headers + a byte every 0.5 s" if trickle
             else f"{count} idle connections (nothing sent; --max-connections is 256)")
    return {"request": label, "status": "/".join(sorted(statuses)), "seconds": max(s for _, s in results),
            "rss_growth_mb": server.status("VmHWM") - before,
            "msg": f"slow connections: {', '.join(f'{n} {k}' for k, n in sorted(statuses.items()))} (time = until "
                   + ("the client gave up" if "open" in statuses else "the last was closed")
                   + f"); a good client meanwhile: HTTP {good_status} in {good_s * 1e3:.0f} ms"}


async def _trickle(writer):
    while not writer.is_closing():
        await asyncio.sleep(0.5)
        writer.write(b"x")


# ---------------------------------------------------------------- the tables

def format_throughput_row(row, servers):
    ours, hub = row[servers[0].label], row[servers[1].label]
    return (f"| {row['workload']} | {row['clients']} | {row['connection']} | {ours['rps']:.0f} | {ours['p50_ms']:.1f} | "
            f"{ours['p99_ms']:.1f} | {ours['per_cpu_s']:.0f} | {hub['rps']:.0f} | {hub['p50_ms']:.1f} | "
            f"{hub['p99_ms']:.1f} | {hub['per_cpu_s']:.0f} | {row['rps_ratio']:.2f} | {row['p99_ratio']:.2f} | "
            f"{ours['failures']}/{hub['failures']} |")


def format_abuse_row(row):
    return (f"| {row['request']} | {row['status']} | {row['seconds'] * 1e3:.0f} ms | {row['rss_growth_mb']:.0f} MB | "
            f"{row['msg']} |")


def machine_state():
    """The date (UTC), the commit of this checkout (``+dirty`` with uncommitted changes), the load averages."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "load": "%.2f %.2f %.2f" % os.getloadavg(), "cpus": os.cpu_count()}


def render(throughput_rows, abuse_rows, hub_rows, servers, args, before, after):
    lines = [f"run {before['date']} to {after['date']}, commit {before['commit']}, {before['cpus']} CPUs; load average "
             f"(1, 5, 15 min) before: {before['load']}, after: {after['load']}", "",
             f"{args.repeats} repeats (images: "
             f"{max(1, args.repeats - 2)}) of {args.seconds:g} s per cell, medians; ratios = median over repeats of "
             "ours / PaddleHub's; paddle-course serve with --deadline-s 120; req/CPU-s = requests answered per "
             "CPU-second of the server process (all threads and children) in the window", "",
             "| workload | clients | connection | ours req/s | ours p50 ms | ours p99 ms | ours req/CPU-s | hub req/s | "
             "hub p50 ms | hub p99 ms | hub req/CPU-s | req/s ratio | p99 ratio | failures ours/hub |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [format_throughput_row(row, servers) for row in throughput_rows]
    lines += ["", "| abusive request (paddle-course serve) | HTTP status | time to answer | peak RSS growth | reply |",
              "|---|---:|---:|---:|---|"]
    lines += [format_abuse_row(row) for row in abuse_rows]
    lines += ["", "| the same against hub serving start (given up after 15 s) | what they got | time | peak RSS growth | "
              "reply |", "|---|---:|---:|---:|---|"]
    lines += [format_abuse_row(row) for row in hub_rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s windows, one repeat")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per window (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating windows per server and cell (default 5)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the tables as a markdown file "
                        "(e.g. bench/serving_results.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 2.0, 1
    before = machine_state()
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as log_dir:
        servers = start_servers(log_dir)
        try:
            throughput_rows = throughput(servers, args.seconds, args.repeats)
            abuse_rows = abuse(servers[0])
            # for comparison: PaddleHub's server (Werkzeug with threaded=False: one connection at a time, no timeout)
            hub_rows = [slow_clients(servers[1], 200, trickle=True, limit_s=15.0)]
            print(format_abuse_row(hub_rows[-1]), file=sys.stderr, flush=True)
        finally:
            for server in servers:
                server.stop()
    from paddle_course.common.fileio import write_json, write_text

    after = machine_state()
    table = render(throughput_rows, abuse_rows, hub_rows, servers, args, before, after)
    print(table)
    if args.markdown:
        write_text(args.markdown, "# `bench/serving.py`: paddle-course serve vs hub serving start\n\n" + table + "\n")
    if args.out:
        write_json(args.out, {"machine": {"before": before, "after": after}, "throughput": throughput_rows,
                              "abuse": abuse_rows, "hub_slow_clients": hub_rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
