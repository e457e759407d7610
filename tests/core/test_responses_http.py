"""The staff inbox and the response page over HTTP, for every role, including refusals;
confirming residents in person; the audit log."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from civic.accounts.tables import AuditEntry, Membership, Role, User
from civic.notify.tables import Notification
from civic.responses import services
from civic.responses.tables import OfficialResponse
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, post_form, sign_in, unique_email

PASSWORD = "correct horse battery"


@pytest.fixture
async def world(database):
    """An akimat with an official and an administrator, another body, a citizen, a stranger."""
    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"c{tag}", path=f"/kz/c{tag}/", name_kk="Қала", name_ru="Город", name_en="City")
    await city.save()
    district = Territory(kind="district", code=f"d{tag}", path=f"/kz/c{tag}/d{tag}/", parent=city.id,
                         name_kk="Аудан", name_ru="Район", name_en="District")
    await district.save()
    elsewhere = Territory(kind="city", code=f"e{tag}", path=f"/kz/e{tag}/", name_kk="Басқа", name_ru="Другой",
                          name_en="Elsewhere")
    await elsewhere.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"akimat-{tag}", name_kk="Әкімдік",
                          name_ru="Акимат", name_en="Akimat")
    await akimat.save()
    other = Organisation(territory=city.id, kind="department", slug=f"dept-{tag}", name_kk="Басқарма",
                         name_ru="Управление", name_en="Department")
    await other.save()
    people = {}
    for key in ("official", "head", "citizen", "stranger", "moderator"):
        people[key] = await make_user(unique_email(key), name=f"{key.title()} {tag}")
    await Membership.insert(
        Membership(user=people["official"]["id"], organisation=akimat.id, role=Role.OFFICIAL),
        Membership(user=people["head"]["id"], organisation=akimat.id, role=Role.ADMINISTRATOR),
        Membership(user=people["moderator"]["id"], organisation=akimat.id, role=Role.MODERATOR),
    )
    response = await services.open_response(
        subject=f"test:{tag}", subject_kind="test.item", subject_title=f"Broken lift {tag}",
        subject_url=f"/test/{tag}", organisation_id=akimat.id, citizen_id=people["citizen"]["id"])
    return {"akimat": akimat, "other": other, "city": city, "district": district, "elsewhere": elsewhere,
            "response": response, "tag": tag, **people}


async def _as(client: httpx.AsyncClient, person: dict) -> httpx.AsyncClient:
    await sign_in(client, person["email"], PASSWORD)
    return client


async def test_inbox_shows_the_organisations_open_responses_with_a_light(client, world):
    await _as(client, world["official"])
    page = await client.get("/staff/inbox")
    assert page.status_code == 200
    assert f"Broken lift {world['tag']}" in page.text
    assert "light-green" in page.text
    assert 'href="/staff/residents"' in page.text


@pytest.mark.parametrize("who", ["citizen", "stranger", "moderator"])
async def test_inbox_is_refused_to_people_without_an_official_role(client, world, who):
    await _as(client, world[who])
    assert (await client.get("/staff/inbox")).status_code == 403


async def test_anonymous_inbox_asks_to_sign_in(client, world):
    response = await client.get("/staff/inbox")
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/login")


async def test_official_acknowledges_and_answers_citizen_rates(app, client, world):
    response_id = world["response"].id
    await _as(client, world["official"])
    detail = await client.get(f"/responses/{response_id}")
    assert detail.status_code == 200 and "/acknowledge" in detail.text

    result = await post_form(client, f"/responses/{response_id}/acknowledge",
                             {"specialist": str(world["official"]["id"])})
    assert result.status_code == 303
    row = await OfficialResponse.select().where(OfficialResponse.id == response_id).first()
    assert row["state"] == "acknowledged" and row["specialist"] == world["official"]["id"]
    told = await Notification.select().where(Notification.user == world["citizen"]["id"]).order_by(
        Notification.id, ascending=False).first()
    assert "Akimat" in told["title"] or "Әкімдік" in told["title"]

    empty = await post_form(client, f"/responses/{response_id}/answer", {"answer": "   ", "public": "yes"})
    assert empty.status_code == 303
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["state"] == "acknowledged"

    answered = await post_form(client, f"/responses/{response_id}/answer",
                               {"answer": "The lift will be repaired by **Friday**.", "public": "yes"})
    assert answered.status_code == 303
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["state"] == "answered"
    audit = await AuditEntry.select().where(AuditEntry.subject == f"responses:{response_id}")
    assert {"response.acknowledge", "response.answer"} <= {a["action"] for a in audit}

    citizen = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.1.2.3", 5)),
                                base_url="http://testserver")
    await _as(citizen, world["citizen"])
    page = await citizen.get(f"/responses/{response_id}")
    assert "<strong>Friday</strong>" in page.text and "/rate" in page.text
    bad = await post_form(citizen, f"/responses/{response_id}/rate", {"rating": "9", "solved": "yes"})
    assert bad.status_code == 303
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["rating"] is None
    rated = await post_form(citizen, f"/responses/{response_id}/rate", {"rating": "5", "solved": "yes"})
    assert rated.status_code == 303
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["rating"] == 5


@pytest.mark.parametrize("who", ["citizen", "stranger", "moderator"])
async def test_staff_actions_are_refused_to_others(client, world, who):
    response_id = world["response"].id
    await _as(client, world[who])
    for action, form in (("acknowledge", {"specialist": str(world[who]["id"])}),
                         ("answer", {"answer": "Done", "public": "yes"}),
                         ("forward", {"organisation": str(world["other"].id)}),
                         ("extend", {"new_due_on": "2030-01-01", "reason": "x"})):
        result = await post_form(client, f"/responses/{response_id}/{action}", form)
        assert result.status_code == 403, action
    row = await OfficialResponse.select().where(OfficialResponse.id == response_id).first()
    assert row["state"] == "received" and row["answer"] in (None, "")


async def test_only_the_citizen_may_rate(client, world):
    response_id = world["response"].id
    await services.answer(response_id, actor_id=world["official"]["id"], text="Answer", public=True)
    await _as(client, world["stranger"])
    await post_form(client, f"/responses/{response_id}/rate", {"rating": "1", "solved": "no"})
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["rating"] is None


async def test_private_response_is_hidden_from_the_public(client, world):
    private = await services.open_response(
        subject=f"private:{world['tag']}", subject_kind="test.private", subject_title="Private matter",
        subject_url="/x", organisation_id=world["akimat"].id, citizen_id=world["citizen"]["id"],
        subject_is_public=False)
    assert (await client.get(f"/responses/{private.id}")).status_code == 404
    await _as(client, world["stranger"])
    assert (await client.get(f"/responses/{private.id}")).status_code == 404
    assert (await client.get("/responses/999999999")).status_code == 404


async def test_extend_through_the_form(client, world):
    response_id = world["response"].id
    await _as(client, world["official"])
    bad_date = await post_form(client, f"/responses/{response_id}/extend", {"new_due_on": "soon", "reason": "x"})
    assert bad_date.status_code == 303
    row = await OfficialResponse.select().where(OfficialResponse.id == response_id).first()
    assert row["extended_until"] is None
    new_due = row["due_on"] + timedelta(days=20)
    ok = await post_form(client, f"/responses/{response_id}/extend",
                         {"new_due_on": new_due.isoformat(), "reason": "An inspection of the building is needed."})
    assert ok.status_code == 303
    row = await OfficialResponse.select().where(OfficialResponse.id == response_id).first()
    assert row["extended_until"] == new_due
    second = await post_form(client, f"/responses/{response_id}/extend",
                             {"new_due_on": (new_due + timedelta(days=5)).isoformat(), "reason": "Again"})
    assert second.status_code == 303
    assert (await OfficialResponse.select().where(OfficialResponse.id == response_id).first())["extended_until"] == new_due


async def test_forward_through_the_form(client, world):
    response_id = world["response"].id
    await _as(client, world["official"])
    forwarded = await post_form(client, f"/responses/{response_id}/forward",
                                {"organisation": str(world["other"].id), "note": "Lifts are housing's matter"})
    assert forwarded.status_code == 303
    row = await OfficialResponse.select().where(OfficialResponse.id == response_id).first()
    assert row["organisation"] == world["other"].id and row["forward_count"] == 1
    # the first body's official can no longer act on it
    again = await post_form(client, f"/responses/{response_id}/answer", {"answer": "x", "public": "yes"})
    assert again.status_code == 403


async def test_official_confirms_a_resident_in_their_territory_only(client, world):
    await _as(client, world["official"])
    form = await client.get("/staff/residents")
    assert form.status_code == 200 and "Elsewhere" not in form.text
    unticked = await post_form(client, "/staff/residents", {"email": world["citizen"]["email"],
                                                             "territory": str(world["district"].id)})
    assert unticked.status_code == 400
    outside = await post_form(client, "/staff/residents", {"email": world["citizen"]["email"], "document_seen": "yes",
                                                            "territory": str(world["elsewhere"].id)})
    assert outside.status_code == 400
    unknown = await post_form(client, "/staff/residents", {"email": unique_email("ghost"), "document_seen": "yes",
                                                            "territory": str(world["district"].id)})
    assert unknown.status_code == 400
    assert (await User.select().where(User.id == world["citizen"]["id"]).first())["verification"] == 1

    done = await post_form(client, "/staff/residents", {"email": world["citizen"]["email"], "document_seen": "yes",
                                                         "territory": str(world["district"].id)})
    assert done.status_code == 303
    row = await User.select().where(User.id == world["citizen"]["id"]).first()
    assert (row["verification"], row["verified_territory"], row["verified_by"]) == (2, world["district"].id, "official")
    assert await AuditEntry.exists().where((AuditEntry.action == "accounts.verify_resident")
                                           & (AuditEntry.actor == world["official"]["id"]))


@pytest.mark.parametrize("who", ["citizen", "moderator"])
async def test_residents_page_is_refused_without_an_official_role(client, world, who):
    await _as(client, world[who])
    assert (await client.get("/staff/residents")).status_code == 403
    result = await post_form(client, "/staff/residents", {"email": world["stranger"]["email"], "document_seen": "yes",
                                                           "territory": str(world["district"].id)})
    assert result.status_code == 403
    assert (await User.select().where(User.id == world["stranger"]["id"]).first())["verification"] == 1


async def test_audit_log_for_the_organisations_administrator(client, world):
    await services.acknowledge(world["response"].id, actor_id=world["official"]["id"],
                               specialist_id=world["official"]["id"])
    await _as(client, world["head"])
    page = await client.get("/staff/audit")
    assert page.status_code == 200 and "response.acknowledge" in page.text


@pytest.mark.parametrize("who", ["official", "citizen"])
async def test_audit_log_is_refused_to_others(client, world, who):
    await _as(client, world[who])
    assert (await client.get("/staff/audit")).status_code == 403


async def test_organisation_page_shows_answer_figures(client, world):
    await services.answer(world["response"].id, actor_id=world["official"]["id"], text="Done", public=True)
    page = await client.get(f"/organisations/{world['akimat'].slug}")
    assert page.status_code == 200
    assert "100" in page.text  # answered on time: 100 %
    assert (await client.get("/organisations/no-such-body")).status_code == 404
