"""A small country of its own for every petitions test: a city (with a population) and two of
its districts, a rural okrug, a region, their akimats and maslikhats, a department, and people
in every role."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from civic.accounts.tables import Membership, Role, User
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, unique_email

PASSWORD = "correct horse battery"


async def person(key: str, tag: str, *, verification: int = 1, language: str = "en", residence=None,
                 email: str | None = None) -> dict:
    user = await make_user(email or unique_email(key), name=f"{key.title()} {tag}", verification=verification,
                           language=language)
    changes = {User.created_at: User.created_at - timedelta(days=30)}
    if residence is not None:
        changes[User.residence] = residence
    await User.update(changes).where(User.id == user["id"])
    return await User.select().where(User.id == user["id"]).first()


async def crowd(count: int, tag: str, *, residence=None, domain: str = "example.kz", verification: int = 1) -> list[dict]:
    """Many ready accounts at once (no password: they act through services or API tokens)."""
    await User.insert(*[User(email=f"crowd-{tag}-{n}@{domain}", display_name=f"Resident {tag} {n}", password_hash=None,
                             language="kk", verification=verification, residence=residence) for n in range(count)])
    return await User.select().where(User.email.like(f"crowd-{tag}-%")).order_by(User.id)


@pytest.fixture
async def world(database):
    tag = uuid.uuid4().hex[:8]

    async def territory(kind, code, path, parent=None, population=None, name="Place"):
        row = Territory(kind=kind, code=code, path=path, parent=parent, name_kk=f"{name} kk", name_ru=f"{name} ru",
                        name_en=f"{name} {tag}", population=population)
        await row.save()
        return row

    city = await territory("city", f"c{tag}", f"/kz/c{tag}/", population=1_000_000, name="City")
    district = await territory("district", f"c{tag}.d", f"/kz/c{tag}/d/", city.id, 300_000, name="North district")
    other_district = await territory("district", f"c{tag}.e", f"/kz/c{tag}/e/", city.id, 200_000, name="South district")
    region = await territory("region", f"r{tag}", f"/kz/r{tag}/", population=812_345, name="Region")
    region_district = await territory("district", f"r{tag}.a", f"/kz/r{tag}/a/", region.id, 80_000, name="Aral")
    okrug = await territory("rural_okrug", f"r{tag}.a.o", f"/kz/r{tag}/a/o/", region_district.id, 3_000, name="Okrug")

    async def organisation(kind, slug, territory_row, parent=None, name="Body"):
        row = Organisation(territory=territory_row.id, kind=kind, slug=f"{slug}-{tag}", parent=parent,
                           name_kk=f"{name} kk", name_ru=f"{name} ru", name_en=f"{name} {tag}")
        await row.save()
        return row

    akimat = await organisation("akimat", "city-akimat", city, name="City akimat")
    maslikhat = await organisation("maslikhat", "city-maslikhat", city, name="City maslikhat")
    district_akimat = await organisation("akimat", "district-akimat", district, akimat.id, name="District akimat")
    department = await organisation("department", "roads", city, akimat.id, name="Roads department")
    region_akimat = await organisation("akimat", "region-akimat", region, name="Region akimat")
    region_maslikhat = await organisation("maslikhat", "region-maslikhat", region, name="Region maslikhat")
    aral_akimat = await organisation("akimat", "aral-akimat", region_district, region_akimat.id, name="Aral akimat")
    ngo = await organisation("ngo", "ngo", city, name="An NGO")

    people = {}
    for key in ("author", "signer", "neighbour", "stranger", "official", "head", "moderator", "district_moderator",
                "region_moderator"):
        people[key] = await person(key, tag, residence=district.id)
    people["unconfirmed"] = await person("unconfirmed", tag, verification=0)
    people["resident"] = await person("resident", tag, verification=2, residence=okrug.id)
    people["admin"] = await make_user(unique_email("admin"), name=f"Admin {tag}", is_admin=True)
    await Membership.insert(
        Membership(user=people["official"]["id"], organisation=akimat.id, role=Role.OFFICIAL),
        Membership(user=people["head"]["id"], organisation=akimat.id, role=Role.ADMINISTRATOR),
        Membership(user=people["moderator"]["id"], organisation=akimat.id, role=Role.MODERATOR),
        Membership(user=people["district_moderator"]["id"], organisation=district_akimat.id, role=Role.MODERATOR),
        Membership(user=people["region_moderator"]["id"], organisation=region_akimat.id, role=Role.MODERATOR),
    )
    return {"tag": tag, "city": city, "district": district, "other_district": other_district, "region": region,
            "region_district": region_district, "okrug": okrug, "akimat": akimat, "maslikhat": maslikhat,
            "district_akimat": district_akimat, "department": department, "region_akimat": region_akimat,
            "region_maslikhat": region_maslikhat, "aral_akimat": aral_akimat, "ngo": ngo, **people}


@pytest.fixture
def quiet_settings(settings):
    """Settings without the per-address and per-domain limits (the domain rules still apply)."""
    return settings.with_changes(rate_limits=False)


async def new_petition(settings, world, *, author: str = "author", organisation: str = "akimat",
                       territory: str = "district", **values) -> dict:
    from modules.petitions import services

    fields = {"title": f"Light the courtyards of the north district {world['tag']}",
              "ask": "Install street lamps in every courtyard of the north district this year.",
              "reasons": "Courtyards are dark in winter from five o'clock and people fall on the ice."}
    fields.update(values)
    return await services.submit(settings, world[author], organisation_id=world[organisation].id,
                                 territory_id=world[territory].id, **fields)


async def open_petition(settings, world, *, threshold: int | None = None, listing: int | None = None,
                        **values) -> dict:
    """A published petition (moderated by the city akimat's moderator), with rules changed
    beforehand when asked."""
    from modules.petitions import services
    from modules.petitions.tables import PetitionRule

    organisation = values.get("organisation", "akimat")
    if threshold is not None or listing is not None:
        await PetitionRule.delete().where(PetitionRule.organisation == world[organisation].id)
        await PetitionRule(organisation=world[organisation].id, signature_threshold=threshold,
                           listing_threshold=listing, prohibited_topics=[]).save()
    petition = await new_petition(settings, world, **values)
    moderator = world["admin"] if organisation not in ("akimat", "district_akimat", "department") else world["moderator"]
    await services.approve(settings, moderator, petition["id"])
    return await services.get_petition(petition["id"])
