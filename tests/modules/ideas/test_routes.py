"""The ideas pages, fragments, exports and API over HTTP, for every role, including refusals."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from civic.accounts.services import create_api_token
from civic.accounts.tables import User
from modules.ideas import services
from civic.participation.tables import Comment, Flag, ModerationEntry, Support
from modules.ideas.tables import Idea, IdeaImage, IdeaPolicy, Milestone
from tests.modules.ideas.conftest import PASSWORD, TINY_PNG, new_idea
from tests.support.web import csrf_token, post_form, sign_in

HTMX = {"hx-request": "true"}


def _client(app) -> httpx.AsyncClient:
    import random

    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver", headers={"accept-language": "en"})


async def as_(client: httpx.AsyncClient, person: dict) -> httpx.AsyncClient:
    await sign_in(client, person["email"], PASSWORD)
    return client


async def idea_row(idea_id: int) -> dict:
    return await Idea.select().where(Idea.id == idea_id).first()


# --------------------------------------------------------------------------- lists


async def test_the_list_filters_sorts_and_gives_htmx_just_the_results(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    page = await client.get(f"/ideas?territory={world['city'].code}")
    assert page.status_code == 200
    assert f'href="/ideas/{idea_id}"' in page.text and "<h1>" in page.text
    assert 'aria-current="page"' in page.text and 'hx-push-url="true"' in page.text
    fragment = await client.get(f"/ideas?territory={world['city'].code}&sort=supported", headers=HTMX)
    assert fragment.status_code == 200 and "<h1>" not in fragment.text and f"/ideas/{idea_id}" in fragment.text
    assert 'id="results-status" hx-swap-oob="innerHTML"' in fragment.text and "1 idea shown." in fragment.text
    for sort in services.SORTS:
        assert (await client.get(f"/ideas?sort={sort}")).status_code == 200
    empty = await client.get(f"/ideas?territory={world['city'].code}&category=parks")
    assert f"/ideas/{idea_id}\"" not in empty.text and "No ideas match" in empty.text


@pytest.mark.parametrize("query, message", [
    ("category=weather", "Choose a category from the list."),
    ("status=finished", "Choose a status from the list."),
    ("sort=random", "Choose an order from the list."),
    ("territory=nowhere", "Choose a territory from the list."),
])
async def test_bad_list_filters_are_a_clear_400(client, world, query, message):
    response = await client.get(f"/ideas?{query}")
    assert response.status_code == 400 and message in response.text


async def test_a_bad_page_number_is_a_400_page_not_a_500(client, world):
    response = await client.get("/ideas?page_number=abc")
    assert response.status_code == 400 and "Traceback" not in response.text


# --------------------------------------------------------------------------- proposing


async def test_proposing_needs_a_confirmed_account(client, app, world):
    anonymous = await client.get("/ideas/new")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/login")
    async with _client(app) as unconfirmed:
        await as_(unconfirmed, world["unconfirmed"])
        assert (await unconfirmed.get("/ideas/new")).status_code == 403
        refused = await post_form(unconfirmed, "/ideas/new", {"title": "A title long enough", "body": "x" * 40,
                                                              "category": "parks",
                                                              "territory": str(world["district"].id)})
        assert refused.status_code == 403


async def test_proposing_with_a_photo_then_the_photo_is_served_safely(client, world):
    await as_(client, world["citizen"])
    form = await client.get("/ideas/new")
    assert form.status_code == 200
    assert 'hx-get="/api/v1/search/similar"' in form.text and 'hx-trigger="keyup changed delay:400ms"' in form.text
    assert 'aria-live="polite"' in form.text and 'enctype="multipart/form-data"' in form.text
    title = f"Benches in the courtyard {world['tag']}"
    response = await client.post("/ideas/new", data={
        "_csrf_token": await csrf_token(client), "title": title, "category": "courtyards",
        "body": "Our courtyard has no benches; older residents have nowhere to rest.",
        "territory": str(world["district"].id), "cost_estimate": "450 000", "alt_1": "The empty courtyard",
    }, files={"image_1": ("../../etc/passwd.png", TINY_PNG, "text/html")})
    assert response.status_code == 303, response.text[:2000]
    idea = await Idea.select().where(Idea.title == title).first()
    assert response.headers["location"] == f"/ideas/{idea['id']}"
    assert idea["cost_estimate"] == 450_000
    image = await IdeaImage.select().where(IdeaImage.idea == idea["id"]).first()
    served = await client.get(f"/ideas/images/{image['id']}")
    assert served.status_code == 200 and served.content == TINY_PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == f'inline; filename="idea-{idea["id"]}-1.png"'
    page = await client.get(f"/ideas/{idea['id']}")
    assert 'alt="The empty courtyard"' in page.text and "450" in page.text


async def test_an_svg_or_oversized_upload_is_a_400_with_the_form_kept(client, world):
    await as_(client, world["citizen"])
    title = f"Svg idea {world['tag']}"
    response = await client.post("/ideas/new", data={
        "_csrf_token": await csrf_token(client), "title": title, "category": "parks",
        "body": "A park idea with a picture that is not a picture.", "territory": str(world["district"].id),
    }, files={"image_1": ("x.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/png")})
    assert response.status_code == 400
    assert "is not a JPEG, PNG, GIF or WebP image" in response.text and title in response.text
    assert not await Idea.exists().where(Idea.title == title)


@pytest.mark.parametrize("change, message", [
    ({"title": "short"}, "Give the idea a title of 8 to 200 characters."),
    ({"category": "weather"}, "Choose a category from the list."),
    ({"territory": ""}, "Choose the district or rural okrug the idea is for."),
    ({"cost_estimate": "many"}, "Enter the cost estimate in whole tenge, or leave it empty."),
])
async def test_bad_proposals_are_a_400_in_the_readers_language_and_nothing_is_saved(client, world, change, message):
    await as_(client, world["citizen"])
    before = await Idea.count()
    data = {"title": f"Good title {world['tag']}", "body": "A good description of a good idea.",
            "category": "parks", "territory": str(world["district"].id), **change}
    response = await post_form(client, "/ideas/new", data)
    assert response.status_code == 400 and message in response.text
    assert 'aria-invalid="true"' in response.text
    assert await Idea.count() == before


async def test_the_honeypot_and_csrf_stop_scripts(client, world):
    await as_(client, world["citizen"])
    before = await Idea.count()
    trapped = await post_form(client, "/ideas/new", {"title": f"Bot title {world['tag']}", "body": "b" * 40,
                                                     "category": "parks", "territory": str(world["district"].id),
                                                     "website": "http://spam.example"})
    assert trapped.status_code == 303 and await Idea.count() == before
    forged = await client.post("/ideas/new", data={"title": f"Forged {world['tag']}", "body": "b" * 40,
                                                   "category": "parks", "territory": str(world["district"].id)})
    assert forged.status_code == 403 and await Idea.count() == before


# --------------------------------------------------------------------------- the idea page


async def test_pending_ideas_are_seen_only_by_author_and_moderators(client, app, quiet_settings, world):
    await IdeaPolicy(organisation=world["district_akimat"].id, moderation="pre", support_threshold=100).save()
    idea_id = await new_idea(quiet_settings, world)
    assert (await client.get(f"/ideas/{idea_id}")).status_code == 404
    async with _client(app) as author:
        await as_(author, world["citizen"])
        page = await author.get(f"/ideas/{idea_id}")
        assert page.status_code == 200 and "waits for a moderator" in page.text
    async with _client(app) as moderator:
        await as_(moderator, world["moderator"])
        page = await moderator.get(f"/ideas/{idea_id}")
        assert page.status_code == 200 and f"/ideas/moderation/idea/{idea_id}/approve" in page.text
        assert (await post_form(moderator, f"/ideas/moderation/idea/{idea_id}/approve")).status_code == 303
    assert (await client.get(f"/ideas/{idea_id}")).status_code == 200
    assert (await client.get("/ideas/999999999")).status_code == 404


async def test_supporting_without_javascript_and_with_htmx(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    anonymous = await client.get(f"/ideas/{idea_id}")
    assert "Sign in to support this idea" in anonymous.text
    refused = await client.post(f"/ideas/{idea_id}/support")
    assert refused.status_code in (303, 403)

    await as_(client, world["neighbour"])
    plain = await post_form(client, f"/ideas/{idea_id}/support")
    assert plain.status_code == 303 and plain.headers["location"] == f"/ideas/{idea_id}#support"
    page = await client.get(f"/ideas/{idea_id}")
    assert "Thank you for your support." in page.text and "1 person supports this idea." in page.text
    again = await client.post(f"/ideas/{idea_id}/support", headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert again.status_code == 200 and "<html" not in again.text
    assert "1 person supports this idea." in again.text and "Withdraw my support" in again.text
    assert await Support.count().where(Support.subject == f"ideas:{idea_id}") == 1
    withdrawn = await client.post(f"/ideas/{idea_id}/support/withdraw",
                                  headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert "0 people support this idea." in withdrawn.text and "Support this idea" in withdrawn.text
    assert (await idea_row(idea_id))["support_count"] == 0


async def test_supporting_a_decided_idea_is_refused_with_a_message(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await services.change_status(world["official"], idea_id, "not_accepted", "Not city land.")
    await as_(client, world["neighbour"])
    plain = await post_form(client, f"/ideas/{idea_id}/support")
    assert plain.status_code == 400 and "Supports are closed" in plain.text
    fragment = await client.post(f"/ideas/{idea_id}/support", headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert fragment.status_code == 200 and "Supports are closed" in fragment.text and "<html" not in fragment.text
    assert (await idea_row(idea_id))["support_count"] == 0
    unconfirmed = world["unconfirmed"]
    assert unconfirmed["verification"] == 0


async def test_the_threshold_and_the_answer_appear_on_the_page(client, quiet_settings, world):
    from civic.responses import services as responses

    idea_id = await new_idea(quiet_settings, world)
    for who in ("neighbour", "third", "fourth"):
        await services.support(world[who], idea_id)
    page = await client.get(f"/ideas/{idea_id}")
    assert "The support threshold is reached" in page.text and "The answer is due by" in page.text
    response_id = (await idea_row(idea_id))["response"]
    await responses.answer(response_id, actor_id=world["official"]["id"], text="Lamps come in **May**.")
    page = await client.get(f"/ideas/{idea_id}")
    assert "<strong>May</strong>" in page.text and "Official answer" in page.text
    assert f'href="/responses/{response_id}"' in page.text and "comment-answer" in page.text


async def test_follow_and_unfollow(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await as_(client, world["stranger"])
    assert (await post_form(client, f"/ideas/{idea_id}/follow", {"follow": "on"})).status_code == 303
    assert world["stranger"]["id"] in await services.audience(idea_id)
    assert (await post_form(client, f"/ideas/{idea_id}/follow", {"follow": "off"})).status_code == 303
    assert world["stranger"]["id"] not in await services.audience(idea_id)


# --------------------------------------------------------------------------- discussion


async def test_commenting_with_and_without_javascript(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await as_(client, world["neighbour"])
    plain = await post_form(client, f"/ideas/{idea_id}/comments", {"comment": "We need this **now**."})
    assert plain.status_code == 303
    comment = await Comment.select().where(Comment.subject == f"ideas:{idea_id}").first()
    assert plain.headers["location"] == f"/ideas/{idea_id}#comment-{comment['id']}"
    fragment = await client.post(f"/ideas/{idea_id}/comments", data={"comment": "A reply.", "parent": comment["id"]},
                                 headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Your comment is published." in fragment.text and 'hx-swap-oob="innerHTML"' in fragment.text
    assert "<strong>now</strong>" in fragment.text and "A reply." in fragment.text
    empty = await post_form(client, f"/ideas/{idea_id}/comments", {"comment": " "})
    assert empty.status_code == 400 and "Write a comment of 2 to 5000 characters." in empty.text
    empty_htmx = await client.post(f"/ideas/{idea_id}/comments", data={"comment": ""},
                                   headers={**HTMX, "x-csrftoken": await csrf_token(client)})
    assert empty_htmx.status_code == 200 and "Write a comment of 2 to 5000 characters." in empty_htmx.text
    assert await Comment.count().where(Comment.subject == f"ideas:{idea_id}") == 2
    assert (await idea_row(idea_id))["comment_count"] == 2


async def test_correcting_a_comment_is_for_its_author(client, app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    comment_id = await services.add_comment(quiet_settings, world["neighbour"], idea_id, "Tpyo here.")
    await as_(client, world["neighbour"])
    assert (await client.get(f"/ideas/comments/{comment_id}/edit")).status_code == 200
    saved = await post_form(client, f"/ideas/comments/{comment_id}/edit", {"comment": "Typo fixed."})
    assert saved.status_code == 303
    bad = await post_form(client, f"/ideas/comments/{comment_id}/edit", {"comment": ""})
    assert bad.status_code == 400
    async with _client(app) as other:
        await as_(other, world["third"])
        assert (await other.get(f"/ideas/comments/{comment_id}/edit")).status_code == 400
        taken = await post_form(other, f"/ideas/comments/{comment_id}/edit", {"comment": "Mine now"})
        assert taken.status_code == 403
    assert (await Comment.select().where(Comment.id == comment_id).first())["body"] == "Typo fixed."


async def test_editing_an_idea_by_its_author_only(client, app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await as_(client, world["citizen"])
    assert (await client.get(f"/ideas/{idea_id}/edit")).status_code == 200
    saved = await post_form(client, f"/ideas/{idea_id}/edit", {"title": f"Edited title {world['tag']}",
                                                               "body": "An edited description of the idea.",
                                                               "category": "lighting"})
    assert saved.status_code == 303 and (await idea_row(idea_id))["title"] == f"Edited title {world['tag']}"
    bad = await post_form(client, f"/ideas/{idea_id}/edit", {"title": "x", "body": "An edited description.",
                                                             "category": "lighting"})
    assert bad.status_code == 400 and "Give the idea a title" in bad.text
    async with _client(app) as other:
        await as_(other, world["neighbour"])
        assert (await other.get(f"/ideas/{idea_id}/edit")).status_code == 403
        assert (await post_form(other, f"/ideas/{idea_id}/edit", {"title": "Someone else's title",
                                                                  "body": "Someone else's description.",
                                                                  "category": "parks"})).status_code == 403


# --------------------------------------------------------------------------- reports and moderation


async def test_reporting_and_the_moderation_queue(client, app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    comment_id = await services.add_comment(quiet_settings, world["neighbour"], idea_id, "Call me at +7 701 000 00 00")
    await as_(client, world["third"])
    bad = await post_form(client, f"/ideas/comments/{comment_id}/flag", {"reason": "boring"})
    assert bad.status_code == 400 and "Choose why you report this." in bad.text
    ok = await post_form(client, f"/ideas/comments/{comment_id}/flag", {"reason": "personal_data", "note": "A phone"})
    assert ok.status_code == 303
    assert await Flag.count().where((Flag.target_kind == "comment") & (Flag.target_id == comment_id)) == 1
    assert (await post_form(client, f"/ideas/{idea_id}/flag", {"reason": "spam"})).status_code == 303
    assert (await client.get("/ideas/moderation")).status_code == 403

    async with _client(app) as moderator:
        await as_(moderator, world["moderator"])
        queue = await moderator.get("/ideas/moderation")
        assert queue.status_code == 200 and "A phone" in queue.text
        hidden = await post_form(moderator, f"/ideas/moderation/comment/{comment_id}/hide",
                                 {"reason": "personal_data", "note": "A phone number", "next": f"/ideas/{idea_id}"})
        assert hidden.status_code == 303 and hidden.headers["location"] == f"/ideas/{idea_id}"
        kept = await post_form(moderator, f"/ideas/moderation/idea/{idea_id}/dismiss")
        assert kept.status_code == 303
        assert (await post_form(moderator, f"/ideas/moderation/idea/{idea_id}/explode")).status_code == 404

    page = await client.get(f"/ideas/{idea_id}")
    assert "+7 701" not in page.text and "This comment was hidden by a moderator" in page.text
    assert "Reveals personal data" in page.text
    log = await client.get("/ideas/moderation/log")
    assert log.status_code == 200 and "A phone number" in log.text
    assert world["moderator"]["display_name"] not in log.text
    assert await ModerationEntry.exists().where(ModerationEntry.target_id == comment_id)


async def test_hiding_an_idea_leaves_a_public_placeholder(client, app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world, body="Insulting text that a moderator will hide soon.")
    async with _client(app) as moderator:
        await as_(moderator, world["moderator"])
        await post_form(moderator, f"/ideas/moderation/idea/{idea_id}/hide", {"reason": "offensive", "note": "Insults"})
        assert "Insulting text" in (await moderator.get(f"/ideas/{idea_id}")).text  # moderators still read it
    page = await client.get(f"/ideas/{idea_id}")
    assert page.status_code == 200 and "Insulting text" not in page.text
    assert "This idea was hidden by a moderator" in page.text and "Offensive or insulting" in page.text
    assert "Insults" in page.text
    api = (await client.get(f"/api/v1/ideas/{idea_id}")).json()
    assert api["visibility"] == "hidden" and "body" not in api


async def test_moderators_block_accounts_and_citizens_cannot(client, app, world):
    await as_(client, world["citizen"])
    refused = await post_form(client, "/ideas/moderation/block", {"user": str(world["stranger"]["id"]),
                                                                  "reason": "spam"})
    assert refused.status_code == 403
    async with _client(app) as moderator:
        await as_(moderator, world["moderator"])
        blocked = await post_form(moderator, "/ideas/moderation/block", {"user": str(world["stranger"]["id"]),
                                                                         "reason": "Spam again and again"})
        assert blocked.status_code == 303
    assert (await User.select(User.blocked_reason).where(User.id == world["stranger"]["id"]).first())[
        "blocked_reason"] == "Spam again and again"


# --------------------------------------------------------------------------- staff


async def test_staff_change_status_and_track_delivery(client, app, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await as_(client, world["citizen"])
    assert (await post_form(client, f"/ideas/{idea_id}/status", {"status": "under_review"})).status_code == 403
    async with _client(app) as official:
        await as_(official, world["official"])
        page = await official.get(f"/ideas/{idea_id}")
        assert f'action="/ideas/{idea_id}/status"' in page.text
        refused = await post_form(official, f"/ideas/{idea_id}/status", {"status": "not_accepted", "reason": ""})
        assert refused.status_code == 400 and "Say why the idea is not accepted" in refused.text
        assert (await post_form(official, f"/ideas/{idea_id}/status", {"status": "under_review"})).status_code == 303
        accepted = await post_form(official, f"/ideas/{idea_id}/status", {"status": "accepted",
                                                                          "reason": "Fits the 2026 plan."})
        assert accepted.status_code == 303
        bad = await post_form(official, f"/ideas/{idea_id}/implementation", {"progress": "150"})
        assert bad.status_code == 400 and "from 0 to 100" in bad.text
        saved = await post_form(official, f"/ideas/{idea_id}/implementation", {
            "department": str(world["department"].id), "budget_line": "451-032", "progress": "20"})
        assert saved.status_code == 303
        added = await post_form(official, f"/ideas/{idea_id}/milestones", {
            "milestone_title": "Lamps bought", "milestone_due_on": "2026-05-01", "milestone_progress": "60"})
        assert added.status_code == 303
        no_date = await post_form(official, f"/ideas/{idea_id}/milestones", {
            "milestone_title": "No date", "milestone_due_on": "someday", "milestone_progress": "60"})
        assert no_date.status_code == 400 and "Enter the date of the milestone." in no_date.text
        milestone = await Milestone.select().where(Milestone.idea == idea_id).first()
        assert (await post_form(official, f"/ideas/milestones/{milestone['id']}/done")).status_code == 303
    page = await client.get(f"/ideas/{idea_id}")
    assert "Fits the 2026 plan." in page.text and "Lamps bought" in page.text and 'value="60"' in page.text
    assert "451-032" in page.text
    assert (await post_form(client, f"/ideas/milestones/{milestone['id']}/done")).status_code == 403


# --------------------------------------------------------------------------- challenges


async def test_challenges_from_publication_to_outcome(client, app, quiet_settings, world):
    await as_(client, world["citizen"])
    assert (await client.get("/ideas/challenges/new")).status_code == 403
    async with _client(app) as department:
        await as_(department, world["dept_official"])
        assert (await department.get("/ideas/challenges/new")).status_code == 200
        bad = await post_form(department, "/ideas/challenges/new", {
            "organisation": str(world["department"].id), "title": "Faster buses", "problem": "Slow",
            "success_criteria": "Faster", "deadline": "2020-01-01", "level": "dialogue"})
        assert bad.status_code == 400 and "Describe the problem" in bad.text
        created = await post_form(department, "/ideas/challenges/new", {
            "organisation": str(world["department"].id), "title": f"Faster buses on route 92 {world['tag']}",
            "problem": "Route 92 takes 70 minutes at rush hour.", "success_criteria": "20% faster trips.",
            "deadline": "2099-01-01", "level": "dialogue"})
        assert created.status_code == 303
        challenge_path = created.headers["location"]
        challenge_id = int(challenge_path.rsplit("/", 1)[1])

    listing = await client.get("/ideas/challenges")
    assert listing.status_code == 200 and f"Faster buses on route 92 {world['tag']}" in listing.text
    page = await client.get(challenge_path)
    assert f"/ideas/new?challenge={challenge_id}" in page.text
    form = await client.get(f"/ideas/new?challenge={challenge_id}")
    assert form.status_code == 200 and f'name="challenge" value="{challenge_id}"' in form.text
    proposed = await post_form(client, "/ideas/new", {"title": f"A bus lane on Abai {world['tag']}",
                                                      "body": "Paint a bus lane on Abai avenue.",
                                                      "category": "transport", "challenge": str(challenge_id)})
    assert proposed.status_code == 303
    idea_id = int(proposed.headers["location"].rsplit("/", 1)[1])
    assert (await post_form(client, f"/ideas/{idea_id}/shortlist")).status_code == 403
    async with _client(app) as department:
        await as_(department, world["dept_official"])
        assert (await post_form(department, f"/ideas/{idea_id}/shortlist", {"shortlisted": "yes"})).status_code == 303
        assert (await post_form(department, f"{challenge_path}/close")).status_code == 303
        refused = await post_form(department, f"{challenge_path}/outcome", {"outcome": "The bus lane is chosen. " * 2})
        assert refused.status_code == 400 and "Answer every shortlisted idea" in refused.text
    assert (await idea_row(idea_id))["shortlisted"] is True
    assert (await client.get("/ideas/challenges/999999")).status_code == 404


# --------------------------------------------------------------------------- organisation rules


async def test_the_rules_page_is_for_administrators(client, app, world):
    slug = world["district_akimat"].slug
    await as_(client, world["official"])
    assert (await client.get(f"/ideas/policy/{slug}")).status_code == 403
    assert (await client.get("/ideas/policy")).status_code == 403
    async with _client(app) as head:
        await as_(head, world["head"])
        listing = await head.get("/ideas/policy")
        assert listing.status_code == 200 and f'href="/ideas/policy/{world["akimat"].slug}"' in listing.text
        assert (await head.get(f"/ideas/policy/{slug}")).status_code == 200
        bad = await post_form(head, f"/ideas/policy/{slug}", {"moderation": "pre", "support_threshold": "zero"})
        assert bad.status_code == 400 and "support threshold must be a whole number" in bad.text
        ok = await post_form(head, f"/ideas/policy/{slug}", {"moderation": "pre", "support_threshold": "250"})
        assert ok.status_code == 303
    assert (await services.policy_for(world["district_akimat"].id))["support_threshold"] == 250
    assert (await client.get("/ideas/policy/no-such-organisation")).status_code == 404


# --------------------------------------------------------------------------- open data


async def test_csv_and_json_exports(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await services.support(world["neighbour"], idea_id)
    exported = await client.get("/ideas/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert rows[idea_id]["support_count"] == "1" and rows[idea_id]["status"] == "published"
    data = (await client.get("/ideas/export.json")).json()["ideas"]
    assert next(r for r in data if r["id"] == idea_id)["support_count"] == 1


async def test_personal_data_export_includes_ideas(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await as_(client, world["citizen"])
    data = json.loads((await client.get("/account/export")).content)
    assert idea_id in [i["id"] for i in data["ideas"]["ideas"]]


# --------------------------------------------------------------------------- API


async def test_api_reads_without_token_and_writes_with_one(client, quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    listed = (await client.get(f"/api/v1/ideas?territory={world['city'].code}")).json()
    assert idea_id in [i["id"] for i in listed["ideas"]]
    assert (await client.get("/api/v1/ideas?category=weather")).status_code == 400
    read = (await client.get(f"/api/v1/ideas/{idea_id}")).json()
    assert read["title"] == f"Light the courtyard {world['tag']}" and read["support_count"] == 0

    no_token = await client.post("/api/v1/ideas", json={"title": "x" * 10, "body": "y" * 30, "category": "parks",
                                                        "territory": world["district"].code})
    assert no_token.status_code == 401
    token = await create_api_token(world["neighbour"]["id"], "tests")
    auth = {"authorization": f"Bearer {token}"}
    created = await client.post("/api/v1/ideas", headers=auth, json={
        "title": f"API idea {world['tag']}", "body": "Proposed through the API by a script.",
        "category": "parks", "territory": world["district"].code})
    assert created.status_code == 201, created.text
    assert created.json()["visibility"] == "visible"
    bad = await client.post("/api/v1/ideas", headers=auth, json={"title": "x", "body": "y" * 30, "category": "parks",
                                                                 "territory": world["district"].code})
    assert bad.status_code == 400 and bad.json()["field"] == "title" and "title of 8 to 200" in bad.json()["detail"]
    malformed = await client.post("/api/v1/ideas", headers=auth, content=b"{not json")
    assert malformed.status_code == 400
    wrong_type = await client.post("/api/v1/ideas", headers=auth, json={"title": 5})
    assert wrong_type.status_code == 400

    supported = await client.post(f"/api/v1/ideas/{idea_id}/support", headers=auth)
    assert supported.status_code == 200 and supported.json() == {"support_count": 1, "supported": True,
                                                                 "changed": True}
    twice = await client.post(f"/api/v1/ideas/{idea_id}/support", headers=auth)
    assert twice.json()["changed"] is False and twice.json()["support_count"] == 1
    assert (await client.delete(f"/api/v1/ideas/{idea_id}/support", headers=auth)).json()["support_count"] == 0
    commented = await client.post(f"/api/v1/ideas/{idea_id}/comments", headers=auth, json={"body": "Via the API."})
    assert commented.status_code == 201
    thread = (await client.get(f"/api/v1/ideas/{idea_id}/comments")).json()["comments"]
    assert thread[0]["body"] == "Via the API."
    assert (await client.post(f"/api/v1/ideas/{idea_id}/support")).status_code == 401
    assert (await client.post("/api/v1/ideas/999999999/support", headers=auth)).status_code == 404
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/ideas" in spec["paths"] and "/api/v1/ideas/{idea_id}/support" in spec["paths"]


async def test_api_hides_pending_ideas(client, quiet_settings, world):
    await IdeaPolicy(organisation=world["district_akimat"].id, moderation="pre", support_threshold=100).save()
    idea_id = await new_idea(quiet_settings, world)
    assert (await client.get(f"/api/v1/ideas/{idea_id}")).status_code == 404
    token = await create_api_token(world["neighbour"]["id"], "tests")
    refused = await client.post(f"/api/v1/ideas/{idea_id}/support", headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 400
