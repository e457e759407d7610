"""The appeals API: filing with a token, reading one's own, the public status by number, the
e-Otinish export, and clear 4xx answers for everything wrong."""

from __future__ import annotations

import httpx
import pytest

from civic.accounts.services import create_api_token
from modules.appeals.tables import Appeal
from tests.modules.appeals.conftest import new_appeal


def _api(app, token: str | None = None) -> httpx.AsyncClient:
    import random

    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    headers = {"accept-language": "en"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver", headers=headers)


def _body(world, **changes) -> dict:
    body = {"kind": "request", "category": "transport", "title": "Bus 92 comes every forty minutes",
            "text": "In the mornings bus 92 is full and comes only every forty minutes.",
            "territory": world["district"].code, "publish_consent": True}
    body.update(changes)
    return body


async def test_vocabulary_is_public(app, world):
    async with _api(app) as client:
        response = await client.get("/api/v1/appeals/vocabulary")
    assert response.status_code == 200
    data = response.json()
    assert set(data["kinds"]) == {"request", "complaint", "proposal"} and "energy" in data["categories"]
    assert world["district"].code in {t["code"] for t in data["territories"]}


async def test_filing_reading_and_the_public_status(app, world):
    token = await create_api_token(world["citizen"]["id"], "test")
    async with _api(app, token) as client:
        filed = await client.post("/api/v1/appeals", json=_body(world))
        assert filed.status_code == 201, filed.text
        appeal = filed.json()
        assert appeal["channel"] == "api" and appeal["status"] == "open" and appeal["publish_consent"] is True
        assert filed.headers["location"] == f"/api/v1/appeals/{appeal['number']}"
        own = await client.get("/api/v1/appeals")
        assert [a["number"] for a in own.json()["appeals"]] == [appeal["number"]]
        one = await client.get(f"/api/v1/appeals/{appeal['number']}")
        assert one.status_code == 200 and one.json()["text"].startswith("In the mornings")
        again = await client.post("/api/v1/appeals", json=_body(world))
        assert again.status_code == 409 and again.json()["existing"] == appeal["number"]
    async with _api(app) as anonymous:
        status = await anonymous.get(f"/api/v1/appeals/{appeal['number'].lower()}/status")
        assert status.status_code == 200
        public = status.json()
        assert public["number"] == appeal["number"] and public["published"] is None
        assert "text" not in public and "title" not in public and world["citizen"]["email"] not in status.text
        assert (await anonymous.get("/api/v1/appeals/ALM-1990-000001/status")).status_code == 404
        assert (await anonymous.get("/api/v1/appeals/rubbish/status")).status_code == 404


@pytest.mark.parametrize("changes, field", [
    ({"kind": "wish"}, "kind"),
    ({"category": 5}, "category"),
    ({"title": ""}, "title"),
    ({"text": "short"}, "text"),
    ({"territory": "atlantis"}, "territory"),
    ({"publish_consent": "yes"}, "publish_consent"),
])
async def test_bad_input_answers_400_with_the_field(app, world, changes, field):
    token = await create_api_token(world["neighbour"]["id"], "test")
    before = await Appeal.count()
    async with _api(app, token) as client:
        response = await client.post("/api/v1/appeals", json=_body(world, **changes))
    assert response.status_code == 400 and response.json()["field"] == field and response.json()["detail"]
    assert await Appeal.count() == before


async def test_malformed_bodies_and_missing_tokens(app, world):
    token = await create_api_token(world["neighbour"]["id"], "test")
    async with _api(app, token) as client:
        for content in (b"not json", b"[1, 2]", b""):
            response = await client.post("/api/v1/appeals", content=content,
                                         headers={"content-type": "application/json"})
            assert response.status_code == 400, content
    async with _api(app) as anonymous:
        assert (await anonymous.post("/api/v1/appeals", json=_body(world))).status_code == 401
        assert (await anonymous.get("/api/v1/appeals")).status_code == 401
    async with _api(app, "not-a-token") as client:
        assert (await client.post("/api/v1/appeals", json=_body(world))).status_code == 401
    unconfirmed = await create_api_token(world["unconfirmed"]["id"], "test")
    async with _api(app, unconfirmed) as client:
        assert (await client.post("/api/v1/appeals", json=_body(world))).status_code == 403


async def test_only_the_applicant_and_the_staff_read_an_appeal(app, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    for key, expected in (("citizen", 200), ("energy_official", 200), ("stranger", 403), ("mobility_official", 403)):
        token = await create_api_token(world[key]["id"], "test")
        async with _api(app, token) as client:
            assert (await client.get(f"/api/v1/appeals/{appeal['number']}")).status_code == expected, key
            eotinish = await client.get(f"/api/v1/appeals/{appeal['number']}/eotinish")
            assert eotinish.status_code == (200 if key == "energy_official" else 403), key
    token = await create_api_token(world["citizen"]["id"], "test")
    async with _api(app, token) as client:
        assert (await client.get("/api/v1/appeals/ALM-1990-000001")).status_code == 404


async def test_filing_too_often_answers_429(app, settings, world):
    from modules.appeals import services

    token = await create_api_token(world["stranger"]["id"], "test")
    categories = list(services.CATEGORIES)
    async with _api(app, token) as client:
        statuses = []
        for n in range(services.APPEALS_PER_HOUR + 1):
            response = await client.post("/api/v1/appeals", json=_body(
                world, category=categories[n % len(categories)], title=f"Problem number {n} in the yard",
                text=f"A different problem, number {n}, in our yard needs attention."))
            statuses.append(response.status_code)
    assert statuses[:-1] == [201] * services.APPEALS_PER_HOUR and statuses[-1] == 429


async def test_the_api_is_in_the_openapi_schema(app):
    async with _api(app) as client:
        spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/appeals" in spec["paths"] and "/api/v1/appeals/{number}/status" in spec["paths"]
    described = spec["paths"]["/api/v1/appeals/{number}/eotinish"]["get"]["description"]
    assert "ashyq.appeal.eotinish/1" in described and "co_addressees" in described
