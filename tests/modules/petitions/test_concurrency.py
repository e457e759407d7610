"""Signing under load: the database enforces one signature per person, the group-commit writer
changes the count by exactly the rows it inserts, so concurrent signatures are never lost or
doubled (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx

from civic.accounts.services import create_api_token
from civic.responses.tables import OfficialResponse
from civic.rules import NotFound
from modules.petitions import services
from modules.petitions.tables import Petition, Signature
from tests.modules.petitions.conftest import crowd, open_petition


async def counts(petition_id: int) -> tuple[int, int]:
    stored = (await Petition.select(Petition.signature_count).where(Petition.id == petition_id).first())[
        "signature_count"]
    return stored, await Signature.count().where((Signature.petition == petition_id) & (Signature.valid == True))  # noqa: E712


async def test_500_people_signing_at_once_give_exactly_500(quiet_settings, world):
    petition = await open_petition(quiet_settings, world, threshold=400, listing=50)
    people = await crowd(500, uuid.uuid4().hex[:8], residence=world["district"].id)

    results = await asyncio.gather(*(services.sign(quiet_settings, p, petition["id"]) for p in people))

    assert all(r.changed for r in results)
    assert await counts(petition["id"]) == (500, 500)
    assert max(r.signature_count for r in results) == 500
    # the marks were crossed once each: listed once, one official response
    assert sum(r.listed for r in results) == 1
    assert sum(r.threshold_reached for r in results) == 1
    assert await OfficialResponse.count().where(OfficialResponse.subject == f"petitions:{petition['id']}") == 1
    districts = await services.counts_by_district(petition["id"])
    assert districts == [{**districts[0], "district": world["district"].id, "signatures": 500}]


async def test_one_person_submitting_twenty_times_at_once_signs_once(quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    results = await asyncio.gather(*(services.sign(quiet_settings, world["signer"], petition["id"])
                                     for _ in range(20)))
    assert sum(r.changed for r in results) == 1
    assert all(r.signed for r in results)
    assert await counts(petition["id"]) == (1, 1)


async def test_signatures_and_withdrawals_racing_keep_the_count_true(quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    people = await crowd(80, uuid.uuid4().hex[:8])
    await asyncio.gather(*(services.sign(quiet_settings, p, petition["id"]) for p in people[:40]))
    random.seed(5)
    actions = []
    for person in people:
        actions.append(services.withdraw(person, petition["id"]) if random.random() < 0.5
                       else services.sign(quiet_settings, person, petition["id"]))
        actions.append(services.sign(quiet_settings, person, petition["id"]))
    random.shuffle(actions)
    await asyncio.gather(*actions)
    stored, rows = await counts(petition["id"])
    assert stored == rows


async def test_signing_several_petitions_at_once(quiet_settings, world):
    first = await open_petition(quiet_settings, world)
    second = await open_petition(quiet_settings, world, title=f"A second petition at the same time {world['tag']}")
    people = await crowd(150, uuid.uuid4().hex[:8])
    await asyncio.gather(*(services.sign(quiet_settings, p, petition["id"])
                           for p in people for petition in (first, second)))
    assert await counts(first["id"]) == (150, 150)
    assert await counts(second["id"]) == (150, 150)


async def test_a_refused_signature_does_not_fail_the_others_in_its_batch(quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    people = await crowd(30, uuid.uuid4().hex[:8])
    calls = [services.sign(quiet_settings, p, petition["id"]) for p in people]
    calls.append(services.sign(quiet_settings, people[0], 10**9))  # no such petition
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[-1], NotFound)
    assert all(isinstance(r, services.SignResult) and r.changed for r in results[:-1])
    assert await counts(petition["id"]) == (30, 30)


async def test_concurrent_signatures_over_the_api(app, quiet_settings, world, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(services, "LIMITS", replace(services.LIMITS, address_per_hour=1000))  # one test address
    petition = await open_petition(quiet_settings, world)
    people = await crowd(40, uuid.uuid4().hex[:8])
    tokens = [await create_api_token(p["id"], "load") for p in people]
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        requests = [client.post(f"/api/v1/petitions/{petition['key']}/sign", headers={"authorization": f"Bearer {t}"})
                    for t in tokens for _ in range(2)]  # everyone submits twice
        answers = await asyncio.gather(*requests)
    assert {a.status_code for a in answers} == {200}, {a.status_code: a.text for a in answers}
    assert sum(a.json()["changed"] for a in answers) == 40
    assert await counts(petition["id"]) == (40, 40)
