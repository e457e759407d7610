"""The petition pages, fragments, exports and API over HTTP, for every role, including refusals:
bad input is a clear 400 that changes nothing, never a 500."""

from __future__ import annotations

import csv
import html
import io
import json
import random
from datetime import timedelta

import httpx
import pytest

from civic.accounts.services import create_api_token
from civic.accounts.tables import AuditEntry
from modules.petitions import services
from modules.petitions.tables import Invalidation, Petition, PetitionRule, Signature
from tests.modules.petitions.conftest import PASSWORD, crowd, new_petition, open_petition
from tests.support.web import csrf_token, post_form, sign_in

HTMX = {"hx-request": "true"}


def _client(app) -> httpx.AsyncClient:
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver", headers={"accept-language": "en"})


async def as_(client: httpx.AsyncClient, person: dict) -> httpx.AsyncClient:
    await sign_in(client, person["email"], PASSWORD)
    return client


async def petition_row(petition_id: int) -> dict:
    return await Petition.select().where(Petition.id == petition_id).first()


# --------------------------------------------------------------------------- lists


async def test_the_list_shows_listed_petitions_and_htmx_gets_just_the_results(client, quiet_settings, world):
    listed = await open_petition(quiet_settings, world, listing=0)
    hidden = await open_petition(quiet_settings, world, listing=50, title=f"Only by its link {world['tag']} here")
    page = await client.get(f"/petitions?addressee={world['akimat'].slug}")
    assert page.status_code == 200 and "<h1>" in page.text
    assert f'href="/petitions/{listed["key"]}"' in page.text
    assert hidden["key"] not in page.text
    assert 'hx-push-url="true"' in page.text and 'aria-current="page"' in page.text
    fragment = await client.get(f"/petitions?addressee={world['akimat'].slug}&sort=newest", headers=HTMX)
    assert fragment.status_code == 200 and "<h1>" not in fragment.text and listed["key"] in fragment.text
    for sort in services.SORTS:
        assert (await client.get(f"/petitions?sort={sort}")).status_code == 200
    for status in services.LIST_STATUSES:
        assert (await client.get(f"/petitions?status={status}")).status_code == 200
    assert listed["key"] in (await client.get(f"/petitions?territory={world['city'].code}")).text


@pytest.mark.parametrize("query, message", [
    ("sort=random", "Choose an order from the list."),
    ("status=finished", "Choose a status from the list."),
    ("addressee=nobody", "Choose an addressee from the list."),
    ("territory=nowhere", "Choose a territory from the list."),
])
async def test_bad_list_filters_are_a_clear_400(client, world, query, message):
    response = await client.get(f"/petitions?{query}")
    assert response.status_code == 400 and message in response.text


async def test_a_bad_page_number_is_a_400_not_a_500(client, world):
    response = await client.get("/petitions?page_number=abc")
    assert response.status_code == 400 and "Traceback" not in response.text


# --------------------------------------------------------------------------- the petition page


async def test_a_link_only_petition_opens_by_its_link_and_is_not_indexed(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    page = await client.get(f"/petitions/{petition['key']}")
    assert page.status_code == 200 and petition["title"] in page.text
    assert page.headers.get("x-robots-tag") == "noindex"
    assert "reachable only by its link until 50 people sign it" in page.text
    assert "Sign in to sign this petition" in page.text
    assert 'role="img"' in page.text or "No signatures yet." in page.text
    assert (await client.get(f"/petitions/{petition['key']}x")).status_code == 404
    assert (await client.get("/petitions/nothing-here")).status_code == 404


async def test_a_petition_waiting_for_moderation_is_seen_by_its_author_and_moderators_only(app, client, settings, world):
    petition = await new_petition(settings, world)
    url = f"/petitions/{petition['key']}"
    assert (await client.get(url)).status_code == 404
    for who, status in (("stranger", 404), ("author", 200), ("moderator", 200), ("district_moderator", 404)):
        async with _client(app) as other:
            await as_(other, world[who])
            response = await other.get(url)
            assert response.status_code == status, who
            if who == "moderator":
                assert "Publish: open for signatures" in response.text and "Do not publish" in response.text
            if who == "author":
                assert "waits for moderation" in response.text and "Publish: open" not in response.text


async def test_signing_without_javascript(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world, listing=1)
    await as_(client, world["signer"])
    page = await client.get(f"/petitions/{petition['key']}")
    assert 'action="/petitions/%s/sign"' % petition["key"] in page.text and "Do not show my name" in page.text
    response = await post_form(client, f"/petitions/{petition['key']}/sign", {"hide_name": "on"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/petitions/{petition['key']}?done=signed#signing"
    after = await client.get(response.headers["location"].split("#")[0])
    assert "Thank you! Your signature is counted." in after.text and "You signed this petition" in after.text
    assert "Your name is not shown publicly." in after.text
    assert "1 of 2,500 signatures" in after.text
    signature = await Signature.select().where(Signature.petition == petition["id"]).first()
    assert signature["show_name"] is False
    # signing again changes nothing and says nothing
    again = await post_form(client, f"/petitions/{petition['key']}/sign")
    assert again.status_code == 303 and "done=" not in again.headers["location"]
    withdrawn = await post_form(client, f"/petitions/{petition['key']}/withdraw")
    assert withdrawn.status_code == 303 and "done=withdrawn" in withdrawn.headers["location"]
    assert (await petition_row(petition["id"]))["signature_count"] == 0


async def test_signing_with_htmx_swaps_the_signing_block(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    await as_(client, world["signer"])
    await client.get(f"/petitions/{petition['key']}")
    response = await client.post(f"/petitions/{petition['key']}/sign",
                                 headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert response.status_code == 200 and "<h1" not in response.text
    assert "Thank you! Your signature is counted." in response.text and "Withdraw my signature" in response.text
    withdrawn = await client.post(f"/petitions/{petition['key']}/withdraw",
                                  headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert withdrawn.status_code == 200 and "Your signature is withdrawn." in withdrawn.text
    assert "Sign this petition" in withdrawn.text


async def test_signing_refusals(app, client, settings, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    anonymous = await post_form(client, f"/petitions/{petition['key']}/sign")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/login")
    async with _client(app) as unconfirmed:
        await as_(unconfirmed, world["unconfirmed"])
        assert (await post_form(unconfirmed, f"/petitions/{petition['key']}/sign")).status_code == 403
    await as_(client, world["signer"])
    no_csrf = await client.post(f"/petitions/{petition['key']}/sign")
    assert no_csrf.status_code == 403
    assert (await post_form(client, "/petitions/unknownkey1/sign")).status_code == 404
    # a petition that needs verified residents
    await PetitionRule(organisation=world["maslikhat"].id, signing_level=2, prohibited_topics=[]).save()
    strict = await new_petition(settings, world, author="resident", organisation="maslikhat", territory="city")
    await services.approve(settings, world["admin"], strict["id"])
    page = await client.get(f"/petitions/{strict['key']}")
    assert "To sign this petition you need a verified resident" in page.text
    refused = await post_form(client, f"/petitions/{strict['key']}/sign")
    assert refused.status_code == 403 and "can be signed only with a verified resident" in refused.text
    fragment = await client.post(f"/petitions/{strict['key']}/sign",
                                 headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert fragment.status_code == 200 and 'role="alert"' in fragment.text
    # after the signing period
    await Petition.update({Petition.closes_at: Petition.opened_at}).where(Petition.id == petition["id"])
    closed = await post_form(client, f"/petitions/{petition['key']}/sign")
    assert closed.status_code == 400 and "not open for signatures" in closed.text
    assert await Signature.count().where(Signature.user == world["signer"]["id"]) == 0


async def test_too_many_signatures_from_one_address_is_a_429(app, quiet_settings, world, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(services, "LIMITS", replace(services.LIMITS, address_per_hour=1))
    petition = await open_petition(quiet_settings, world)
    transport = httpx.ASGITransport(app=app, client=("10.200.1.1", 4000))
    for n, who in enumerate(("signer", "neighbour")):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"accept-language": "en"}) as person:
            await as_(person, world[who])
            response = await post_form(person, f"/petitions/{petition['key']}/sign")
            assert response.status_code == (303 if n == 0 else 429)
            if n:
                assert "Too many signatures came from your network" in response.text


async def test_the_public_list_of_signers(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    await services.sign(quiet_settings, world["signer"], petition["id"])
    await services.sign(quiet_settings, world["neighbour"], petition["id"], show_name=False)
    page = await client.get(f"/petitions/{petition['key']}/signers")
    assert page.status_code == 200
    assert world["signer"]["display_name"] in page.text and world["neighbour"]["display_name"] not in page.text
    detail = await client.get(f"/petitions/{petition['key']}")
    assert world["signer"]["display_name"] in detail.text
    assert "Signatures by district" in detail.text and "<svg" in detail.text and "<table" in detail.text
    pending = await new_petition(quiet_settings, world, title=f"Another pending one {world['tag']} ok")
    assert (await client.get(f"/petitions/{pending['key']}/signers")).status_code == 404


# --------------------------------------------------------------------------- drafting


async def test_starting_a_petition_needs_a_confirmed_account(app, client, world):
    anonymous = await client.get("/petitions/new")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/login")
    async with _client(app) as unconfirmed:
        await as_(unconfirmed, world["unconfirmed"])
        assert (await unconfirmed.get("/petitions/new")).status_code == 403


async def test_starting_a_petition(client, world):
    await as_(client, world["author"])
    form = await client.get(f"/petitions/new?addressee={world['akimat'].slug}")
    assert form.status_code == 200
    assert 'hx-get="/search/similar"' in form.text and 'hx-trigger="input changed delay:400ms"' in form.text
    assert '"module": "petitions"' in form.text and 'id="similar"' in form.text and 'aria-live="polite"' in form.text
    assert f'value="{world["akimat"].id}" selected' in form.text
    title = f"More buses on route 92 in the mornings {world['tag']}"
    response = await post_form(client, "/petitions/new", {
        "title": title, "organisation": str(world["akimat"].id), "territory": str(world["district"].id),
        "ask": "Run route 92 every ten minutes from 7 to 10 in the morning.",
        "reasons": "People wait half an hour at the stops and are late for school and work."})
    assert response.status_code == 303, response.text[:1500]
    petition = await Petition.select().where(Petition.title == title).first()
    assert response.headers["location"] == f"/petitions/{petition['key']}"
    page = await client.get(response.headers["location"])
    assert "Your petition is sent for moderation" in page.text and "waits for moderation" in page.text
    mine = await client.get("/petitions/mine")
    assert mine.status_code == 200 and title in mine.text and "decision due by" in mine.text


@pytest.mark.parametrize("change, message", [
    ({"title": "Short"}, "The title must be 10 to 200 characters long."),
    ({"ask": "Do it"}, "Say what you ask for in 20 to 5000 characters."),
    ({"reasons": ""}, "Explain why in 20 to 10000 characters."),
    ({"organisation": ""}, "Choose the organisation the petition is addressed to."),
    ({"organisation": "999999999"}, "Choose the organisation the petition is addressed to."),
    ({"organisation": "abc"}, "Choose the organisation the petition is addressed to."),
    ({"territory": ""}, "Choose the territory the petition is about."),
    ({"territory": "region"}, "The territory must be one the addressee is responsible for."),
])
async def test_bad_drafts_are_a_400_with_the_form_kept_and_nothing_saved(client, world, change, message):
    await as_(client, world["author"])
    before = await Petition.count()
    data = {"title": f"A good title for a petition {world['tag']}", "organisation": str(world["akimat"].id),
            "territory": str(world["district"].id), "ask": "A clear request to the akimat of the city.",
            "reasons": "Clear reasons why the request matters to people."}
    data.update(change)
    if data["territory"] == "region":
        data["territory"] = str(world["region"].id)
    response = await post_form(client, "/petitions/new", data)
    assert response.status_code == 400 and message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "A clear request to the akimat" in response.text or change.get("ask") == "Do it"
    assert await Petition.count() == before


# --------------------------------------------------------------------------- moderation


async def test_the_moderation_queue_and_decisions(app, client, settings, world):
    petition = await new_petition(settings, world)
    assert (await client.get("/petitions/moderation")).status_code == 303  # sign in first
    async with _client(app) as stranger:
        await as_(stranger, world["stranger"])
        assert (await stranger.get("/petitions/moderation")).status_code == 403
        assert (await post_form(stranger, f"/petitions/{petition['key']}/approve")).status_code == 403
    await as_(client, world["moderator"])
    queue = await client.get("/petitions/moderation")
    assert queue.status_code == 200 and petition["title"] in queue.text
    assert "Decide by" in queue.text and "light-green" in queue.text
    bad = await post_form(client, f"/petitions/{petition['key']}/reject", {"reason": "weather"})
    assert bad.status_code == 400 and "Choose one of the addressee's reasons" in html.unescape(bad.text)
    assert (await petition_row(petition["id"]))["state"] == "moderation"
    approved = await post_form(client, f"/petitions/{petition['key']}/approve")
    assert approved.status_code == 303
    assert (await petition_row(petition["id"]))["state"] == "open"
    again = await post_form(client, f"/petitions/{petition['key']}/approve")
    assert again.status_code == 400 and "no longer waiting for moderation" in again.text
    other = await new_petition(settings, world, title=f"Change the court ruling on my flat {world['tag']}")
    rejected = await post_form(client, f"/petitions/{other['key']}/reject", {"reason": "court", "note": "See a lawyer."})
    assert rejected.status_code == 303
    assert (await petition_row(other["id"]))["rejection_reason"] == "court"
    async with _client(app) as author:
        await as_(author, world["author"])
        page = await author.get(f"/petitions/{other['key']}")
        assert "Concerns a court case" in page.text and "See a lawyer." in page.text


# --------------------------------------------------------------------------- answer and outcome


async def test_staff_answer_then_record_the_outcome(app, client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world, threshold=2)
    people = await crowd(2, world["tag"])
    for p in people:
        await services.sign(quiet_settings, p, petition["id"])
    async with _client(app) as stranger:
        await as_(stranger, world["stranger"])
        assert (await post_form(stranger, f"/petitions/{petition['key']}/answer",
                                {"answer": "No."})).status_code == 403
    await as_(client, world["official"])
    page = await client.get(f"/petitions/{petition['key']}")
    assert "Publish the official answer" in page.text and "The answer is due by" in page.text
    empty = await post_form(client, f"/petitions/{petition['key']}/answer", {"answer": " "})
    assert empty.status_code == 400 and "An answer cannot be empty." in empty.text
    response = await post_form(client, f"/petitions/{petition['key']}/answer",
                               {"answer": "Lamps will be installed in all courtyards by May."})
    assert response.status_code == 303
    page = await client.get(f"/petitions/{petition['key']}")
    assert "Lamps will be installed" in page.text and "Record the outcome and close" in page.text
    bad = await post_form(client, f"/petitions/{petition['key']}/outcome", {"outcome": "granted", "outcome_reasons": ""})
    assert bad.status_code == 400 and "Give the reasons for the outcome" in bad.text
    done = await post_form(client, f"/petitions/{petition['key']}/outcome",
                           {"outcome": "granted", "outcome_reasons": "The lamps are ordered and paid for."})
    assert done.status_code == 303
    closed = await client.get(f"/petitions/{petition['key']}")
    assert "Granted" in closed.text and "The lamps are ordered and paid for." in closed.text
    assert (await petition_row(petition["id"]))["state"] == "closed"


# --------------------------------------------------------------------------- abuse review


async def test_reviewing_and_striking_out_signatures(app, client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    bots = await crowd(3, world["tag"], domain="bots.example")
    for p in bots:
        await services.sign(quiet_settings, p, petition["id"], address="192.0.2.99")
    await services.flag_for_review(petition["id"], "burst")
    async with _client(app) as stranger:
        await as_(stranger, world["stranger"])
        assert (await stranger.get(f"/petitions/{petition['key']}/review")).status_code == 403
        assert (await post_form(stranger, f"/petitions/{petition['key']}/invalidate",
                                {"criterion": "domain", "value": "bots.example", "reason": "Bots here"})).status_code == 403
    await as_(client, world["moderator"])
    page = await client.get(f"/petitions/{petition['key']}/review")
    assert page.status_code == 200 and "bots.example" in page.text and "Strike out" in page.text
    queue = await client.get("/petitions/moderation")
    assert petition["title"] in queue.text and "Review the signatures" in queue.text
    missing = await post_form(client, f"/petitions/{petition['key']}/invalidate",
                              {"criterion": "domain", "value": "bots.example", "reason": ""})
    assert missing.status_code == 400 and "Give the reason" in missing.text
    bad_window = await post_form(client, f"/petitions/{petition['key']}/invalidate",
                                 {"criterion": "window", "start": "yesterday", "end": "", "reason": "A window"})
    assert bad_window.status_code == 400 and "Give the start and the end" in bad_window.text
    done = await post_form(client, f"/petitions/{petition['key']}/invalidate",
                           {"criterion": "domain", "value": "bots.example", "reason": "Three scripted accounts"})
    assert done.status_code == 303
    assert (await petition_row(petition["id"]))["signature_count"] == 0
    assert await Invalidation.exists().where(Invalidation.petition == petition["id"])
    assert await AuditEntry.exists().where(AuditEntry.subject == f"petitions:{petition['id']}")
    report = await client.get(f"/petitions/{petition['key']}/review")
    assert "3 signatures are struck out. The count went from 3 to 0." in report.text
    assert "Three scripted accounts" in report.text
    cleared = await post_form(client, f"/petitions/{petition['key']}/review/done", {"note": "Handled"})
    assert cleared.status_code == 303 and (await petition_row(petition["id"]))["flagged_at"] is None


# --------------------------------------------------------------------------- rules


async def test_rules_for_administrators_only(app, client, world):
    async with _client(app) as moderator:
        await as_(moderator, world["moderator"])
        assert (await moderator.get("/petitions/rules")).status_code == 403
        assert (await moderator.get(f"/petitions/rules/{world['akimat'].slug}")).status_code == 403
        assert (await post_form(moderator, f"/petitions/rules/{world['akimat'].slug}",
                                {"prohibited_topics": "court"})).status_code == 403
    await as_(client, world["head"])
    index = await client.get("/petitions/rules")
    assert index.status_code == 200 and world["akimat"].slug in index.text
    form = await client.get(f"/petitions/rules/{world['akimat'].slug}")
    assert form.status_code == 200 and "Default: 2,500" in form.text
    assert (await client.get("/petitions/rules/nobody")).status_code == 404
    assert (await client.get(f"/petitions/rules/{world['ngo'].slug}")).status_code == 404
    bad = await post_form(client, f"/petitions/rules/{world['akimat'].slug}",
                          {"signature_threshold": "-5", "prohibited_topics": "court"})
    assert bad.status_code == 400 and "Enter a whole number from 1 to 10000000" in bad.text
    assert not await PetitionRule.exists().where(PetitionRule.organisation == world["akimat"].id)
    saved = await post_form(client, f"/petitions/rules/{world['akimat'].slug}",
                            {"signature_threshold": "1000", "prohibited_topics": ["court", "offensive"]})
    assert saved.status_code == 303
    assert (await services.rules_for(world["akimat"].id)).signature_threshold == 1000


# --------------------------------------------------------------------------- open data


async def test_open_data_csv_and_json(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world, listing=1, threshold=1)
    await services.sign(quiet_settings, world["signer"], petition["id"])
    as_csv = await client.get("/petitions/export.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")))}
    row = rows[str(petition["id"])]
    assert row["signature_count"] == "1" and row["signature_threshold"] == "1"
    assert row["signatures_by_district"] == f"{world['district'].code}=1"
    assert row["response_due_on"] and row["threshold_reached_at"]
    as_json = await client.get("/petitions/export.json")
    data = {p["id"]: p for p in json.loads(as_json.text)["petitions"]}
    assert data[petition["id"]]["signatures_by_district"] == {world["district"].code: 1}


# --------------------------------------------------------------------------- API


async def test_the_api_reads_lists_signs_and_withdraws(app, client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world, listing=1)
    pending = await new_petition(quiet_settings, world, title=f"Pending petition for the API {world['tag']}")
    token = await create_api_token(world["signer"]["id"], "test")
    bearer = {"authorization": f"Bearer {token}"}
    read = await client.get(f"/api/v1/petitions/{petition['key']}")
    assert read.status_code == 200 and read.json()["signature_threshold"] == 2500
    assert read.json()["status"] == "link_only" and read.json()["signing_open"] is True
    assert (await client.get(f"/api/v1/petitions/{pending['key']}")).status_code == 404
    assert (await client.get("/api/v1/petitions/nothing")).status_code == 404
    no_token = await client.post(f"/api/v1/petitions/{petition['key']}/sign")
    assert no_token.status_code == 401
    await as_(client, world["neighbour"])  # a session cookie does not sign through the API
    assert (await client.post(f"/api/v1/petitions/{petition['key']}/sign")).status_code == 401
    signed = await client.post(f"/api/v1/petitions/{petition['key']}/sign", headers=bearer,
                               content=b'{"hide_name": true}')
    assert signed.status_code == 200 and signed.json() == {"signed": True, "changed": True, "signature_count": 1}
    again = await client.post(f"/api/v1/petitions/{petition['key']}/sign", headers=bearer)
    assert again.json()["changed"] is False
    bad = await client.post(f"/api/v1/petitions/{petition['key']}/sign", headers=bearer, content=b"{oops")
    assert bad.status_code == 400 and "JSON" in bad.json()["detail"]
    unknown_field = await client.post(f"/api/v1/petitions/{petition['key']}/sign", headers=bearer,
                                      content=b'{"name": "x"}')
    assert unknown_field.status_code == 400
    listing = await client.get(f"/api/v1/petitions?addressee={world['akimat'].slug}")
    assert petition["key"] in [p["key"] for p in listing.json()["petitions"]]
    assert (await client.get("/api/v1/petitions?sort=random")).status_code == 400
    assert (await client.get("/api/v1/petitions?status=done")).status_code == 400
    detail = await client.get(f"/api/v1/petitions/{petition['key']}")
    assert detail.json()["signatures_by_district"] == [
        {"district": world["district"].code, "name": world["district"].name_en, "signatures": 1}]
    withdrawn = await client.delete(f"/api/v1/petitions/{petition['key']}/sign", headers=bearer)
    assert withdrawn.status_code == 200 and withdrawn.json()["signature_count"] == 0
    unconfirmed = await create_api_token(world["unconfirmed"]["id"], "test")
    refused = await client.post(f"/api/v1/petitions/{petition['key']}/sign",
                                headers={"authorization": f"Bearer {unconfirmed}"})
    assert refused.status_code == 403
    closed_pending = await client.post(f"/api/v1/petitions/{pending['key']}/sign", headers=bearer)
    assert closed_pending.status_code == 400 and closed_pending.json()["detail"]


async def test_the_api_refusal_is_in_the_readers_language(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    await Petition.update({Petition.closes_at: Petition.opened_at - timedelta(days=1)}).where(
        Petition.id == petition["id"])
    token = await create_api_token(world["signer"]["id"], "test")
    response = await client.post(f"/api/v1/petitions/{petition['key']}/sign",
                                 headers={"authorization": f"Bearer {token}", "accept-language": "ru"})
    assert response.status_code == 400 and response.json()["detail"]


async def test_the_personal_data_export_holds_petitions_and_signatures(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world)
    await services.sign(quiet_settings, world["author"], petition["id"])
    await as_(client, world["author"])
    export = await client.get("/account/export")
    assert export.status_code == 200
    data = export.json()["petitions"]
    assert data["petitions"][0]["key"] == petition["key"]
    assert data["petition_signatures"][0]["petition"] == petition["key"]


async def test_a_deleted_account_is_not_named_among_the_signers(quiet_settings, world):
    from civic.accounts.services import delete_account
    from modules.petitions import module

    petition = await open_petition(quiet_settings, world)
    await services.sign(quiet_settings, world["signer"], petition["id"])
    traces = await Signature.select(Signature.address_hash, Signature.email_domain).where(
        Signature.petition == petition["id"]).first()
    assert traces["email_domain"]  # kept for abuse review while the account lives
    await delete_account(quiet_settings, world["signer"]["id"], PASSWORD, [module])
    assert (await services.public_signers(petition["id"]))[0] == []
    assert (await petition_row(petition["id"]))["signature_count"] == 1
    kept = await Signature.select(Signature.address_hash, Signature.email_domain, Signature.show_name).where(
        Signature.petition == petition["id"]).first()
    assert kept == {"address_hash": "", "email_domain": "", "show_name": False}


@pytest.mark.parametrize("path, data, message", [
    ("invalidate", {}, "Choose what the suspicious signatures have in common."),
    ("invalidate", {"criterion": "address", "reason": "Bots from one place"}, "Give the address or the domain"),
    ("invalidate", {"criterion": "window", "start": "2026-13-40T25:61", "end": "x", "reason": "Window"},
     "Give the start and the end of the time window"),
    ("reject", {}, "Choose one of the addressee's reasons"),
])
async def test_bad_staff_input_is_a_400_that_changes_nothing(client, quiet_settings, world, path, data, message):
    petition = await (new_petition if path == "reject" else open_petition)(quiet_settings, world)
    if path != "reject":
        await services.sign(quiet_settings, world["signer"], petition["id"])
    await as_(client, world["moderator"])
    response = await post_form(client, f"/petitions/{petition['key']}/{path}", data)
    assert response.status_code == 400 and message in html.unescape(response.text), response.text[-2000:]
    after = await petition_row(petition["id"])
    assert after["state"] == petition["state"]
    assert await Signature.count().where((Signature.petition == petition["id"]) & (Signature.valid == True)) == (  # noqa: E712
        1 if path != "reject" else 0)


async def test_an_outcome_without_a_choice_is_a_400(client, quiet_settings, world):
    petition = await open_petition(quiet_settings, world, threshold=1)
    await services.sign(quiet_settings, world["signer"], petition["id"])
    await services.answer(world["official"], petition["id"], "We shall do it.")
    await as_(client, world["official"])
    response = await post_form(client, f"/petitions/{petition['key']}/outcome", {"outcome_reasons": "Reasons enough"})
    assert response.status_code == 400 and "Choose the outcome" in response.text
    assert (await petition_row(petition["id"]))["outcome"] == ""
