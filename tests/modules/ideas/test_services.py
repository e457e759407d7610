"""The rules of ideas and challenges: who may do what, thresholds, statuses, moderation, limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civic.accounts.tables import AuditEntry, User
from civic.notify.tables import Notification
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic.rules import Denied, NotFound, RuleError
from modules.ideas import services
from modules.ideas.services import ImageUpload
from civic.participation.tables import Comment, Follow, ModerationEntry, Support
from modules.ideas.tables import Idea, IdeaImage, IdeaPolicy, IdeaVersion, StatusChange
from search.tables import SearchOutboxEntry
from tests.modules.ideas.conftest import TINY_JPEG, TINY_PNG, new_idea


async def idea_row(idea_id: int) -> dict:
    return await Idea.select().where(Idea.id == idea_id).first()


async def outbox_for(idea_id: int) -> list[dict]:
    return await SearchOutboxEntry.select().where(SearchOutboxEntry.document_id == f"ideas:{idea_id}").order_by(
        SearchOutboxEntry.id).output(load_json=True)


# --------------------------------------------------------------------------- proposing


async def test_a_proposed_idea_is_public_goes_to_the_district_akimat_and_is_indexed(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world, title=f"Жарық аулада {world['tag']}",
                             body="Ауланы түнде жарықтандыру үшін төрт шам қажет, балалар қорқады.")
    idea = await idea_row(idea_id)
    assert idea["visibility"] == "visible" and idea["status"] == "published"
    assert idea["organisation"] == world["district_akimat"].id
    assert idea["lang"] == "kk" and idea["summary"].startswith("Ауланы")
    assert await Follow.exists().where((Follow.subject == f"ideas:{idea_id}") & (Follow.user == world["citizen"]["id"]))
    entries = await outbox_for(idea_id)
    assert entries and entries[-1]["action"] == "index" and entries[-1]["document"]["kind"] == "idea"
    assert entries[-1]["document"]["territory"] == world["district"].path
    history = await StatusChange.select().where(StatusChange.idea == idea_id)
    assert [h["new_status"] for h in history] == ["published"]


@pytest.mark.parametrize("change, field", [
    ({"title": "short"}, "title"),
    ({"body": "too short"}, "body"),
    ({"category": "weather"}, "category"),
    ({"cost_estimate": "a lot"}, "cost_estimate"),
    ({"cost_estimate": "-5"}, "cost_estimate"),
    ({"territory_id": None}, "territory"),
    ({"territory_id": 10**9}, "territory"),
])
async def test_bad_proposals_are_refused_and_nothing_is_written(quiet_settings, world, change, field):
    before = await Idea.count()
    with pytest.raises(RuleError) as refused:
        await new_idea(quiet_settings, world, **change)
    assert refused.value.field == field and refused.value.status_code == 400
    assert await Idea.count() == before


async def test_a_territory_without_akimat_is_refused(quiet_settings, world):
    with pytest.raises(RuleError, match="No akimat"):
        await new_idea(quiet_settings, world, territory_id=world["orphan"].id)


async def test_an_unconfirmed_account_cannot_propose_support_or_comment(quiet_settings, world):
    with pytest.raises(Denied):
        await new_idea(quiet_settings, world, author="unconfirmed")
    idea_id = await new_idea(quiet_settings, world)
    with pytest.raises(Denied):
        await services.support(world["unconfirmed"], idea_id)
    with pytest.raises(Denied):
        await services.add_comment(quiet_settings, world["unconfirmed"], idea_id, "Me too!")


async def test_pre_moderation_keeps_an_idea_out_of_lists_and_search_until_approved(quiet_settings, world):
    await IdeaPolicy(organisation=world["district_akimat"].id, moderation="pre", support_threshold=50).save()
    idea_id = await new_idea(quiet_settings, world)
    assert (await idea_row(idea_id))["visibility"] == "pending"
    assert await outbox_for(idea_id) == []
    listed = await services.list_ideas(territory=world["district"].code)
    assert idea_id not in [i["id"] for i in listed.items]
    assert not await services.may_see_content(world["stranger"], await idea_row(idea_id))
    assert await services.may_see_content(world["citizen"], await idea_row(idea_id))
    with pytest.raises(RuleError):
        await services.support(world["neighbour"], idea_id)

    queue = await services.moderation_queue(world["moderator"])
    assert idea_id in [i["id"] for i in queue["pending_ideas"]]
    with pytest.raises(Denied):
        await services.approve(world["stranger"], "idea", idea_id)
    await services.approve(world["moderator"], "idea", idea_id)
    assert (await idea_row(idea_id))["visibility"] == "visible"
    assert (await outbox_for(idea_id))[-1]["action"] == "index"
    listed = await services.list_ideas(territory=world["district"].code)
    assert idea_id in [i["id"] for i in listed.items]
    assert (await services.policy_for(world["district_akimat"].id))["support_threshold"] == 50
    assert (await services.policy_for(world["department"].id))["support_threshold"] == 3  # from the city akimat


async def test_images_are_typed_by_their_bytes_and_stored(quiet_settings, world):
    assert services.sniff_image(TINY_PNG) == "image/png"
    assert services.sniff_image(TINY_JPEG) == "image/jpeg"
    assert services.sniff_image(b"GIF89a....") == "image/gif"
    assert services.sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert services.sniff_image(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>') is None
    assert services.sniff_image(b"<html><script>alert(1)</script>") is None

    idea_id = await new_idea(quiet_settings, world, images=[ImageUpload("photo.png", TINY_PNG, "Dark courtyard"),
                                                            ImageUpload("evil name.jpg", TINY_JPEG)])
    images = await services.idea_images(idea_id)
    assert [i["content_type"] for i in images] == ["image/png", "image/jpeg"]
    assert images[0]["filename"] == f"idea-{idea_id}-1.png" and images[0]["alt"] == "Dark courtyard"
    for image in images:
        assert services.image_path(quiet_settings, image["stored_name"]).read_bytes()[:3] in (TINY_PNG[:3],
                                                                                              TINY_JPEG[:3])


@pytest.mark.parametrize("images, message", [
    ([ImageUpload("a.svg", b"<svg></svg>")], "not a JPEG"),
    ([ImageUpload("a.png", TINY_PNG)] * 4, "at most 3"),
    ([ImageUpload("big.png", TINY_PNG + b"0" * services.MAX_IMAGE_BYTES)], "larger than"),
    ([ImageUpload("empty.png", b"")], "empty"),
])
async def test_bad_images_are_refused_and_nothing_is_stored(quiet_settings, world, images, message):
    folder = quiet_settings.uploads_dir / "ideas"
    before = sorted(folder.iterdir()) if folder.exists() else []
    count = await IdeaImage.count()
    with pytest.raises(RuleError, match=message):
        await new_idea(quiet_settings, world, images=images)
    assert await IdeaImage.count() == count
    assert (sorted(folder.iterdir()) if folder.exists() else []) == before


async def test_a_failing_transaction_removes_the_stored_images(quiet_settings, world, monkeypatch):
    folder = quiet_settings.uploads_dir / "ideas"
    folder.mkdir(parents=True, exist_ok=True)
    before = sorted(folder.iterdir())

    async def broken(idea_id):
        raise RuntimeError("search outbox unavailable")

    monkeypatch.setattr(services, "_reindex_idea", broken)
    with pytest.raises(RuntimeError):
        await new_idea(quiet_settings, world, images=[ImageUpload("a.png", TINY_PNG)])
    assert sorted(folder.iterdir()) == before
    assert not await Idea.exists().where(Idea.title == f"Light the courtyard {world['tag']}")


# --------------------------------------------------------------------------- supports and thresholds


async def test_support_is_once_per_person_and_withdrawable_while_open(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    first = await services.support(world["neighbour"], idea_id)
    again = await services.support(world["neighbour"], idea_id)
    assert (first.support_count, first.changed) == (1, True)
    assert (again.support_count, again.changed) == (1, False)
    assert await Support.count().where(Support.subject == f"ideas:{idea_id}") == 1
    assert await Follow.exists().where((Follow.subject == f"ideas:{idea_id}") & (Follow.user == world["neighbour"]["id"]))
    assert (await idea_row(idea_id))["trend_score"] > 0

    withdrawn = await services.withdraw_support(world["neighbour"], idea_id)
    assert (withdrawn.support_count, withdrawn.changed) == (0, True)
    assert (await services.withdraw_support(world["neighbour"], idea_id)).changed is False
    assert abs((await idea_row(idea_id))["trend_score"]) < 1e-6 * services.trend_weight(services.now_utc())


async def test_reaching_the_threshold_opens_one_official_response_and_tells_supporters(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)  # city akimat's policy: threshold 3
    await services.support(world["neighbour"], idea_id)
    await services.support(world["third"], idea_id)
    assert not await OfficialResponse.exists().where(OfficialResponse.subject == f"ideas:{idea_id}")
    result = await services.support(world["fourth"], idea_id)
    assert result.threshold_reached and result.support_count == 3
    opened = await OfficialResponse.select().where(OfficialResponse.subject == f"ideas:{idea_id}")
    assert len(opened) == 1
    response = opened[0]
    assert response["organisation"] == world["district_akimat"].id and response["citizen"] == world["citizen"]["id"]
    assert response["due_on"] == responses.add_working_days(response["received_on"], 15)
    idea = await idea_row(idea_id)
    assert idea["status"] == "under_review" and idea["response"] == response["id"]
    assert idea["threshold_reached_at"] is not None
    told = await Notification.select().where((Notification.kind == "ideas.threshold")
                                             & (Notification.url == f"/ideas/{idea_id}"))
    assert {n["user"] for n in told} == {world["neighbour"]["id"], world["third"]["id"], world["fourth"]["id"]}

    # more supports while under review: no second response
    await services.support(world["stranger"], idea_id)
    assert await OfficialResponse.count().where(OfficialResponse.subject == f"ideas:{idea_id}") == 1


async def test_the_answer_shows_on_the_idea_in_the_thread_and_reaches_every_supporter(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    for who in ("neighbour", "third", "fourth"):
        await services.support(world[who], idea_id)
    response_id = (await idea_row(idea_id))["response"]
    await responses.answer(response_id, actor_id=world["official"]["id"],
                           text="Four lamps will be installed in **May**.", public=True)
    idea = await idea_row(idea_id)
    assert idea["answered_at"] is not None
    thread = await Comment.select().where((Comment.subject == f"ideas:{idea_id}") & (Comment.kind == "answer"))
    assert len(thread) == 1 and "May" in thread[0]["body"]
    told = await Notification.select().where((Notification.kind == "ideas.answered")
                                             & Notification.url.like(f"/ideas/{idea_id}%"))
    assert {n["user"] for n in told} == {world["neighbour"]["id"], world["third"]["id"], world["fourth"]["id"]}
    assert all("May" in n["body"] for n in told)
    answered = await services.list_ideas(sort="answered", territory=world["city"].code)
    assert idea_id in [i["id"] for i in answered.items]


async def test_a_private_answer_is_not_published_in_the_thread(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    for who in ("neighbour", "third", "fourth"):
        await services.support(world[who], idea_id)
    await responses.answer((await idea_row(idea_id))["response"], actor_id=world["official"]["id"],
                           text="Private details", public=False)
    assert not await Comment.exists().where((Comment.subject == f"ideas:{idea_id}") & (Comment.kind == "answer"))
    assert not await Notification.exists().where((Notification.kind == "ideas.answered")
                                                 & (Notification.user == world["neighbour"]["id"]))


async def test_supports_close_when_the_akimat_decides(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await services.support(world["neighbour"], idea_id)
    await services.change_status(world["official"], idea_id, "under_review")
    await services.change_status(world["official"], idea_id, "accepted")
    with pytest.raises(RuleError, match="Supports are closed"):
        await services.support(world["third"], idea_id)
    with pytest.raises(RuleError, match="Supports are closed"):
        await services.withdraw_support(world["neighbour"], idea_id)
    with pytest.raises(NotFound):
        await services.support(world["third"], 10**9)


async def test_trending_prefers_recent_supports_to_old_ones(quiet_settings, world):
    old = await new_idea(quiet_settings, world, title=f"Old favourite {world['tag']}")
    fresh = await new_idea(quiet_settings, world, author="neighbour", title=f"Fresh idea {world['tag']}")
    long_ago = services.now_utc() - timedelta(days=60)
    for who in ("third", "fourth", "stranger"):
        await services.support(world[who], old, now=long_ago)
    await services.support(world["third"], fresh)
    ranked = await services.list_ideas(sort="trending", territory=world["city"].code)
    ids = [i["id"] for i in ranked.items]
    assert ids.index(fresh) < ids.index(old)
    supported = await services.list_ideas(sort="supported", territory=world["city"].code)
    ids = [i["id"] for i in supported.items]
    assert ids.index(old) < ids.index(fresh)
    assert services.trend_velocity(services.trend_weight(services.now_utc())) == pytest.approx(1.0)
    week_old = services.trend_weight(services.now_utc() - services.TREND_HALF_LIFE)
    assert services.trend_velocity(week_old) == pytest.approx(0.5)


# --------------------------------------------------------------------------- lists


async def test_lists_filter_sort_and_paginate(quiet_settings, world):
    ids = []
    for n, category in enumerate(["lighting", "parks", "parks"]):
        ids.append(await new_idea(quiet_settings, world, author=["citizen", "neighbour", "third"][n],
                                  title=f"Idea number {n} {world['tag']}", category=category))
    await services.add_comment(quiet_settings, world["fourth"], ids[0], "Agreed, it is too dark.")
    parks = await services.list_ideas(territory=world["city"].code, category="parks")
    assert [i["id"] for i in parks.items] == [ids[2], ids[1]]
    first = await services.list_ideas(territory=world["city"].code, per_page=2)
    second = await services.list_ideas(territory=world["city"].code, per_page=2, page=2)
    assert first.has_next and not second.has_next
    assert [i["id"] for i in first.items + second.items] == list(reversed(ids))
    discussed = await services.list_ideas(sort="discussed", territory=world["city"].code)
    assert discussed.items[0]["id"] == ids[0] and discussed.items[0]["comment_count"] == 1
    nowhere = await services.list_ideas(territory="no-such-territory")
    assert nowhere.items == []
    assert (await services.list_ideas(territory=world["city"].code, status="implemented")).items == []


# --------------------------------------------------------------------------- statuses and delivery


async def test_status_transitions_follow_the_flow_and_need_a_reason_to_refuse(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await services.support(world["neighbour"], idea_id)
    with pytest.raises(Denied):
        await services.change_status(world["stranger"], idea_id, "under_review")
    with pytest.raises(Denied):
        await services.change_status(world["moderator"], idea_id, "under_review")  # a moderator is not staff
    with pytest.raises(RuleError, match="cannot go from"):
        await services.change_status(world["official"], idea_id, "implemented")
    with pytest.raises(RuleError, match="Say why"):
        await services.change_status(world["official"], idea_id, "not_accepted", "  ")
    with pytest.raises(RuleError):
        await services.change_status(world["official"], idea_id, "done")
    await services.change_status(world["head"], idea_id, "not_accepted", "The courtyard is private land.")
    idea = await idea_row(idea_id)
    assert idea["status"] == "not_accepted" and idea["status_reason"] == "The courtyard is private land."
    history = await services.status_history(idea_id)
    assert [h["new_status"] for h in history] == ["published", "not_accepted"]
    assert history[-1]["reason"] == "The courtyard is private land."
    told = await Notification.select().where((Notification.kind == "ideas.status")
                                             & (Notification.user == world["neighbour"]["id"]))
    assert told and "Not accepted" in told[-1]["title"] and "private land" in told[-1]["body"]
    assert await AuditEntry.exists().where((AuditEntry.subject == f"ideas:{idea_id}")
                                           & (AuditEntry.action == "ideas.status"))
    await services.change_status(world["official"], idea_id, "under_review", "Reconsidered after the hearing.")
    assert (await idea_row(idea_id))["status"] == "under_review"


async def test_implementation_is_tracked_openly_once_accepted(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    with pytest.raises(RuleError, match="once the idea is accepted"):
        await services.set_implementation(world["official"], idea_id, department_id=None, budget_line="", progress=0)
    await services.change_status(world["official"], idea_id, "under_review")
    await services.change_status(world["official"], idea_id, "accepted")
    with pytest.raises(RuleError, match="from 0 to 100"):
        await services.set_implementation(world["official"], idea_id, department_id=None, budget_line="", progress=140)
    with pytest.raises(Denied):
        await services.set_implementation(world["dept_official"], idea_id, department_id=world["department"].id,
                                          budget_line="", progress=10)
    await services.set_implementation(world["official"], idea_id, department_id=world["department"].id,
                                      budget_line="Programme 451-032 «Street lighting»", progress=10)
    # the responsible department's staff may now update the record too
    milestone = await services.add_milestone(world["dept_official"], idea_id, title="Design approved",
                                             due_on=date(2026, 3, 1), progress=40)
    with pytest.raises(RuleError):
        await services.add_milestone(world["dept_official"], idea_id, title="No date", due_on=None, progress=40)
    await services.complete_milestone(world["dept_official"], milestone, done_on=date(2026, 2, 20))
    with pytest.raises(RuleError, match="already reached"):
        await services.complete_milestone(world["dept_official"], milestone)
    idea = await idea_row(idea_id)
    assert idea["progress"] == 40 and idea["department"] == world["department"].id
    assert idea["budget_line"].startswith("Programme 451-032")
    milestones = await services.milestones_of(idea_id)
    assert milestones[0]["done_on"] == date(2026, 2, 20)


# --------------------------------------------------------------------------- editing


async def test_editing_is_free_until_the_first_support_then_versioned(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    kept = await services.edit_idea(quiet_settings, world["citizen"], idea_id, title=f"Light the yard {world['tag']}",
                                    body="Four lamps by the playground would make it safe at night.",
                                    category="lighting")
    assert kept is False and await IdeaVersion.count().where(IdeaVersion.idea == idea_id) == 0
    with pytest.raises(Denied):
        await services.edit_idea(quiet_settings, world["neighbour"], idea_id, title="Someone else's idea",
                                 body="Trying to change another person's idea.", category="lighting")
    await services.support(world["neighbour"], idea_id)
    kept = await services.edit_idea(quiet_settings, world["citizen"], idea_id, title=f"Light the yard {world['tag']}",
                                    body="Six lamps by the playground and the car park.", category="lighting",
                                    cost_estimate="1 200 000")
    assert kept is True
    versions = await services.versions_of(idea_id)
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["body"] == "Four lamps by the playground would make it safe at night."
    idea = await idea_row(idea_id)
    assert idea["version"] == 2 and idea["cost_estimate"] == 1_200_000
    await services.change_status(world["official"], idea_id, "under_review")
    await services.change_status(world["official"], idea_id, "accepted")
    with pytest.raises(RuleError, match="no longer be edited"):
        await services.edit_idea(quiet_settings, world["citizen"], idea_id, title=f"Light the yard {world['tag']}",
                                 body="Changing the idea after the decision.", category="lighting")


# --------------------------------------------------------------------------- discussion


async def test_comments_have_one_level_of_replies_and_a_15_minute_edit_window(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    top = await services.add_comment(quiet_settings, world["neighbour"], idea_id, "Yes, and a bench too.")
    reply = await services.add_comment(quiet_settings, world["third"], idea_id, "A bench would be great.", top)
    deeper = await services.add_comment(quiet_settings, world["fourth"], idea_id, "Agreed with both.", reply)
    rows = {r["id"]: r for r in await Comment.select().where(Comment.subject == f"ideas:{idea_id}")}
    assert rows[reply]["parent"] == top and rows[deeper]["parent"] == top
    thread = await services.comments_of(idea_id)
    assert [c["id"] for c in thread] == [top] and [r["id"] for r in thread[0]["replies"]] == [reply, deeper]
    assert (await idea_row(idea_id))["comment_count"] == 3
    told = await Notification.select().where((Notification.kind == "ideas.reply")
                                             & (Notification.user == world["neighbour"]["id"]))
    assert len(told) == 2

    await services.edit_comment(quiet_settings, world["neighbour"], top, "Yes, and two benches.")
    with pytest.raises(Denied):
        await services.edit_comment(quiet_settings, world["third"], top, "Not mine to edit")
    later = services.now_utc() + timedelta(minutes=16)
    with pytest.raises(RuleError, match="15 minutes"):
        await services.edit_comment(quiet_settings, world["neighbour"], top, "Too late now", now=later)
    assert (await Comment.select().where(Comment.id == top).first())["body"] == "Yes, and two benches."
    with pytest.raises(RuleError):
        await services.add_comment(quiet_settings, world["neighbour"], idea_id, " ")
    with pytest.raises(RuleError):
        await services.add_comment(quiet_settings, world["neighbour"], idea_id, "Reply to nothing", 10**9)


# --------------------------------------------------------------------------- abuse limits


async def test_new_accounts_post_little_and_link_little(quiet_settings, world):
    with pytest.raises(RuleError, match="at most 1 link"):
        await new_idea(quiet_settings, world, author="newcomer",
                       body="See https://a.example and https://b.example for the details of the plan.")
    idea_id = await new_idea(quiet_settings, world, author="newcomer",
                             body="See https://a.example for the details of the lighting plan.")
    await services.add_comment(quiet_settings, world["newcomer"], idea_id, "One more detail.")
    await services.add_comment(quiet_settings, world["newcomer"], idea_id, "And another detail.")
    with pytest.raises(RuleError, match="New accounts may post at most 3"):
        await services.add_comment(quiet_settings, world["newcomer"], idea_id, "A fourth post in an hour.")
    # an older account is not limited this way
    for n in range(4):
        await services.add_comment(quiet_settings, world["neighbour"], idea_id, f"Comment {n} with two links: "
                                   "https://a.example https://b.example")


async def test_everyone_is_rate_limited(settings, world):
    idea_id = await new_idea(settings, world)
    for n in range(services.IDEAS_PER_HOUR - 1):
        await new_idea(settings, world, title=f"Another idea {n} {world['tag']}")
    with pytest.raises(RuleError, match="too often"):
        await new_idea(settings, world, title=f"One too many {world['tag']}")
    assert idea_id


async def test_a_blocked_account_cannot_post_and_staff_cannot_be_blocked_here(quiet_settings, world):
    with pytest.raises(Denied):
        await services.block_account(world["stranger"], world["citizen"]["id"], "spam")
    with pytest.raises(RuleError):
        await services.block_account(world["moderator"], world["citizen"]["id"], " ")
    with pytest.raises(Denied):
        await services.block_account(world["moderator"], world["official"]["id"], "no")
    await services.block_account(world["moderator"], world["citizen"]["id"], "Posts advertising again and again")
    blocked = await User.select().where(User.id == world["citizen"]["id"]).first()
    assert blocked["blocked_reason"] == "Posts advertising again and again"
    assert blocked["session_epoch"] == world["citizen"]["session_epoch"] + 1
    with pytest.raises(Denied, match="blocked"):
        await services.propose(quiet_settings, blocked, title="Blocked person's idea", body="x" * 40,
                               category="other", territory_id=world["district"].id)
    assert await AuditEntry.exists().where((AuditEntry.action == "ideas.block_account")
                                           & (AuditEntry.subject == f"users:{world['citizen']['id']}"))
    await services.unblock_account(world["moderator"], world["citizen"]["id"])
    assert (await User.select().where(User.id == world["citizen"]["id"]).first())["blocked_reason"] is None


# --------------------------------------------------------------------------- moderation


async def test_flags_queue_hide_placeholder_log_and_restore(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    comment = await services.add_comment(quiet_settings, world["neighbour"], idea_id, "Buy cheap watches here!")
    with pytest.raises(RuleError):
        await services.flag(quiet_settings, world["third"], "comment", comment, "boring")
    with pytest.raises(RuleError, match="your own"):
        await services.flag(quiet_settings, world["neighbour"], "comment", comment, "spam")
    await services.flag(quiet_settings, world["third"], "comment", comment, "spam", "Advertising")
    with pytest.raises(RuleError, match="already reported"):
        await services.flag(quiet_settings, world["third"], "comment", comment, "spam")
    await services.flag(quiet_settings, world["fourth"], "comment", comment, "off_topic")

    queue = await services.moderation_queue(world["moderator"])
    entry = next(e for e in queue["reported"] if e["kind"] == "comment" and e["id"] == comment)
    assert entry["reasons"] == ["off_topic", "spam"] and entry["idea_id"] == idea_id
    with pytest.raises(Denied):
        await services.moderation_queue(world["citizen"])
    with pytest.raises(Denied):
        await services.hide(world["citizen"], "comment", comment, "spam")
    with pytest.raises(RuleError):
        await services.hide(world["moderator"], "comment", comment, "because")

    await services.hide(world["moderator"], "comment", comment, "spam", "Advertising of watches")
    row = await Comment.select().where(Comment.id == comment).first()
    assert row["visibility"] == "hidden" and row["hidden_reason"] == "spam"
    assert (await idea_row(idea_id))["comment_count"] == 0
    thread = await services.comments_of(idea_id)
    assert thread[0]["id"] == comment and thread[0]["show_content"] is False  # the placeholder keeps its place
    queue = await services.moderation_queue(world["moderator"])
    assert not any(e["id"] == comment and e["kind"] == "comment" for e in queue["reported"])
    log, _more = await services.moderation_log()
    logged = next(e for e in log if e["target_kind"] == "comment" and e["target_id"] == comment)
    assert logged["action"] == "hidden" and logged["reason"] == "spam" and "moderator" not in logged
    told = await Notification.select().where((Notification.kind == "ideas.moderation")
                                             & (Notification.user == world["neighbour"]["id"]))
    assert told and "Spam" in told[-1]["body"]
    with pytest.raises(RuleError, match="already been moderated"):
        await services.hide(world["moderator"], "comment", comment, "spam")

    await services.restore(world["moderator"], "comment", comment)
    assert (await idea_row(idea_id))["comment_count"] == 1
    assert [e["action"] for e in (await ModerationEntry.select().where(
        (ModerationEntry.target_kind == "comment") & (ModerationEntry.target_id == comment)).order_by(
        ModerationEntry.id))] == ["hidden", "restored"]


async def test_a_hidden_idea_leaves_search_and_lists_but_keeps_a_placeholder(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world)
    await services.flag(quiet_settings, world["neighbour"], "idea", idea_id, "personal_data", "Phone number")
    await services.hide(world["district_moderator"], "idea", idea_id, "personal_data", "A phone number was shown")
    idea = await idea_row(idea_id)
    assert idea["visibility"] == "hidden" and idea["hidden_note"] == "A phone number was shown"
    assert (await outbox_for(idea_id))[-1]["action"] == "delete"
    assert idea_id not in [i["id"] for i in (await services.list_ideas(territory=world["city"].code)).items]
    assert not await services.may_see_content(world["stranger"], idea)
    assert await services.may_see_content(world["moderator"], idea)
    with pytest.raises(RuleError):
        await services.support(world["third"], idea_id)
    with pytest.raises(RuleError):
        await services.add_comment(quiet_settings, world["third"], idea_id, "Still here?")
    from modules.ideas.search import search_documents

    assert f"ideas:{idea_id}" not in [d.id async for d in search_documents()]
    await services.restore(world["moderator"], "idea", idea_id)
    assert (await outbox_for(idea_id))[-1]["action"] == "index"


async def test_moderators_act_only_for_their_organisations(quiet_settings, world):
    from tests.modules.ideas.conftest import person
    from civic.accounts.tables import Membership
    from civic.territory.tables import Organisation

    elsewhere = Organisation(territory=world["orphan"].id, kind="akimat", slug=f"elsewhere-{world['tag']}",
                             name_kk="Басқа", name_ru="Другой", name_en="Elsewhere")
    await elsewhere.save()
    outsider = await person("outsider", world["tag"])
    await Membership(user=outsider["id"], organisation=elsewhere.id, role="moderator").save()
    idea_id = await new_idea(quiet_settings, world)
    with pytest.raises(Denied):
        await services.hide(outsider, "idea", idea_id, "spam")
    queue = await services.moderation_queue(outsider)
    assert idea_id not in [i["id"] for i in queue["pending_ideas"]]
    await services.hide(world["admin"], "idea", idea_id, "spam")  # platform administrators moderate everywhere


async def test_setting_the_policy_is_for_administrators(quiet_settings, world):
    with pytest.raises(Denied):
        await services.set_policy(world["official"], world["district_akimat"].id, moderation="pre",
                                  support_threshold=10)
    with pytest.raises(RuleError):
        await services.set_policy(world["head"], world["district_akimat"].id, moderation="sometimes",
                                  support_threshold=10)
    with pytest.raises(RuleError):
        await services.set_policy(world["head"], world["district_akimat"].id, moderation="pre", support_threshold=0)
    await services.set_policy(world["head"], world["district_akimat"].id, moderation="pre", support_threshold=10)
    await services.set_policy(world["head"], world["district_akimat"].id, moderation="post", support_threshold=20)
    assert await services.policy_for(world["district_akimat"].id) == {
        "moderation": "post", "support_threshold": 20, "organisation": world["district_akimat"].id}


# --------------------------------------------------------------------------- challenges


async def test_a_challenge_collects_ideas_shortlists_answers_and_publishes_its_outcome(quiet_settings, world):
    today = date.today()
    with pytest.raises(Denied):
        await services.create_challenge(world["citizen"], organisation_id=world["department"].id, territory_id=None,
                                        title="Faster buses", problem="Buses are slow " * 5,
                                        success_criteria="Trips 20% faster", deadline=today + timedelta(days=30),
                                        level="dialogue")
    with pytest.raises(RuleError, match="future"):
        await services.create_challenge(world["dept_official"], organisation_id=world["department"].id,
                                        territory_id=None, title="Faster buses on route 92",
                                        problem="Buses are slow " * 5, success_criteria="Trips 20% faster",
                                        deadline=today, level="dialogue")
    challenge_id = await services.create_challenge(
        world["dept_official"], organisation_id=world["department"].id, territory_id=None,
        title=f"Faster buses on route 92 {world['tag']}", problem="Buses on route 92 take 70 minutes at rush hour.",
        success_criteria="Trips at least 20% faster without new buses.", deadline=today + timedelta(days=30),
        level="dialogue")
    first = await new_idea(quiet_settings, world, title=f"Bus lane on Abai {world['tag']}", challenge_id=challenge_id,
                           territory_id=None, category="transport")
    second = await new_idea(quiet_settings, world, author="neighbour", title=f"Board at all doors {world['tag']}",
                            challenge_id=challenge_id, category="transport")
    assert (await idea_row(first))["organisation"] == world["department"].id
    assert (await idea_row(first))["territory"] == world["city"].id

    with pytest.raises(Denied):
        await services.shortlist(world["official"], first)  # another body's staff
    await services.shortlist(world["dept_official"], first)
    response = await OfficialResponse.select().where(OfficialResponse.subject == f"ideas:{first}").first()
    assert response["organisation"] == world["department"].id
    with pytest.raises(RuleError, match="Close the challenge"):
        await services.publish_outcome(world["dept_official"], challenge_id, "We chose the bus lane. " * 3)
    await services.close_challenge(world["dept_official"], challenge_id)
    with pytest.raises(RuleError, match="no longer accepts"):
        await new_idea(quiet_settings, world, author="third", title=f"Late idea {world['tag']}",
                       challenge_id=challenge_id, category="transport")
    with pytest.raises(RuleError, match="Answer every shortlisted idea"):
        await services.publish_outcome(world["dept_official"], challenge_id, "We chose the bus lane. " * 3)
    await responses.answer(response["id"], actor_id=world["dept_official"]["id"],
                           text="A bus lane on Abai avenue will be painted in April.", public=True)
    with pytest.raises(RuleError, match="at least"):
        await services.publish_outcome(world["dept_official"], challenge_id, "Done.")
    await services.publish_outcome(world["dept_official"], challenge_id,
                                   "The bus lane on Abai avenue is chosen; boarding at all doors is tested too.")
    challenge = await services.get_challenge(challenge_id)
    assert challenge["state"] == "outcome" and challenge["outcome_published_at"] is not None
    told = await Notification.select().where((Notification.user == world["neighbour"]["id"])
                                             & (Notification.url == f"/ideas/challenges/{challenge_id}"))
    assert told
    listed = await services.list_challenges()
    assert next(c for c in listed if c["id"] == challenge_id)["idea_count"] == 2
    assert second


# --------------------------------------------------------------------------- open data and personal data


async def test_export_and_personal_data(quiet_settings, world):
    idea_id = await new_idea(quiet_settings, world, cost_estimate="2500000")
    for who in ("neighbour", "third", "fourth"):
        await services.support(world[who], idea_id)
    rows = {r["id"]: r for r in await services.export_rows()}
    row = rows[idea_id]
    assert row["support_count"] == 3 and row["cost_estimate"] == 2_500_000
    assert row["response_received_on"] and row["response_due_on"] and row["response_answered_on"] is None
    assert set(services.EXPORT_FIELDS) <= set(row)
    data = await services.personal_data(world["neighbour"]["id"])
    assert [s["idea"] for s in data["idea_supports"]] == [idea_id]
    mine = await services.personal_data(world["citizen"]["id"])
    assert [i["id"] for i in mine["ideas"]] == [idea_id]


async def test_search_documents_cover_only_public_items(quiet_settings, world):
    from modules.ideas.search import search_documents

    public = await new_idea(quiet_settings, world)
    await IdeaPolicy(organisation=world["district_akimat"].id, moderation="pre", support_threshold=5).save()
    pending = await new_idea(quiet_settings, world, author="neighbour", title=f"Pending idea {world['tag']}")
    ids = [d.id async for d in search_documents()]
    assert f"ideas:{public}" in ids and f"ideas:{pending}" not in ids
    document = [d async for d in search_documents() if d.id == f"ideas:{public}"][0]
    assert document.url == f"/ideas/{public}" and document.module == "ideas" and document.level == "consult"
    assert document.created_at.tzinfo is not None


# --------------------------------------------------------------------------- demo


async def test_the_demo_loads_once_with_answered_overdue_and_challenge_examples(settings, database):
    from modules.ideas import demo

    steps: list[str] = []
    await demo.load_demo(settings, steps.append)
    titles = [i.title for i in demo.IDEAS] + [demo.PENDING_IDEA.title]
    ideas = await Idea.select().where(Idea.title.is_in(titles))
    assert len(ideas) == len(titles) and steps
    before = (await Idea.count(), await Support.count(), await Comment.count(), await OfficialResponse.count())

    again = await demo.load_demo(settings, steps.append)
    assert again["ideas"] == 0
    assert (await Idea.count(), await Support.count(), await Comment.count(), await OfficialResponse.count()) == before

    by_title = {i["title"]: i for i in ideas}
    languages = {i["lang"] for i in ideas}
    assert {"kk", "ru"} <= languages
    districts = {i["territory"] for i in ideas}
    assert len(districts) >= 9  # the eight Almaty districts, the city itself, an Aral okrug
    answered = [i for i in ideas if i["answered_at"]]
    assert len(answered) >= 4
    overdue = await OfficialResponse.select().where(
        OfficialResponse.subject.like("ideas:%") & OfficialResponse.state.is_in(list(responses.ResponseState.OPEN)))
    assert any(responses.traffic_light(r) == "red" for r in overdue)
    for idea in ideas:
        assert idea["support_count"] == await Support.count().where(Support.subject == f"ideas:{idea['id']}")
    implemented = by_title["Пешеходный переход через Рыскулова у рынка «Алтын Орда»"]
    assert implemented["status"] == "implemented" and implemented["progress"] == 100
    assert by_title[demo.PENDING_IDEA.title]["visibility"] == "pending"
    challenges = {c["title"]: c for c in await services.list_challenges()}
    assert challenges[demo.CHALLENGES[0].title]["accepting"] is True
    assert challenges[demo.CHALLENGES[1].title]["state"] == "outcome"
    log, _more = await services.moderation_log(per_page=500)
    assert any(e["action"] == "hidden" and e["reason"] == "spam" for e in log)
    thread = await Comment.select().where((Comment.subject == f"ideas:{by_title[demo.IDEAS[0].title]['id']}")
                                          & (Comment.kind == "answer"))
    assert len(thread) == 1


async def test_the_shared_participation_rows_reach_the_export_and_account_deletion(world, settings):
    from civic.participation import people
    from civic.participation.tables import Flag, Follow, Support

    idea_id = await new_idea(settings, world)
    await services.support(world["neighbour"], idea_id)
    comment = await services.add_comment(settings, world["neighbour"], idea_id, "A bench by the stop, please.")
    await services.flag(settings, world["citizen"], "comment", comment, "spam")
    data = await people.personal_data(world["neighbour"]["id"])
    assert [s["subject"] for s in data["supports"]] == [f"ideas:{idea_id}"]
    assert [c["id"] for c in data["comments"]] == [comment]
    assert f"ideas:{idea_id}" in [f["subject"] for f in data["follows"]]
    assert [r["target_id"] for r in (await people.personal_data(world["citizen"]["id"]))["reports"]] == [comment]
    await people.forget_person(world["neighbour"]["id"])
    await people.forget_person(world["citizen"]["id"])
    assert not await Follow.exists().where(Follow.user == world["neighbour"]["id"])
    assert await Support.count().where(Support.subject == f"ideas:{idea_id}") == 1  # the counter still matches
    assert not await Flag.exists().where(Flag.reporter == world["citizen"]["id"])
