"""The rules of appeals: numbering, routing, the 15-day re-filing block, duplicates and the
30-day answer validity, joint answers, deadlines across holidays, re-routing, publication
without personal data, attachments, e-Otinish export, the analysis and the data export."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

import pytest

from civic.notify.tables import Notification
from civic.responses import services as responses
from civic.responses.services import ResponseRuleError
from civic.responses.tables import OfficialResponse
from civic.responses.workdays import add_working_days, is_working_day
from modules.appeals import services
from civic.rules import Denied, RuleError, TooMany
from modules.appeals.services import RefilingBlocked, Upload
from modules.appeals.tables import Appeal, AppealAttachment, AppealCounter
from search.tables import SearchOutboxEntry
from tests.modules.appeals.conftest import TINY_PDF, TINY_PNG, new_appeal


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


def random_prefix() -> str:
    return "T" + "".join(random.choices(string.ascii_uppercase, k=6))


# --------------------------------------------------------------------------- numbering


def test_number_prefix_comes_from_the_city_or_region():
    assert services.number_prefix("/kz/almaty/bostandyk/") == "ALM"
    assert services.number_prefix("/kz/kyzylorda/aral/amanotkel/") == "KZO"
    assert services.number_prefix("/kz/astana/") == "AST"
    assert services.number_prefix("/kz/") == "KZ"
    assert services.number_prefix("/kz/newtown/") == "NEW"


def test_numbers_are_normalised_and_checked():
    assert services.normalise_number(" alm-2026-000123 ") == "ALM-2026-000123"
    assert services.normalise_number("ALM 2026 000123") is None
    assert services.normalise_number("") is None
    assert services.normalise_number("ALM-2026-12") is None
    assert services.format_number("ALM", 2026, 123) == "ALM-2026-000123"
    assert services.format_number("ALM", 2026, 1234567) == "ALM-2026-1234567"


async def test_numbers_count_up_per_prefix_and_year(database):
    prefix = random_prefix()
    from civic.db import write_transaction
    from civic.runtime import current_engine

    async with write_transaction(current_engine()):
        first = await services.allocate_number(prefix, 2026)
        second = await services.allocate_number(prefix, 2026)
        other_year = await services.allocate_number(prefix, 2027)
    assert (first, second, other_year) == (f"{prefix}-2026-000001", f"{prefix}-2026-000002", f"{prefix}-2027-000001")


async def test_a_rolled_back_filing_gives_its_number_back(database):
    from civic.db import write_transaction
    from civic.runtime import current_engine

    prefix = random_prefix()
    with pytest.raises(RuntimeError):
        async with write_transaction(current_engine()):
            await services.allocate_number(prefix, 2026)
            raise RuntimeError("the filing failed")
    async with write_transaction(current_engine()):
        assert await services.allocate_number(prefix, 2026) == f"{prefix}-2026-000001"
    assert await AppealCounter.count().where(AppealCounter.prefix == prefix) == 1


async def test_filing_gives_a_number_opens_a_response_and_tells_the_citizen(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    assert services.NUMBER_RE.match(appeal["number"])
    assert appeal["number"].split("-")[1] == str(services.almaty_today().year)
    assert appeal["status"] == "open" and appeal["channel"] == "online"
    response = await OfficialResponse.objects().where(OfficialResponse.id == appeal["response"]).first()
    assert response.subject == f"appeals:{appeal['id']}" and response.subject_is_public is False
    assert response.organisation == world["energy"].id  # the routing rule for energy
    assert response.due_on == add_working_days(appeal["received_on"], 15)
    assert appeal["number"] in response.subject_title
    notes = await Notification.select().where(Notification.user == world["citizen"]["id"])
    assert any(appeal["number"] in n["title"] for n in notes)


async def test_the_number_stays_when_the_appeal_is_forwarded(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    await responses.forward(appeal["response"], actor_id=world["energy_official"]["id"],
                            to_organisation_id=world["mobility"].id)
    again = await services.get_appeal_by_id(appeal["id"])
    assert again["number"] == appeal["number"]
    assert again["holder"] == world["mobility"].id and again["organisation"] == world["energy"].id
    assert again["forward_count"] == 1


# --------------------------------------------------------------------------- routing and validation


async def test_routing_rule_else_the_akimat_of_the_territory(world):
    assert await services.route_for("energy", world["district"].id) == world["energy"].id
    assert await services.route_for("courtyards", world["district"].id) == world["district_akimat"].id
    # no akimat of its own: the city's
    assert await services.route_for("courtyards", world["other_district"].id) == world["akimat"].id


async def test_the_most_specific_routing_rule_wins(world):
    await services.set_routing_rule(world["admin"], category="courtyards", territory_id=world["city"].id,
                                    organisation_id=world["mobility"].id)
    await services.set_routing_rule(world["admin"], category="courtyards", territory_id=world["district"].id,
                                    organisation_id=world["district_akimat"].id)
    assert await services.route_for("courtyards", world["district"].id) == world["district_akimat"].id
    assert await services.route_for("courtyards", world["other_district"].id) == world["mobility"].id
    # setting it again replaces it
    await services.set_routing_rule(world["admin"], category="courtyards", territory_id=world["city"].id,
                                    organisation_id=world["energy"].id)
    assert await services.route_for("courtyards", world["other_district"].id) == world["energy"].id


async def test_only_administrators_set_routing_within_their_akimat(world):
    with pytest.raises(Denied):
        await services.set_routing_rule(world["official"], category="land", territory_id=world["city"].id,
                                        organisation_id=world["energy"].id)
    await services.set_routing_rule(world["head"], category="land", territory_id=world["city"].id,
                                    organisation_id=world["energy"].id)  # the head of the city akimat
    assert await services.may_manage_routing(world["head"]) and not await services.may_manage_routing(world["official"])


@pytest.mark.parametrize("changes, field", [
    ({"kind": "wish"}, "kind"),
    ({"category": "weather"}, "category"),
    ({"title": "abc"}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": "short"}, "body"),
    ({"territory_id": None}, "territory"),
    ({"territory_id": 10**9}, "territory"),
])
async def test_bad_input_is_refused_with_its_field_and_nothing_is_saved(quiet_settings, world, changes, field):
    before = await Appeal.count()
    with pytest.raises(RuleError) as refused:
        await new_appeal(quiet_settings, world, **changes)
    assert refused.value.field == field and refused.value.status_code == 400
    assert await Appeal.count() == before


async def test_unconfirmed_people_cannot_file_online(quiet_settings, world):
    with pytest.raises(Denied):
        await new_appeal(quiet_settings, world, "unconfirmed")


async def test_staff_register_phone_letter_and_reception_appeals_naming_the_channel(quiet_settings, world):
    appeal = await services.file_appeal(
        quiet_settings, None, kind="request", category="courtyards", title="Broken bench in the yard",
        body="A caller says the bench in the yard of block 3 is broken.", territory_id=world["district"].id,
        channel="phone", registered_by=world["official"], applicant_name="Aigul S.", applicant_contact="+7 701 000 00 00")
    assert appeal["channel"] == "phone" and appeal["citizen"] is None and appeal["applicant"] == "Aigul S."
    assert appeal["registered_by"] == world["official"]["id"]
    with pytest.raises(RuleError) as refused:  # a name is needed without an account
        await services.file_appeal(quiet_settings, None, kind="request", category="courtyards", title="Broken bench",
                                   body="A caller says the bench is broken.", territory_id=world["district"].id,
                                   channel="letter", registered_by=world["official"])
    assert refused.value.field == "applicant_name"
    with pytest.raises(RuleError):  # staff name a staff channel
        await services.file_appeal(quiet_settings, world["citizen"], kind="request", category="courtyards",
                                   title="Broken bench", body="A caller says the bench is broken.",
                                   territory_id=world["district"].id, channel="online", registered_by=world["official"])
    with pytest.raises(Denied):  # a citizen is not staff
        await services.file_appeal(quiet_settings, None, kind="request", category="courtyards", title="Broken bench",
                                   body="A caller says the bench is broken.", territory_id=world["district"].id,
                                   channel="phone", registered_by=world["citizen"], applicant_name="X")


async def test_filing_is_rate_limited_per_person(settings, world):
    limited = settings.with_changes(rate_limits=True)
    for n in range(services.APPEALS_PER_HOUR):
        await new_appeal(limited, world, category=list(services.CATEGORIES)[n], title=f"Different problem number {n}")
    with pytest.raises(TooMany):
        await new_appeal(limited, world, category="other", title="Yet another problem")


# --------------------------------------------------------------------------- the 15-day rule


async def test_the_same_appeal_again_within_15_days_is_refused_and_shows_the_open_one(quiet_settings, world):
    today = services.almaty_today()
    first = await new_appeal(quiet_settings, world, today=today - timedelta(days=14))
    with pytest.raises(RefilingBlocked) as blocked:
        await new_appeal(quiet_settings, world, today=today,
                         title=f"Still no hot water in block 7 {world['tag']}!")
    assert blocked.value.existing == first["number"] and blocked.value.status_code == 409
    assert await services.find_refiling(world["citizen"]["id"], category="energy", territory_id=world["district"].id,
                                        title=first["title"], body=first["body"]) == first["number"]


async def test_the_same_appeal_after_15_days_is_accepted(quiet_settings, world):
    today = services.almaty_today()
    await new_appeal(quiet_settings, world, today=today - timedelta(days=15))
    again = await new_appeal(quiet_settings, world, today=today)
    assert again["number"]


async def test_another_person_or_another_problem_is_not_blocked(quiet_settings, world):
    await new_appeal(quiet_settings, world)
    await new_appeal(quiet_settings, world, "neighbour")  # the neighbour may report the same
    await new_appeal(quiet_settings, world, category="transport", title="Bus 92 comes every forty minutes",
                     body="In the mornings the bus is full and comes only every forty minutes.")
    await new_appeal(quiet_settings, world, territory_id=world["other_district"].id)  # another place


def test_the_same_appeal_is_recognised_across_scripts_and_endings():
    base = {"category": "energy", "territory": 1, "title": "Жылу жоқ, Абай көшесі 12 үй",
            "body": "Батареялар суық, жылу берілмейді."}
    assert services.same_appeal(base, {**base, "title": "Jylu joq, Abai koshesi 12 ui"})
    assert services.same_appeal(base, {**base, "title": "Абай көшесіндегі 12 үйде жылу жоқ"})
    assert not services.same_appeal(base, {**base, "title": "Сынған орындық", "body": "Аулада орындық сынған."})
    assert not services.same_appeal(base, {**base, "category": "housing"})


# --------------------------------------------------------------------------- duplicates and the 30 days


async def test_joining_a_duplicate_then_one_answer_serves_both(quiet_settings, world):
    primary = await new_appeal(quiet_settings, world)
    duplicate = await new_appeal(quiet_settings, world, "neighbour", title="Hot water is off in our block 7")
    joined_to = await services.join(world["energy_official"], duplicate["id"], primary["number"].lower())
    assert joined_to["id"] == primary["id"]
    assert (await services.get_appeal_by_id(duplicate["id"]))["duplicate_of_number"] == primary["number"]

    await services.answer(world["energy_official"], primary["id"], "The pipe is repaired; hot water is back on Friday.")
    for appeal_id in (primary["id"], duplicate["id"]):
        appeal = await services.get_appeal_by_id(appeal_id)
        assert appeal["status"] == "answered" and appeal["response_state"] == "answered"
        assert appeal["answer"] == "The pipe is repaired; hot water is back on Friday."
    notes = await Notification.select().where(Notification.user == world["neighbour"]["id"])
    assert any("answered" in n["kind"] for n in notes)


async def test_an_answer_up_to_30_days_old_is_given_to_a_new_duplicate_at_once(quiet_settings, world):
    today = services.almaty_today()
    primary = await new_appeal(quiet_settings, world, today=today - timedelta(days=40))
    await responses.answer(primary["response"], actor_id=world["energy_official"]["id"], text="Fixed on the 3rd.",
                           public=False, today=today - timedelta(days=30))
    late = await new_appeal(quiet_settings, world, "neighbour")
    await services.join(world["energy_official"], late["id"], primary["number"], today=today)
    late = await services.get_appeal_by_id(late["id"])
    assert late["status"] == "answered" and late["answer"] == "Fixed on the 3rd."
    assert late["response_answered_on"] == today


async def test_an_answer_older_than_30_days_cannot_serve_a_duplicate(quiet_settings, world):
    today = services.almaty_today()
    primary = await new_appeal(quiet_settings, world, today=today - timedelta(days=45))
    await responses.answer(primary["response"], actor_id=world["energy_official"]["id"], text="Fixed.",
                           public=False, today=today - timedelta(days=31))
    late = await new_appeal(quiet_settings, world, "neighbour")
    with pytest.raises(RuleError) as refused:
        await services.join(world["energy_official"], late["id"], primary["number"], today=today)
    assert refused.value.field == "primary" and refused.value.params["days"] == 30
    late = await services.get_appeal_by_id(late["id"])
    assert late["status"] == "open" and late["duplicate_of"] is None


def test_answer_validity_counts_calendar_days():
    day = date(2026, 3, 1)
    assert services.answer_still_valid(day, day + timedelta(days=30))
    assert not services.answer_still_valid(day, day + timedelta(days=31))
    assert not services.answer_still_valid(None, day)


async def test_joining_rules(quiet_settings, world):
    a = await new_appeal(quiet_settings, world)
    b = await new_appeal(quiet_settings, world, "neighbour")
    c = await new_appeal(quiet_settings, world, "stranger")
    with pytest.raises(RuleError):
        await services.join(world["energy_official"], a["id"], a["number"])  # itself
    with pytest.raises(RuleError):
        await services.join(world["energy_official"], a["id"], "ALM-1999-999999")  # unknown
    with pytest.raises(Denied):
        await services.join(world["mobility_official"], b["id"], a["number"])  # not their body
    await services.join(world["energy_official"], b["id"], a["number"])
    with pytest.raises(RuleError):
        await services.join(world["energy_official"], b["id"], c["number"])  # already joined
    # joining to a duplicate joins to the appeal it is joined to
    assert (await services.join(world["energy_official"], c["id"], b["number"]))["id"] == a["id"]
    # joining an appeal that has duplicates moves them along
    d = await new_appeal(quiet_settings, world, "citizen", category="transport", title="Bus stop without a shelter",
                         body="The bus stop on the main road has no shelter from rain and sun.",
                         organisation_id=world["energy"].id)
    await services.join(world["energy_official"], a["id"], d["number"])
    assert {r["id"] for r in await services.duplicates_of(d["id"])} == {a["id"], b["id"], c["id"]}
    await services.detach(world["energy_official"], c["id"])
    assert (await services.get_appeal_by_id(c["id"]))["duplicate_of"] is None


# --------------------------------------------------------------------------- joint answers


async def test_a_joint_answer_waits_for_every_body_and_reaches_the_citizen_once(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, category="transport", title="Dark crossing without lights",
                              body="The crossing by school 180 has no traffic light and no street lights.",
                              organisation_id=world["mobility"].id)
    lead = world["mobility_official"]
    with pytest.raises(Denied):
        await services.add_participant(world["energy_official"], appeal["id"], world["energy"].id)
    await services.add_participant(lead, appeal["id"], world["energy"].id)
    with pytest.raises(RuleError):
        await services.add_participant(lead, appeal["id"], world["energy"].id)  # once
    with pytest.raises(RuleError) as waiting:
        await services.answer(lead, appeal["id"], "A traffic light comes in August.")
    assert waiting.value.field == "answer"
    # the engine's own answer route is refused too: the parts must be in the answer
    with pytest.raises(ResponseRuleError):
        await responses.answer(appeal["response"], actor_id=lead["id"], text="Only our part.")
    with pytest.raises(Denied):
        await services.contribute(lead, appeal["id"], world["energy"].id, "Not ours to write.")
    await services.contribute(world["energy_official"], appeal["id"], world["energy"].id,
                              "Six street lights are installed by September.")
    await services.answer(lead, appeal["id"], "A traffic light comes in August.")
    answered = await services.get_appeal_by_id(appeal["id"])
    assert answered["status"] == "answered"
    assert "A traffic light comes in August." in answered["answer"]
    assert "Six street lights are installed by September." in answered["answer"]
    assert world["energy"].name_en in answered["answer"] or world["energy"].name_kk in answered["answer"]
    assert await OfficialResponse.count().where(OfficialResponse.subject == f"appeals:{appeal['id']}") == 1
    answered_notes = await Notification.count().where((Notification.user == world["citizen"]["id"])
                                                      & (Notification.kind == "response.answered"))
    assert answered_notes == 1


async def test_a_body_no_longer_asked_does_not_hold_the_answer(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    await services.add_participant(world["energy_official"], appeal["id"], world["mobility"].id)
    await services.remove_participant(world["energy_official"], appeal["id"], world["mobility"].id)
    await services.answer(world["energy_official"], appeal["id"], "Done.")
    assert (await services.get_appeal_by_id(appeal["id"]))["status"] == "answered"


# --------------------------------------------------------------------------- deadlines


def _weekdays_only(start: date, days: int) -> date:
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


async def test_deadlines_count_working_days_across_holidays(quiet_settings, world):
    received = date(2026, 3, 16)  # Nauryz (21–23 March) falls within the term
    appeal = await new_appeal(quiet_settings, world, today=received)
    assert appeal["due_on"] == add_working_days(received, 15)
    assert is_working_day(appeal["due_on"])
    holidays_in_term = [received + timedelta(days=n) for n in range(1, (appeal["due_on"] - received).days)
                        if (received + timedelta(days=n)).weekday() < 5 and not is_working_day(received + timedelta(days=n))]
    assert holidays_in_term, "Nauryz must fall on working days of the week within the term"
    assert appeal["due_on"] > _weekdays_only(received, 15)


async def test_extension_forwarding_window_and_the_traffic_light(quiet_settings, world):
    today = services.almaty_today()
    old = await new_appeal(quiet_settings, world, today=today - timedelta(days=40))
    assert (await services.get_appeal_by_id(old["id"]))["light"] == "red"
    with pytest.raises(ResponseRuleError):  # forwarding only within 3 working days of receipt
        await responses.forward(old["response"], actor_id=world["energy_official"]["id"],
                                to_organisation_id=world["mobility"].id)
    fresh = await new_appeal(quiet_settings, world, "neighbour")
    assert (await services.get_appeal_by_id(fresh["id"]))["light"] == "green"
    new_due = fresh["due_on"] + timedelta(days=20)
    await responses.extend(fresh["response"], actor_id=world["energy_official"]["id"], new_due_on=new_due,
                           reason="An inspection is needed.")
    assert (await services.get_appeal_by_id(fresh["id"]))["effective_due_on"] == new_due


# --------------------------------------------------------------------------- publication


async def test_publishing_needs_consent_and_text_without_personal_data(quiet_settings, world):
    private = await new_appeal(quiet_settings, world)
    with pytest.raises(RuleError):
        await services.publish(world["energy_official"], private["id"], public_title="No hot water in block 7",
                               public_body="No hot water in block 7 for a week.")
    appeal = await new_appeal(quiet_settings, world, "neighbour", publish_consent=True)
    name = world["neighbour"]["display_name"].split()[0]
    for field, value in (("public_body", "Call me on +7 701 123 45 67, no hot water."),
                         ("public_body", "Write to me: someone@example.kz, no hot water."),
                         ("public_body", "My IIN is 900101300123, there is no hot water."),
                         ("public_title", f"{name} has no hot water in block 7")):
        values = {"public_title": "No hot water in block 7", "public_body": "No hot water in block 7 for a week.",
                  field: value}
        with pytest.raises(RuleError) as refused:
            await services.publish(world["energy_official"], appeal["id"], **values)
        assert refused.value.field == field
    with pytest.raises(Denied):
        await services.publish(world["mobility_official"], appeal["id"], public_title="No hot water in block 7",
                               public_body="No hot water in block 7 for a week.")


async def test_only_the_redacted_text_is_indexed_and_consent_can_be_withdrawn(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, publish_consent=True,
                              body="I am Ivan, flat 12, phone +7 701 123 45 67. No hot water for a week.")
    drafted = services.redact(appeal["body"], [world["citizen"]["display_name"]])
    assert "+7 701" not in drafted
    await services.publish(world["energy_official"], appeal["id"], public_title="No hot water in block 7",
                           public_body="No hot water in block 7 for a week.")
    entry = await SearchOutboxEntry.select().where(SearchOutboxEntry.document_id == f"appeals:{appeal['id']}").order_by(
        SearchOutboxEntry.id, ascending=False).first()
    document = _json(entry["document"])
    assert entry["action"] == "index" and document["module"] == "appeals" and document["status"] == "open"
    assert document["title"] == "No hot water in block 7" and "+7 701" not in document["body"]
    assert world["citizen"]["display_name"] not in str(document) and world["citizen"]["email"] not in str(document)
    assert document["url"] == f"/appeals/{appeal['number']}"
    await services.answer(world["energy_official"], appeal["id"], "Fixed; call +7 700 000 00 00 if not.")
    with pytest.raises(RuleError):  # the answer must be redacted too
        await services.publish(world["energy_official"], appeal["id"], public_title="No hot water in block 7",
                               public_body="No hot water in block 7 for a week.",
                               public_answer="Fixed; call +7 700 000 00 00 if not.")
    await services.publish(world["energy_official"], appeal["id"], public_title="No hot water in block 7",
                           public_body="No hot water in block 7 for a week.", public_answer="Fixed; call […] if not.")
    with pytest.raises(Denied):
        await services.set_consent(world["neighbour"], appeal["id"], False)
    await services.set_consent(world["citizen"], appeal["id"], False)
    again = await services.get_appeal_by_id(appeal["id"])
    assert not again["is_published"] and not again["publish_consent"]
    entry = await SearchOutboxEntry.select().where(SearchOutboxEntry.document_id == f"appeals:{appeal['id']}").order_by(
        SearchOutboxEntry.id, ascending=False).first()
    assert entry["action"] == "delete"


async def test_a_published_appeal_forwarded_to_another_body_is_found_under_that_body(quiet_settings, world):
    """The search document names the body holding the appeal; a forward re-indexes it in the
    forward's transaction."""
    appeal = await new_appeal(quiet_settings, world, publish_consent=True)
    await services.publish(world["energy_official"], appeal["id"], public_title="No hot water in block 7",
                           public_body="No hot water in block 7 for a week.")

    async def latest() -> dict:
        entry = await SearchOutboxEntry.select().where(
            SearchOutboxEntry.document_id == f"appeals:{appeal['id']}").order_by(SearchOutboxEntry.id, ascending=False).first()
        return _json(entry["document"])

    assert (await latest())["organisation"] == world["energy"].slug
    await responses.forward(appeal["response"], actor_id=world["energy_official"]["id"],
                            to_organisation_id=world["mobility"].id)
    assert (await latest())["organisation"] == world["mobility"].slug


async def test_search_documents_offer_only_published_appeals(quiet_settings, world):
    from modules.appeals.search import search_documents

    hidden = await new_appeal(quiet_settings, world, publish_consent=True)
    shown = await new_appeal(quiet_settings, world, "neighbour", publish_consent=True)
    await services.publish(world["energy_official"], shown["id"], public_title="No hot water in block 7",
                           public_body="No hot water in block 7 for a week.")
    ids = {d.id async for d in search_documents()}
    assert f"appeals:{shown['id']}" in ids and f"appeals:{hidden['id']}" not in ids


# --------------------------------------------------------------------------- attachments


def test_attachments_are_typed_by_their_bytes():
    assert services.sniff_attachment(TINY_PDF) == "application/pdf"
    assert services.sniff_attachment(TINY_PNG) == "image/png"
    assert services.sniff_attachment(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert services.sniff_attachment(b"<svg onload=alert(1)>") is None
    assert services.sniff_attachment(b"MZ\x90\x00") is None


@pytest.mark.parametrize("uploads, message", [
    ([Upload("a.pdf", TINY_PDF)] * 4, "Attach at most %(count)s files."),
    ([Upload("evil.pdf", b"<html><script>")], "The file %(name)s is not a PDF, JPEG or PNG file."),
    ([Upload("big.pdf", b"%PDF-" + b"0" * services.MAX_ATTACHMENT_BYTES)], "The file %(name)s is larger than %(size)s MB."),
    ([Upload("empty.pdf", b"")], "The file %(name)s is empty."),
])
async def test_bad_attachments_are_refused_and_nothing_is_stored(quiet_settings, world, uploads, message):
    folder = quiet_settings.uploads_dir / "appeals"
    before = set(folder.iterdir()) if folder.exists() else set()
    with pytest.raises(RuleError) as refused:
        await new_appeal(quiet_settings, world, attachments=uploads)
    assert refused.value.msgid == message and refused.value.field == "attachments"
    assert (set(folder.iterdir()) if folder.exists() else set()) == before


async def test_attachments_are_stored_under_random_names(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, attachments=[Upload("../../Scan of letter.pdf", TINY_PDF),
                                                                  Upload("photo.png", TINY_PNG)])
    rows = await AppealAttachment.select().where(AppealAttachment.appeal == appeal["id"]).order_by(AppealAttachment.id)
    assert [r["content_type"] for r in rows] == ["application/pdf", "image/png"]
    assert rows[0]["filename"] == "Scan-of-letter.pdf" and len(rows[0]["sha256"]) == 64
    assert services.attachment_path(quiet_settings, rows[0]["stored_name"]).read_bytes() == TINY_PDF
    with pytest.raises(ValueError):
        services.attachment_path(quiet_settings, "../secret_key")


async def test_a_refused_filing_removes_the_stored_files(quiet_settings, world):
    await new_appeal(quiet_settings, world)
    folder = quiet_settings.uploads_dir / "appeals"
    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.iterdir())
    with pytest.raises(RefilingBlocked):
        await new_appeal(quiet_settings, world, attachments=[Upload("a.pdf", TINY_PDF)])
    assert set(folder.iterdir()) == before


# --------------------------------------------------------------------------- e-Otinish


async def test_eotinish_export_and_number(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world, attachments=[Upload("a.pdf", TINY_PDF)])
    with pytest.raises(RuleError):
        await services.set_eotinish_number(world["energy_official"], appeal["id"], "<script>")
    with pytest.raises(Denied):
        await services.set_eotinish_number(world["mobility_official"], appeal["id"], "ЖТ-2026-0001")
    await services.set_eotinish_number(world["energy_official"], appeal["id"], "ЖТ-2026-0001")
    exported = await services.eotinish_export(await services.get_appeal_by_id(appeal["id"]))
    assert exported["format"] == services.EXPORT_FORMAT
    assert exported["number"] == appeal["number"] and exported["eotinish_number"] == "ЖТ-2026-0001"
    assert exported["kind"] == {"code": "complaint", "kk": "Шағым", "ru": "Жалоба"}
    assert exported["applicant"]["email"] == world["citizen"]["email"]
    assert exported["addressee"]["slug"] == world["energy"].slug
    assert exported["attachments"][0]["content_type"] == "application/pdf"
    assert exported["deadline"]["due_on"] == appeal["due_on"].isoformat()
    assert [e["event"] for e in exported["history"]][:2] == ["filed", "received"] or \
        {"filed", "received"} <= {e["event"] for e in exported["history"]}
    import json

    json.dumps(exported)  # plain JSON


# --------------------------------------------------------------------------- analysis and data export


async def test_analysis_counts_on_time_rerouting_and_ratings(quiet_settings, world):
    filters = services.AnalysisFilters(months=3, district=world["district"].path)
    a = await new_appeal(quiet_settings, world)
    b = await new_appeal(quiet_settings, world, "neighbour", category="courtyards", title="Broken swings",
                         body="The swings in the yard are broken and dangerous.")
    await responses.forward(b["response"], actor_id=world["official"]["id"], to_organisation_id=world["mobility"].id)
    await services.answer(world["energy_official"], a["id"], "Fixed.")
    await responses.rate(a["response"], user_id=world["citizen"]["id"], rating=4, solved=True)
    result = await services.analysis(filters)
    total = result["total"]
    assert total["appeals"] == 2 and total["answered"] == 1 and total["on_time_percent"] == 100
    assert total["rerouted"] == 1 and total["rerouted_percent"] == 50 and total["mean_rating"] == 4.0
    assert {d["key"]: d["appeals"] for d in result["dimensions"]["category"]} == {"energy": 1, "courtyards": 1}
    assert {d["key"] for d in result["dimensions"]["holder_slug"]} == {world["energy"].slug, world["mobility"].slug}
    assert result["months"][-1]["appeals"] == 2 and len(result["months"]) == 3
    rows = services.analysis_csv_rows(result["rows"])
    assert sum(r["appeals"] for r in rows) == 2 and set(rows[0]) == set(services.CSV_FIELDS)


async def test_personal_data_export_lists_appeals(quiet_settings, world):
    appeal = await new_appeal(quiet_settings, world)
    data = await services.personal_data(world["citizen"]["id"])
    assert [a["number"] for a in data["appeals"]] == [appeal["number"]]
    assert data["appeals"][0]["body"] == appeal["body"]
    assert data["reception_bookings"] == []


def test_the_applicants_postal_address_counts_as_personal_data():
    contact = "Zheltoksan street 14, flat 9, Almaty"
    text = "The caller at Zheltoksan street 14, flat 9 has had no hot water since Monday."
    assert "address" in services.personal_data_found(text, [], contact)
    drafted = services.redact(text, [], contact)
    assert "14" not in drafted and "flat 9" not in drafted and "Zheltoksan" not in drafted
    assert drafted.startswith("The caller at [") and drafted.endswith("has had no hot water since Monday.")
    # the street alone is where the problem is, not who the caller is
    assert services.personal_data_found("The pavement on Zheltoksan street is broken.", [], contact) == []
    assert services.personal_data_found(text, [], "") == []
