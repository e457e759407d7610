"""A small akimat of its own for every test of the ideas module: a city with a district, the
city and district akimats, a department, and people in every role."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from civic.accounts.tables import Membership, Role, User
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, unique_email

PASSWORD = "correct horse battery"
TINY_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
            b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
TINY_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


async def person(key: str, tag: str, *, verification: int = 1, new: bool = False, language: str = "en") -> dict:
    """An account; older than a week unless `new`, so the new-account limits do not apply."""
    user = await make_user(unique_email(key), name=f"{key.title()} {tag}", verification=verification,
                           language=language)
    if not new:
        await User.update({User.created_at: User.created_at - timedelta(days=30)}).where(User.id == user["id"])
        user = await User.select().where(User.id == user["id"]).first()
    return user


@pytest.fixture
async def world(database):
    from modules.ideas.tables import IdeaPolicy

    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"c{tag}", path=f"/kz/c{tag}/", name_kk="Қала", name_ru="Город",
                     name_en=f"City {tag}")
    await city.save()
    district = Territory(kind="district", code=f"c{tag}.d", path=f"/kz/c{tag}/d/", parent=city.id,
                         name_kk="Аудан", name_ru="Район", name_en=f"District {tag}")
    await district.save()
    orphan = Territory(kind="district", code=f"o{tag}", path=f"/xx{tag}/o/", name_kk="Жоқ", name_ru="Нет",
                       name_en=f"Nowhere {tag}")
    await orphan.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"city-{tag}", name_kk="Қала әкімдігі",
                          name_ru="Акимат города", name_en=f"City akimat {tag}")
    await akimat.save()
    district_akimat = Organisation(territory=district.id, kind="akimat", slug=f"district-{tag}", parent=akimat.id,
                                   name_kk="Аудан әкімдігі", name_ru="Акимат района", name_en=f"District akimat {tag}")
    await district_akimat.save()
    department = Organisation(territory=city.id, kind="department", slug=f"dept-{tag}", parent=akimat.id,
                              name_kk="Басқарма", name_ru="Управление", name_en=f"Roads department {tag}")
    await department.save()
    await IdeaPolicy(organisation=akimat.id, moderation="post", support_threshold=3).save()

    people = {}
    for key in ("citizen", "neighbour", "third", "fourth", "stranger", "official", "head", "moderator",
                "dept_official", "district_moderator"):
        people[key] = await person(key, tag)
    people["unconfirmed"] = await person("unconfirmed", tag, verification=0)
    people["newcomer"] = await person("newcomer", tag, new=True)
    people["admin"] = await make_user(unique_email("admin"), name=f"Admin {tag}", is_admin=True)
    await Membership.insert(
        Membership(user=people["official"]["id"], organisation=district_akimat.id, role=Role.OFFICIAL),
        Membership(user=people["head"]["id"], organisation=akimat.id, role=Role.ADMINISTRATOR),
        Membership(user=people["moderator"]["id"], organisation=akimat.id, role=Role.MODERATOR),
        Membership(user=people["dept_official"]["id"], organisation=department.id, role=Role.OFFICIAL),
        Membership(user=people["district_moderator"]["id"], organisation=district_akimat.id, role=Role.MODERATOR),
    )
    return {"tag": tag, "city": city, "district": district, "orphan": orphan, "akimat": akimat,
            "district_akimat": district_akimat, "department": department, **people}


@pytest.fixture
def quiet_settings(settings):
    """Settings without the per-person rate limits (the domain rules still apply)."""
    return settings.with_changes(rate_limits=False)


async def new_idea(settings, world, author: str = "citizen", **values) -> int:
    from modules.ideas import services

    fields = {"title": f"Light the courtyard {world['tag']}", "body": "Four lamps would make the courtyard safe at "
              "night for children and older people.", "category": "lighting",
              "territory_id": world["district"].id}
    fields.update(values)
    return await services.propose(settings, world[author], **fields)
