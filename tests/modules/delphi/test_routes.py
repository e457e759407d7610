"""The Delphi pages, export and API over HTTP for every role — including the anonymity walk:
no page, export or API response shows an expert's identity next to an answer."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from modules.delphi import services
from modules.delphi.tables import Answer, Study
from tests.modules.delphi.conftest import PASSWORD, add_questions, answer_round, in_days, new_study, seat_panel
from tests.modules.delphi.test_services import ROUND_1
from tests.support.web import post_form, sign_in

JUSTIFICATIONS = [j for answers in ROUND_1 for _, j in answers.values() if len(j) >= 8]  # distinctive ones


async def as_(client: httpx.AsyncClient, person: dict) -> httpx.AsyncClient:
    await sign_in(client, person["email"], PASSWORD)
    return client


async def _finished_and_running(settings, world) -> tuple[dict, dict]:
    """A published study after one round, and a running one in round 2 with answers."""
    done = await new_study(world, title=f"Finished forecast {world['tag']}")
    await add_questions(world, done)
    experts = await seat_panel(settings, world, done, 5)
    await services.open_round(settings, world["organiser"], done["id"], in_days(10))
    await answer_round(settings, done, experts, ROUND_1)
    await services.close_round(world["organiser"], done["id"])
    await services.analyse_round(world["organiser"], done["id"])
    await services.finish(settings, world["organiser"], done["id"], "Plan 1450 places by 2030.")
    await services.publish(world["organiser"], done["id"])
    running = await new_study(world, title=f"Running study {world['tag']}")
    await add_questions(world, running)
    await seat_panel(settings, world, running, 5)
    await services.open_round(settings, world["organiser"], running["id"], in_days(10))
    await answer_round(settings, running, experts, ROUND_1)
    await services.close_round(world["organiser"], running["id"])
    await services.analyse_round(world["organiser"], running["id"])
    await services.next_round(settings, world["organiser"], running["id"])
    await services.restore_question(world["organiser"], running["id"],
                                    (await services.questions_of(running["id"]))[0]["id"])
    await services.open_round(settings, world["organiser"], running["id"], in_days(10))
    await answer_round(settings, running, experts[:2], [{"Q3": ("Buses again", "Still buses"), "Q1": (1500, "Same as before")}] * 2)
    return await services.get_study(done["key"]), await services.get_study(running["key"])


async def test_creating_a_study_through_the_form(client, world):
    await as_(client, world["organiser"])
    form = {"organisation": str(world["akimat"].id), "title": f"Forest use {world['tag']}",
            "purpose": "How should the forests of the district be used?", "kind": "foresight",
            "horizon_year": str(services.now_utc().year + 28), "planned_rounds": "3", "consensus_rule": "iqr",
            "iqr_bound": "1", "band_share": "70", "stability_bound": "0.5", "divergence_rounds": "3",
            "justification_required": "on", "lang": "ru"}
    bad = await post_form(client, "/delphi/new", {**form, "horizon_year": "2031"})
    assert bad.status_code == 400 and "Give the horizon as a year" in bad.text
    assert not await Study.exists().where(Study.title == form["title"])
    created = await post_form(client, "/delphi/new", form)
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert page.status_code == 200 and form["title"] in page.text and "Invite an expert" in page.text
    key = created.headers["location"].rsplit("/", 1)[1]
    bad_q = await post_form(client, f"/delphi/{key}/questions", {"kind": "ranking", "text": "Rank these options",
                                                                 "options": "only one"})
    assert bad_q.status_code == 400 and "Give 2 to 12 different options" in bad_q.text
    ok = await post_form(client, f"/delphi/{key}/questions", {"kind": "year", "text": "When will it happen?",
                                                              "roadmap": "on"})
    assert ok.status_code == 303
    bad_open = await post_form(client, f"/delphi/{key}/open", {"deadline": in_days(5)})
    assert bad_open.status_code == 400 and "at least 3 experts" in bad_open.text


async def test_an_outsider_cannot_manage_or_see_a_draft_study(client, world):
    study = await new_study(world)
    await as_(client, world["outsider"])
    assert (await client.get(f"/delphi/{study['key']}")).status_code == 404
    assert (await post_form(client, f"/delphi/{study['key']}/panel", {"email": "a@b.kz", "field": "x y"})
            ).status_code == 404
    assert (await client.get("/delphi/new")).status_code == 403
    assert (await client.get("/delphi/invitations/nonsense")).status_code == 404


async def test_an_expert_answers_a_round_with_a_draft_and_sees_the_feedback(client, settings, world):
    done, running = await _finished_and_running(settings, world)
    expert = world["experts"][4]
    await as_(client, expert)
    page = await client.get(f"/delphi/{running['key']}/round")
    assert page.status_code == 200
    assert "Fishing revival brings families back" in page.text  # the minority view, shown
    assert "Your previous answer:" in page.text
    assert page.text.index("Fishing revival brings families back") < page.text.index("Census data")
    current = await services.latest_round(running["id"])
    items = await services.items_of(current["id"])
    by_code = {i["code"]: i for i in items}
    bad = await post_form(client, f"/delphi/{running['key']}/round",
                          {f"item-{by_code['Q1']['id']}": "lots", "action": "draft"})
    assert bad.status_code == 400 and "Give a number from 0 to 10000." in bad.text
    draft = await post_form(client, f"/delphi/{running['key']}/round",
                            {f"item-{by_code['Q1']['id']}": "1500", "action": "draft"})
    assert draft.status_code == 303
    again = await client.get(f"/delphi/{running['key']}/round")
    assert 'value="1500"' in again.text and "Your draft is saved" in again.text
    missing = await post_form(client, f"/delphi/{running['key']}/round",
                              {f"item-{by_code['Q1']['id']}": "1500", "action": "submit"})
    assert missing.status_code == 400 and "Justify this answer" in missing.text
    outsider = httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                                 headers={"accept-language": "en"})
    await as_(outsider, world["outsider"])
    assert (await outsider.get(f"/delphi/{running['key']}/round")).status_code == 404


async def test_results_csv_report_and_api(client, settings, world):
    done, running = await _finished_and_running(settings, world)
    public = await client.get(f"/delphi/{done['key']}/results")
    assert public.status_code == 200 and "1450" in public.text and 'role="img"' in public.text
    assert "inclusive method" in public.text
    assert not any(j in public.text for j in JUSTIFICATIONS)  # the public sees aggregates only
    assert (await client.get(f"/delphi/{done['key']}/results.csv")).status_code in (403, 404)
    assert (await client.get(f"/delphi/{running['key']}/results")).status_code == 404
    api = (await client.get(f"/api/v1/delphi/{done['key']}")).json()
    assert api["questions"][0]["rounds"][0]["median"] == 1450
    assert not any(j in str(api) for j in JUSTIFICATIONS)
    assert (await client.get(f"/api/v1/delphi/{running['key']}")).status_code == 404
    await as_(client, world["organiser"])
    exported = await client.get(f"/delphi/{done['key']}/results.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["round", "question", "type", "expert", "answer", "justification"]
    assert len(rows) == 1 + 15 and {r[3][0] for r in rows[1:]} == {"E"}
    report = await client.get(f"/delphi/{done['key']}/report")
    assert report.status_code == 200 and "Panel stability: 5 of the 5 experts" in report.text


ROLES = ("organiser", "admin", "expert", "other_expert", "outsider", "anonymous")


@pytest.mark.parametrize("role", ROLES)
async def test_no_route_shows_who_gave_which_answer(app, settings, world, role):
    done, running = await _finished_and_running(settings, world)
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers={"accept-language": "en"}) as client:
        person = {"expert": world["experts"][0], "other_expert": world["experts"][3]}.get(role, world.get(role))
        if role != "anonymous":
            await as_(client, person)
        identities = []
        for expert in world["experts"]:
            identities += [expert["display_name"], expert["email"], expert["email"].split("@")[0]]
        answers = JUSTIFICATIONS + ["Buses again", "Still buses"]
        # every GET route of the module, read from the app, so a new page cannot be left out
        invitation = await services.invite(settings, world["organiser"], running["id"],
                                           f"walk-{role}-{world['tag']}@example.kz", "walk")
        templates = sorted({route.path for route in app.routes if "GET" in getattr(route, "methods", ())
                            and route.path.startswith(("/delphi", "/api/v1/delphi"))})
        assert len(templates) >= 10
        paths = []
        for template in templates:
            for study in (done, running):
                paths.append(template.replace("{key:str}", study["key"]).replace("{token:str}", invitation["token"]))
        paths = list(dict.fromkeys(paths))
        for path in paths:
            response = await client.get(path, follow_redirects=True)
            assert response.status_code < 500, (path, response.status_code)
            body = response.text
            shows_answers = any(a in body for a in answers)
            if shows_answers:
                for identity in identities:
                    # the signed-in expert's own name may appear in the header, never elsewhere
                    if person and identity in (person.get("display_name"), person.get("email")):
                        body_without_header = body.split('id="main"', 1)[-1]
                        assert identity not in body_without_header, (role, path, identity)
                        continue
                    assert identity not in body, (role, path, identity)
            if role in ("organiser", "admin") and path.endswith(f"/delphi/{running['key']}/round"):
                assert response.status_code in (403, 404)
        # the organiser's study page shows the panel and counts, but no answer
        if role in ("organiser", "admin"):
            page = await client.get(f"/delphi/{running['key']}")
            assert not any(a in page.text for a in answers)
            assert "2 of 5 experts answered" in page.text


async def test_a_new_expert_joins_from_the_mailed_link(settings, world, client):
    """Invited at an address with no account: the mail's link, "create an account" (address
    filled in), the confirmation link back to the invitation, accept: on the panel."""
    from civic.accounts.tables import User
    from modules.delphi.tables import Panelist
    from tests.support.web import last_mail_to, link_in, unique_email

    study = await new_study(world)
    address = unique_email("expert")
    await as_(client, world["organiser"])
    response = await post_form(client, f"/delphi/{study['key']}/panel", {"email": address, "field": "demography"})
    assert response.status_code == 303
    client.cookies.clear()  # the expert, on another computer

    invitation_path = link_in((await last_mail_to(address))["body"], "/delphi/invitations/")
    invitation = await client.get(invitation_path)
    assert invitation.status_code == 200 and "Create an account" in invitation.text
    register_path = invitation.text.split('href="/auth/register?')[1].split('"')[0].replace("&amp;", "&")
    form = await client.get("/auth/register?" + register_path)
    assert f'value="{address}"' in form.text and f'value="{invitation_path}"' in form.text
    response = await post_form(client, "/auth/register", {
        "display_name": "Гүлназ Ахметова", "email": address, "password": PASSWORD, "password_repeat": PASSWORD,
        "next": invitation_path})
    assert response.status_code == 303
    confirmed = await client.get(link_in((await last_mail_to(address))["body"], "/auth/confirm/"))
    assert confirmed.status_code == 303 and confirmed.headers["location"] == invitation_path
    accepted = await post_form(client, invitation_path, {"decision": "accept"})
    assert accepted.status_code == 303
    expert = await User.select(User.id).where(User.email == address).first()
    row = await Panelist.select(Panelist.state, Panelist.user).where(Panelist.study == study["id"]).first()
    assert row == {"state": "accepted", "user": expert["id"]}


async def test_labels_do_not_follow_the_order_of_invitation(settings, world):
    from modules.delphi.tables import Pseudonym

    study = await new_study(world)
    await add_questions(world, study)
    await seat_panel(settings, world, study, 6)
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    labels = [r["label"] for r in await Pseudonym.select(Pseudonym.label).where(
        Pseudonym.study == study["id"]).order_by(Pseudonym.id)]
    assert len(set(labels)) == 6 and all(1 <= n <= 100 for n in labels)
    assert await Answer.count().where(Answer.value.is_not_null()) >= 0
