"""Ideas at scale: the list and an idea's page against a bare Litestar page, and the list's
latency as the number of ideas grows, in one run.

    python -m bench.ideas [--ideas 10000] [--supports 100000] [--small 1000] [--large 100000]
                          [--requests 1000] [--latency-requests 300] [--concurrency 8] [--warmup 100]
                          [--rounds 3] [--quick]

``--quick`` runs a smaller version (2,000 ideas, 500 -> 10,000 for the latency, fewer requests)
for iterating on a change; its figures are indicative only.

Method: a throw-away SQLite data folder is migrated and given the demo akimat with its demo
ideas (only this module enabled), then grown with synthetic Kazakh and Russian ideas in Almaty's
districts (written straight into the tables, with support rows, counters and trend scores that
agree, and a few comments each). Each app runs in its own uvicorn process (bench.home.Server);
this process sends GETs over persistent HTTP/1.1 connections.

1. At ``--small`` ideas: list-page latency (one connection, p50 and p95; the median of
   ``--rounds`` rounds).
2. At ``--ideas`` ideas and ``--supports`` supports: requests per second of the list (/ideas),
   of the most supported idea's page, and of the bare handler (a trivial Jinja template), with
   ``--concurrency`` connections, measured in turn ``--rounds`` times (median kept); prints the
   ratios (target >= 0.25).
   The Ashyq pages are measured twice: rendered every time (the page cache off, as for a
   signed-in person), which is what the target applies to and is printed first, and as the
   bench's client is (not signed in: pages come from civic.web.page_cache until something is
   written).
3. At ``--large`` ideas: list-page latency again; prints p50(large)/p50(small) for every list
   order (target <= 1.5).

The machine's load (1-minute load average) is recorded before and after each phase: on a
shared machine only the ratios measured in the same run mean much.

The sorted lists (most supported, trending) are measured at both sizes too, to show that their
indexes keep them flat. Results go to bench/results/ideas.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.home import BARE_TEMPLATE, HOST, Server, _read_response, table, uvicorn_pieces

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ideas.json"
TREND_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
TREND_HALF_LIFE_S = 7 * 86400
BENCH_USERS = 2000

PLACES_KK = ["Абай даңғылы", "Сейфуллин көшесі", "Төле би көшесі", "Райымбек даңғылы", "Жандосов көшесі",
             "Шұғыла шағынауданы", "Орбита-3", "Самал-2", "Айнабұлақ", "Алтай-1", "Көктем-2", "Мамыр-4"]
PLACES_RU = ["проспект Абая", "улица Сейфуллина", "улица Толе би", "проспект Райымбека", "улица Жандосова",
             "микрорайон Шугыла", "Орбита-3", "Самал-2", "Айнабулак", "Алтай-1", "Коктем-2", "Мамыр-4"]
TOPICS = {
    "courtyards": (["{place} ауласына балалар алаңын салу", "{place} аулаларын абаттандыру"],
                   ["Детская площадка во дворе: {place}", "Благоустроить дворы, {place}"]),
    "pavements": (["{place} бойындағы тротуарды жөндеу", "{place}: жаяу жүргіншілер өткелі"],
                  ["Отремонтировать тротуар: {place}", "Пешеходный переход, {place}"]),
    "transport": (["{place} арқылы жаңа автобус бағыты", "{place} аялдамасына павильон қою"],
                  ["Новый автобусный маршрут через {place}", "Остановочный павильон, {place}"]),
    "lighting": (["{place} көшесіне шам орнату", "{place}: аулаларды жарықтандыру"],
                 ["Уличное освещение: {place}", "Осветить дворы, {place}"]),
    "parks": (["{place} маңында саябақ ашу", "{place}: скверге орындық қою"],
              ["Сквер рядом: {place}", "Скамейки в сквере, {place}"]),
    "trees": (["{place}: апатты ағаштарды ауыстыру", "{place} бойына ағаш отырғызу"],
              ["Заменить аварийные деревья: {place}", "Высадить деревья, {place}"]),
    "heating": (["{place}: жылу жүйесін жаңарту", "{place} үйлеріне ыстық су"],
                ["Модернизация теплосетей: {place}", "Горячая вода в домах, {place}"]),
}
BODY_KK = ("Тұрғындар бұл мәселені бірнеше жыл бойы айтып келеді. Ұсыныс: жұмысты келесі жылғы бюджетке "
           "енгізіп, мердігерді ашық конкурспен таңдау және нәтижені тұрғындармен бірге қабылдау.")
BODY_RU = ("Жители говорят об этой проблеме несколько лет. Предложение: включить работы в бюджет следующего "
           "года, выбрать подрядчика на открытом конкурсе и принять результат вместе с жителями.")


def prepare(data_dir: Path) -> dict:
    """A fresh data folder with only this module enabled (CIVIC_MODULES=ideas, also for the
    server processes, which inherit the environment), migrated, with the demo akimat and its
    demo ideas. Other CIVIC_* variables of the caller are ignored."""
    import contextlib
    import io

    for name in [n for n in os.environ if n.startswith("CIVIC_")]:
        del os.environ[name]
    os.environ.update(CIVIC_DATA_DIR=str(data_dir), CIVIC_MODULES="ideas", PICCOLO_CONF="civic.piccolo_conf")

    from civic.db import migrate
    from civic.runtime import open_database
    from civic.settings import load_settings

    settings = load_settings()

    async def work() -> dict:
        engine = open_database(settings)
        chatter = io.StringIO()  # Piccolo reports each migration on stdout
        try:
            with contextlib.redirect_stdout(chatter):
                await migrate()
        except Exception:
            sys.stderr.write(chatter.getvalue())
            raise
        from civic.demo import load_core_demo
        from modules.ideas.demo import load_demo

        await load_core_demo(settings)
        created = await load_demo(settings)
        if hasattr(engine, "close_read_connections"):
            await engine.close_read_connections()
        return {"demo": True, "demo_ideas": created}

    return asyncio.run(work())


def _ts(moment: datetime) -> str:
    return str(moment)  # Piccolo's SQLite format: "2026-07-27 14:13:13.468967+00:00"


def _weight(moment: datetime) -> float:
    return 2.0 ** ((moment - TREND_EPOCH).total_seconds() / TREND_HALF_LIFE_S)


class Grower:
    """Writes synthetic ideas, supports and comments straight into the SQLite file."""

    def __init__(self, path: Path, seed: int = 1) -> None:
        self.db = sqlite3.connect(path)
        self.rng = random.Random(seed)
        self.now = datetime.now(timezone.utc)
        places = self.db.execute(
            "SELECT t.id, o.id FROM civic_territory t JOIN civic_organisation o ON o.territory = t.id "
            "WHERE t.kind = 'district' AND t.path LIKE '/kz/almaty/%' AND o.kind = 'akimat'").fetchall()
        if not places:
            raise SystemExit("bench: the demo akimat has no Almaty district akimats")
        self.places = places
        self.users = self._users()

    def _users(self) -> list[int]:
        have = self.db.execute("SELECT COUNT(*) FROM civic_user WHERE email LIKE 'bench-%@bench.invalid'").fetchone()[0]
        if have < BENCH_USERS:
            created = _ts(self.now - timedelta(days=800))
            self.db.executemany(
                "INSERT INTO civic_user (email, display_name, password_hash, language, verification, created_at) "
                "VALUES (?, ?, NULL, ?, 1, ?)",
                [(f"bench-{n}@bench.invalid", f"Тұрғын {n}", "kk" if n % 2 else "ru", created)
                 for n in range(have, BENCH_USERS)])
            self.db.commit()
        return [r[0] for r in self.db.execute(
            "SELECT id FROM civic_user WHERE email LIKE 'bench-%@bench.invalid' ORDER BY id")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ideas_idea").fetchone()[0]

    def grow(self, target: int, supports: int = 0, batch: int = 5000) -> None:
        """Add ideas until there are `target`; spread about `supports` supports over the new ones
        (few ideas get many, most get few), each with its support rows, count and trend score."""
        new = target - self.count()
        if new <= 0:
            return
        per_idea = supports / new if supports else 0
        done = 0
        while done < new:
            size = min(batch, new - done)
            self._batch(size, per_idea)
            done += size
            print(f"  {self.count():,} ideas", file=sys.stderr, flush=True)

    def _batch(self, size: int, per_idea: float) -> None:
        rng = self.rng
        cap = len(self.users) - 1
        # heavy-tailed popularity with mean per_idea (a few ideas with hundreds of supports, most
        # with a few); the rounding shortfall is spread over random ideas so the total is exact
        counts = [min(cap, int(per_idea * rng.paretovariate(1.6) * 0.375)) if per_idea else 0 for _ in range(size)]
        deficit = round(per_idea * size) - sum(counts)
        while deficit > 0:
            n = rng.randrange(size)
            if counts[n] < cap:
                counts[n] += 1
                deficit -= 1
        ideas, plans = [], []
        for wanted in counts:
            category = rng.choice(list(TOPICS))
            kazakh = rng.random() < 0.55
            place = rng.choice(PLACES_KK if kazakh else PLACES_RU)
            title = rng.choice(TOPICS[category][0 if kazakh else 1]).format(place=place)
            body = BODY_KK if kazakh else BODY_RU
            territory, organisation = rng.choice(self.places)
            created = self.now - timedelta(days=rng.random() * 730)
            supporters = rng.sample(self.users, wanted) if wanted else []
            span = max((self.now - created).total_seconds(), 60)
            moments = sorted(created + timedelta(seconds=span * rng.random() ** 2) for _ in supporters)
            comments = rng.choice((0, 0, 0, 1, 2, 3, 5))
            ideas.append((title, body, body[:280], category, territory, organisation, rng.choice(self.users),
                          "kk" if kazakh else "ru", len(supporters), comments,
                          sum(_weight(m) for m in moments), _ts(created), _ts(created), _ts(created)))
            plans.append((supporters, moments, comments, created))
        cursor = self.db.cursor()
        first = (self.db.execute("SELECT COALESCE(MAX(id), 0) FROM ideas_idea").fetchone()[0]) + 1
        cursor.executemany(
            "INSERT INTO ideas_idea (title, body, summary, category, territory, organisation, author, lang, "
            "support_count, comment_count, trend_score, created_at, updated_at, status_changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ideas)
        support_rows, comment_rows = [], []
        for offset, (supporters, moments, comments, created) in enumerate(plans):
            idea_id = first + offset
            support_rows.extend((idea_id, u, _ts(m)) for u, m in zip(supporters, moments))
            for n in range(comments):
                comment_rows.append((idea_id, rng.choice(self.users), "Қолдаймын! Поддерживаю, очень нужно.",
                                     _ts(created + timedelta(hours=n + 1))))
        cursor.executemany("INSERT INTO ideas_support (idea, user, created_at) VALUES (?, ?, ?)", support_rows)
        cursor.executemany("INSERT INTO ideas_comment (idea, author, body, created_at) VALUES (?, ?, ?, ?)",
                           comment_rows)
        self.db.commit()

    def figures(self) -> dict:
        q = self.db.execute
        return {"ideas": q("SELECT COUNT(*) FROM ideas_idea").fetchone()[0],
                "supports": q("SELECT COUNT(*) FROM ideas_support").fetchone()[0],
                "comments": q("SELECT COUNT(*) FROM ideas_comment").fetchone()[0],
                "counters_agree": q("SELECT COUNT(*) FROM ideas_idea i WHERE i.support_count != "
                                    "(SELECT COUNT(*) FROM ideas_support s WHERE s.idea = i.id)").fetchone()[0] == 0}

    def most_supported(self) -> int:
        return self.db.execute("SELECT id FROM ideas_idea WHERE visibility = 'visible' "
                               "ORDER BY support_count DESC, id DESC LIMIT 1").fetchone()[0]

    def close(self) -> None:
        self.db.execute("ANALYZE")
        self.db.commit()
        self.db.close()


# ------------------------------------------------------------------------------ the client


async def load(port: int, path: str, requests: int, concurrency: int) -> dict:
    """Send `requests` GETs of `path` over `concurrency` persistent connections."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/html\r\nAccept-Language: ru\r\n"
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
    return {"path": path, "requests": len(latencies), "concurrency": concurrency, "seconds": round(elapsed, 3),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000, 2),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "body_bytes": round(statistics.mean(sizes)) if sizes else 0}


async def measure(port: int, path: str, requests: int, concurrency: int, warmup: int) -> dict:
    for attempt in range(100):
        try:
            await load(port, path, 1, 1)
            break
        except OSError:
            await asyncio.sleep(0.1)
    if warmup:
        await load(port, path, warmup, concurrency)
    result = await load(port, path, requests, concurrency)
    if result["statuses"] != {"200": result["requests"]}:
        raise SystemExit(f"bench: {path} answered {result['statuses']}, not only 200s")
    return result


LIST_PATHS = ("/ideas", "/ideas?sort=supported", "/ideas?sort=trending")
#: Every page rendered afresh, as a signed-in person gets it (civic.web.page_cache serves
#: people who are not signed in from memory until something is written).
NO_PAGE_CACHE = {"CIVIC_PAGE_CACHE_SECONDS": "0"}


def latency_phase(template_dir: Path, requests: int, warmup: int, rounds: int) -> dict:
    """Latency of each list over one connection: the lists in turn, `rounds` times, each keeping
    its median round (by p50), so a burst of other work on the machine does not decide it."""
    server = Server("ashyq", template_dir, env=NO_PAGE_CACHE)  # the database's work, not the cache's
    try:
        async def run() -> dict:
            measured: dict[str, list[dict]] = {path: [] for path in LIST_PATHS}
            for n in range(rounds):
                for path in LIST_PATHS:
                    measured[path].append(await measure(server.port, path, requests, 1, warmup if n == 0 else 0))
            out = {}
            for path, results in measured.items():
                ordered = sorted(results, key=lambda r: r["p50_ms"])
                out[path] = {**ordered[len(ordered) // 2], "rounds_p50_ms": [r["p50_ms"] for r in results]}
            return out
        return asyncio.run(run())
    finally:
        server.stop()


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


QUICK = {"ideas": 2_000, "supports": 20_000, "small": 500, "large": 10_000, "requests": 300,
         "latency_requests": 100, "warmup": 30}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ideas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--supports", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per page (throughput)")
    parser.add_argument("--latency-requests", type=int, default=300, help="measured requests per list (latency)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (the median is kept)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller, faster run for iterating (sizes and requests of QUICK, unless given)")
    args = parser.parse_args(argv)
    if args.quick:
        given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in (argv if argv is not None else sys.argv[1:])}
        for name, value in QUICK.items():
            if name not in given:
                setattr(args, name, value)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not 0 < args.small <= args.ideas <= args.large:
        parser.error("sizes must grow: 0 < --small <= --ideas <= --large")

    workdir = Path(tempfile.mkdtemp(prefix="ashyq-bench-ideas-"))
    results: dict = {}
    loads: dict[str, float | None] = {"start": load_average()}
    try:
        data_dir, template_dir = workdir / "data", workdir / "bare-templates"
        template_dir.mkdir()
        (template_dir / "index.html").write_text(BARE_TEMPLATE)
        print("Preparing a throw-away Ashyq data folder (migrate, demo)…", file=sys.stderr, flush=True)
        setup = prepare(data_dir)
        grower = Grower(data_dir / "ashyq.sqlite3", args.seed)

        print(f"Phase 1: {args.small:,} ideas…", file=sys.stderr, flush=True)
        grower.grow(args.small, supports=args.small * args.supports // args.ideas)
        results["small"] = {"data": grower.figures()}
        grower.close()
        loads["phase 1 start"] = load_average()
        results["small"]["latency"] = latency_phase(template_dir, args.latency_requests, args.warmup, args.rounds)
        loads["phase 1 end"] = load_average()

        print(f"Phase 2: {args.ideas:,} ideas and about {args.supports:,} supports…", file=sys.stderr, flush=True)
        grower = Grower(data_dir / "ashyq.sqlite3", args.seed + 1)
        grower.grow(args.ideas, supports=args.supports - grower.figures()["supports"])
        detail = grower.most_supported()
        results["medium"] = {"data": grower.figures()}
        grower.close()
        servers = [Server("ashyq", template_dir), Server("bare", template_dir),
                   Server("ashyq", template_dir, env=NO_PAGE_CACHE)]
        try:
            async def throughput() -> dict:
                # The pages are measured in turn, --rounds times, and each keeps its median
                # round: a machine shared with other work then slows all of them alike.
                pages = (("list_rendered", servers[2], "/ideas"), ("detail_rendered", servers[2], f"/ideas/{detail}"),
                         ("bare", servers[1], "/"), ("list", servers[0], "/ideas"),
                         ("detail", servers[0], f"/ideas/{detail}"))
                rounds: dict[str, list[dict]] = {name: [] for name, _, _ in pages}
                for n in range(args.rounds):
                    for name, server, path in pages:
                        print(f"  round {n + 1}: {name} ({path})…", file=sys.stderr, flush=True)
                        rounds[name].append(await measure(server.port, path, args.requests, args.concurrency,
                                                          args.warmup if n == 0 else 0))
                out = {}
                for name, measured in rounds.items():
                    ordered = sorted(measured, key=lambda r: r["rps"])
                    out[name] = {**ordered[len(ordered) // 2], "rounds_rps": [r["rps"] for r in measured]}
                return out
            loads["phase 2 start"] = load_average()
            results["medium"]["throughput"] = asyncio.run(throughput())
            loads["phase 2 end"] = load_average()
        finally:
            for server in servers:
                server.stop()

        print(f"Phase 3: {args.large:,} ideas…", file=sys.stderr, flush=True)
        grower = Grower(data_dir / "ashyq.sqlite3", args.seed + 2)
        grower.grow(args.large, supports=0)
        results["large"] = {"data": grower.figures()}
        grower.close()
        loads["phase 3 start"] = load_average()
        results["large"]["latency"] = latency_phase(template_dir, args.latency_requests, args.warmup, args.rounds)
        loads["phase 3 end"] = load_average()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    medium = results["medium"]["throughput"]
    ratio = {name: medium[name]["rps"] / medium["bare"]["rps"]
             for name in ("list_rendered", "detail_rendered", "list", "detail")}
    growth = {path: results["large"]["latency"][path]["p50_ms"] / results["small"]["latency"][path]["p50_ms"]
              for path in LIST_PATHS}
    pieces = uvicorn_pieces()
    method = (f"uvicorn (1 worker, {pieces['http']}/{pieces['loop']}) per app on 127.0.0.1, one process each; "
              f"throughput over {args.concurrency} persistent HTTP/1.1 connections, latency over 1; SQLite (WAL)")

    print(f"Method: {method}")
    print("Machine load (1-minute average): " + ", ".join(f"{k} {v}" for k, v in loads.items()))
    rows = [("page", "ideas", "req/s", "ratio", "p50 ms", "p95 ms", "bytes")]
    for name, label in (("list_rendered", "/ideas rendered every time"),
                        ("detail_rendered", "idea page rendered every time"),
                        ("bare", "bare Litestar + Jinja"),
                        ("list", "/ideas from the page cache"), ("detail", "idea page from the page cache")):
        r = medium[name]
        rows.append((label, f"{results['medium']['data']['ideas']:,}", f"{r['rps']:.0f}",
                     f"{ratio[name]:.3f}" if name in ratio else "1", f"{r['p50_ms']:.2f}",
                     f"{r['p95_ms']:.2f}", str(r["body_bytes"])))
    print(table(rows))
    print(f"Ratio list/bare, rendered every time (page cache off, as a signed-in person gets it):   "
          f"{ratio['list_rendered']:.3f}  (target >= 0.25)")
    print(f"Ratio detail/bare, rendered every time (page cache off, as a signed-in person gets it): "
          f"{ratio['detail_rendered']:.3f}  (target >= 0.25)")
    print(f"Ratio with the page cache (visitors who are not signed in, as the bench's client is): "
          f"list {ratio['list']:.3f}, detail {ratio['detail']:.3f}")
    rows = [("list", f"p50 at {results['small']['data']['ideas']:,}", f"p50 at {results['large']['data']['ideas']:,}",
             "large/small", "p95 small", "p95 large")]
    for path in LIST_PATHS:
        s, l = results["small"]["latency"][path], results["large"]["latency"][path]
        rows.append((path, f"{s['p50_ms']:.2f} ms", f"{l['p50_ms']:.2f} ms", f"{growth[path]:.2f}x",
                     f"{s['p95_ms']:.2f}", f"{l['p95_ms']:.2f}"))
    print(table(rows))
    print(f"List latency growth {results['small']['data']['ideas']:,} -> {results['large']['data']['ideas']:,} ideas "
          f"(target <= 1.5 for every order): "
          + ", ".join(f"{path} {g:.2f}x" for path, g in growth.items()))

    from importlib.metadata import version

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "ideas",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": method,
        "arguments": vars(args),
        "database": "sqlite",
        **{k: v for k, v in setup.items() if k != "demo_rows"},
        "results": results,
        "load_average": loads,
        "ratio_rendered_to_bare": {name: round(ratio[f"{name}_rendered"], 4) for name in ("list", "detail")},
        "ratio_page_cache_to_bare": {name: round(ratio[name], 4) for name in ("list", "detail")},
        "list_latency_growth": {path: round(g, 3) for path, g in growth.items()},
        "targets": {"ratio_rendered_to_bare": 0.25, "latency_growth": 1.5},
        "machine": {"python": platform.python_version(), "litestar": version("litestar"),
                    "uvicorn": version("uvicorn"), "cpus": os.cpu_count(), "platform": platform.platform()},
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
