"""The demo akimat: territories, organisations and people every module's demo builds on.

The data is in fixtures/core.yaml (read by civic.demo.data); each module's demo is in
fixtures/<module>.yaml, read through `fixture(name)` by the module's own small loader
(modules/<name>/demo.py, the manifest's `load_demo`), which resolves references by stable keys
with `territory_ids`, `organisation_ids`, `email` and relative times with `moment` / `day`.

`load_core_demo` is idempotent. Territories are found by `code`, organisations by `slug`,
people by `email` and memberships by (person, organisation, role); what exists is left exactly
as it is (an operator may have edited it), what is missing is created. Running it twice
creates nothing and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from civic.accounts.passwords import hash_password
from civic.accounts.tables import Membership, User
from civic.accounts.verification import Level
from civic.demo.data import (
    ALMATY_DISTRICTS,
    ARAL_OKRUGS,
    DEMO_EMAIL_DOMAIN,
    DEMO_ORGANISATIONS,
    DEMO_PASSWORD,
    DEMO_PEOPLE,
    DEMO_TERRITORIES,
    DemoOrganisation,
    DemoPerson,
    DemoTerritory,
)
from civic.db import write_transaction
from civic.demo.fixtures import day, days, days_ago, email, fixture, moment, offset
from civic.settings import Settings
from civic.territory.tables import Organisation, Territory

__all__ = [
    "ALMATY_DISTRICTS", "ARAL_OKRUGS", "DEMO_EMAIL_DOMAIN", "DEMO_ORGANISATIONS", "DEMO_PASSWORD", "DEMO_PEOPLE",
    "DEMO_TERRITORIES", "DemoOrganisation", "DemoPerson", "DemoTerritory", "day", "days", "days_ago",
    "demo_accounts_markdown", "email", "ensure_core_demo", "fixture", "load_core_demo", "moment", "offset",
    "organisation_ids", "territory_ids",
]

ROLE_LABELS = {
    "official": "Official",
    "moderator": "Moderator",
    "consultant": "Consultant",
    "council_member": "Council member",
    "expert": "Expert",
    "jury": "Jury",
    "mentor": "Mentor",
    "organiser": "Organiser",
    "administrator": "Administrator",
    "": "Citizen",
}


def _engine():
    from civic.runtime import current_engine

    try:
        return current_engine()
    except KeyError:  # not opened through civic.runtime: use whatever the tables are bound to
        return Territory._meta.db


async def _territories(created: dict) -> dict[str, int]:
    codes = [t.code for t in DEMO_TERRITORIES]
    ids = {row["code"]: row["id"] for row in
           await Territory.select(Territory.id, Territory.code).where(Territory.code.is_in(codes))}
    for t in DEMO_TERRITORIES:
        if t.code in ids:
            continue
        row = Territory(parent=ids[t.parent_code] if t.parent_code else None, kind=t.kind, code=t.code, path=t.path,
                        name_kk=t.name_kk, name_ru=t.name_ru, name_en=t.name_en, population=t.population)
        await row.save()
        ids[t.code] = row.id
        created["territories"] += 1
    return ids


async def _organisations(territory_ids: dict[str, int], created: dict) -> dict[str, int]:
    slugs = [o.slug for o in DEMO_ORGANISATIONS]
    ids = {row["slug"]: row["id"] for row in
           await Organisation.select(Organisation.id, Organisation.slug).where(Organisation.slug.is_in(slugs))}
    for o in DEMO_ORGANISATIONS:
        if o.slug in ids:
            continue
        row = Organisation(territory=territory_ids[o.territory], parent=ids[o.parent] if o.parent else None,
                           kind=o.kind, slug=o.slug, name_kk=o.name_kk, name_ru=o.name_ru, name_en=o.name_en,
                           description=o.description, is_public=o.is_public)
        await row.save()
        ids[o.slug] = row.id
        created["organisations"] += 1
    return ids


async def _existing_people() -> dict[str, int]:
    emails = [p.email for p in DEMO_PEOPLE]
    return {row["email"]: row["id"] for row in
            await User.select(User.id, User.email).where(User.email.is_in(emails))}


async def _people(settings: Settings, territory_ids: dict[str, int], organisation_ids: dict[str, int],
                  password_hash: str | None, created: dict) -> None:
    ids = await _existing_people()
    for p in DEMO_PEOPLE:
        if p.email in ids:
            continue
        if password_hash is None:  # someone deleted a demo person since we looked: hash now
            password_hash = hash_password(DEMO_PASSWORD, settings.password_hash_profile)
        verified = p.verification >= Level.VERIFIED_RESIDENT
        row = User(email=p.email, display_name=p.name, password_hash=password_hash, language=p.language,
                   residence=territory_ids[p.residence] if p.residence else None,
                   verification=int(p.verification),
                   verified_territory=territory_ids[p.residence] if verified and p.residence else None,
                   verified_by=p.verified_by if verified else "", oidc_subject=None, is_admin=p.is_admin)
        await row.save()
        ids[p.email] = row.id
        created["people"] += 1

    wanted = {(ids[p.email], organisation_ids[slug], role) for p in DEMO_PEOPLE for role, slug in p.memberships}
    have = {(m["user"], m["organisation"], m["role"]) for m in
            await Membership.select(Membership.user, Membership.organisation, Membership.role).where(
                Membership.user.is_in(list(ids.values())))}
    for user_id, organisation_id, role in sorted(wanted - have):
        await Membership(user=user_id, organisation=organisation_id, role=role).save()
        created["memberships"] += 1


async def load_core_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the demo territories, organisations and people; return how many of each were created.

    The result: {"territories": n, "organisations": n, "people": n, "memberships": n} counting
    rows created by this call (all zero on a second run), plus "totals": how many the demo defines."""

    def step(message: str) -> None:
        if progress:
            progress(message)

    created = {"territories": 0, "organisations": 0, "people": 0, "memberships": 0}

    # argon2 is slow on purpose: hash the one demo password once, and only when someone is
    # missing, before taking the write lock.
    password_hash = None
    if len(await _existing_people()) < len(DEMO_PEOPLE):
        step("Demo people: hashing the demo password…")
        password_hash = hash_password(DEMO_PASSWORD, settings.password_hash_profile)

    async with write_transaction(_engine()):
        step("Demo territories: Kazakhstan, Almaty, Kyzylorda and Aral, Mangystau…")
        territory_ids = await _territories(created)
        step("Demo organisations: akimats, departments, council, advice bureau…")
        organisation_ids = await _organisations(territory_ids, created)
        step("Demo people and their roles…")
        await _people(settings, territory_ids, organisation_ids, password_hash, created)

    step("Core demo: {territories} territories, {organisations} organisations, {people} people, "
         "{memberships} memberships created".format(**created))
    created["totals"] = {
        "territories": len(DEMO_TERRITORIES),
        "organisations": len(DEMO_ORGANISATIONS),
        "people": len(DEMO_PEOPLE),
        "memberships": sum(len(p.memberships) for p in DEMO_PEOPLE),
    }
    return created


async def ensure_core_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> None:
    """Load the core demo first when a module's demo is loaded on its own."""
    if not await Organisation.exists().where(Organisation.slug == DEMO_ORGANISATIONS[0].slug):
        await load_core_demo(settings, progress)


async def territory_ids() -> dict[str, int]:
    """Every territory's id by its code (the fixtures' key for a territory)."""
    return {r["code"]: r["id"] for r in await Territory.select(Territory.id, Territory.code)}


async def organisation_ids() -> dict[str, int]:
    """Every organisation's id by its slug (the fixtures' key for an organisation)."""
    return {r["slug"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.slug)}


def demo_accounts_markdown() -> str:
    """The demo accounts as a markdown table, with the shared password, for the README."""
    names = {o.slug: o.name_en for o in DEMO_ORGANISATIONS}
    levels = {0: "unconfirmed", 1: "e-mail confirmed", 2: "verified resident"}
    lines = [
        f"Every demo account signs in with the password `{DEMO_PASSWORD}`.",
        "",
        "| E-mail | Name | Role | Organisation | What they do | Language |",
        "|---|---|---|---|---|---|",
    ]
    for p in DEMO_PEOPLE:
        role = ROLE_LABELS[p.role]
        if p.is_admin:
            role += " (platform admin)"
        if not p.role:
            role += f" ({levels[int(p.verification)]})"
        extra = "".join(f"; {ROLE_LABELS[r].lower()}, {names[s]}" for r, s in p.also)
        organisation = (names[p.organisation] if p.organisation else "—") + extra
        lines.append(f"| `{p.email}` | {p.name} | {role} | {organisation} | {p.description} | {p.language} |")
    return "\n".join(lines) + "\n"
