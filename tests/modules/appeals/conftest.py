"""A small akimat of its own for every test of the appeals module: a city with two districts,
the city and district akimats, two departments (one with a routing rule), and people in every
role."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

import pytest

from civic.accounts.tables import Membership, Role
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, sign_in, unique_email

PASSWORD = "correct horse battery"
TINY_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
            b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def world(database):
    from modules.appeals.tables import RoutingRule

    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"c{tag}", path=f"/kz/c{tag}/", name_kk="Қала", name_ru="Город",
                     name_en=f"City {tag}")
    await city.save()
    district = Territory(kind="district", code=f"c{tag}.d", path=f"/kz/c{tag}/d/", parent=city.id,
                         name_kk="Аудан", name_ru="Район", name_en=f"District {tag}")
    await district.save()
    other_district = Territory(kind="district", code=f"c{tag}.e", path=f"/kz/c{tag}/e/", parent=city.id,
                               name_kk="Басқа аудан", name_ru="Другой район", name_en=f"Other district {tag}")
    await other_district.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"city-{tag}", name_kk="Қала әкімдігі",
                          name_ru="Акимат города", name_en=f"City akimat {tag}")
    await akimat.save()
    district_akimat = Organisation(territory=district.id, kind="akimat", slug=f"district-{tag}", parent=akimat.id,
                                   name_kk="Аудан әкімдігі", name_ru="Акимат района", name_en=f"District akimat {tag}")
    await district_akimat.save()
    energy = Organisation(territory=city.id, kind="department", slug=f"energy-{tag}", parent=akimat.id,
                          name_kk="Энергетика басқармасы", name_ru="Управление энергетики",
                          name_en=f"Energy department {tag}")
    await energy.save()
    mobility = Organisation(territory=city.id, kind="department", slug=f"mobility-{tag}", parent=akimat.id,
                            name_kk="Мобильділік басқармасы", name_ru="Управление мобильности",
                            name_en=f"Mobility department {tag}")
    await mobility.save()
    await RoutingRule(category="energy", territory=city.id, organisation=energy.id).save()

    people = {}
    for key in ("citizen", "neighbour", "stranger", "official", "energy_official", "mobility_official", "head",
                "moderator"):
        people[key] = await make_user(unique_email(key), name=f"{key.title()} {tag}")
    people["unconfirmed"] = await make_user(unique_email("unconfirmed"), name=f"Unconfirmed {tag}", verification=0)
    people["admin"] = await make_user(unique_email("admin"), name=f"Admin {tag}", is_admin=True)
    await Membership.insert(
        Membership(user=people["official"]["id"], organisation=district_akimat.id, role=Role.OFFICIAL),
        Membership(user=people["energy_official"]["id"], organisation=energy.id, role=Role.OFFICIAL),
        Membership(user=people["mobility_official"]["id"], organisation=mobility.id, role=Role.OFFICIAL),
        Membership(user=people["head"]["id"], organisation=akimat.id, role=Role.ADMINISTRATOR),
        Membership(user=people["moderator"]["id"], organisation=akimat.id, role=Role.MODERATOR),
    )
    return {"tag": tag, "city": city, "district": district, "other_district": other_district, "akimat": akimat,
            "district_akimat": district_akimat, "energy": energy, "mobility": mobility, **people}


@pytest.fixture
def quiet_settings(settings):
    """Settings without the per-person rate limits (the domain rules still apply)."""
    return settings.with_changes(rate_limits=False)


async def new_appeal(settings, world, who: str = "citizen", **values) -> dict:
    from modules.appeals import services

    fields = {"kind": "complaint", "category": "energy", "title": f"No hot water in block 7 {world['tag']}",
              "body": "There has been no hot water in block 7 for a week; nobody says when it comes back.",
              "territory_id": world["district"].id}
    fields.update(values)
    return await services.file_appeal(settings, world[who] if who else None, **fields)


async def as_person(client, person: dict):
    await sign_in(client, person["email"], PASSWORD)
    return client


def tomorrow_at(hour: int = 10) -> datetime:
    from modules.appeals.receptions import ALMATY, local

    day = local(datetime.now(timezone.utc)).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, 0), ALMATY)


async def new_slot(world, *, capacity: int = 5, starts_at: datetime | None = None, mode: str = "in_person",
                   specialist: str = "energy_official") -> dict:
    """A reception of the energy department at the district akimat (inserted directly, so it
    may also lie in the past)."""
    from modules.appeals import receptions
    from modules.appeals.tables import ReceptionSlot

    starts_at = starts_at or (tomorrow_at() + timedelta(days=7))
    slot = ReceptionSlot(organisation=world["energy"].id, host=world["district_akimat"].id,
                         specialist=world[specialist]["id"], topics="Heating, hot water, street lights",
                         place="District akimat, room 104", mode=mode,
                         online_link="https://meet.example.kz/room" if mode == "online" else "",
                         starts_at=starts_at.astimezone(timezone.utc), duration_minutes=120, capacity=capacity)
    await slot.save()
    return await receptions.get_slot(slot.id)
