"""Search at scale: both backends, the same synthetic documents and queries, in one run.

    python -m bench.search [--docs 100000] [--small 1000] [--queries 200] [--batch 5000]
                           [--no-meilisearch] [--seed 1]

Generates ``--docs`` Kazakh and Russian civic documents (courtyards, pavements, bus routes,
street lighting, parks, heating ... in Almaty's districts and micro-districts, with modules,
statuses, participation levels and years), builds the embedded tantivy index and a Meilisearch
index (a real process from tests/support/meili.py) at ``--small`` and at ``--docs`` documents,
and measures ``backend.search()`` end to end (query parsing, the engine, loading the page of
documents, highlighting) for three kinds of query:

* plain: one or two words as people type them (Kazakh or Russian, sometimes Latin);
* typo: one word of 5+ letters with one edit (substitution, deletion, doubling or swap);
* filter+facets: a word plus module / district / status / year filters, with counts of the
  search page's five facets (module, territory, status, level, year).

Prints build time, p50 and p95 per kind and size, the ratio embedded/Meilisearch, and the ratio
p95(large)/p95(small), against the targets of issue 3: embedded p95 <= 10 ms at 100k, full
reindex of 100k <= 60 s, p95 at 100k <= 1.5 x p95 at 1k. The results also go to
bench/results/search.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "search.json"

# ------------------------------------------------------------------ synthetic documents

DISTRICTS = {  # slug: (Kazakh, Russian)
    "alatau": ("Алатау", "Алатауский"), "almaly": ("Алмалы", "Алмалинский"),
    "auezov": ("Әуезов", "Ауэзовский"), "bostandyk": ("Бостандық", "Бостандыкский"),
    "zhetysu": ("Жетісу", "Жетысуский"), "medeu": ("Медеу", "Медеуский"),
    "nauryzbay": ("Наурызбай", "Наурызбайский"), "turksib": ("Түрксіб", "Турксибский"),
}
STREETS = ["Абай", "Сейфуллин", "Төле би", "Райымбек", "Жібек жолы", "Достық", "Әл-Фараби",
           "Тимирязев", "Байтұрсынұлы", "Жандосов", "Саин", "Момышұлы", "Розыбакиев", "Гагарин",
           "Назарбаев", "Қабанбай батыр", "Бөгенбай батыр", "Шевченко", "Толстой", "Мұратбаев"]
KK_OBJECTS = ["аула", "тротуар", "автобус аялдамасы", "көше жарығы", "саябақ", "балалар алаңы",
              "жылу жүйесі", "жол", "көпір", "бағдаршам", "қоқыс жәшігі", "велосипед жолы",
              "спорт алаңы", "мектеп", "емхана", "су құбыры", "кәріз", "ағаштар", "гүлзар",
              "автотұрақ", "жаяу жүргіншілер өткелі", "көпқабатты үй", "лифт", "шатыр"]
RU_OBJECTS = ["двор", "тротуар", "автобусная остановка", "уличное освещение", "парк",
              "детская площадка", "отопление", "дорога", "мост", "светофор", "мусорный контейнер",
              "велодорожка", "спортивная площадка", "школа", "поликлиника", "водопровод",
              "канализация", "деревья", "клумба", "парковка", "пешеходный переход",
              "многоэтажный дом", "лифт", "крыша"]
KK_PROBLEMS = ["жөндеу керек", "бұзылып қалған", "жарық жоқ", "тазалау қажет", "жаңасын салу туралы ұсыныс",
               "қауіпті жағдай туындады", "су басып қалды", "жылу берілмейді", "абаттандыру қажет",
               "көгалдандыру туралы өтініш", "шұқанақтар пайда болды", "қараңғы және қауіпті",
               "кезек көп", "ескірген", "қоқыс шығарылмайды"]
RU_PROBLEMS = ["требует ремонта", "разрушен", "не работает освещение", "нужна уборка",
               "предложение построить новый", "опасная ситуация", "затопило после дождя",
               "нет отопления", "нужно благоустройство", "просьба об озеленении", "появились ямы",
               "темно и опасно", "большие очереди", "устарел", "не вывозят мусор"]
KK_SENTENCES = [
    "{street} көшесінде {obj} {problem}.", "{district} ауданының тұрғындары {obj} мәселесін көтерді.",
    "Әкімдік бұл мәселені қарап, жауап беруі керек.", "№{route} автобус маршрутының кестесін өзгерту ұсынылады.",
    "Балалар мен қарттарға қолайлы орта жасау маңызды.", "Қыста {obj} күтімі нашар.",
    "Көршілермен бірге {count} қол жинадық.", "Түнде көше жарығы жанбайды, жаяу жүру қауіпті.",
    "Жаңа {obj} салуға бюджеттен қаражат бөлуді сұраймыз.", "Жөндеу жұмыстары {year} жылы аяқталуы тиіс.",
]
RU_SENTENCES = [
    "На улице {street} {obj} {problem}.", "Жители {district_ru} района подняли вопрос: {obj}.",
    "Просим акимат рассмотреть обращение и дать ответ.", "Предлагаем изменить расписание автобусного маршрута №{route}.",
    "Важно создать удобную среду для детей и пожилых.", "Зимой {obj} в плохом состоянии.",
    "Вместе с соседями собрали {count} подписей.", "Ночью не горят фонари, ходить опасно.",
    "Просим выделить средства из бюджета на {obj}.", "Ремонт должен быть завершён в {year} году.",
]
MODULES = {"ideas": "idea", "petitions": "petition", "appeals": "appeal", "budgets": "project",
           "councils": "decision", "contests": "entry"}
STATUSES = ["open", "under_review", "answered", "accepted", "rejected", "implemented"]
LEVELS = ["inform", "consult", "dialogue", "partnership"]


def generate(n: int, seed: int = 1):
    from search.documents import Document

    rnd = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    span = int((datetime(2025, 12, 31, tzinfo=timezone.utc) - start).total_seconds())
    docs = []
    for i in range(n):
        kk = rnd.random() < 0.55
        slug = rnd.choice(list(DISTRICTS))
        d_kk, d_ru = DISTRICTS[slug]
        territory = f"/kz/almaty/{slug}/" + (f"mkr-{rnd.randint(1, 12)}/" if rnd.random() < 0.6 else "")
        module = rnd.choice(list(MODULES))
        fill = dict(street=rnd.choice(STREETS), district=d_kk, district_ru=d_ru.lower(),
                    route=rnd.randint(1, 150), count=rnd.randint(10, 900), year=rnd.randint(2022, 2027))
        if kk:
            obj, problem = rnd.choice(KK_OBJECTS), rnd.choice(KK_PROBLEMS)
            title = f"{d_kk} ауданы: {obj} {problem}" if rnd.random() < 0.5 else f"{obj.capitalize()} {problem}"
            sentences = KK_SENTENCES
        else:
            obj, problem = rnd.choice(RU_OBJECTS), rnd.choice(RU_PROBLEMS)
            title = f"{d_ru} район: {obj} {problem}" if rnd.random() < 0.5 else f"{obj.capitalize()} — {problem}"
            sentences = RU_SENTENCES
        body = " ".join(s.format(obj=rnd.choice(KK_OBJECTS if kk else RU_OBJECTS),
                                 problem=rnd.choice(KK_PROBLEMS if kk else RU_PROBLEMS), **fill)
                        for s in rnd.sample(sentences, rnd.randint(3, 6)))
        docs.append(Document(
            id=f"{module}:{i}", module=module, kind=MODULES[module], title=title, body=body,
            territory=territory, organisation=f"almaty-{slug}-akimat", status=rnd.choice(STATUSES),
            level=rnd.choice(LEVELS), lang="kk" if kk else "ru",
            created_at=start + timedelta(seconds=rnd.randrange(span)), url=f"/{module}/{i}",
            summary=body[:140],
        ))
    return docs


# ------------------------------------------------------------------ queries

PLAIN = ["саябақ", "тротуар", "жарық", "аялдама", "жылу", "көше жарығы", "балалар алаңы", "бағдаршам",
         "отопление", "остановка", "освещение", "парк", "детская площадка", "дорога", "светофор",
         "мусор", "ремонт тротуара", "автобус", "маршрут", "лифт", "велодорожка", "su qūbyry",
         "saiabaq", "Абай", "Достық", "жөндеу", "благоустройство", "ямы", "шатыр", "поликлиника"]
TYPO_SOURCE = ["саябақ", "тротуар", "аялдамасы", "бағдаршам", "отопление", "остановка", "освещение",
               "светофор", "автобусная", "маршрутының", "благоустройство", "велодорожка", "поликлиника",
               "көгалдандыру", "абаттандыру", "канализация", "водопровод", "емхана", "автотұрақ",
               "парковка", "контейнер", "жүргіншілер", "көпқабатты", "многоэтажный"]


def _typo(word: str, rnd: random.Random) -> str:
    i = rnd.randrange(1, len(word) - 1)
    kind = rnd.choice(["sub", "del", "double", "swap"])
    if kind == "sub":
        return word[:i] + rnd.choice("аоеиуыкнрст") + word[i + 1:]
    if kind == "del":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


#: the facets of the search page (issue 3): module, territory, status, participation level, year
FACETS = ("module", "territory", "status", "level", "year")


def make_queries(count: int, seed: int = 2) -> dict[str, list[dict]]:
    rnd = random.Random(seed)
    plain = [dict(text=rnd.choice(PLAIN)) for _ in range(count)]
    typo = [dict(text=_typo(rnd.choice(TYPO_SOURCE), rnd)) for _ in range(count)]
    filtered = []
    for _ in range(count):
        q = dict(text=rnd.choice(PLAIN), facets=FACETS)
        for name, values in (("module", list(MODULES)), ("status", STATUSES)):
            if rnd.random() < 0.5:
                q[name] = rnd.choice(values)
        if rnd.random() < 0.7:
            q["territory"] = f"/kz/almaty/{rnd.choice(list(DISTRICTS))}/"
        if rnd.random() < 0.4:
            q["year"] = rnd.randint(2021, 2025)
        filtered.append(q)
    return {"plain": plain, "typo": typo, "filter+facets": filtered}


# ------------------------------------------------------------------ measuring


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def build(backend, docs, batch: int) -> float:
    started = time.perf_counter()
    if backend.name == "meilisearch":
        for i in range(0, len(docs), batch):
            backend.index(docs[i:i + batch], wait=False)
        backend.wait_idle(timeout=3600)
    else:
        for i in range(0, len(docs), batch):
            backend.index(docs[i:i + batch])
    return time.perf_counter() - started


def measure(backend, queries: dict[str, list[dict]], warmup: int) -> dict:
    from search.documents import SearchQuery

    out: dict[str, dict] = {}
    everything: list[float] = []
    for kind, items in queries.items():
        for q in items[:warmup]:
            backend.search(SearchQuery(**q))
        times, totals, empty = [], [], 0
        for q in items:
            started = time.perf_counter()
            results = backend.search(SearchQuery(**q))
            times.append((time.perf_counter() - started) * 1000)
            totals.append(results.total)
            empty += results.total == 0
        everything += times
        out[kind] = {"queries": len(times), "p50_ms": round(statistics.median(times), 3),
                     "p95_ms": round(pct(times, 95), 3), "mean_hits": round(statistics.mean(totals), 1),
                     "empty": empty}
    out["all"] = {"queries": len(everything), "p50_ms": round(statistics.median(everything), 3),
                  "p95_ms": round(pct(everything, 95), 3)}
    return out


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="large index size (default 100000)")
    parser.add_argument("--small", type=int, default=1000, help="small index size (default 1000)")
    parser.add_argument("--queries", type=int, default=200, help="measured queries per kind (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up queries per kind (default 20)")
    parser.add_argument("--batch", type=int, default=5000, help="documents per index() call (default 5000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-meilisearch", action="store_true", help="embedded backend only")
    args = parser.parse_args(argv)
    if args.docs < args.small or args.small < 1 or args.queries < 1:
        parser.error("need --docs >= --small >= 1 and --queries >= 1")
    sys.path.insert(0, str(ROOT))

    from search import embedded
    from search.embedded import EmbeddedBackend

    print(f"Generating {args.docs} documents…", file=sys.stderr, flush=True)
    docs = generate(args.docs, args.seed)
    queries = make_queries(args.queries)
    # The generated documents are the harness's, not the server's: keep the garbage collector
    # from walking them during the measurements.
    gc.collect()
    gc.freeze()
    sizes = [args.small, args.docs] if args.docs != args.small else [args.docs]
    results: dict[str, dict] = {}
    workdir = Path(tempfile.mkdtemp(prefix="ashyq-bench-search-"))
    meili_ctx = None
    try:
        kinds = ["embedded"]
        url = key = None
        if not args.no_meilisearch:
            from tests.support.meili import temporary_meilisearch

            meili_ctx = temporary_meilisearch()
            url, key = meili_ctx.__enter__()
            kinds.append("meilisearch")
        for size in sizes:
            for kind in kinds:
                print(f"{kind}: building {size} documents…", file=sys.stderr, flush=True)
                if kind == "embedded":
                    path = workdir / f"embedded-{size}"
                    backend = EmbeddedBackend(path, writer_idle=0)
                else:
                    from search.meili import MeiliBackend

                    backend = MeiliBackend(url, key, index_name=f"bench_{size}", timeout=30)
                backend.configure()
                seconds = build(backend, docs[:size], args.batch)
                assert backend.count() == size, (kind, backend.count())
                entry = {"documents": size, "build_s": round(seconds, 2),
                         "docs_per_s": round(size / seconds)}
                if kind == "embedded":
                    entry["index_mb"] = round(directory_size(path) / 1e6, 1)
                print(f"{kind}: {size} documents in {seconds:.1f} s; measuring…", file=sys.stderr, flush=True)
                entry["latency"] = measure(backend, queries, args.warmup)
                results[f"{kind}/{size}"] = entry
                if kind == "embedded":
                    backend.close()
                    embedded._HANDLES.pop(path.resolve(), None)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    backend.drop()
    finally:
        if meili_ctx is not None:
            meili_ctx.__exit__(None, None, None)
        shutil.rmtree(workdir, ignore_errors=True)

    # ------------------------------------------------------------ report
    rows = [("backend", "docs", "build s", "plain p50/p95", "typo p50/p95", "filter+facets p50/p95", "all p50/p95")]
    for name, entry in results.items():
        kind = name.split("/")[0]
        lat = entry["latency"]
        cell = lambda k: f"{lat[k]['p50_ms']:.2f} / {lat[k]['p95_ms']:.2f}"  # noqa: E731
        rows.append((kind, str(entry["documents"]), f"{entry['build_s']:.1f}", cell("plain"), cell("typo"),
                     cell("filter+facets"), cell("all")))
    print(f"search.search() end to end, ms; {args.queries} queries per kind after {args.warmup} warm-up; "
          f"index() in batches of {args.batch}")
    print(table(rows))

    large, small = args.docs, args.small
    ratios: dict[str, float] = {}
    if "meilisearch" in {n.split("/")[0] for n in results}:
        for size in sizes:
            e, m = results[f"embedded/{size}"]["latency"], results[f"meilisearch/{size}"]["latency"]
            ratios[f"embedded/meilisearch p95 at {size}"] = round(e["all"]["p95_ms"] / m["all"]["p95_ms"], 3)
            ratios[f"embedded/meilisearch p50 at {size}"] = round(e["all"]["p50_ms"] / m["all"]["p50_ms"], 3)
        ratios[f"embedded/meilisearch build at {large}"] = round(
            results[f"embedded/{large}"]["build_s"] / results[f"meilisearch/{large}"]["build_s"], 4)
    if len(sizes) == 2:
        for kind in {n.split("/")[0] for n in results}:
            a, b = results[f"{kind}/{large}"]["latency"], results[f"{kind}/{small}"]["latency"]
            ratios[f"{kind} p95 {large}/{small}"] = round(a["all"]["p95_ms"] / b["all"]["p95_ms"], 3)
            for k in ("plain", "typo", "filter+facets"):
                ratios[f"{kind} p95 {large}/{small} {k}"] = round(a[k]["p95_ms"] / b[k]["p95_ms"], 3)
    for name, value in ratios.items():
        print(f"ratio {name}: {value}")

    emb_large = results[f"embedded/{large}"]
    targets = {
        f"embedded p95 <= 10 ms at {large}": emb_large["latency"]["all"]["p95_ms"] <= 10,
        f"embedded full reindex of {large} <= 60 s": emb_large["build_s"] <= 60,
    }
    if f"meilisearch/{large}" in results:
        targets[f"meilisearch full reindex of {large} <= 60 s"] = results[f"meilisearch/{large}"]["build_s"] <= 60
    if len(sizes) == 2:
        for kind in {n.split("/")[0] for n in results}:
            targets[f"{kind} p95 at {large} <= 1.5 x p95 at {small}"] = ratios[f"{kind} p95 {large}/{small}"] <= 1.5
    for name, ok in targets.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")

    from importlib.metadata import version

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "search",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": "backend.search(SearchQuery) end to end in one Python process, sequential; "
                  "Meilisearch through the official client to a local process (2 indexing threads)",
        "documents": large, "small": small, "queries_per_kind": args.queries, "warmup": args.warmup,
        "batch": args.batch, "seed": args.seed,
        "results": results, "ratios": ratios, "targets": targets,
        "machine": {"python": platform.python_version(), "tantivy": version("tantivy"),
                    "meilisearch_client": version("meilisearch"), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
