"""A working group of its own for every Delphi test: an akimat with an organiser, a platform
administrator, six experts, an outsider — and helpers that run a study through its rounds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from civic.accounts.tables import Membership, Role
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, unique_email

PASSWORD = "correct horse battery"
EXPERTS = 6


@pytest.fixture
async def world(database):
    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"d{tag}", path=f"/kz/d{tag}/", name_kk="Қала", name_ru="Город",
                     name_en=f"City {tag}")
    await city.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"akimat-{tag}", name_kk="Әкімдік",
                          name_ru="Акимат", name_en=f"Akimat {tag}")
    await akimat.save()
    other = Organisation(territory=city.id, kind="akimat", slug=f"other-{tag}", name_kk="Басқа", name_ru="Другой",
                         name_en=f"Other {tag}")
    await other.save()
    people = {
        "organiser": await make_user(unique_email("organiser"), name=f"Organiser Orazbek {tag}"),
        "other_organiser": await make_user(unique_email("otherorg"), name=f"Other Organiser {tag}"),
        "outsider": await make_user(unique_email("outsider"), name=f"Outsider Olzhas {tag}"),
        "admin": await make_user(unique_email("admin"), name=f"Admin Aigerim {tag}", is_admin=True),
    }
    experts = [await make_user(unique_email(f"expert{n}"), name=f"Expertname{n} Zh{tag}") for n in range(EXPERTS)]
    await Membership.insert(
        Membership(user=people["organiser"]["id"], organisation=akimat.id, role=Role.ORGANISER),
        Membership(user=people["other_organiser"]["id"], organisation=other.id, role=Role.ORGANISER),
    )
    return {"tag": tag, "akimat": akimat, "other": other, "experts": experts, **people}


async def new_study(world, *, kind: str = "classic", horizon=None, **changes) -> dict:
    from modules.delphi import services

    values = {"organisation_id": world["akimat"].id, "title": f"Kindergarten places {world['tag']}",
              "purpose": "How many kindergarten places will Aral district need in 2030?", "kind": kind,
              "horizon_year": horizon, "planned_rounds": 3}
    values.update(changes)
    return await services.create_study(world["organiser"], **values)


async def seat_panel(settings, world, study: dict, count: int = EXPERTS) -> list[dict]:
    """Invite and accept ``count`` experts; returns them."""
    from modules.delphi import services

    for n, expert in enumerate(world["experts"][:count]):
        invited = await services.invite(settings, world["organiser"], study["id"], expert["email"], f"field {n}")
        await services.respond(settings, expert, invited["token"], True)
    return world["experts"][:count]


async def add_questions(world, study: dict) -> None:
    from modules.delphi import services

    await services.add_question(world["organiser"], study["id"], kind="numeric",
                                text="How many places are needed in 2030?", unit="places", min_value="0",
                                max_value="10000", tolerance="200")
    await services.add_question(world["organiser"], study["id"], kind="scale",
                                text="How important is a new kindergarten in Aralsk?", scale_max="9")
    await services.add_question(world["organiser"], study["id"], kind="text",
                                text="What else should the akimat consider?")


async def answer_round(settings, study: dict, experts: list[dict], answers: list[dict], *, deadline_days: int = 10):
    """Each expert answers the open round: answers[i] maps item code -> (value, justification)."""
    from modules.delphi import services

    current = await services.latest_round(study["id"])
    items = {i["code"]: i for i in await services.items_of(current["id"])}
    for expert, given in zip(experts, answers):
        form = {}
        for code, (value, justification) in given.items():
            item = items[code]
            if item["kind"] == "ranking":
                form[f"item-{item['id']}-rank"] = [str(v) for v in value]
            else:
                form[f"item-{item['id']}"] = str(value)
            form[f"item-{item['id']}-justification"] = justification
        await services.save_answers(settings, expert, study["id"], form, submit=True)


def in_days(days: int):
    from modules.delphi.services import now_utc

    return (now_utc() + timedelta(days=days)).date().isoformat()
