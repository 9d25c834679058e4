"""Stress run: the live view under load, its memory over a long run, and hostile inputs.

Everything stays on 127.0.0.1 and is bounded in time (about 90 s; ``--quick`` about 30 s).

1. Load. ``LiveView`` on micrograd's moons network (MLP 2-8-8-1, 100 points, compiled, full
   batch) trains in this process. Training steps per second are measured with nobody watching,
   then while a worker process runs 200 SSE clients (the first ``MAX_STREAMS`` hold a stream;
   the rest are refused with 429 and poll ``/api/state`` every 0.7 s, as the page does) and 40
   slow clients dribbling one header byte every 2 s, plus a probe that times an ordinary
   ``/api/state`` every 0.1 s.
2. Memory. RSS growth per 100k steps of a long run (MLP 2-4-1, batch 4), for ``fit`` alone and
   for ``fit`` with a LiveView attached: the view's curves are thinned, so it adds ~nothing.
3. Hostile inputs from a seeded generator (so every count is the same on every run) against
   the expression parser, model files and the live server, each outcome counted.

Run: ``python -m benchmarks.live_stress [--quick]`` (also part of ``make bench``).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

from benchmarks._harness import ROOT

SSE_CLIENTS, SLOW_CLIENTS = 200, 40
SEED = 17


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _moons():
    import nn

    return nn.data.make_moons(n_samples=100, noise=0.1, random_state=1, signed=True)


# --- 1. the live view under load ---------------------------------------------------------------


def _http_get(port: int, path: str, timeout: float = 5.0):
    """One GET over a fresh connection: (status, body); status 0 when no answer came."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.startswith(b"HTTP/"):
        return 0, b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def worker_load(port: int, seconds: float) -> dict:
    """The crowd: SSE clients (falling back to polling), slow clients and a timing probe."""
    stop = time.monotonic() + seconds
    counts = Counter()
    lock = threading.Lock()
    latencies = []

    def count(key, n=1):
        with lock:
            counts[key] += n

    def sse_client():
        since, gen = 0, None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(f"GET /events?since=0 HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            first = s.recv(65536)
        except OSError:
            count("sse: no answer")
            return
        if first.startswith(b"HTTP/1.0 200"):
            count("sse: stream open")
            s.settimeout(1.0)
            events = first.count(b"\ndata: ") + first.startswith(b"data: ")
            while time.monotonic() < stop:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                events += chunk.count(b"data: ")
            s.close()
            count("sse: events received", events)
            return
        s.close()
        count("sse: refused 429" if b" 429 " in first[:20] else "sse: other answer")
        while time.monotonic() < stop:  # the page's fallback: poll every 0.7 s
            try:
                q = f"/api/state?since={since}" + ("" if gen is None else f"&g={gen}")
                status, body = _http_get(port, q)
            except OSError:
                status = 0
            count(f"poll: {status or 'no answer'}")
            if status == 200:
                state = json.loads(body)
                since, gen = state["curve_to"], state["curve_gen"]
            time.sleep(0.7)

    def slow_client(i):
        head = f"GET /api/state HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode() + \
            b"a" * 100
        time.sleep(2.0 * i / SLOW_CLIENTS)
        while time.monotonic() < stop:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    count("slow: connections")
                    for b in head:
                        if time.monotonic() >= stop:
                            return
                        s.sendall(bytes([b]))
                        time.sleep(2.0)
            except OSError:
                count("slow: cut off by the server")

    def probe():
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                status, _ = _http_get(port, "/api/state?since=999999")
            except OSError:
                status = 0
            with lock:
                latencies.append(time.perf_counter() - t0)
                counts[f"probe: {status or 'no answer'}"] += 1
            time.sleep(0.1)

    threads = [threading.Thread(target=sse_client, daemon=True) for _ in range(SSE_CLIENTS)]
    threads += [threading.Thread(target=slow_client, args=(i,), daemon=True)
                for i in range(SLOW_CLIENTS)]
    threads.append(threading.Thread(target=probe, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, stop - time.monotonic() + 3))
    latencies.sort()
    return {"counts": dict(counts),
            "p50": latencies[len(latencies) // 2] if latencies else 0.0,
            "p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
            "max": latencies[-1] if latencies else 0.0}


def _train_for(view, model, X, y, seconds: float) -> float:
    """Train with the view attached for ``seconds``; steps per second after the first step
    (which compiles the graph)."""
    import nn

    clock = {"start": None, "steps": 0}

    def callback(step, history, m):
        view.callback(step, history, m)
        now = time.perf_counter()
        if clock["start"] is None:
            clock["start"] = now
            return True
        clock["steps"] += 1
        return now - clock["start"] < seconds

    nn.fit(model, X, y, loss="hinge", l2=1e-4, steps=10**9, compiled=True, progress=False,
           optimizer=nn.optim.SGD(model.parameters(), lr=0.05), callback=callback)
    return clock["steps"] / (time.perf_counter() - clock["start"])


def measure_load(seconds: float) -> dict:
    import nn
    from nn.live import LiveView
    from nn.live.server import MAX_STREAMS

    X, y = _moons()
    random.seed(1337)
    model = nn.MLP(2, [8, 8, 1], use_dot=True)
    view = LiveView(model, X, y, quiet=True, wait_for_browser=False, graph_every=5)
    try:
        quiet_rate = _train_for(view, model, X, y, seconds)
        ramp = 2.0
        cmd = [sys.executable, "-m", "benchmarks.live_stress", "--worker", "load", "--kwargs",
               json.dumps({"port": view.port, "seconds": seconds + 2 * ramp})]
        crowd = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        time.sleep(ramp)
        loaded_rate = _train_for(view, model, X, y, seconds)
        out, _ = crowd.communicate(timeout=seconds + 60)
        load = json.loads(out.strip().splitlines()[-1])
        load.update(quiet=quiet_rate, loaded=loaded_rate, max_streams=MAX_STREAMS,
                    served=view._server.listener.served, cut_off=view._server.listener.cut_off)
        return load
    finally:
        view.close()


# --- 2. memory over a long run -------------------------------------------------------------


def worker_memory(steps: int, live: bool) -> dict:
    import nn

    X, y = _moons()
    random.seed(1337)
    model = nn.MLP(2, [4, 1], use_dot=True)
    view = None
    if live:
        from nn.live import LiveView

        view = LiveView(model, X, y, quiet=True, wait_for_browser=False, grid=24)
    warm = steps // 5
    marks = {}

    def callback(step, history, m):
        if view is not None:
            view.callback(step, history, m)
        if step + 1 in (warm, steps):
            marks[step + 1] = _rss_mb()

    t0 = time.perf_counter()
    nn.fit(model, X, y, loss="hinge", steps=steps, batch_size=4, compiled=True, progress=False,
           optimizer=nn.optim.SGD(model.parameters(), lr=0.05), callback=callback)
    seconds = time.perf_counter() - t0
    points = len(view.curves) if view is not None else None
    if view is not None:
        view.close()
    return {"steps": steps, "rss": marks[steps], "points": points, "seconds": seconds,
            "mb_per_100k": (marks[steps] - marks[warm]) / (steps - warm) * 100_000}


# --- 3. hostile inputs -----------------------------------------------------------------------

EXPR_ALPHABET = "0123456789.xwbn=;+-*/()e ,_\\'\"[]{}:<>!@#$%^&|~`\x00\nλ∂"
VALID_PROGRAMS = ["x=2.0; w=-3.0; b=6.88; n=x*w+b; o=n.tanh()",
                  "a=1.5; b=-2; c=a*b+a**2; d=c.exp().log(); e=sum(a, b, c)",
                  "x1=2; x2=0; w1=-3; w2=1; o=dot([x1, x2], [w1, w2]).relu()"]


def _hostile_expressions(rng: random.Random, n: int):
    shapes = [
        lambda: "x=" + "9" * rng.randint(300, 6000),
        lambda: "x=0x" + "f" * rng.randint(300, 3000),
        lambda: "x=1e" + str(rng.randint(300, 99999)),
        lambda: "x=" + "(" * rng.randint(50, 5000) + "1" + ")" * rng.randint(0, 5000),
        lambda: "x=2; y=x" + "**x" * rng.randint(2, 400),
        lambda: "x=2; y=" + "-" * rng.randint(100, 10000) + "x",
        lambda: "x=2; " + "; ".join(f"v{i}=x*{i}" for i in range(rng.randint(1, 3000))),
        lambda: rng.choice(["import os", "x.__class__", "__import__('os')", "lambda: 1",
                            "x='s'", "x=[1][0]", "x=1 if 1 else 2", "x: int = 1", "del x",
                            "x=f(1)", "x=2; x.data=3", "x=open('f')", "x=2; y=x.grad",
                            "x=2; y=x.tanh(1)", "x=-1; y=x.log()", "x=0; y=1/x", "x=0; y=x**-1",
                            "x=-8; y=x**0.5", "x=dot([1],[1,2])", "x=sum()", "", "   ",
                            "x=2\n\tif 1:\n  y=x", "x=1e400*0", "x=2; y=x.sqrt(); z=y.abs()"]),
        lambda: "".join(rng.choice(EXPR_ALPHABET) for _ in range(rng.randint(1, 60))),
    ]
    for i in range(n):
        if i % 2:
            yield rng.choice(shapes)()
            continue
        text = list(rng.choice(VALID_PROGRAMS))  # a valid program, mutated a few times
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text) + 1)
            kind = rng.random()
            if kind < 0.4:
                text.insert(pos, rng.choice(EXPR_ALPHABET))
            elif kind < 0.7 and text:
                del text[min(pos, len(text) - 1)]
            elif text:
                text[min(pos, len(text) - 1)] = rng.choice(EXPR_ALPHABET)
        yield "".join(text)


def hostile_parser(n: int) -> Counter:
    from tinygrad_value.show.expr import ExprError, parse

    out = Counter()
    for source in _hostile_expressions(random.Random(SEED), n):
        try:
            parse(source).root.backward()
            out["accepted"] += 1
        except ExprError:
            out["clear error"] += 1
        except (ValueError, TypeError) as exc:  # the engine's own, e.g. log of a negative
            out["clear error" if str(exc) else "crash"] += 1
        except Exception as exc:  # noqa: BLE001 - counting is the point
            out[f"crash ({type(exc).__name__})"] += 1
    return out


def _hostile_model_files(rng: random.Random, good: bytes, n: int):
    doc = json.loads(good)
    keys = list(doc["parameters"])

    def edited(**change):
        d = json.loads(good)
        for k, v in change.items():
            if k == "weight":
                d["parameters"][rng.choice(keys)] = v
            elif v is KeyError:
                d.pop(k, None)
            else:
                d[k] = v
        return json.dumps(d, allow_nan=True).encode()

    def weight_text(text):
        s = good.decode()
        key = rng.choice(keys)
        start = s.index(json.dumps(key)) + len(json.dumps(key)) + 2
        end = min(s.index(",", start) if "," in s[start:] else len(s), s.index("\n", start))
        return (s[:start] + text + s[end:]).encode()

    shapes = [
        lambda: weight_text(rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])),
        lambda: weight_text("1" * rng.randint(300, 6000)),
        lambda: weight_text("[" * rng.randint(100, 100000) + "]" * rng.randint(0, 10)),
        lambda: weight_text(rng.choice(['"0.5"', "true", "null", "{}", "[]", "0x10"])),
        lambda: edited(version=rng.choice([True, 1.0, "1", 2, None, -1])),
        lambda: edited(model=rng.choice([None, 3, "MLP(9, [9])", ""])),
        lambda: edited(**{rng.choice(["format", "version", "model", "checksum",
                                      "parameters"]): KeyError}),
        lambda: edited(extra=1),
        lambda: edited(weight=rng.uniform(-1, 1)),  # a changed weight under the old checksum
        lambda: good.decode().encode("utf-16"),
        lambda: __import__("gzip").compress(good),
        lambda: good[:rng.randrange(len(good))],
        lambda: b"",
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(1, 400))),
    ]
    for i in range(n):
        if i % 2:
            yield rng.choice(shapes)()
            continue
        data = bytearray(good)  # one to three bit flips anywhere
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        yield bytes(data)


def hostile_model_files(n: int, folder: str) -> Counter:
    import nn
    from nn.checkpoint import StateDictError

    random.seed(3)
    model = nn.MLP(2, [4, 4, 1])
    good_path = os.path.join(folder, "good.model.json")
    model.save(good_path)
    with open(good_path, "rb") as f:
        good = f.read()
    truth = model.state_dict()
    out = Counter()
    path = os.path.join(folder, "hostile.model.json")
    for data in _hostile_model_files(random.Random(SEED), good, n):
        with open(path, "wb") as f:
            f.write(data)
        target = nn.MLP(2, [4, 4, 1])
        before = target.state_dict()
        try:
            target.load(path)
        except StateDictError:
            out["clear error"] += 1
            if target.state_dict() != before:
                out["half-loaded (bad)"] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - counting is the point
            out[f"crash ({type(exc).__name__})"] += 1
            continue
        same = target.state_dict() == truth
        out["accepted, same weights" if same else "accepted, weights changed (bad)"] += 1
    return out


def _hostile_requests(rng: random.Random, port: int, n: int):
    host = f"127.0.0.1:{port}"
    paths = ["/", "/index.html", "/api/state", "/graph.svg", "/favicon.ico", "/api/pause",
             "/api/resume", "/api/step", "/api/select", "/api/lr", "/nope", "/api/../etc/passwd",
             "//", "/%00", "/api/state/", "*", "http://evil/", "/" + "a" * 5000]
    queries = ["", "?since=1", "?since=-1", "?since=99999999999", "?i=3", "?i=999999",
               "?i=1&i=2", "?v=0", "?v=1e9", "?g=x", "?x=1", "?since=%ff%fe", "?" + "a=1&" * 50,
               "?since=１２", "?i=0x10", "?v=" + "9" * 400]
    methods = ["GET", "POST", "POST", "PUT", "OPTIONS", "HEAD", "DELETE", "TRACE", "G\x00T",
               "get", "CONNECT"]
    extra = [f"Host: {host}", "Host: evil.example", "Host: 127.0.0.1:1", "Origin: null",
             "Origin: http://evil.example", f"Origin: http://{host}", "X-Live-Token: guess",
             "X-Live-Token: ", "X-Live-Token: " + "A" * 32, "Content-Length: 5",
             "Content-Length: -1", "Content-Length: zz", "Content-Length: 99999999",
             "Transfer-Encoding: chunked", "Sec-Fetch-Site: cross-site", "Cookie: a=b",
             "X: " + "y" * 9000, "Referer: http://evil.example/"]
    for _ in range(n):
        r = rng.random()
        if r < 0.1:
            yield bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) + b"\r\n\r\n"
            continue
        method = rng.choice(methods)
        version = rng.choice(["HTTP/1.0", "HTTP/1.1", "HTTP/1.1", "HTTP/2", "HTTP/9.9", ""])
        line = f"{method} {rng.choice(paths)}{rng.choice(queries)} {version}".rstrip()
        headers = rng.sample(extra, rng.randint(0, 4))
        body = rng.choice(["", "", "x=1", "A" * 2000])
        yield (line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n" + body).encode(
            "utf-8", "surrogateescape")


def _classify(answer: bytes) -> str:
    """An answer's outcome. The stdlib answers a request line it cannot parse HTTP/0.9-style:
    our JSON error body without a status line."""
    if answer == b"\x00reset":
        return "connection reset"
    if not answer:
        return "closed without an answer"
    code = None
    if answer.startswith(b"HTTP/"):
        code = int(answer.split(b" ", 2)[1])
    else:
        try:
            code = int(json.loads(answer)["status"])
        except (ValueError, KeyError, TypeError):
            return "crash (unreadable answer)"
    if code < 300:
        return "accepted (2xx)"
    return "crash (500)" if code == 500 else "clear error (4xx, 501, 503, 505)"


def hostile_requests(n: int) -> tuple:
    import nn
    from nn.live import LiveView

    X, y = _moons()
    random.seed(1337)
    model = nn.MLP(2, [4, 4, 1], use_dot=True)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    view = LiveView(model, X, y, quiet=True, wait_for_browser=False, grid=16, sample=0,
                    optimizer=opt)
    stop = threading.Event()

    def callback(step, history, m):
        view.callback(step, history, m)
        return not stop.is_set()

    def train():
        nn.fit(model, X, y, loss="hinge", steps=10**9, compiled=True, progress=False,
               optimizer=opt, callback=callback)

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    out = Counter()
    before = (view.status(), view.sample, opt.lr)
    try:
        for data in _hostile_requests(random.Random(SEED), view.port, n):
            try:
                with socket.create_connection(("127.0.0.1", view.port), timeout=3) as s:
                    s.sendall(data)
                    s.shutdown(socket.SHUT_WR)
                    answer = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        answer += chunk
            except OSError:
                answer = b"\x00reset"
            out[_classify(answer)] += 1
        after = (view.status(), view.sample, opt.lr)
        changed = after != before
        alive = trainer.is_alive()
        still_serving = _http_get(view.port, "/api/state?since=999999")[0] == 200
    finally:
        stop.set()
        trainer.join(10)
        view.close()
    return out, {"state changed": changed, "training alive": alive,
                 "still serving": still_serving}


# --- the report ----------------------------------------------------------------------------------


def _outcomes(counter: Counter) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items(), key=lambda kv: -kv[1]))


def report(quick: bool) -> str:
    import tempfile

    from benchmarks._harness import run_worker

    seconds = 4.0 if quick else 8.0
    mem_steps = 10_000 if quick else 50_000
    n_expr, n_files, n_requests = (2_000, 300, 300) if quick else (20_000, 2_000, 2_000)
    lines = ["live view and hostile inputs (benchmarks.live_stress"
             + (", --quick" if quick else "") + "), all on 127.0.0.1", ""]

    load = measure_load(seconds)
    c = load["counts"]
    polls = sum(v for k, v in c.items() if k.startswith("poll: "))
    lines += [
        f"1. load: {SSE_CLIENTS} SSE clients + {SLOW_CLIENTS} slow clients, {seconds:g} s "
        "(MLP 2-8-8-1, 100 moons, compiled)",
        "| | no clients | under load |", "|---|---|---|",
        f"| training steps/s (timing) | {load['quiet']:.0f} | {load['loaded']:.0f} |",
        f"| SSE streams open / refused (429, then polling) | | "
        f"{c.get('sse: stream open', 0)} / {c.get('sse: refused 429', 0)} |",
        f"| events delivered on the streams | | {c.get('sse: events received', 0):,} |",
        f"| polls answered 200 / other | | {c.get('poll: 200', 0):,} / "
        f"{polls - c.get('poll: 200', 0):,} |",
        f"| slow connections / cut off at the head deadline | | "
        f"{c.get('slow: connections', 0)} / {load['cut_off']} |",
        f"| probe /api/state answered | | {c.get('probe: 200', 0)} of "
        f"{sum(v for k, v in c.items() if k.startswith('probe'))} |",
        f"| probe latency p50 / p99 / max (timing) | | {1000 * load['p50']:.0f} / "
        f"{1000 * load['p99']:.0f} / {1000 * load['max']:.0f} ms |",
        f"| requests served by the server in total | | {load['served']:,} |", ""]

    mem = {live: run_worker("benchmarks.live_stress", "memory", steps=mem_steps, live=live)
           for live in (False, True)}
    lines += [f"2. memory over {mem_steps:,} steps (MLP 2-4-1, batch 4, compiled)",
              "| | RSS growth per 100k steps | RSS at the end | curve points kept |",
              "|---|---|---|---|"]
    for live, name in ((False, "fit alone (its History)"), (True, "fit + LiveView")):
        m = mem[live]
        if "error" in m:
            lines.append(f"| {name} | failed: {m['error']} | | |")
            continue
        lines.append(f"| {name} | {m['mb_per_100k']:.1f} MB | {m['rss']:.0f} MB | "
                     f"{m['points'] if m['points'] is not None else '-'} |")
    lines.append("")

    with tempfile.TemporaryDirectory() as folder:
        files = hostile_model_files(n_files, folder)
    parser = hostile_parser(n_expr)
    requests, checks = hostile_requests(n_requests)
    lines += ["3. hostile inputs (seeded generator, seed 17)",
              "| surface | inputs | outcomes |", "|---|---|---|",
              f"| expression parser (parse + backward) | {sum(parser.values()):,} | "
              f"{_outcomes(parser)} |",
              f"| model files (nn load) | {sum(files.values()):,} | {_outcomes(files)} |",
              f"| live-server requests (no token) | {sum(requests.values()):,} | "
              f"{_outcomes(requests)} |",
              "", "after the requests: training state changed: "
              f"{'yes' if checks['state changed'] else 'no'}; training alive: "
              f"{'yes' if checks['training alive'] else 'no'}; still serving: "
              f"{'yes' if checks['still serving'] else 'no'}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    from benchmarks._harness import main as harness_main

    return harness_main(argv, __doc__, {"load": worker_load, "memory": worker_memory}, report)


if __name__ == "__main__":
    sys.exit(main())
