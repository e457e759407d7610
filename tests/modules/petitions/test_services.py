"""The rules of petitions: thresholds, link-only visibility, moderation terms across holidays,
signing and its limits, the official answer, the close, anonymisation and abuse review."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from civic.accounts.tables import AuditEntry
from civic.notify.tables import Notification
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic.responses.workdays import add_working_days, working_days_between
from civic.rules import Denied, NotFound, RuleError, TooMany
from modules.petitions import services

from modules.petitions.tables import Invalidation, Petition, PetitionRule, Signature
from search.tables import SearchOutboxEntry
from tests.modules.petitions.conftest import crowd, new_petition, open_petition, person


async def row(petition_id: int) -> dict:
    return await Petition.select().where(Petition.id == petition_id).first()


async def stored_and_counted(petition_id: int) -> tuple[int, int]:
    stored = (await row(petition_id))["signature_count"]
    counted = await Signature.count().where((Signature.petition == petition_id) & (Signature.valid == True))  # noqa: E712
    return stored, counted


async def sign_all(settings, people, petition_id, **kwargs):
    return [await services.sign(settings, p, petition_id, **kwargs) for p in people]


# --------------------------------------------------------------------------- thresholds and rules


@pytest.mark.parametrize("kind, territory, population, expected", [
    ("akimat", "city", 2_280_000, 2_500),  # a city akimat
    ("maslikhat", "city", 2_280_000, 5_000),  # a city maslikhat
    ("akimat", "region", 840_000, 8_400),  # 1% of the region's residents
    ("maslikhat", "region", 840_000, 16_800),  # 2%
    ("akimat", "region", 812_345, 8_124),  # rounded up
    ("maslikhat", "region", 812_345, 16_247),
    ("akimat", "district", 385_000, 2_500),  # local bodies: 1%, at most 2,500
    ("akimat", "district", 80_000, 800),
    ("akimat", "rural_okrug", 3_000, 100),  # at least 100
    ("akimat", "district", None, 2_500),  # population unknown
    ("akimat", "region", None, 2_500),
])
def test_default_thresholds_follow_the_online_petition_rules(kind, territory, population, expected):
    threshold, source = services.default_threshold(kind, territory, population)
    assert threshold == expected
    assert source  # says where it comes from


async def test_rules_of_each_kind_of_addressee(world, settings):
    assert (await services.rules_for(world["akimat"].id)).signature_threshold == 2_500
    assert (await services.rules_for(world["maslikhat"].id)).signature_threshold == 5_000
    assert (await services.rules_for(world["region_akimat"].id)).signature_threshold == 8_124
    assert (await services.rules_for(world["region_maslikhat"].id)).signature_threshold == 16_247
    assert (await services.rules_for(world["aral_akimat"].id)).signature_threshold == 800
    # a department answers for its akimat
    assert (await services.rules_for(world["department"].id)).signature_threshold == 2_500
    rules = await services.rules_for(world["akimat"].id, settings)
    assert (rules.listing_threshold, rules.moderation_working_days, rules.signing_months,
            rules.response_working_days) == (50, 20, 6, 15)
    assert rules.signing_level == 1  # the demo: e-mail confirmed
    assert rules.prohibited_topics == tuple(services.PROHIBITED_TOPICS)


def test_signing_level_is_verified_residents_where_the_state_identity_service_is_connected(settings):
    assert services.platform_signing_level(settings) == 1
    connected = settings.with_changes(oidc_issuer="https://idp.example.kz", oidc_client_id="ashyq")
    assert services.platform_signing_level(connected) == 2


async def test_an_administrator_sets_the_rules_and_running_petitions_keep_theirs(world, settings):
    petition = await open_petition(settings, world)
    await services.set_rules(world["head"], world["akimat"].id,
                             {"signature_threshold": "300", "listing_threshold": "10", "signing_months": ""},
                             ["court", "offensive"])
    rules = await services.rules_for(world["akimat"].id)
    assert (rules.signature_threshold, rules.listing_threshold, rules.signing_months) == (300, 10, 6)
    assert rules.prohibited_topics == ("court", "offensive")
    assert rules.threshold_source == "the addressee's own rule"
    assert (await row(petition["id"]))["signature_threshold"] == 2_500
    assert await AuditEntry.exists().where((AuditEntry.action == "petitions.rules")
                                           & (AuditEntry.organisation == world["akimat"].id))


@pytest.mark.parametrize("values, topics, field", [
    ({"signature_threshold": "0"}, ["court"], "signature_threshold"),
    ({"signature_threshold": "many"}, ["court"], "signature_threshold"),
    ({"signing_level": "3"}, ["court"], "signing_level"),
    ({"signing_months": "25"}, ["court"], "signing_months"),
    ({}, [], "prohibited_topics"),
    ({}, ["weather"], "prohibited_topics"),
])
async def test_bad_rules_are_refused_and_change_nothing(world, values, topics, field):
    with pytest.raises(RuleError) as refused:
        await services.set_rules(world["head"], world["akimat"].id, values, topics)
    assert refused.value.field == field
    assert not await PetitionRule.exists().where(PetitionRule.organisation == world["akimat"].id)


@pytest.mark.parametrize("who", ["official", "moderator", "stranger"])
async def test_only_administrators_set_rules(world, who):
    with pytest.raises(Denied):
        await services.set_rules(world[who], world["akimat"].id, {}, ["court"])


# --------------------------------------------------------------------------- terms and dates


def test_moderation_is_due_in_20_working_days_counted_across_holidays():
    # 16 March 2026: Nauryz (21-23 March) and its days off fall inside the 20 working days
    submitted = datetime(2026, 3, 16, 9, 0, tzinfo=timezone.utc)
    due = services.moderation_due_on(submitted)
    assert due == add_working_days(date(2026, 3, 16), 20)
    assert working_days_between(date(2026, 3, 16), due) == 20
    assert (due - date(2026, 3, 16)).days > 28  # more than four plain weeks: holidays do not count
    # a plain month with no holiday: exactly four weeks
    assert services.moderation_due_on(datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)) == date(2026, 3, 2)
    # late evening in UTC is already the next day in Almaty
    late = datetime(2026, 2, 1, 20, 0, tzinfo=timezone.utc)
    assert services.moderation_due_on(late) == add_working_days(date(2026, 2, 2), 20)


def test_signing_lasts_six_calendar_months():
    opened = datetime(2026, 8, 31, 6, 0, tzinfo=timezone.utc)  # 11:00 in Almaty
    assert services.signing_ends_at(opened) == datetime(2027, 2, 28, 6, 0, tzinfo=timezone.utc)
    assert services.signing_ends_at(opened, 1) == datetime(2026, 9, 30, 6, 0, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- drafting and moderation


async def test_a_petition_waits_for_moderation_with_a_due_date_and_the_rules_copied(world, settings):
    petition = await new_petition(settings, world)
    assert petition["state"] == "moderation" and petition["status"] == "moderation"
    assert petition["moderation_due_on"] == services.moderation_due_on(petition["submitted_at"])
    assert petition["signature_threshold"] == 2_500 and petition["listing_threshold"] == 50
    assert len(petition["key"]) >= 12
    assert petition["lang"] == "en"
    assert await Notification.exists().where((Notification.user == world["moderator"]["id"])
                                             & (Notification.kind == "petitions.moderation"))
    assert not await services.may_see(world["stranger"], petition)
    assert await services.may_see(world["author"], petition)
    assert await services.may_see(world["moderator"], petition)


@pytest.mark.parametrize("change, field", [
    ({"title": "Short"}, "title"),
    ({"ask": "Do it"}, "ask"),
    ({"reasons": " "}, "reasons"),
    ({"territory": "region_district"}, "territory"),  # not the addressee's territory
])
async def test_bad_drafts_are_refused_with_the_field(world, settings, change, field):
    values = dict(change)
    territory = values.pop("territory", "district")
    before = await Petition.count()
    with pytest.raises(RuleError) as refused:
        await new_petition(settings, world, territory=territory, **values)
    assert refused.value.field == field and refused.value.status_code == 400
    assert await Petition.count() == before


async def test_only_confirmed_people_start_petitions_and_only_to_akimats_maslikhats_departments(world, settings):
    with pytest.raises(Denied):
        await new_petition(settings, world, author="unconfirmed")
    with pytest.raises(RuleError) as refused:
        await new_petition(settings, world, organisation="ngo")
    assert refused.value.field == "organisation"
    await PetitionRule(organisation=world["maslikhat"].id, signing_level=2, prohibited_topics=[]).save()
    with pytest.raises(Denied):
        await new_petition(settings, world, organisation="maslikhat")
    petition = await new_petition(settings, world, author="resident", organisation="maslikhat", territory="city")
    assert petition["signing_level"] == 2


async def test_an_author_starts_at_most_three_petitions_a_day(world, settings):
    for n in range(services.PETITIONS_PER_DAY):
        await new_petition(settings, world, title=f"Petition number {n} of the day {world['tag']}")
    with pytest.raises(TooMany):
        await new_petition(settings, world, title=f"One petition too many {world['tag']}")


async def test_moderators_of_the_addressee_publish(world, settings):
    petition = await new_petition(settings, world, organisation="district_akimat")
    for who in ("stranger", "official", "region_moderator", "author"):
        with pytest.raises(Denied):
            await services.approve(settings, world[who], petition["id"])
    # the district akimat's own moderator, or the city's above it
    await services.approve(settings, world["moderator"], petition["id"])
    opened = await services.get_petition(petition["id"])
    assert opened["state"] == "open" and opened["status"] == "link_only" and opened["signing_open"]
    assert opened["closes_at"] == services.signing_ends_at(opened["opened_at"], 6)
    assert await Notification.exists().where((Notification.user == world["author"]["id"])
                                             & (Notification.kind == "petitions.published"))
    with pytest.raises(RuleError):
        await services.approve(settings, world["moderator"], petition["id"])


async def test_refusal_names_one_of_the_addressees_prohibited_topics(world, settings):
    await PetitionRule(organisation=world["akimat"].id, prohibited_topics=["court", "offensive"]).save()
    petition = await new_petition(settings, world)
    with pytest.raises(RuleError) as refused:
        await services.reject(world["moderator"], petition["id"], "advertising")
    assert refused.value.field == "reason"
    await services.reject(world["moderator"], petition["id"], "court", "It asks to change a verdict.")
    rejected = await services.get_petition(petition["id"])
    assert rejected["state"] == "rejected" and rejected["rejection_reason"] == "court"
    note = await Notification.select().where((Notification.user == world["author"]["id"])
                                             & (Notification.kind == "petitions.rejected")).first()
    assert "court" in note["body"].lower() and "verdict" in note["body"]
    assert not await services.may_see(world["stranger"], rejected)
    with pytest.raises(RuleError):
        await services.sign(settings, world["signer"], petition["id"])


async def test_the_moderation_queue_is_the_moderators_with_due_dates(world, settings):
    city = await new_petition(settings, world)
    region = await new_petition(settings, world, organisation="region_akimat", territory="region",
                                title=f"Fix the road to the regional hospital {world['tag']}")
    queue = await services.moderation_queue(world["moderator"])
    keys = [p["key"] for p in queue["pending"]]
    assert city["key"] in keys and region["key"] not in keys
    item = next(p for p in queue["pending"] if p["key"] == city["key"])
    assert item["moderation_due_on"] == city["moderation_due_on"] and item["light"] == "green"
    assert item["working_days_left"] == 20
    late = await services.moderation_queue(world["moderator"], today=city["moderation_due_on"] + timedelta(days=3))
    assert next(p for p in late["pending"] if p["key"] == city["key"])["light"] == "red"
    assert region["key"] in [p["key"] for p in (await services.moderation_queue(world["region_moderator"]))["pending"]]
    with pytest.raises(Denied):
        await services.moderation_queue(world["stranger"])


# --------------------------------------------------------------------------- link-only and listing


async def test_link_only_until_the_listing_threshold_then_listed_and_searchable(world, quiet_settings):
    petition = await open_petition(quiet_settings, world, listing=5)
    document = f"petitions:{petition['id']}"
    people = await crowd(5, world["tag"], residence=world["district"].id)
    listed = await services.list_petitions(organisation=world["akimat"].slug)
    assert petition["key"] not in [p["key"] for p in listed.items]
    assert not await SearchOutboxEntry.exists().where(SearchOutboxEntry.document_id == document)
    results = await sign_all(quiet_settings, people[:4], petition["id"])
    assert not any(r.listed for r in results)
    assert (await services.get_petition(petition["id"]))["status"] == "link_only"
    fifth = await services.sign(quiet_settings, people[4], petition["id"])
    assert fifth.listed and fifth.signature_count == 5
    assert (await services.get_petition(petition["id"]))["status"] == "open"
    assert petition["key"] in [p["key"] for p in (await services.list_petitions(organisation=world["akimat"].slug)).items]
    assert await SearchOutboxEntry.exists().where((SearchOutboxEntry.document_id == document)
                                                  & (SearchOutboxEntry.action == "index"))
    # a withdrawal below the mark does not hide it again
    await services.withdraw(people[0], petition["id"])
    assert (await services.get_petition(petition["id"]))["status"] == "open"


async def test_list_filters(world, quiet_settings):
    petition = await open_petition(quiet_settings, world, listing=0)
    assert petition["status"] == "open"
    for status, present in (("open", True), ("awaiting_answer", False), ("answered", False), ("closed", False)):
        items = (await services.list_petitions(status=status, organisation=world["akimat"].slug)).items
        assert (petition["key"] in [p["key"] for p in items]) is present
    assert petition["key"] in [p["key"] for p in (await services.list_petitions(territory=world["city"].code)).items]
    assert petition["key"] not in [p["key"] for p in (await services.list_petitions(territory=world["region"].code)).items]


# --------------------------------------------------------------------------- signing


async def test_one_signature_per_person_and_the_count_follows(world, settings):
    petition = await open_petition(settings, world)
    first = await services.sign(settings, world["signer"], petition["id"], address="10.1.1.1")
    again = await services.sign(settings, world["signer"], petition["id"], address="10.1.1.1")
    assert (first.changed, again.changed) == (True, False)
    assert first.signature_count == again.signature_count == 1
    assert await stored_and_counted(petition["id"]) == (1, 1)
    signature = await Signature.select().where(Signature.petition == petition["id"]).first()
    assert signature["district"] == world["district"].id and signature["show_name"]
    assert signature["address_hash"] and "10.1.1.1" not in signature["address_hash"]
    assert signature["email_domain"] == "example.kz"


async def test_the_database_refuses_a_second_signature_whatever_the_path(world, settings):
    petition = await open_petition(settings, world)
    await services.sign(settings, world["signer"], petition["id"])
    with pytest.raises(Exception):
        await Signature.insert(Signature(petition=petition["id"], user=world["signer"]["id"]))
    assert await Signature.count().where(Signature.petition == petition["id"]) == 1


async def test_signing_inside_a_transaction_writes_there(world, settings):
    from civic.db import write_transaction
    from civic.runtime import current_engine

    petition = await open_petition(settings, world)
    async with write_transaction(current_engine()):
        result = await services.sign(settings, world["signer"], petition["id"])
    assert result.changed and await stored_and_counted(petition["id"]) == (1, 1)


async def test_a_signer_may_hide_their_name(world, settings):
    petition = await open_petition(settings, world)
    await services.sign(settings, world["signer"], petition["id"], show_name=False)
    await services.sign(settings, world["neighbour"], petition["id"])
    names = [s["name"] for s in (await services.public_signers(petition["id"]))[0]]
    assert names == [world["neighbour"]["display_name"]]


async def test_signing_needs_the_addressees_verification_level(world, settings):
    await PetitionRule(organisation=world["maslikhat"].id, signing_level=2, prohibited_topics=[]).save()
    petition = await new_petition(settings, world, author="resident", organisation="maslikhat", territory="city")
    await services.approve(settings, world["admin"], petition["id"])
    with pytest.raises(Denied) as refused:
        await services.sign(settings, world["signer"], petition["id"])
    assert "verified resident" in str(refused.value)
    with pytest.raises(Denied):
        await services.sign(settings, world["unconfirmed"], petition["id"])
    assert (await services.sign(settings, world["resident"], petition["id"])).changed


async def test_nobody_signs_before_publication_after_the_period_or_after_the_close(world, settings):
    pending = await new_petition(settings, world)
    with pytest.raises(RuleError, match="not open"):
        await services.sign(settings, world["signer"], pending["id"])
    petition = await open_petition(settings, world, title=f"Repair the bridge over the canal {world['tag']}")
    later = petition["closes_at"] + timedelta(seconds=1)
    with pytest.raises(RuleError, match="not open"):
        await services.sign(settings, world["signer"], petition["id"], now=later)
    with pytest.raises(NotFound):
        await services.sign(settings, world["signer"], 10**9)
    assert await stored_and_counted(petition["id"]) == (0, 0)


async def test_withdrawal_while_open(world, settings):
    petition = await open_petition(settings, world)
    await services.sign(settings, world["signer"], petition["id"])
    await services.sign(settings, world["neighbour"], petition["id"])
    result = await services.withdraw(world["signer"], petition["id"])
    assert result.changed and result.signature_count == 1
    assert not (await services.withdraw(world["signer"], petition["id"])).changed
    assert await stored_and_counted(petition["id"]) == (1, 1)
    # signing again after a withdrawal is allowed
    assert (await services.sign(settings, world["signer"], petition["id"])).changed
    with pytest.raises(RuleError, match="ended"):
        await services.withdraw(world["signer"], petition["id"], now=petition["closes_at"] + timedelta(days=1))


async def test_counts_by_district_count_an_okrug_in_its_district(world, settings):
    petition = await open_petition(settings, world, organisation="region_akimat", territory="region",
                                   title=f"A new school for the Aral district {world['tag']}")
    await services.sign(settings, world["resident"], petition["id"])  # lives in the okrug
    await services.sign(settings, world["signer"], petition["id"])  # the city's north district
    nowhere = await person("nowhere", world["tag"])
    await services.sign(settings, nowhere, petition["id"])
    rows = await services.counts_by_district(petition["id"])
    assert {(r["district"], r["signatures"]) for r in rows} == {
        (world["region_district"].id, 1), (world["district"].id, 1), (None, 1)}
    assert rows[-1]["district"] is None  # "residence not stated" last
    bars = services.chart_bars([{"signatures": 10}, {"signatures": 5}, {"signatures": 0}])
    assert [b["length"] for b in bars] == [100, 50, 0]


# --------------------------------------------------------------------------- abuse


async def test_rate_limit_per_address(world, settings, monkeypatch):
    monkeypatch.setattr(services, "LIMITS", replace(services.LIMITS, address_per_hour=3))
    petition = await open_petition(settings, world)
    people = await crowd(5, world["tag"], domain="gmail.com")
    outcomes = []
    for p in people:
        try:
            await services.sign(settings, p, petition["id"], address="192.0.2.7")
            outcomes.append("ok")
        except TooMany:
            outcomes.append("limited")
    assert outcomes == ["ok", "ok", "ok", "limited", "limited"]
    assert (await services.sign(settings, people[4], petition["id"], address="192.0.2.8")).changed
    assert await stored_and_counted(petition["id"]) == (4, 4)
    # switched off (CIVIC_RATE_LIMITS=off): no limit
    quiet = settings.with_changes(rate_limits=False)
    assert (await services.sign(quiet, people[3], petition["id"], address="192.0.2.7")).changed


async def test_rate_limit_per_uncommon_email_domain(world, settings, monkeypatch):
    monkeypatch.setattr(services, "LIMITS", replace(services.LIMITS, domain_per_hour=2))
    petition = await open_petition(settings, world)
    odd = await crowd(3, world["tag"] + "o", domain="throwaway.example")
    common = await crowd(3, world["tag"] + "c", domain="mail.ru")
    for n, p in enumerate(odd[:2]):
        await services.sign(settings, p, petition["id"], address=f"198.51.100.{n}")
    with pytest.raises(TooMany, match="domain"):
        await services.sign(settings, odd[2], petition["id"], address="198.51.100.9")
    for n, p in enumerate(common):  # a common provider is not limited
        assert (await services.sign(settings, p, petition["id"], address=f"203.0.113.{n}")).changed


async def test_a_burst_flags_the_petition_for_review(world, quiet_settings, monkeypatch):
    monkeypatch.setattr(services, "LIMITS", replace(services.LIMITS, burst_min=10, burst_factor=3,
                                                    burst_check_every=0))
    petition = await open_petition(quiet_settings, world)
    # a steady start: one signature a day over ten days
    opened = petition["opened_at"]
    steady = await crowd(10, world["tag"] + "s")
    for n, p in enumerate(steady):
        await services.sign(quiet_settings, p, petition["id"], now=opened + timedelta(days=n, hours=1))
    assert (await row(petition["id"]))["flagged_at"] is None
    burst_at = opened + timedelta(days=11)
    burst = await crowd(12, world["tag"] + "b")
    await asyncio.gather(*(services.sign(quiet_settings, p, petition["id"], now=burst_at) for p in burst))
    flagged = await row(petition["id"])
    assert flagged["flagged_at"] is not None and flagged["review_reason"] == "burst"
    # the moderators are told by the periodic job, not inside the signing batch
    review = (Notification.user == world["moderator"]["id"]) & (Notification.kind == "petitions.review")
    assert not await Notification.exists().where(review)
    assert await services.tell_moderators_of_flags() >= 1
    assert await Notification.count().where(review) == 1
    await services.tell_moderators_of_flags()  # told once
    assert await Notification.count().where(review) == 1
    queue = await services.moderation_queue(world["moderator"])
    assert petition["key"] in [p["key"] for p in queue["flagged"]]
    assert (await stored_and_counted(petition["id"])) == (22, 22)  # signing went on


def test_burst_rule():
    assert services.is_burst(250, 10)
    assert not services.is_burst(150, 1)  # below the minimum
    assert not services.is_burst(300, 40)  # not ten times the usual rate


async def test_moderators_strike_out_suspicious_signatures_with_an_audit_record_and_a_recount(world, settings):
    petition = await open_petition(settings, world)
    bots = await crowd(4, world["tag"] + "x", domain="bots.example")
    people = await crowd(3, world["tag"] + "y", domain="gmail.com")
    quiet = settings.with_changes(rate_limits=False)
    for p in bots:
        await services.sign(quiet, p, petition["id"], address="192.0.2.66")
    for n, p in enumerate(people):
        await services.sign(quiet, p, petition["id"], address=f"192.0.2.{n + 1}")
    review = await services.review_data(world["moderator"], petition["id"])
    bot_hash = review["addresses"][0]["value"]
    assert review["addresses"][0]["n"] == 4 and {d["value"] for d in review["domains"]} == {"bots.example", "gmail.com"}
    with pytest.raises(Denied):
        await services.invalidate(world["stranger"], petition["id"], criterion="address", value=bot_hash,
                                  reason="Scripted signatures")
    with pytest.raises(RuleError):
        await services.invalidate(world["moderator"], petition["id"], criterion="address", value=bot_hash, reason="")
    result = await services.invalidate(world["moderator"], petition["id"], criterion="address", value=bot_hash,
                                       reason="Four accounts from one address within a second")
    assert (result["count"], result["count_before"], result["count_after"]) == (4, 7, 3)
    assert await stored_and_counted(petition["id"]) == (3, 3)
    assert await Invalidation.exists().where((Invalidation.petition == petition["id"]) & (Invalidation.count == 4))
    entry = await AuditEntry.select().where((AuditEntry.action == "petitions.invalidate")
                                            & (AuditEntry.subject == f"petitions:{petition['id']}")).first()
    assert entry["actor"] == world["moderator"]["id"]
    # the struck-out cannot sign again, nor withdraw
    again = await services.sign(quiet, bots[0], petition["id"])
    assert not again.changed and again.signature_count == 3
    with pytest.raises(RuleError, match="struck out"):
        await services.withdraw(bots[0], petition["id"])
    # by domain and by time window
    result = await services.invalidate(world["moderator"], petition["id"], criterion="domain", value="GMAIL.com",
                                       reason="A test of the domain rule")
    assert result["count"] == 3 and result["count_after"] == 0
    with pytest.raises(RuleError):
        await services.invalidate(world["moderator"], petition["id"], criterion="window", reason="Window",
                                  start=datetime(2026, 1, 2, tzinfo=timezone.utc),
                                  end=datetime(2026, 1, 1, tzinfo=timezone.utc))


async def test_window_invalidation(world, quiet_settings):
    petition = await open_petition(quiet_settings, world)
    people = await crowd(4, world["tag"])
    base = petition["opened_at"]
    for n, p in enumerate(people):
        await services.sign(quiet_settings, p, petition["id"], now=base + timedelta(minutes=n))
    result = await services.invalidate(world["moderator"], petition["id"], criterion="window",
                                       reason="Scripted minute", start=base + timedelta(minutes=1),
                                       end=base + timedelta(minutes=3))
    assert result["count"] == 2 and await stored_and_counted(petition["id"]) == (2, 2)


async def test_clearing_a_review_flag(world, settings):
    petition = await open_petition(settings, world)
    with pytest.raises(RuleError):
        await services.clear_review(world["moderator"], petition["id"])
    await services.flag_for_review(petition["id"], "burst")
    with pytest.raises(Denied):
        await services.clear_review(world["stranger"], petition["id"])
    await services.clear_review(world["moderator"], petition["id"], "Looked fine: a TV report")
    assert (await row(petition["id"]))["flagged_at"] is None


async def test_moderation_decisions_go_to_the_shared_reports_and_log(world, settings):
    from civic.participation import discussion
    from civic.participation.tables import Flag

    rejected = await new_petition(settings, world)
    await services.reject(world["moderator"], rejected["id"], "court", "It asks to change a verdict.")
    flagged = await open_petition(settings, world)
    await services.flag_for_review(flagged["id"], "burst")
    assert await Flag.exists().where((Flag.target_kind == services.PETITION_KIND) & (Flag.target_id == flagged["id"])
                                     & Flag.resolved_at.is_null() & Flag.reporter.is_null())
    await services.clear_review(world["moderator"], flagged["id"], "Looked fine")
    assert not await Flag.exists().where((Flag.target_id == flagged["id"]) & Flag.resolved_at.is_null())
    entries, _more = await discussion.public_log("petitions:")
    seen = {(e["subject"], e["action"]) for e in entries}
    assert (f"petitions:{rejected['id']}", "rejected") in seen and (f"petitions:{flagged['id']}", "approved") in seen
    assert (f"petitions:{flagged['id']}", "review_cleared") in seen
    assert all("moderator" not in e for e in entries)  # the public log never names the moderator


# --------------------------------------------------------------------------- threshold, answer, outcome


async def test_reaching_the_threshold_opens_one_official_response_due_in_the_rules_working_days(world, quiet_settings):
    await PetitionRule(organisation=world["akimat"].id, signature_threshold=3, response_working_days=10,
                       prohibited_topics=[]).save()
    petition = await open_petition(quiet_settings, world)
    people = await crowd(4, world["tag"])
    results = await sign_all(quiet_settings, people, petition["id"])
    assert [r.threshold_reached for r in results] == [False, False, True, False]
    reached = await services.get_petition(petition["id"])
    assert reached["status"] == "awaiting_answer" and reached["response"]
    response = await OfficialResponse.select().where(OfficialResponse.subject == f"petitions:{petition['id']}")
    assert len(response) == 1
    assert response[0]["organisation"] == world["akimat"].id and response[0]["citizen"] == world["author"]["id"]
    assert response[0]["working_days"] == 10
    assert response[0]["due_on"] == add_working_days(response[0]["received_on"], 10)
    assert response[0]["subject_url"] == f"/petitions/{petition['key']}"


async def test_the_answer_is_published_and_sent_to_every_signer_then_the_outcome_closes(world, quiet_settings):
    petition = await open_petition(quiet_settings, world, threshold=3)
    people = await crowd(3, world["tag"])
    await sign_all(quiet_settings, people, petition["id"])
    await services.sign(quiet_settings, world["author"], petition["id"])  # the author signs too
    with pytest.raises(RuleError, match="answer"):
        await services.record_outcome(world["official"], petition["id"], "granted", "Lamps are ordered for May.")
    with pytest.raises(Denied):
        await services.answer(world["stranger"], petition["id"], "No.")
    await services.answer(world["official"], petition["id"], "The akimat will light **every** courtyard by May.")
    answered = await services.get_petition(petition["id"])
    assert answered["status"] == "answered" and answered["answered_at"] is not None
    for p in people:
        note = await Notification.select().where((Notification.user == p["id"])
                                                 & (Notification.kind == "petitions.answered")).first()
        assert note and "courtyard" in note["body"] and note["url"].endswith("#answer")
    # the author hears it from the engine, once
    assert not await Notification.exists().where((Notification.user == world["author"]["id"])
                                                 & (Notification.kind == "petitions.answered"))
    assert await Notification.exists().where((Notification.user == world["author"]["id"])
                                             & (Notification.kind == "response.answered"))
    with pytest.raises(RuleError) as refused:
        await services.record_outcome(world["official"], petition["id"], "maybe", "Reasons enough here.")
    assert refused.value.field == "outcome"
    with pytest.raises(RuleError) as refused:
        await services.record_outcome(world["official"], petition["id"], "partly", "Short")
    assert refused.value.field == "reasons"
    with pytest.raises(Denied):
        await services.record_outcome(world["moderator"], petition["id"], "partly", "Lamps in half of them.")
    await services.record_outcome(world["official"], petition["id"], "partly", "Lamps in half of the courtyards.")
    closed = await services.get_petition(petition["id"])
    assert (closed["state"], closed["outcome"], closed["status"]) == ("closed", "partly", "closed")
    assert closed["closed_at"] is not None and not closed["signing_open"]
    assert await Notification.count().where(Notification.kind == "petitions.outcome") >= 4
    with pytest.raises(RuleError):
        await services.record_outcome(world["official"], petition["id"], "granted", "Changed our mind entirely.")
    with pytest.raises(RuleError):
        await services.sign(quiet_settings, world["neighbour"], petition["id"])


async def test_close_expired_sets_not_enough_signatures_and_catches_up_thresholds(world, quiet_settings):
    short = await open_petition(quiet_settings, world)
    await services.sign(quiet_settings, world["signer"], short["id"])
    missed = await open_petition(quiet_settings, world, threshold=1, title=f"Another one {world['tag']} here")
    await Petition.update({Petition.signature_count: 1}).where(Petition.id == missed["id"])  # as if a mark was missed
    closed = await services.close_expired(now=short["closes_at"] + timedelta(minutes=1))
    assert closed >= 1
    done = await services.get_petition(short["id"])
    assert (done["state"], done["outcome"]) == ("closed", "insufficient")
    assert await Notification.exists().where((Notification.user == world["author"]["id"])
                                             & (Notification.kind == "petitions.closed"))
    assert (await row(missed["id"]))["threshold_reached_at"] is not None
    assert await OfficialResponse.exists().where(OfficialResponse.subject == f"petitions:{missed['id']}")


async def test_signers_data_is_anonymised_after_the_period_and_the_counts_stay(world, quiet_settings):
    await PetitionRule(organisation=world["akimat"].id, anonymise_after_days=30, prohibited_topics=[]).save()
    petition = await open_petition(quiet_settings, world)
    await services.sign(quiet_settings, world["signer"], petition["id"], address="192.0.2.1")
    await services.sign(quiet_settings, world["neighbour"], petition["id"], address="192.0.2.2")
    end = petition["closes_at"] + timedelta(minutes=1)
    await services.close_expired(now=end)
    before = await services.counts_by_district(petition["id"])
    await services.anonymise_signers(now=end + timedelta(days=29))  # (other tests' petitions may go)
    assert (await row(petition["id"]))["anonymised_at"] is None
    assert await Signature.count().where((Signature.petition == petition["id"]) & Signature.user.is_not_null()) == 2
    assert await services.anonymise_signers(now=end + timedelta(days=31)) >= 1
    assert (await row(petition["id"]))["anonymised_at"] is not None
    rows = await Signature.select().where(Signature.petition == petition["id"])
    assert all(r["user"] is None and r["address_hash"] == "" and r["email_domain"] == "" for r in rows)
    assert await services.counts_by_district(petition["id"]) == before
    assert (await row(petition["id"]))["signature_count"] == 2
    assert (await services.public_signers(petition["id"]))[0] == []
    assert (await services.personal_data(world["signer"]["id"]))["petition_signatures"] == []


# --------------------------------------------------------------------------- open data and personal data


async def test_open_data_has_listed_petitions_with_counts_by_district_and_response_dates(world, quiet_settings):
    listed = await open_petition(quiet_settings, world, threshold=2, listing=1)
    hidden = await open_petition(quiet_settings, world, listing=10, title=f"A link-only petition {world['tag']} x")
    await services.sign(quiet_settings, world["signer"], listed["id"])
    await services.sign(quiet_settings, world["resident"], listed["id"])
    await services.sign(quiet_settings, world["signer"], hidden["id"])
    rows = {r["id"]: r for r in await services.export_rows("https://ashyq.example")}
    assert hidden["id"] not in rows
    row_ = rows[listed["id"]]
    assert row_["url"] == f"https://ashyq.example/petitions/{listed['key']}"
    assert row_["signature_count"] == 2 and row_["signature_threshold"] == 2
    assert row_["signatures_by_district"] == {world["district"].code: 1, world["region_district"].code: 1}
    assert row_["response_received_on"] and row_["response_due_on"] and row_["response_answered_on"] is None


async def test_personal_data(world, settings):
    petition = await open_petition(settings, world)
    await services.sign(settings, world["author"], petition["id"], show_name=False)
    data = await services.personal_data(world["author"]["id"])
    assert data["petitions"][0]["key"] == petition["key"]
    assert data["petition_signatures"][0]["petition"] == petition["key"]
    assert data["petition_signatures"][0]["show_name"] is False


async def test_district_map_reloads_for_new_territories(world):
    from civic.territory.tables import Territory

    okrug = Territory(kind="rural_okrug", code=f"r{world['tag']}.a.n", path=f"/kz/r{world['tag']}/a/n/",
                      parent=world["region_district"].id, name_kk="Жаңа", name_ru="Новый", name_en="New")
    await okrug.save()
    assert await services.DISTRICTS.district_of(okrug.id) == world["region_district"].id
    assert await services.DISTRICTS.district_of(world["city"].id) == world["city"].id
    assert await services.DISTRICTS.district_of(None) is None
