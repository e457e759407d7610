"""Supports under load: the database enforces one per person and the count is changed
atomically, so concurrent supports never get lost or doubled (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx

from civic.accounts.services import create_api_token
from civic.accounts.tables import User
from civic.responses.tables import OfficialResponse
from modules.ideas import services
from civic.participation.tables import Support
from modules.ideas.tables import Idea, IdeaPolicy
from tests.modules.ideas.conftest import new_idea


async def many_people(count: int, tag: str) -> list[dict]:
    await User.insert(*[User(email=f"crowd-{tag}-{n}@example.kz", display_name=f"Resident {n}", password_hash=None,
                             language="kk", verification=1) for n in range(count)])
    return await User.select().where(User.email.like(f"crowd-{tag}-%")).order_by(User.id)


async def counts(idea_id: int) -> tuple[int, int]:
    stored = (await Idea.select(Idea.support_count).where(Idea.id == idea_id).first())["support_count"]
    return stored, await Support.count().where(Support.subject == f"ideas:{idea_id}")


async def test_200_people_supporting_at_once_give_exactly_200(quiet_settings, world):
    await IdeaPolicy(organisation=world["district_akimat"].id, moderation="post", support_threshold=150).save()
    idea_id = await new_idea(quiet_settings, world)
    people = await many_people(200, uuid.uuid4().hex[:8])

    results = await asyncio.gather(*(services.support(person, idea_id) for person in people))

    assert all(r.changed for r in results)
    assert await counts(idea_id) == (200, 200)
    assert sorted(r.support_count for r in results) == list(range(1, 201))  # every increment seen once
    # exactly one of them reached the threshold and opened exactly one official response
    assert sum(r.threshold_reached for r in results) == 1
    assert await OfficialResponse.count().where(OfficialResponse.subject == f"ideas:{idea_id}") == 1


async def test_one_person_double_submitting_gives_one(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    results = await asyncio.gather(*(services.support(world["neighbour"], idea_id) for _ in range(20)))
    assert sum(r.changed for r in results) == 1
    assert await counts(idea_id) == (1, 1)


async def test_supports_and_withdrawals_racing_keep_the_count_true(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    people = await many_people(60, uuid.uuid4().hex[:8])
    await asyncio.gather(*(services.support(p, idea_id) for p in people[:30]))
    random.seed(4)
    actions = []
    for person in people:
        actions.append(services.withdraw_support(person, idea_id) if random.random() < 0.5
                       else services.support(person, idea_id))
        actions.append(services.support(person, idea_id))
    random.shuffle(actions)
    await asyncio.gather(*actions)
    stored, rows = await counts(idea_id)
    assert stored == rows


async def test_concurrent_supports_over_the_api(app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    people = await many_people(20, uuid.uuid4().hex[:8])
    tokens = [await create_api_token(p["id"], "load") for p in people]
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        requests = [client.post(f"/api/v1/ideas/{idea_id}/support", headers={"authorization": f"Bearer {t}"})
                    for t in tokens for _ in range(2)]  # everyone submits twice
        responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["changed"] for r in responses) == 20
    assert await counts(idea_id) == (20, 20)
