"""Round statistics of a Delphi study with 200 experts × 50 questions (target ≤ 50 ms), and the
time of the study's results page with that round, as the organiser sees it (with the
justifications) and as the public sees it (aggregates only).

    python -m bench.delphi [--experts 200] [--questions 50] [--repeat 20]

Method: the statistics are ``modules.delphi.services.analyse_items`` on synthetic answers
(numeric, scale, probability, year and ranking questions in turn), timed ``--repeat`` times;
the best and the median are printed. The page is served in-process (httpx over ASGI) from a
throw-away SQLite data folder with one closed round of that size; best and median of 10 GETs
after one warm-up. The results also go to bench/results/delphi.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "delphi.json"
KINDS = ("numeric", "scale", "probability", "year", "ranking")
PASSWORD = "bench password 2026"


def synthetic(experts: int, questions: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    items, answers = [], []
    for q in range(questions):
        kind = KINDS[q % len(KINDS)]
        item = {"id": q + 1, "question": q + 1, "kind": kind, "min_value": None, "max_value": None, "scale_max": 9,
                "tolerance": None, "options": []}
        if kind == "numeric":
            item.update(min_value=0.0, max_value=10_000.0)
        elif kind == "year":
            item.update(min_value=2026.0, max_value=2060.0)
        elif kind == "probability":
            item.update(min_value=0.0, max_value=100.0)
        elif kind == "ranking":
            item["options"] = [f"option {n}" for n in range(5)]
        items.append(item)
        for e in range(experts):
            row = {"item": item["id"], "pseudonym": e + 1, "value": None, "ranking": [], "text": "",
                   "justification": f"reason {e} for {q}"}
            if kind == "numeric":
                row["value"] = round(rng.gauss(5000, 800))
            elif kind == "scale":
                row["value"] = float(max(1, min(9, round(rng.gauss(7, 1.3)))))
            elif kind == "probability":
                row["value"] = float(max(0, min(100, round(rng.gauss(40, 15)))))
            elif kind == "year":
                row["value"] = float(max(2026, min(2060, round(rng.gauss(2035, 4)))))
            else:
                order = list(range(5))
                rng.shuffle(order)
                row["ranking"] = order
            answers.append(row)
    return items, answers


def time_statistics(experts: int, questions: int, repeat: int) -> dict:
    from modules.delphi.services import analyse_items

    items, answers = synthetic(experts, questions)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        summaries = analyse_items(items, answers)
        times.append((time.perf_counter() - start) * 1000)
    assert len(summaries) == questions and all(s.n == experts for s in summaries.values())
    return {"best_ms": round(min(times), 2), "median_ms": round(statistics.median(times), 2)}


async def time_results_page(experts: int, questions: int) -> dict:
    import httpx

    from civic.accounts.passwords import hash_password
    from civic.accounts.tables import Membership, Role, User
    from ashyq.app import create_app
    from civic.db import migrate
    from civic.runtime import open_database
    from civic.settings import load_settings
    from civic.territory.tables import Organisation, Territory
    from modules.delphi import services
    from modules.delphi.tables import Answer, Panelist, RoundResponse

    settings = load_settings()
    open_database(settings)
    await migrate()
    territory = Territory(kind="city", code="bench", path="/kz/bench/", name_kk="B", name_ru="B", name_en="Bench")
    await territory.save()
    organisation = Organisation(territory=territory.id, kind="akimat", slug="bench-akimat", name_kk="B",
                                name_ru="B", name_en="Bench akimat")
    await organisation.save()
    password_hash = hash_password(PASSWORD, "cheapest")
    organiser = User(email="organiser@bench.kz", display_name="Organiser", password_hash=password_hash,
                     language="en", verification=1)
    await organiser.save()
    await Membership(user=organiser.id, organisation=organisation.id, role=Role.ORGANISER).save()
    await User.insert(*[User(email=f"expert{n}@bench.kz", display_name=f"Expert {n}", password_hash=None,
                             language="en", verification=1) for n in range(experts)])
    expert_ids = [r["id"] for r in await User.select(User.id).where(User.email.like("expert%@bench.kz"))]
    from civic.accounts.services import user_by_id

    me = await user_by_id(organiser.id)
    study = await services.create_study(me, organisation_id=organisation.id, title="Bench study of Delphi rounds",
                                        purpose="How fast are the statistics of a big round?", kind="classic",
                                        horizon_year=None, planned_rounds=3)
    items, answers = synthetic(experts, questions)
    for item in items:
        extra = {"min_value": item["min_value"], "max_value": item["max_value"]} if item["kind"] in (
            "numeric", "year") else {}
        await services.add_question(me, study["id"], kind=item["kind"], text=f"Bench question {item['id']}?",
                                    options="\n".join(item["options"]), **extra)
    await Panelist.insert(*[Panelist(study=study["id"], user=uid, email=f"p{uid}@bench.kz", field="bench",
                                     token=f"t{uid}", state="accepted") for uid in expert_ids])
    await services.open_round(settings, me, study["id"], (services.now_utc() + timedelta(days=10)).date().isoformat())
    current = await services.latest_round(study["id"])
    real_items = await services.items_of(current["id"])
    pseudonyms = sorted({r["pseudonym"] for r in await RoundResponse.select(RoundResponse.pseudonym).where(
        RoundResponse.round == current["id"])})
    await Answer.delete().where(Answer.round == current["id"])
    rows = []
    for a in answers:
        item = real_items[a["item"] - 1]
        rows.append(Answer(round=current["id"], item=item["id"], pseudonym=pseudonyms[a["pseudonym"] - 1],
                           value=a["value"], ranking=a["ranking"], text="", justification=a["justification"]))
    for start in range(0, len(rows), 500):
        await Answer.insert(*rows[start:start + 500])
    await RoundResponse.update({RoundResponse.submitted: True}).where(RoundResponse.round == current["id"])
    await services.close_round(me, study["id"])
    await services.analyse_round(me, study["id"])
    # random answers diverge widely, so the rules would ask for more rounds: publish directly
    from modules.delphi.tables import Study

    await Study.update({Study.state: "finished", Study.published_at: services.now_utc()}).where(
        Study.id == study["id"])

    app = create_app(settings)
    timings = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for who in ("public", "organiser"):
            if who == "organiser":
                await client.get("/auth/login")
                login = await client.post("/auth/login", data={
                    "email": "organiser@bench.kz", "password": PASSWORD, "next": "/account",
                    "_csrf_token": client.cookies.get("ashyq_csrf", "")})
                assert login.status_code == 303, login.text[:300]
            path = f"/delphi/{study['key']}/results"
            assert (await client.get(path)).status_code == 200
            times = []
            for _ in range(10):
                start = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            timings[who] = {"best_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1),
                            "bytes": len(response.content)}
    return timings


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=200)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-page", action="store_true", help="time the statistics only")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    data_dir = tempfile.mkdtemp(prefix="ashyq-bench-delphi-")
    for name in [k for k in os.environ if k.startswith("CIVIC_")]:
        os.environ.pop(name)
    os.environ.update({"CIVIC_DATA_DIR": data_dir, "CIVIC_PASSWORD_HASH_PROFILE": "cheapest",
                       "CIVIC_RATE_LIMITS": "off", "PICCOLO_CONF": "civic.piccolo_conf",
                       # the page rendered every time (not from civic.web.page_cache's memory)
                       "CIVIC_PAGE_CACHE_SECONDS": "0"})
    stats = time_statistics(args.experts, args.questions, args.repeat)
    print(f"round statistics, {args.experts} experts x {args.questions} questions: "
          f"best {stats['best_ms']} ms, median {stats['median_ms']} ms (target <= 50 ms)")
    result = {"when": datetime.now(timezone.utc).isoformat(), "python": platform.python_version(),
              "experts": args.experts, "questions": args.questions, "statistics": stats}
    if not args.no_page:
        page = asyncio.run(time_results_page(args.experts, args.questions))
        for who, t in page.items():
            print(f"results page as {who}: best {t['best_ms']} ms, median {t['median_ms']} ms, {t['bytes']:,} bytes")
        result["results_page"] = page
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
