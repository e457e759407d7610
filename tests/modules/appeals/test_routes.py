"""The appeals and reception pages over HTTP, for every route and role, including refusals:
bad input answers 400 with a clear message and changes nothing; never a 500."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta

import httpx
import pytest

from civic.accounts.tables import AuditEntry
from modules.appeals import receptions, services
from modules.appeals.services import Upload
from modules.appeals.tables import Appeal, AppealParticipant, ReceptionBooking, ReceptionSlot, RoutingRule
from tests.modules.appeals.conftest import PASSWORD, TINY_PDF, TINY_PNG, new_appeal, new_slot
from tests.support.web import csrf_token, post_form, sign_in

ALMATY = receptions.ALMATY


def _client(app) -> httpx.AsyncClient:
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver", headers={"accept-language": "en"})


@pytest.fixture
async def people(app, world):
    """One signed-in client per person, opened on demand: ``await people("official")``."""
    opened: dict[str, httpx.AsyncClient] = {}

    async def get(key: str) -> httpx.AsyncClient:
        if key not in opened:
            client = _client(app)
            await client.__aenter__()
            await sign_in(client, world[key]["email"], PASSWORD)
            opened[key] = client
        return opened[key]

    yield get
    for client in opened.values():
        await client.__aexit__(None, None, None)


def _form(title: str = "No hot water in block 7", **changes) -> dict:
    data = {"kind": "complaint", "category": "energy", "title": title,
            "body": "There has been no hot water in block 7 for a week.", "territory": ""}
    data.update(changes)
    return data


async def _post_multipart(client, path: str, data: dict, files: dict | None = None) -> httpx.Response:
    data = {**data, "_csrf_token": await csrf_token(client)}
    return await client.post(path, data=data, files=files or {"attachment_1": ("", b"", "application/octet-stream")})


# --------------------------------------------------------------------------- the window and the status page


async def test_the_first_page_and_the_lookup(client, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    page = await client.get("/appeals")
    assert page.status_code == 200 and 'action="/appeals/lookup"' in page.text
    assert 'href="/auth/login?next=/appeals/new"' in page.text
    found = await client.get(f"/appeals/lookup?number={appeal['number'].lower()}")
    assert found.status_code == 303 and found.headers["location"] == f"/appeals/{appeal['number']}"
    bad = await client.get("/appeals/lookup?number=hello")
    assert bad.status_code == 400 and "An appeal number looks like ALM-2026-000123." in bad.text
    assert 'aria-invalid="true"' in bad.text
    unknown = await client.get("/appeals/lookup?number=ALM-1990-000001")
    assert unknown.status_code == 404 and "There is no appeal with this number." in unknown.text
    assert (await client.get("/appeals/lookup")).status_code == 400


async def test_the_public_status_page_shows_no_personal_data(client, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, body="I am Aliya from flat 12, phone +7 701 555 44 33. "
                                                          "No hot water for a week.",
                              attachments=[Upload("scan.pdf", TINY_PDF)])
    page = await client.get(f"/appeals/{appeal['number']}")
    assert page.status_code == 200
    assert appeal["number"] in page.text and world["energy"].name_en in page.text
    for private in (world["citizen"]["display_name"], world["citizen"]["email"], "+7 701 555 44 33", appeal["title"],
                    "flat 12", "scan.pdf", "/appeals/attachments/"):
        assert private not in page.text
    assert "Open the whole appeal" not in page.text
    assert (await client.get("/appeals/ALM-1990-000001")).status_code == 404
    assert (await client.get("/appeals/not-a-number")).status_code == 404


async def test_the_status_page_shows_what_was_published(client, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, publish_consent=True)
    await services.publish(world["energy_official"], appeal["id"], public_title="Hot water is off in a block",
                           public_body="No hot water for a week in one block.")
    page = await client.get(f"/appeals/{appeal['number']}")
    assert "Hot water is off in a block" in page.text and "Published without personal data" in page.text


# --------------------------------------------------------------------------- filing


async def test_anonymous_people_are_asked_to_sign_in(client, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    for path in ("/appeals/new", "/appeals/mine", f"/appeals/{appeal['number']}/full", "/appeals/staff",
                 "/appeals/staff/new", "/appeals/staff/routing", "/appeals/receptions/mine",
                 "/appeals/receptions/staff", "/appeals/attachments/1", "/appeals/receptions/1/visitors"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/auth/login"), path
    posted = await post_form(client, f"/appeals/{appeal['number']}/answer", {"answer": "x"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/auth/login")
    assert (await services.get_appeal_by_id(appeal["id"]))["status"] == "open"


async def test_a_citizen_files_an_appeal_with_attachments(people, world):
    client = await people("citizen")
    form = await client.get("/appeals/new")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert 'hx-get="/api/v1/search/similar"' in form.text
    response = await _post_multipart(client, "/appeals/new", _form(territory=str(world["district"].id),
                                                                    publish_consent="yes"),
                                     {"attachment_1": ("scan.pdf", TINY_PDF, "application/pdf"),
                                      "attachment_2": ("photo.png", TINY_PNG, "image/png")})
    assert response.status_code == 303, response.text[:2000]
    appeal = await Appeal.select().where(Appeal.citizen == world["citizen"]["id"]).first()
    assert response.headers["location"] == f"/appeals/{appeal['number']}/full"
    assert appeal["publish_consent"] and appeal["channel"] == "online"
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and appeal["number"] in page.text and "scan.pdf" in page.text
    assert "Your appeal is registered under number" in page.text
    mine = await client.get("/appeals/mine")
    assert appeal["number"] in mine.text


@pytest.mark.parametrize("changes, message", [
    ({"kind": ""}, "Choose whether this is a request, a complaint or a proposal."),
    ({"category": "weather"}, "Choose a category from the list."),
    ({"title": "abc"}, "Write a subject of 5 to 200 characters."),
    ({"body": "short"}, "Describe the problem in 10 to 10000 characters."),
    ({"territory": "not a number"}, "Choose the district or settlement the appeal is about."),
])
async def test_bad_input_re_renders_the_form_with_400_and_keeps_the_text(people, world, changes, message):
    client = await people("citizen")
    data = _form(**{"territory": str(world["district"].id), **changes})
    before = await Appeal.count()
    response = await _post_multipart(client, "/appeals/new", data)
    assert response.status_code == 400 and message in response.text
    assert 'aria-invalid="true"' in response.text
    if changes.get("title") != "abc":
        assert "No hot water in block 7" in response.text
    assert await Appeal.count() == before


async def test_a_bad_attachment_is_refused_with_400(people, world):
    client = await people("citizen")
    response = await _post_multipart(client, "/appeals/new", _form(territory=str(world["district"].id)),
                                     {"attachment_1": ("invoice.pdf", b"<html><script>alert(1)</script>", "application/pdf")})
    assert response.status_code == 400 and "is not a PDF, JPEG or PNG file" in response.text
    assert not await Appeal.exists().where(Appeal.citizen == world["citizen"]["id"])


async def test_filing_the_same_appeal_again_shows_the_open_one(people, quiet_settings, world):
    first = await new_appeal(quiet_settings, world, title="No hot water in block 7")
    client = await people("citizen")
    response = await _post_multipart(client, "/appeals/new", _form(territory=str(world["district"].id)))
    assert response.status_code == 409
    assert first["number"] in response.text and f'href="/appeals/{first["number"]}"' in response.text
    assert await Appeal.count().where(Appeal.citizen == world["citizen"]["id"]) == 1


async def test_unconfirmed_people_cannot_file_and_the_honeypot_drops_bots(people, world):
    unconfirmed = await people("unconfirmed")
    assert (await unconfirmed.get("/appeals/new")).status_code == 403
    client = await people("citizen")
    response = await _post_multipart(client, "/appeals/new", _form(territory=str(world["district"].id),
                                                                    website="http://spam.example"))
    assert response.status_code == 303 and response.headers["location"] == "/appeals"
    assert not await Appeal.exists().where(Appeal.citizen == world["citizen"]["id"])


# --------------------------------------------------------------------------- the full appeal and attachments


async def test_who_sees_the_whole_appeal_and_its_attachments(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, attachments=[Upload("scan.pdf", TINY_PDF)])
    attachment = (await services.attachments_of(appeal["id"]))[0]
    for key, allowed in (("citizen", True), ("energy_official", True), ("head", True), ("admin", True),
                         ("stranger", False), ("mobility_official", False), ("moderator", False)):
        client = await people(key)
        page = await client.get(f"/appeals/{appeal['number']}/full")
        assert page.status_code == (200 if allowed else 403), key
        file = await client.get(f"/appeals/attachments/{attachment['id']}")
        assert file.status_code == (200 if allowed else 403), key
        if allowed:
            assert file.content == TINY_PDF and file.headers["content-type"] == "application/pdf"
            assert file.headers["content-disposition"] == 'attachment; filename="scan.pdf"'
            assert file.headers["x-content-type-options"] == "nosniff"
            assert file.headers["cache-control"] == "private, no-store"
            assert "sandbox" in file.headers["content-security-policy"]
    citizen = await people("citizen")
    assert (await citizen.get("/appeals/attachments/999999999")).status_code == 404
    assert (await citizen.get("/appeals/ALM-1990-000001/full")).status_code == 404


async def test_staff_see_their_tools_and_the_citizen_does_not(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, publish_consent=True)
    staff_page = (await (await people("energy_official")).get(f"/appeals/{appeal['number']}/full")).text
    for tool in ("/answer", "/join", "/participants", "/publication", "/eotinish", f"/responses/{appeal['response']}"):
        assert f'{tool}"' in staff_page or tool in staff_page, tool
    citizen_page = (await (await people("citizen")).get(f"/appeals/{appeal['number']}/full")).text
    assert f'/appeals/{appeal["number"]}/consent"' in citizen_page
    for tool in ("/answer\"", "/join\"", "/publication\"", "/eotinish\""):
        assert tool not in citizen_page


# --------------------------------------------------------------------------- staff actions


async def test_answering_through_the_page(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    citizen = await people("citizen")
    refused = await post_form(citizen, f"/appeals/{appeal['number']}/answer", {"answer": "I answer myself"})
    assert refused.status_code == 403
    official = await people("energy_official")
    empty = await post_form(official, f"/appeals/{appeal['number']}/answer", {"answer": "  "})
    assert empty.status_code == 400 and "Write the answer." in empty.text
    done = await post_form(official, f"/appeals/{appeal['number']}/answer", {"answer": "Hot water is back."})
    assert done.status_code == 303 and done.headers["location"] == f"/appeals/{appeal['number']}/full#answer"
    assert (await services.get_appeal_by_id(appeal["id"]))["answer"] == "Hot water is back."
    again = await post_form(official, f"/appeals/{appeal['number']}/answer", {"answer": "Again"})
    assert again.status_code == 400 and "This appeal is answered already." in again.text
    citizen_page = await citizen.get(f"/appeals/{appeal['number']}/full")
    assert "Hot water is back." in citizen_page.text and f"/responses/{appeal['response']}#rate-heading" in citizen_page.text


async def test_joint_answer_over_http(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    lead = await people("energy_official")
    added = await post_form(lead, f"/appeals/{appeal['number']}/participants", {"organisation": str(world["mobility"].id)})
    assert added.status_code == 303
    assert (await post_form(lead, f"/appeals/{appeal['number']}/participants",
                            {"organisation": "nonsense"})).status_code == 400
    waiting = await post_form(lead, f"/appeals/{appeal['number']}/answer", {"answer": "Our part."})
    assert waiting.status_code == 400 and "waiting for the part of" in waiting.text
    mobility = await people("mobility_official")
    page = await mobility.get(f"/appeals/{appeal['number']}/full")
    assert page.status_code == 200 and "contribution" in page.text
    stranger = await people("stranger")
    assert (await post_form(stranger, f"/appeals/{appeal['number']}/contribution",
                            {"organisation": str(world["mobility"].id), "contribution": "x"})).status_code == 403
    assert (await post_form(mobility, f"/appeals/{appeal['number']}/contribution",
                            {"organisation": str(world["mobility"].id), "contribution": ""})).status_code == 400
    saved = await post_form(mobility, f"/appeals/{appeal['number']}/contribution",
                            {"organisation": str(world["mobility"].id), "contribution": "A new bus stop in May."})
    assert saved.status_code == 303
    done = await post_form(lead, f"/appeals/{appeal['number']}/answer", {"answer": "Our part."})
    assert done.status_code == 303
    answer = (await services.get_appeal_by_id(appeal["id"]))["answer"]
    assert "Our part." in answer and "A new bus stop in May." in answer


async def test_removing_a_participant_over_http(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    await services.add_participant(world["energy_official"], appeal["id"], world["mobility"].id)
    path = f"/appeals/{appeal['number']}/participants/{world['mobility'].id}/remove"
    assert (await post_form(await people("mobility_official"), path)).status_code == 403
    assert (await post_form(await people("energy_official"), path)).status_code == 303
    assert not await AppealParticipant.exists().where(AppealParticipant.appeal == appeal["id"])
    assert (await post_form(await people("energy_official"), path)).status_code == 400


async def test_joining_and_detaching_over_http(people, quiet_settings, world):
    primary = await new_appeal(quiet_settings, world)
    duplicate = await new_appeal(quiet_settings, world, "neighbour")
    official = await people("energy_official")
    page = await official.get(f"/appeals/{duplicate['number']}/full")
    assert primary["number"] in page.text  # the open appeal of the same category and place
    bad = await post_form(official, f"/appeals/{duplicate['number']}/join", {"primary": "nonsense"})
    assert bad.status_code == 400 and "There is no appeal with this number." in bad.text
    assert (await post_form(await people("mobility_official"), f"/appeals/{duplicate['number']}/join",
                            {"primary": primary["number"]})).status_code == 403
    joined = await post_form(official, f"/appeals/{duplicate['number']}/join", {"primary": primary["number"]})
    assert joined.status_code == 303
    status = await (await people("stranger")).get(f"/appeals/{duplicate['number']}")
    assert f"joined to {primary['number']}" in status.text
    detached = await post_form(official, f"/appeals/{duplicate['number']}/detach")
    assert detached.status_code == 303
    assert (await post_form(official, f"/appeals/{duplicate['number']}/detach")).status_code == 400


async def test_staff_list_shows_duplicates_under_their_appeal(people, quiet_settings, world):
    primary = await new_appeal(quiet_settings, world)
    duplicate = await new_appeal(quiet_settings, world, "neighbour")
    await services.join(world["energy_official"], duplicate["id"], primary["number"])
    official = await people("energy_official")
    page = await official.get("/appeals/staff")
    assert page.status_code == 200 and primary["number"] in page.text and duplicate["number"] in page.text
    assert "light-green" in page.text
    assert primary["number"] not in (await (await people("mobility_official")).get("/appeals/staff")).text
    assert primary["number"] in (await (await people("head")).get("/appeals/staff")).text  # the city's head
    for query in ("status_filter=done", "category=weather", "channel=pigeon"):
        assert (await official.get(f"/appeals/staff?{query}")).status_code == 400
    for query in ("status_filter=answered", "status_filter=", "category=energy", "channel=online"):
        assert (await official.get(f"/appeals/staff?{query}")).status_code == 200
    for key in ("citizen", "moderator"):
        assert (await (await people(key)).get("/appeals/staff")).status_code == 403


async def test_publication_over_http(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, publish_consent=True,
                              body="Phone +7 701 555 44 33. No hot water in block 7 for a week.")
    official = await people("energy_official")
    page = await official.get(f"/appeals/{appeal['number']}/full")
    assert "[…]" in page.text  # the draft already hides the phone number
    leaked = await post_form(official, f"/appeals/{appeal['number']}/publication", {
        "action": "publish", "public_title": "No hot water in block 7",
        "public_body": "Phone +7 701 555 44 33. No hot water."})
    assert leaked.status_code == 400 and "still contains personal data" in leaked.text
    assert (await post_form(await people("citizen"), f"/appeals/{appeal['number']}/publication", {
        "action": "publish", "public_title": "No hot water in block 7",
        "public_body": "No hot water in block 7."})).status_code == 403
    published = await post_form(official, f"/appeals/{appeal['number']}/publication", {
        "action": "publish", "public_title": "No hot water in block 7", "public_body": "No hot water in block 7."})
    assert published.status_code == 303
    assert (await services.get_appeal_by_id(appeal["id"]))["is_published"]
    withdrawn = await post_form(official, f"/appeals/{appeal['number']}/publication", {"action": "unpublish"})
    assert withdrawn.status_code == 303 and not (await services.get_appeal_by_id(appeal["id"]))["is_published"]


async def test_consent_over_http(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    assert (await post_form(await people("stranger"), f"/appeals/{appeal['number']}/consent",
                            {"publish_consent": "yes"})).status_code == 403
    saved = await post_form(await people("citizen"), f"/appeals/{appeal['number']}/consent", {"publish_consent": "yes"})
    assert saved.status_code == 303 and (await services.get_appeal_by_id(appeal["id"]))["publish_consent"]


async def test_eotinish_number_and_export_over_http(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    official = await people("energy_official")
    bad = await post_form(official, f"/appeals/{appeal['number']}/eotinish", {"eotinish_number": "<b>"})
    assert bad.status_code == 400 and "Enter the number e-Otinish gave" in bad.text
    assert (await post_form(await people("citizen"), f"/appeals/{appeal['number']}/eotinish",
                            {"eotinish_number": "ЖТ-1"})).status_code == 403
    saved = await post_form(official, f"/appeals/{appeal['number']}/eotinish", {"eotinish_number": "ЖТ-2026-777"})
    assert saved.status_code == 303
    exported = await official.get(f"/api/v1/appeals/{appeal['number']}/eotinish")
    assert exported.status_code == 200 and exported.json()["eotinish_number"] == "ЖТ-2026-777"
    assert exported.headers["content-disposition"] == f'attachment; filename="{appeal["number"]}.json"'
    assert await AuditEntry.exists().where((AuditEntry.action == "appeals.eotinish")
                                           & (AuditEntry.subject == f"appeals:{appeal['id']}"))
    for key in ("citizen", "mobility_official"):
        assert (await (await people(key)).get(f"/api/v1/appeals/{appeal['number']}/eotinish")).status_code == 403


# --------------------------------------------------------------------------- staff registration and routing


async def test_staff_register_a_phone_appeal(people, world):
    official = await people("official")
    form = await official.get("/appeals/staff/new")
    assert form.status_code == 200 and 'name="channel"' in form.text and 'name="applicant_name"' in form.text
    unknown = await _post_multipart(official, "/appeals/staff/new", _form(
        "Broken swings in the yard", category="courtyards", territory=str(world["district"].id), channel="phone",
        applicant_email="nobody@nowhere.kz"))
    assert unknown.status_code == 400 and "No account has this e-mail address." in unknown.text
    nameless = await _post_multipart(official, "/appeals/staff/new", _form(
        "Broken swings in the yard", category="courtyards", territory=str(world["district"].id), channel="phone"))
    assert nameless.status_code == 400 and "Write the applicant&#39;s name." in nameless.text
    bad_channel = await _post_multipart(official, "/appeals/staff/new", _form(
        "Broken swings in the yard", category="courtyards", territory=str(world["district"].id), channel="online",
        applicant_name="Aigul"))
    assert bad_channel.status_code == 400
    done = await _post_multipart(official, "/appeals/staff/new", _form(
        "Broken swings in the yard", category="courtyards", territory=str(world["district"].id), channel="letter",
        applicant_name="Aigul S.", applicant_contact="Abay 10-5"), {"attachment_1": ("letter.pdf", TINY_PDF,
                                                                                     "application/pdf")})
    assert done.status_code == 303
    appeal = await Appeal.select().where(Appeal.registered_by == world["official"]["id"]).first()
    assert appeal["channel"] == "letter" and appeal["applicant_name"] == "Aigul S."
    with_account = await _post_multipart(official, "/appeals/staff/new", _form(
        "A dangerous tree in the yard", category="courtyards", territory=str(world["district"].id), channel="phone",
        applicant_email=world["neighbour"]["email"].upper()))
    assert with_account.status_code == 303
    assert await Appeal.exists().where(Appeal.citizen == world["neighbour"]["id"])
    citizen = await people("citizen")
    assert (await citizen.get("/appeals/staff/new")).status_code == 403
    assert (await _post_multipart(citizen, "/appeals/staff/new", _form(
        "Broken swings in the yard", territory=str(world["district"].id), channel="phone",
        applicant_name="X"))).status_code == 403


async def test_routing_rules_page(people, world):
    head = await people("head")
    page = await head.get("/appeals/staff/routing")
    assert page.status_code == 200
    bad = await post_form(head, "/appeals/staff/routing", {"category": "weather", "territory": str(world["city"].id),
                                                           "organisation": str(world["mobility"].id)})
    assert bad.status_code == 400 and "Choose a category from the list." in bad.text
    saved = await post_form(head, "/appeals/staff/routing", {"category": "transport",
                                                             "territory": str(world["city"].id),
                                                             "organisation": str(world["mobility"].id)})
    assert saved.status_code == 303
    assert await RoutingRule.exists().where((RoutingRule.category == "transport")
                                            & (RoutingRule.territory == world["city"].id))
    official = await people("official")
    assert (await official.get("/appeals/staff/routing")).status_code == 403
    assert (await post_form(official, "/appeals/staff/routing", {"category": "transport",
                                                                 "territory": str(world["city"].id),
                                                                 "organisation": str(world["mobility"].id)})).status_code == 403


# --------------------------------------------------------------------------- analysis


async def test_analysis_page_and_csv(client, quiet_settings, world):
    await new_appeal(quiet_settings, world)
    page = await client.get(f"/appeals/analysis?months=3&district={world['district'].path}")
    assert page.status_code == 200
    assert 'role="img"' in page.text and "<svg" in page.text and "<table>" in page.text
    assert "Energy: heating, electricity, gas, water" in page.text and world["district"].name_en in page.text
    exported = await client.get(f"/appeals/analysis.csv?months=3&district={world['district'].path}")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows and rows[0]["category"] == "energy" and rows[0]["district"] == world["district"].path
    assert sum(int(r["appeals"]) for r in rows) == 1
    for query in ("months=7", "months=x", "category=weather", "district=/nowhere/", "organisation=nobody",
                  "channel=pigeon"):
        assert (await client.get(f"/appeals/analysis?{query}")).status_code == 400, query
        assert (await client.get(f"/appeals/analysis.csv?{query}")).status_code == 400, query


# --------------------------------------------------------------------------- receptions


async def test_schedule_and_slot_pages(client, world):
    slot = await new_slot(world)
    page = await client.get("/appeals/receptions")
    assert page.status_code == 200 and f"/appeals/receptions/{slot['id']}" in page.text
    filtered = await client.get(f"/appeals/receptions?host={world['district_akimat'].slug}&department={world['energy'].slug}")
    assert filtered.status_code == 200 and f"/appeals/receptions/{slot['id']}" in filtered.text
    assert (await client.get("/appeals/receptions?host=nowhere")).status_code == 400
    assert (await client.get("/appeals/receptions?department=nowhere")).status_code == 400
    detail = await client.get(f"/appeals/receptions/{slot['id']}")
    assert detail.status_code == 200 and "Sign in to book a place" in detail.text
    assert (await client.get("/appeals/receptions/999999999")).status_code == 404
    assert (await client.get("/appeals/receptions/dashboard")).status_code == 200


async def test_booking_and_cancelling_over_http(people, world):
    slot = await new_slot(world, capacity=1)
    citizen = await people("citizen")
    booked = await post_form(citizen, f"/appeals/receptions/{slot['id']}/book", {"question": "Cold radiators"})
    assert booked.status_code == 303 and booked.headers["location"] == "/appeals/receptions/mine"
    mine = await citizen.get("/appeals/receptions/mine")
    assert f"/appeals/receptions/{slot['id']}" in mine.text and "Your place is booked" in mine.text
    twice = await post_form(citizen, f"/appeals/receptions/{slot['id']}/book")
    assert twice.status_code == 400 and "You have already booked this reception." in twice.text
    full = await post_form(await people("neighbour"), f"/appeals/receptions/{slot['id']}/book")
    assert full.status_code == 400 and "fully booked" in full.text
    assert (await post_form(await people("unconfirmed"), f"/appeals/receptions/{slot['id']}/book")).status_code == 403
    assert (await post_form(citizen, "/appeals/receptions/999999999/book")).status_code == 404
    booking = await receptions.booking_of(world["citizen"]["id"], slot["id"])
    assert (await post_form(await people("neighbour"), f"/appeals/receptions/bookings/{booking['id']}/cancel")
            ).status_code == 404
    cancelled = await post_form(citizen, f"/appeals/receptions/bookings/{booking['id']}/cancel")
    assert cancelled.status_code == 303
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 0


async def test_publishing_and_cancelling_receptions_over_http(people, world):
    official = await people("energy_official")
    page = await official.get("/appeals/receptions/staff")
    assert page.status_code == 200 and 'name="weeks"' in page.text
    first = (services.almaty_today() + timedelta(days=2)).isoformat()
    values = {"organisation": str(world["energy"].id), "host": str(world["district_akimat"].id),
              "specialist": str(world["energy_official"]["id"]), "topics": "Heating and hot water",
              "place": "Room 104", "mode": "in_person", "first_day": first, "start_time": "10:00",
              "duration_minutes": "90", "capacity": "6", "weeks": "2"}
    before = await ReceptionSlot.count()
    for key, bad in (("first_day", "tomorrow"), ("start_time", "noon"), ("capacity", "many"), ("weeks", "20")):
        response = await post_form(official, "/appeals/receptions/staff", {**values, key: bad})
        assert response.status_code == 400, key
    assert await ReceptionSlot.count() == before
    published = await post_form(official, "/appeals/receptions/staff", values)
    assert published.status_code == 303
    assert await ReceptionSlot.count() == before + 2
    slot = await ReceptionSlot.select().where(ReceptionSlot.organisation == world["energy"].id).order_by(
        ReceptionSlot.id, ascending=False).first()
    assert (await post_form(await people("mobility_official"), f"/appeals/receptions/{slot['id']}/cancel",
                            {"reason": "No"})).status_code == 403
    assert (await post_form(official, f"/appeals/receptions/{slot['id']}/cancel", {"reason": ""})).status_code == 400
    assert (await post_form(official, f"/appeals/receptions/{slot['id']}/cancel",
                            {"reason": "The specialist is ill."})).status_code == 303
    citizen = await people("citizen")
    assert (await citizen.get("/appeals/receptions/staff")).status_code == 403
    assert (await post_form(citizen, "/appeals/receptions/staff", values)).status_code == 403


async def test_visitors_outcomes_and_walk_ins_over_http(people, world):
    slot = await new_slot(world, starts_at=datetime.now(ALMATY) - timedelta(minutes=30))
    booking = ReceptionBooking(slot=slot["id"], person=world["citizen"]["id"], status="booked", question="Cold")
    await booking.save()
    specialist = await people("energy_official")
    page = await specialist.get(f"/appeals/receptions/{slot['id']}/visitors")
    assert page.status_code == 200 and world["citizen"]["display_name"] in page.text
    for key in ("citizen", "mobility_official"):
        assert (await (await people(key)).get(f"/appeals/receptions/{slot['id']}/visitors")).status_code == 403
    assert (await post_form(await people("citizen"), f"/appeals/receptions/bookings/{booking.id}/outcome",
                            {"outcome": "advised"})).status_code == 403
    missing = await post_form(specialist, f"/appeals/receptions/bookings/{booking.id}/outcome",
                              {"outcome": "appeal_opened", "title": "Cold radiators"})
    assert missing.status_code == 400 and "Choose whether this is a request" in missing.text
    assert "Cold radiators" in missing.text  # what was typed stays
    opened = await post_form(specialist, f"/appeals/receptions/bookings/{booking.id}/outcome", {
        "outcome": "appeal_opened", "kind": "complaint", "category": "energy", "title": "Cold radiators in block 9",
        "body": "The radiators in block 9 are cold since October.", "territory": str(world["district"].id)})
    assert opened.status_code == 303
    appeal = await Appeal.select().where((Appeal.citizen == world["citizen"]["id"])
                                         & (Appeal.channel == "reception")).first()
    assert appeal is not None
    walk_in = await post_form(specialist, f"/appeals/receptions/{slot['id']}/walk-in",
                              {"visitor_name": "Marat", "outcome": "resolved", "note": "Explained"})
    assert walk_in.status_code == 303
    nameless = await post_form(specialist, f"/appeals/receptions/{slot['id']}/walk-in", {"outcome": "advised"})
    assert nameless.status_code == 400 and "Write the visitor&#39;s name." in nameless.text
    assert (await post_form(specialist, "/appeals/receptions/bookings/999999999/outcome",
                            {"outcome": "advised"})).status_code == 404
    after = await specialist.get(f"/appeals/receptions/{slot['id']}/visitors")
    assert appeal["number"] in after.text and "Marat" in after.text


async def test_the_citizens_reception_page_shows_the_online_link_only_when_booked(people, world):
    slot = await new_slot(world, mode="online")
    citizen = await people("citizen")
    assert "https://meet.example.kz/room" not in (await citizen.get(f"/appeals/receptions/{slot['id']}")).text
    await receptions.book(world["citizen"], slot["id"])
    assert "https://meet.example.kz/room" in (await citizen.get(f"/appeals/receptions/{slot['id']}")).text


async def test_unsafe_posts_need_the_csrf_token(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    official = await people("energy_official")
    response = await official.post(f"/appeals/{appeal['number']}/answer", data={"answer": "x"})
    assert response.status_code == 403
    assert (await services.get_appeal_by_id(appeal["id"]))["status"] == "open"


async def test_staff_see_similar_published_appeals_found_by_the_search(app, people, quiet_settings, world):
    from search.service import apply_pending

    tag = f"q{world['tag']}"  # not a word of anybody's name
    published = await new_appeal(quiet_settings, world, publish_consent=True, category="courtyards",
                                 title=f"Broken street lamps in courtyard {tag}",
                                 body=f"All street lamps in courtyard {tag} are broken since spring.")
    await services.publish(world["official"], published["id"], public_title=f"Broken street lamps in courtyard {tag}",
                           public_body=f"All street lamps in courtyard {tag} are broken since spring.")
    await apply_pending(app.state.search)
    other = await new_appeal(quiet_settings, world, "neighbour", category="courtyards",
                             territory_id=world["other_district"].id, title=f"Street lamps broken, courtyard {tag}",
                             body=f"The street lamps of courtyard {tag} do not work at night.")
    found = await services.similar_appeals(app.state.search, other)
    assert [a["number"] for a in found] == [published["number"]]
    head = await people("head")  # the city akimat's head handles the other district's appeals
    page = (await head.get(f"/appeals/{other['number']}/full")).text
    similar_part = page.split("found by the search")[1].split("of the same category")[0]
    assert published["number"] in similar_part and f"Broken street lamps in courtyard {tag}" in similar_part
    # an answer older than 30 days no longer offers itself
    await responses_answer_days_ago(published, world, 31)
    assert await services.similar_appeals(app.state.search, other) == []


async def responses_answer_days_ago(appeal: dict, world, days: int) -> None:
    from civic.responses import services as responses

    await responses.answer(appeal["response"], actor_id=world["official"]["id"], text="Repaired.", public=False,
                           today=services.almaty_today() - timedelta(days=days))


HUGE = str(10**20)


async def test_impossible_numbers_in_addresses_and_forms_are_not_found_or_refused(people, quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    official = await people("energy_official")
    for path in (f"/appeals/receptions/{HUGE}", f"/appeals/attachments/{HUGE}", f"/appeals/receptions/{HUGE}/visitors",
                 "/appeals/receptions/abc", "/appeals/%00", f"/appeals/{'A' * 500}"):
        assert (await official.get(path)).status_code in (400, 404), path
    for path, data in ((f"/appeals/receptions/{HUGE}/book", {}),
                       (f"/appeals/receptions/bookings/{HUGE}/cancel", {}),
                       (f"/appeals/receptions/bookings/{HUGE}/outcome", {"outcome": "advised"}),
                       (f"/appeals/receptions/{HUGE}/walk-in", {"visitor_name": "X", "outcome": "advised"}),
                       (f"/appeals/{appeal['number']}/participants/{HUGE}/remove", {})):
        assert (await post_form(official, path, data)).status_code in (400, 404), path
    for path, data in ((f"/appeals/{appeal['number']}/participants", {"organisation": HUGE}),
                       ("/appeals/receptions/staff", {"organisation": HUGE, "host": HUGE, "specialist": HUGE}),
                       ("/appeals/staff/new", {"territory": HUGE, "organisation": HUGE, "kind": "request",
                                               "category": "energy", "channel": "phone", "title": "Broken pipe here",
                                               "body": "A caller reports a broken pipe.", "applicant_name": "X"})):
        assert (await post_form(official, path, data)).status_code == 400, path
    admin = await people("admin")
    assert (await post_form(admin, "/appeals/staff/routing", {"category": "energy", "territory": HUGE,
                                                              "organisation": HUGE})).status_code == 400


async def test_deleting_an_account_erases_the_name_and_contact_kept_on_appeals_and_bookings(client, quiet_settings,
                                                                                          world):
    """The appeal stays with its number (the bodies keep their case); the person's name and
    contact on it, and on their reception bookings, go with the account."""
    from modules.appeals import receptions
    from modules.appeals.tables import Appeal, ReceptionBooking
    from tests.modules.appeals.conftest import new_slot
    from tests.support.web import make_user, unique_email

    person = await make_user(unique_email("leaving"), name="Dana Leaving")
    appeal = await services.file_appeal(
        quiet_settings, person, kind="request", category="housing", title=f"Roof leaks {world['tag']}",
        body="The roof of our block leaks into the stairwell.", territory_id=world["district"].id)
    await Appeal.update({Appeal.applicant_name: "Dana Leaving", Appeal.applicant_contact: "Abai 10, flat 5"}).where(
        Appeal.id == appeal["id"])
    slot = await new_slot(world)
    booking_id = await receptions.book(person, slot["id"])
    await ReceptionBooking.update({ReceptionBooking.visitor_name: "Dana Leaving"}).where(
        ReceptionBooking.id == booking_id)

    await sign_in(client, person["email"], PASSWORD)
    wrong = await post_form(client, "/account/delete", {"confirm": "yes", "password": "not my password"})
    assert wrong.status_code == 400
    assert (await Appeal.select(Appeal.applicant_contact).where(Appeal.id == appeal["id"]).first())[
        "applicant_contact"] == "Abai 10, flat 5"  # a refused deletion changes nothing
    deleted = await post_form(client, "/account/delete", {"confirm": "yes", "password": PASSWORD})
    assert deleted.status_code == 303

    row = await Appeal.select(Appeal.number, Appeal.applicant_name, Appeal.applicant_contact, Appeal.body).where(
        Appeal.id == appeal["id"]).first()
    assert row["number"] == appeal["number"] and row["body"].startswith("The roof")
    assert row["applicant_name"] == "" and row["applicant_contact"] == ""
    booking = await ReceptionBooking.select(ReceptionBooking.visitor_name).where(ReceptionBooking.id == booking_id).first()
    assert booking["visitor_name"] == ""
