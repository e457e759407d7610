"""Issue 3's rule for Delphi: individual answers and their justifications are never found by
search, not while the study runs and not after its results are published; the published study
is (its topic, questions and aggregates)."""

from __future__ import annotations

import uuid

from modules.delphi import services
from search.service import apply_pending
from tests.modules.delphi.conftest import add_questions, answer_round, in_days, new_study, seat_panel


def word() -> str:
    return "q" + uuid.uuid4().hex[:9]


async def found(client, app, text: str) -> set[str]:
    await apply_pending(app.state.search)
    hits = (await client.get("/api/v1/search", params={"q": text})).json()["hits"]
    similar = (await client.get("/api/v1/search/similar", params={"text": text})).json()["hits"]
    page = (await client.get("/search", params={"q": text})).text
    ids = {h["id"] for h in hits} | {h["id"] for h in similar}
    return ids | ({"page"} if "/delphi/" in page.split("<main", 1)[-1] else set())


async def test_answers_are_never_found_and_published_aggregates_are(settings, world, app, client):
    study = await new_study(world)
    await add_questions(world, study)
    experts = await seat_panel(settings, world, study, 4)
    secret, minority = word(), word()
    answers = [{"Q1": (1250, f"{secret} reasons"), "Q2": (8, "Queues"), "Q3": ("Transport", "Buses")},
               {"Q1": (1250, "Census"), "Q2": (8, "Long"), "Q3": ("Staff", "Teachers")},
               {"Q1": (1250, "Trend"), "Q2": (8, "Yes"), "Q3": ("Heating", "Old")},
               {"Q1": (1250, f"{minority} revival"), "Q2": (8, "No"), "Q3": ("Land", "Plots")}]
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    await answer_round(settings, study, experts, answers)
    for text in (secret, minority, study["title"]):
        assert f"delphi:{study['id']}" not in await found(client, app, text)  # running: nothing public

    await services.close_round(world["organiser"], study["id"])
    await services.analyse_round(world["organiser"], study["id"])
    await services.finish(settings, world["organiser"], study["id"], "Plan the places by 2030.")
    await services.publish(world["organiser"], study["id"])
    assert f"delphi:{study['id']}" in await found(client, app, study["title"])  # the test can fail
    for text in (secret, minority, secret[:-1], f"{secret} {minority}"):
        assert f"delphi:{study['id']}" not in await found(client, app, text)
