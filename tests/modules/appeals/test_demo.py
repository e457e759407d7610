"""The appeals demo: idempotent, and it shows what the issue asks for — appeals across Almaty's
districts in the report's categories, joined duplicates, an overdue appeal, a joint answer, a
published appeal, an e-Otinish registration and the receptions of the four departments of seed 000."""

from __future__ import annotations

from modules.appeals import receptions, services
from modules.appeals.tables import Appeal, AppealParticipant, ReceptionBooking, ReceptionSlot, RoutingRule


async def test_the_demo_loads_once_and_shows_every_mechanism(settings, database):
    from modules.appeals.demo import DISTRICTS, PILOT_DISTRICTS, SEED_DEPARTMENTS, load_demo

    first = await load_demo(settings)
    counts = (await Appeal.count(), await ReceptionSlot.count(), await ReceptionBooking.count(),
              await RoutingRule.count())
    second = await load_demo(settings)
    assert second == {"appeals": 0, "slots": 0}
    assert (await Appeal.count(), await ReceptionSlot.count(), await ReceptionBooking.count(),
            await RoutingRule.count()) == counts
    if first["appeals"] == 0:  # loaded earlier in this run (the browser tests): still check the contents
        assert await Appeal.exists().where(Appeal.demo_key == "demo-overdue")

    demo = await Appeal.select(Appeal.category, Appeal.territory.code.as_alias("code"), Appeal.channel).where(
        Appeal.demo_key.like("demo-%"))
    assert {"energy", "housing", "transport", "courtyards"} <= {a["category"] for a in demo}
    assert {f"almaty.{d}" for d in DISTRICTS} <= {a["code"] for a in demo}
    assert {"online", "phone", "letter", "reception"} <= {a["channel"] for a in demo}

    async def by_key(key: str) -> dict:
        number = (await Appeal.select(Appeal.number).where(Appeal.demo_key == key).first())["number"]
        return await services.get_appeal(number)

    overdue = await by_key("demo-overdue")
    assert overdue["status"] == "open" and overdue["light"] == "red"
    primary = await by_key("demo-playground")
    duplicates = await services.duplicates_of(primary["id"])
    assert len(duplicates) == 2 and all(d["status"] == "answered" and d["answer"] == primary["answer"]
                                        for d in duplicates)
    joint = await by_key("demo-joint")
    assert joint["status"] == "answered" and await AppealParticipant.exists().where(
        AppealParticipant.appeal == joint["id"])
    published = await by_key("demo-published")
    assert published["is_published"] and "+7" not in published["public_body"] and "Болат" not in published["public_body"]
    assert (await by_key("demo-letter"))["eotinish_number"]

    slots = await ReceptionSlot.select(ReceptionSlot.organisation.slug.as_alias("slug"),
                                       ReceptionSlot.host.slug.as_alias("host")).where(
        ReceptionSlot.demo_key.like("demo-%"))
    assert {s["slug"] for s in slots} == {slug for slug, _, _ in SEED_DEPARTMENTS}
    assert {s["host"] for s in slots} == {f"almaty-{d}-akimat" for d in PILOT_DISTRICTS}
    assert [s for s in await receptions.upcoming_slots() if s["bookable"]]
    dashboard = await receptions.dashboard()
    assert dashboard["last_full"]["advised"] > 100  # close to the target of 200 a month
