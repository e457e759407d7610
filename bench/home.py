"""Requests per second of Ashyq's home page against a bare Litestar handler rendering a trivial
Jinja template, measured in the same run in the same way; prints both and the ratio.

    python -m bench.home [--requests 2000] [--concurrency 8] [--warmup 200]

Method: each app runs in its own process under uvicorn (one worker, access log off) on a free
port of 127.0.0.1; this process sends GET / over a fixed number of persistent HTTP/1.1
connections (a minimal asyncio client, so the client's own cost stays small next to the
servers'), first a warm-up, then the measured requests; every answer must be a 200.

Ashyq runs on a throw-away data folder (CIVIC_DATA_DIR in a temp folder, SQLite, migrated, with
the demo akimat when civic.demo exists); other CIVIC_* variables of the caller are ignored.
The results also go to bench/results/home.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "home.json"
HOST = "127.0.0.1"
BARE_TEMPLATE = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>" \
                "<body><h1>{{ title }}</h1><p>{{ message }}</p></body></html>\n"
METHOD = ("uvicorn (1 worker, {http}/{loop}) per app on 127.0.0.1, one process each; "
          "{concurrency} persistent HTTP/1.1 client connections from one asyncio process")


# ------------------------------------------------------------ the servers (child processes)


def _bare_app(template_dir: Path):
    from litestar import Litestar, get
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.response import Template
    from litestar.template.config import TemplateConfig

    @get("/")
    async def index() -> Template:
        return Template(template_name="index.html", context={"title": "Hello", "message": "A trivial template."})

    return Litestar(route_handlers=[index], signature_namespace={"Template": Template},
                    template_config=TemplateConfig(directory=template_dir, engine=JinjaTemplateEngine))


def _ashyq_app():
    from ashyq.app import create_app
    from civic.settings import load_settings

    return create_app(load_settings())


def serve(kind: str, template_dir: str) -> None:
    """Child process: build the app, print the port it listens on, serve until terminated."""
    import uvicorn

    app = _ashyq_app() if kind == "ashyq" else _bare_app(Path(template_dir))
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets of that protocol; without
    # it Nagle's algorithm meets the client's delayed ACK and every response stalls for ~40 ms
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(2048)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


class Server:
    def __init__(self, kind: str, template_dir: Path, env: dict[str, str] | None = None):
        self.kind = kind
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.home", "--serve", kind, "--template-dir", str(template_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise SystemExit(f"bench: the {kind} server did not start (exit code {self.process.returncode})")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ------------------------------------------------------------ the client


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """One HTTP/1.1 response: (status, body bytes, whether the server closes the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    size = 0
    if "content-length" in headers:
        size = int(headers["content-length"])
        await reader.readexactly(size)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    return status, size, headers.get("connection", "").lower() == "close"


async def load(port: int, requests: int, concurrency: int) -> dict:
    """Send `requests` GET / over `concurrency` connections; return timing and answers."""
    request = (f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/html\r\nAccept-Language: ru\r\n"
               f"User-Agent: ashyq-bench\r\n\r\n").encode()
    remaining = [requests]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sizes: list[int] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                writer.write(request)
                status, size, closing = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                sizes.append(size)
                if closing:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "body_bytes": round(statistics.mean(sizes)) if sizes else 0,
    }


async def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await load(port, 1, 1)
            if result["statuses"] == {"200": 1}:
                return
            raise SystemExit(f"bench: GET / on port {port} answered {result['statuses']}")
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: nothing answers on port {port}")
            await asyncio.sleep(0.1)


# ------------------------------------------------------------ set-up and report


def prepare_ashyq(data_dir: Path) -> dict:
    """A fresh data folder, migrated, with the demo akimat when civic.demo exists."""
    for name in [n for n in os.environ if n.startswith("CIVIC_")]:
        del os.environ[name]
    os.environ["CIVIC_DATA_DIR"] = str(data_dir)
    os.environ["PICCOLO_CONF"] = "civic.piccolo_conf"

    from civic.db import migrate
    from civic.runtime import open_database
    from civic.settings import load_settings

    settings = load_settings()

    async def work() -> dict:
        open_database(settings)
        chatter = io.StringIO()  # Piccolo reports each migration on stdout
        try:
            with contextlib.redirect_stdout(chatter):
                await migrate()
        except Exception:
            sys.stderr.write(chatter.getvalue())
            raise
        try:
            from civic.demo import load_core_demo
        except ImportError:
            return {"demo": False}
        from civic.modules import enabled_modules

        created = await load_core_demo(settings)
        for module in enabled_modules(settings):
            if module.load_demo:
                await module.load_demo(settings, lambda message: None)
        return {"demo": True, "demo_rows": {k: v for k, v in created.items() if k != "totals"}}

    return asyncio.run(work())


def uvicorn_pieces() -> dict:
    """What uvicorn's "auto" settings pick on this machine (the same for both apps)."""
    def importable(name: str) -> bool:
        try:
            __import__(name)
        except ImportError:
            return False
        return True

    return {"http": "httptools" if importable("httptools") else "h11",
            "loop": "uvloop" if importable("uvloop") else "asyncio"}


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.home", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per app (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per app (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections (default 8)")
    parser.add_argument("--serve", choices=["ashyq", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--template-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.template_dir)
        return
    if args.requests < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--requests and --concurrency must be positive, --warmup not negative")

    workdir = Path(tempfile.mkdtemp(prefix="ashyq-bench-"))
    servers: list[Server] = []
    try:
        data_dir, template_dir = workdir / "data", workdir / "bare-templates"
        template_dir.mkdir()
        (template_dir / "index.html").write_text(BARE_TEMPLATE)
        print("Preparing a throw-away Ashyq data folder (migrate, demo)…", file=sys.stderr, flush=True)
        setup = prepare_ashyq(data_dir)

        pieces = uvicorn_pieces()
        method = METHOD.format(concurrency=args.concurrency, **pieces)
        for kind in ("ashyq", "bare"):
            servers.append(Server(kind, template_dir))  # appended one by one: all get stopped
        results: dict[str, dict] = {}

        async def run() -> None:
            for server in servers:
                await wait_ready(server.port)
            for server in servers:
                print(f"Measuring {server.kind}: {args.warmup} warm-up + {args.requests} requests…",
                      file=sys.stderr, flush=True)
                if args.warmup:
                    await load(server.port, args.warmup, args.concurrency)
                results[server.kind] = await load(server.port, args.requests, args.concurrency)

        asyncio.run(run())
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    for kind, result in results.items():
        if result["statuses"] != {"200": result["requests"]}:
            raise SystemExit(f"bench: {kind} answered {result['statuses']}, not only 200s")
    ratio = results["ashyq"]["rps"] / results["bare"]["rps"]

    rows = [("app", "req/s", "p50 ms", "p95 ms", "bytes/page", "seconds")]
    labels = {"ashyq": "Ashyq home page /", "bare": "bare Litestar + Jinja"}
    for kind in ("ashyq", "bare"):
        r = results[kind]
        rows.append((labels[kind], f"{r['rps']:.0f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}",
                     str(r["body_bytes"]), f"{r['seconds']:.2f}"))
    print(f"Method: {method}")
    print(f"Requests: {args.requests} measured per app after {args.warmup} warm-up; "
          f"Ashyq on SQLite, demo {'loaded' if setup['demo'] else 'not available'}")
    print(table(rows))
    print(f"Ratio ashyq/bare: {ratio:.3f}  (Ashyq serves {ratio:.1%} of the bare handler's rate)")

    from importlib.metadata import version

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "home",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": method,
        "requests": args.requests,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
        "database": "sqlite",
        **setup,
        "results": results,
        "ratio_ashyq_to_bare": round(ratio, 4),
        "machine": {"python": platform.python_version(), "litestar": version("litestar"),
                    "uvicorn": version("uvicorn"), "cpus": os.cpu_count(), "platform": platform.platform()},
    }, indent=2) + "\n")
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
