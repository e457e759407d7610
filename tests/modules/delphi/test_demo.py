"""The Delphi demo: 20 demo experts, a finished and published three-round study, a foresight
study open in round 2 with a roadmap; loading twice changes nothing."""

from __future__ import annotations

from modules.delphi import demo, services
from modules.delphi import statistics as st
from modules.delphi.tables import Study


async def test_the_demo_studies(settings, database):
    await demo.load_demo(settings)
    assert (await demo.load_demo(settings)) == {"studies": 0}
    finished = await Study.select().where(Study.title == demo.KINDERGARTEN).first()
    assert finished["state"] == "finished" and finished["published_at"] is not None
    study = await services.get_study(finished["key"])
    results = await services.study_results(settings, study)
    assert results["rounds_done"] == 3
    places = results["questions"][0]
    assert places["state"] == st.CONSENSUS and 4500 <= places["last"].median <= 6000
    assert places["minority"]  # the minority view stays visible
    running = await services.get_study((await Study.select(Study.key).where(Study.title == demo.FOREST).first())["key"])
    current = await services.latest_round(running["id"])
    assert current["number"] == 2 and current["state"] == "open"
    assert await services.response_counts(current["id"]) == {"submitted": 9, "panel": 15}
    roadmap = (await services.study_results(settings, running))["roadmap"]
    assert [r["year"] for r in roadmap] == sorted(r["year"] for r in roadmap) and len(roadmap) == 4
