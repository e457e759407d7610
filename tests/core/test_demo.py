"""The core demo akimat (civic.demo): idempotent, complete, and usable to sign in."""

from __future__ import annotations

from civic.accounts.roles import CORE_ROLES, RESERVED_ROLES
from civic.accounts.services import authenticate
from civic.accounts.tables import Membership, User
from civic.accounts.verification import Level
from civic.demo import (
    ALMATY_DISTRICTS,
    DEMO_ORGANISATIONS,
    DEMO_PASSWORD,
    DEMO_PEOPLE,
    DEMO_TERRITORIES,
    demo_accounts_markdown,
    load_core_demo,
)
from civic.modules import enabled_modules
from civic.territory.tables import Organisation, OrganisationKind, Territory, TerritoryKind

DEMO_EMAILS = [p.email for p in DEMO_PEOPLE]
DEMO_SLUGS = [o.slug for o in DEMO_ORGANISATIONS]
DEMO_CODES = [t.code for t in DEMO_TERRITORIES]


async def snapshot() -> dict:
    """Every demo row, in full, so a second load can be shown to change nothing."""
    users = await User.select().where(User.email.is_in(DEMO_EMAILS)).order_by(User.id)
    user_ids = [u["id"] for u in users]
    return {
        "territories": await Territory.select().where(Territory.code.is_in(DEMO_CODES)).order_by(Territory.id),
        "organisations": await Organisation.select().where(Organisation.slug.is_in(DEMO_SLUGS)).order_by(
            Organisation.id),
        "users": users,
        "memberships": await Membership.select().where(Membership.user.is_in(user_ids)).order_by(Membership.id),
    }


async def table_counts() -> dict:
    return {table.__name__: await table.count() for table in (Territory, Organisation, User, Membership)}


async def test_loading_twice_creates_and_changes_nothing(settings, database):
    steps: list[str] = []
    await load_core_demo(settings, progress=steps.append)
    assert steps, "progress is reported"
    before, counts_before = await snapshot(), await table_counts()

    again = await load_core_demo(settings)

    assert {k: again[k] for k in ("territories", "organisations", "people", "memberships")} == {
        "territories": 0, "organisations": 0, "people": 0, "memberships": 0}
    assert await table_counts() == counts_before
    assert await snapshot() == before
    assert len(before["territories"]) == len(DEMO_TERRITORIES) == again["totals"]["territories"]
    assert len(before["organisations"]) == len(DEMO_ORGANISATIONS) == again["totals"]["organisations"]
    assert len(before["users"]) == len(DEMO_PEOPLE) == again["totals"]["people"]
    assert len(before["memberships"]) == again["totals"]["memberships"]


async def test_a_missing_row_is_put_back(settings, database):
    await load_core_demo(settings)
    person = DEMO_PEOPLE[-1]
    await User.delete().where(User.email == person.email)
    result = await load_core_demo(settings)
    assert result["people"] == 1 and result["territories"] == 0 and result["organisations"] == 0
    assert await User.exists().where(User.email == person.email)


async def test_every_role_has_someone(settings, database):
    await load_core_demo(settings)
    roles = {row["role"] for row in await Membership.select(Membership.role).where(
        Membership.user.email.is_in(DEMO_EMAILS))}
    declared = {role.name for module in enabled_modules(settings) for role in module.roles}
    assert set(CORE_ROLES) | set(RESERVED_ROLES) | declared <= roles  # every known role (civic.accounts.roles)
    admin = await User.select().where(User.email == "admin@demo.ashyq.kz").first()
    assert admin["is_admin"] is True
    # plain citizens at every verification level; a verified resident has a verified territory
    citizens = await User.select().where(User.email.is_in([p.email for p in DEMO_PEOPLE if not p.role]))
    assert {c["verification"] for c in citizens} == {int(level) for level in Level}
    for citizen in citizens:
        assert citizen["residence"] is not None
        assert (citizen["verified_territory"] is not None) == (citizen["verification"] == Level.VERIFIED_RESIDENT)
    assert {u["language"] for u in await User.select(User.language).where(User.email.is_in(DEMO_EMAILS))} == {
        "kk", "ru", "en"}


async def test_almaty_has_exactly_its_eight_districts(settings, database):
    await load_core_demo(settings)
    almaty = await Territory.select().where(Territory.code == "almaty").first()
    assert almaty["kind"] == TerritoryKind.CITY and almaty["path"] == "/kz/almaty/"
    districts = await Territory.select().where(Territory.parent == almaty["id"]).order_by(Territory.code)
    assert [d["code"] for d in districts] == sorted(f"almaty.{slug}" for slug in ALMATY_DISTRICTS)
    assert all(d["kind"] == TerritoryKind.DISTRICT for d in districts)
    bostandyk = next(d for d in districts if d["code"] == "almaty.bostandyk")
    assert bostandyk["path"] == "/kz/almaty/bostandyk/"
    assert bostandyk["name_kk"] == "Бостандық ауданы" and bostandyk["name_ru"] == "Бостандыкский район"
    # Aral district's rural okrugs hang under it, found by path prefix
    okrugs = await Territory.select().where(Territory.path.like("/kz/kyzylorda/aral/%/"))
    assert len(okrugs) >= 8 and all(o["kind"] == TerritoryKind.RURAL_OKRUG for o in okrugs)


async def test_every_organisation_has_a_territory(settings, database):
    await load_core_demo(settings)
    rows = await Organisation.select(Organisation.slug, Organisation.kind, Organisation.parent,
                                     Organisation.territory.code.as_alias("territory_code"),
                                     Organisation.territory.kind.as_alias("territory_kind")).where(
        Organisation.slug.is_in(DEMO_SLUGS))
    assert len(rows) == len(DEMO_ORGANISATIONS)
    for row in rows:
        assert row["territory_code"], row["slug"]
        assert row["kind"] in OrganisationKind.ALL
    assert {row["kind"] for row in rows} == set(OrganisationKind.ALL)
    by_slug = {row["slug"]: row for row in rows}
    for slug in ALMATY_DISTRICTS:
        akimat = by_slug[f"almaty-{slug}-akimat"]
        assert akimat["territory_code"] == f"almaty.{slug}" and akimat["territory_kind"] == TerritoryKind.DISTRICT
    assert by_slug["aral-amanotkel-akimat"]["territory_kind"] == TerritoryKind.RURAL_OKRUG
    assert by_slug["mangystau-youth"]["territory_code"] == "mangystau"


async def test_a_demo_person_signs_in_with_the_demo_password(settings, database):
    await load_core_demo(settings)
    user = await authenticate(settings, "aigerim.official@demo.ashyq.kz", DEMO_PASSWORD)
    assert user is not None and user["display_name"] == "Айгерім Сәрсенбаева"
    assert await authenticate(settings, "admin@demo.ashyq.kz", DEMO_PASSWORD) is not None
    assert await authenticate(settings, "aigerim.official@demo.ashyq.kz", "not-the-password") is None


def test_accounts_table_lists_everyone():
    table = demo_accounts_markdown()
    assert DEMO_PASSWORD in table
    for person in DEMO_PEOPLE:
        assert f"`{person.email}`" in table
    assert table.count("\n| `") == len(DEMO_PEOPLE)


def test_fixtures_read_relative_times_and_references():
    from datetime import date, datetime, timedelta, timezone

    import pytest

    from civic.demo import day, days, days_ago, email, fixture, moment, offset

    assert offset("-12d") == timedelta(days=-12) and offset("+3d") == timedelta(days=3)
    assert offset("-2h") == timedelta(hours=-2) and offset("+30m") == timedelta(minutes=30) and offset(5) == timedelta(5)
    assert days("-1.5d") == -1.5 and days_ago("-120d") == 120 and isinstance(days_ago("-120d"), int)
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert moment("-1d", now) == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert day("+3d", date(2026, 3, 1)) == date(2026, 3, 4)
    with pytest.raises(ValueError):
        offset("yesterday")
    assert email("bolat.citizen") == "bolat.citizen@demo.ashyq.kz" == email("bolat.citizen@demo.ashyq.kz")
    # every fixture parses, and what it names by e-mail is a demo person or a generated resident
    known = {p.email for p in DEMO_PEOPLE}
    for name in ("ideas", "petitions", "appeals", "delphi"):
        assert isinstance(fixture(name), dict)
    for idea in fixture("ideas")["ideas"]:
        assert idea["author"].startswith("resident:") or email(idea["author"]) in known


def test_a_broken_reference_in_the_core_fixture_is_refused():
    import pytest

    from civic.demo.data import _organisations

    with pytest.raises(ValueError, match="unknown territory"):
        _organisations([{"slug": "x", "territory": "nowhere", "kind": "ngo", "name": {"kk": "", "ru": "", "en": ""},
                         "description": ""}], {"kz"})
