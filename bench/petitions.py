"""Sustained petition signing over HTTP: signatures a second, p95 latency, and the ratio to the
anchor — the UK parliament's largest petition peaked at about 1,500 signatures a minute and its
site failed. The target is at least 20 times that: 500 signatures a second, every one counted
once, no errors.

    python -m bench.petitions [--users 1600] [--petitions 8] [--clients 48] [--workers 2]
                              [--auth session|token] [--warmup 60]

Method: a throw-away data folder (SQLite in WAL mode, migrated, with the core demo akimat);
``--users`` accounts spread over Almaty's eight districts and common mail providers, and
``--petitions`` open petitions to the Akimat of Almaty (threshold 2,500, so the threshold is
crossed during the run and official responses open). The app is served by ``--workers`` uvicorn
processes sharing one port (SO_REUSEPORT), access log off. This process drives ``--clients``
persistent HTTP/1.1 connections from one asyncio loop (a minimal client, so its own cost stays
small next to the server's). First ``--warmup`` early signers sign every petition, so the
petitions are listed publicly (50 signatures) as a petition drawing a surge is, and the server
is warm; then, measured, every person signs every petition once, each as a different user:

* ``--auth session`` (default): each person signs in through the sign-in form first; a signature
  is the page's form post ``POST /petitions/<key>/sign`` with the session cookie and the CSRF
  header, answered by a redirect (303), as a browser without JavaScript does;
* ``--auth token``: ``POST /api/v1/petitions/<key>/sign`` with a personal API token (200).

Each connection comes from its own loopback address (127.x.y.z) and signs for at most 20 people
before it reconnects from a new address, so the per-address limit (20 signatures per petition an
hour) applies as it would to real people; the limits stay on. The set-up's own mail (moderators
told of the new petitions, authors of their publication) is marked sent before the run, as a
worker would have sent it long before a surge. After the run the database must hold exactly one
valid signature per person and petition and each petition's stored count must equal its rows;
any other answer than the expected status is an error.

Besides the rate and the latency it reports the server's CPU time per signature (user and
system time of the server processes, from /proc), which does not depend on how busy the rest of
the machine is. Results also go to bench/results/petitions.json.
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "petitions.json"
HOST = "127.0.0.1"
ANCHOR_PER_SECOND = 1500 / 60  # UK parliament petitions site, peak of its largest petition
TARGET_RATIO = 20
PASSWORD = "bench-password-2026"
PER_ADDRESS = 20  # people signed from one connection (address) before it moves to a new address
PROVIDERS = ("gmail.com", "mail.ru", "yandex.kz", "inbox.ru", "list.ru", "bk.ru", "outlook.com", "mail.kz",
             "icloud.com", "yahoo.com")
DISTRICTS = ("alatau", "almaly", "auezov", "bostandyk", "zhetysu", "medeu", "nauryzbay", "turksib")


# ------------------------------------------------------------ the server (child processes)


def serve(port: int) -> None:
    """Child process: the Ashyq app under uvicorn on a shared port."""
    import uvicorn

    from ashyq.app import create_app
    from civic.settings import load_settings

    linger = os.environ.get("BENCH_WRITER_LINGER")  # seconds, to try the group commit's wait
    if linger:
        from modules.petitions.services import SIGNATURES

        SIGNATURES.linger = float(linger)
    app = create_app(load_settings())
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets of that protocol
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    sock.listen(4096)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            backlog=4096, timeout_keep_alive=120)
    server = uvicorn.Server(config)
    print("READY", flush=True)
    profile = os.environ.get("BENCH_PROFILE")  # a file name: profile this server process (cProfile)
    if not profile:
        server.run(sockets=[sock])
        return
    import cProfile
    import signal

    profiler = cProfile.Profile()
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    profiler.enable()
    try:
        server.run(sockets=[sock])
    finally:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{os.getpid()}")


class Servers:
    def __init__(self, workers: int, env: dict) -> None:
        with socket.socket() as s:
            s.bind((HOST, 0))
            self.port = s.getsockname()[1]
        self.processes = []
        for _ in range(workers):
            process = subprocess.Popen([sys.executable, "-m", "bench.petitions", "--serve", str(self.port)],
                                       cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            self.processes.append(process)
            line = process.stdout.readline()
            if not line.startswith("READY"):
                self.stop()
                raise SystemExit(f"bench: a server did not start (exit code {process.poll()})")

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server processes so far (all their threads)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ------------------------------------------------------------ the client


class Connection:
    """One persistent HTTP/1.1 connection from a chosen local address."""

    def __init__(self, port: int, local: str) -> None:
        self.port = port
        self.local = local
        self.reader = self.writer = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port, local_addr=(self.local, 0))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, raw: bytes) -> tuple[int, dict, list[str]]:
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers, cookies = {}, []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookies.append(value)
            elif name:
                headers[name] = value
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            self.close()
            self.writer = None
        return status, headers, cookies


def _cookie_pairs(cookies: list[str]) -> dict[str, str]:
    found = {}
    for cookie in cookies:
        name, _, value = cookie.split(";", 1)[0].partition("=")
        found[name.strip()] = value.strip()
    return found


def local_address(n: int) -> str:
    """The n-th loopback address 127.1.0.1, 127.1.0.2, … (all of 127/8 is loopback on Linux)."""
    n += 1
    return f"127.{1 + n // 65_000}.{(n % 65_000) // 250}.{n % 250 + 1}"


async def sign_in_everyone(port: int, people: list[dict], concurrency: int) -> str:
    """Sign each person in through the form; returns the CSRF cookie every request shares."""
    connection = Connection(port, local_address(0))
    status, _, cookies = await connection.request(f"GET /auth/login HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    connection.close()
    csrf = _cookie_pairs(cookies).get("ashyq_csrf")
    if status != 200 or not csrf:
        raise SystemExit(f"bench: the sign-in page answered {status} without a CSRF cookie")
    queue = list(people)

    async def worker(n: int) -> None:
        conn = Connection(port, local_address(10_000 + n))
        while queue:
            person = queue.pop()
            body = urlencode({"email": person["email"], "password": PASSWORD, "next": "/",
                              "_csrf_token": csrf}).encode()
            raw = (f"POST /auth/login HTTP/1.1\r\nHost: {HOST}\r\nCookie: ashyq_csrf={csrf}\r\n"
                   f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
            status, _, cookies = await conn.request(raw)
            session = _cookie_pairs(cookies).get("ashyq_session")
            if status != 303 or not session:
                raise SystemExit(f"bench: signing in {person['email']} answered {status}")
            person["cookie"] = f"ashyq_session={session}; ashyq_csrf={csrf}"
        conn.close()

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return csrf


def sign_request(person: dict, key: str, auth: str, csrf: str) -> bytes:
    if auth == "token":
        return (f"POST /api/v1/petitions/{key}/sign HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Authorization: Bearer {person['token']}\r\nContent-Length: 0\r\n\r\n").encode()
    return (f"POST /petitions/{key}/sign HTTP/1.1\r\nHost: {HOST}\r\nCookie: {person['cookie']}\r\n"
            f"x-csrftoken: {csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n"
            ).encode()


async def run_load(port: int, people: list[dict], keys: list[str], clients: int, auth: str, csrf: str,
                   first_address: int) -> dict:
    """Every person signs every petition once; ``clients`` connections share the work, each
    moving to a new source address after PER_ADDRESS people."""
    expected = 303 if auth == "session" else 200
    groups = [people[i:i + PER_ADDRESS] for i in range(0, len(people), PER_ADDRESS)]
    latencies: list[float] = []
    finished: list[float] = []
    statuses: dict[int, int] = {}
    next_address = [first_address]

    async def worker() -> None:
        while groups:
            group = groups.pop()
            conn = Connection(port, local_address(next_address[0]))
            next_address[0] += 1
            try:
                for person in group:
                    for key in keys:
                        raw = sign_request(person, key, auth, csrf)
                        started = time.perf_counter()
                        status, _, _ = await conn.request(raw)
                        now = time.perf_counter()
                        latencies.append(now - started)
                        finished.append(now)
                        statuses[status] = statuses.get(status, 0) + 1
            finally:
                conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    per_second: dict[int, int] = {}
    for moment in finished:
        second = int(moment - started)
        per_second[second] = per_second.get(second, 0) + 1
    full_seconds = [per_second.get(s, 0) for s in range(int(elapsed))]  # the last, partial second left out
    middle = full_seconds[1:-1] or full_seconds
    count = len(latencies)
    return {
        "signatures": count,
        "seconds": round(elapsed, 3),
        "rate_per_second": round(count / elapsed, 1),
        "slowest_full_second": min(middle) if middle else None,
        "median_second": statistics.median(middle) if middle else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[max(0, int(count * 0.95) - 1)] * 1000, 1),
        "p99_ms": round(latencies[max(0, int(count * 0.99) - 1)] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k != expected),
        "per_second": full_seconds,
    }


# ------------------------------------------------------------ set-up and checks


def environment(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(CIVIC_DATA_DIR=str(data_dir), CIVIC_MODULES="petitions", PICCOLO_CONF="civic.piccolo_conf",
               CIVIC_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789abcdef")
    return env


def prepare(env: dict, users: int, petitions: int, auth: str) -> dict:
    """Migrate, load the core demo, create the people and the open petitions."""
    os.environ.update(env)
    for name in [n for n in os.environ if n.startswith("CIVIC_") and n not in env]:
        del os.environ[name]

    from civic.db import migrate
    from civic.runtime import open_database
    from civic.settings import load_settings

    settings = load_settings()

    async def work() -> dict:
        from civic.accounts.passwords import hash_password
        from civic.accounts.services import create_api_token, user_by_email
        from civic.accounts.tables import User
        from civic.demo import DEMO_EMAIL_DOMAIN, load_core_demo
        from civic.notify.tables import NotificationPreference
        from civic.territory.tables import Organisation, Territory
        from modules.petitions import services

        open_database(settings)
        chatter = io.StringIO()  # Piccolo reports each migration on stdout
        with contextlib.redirect_stdout(chatter):
            await migrate()
        await load_core_demo(settings)
        districts = {r["code"]: r["id"] for r in await Territory.select(Territory.id, Territory.code).where(
            Territory.code.is_in([f"almaty.{d}" for d in DISTRICTS]))}
        password_hash = hash_password(PASSWORD, "cheapest")
        rows = [User(email=f"bench-{n:06d}@{PROVIDERS[n % len(PROVIDERS)]}", display_name=f"Bench signer {n}",
                     password_hash=password_hash, language="ru", verification=1,
                     residence=districts[f"almaty.{DISTRICTS[n % len(DISTRICTS)]}"]) for n in range(users)]
        for start in range(0, len(rows), 500):
            await User.insert(*rows[start:start + 500])
        people = await User.select(User.id, User.email).where(User.email.like("bench-%")).order_by(User.id)
        # no mail for the bench signers (the answers would otherwise queue thousands)
        for start in range(0, len(people), 500):
            await NotificationPreference.insert(*[NotificationPreference(user=p["id"], kind="petitions",
                                                                         delivery="off")
                                                  for p in people[start:start + 500]])
        if auth == "token":
            for person in people:
                person["token"] = await create_api_token(person["id"], "bench")
        akimat = await Organisation.select(Organisation.id).where(Organisation.slug == "almaty-akimat").first()
        bostandyk = districts["almaty.bostandyk"]
        author = await user_by_email(f"bolat.citizen@{DEMO_EMAIL_DOMAIN}")
        moderator = await user_by_email(f"olga.moderator@{DEMO_EMAIL_DOMAIN}")
        quiet = settings.with_changes(rate_limits=False)
        keys = []
        for n in range(petitions):
            petition = await services.submit(
                quiet, author, organisation_id=akimat["id"], territory_id=bostandyk,
                title=f"Bench petition {n}: more buses on route {n + 10}",
                ask="Run the buses every ten minutes in the morning and evening peaks.",
                reasons="People wait for half an hour at the stops and are late for work and school.")
            await services.approve(quiet, moderator, petition["id"])
            keys.append(petition["key"])
        # the set-up's own mail (moderators told of new petitions, authors of publication) is not
        # part of the measurement: mark it sent
        from civic.notify.tables import OutgoingMail
        from civic.runtime import current_engine

        await OutgoingMail.update({OutgoingMail.sent_at: datetime.now(timezone.utc)}).where(
            OutgoingMail.sent_at.is_null())
        engine = current_engine()
        if hasattr(engine, "close_read_connections"):
            await engine.close_read_connections()
        return {"people": people, "keys": keys}

    return asyncio.run(work())


def verify(env: dict, keys: list[str], expected_each: int) -> dict:
    """Exactly one valid signature per person and petition; stored counts equal the rows."""
    os.environ.update(env)

    async def work() -> dict:
        from civic.runtime import current_engine
        from civic.responses.tables import OfficialResponse
        from modules.petitions.tables import Petition, Signature

        out = {}
        for key in keys:
            petition = await Petition.select(Petition.id, Petition.signature_count, Petition.flagged_at,
                                             Petition.threshold_reached_at).where(Petition.key == key).first()
            rows = await Signature.count().where(Signature.petition == petition["id"])
            people = len({r["user"] for r in await Signature.select(Signature.user).where(
                Signature.petition == petition["id"])})
            responses = await OfficialResponse.count().where(OfficialResponse.subject == f"petitions:{petition['id']}")
            out[key] = {"stored_count": petition["signature_count"], "rows": rows, "distinct_people": people,
                        "expected": expected_each, "official_responses": responses,
                        "flagged_for_review": petition["flagged_at"] is not None}
        engine = current_engine()
        if hasattr(engine, "close_read_connections"):
            await engine.close_read_connections()
        return out

    return asyncio.run(work())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.petitions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1600, help="people, each signing every petition (1600)")
    parser.add_argument("--petitions", type=int, default=8, help="petitions signed in the run (8)")
    parser.add_argument("--clients", type=int, default=48, help="concurrent client connections (48)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn server processes (2)")
    parser.add_argument("--auth", choices=("session", "token"), default="session")
    parser.add_argument("--warmup", type=int, default=60,
                        help="early signers of every petition before the measurement (60: past the listing mark)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return
    if min(args.users, args.petitions, args.clients, args.workers) < 1 or args.warmup < 0:
        parser.error("--users, --petitions, --clients and --workers must be positive, --warmup not negative")

    workdir = Path(tempfile.mkdtemp(prefix="ashyq-bench-petitions-"))
    env = environment(workdir / "data")
    (workdir / "data").mkdir()
    servers = None
    try:
        print(f"Preparing: migrate, demo akimat, {args.users} people, {args.petitions} petitions…",
              file=sys.stderr, flush=True)
        prepared = prepare(env, args.users + args.warmup, args.petitions, args.auth)
        early, people = prepared["people"][: args.warmup], prepared["people"][args.warmup:]
        measured_keys = prepared["keys"]
        servers = Servers(args.workers, env)

        async def run() -> dict:
            csrf = ""
            if args.auth == "session":
                print(f"Signing {len(people)} people in through the form…", file=sys.stderr, flush=True)
                started = time.perf_counter()
                csrf = await sign_in_everyone(servers.port, early + people, min(args.clients, 32))
                print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            if early:
                print(f"Warm-up: {len(early)} early signers sign each petition…", file=sys.stderr, flush=True)
                warm = await run_load(servers.port, early, measured_keys, args.clients, args.auth, csrf,
                                      first_address=50_000)
                if warm["errors"]:
                    raise SystemExit(f"bench: the warm-up answered {warm['statuses']}")
                await asyncio.sleep(6)  # let the search writer go idle after the listings
            print(f"Measuring: {len(people)} people × {len(measured_keys)} petitions over {args.clients} "
                  f"connections, {args.workers} server processes…", file=sys.stderr, flush=True)
            server_cpu, client_cpu = servers.cpu_seconds(), time.process_time()
            measured = await run_load(servers.port, people, measured_keys, args.clients, args.auth, csrf,
                                      first_address=100)
            count = measured["signatures"]
            measured["server_cpu_ms_per_signature"] = round((servers.cpu_seconds() - server_cpu) * 1000 / count, 3)
            measured["client_cpu_ms_per_signature"] = round((time.process_time() - client_cpu) * 1000 / count, 3)
            return measured

        result = asyncio.run(run())
    finally:
        if servers is not None:
            servers.stop()
    checks = verify(env, measured_keys, len(people) + len(early))
    shutil.rmtree(workdir, ignore_errors=True)

    counted_once = all(c["stored_count"] == c["rows"] == c["distinct_people"] == c["expected"]
                       for c in checks.values())
    ratio = result["rate_per_second"] / ANCHOR_PER_SECOND
    passed = counted_once and result["errors"] == 0 and ratio >= TARGET_RATIO
    print(f"Method: {args.workers} uvicorn processes on one port, SQLite (WAL), {args.clients} persistent "
          f"HTTP/1.1 connections, auth by {args.auth}; every person signs every petition once")
    print(f"Signatures: {result['signatures']} in {result['seconds']:.2f} s")
    print(f"Rate: {result['rate_per_second']:.0f} signatures/s (median full second {result['median_second']}, "
          f"slowest {result['slowest_full_second']})")
    print(f"Latency: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
          f"max {result['max_ms']} ms")
    print(f"Answers: {result['statuses']}  errors: {result['errors']}")
    print(f"CPU per signature: server {result['server_cpu_ms_per_signature']} ms, client "
          f"{result['client_cpu_ms_per_signature']} ms (load average {os.getloadavg()[0]:.1f}: other work "
          f"on the machine shares its {os.cpu_count()} cores)")
    print(f"Counted once: {'yes' if counted_once else 'NO'} "
          f"({sum(c['rows'] for c in checks.values())} rows for {len(checks)} petitions × "
          f"{len(people) + len(early)} people)")
    print(f"Ratio to the anchor (1,500 signatures/minute = 25/s): {ratio:.1f}×  "
          f"(target {TARGET_RATIO}×: {'met' if passed else 'NOT met'})")

    from importlib.metadata import version

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "petitions",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": {"servers": args.workers, "clients": args.clients, "auth": args.auth, "database": "sqlite",
                   "people": len(people), "petitions": len(measured_keys), "warmup": args.warmup,
                   "per_address": PER_ADDRESS, "rate_limits": "on"},
        "result": result,
        "anchor_per_second": ANCHOR_PER_SECOND,
        "ratio_to_anchor": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "counted_once": counted_once,
        "target_met": passed,
        "checks": checks,
        "machine": {"python": platform.python_version(), "litestar": version("litestar"),
                    "uvicorn": version("uvicorn"), "piccolo": version("piccolo"), "cpus": os.cpu_count(),
                    "load_average_after": os.getloadavg(), "platform": platform.platform()},
    }, indent=2) + "\n")
    print(f"Written to {RESULTS.relative_to(ROOT)}")
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
