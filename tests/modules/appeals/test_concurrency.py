"""Under concurrent requests the database keeps the rules (run on SQLite and PostgreSQL):
appeal numbers are never given twice and have no gaps, a reception is never booked beyond its
capacity, one person gets one place, and identical appeals sent at once are filed once."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx

from civic.accounts.services import create_api_token
from civic.accounts.tables import User
from modules.appeals import receptions, services
from civic.rules import RuleError
from modules.appeals.services import RefilingBlocked
from modules.appeals.tables import Appeal, ReceptionBooking
from tests.modules.appeals.conftest import new_slot


async def many_people(count: int, tag: str) -> list[dict]:
    await User.insert(*[User(email=f"appeals-crowd-{tag}-{n}@example.kz", display_name=f"Resident {n}",
                             password_hash=None, language="kk", verification=1) for n in range(count)])
    return await User.select().where(User.email.like(f"appeals-crowd-{tag}-%")).order_by(User.id)


def _sequence(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def test_concurrent_filings_get_distinct_gapless_numbers(quiet_settings, world):
    people = await many_people(40, uuid.uuid4().hex[:8])

    async def file(person):
        return await services.file_appeal(
            quiet_settings, person, kind="complaint", category="energy", title="No hot water in block 7",
            body="There has been no hot water in block 7 for a week.", territory_id=world["district"].id)

    appeals = await asyncio.gather(*(file(p) for p in people))
    numbers = [a["number"] for a in appeals]
    assert len(set(numbers)) == 40
    prefix = {n.rsplit("-", 1)[0] for n in numbers}
    assert len(prefix) == 1
    sequences = sorted(_sequence(n) for n in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 40))  # no number lost or given twice
    assert await Appeal.count().where(Appeal.number.is_in(numbers)) == 40


async def test_concurrent_filings_over_the_api(app, world):
    people = await many_people(15, uuid.uuid4().hex[:8])
    tokens = [await create_api_token(p["id"], "load") for p in people]
    transport = httpx.ASGITransport(app=app, client=("10.8.8.8", 1))
    body = {"kind": "request", "category": "transport", "title": "Bus 92 comes every forty minutes",
            "text": "In the mornings bus 92 is full and comes only every forty minutes.",
            "territory": world["district"].code}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(*(client.post("/api/v1/appeals", json=body,
                                                       headers={"authorization": f"Bearer {t}"})
                                           for t in tokens for _ in range(2)))  # everyone sends twice at once
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 15 + [409] * 15  # the second copy is the same appeal within 15 days
    numbers = [r.json()["number"] for r in responses if r.status_code == 201]
    assert len(set(numbers)) == 15


async def test_the_same_appeal_sent_twice_at_once_is_filed_once(quiet_settings, world):
    async def file():
        return await services.file_appeal(
            quiet_settings, world["citizen"], kind="complaint", category="energy", title="No hot water in block 7",
            body="There has been no hot water in block 7 for a week.", territory_id=world["district"].id)

    results = await asyncio.gather(*(file() for _ in range(6)), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(isinstance(r, RefilingBlocked) for r in results if not isinstance(r, dict))


async def test_concurrent_bookings_never_exceed_the_capacity(world):
    slot = await new_slot(world, capacity=7)
    people = await many_people(40, uuid.uuid4().hex[:8])
    results = await asyncio.gather(*(receptions.book(p, slot["id"]) for p in people), return_exceptions=True)
    booked = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, RuleError)]
    assert len(booked) == 7 and len(refused) == 33
    assert all("fully booked" in r.msgid for r in refused)
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 7
    assert await ReceptionBooking.count().where((ReceptionBooking.slot == slot["id"])
                                                & (ReceptionBooking.status == "booked")) == 7


async def test_one_person_booking_many_times_at_once_gets_one_place(world):
    slot = await new_slot(world, capacity=10)
    results = await asyncio.gather(*(receptions.book(world["citizen"], slot["id"]) for _ in range(10)),
                                   return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, RuleError) for r in results if not isinstance(r, int))
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 1


async def test_bookings_and_cancellations_racing_keep_the_count_true(world):
    slot = await new_slot(world, capacity=12)
    people = await many_people(24, uuid.uuid4().hex[:8])
    first = await asyncio.gather(*(receptions.book(p, slot["id"]) for p in people[:10]), return_exceptions=True)
    bookings = {p["id"]: b for p, b in zip(people[:10], first) if isinstance(b, int)}
    random.seed(5)
    actions = [receptions.cancel_booking(p, bookings[p["id"]]) for p in people[:10] if random.random() < 0.5]
    actions += [receptions.book(p, slot["id"]) for p in people[10:]]
    random.shuffle(actions)
    await asyncio.gather(*actions, return_exceptions=True)
    stored = (await receptions.get_slot(slot["id"]))["booked_count"]
    rows = await ReceptionBooking.count().where((ReceptionBooking.slot == slot["id"])
                                                & (ReceptionBooking.status == "booked"))
    assert stored == rows <= 12


async def test_concurrent_bookings_over_http(app, world):
    slot = await new_slot(world, capacity=5)
    people = await many_people(20, uuid.uuid4().hex[:8])
    from tests.support.web import sign_in

    clients = []
    for n, person in enumerate(people):
        await User.update({User.password_hash: (await _hash())}).where(User.id == person["id"])
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.7.{n}.1", 1)),
                                   base_url="http://testserver", headers={"accept-language": "en"})
        await sign_in(client, person["email"], "correct horse battery")
        clients.append(client)
    try:
        from tests.support.web import post_form

        responses = await asyncio.gather(*(post_form(c, f"/appeals/receptions/{slot['id']}/book") for c in clients))
    finally:
        for client in clients:
            await client.aclose()
    assert sorted(r.status_code for r in responses) == [303] * 5 + [400] * 15
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 5


async def _hash() -> str:
    from civic.accounts.passwords import hash_password

    return hash_password("correct horse battery", "cheapest")
