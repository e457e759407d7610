"""Reception schedules (seed 000): publishing weekly slots, booking with one place per person
and the capacity kept, cancelling, the reminder the day before, outcomes (an appeal opened at a
reception gets the channel "reception"), walk-ins and the dashboard."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from civic.notify.tables import Notification
from modules.appeals import receptions, services
from civic.rules import Denied, NotFound, RuleError
from modules.appeals.tables import ReceptionBooking, ReceptionSlot
from tests.modules.appeals.conftest import new_slot, tomorrow_at

ALMATY = receptions.ALMATY


def _publish_values(world, **changes) -> dict:
    first = services.almaty_today() + timedelta(days=3)
    values = {"organisation_id": world["energy"].id, "host_id": world["district_akimat"].id,
              "specialist_id": world["energy_official"]["id"], "topics": "Heating, hot water and street lights",
              "place": "District akimat, room 104", "mode": "in_person", "online_link": "", "first_day": first,
              "start_time": time(10, 0), "duration_minutes": 120, "capacity": 8, "weeks": 4}
    values.update(changes)
    return values


async def test_a_department_publishes_a_weekly_reception(world):
    ids = await receptions.publish_weekly(world["energy_official"], **_publish_values(world))
    slots = [await receptions.get_slot(i) for i in ids]
    assert len(slots) == 4
    starts = [receptions.local(s["starts_at"]) for s in slots]
    assert all(s.time() == time(10, 0) for s in starts)  # 10:00 Almaty time every week
    assert [(b - a).days for a, b in zip(starts, starts[1:])] == [7, 7, 7]
    assert len({s["series"] for s in slots}) == 1 and slots[0]["free"] == 8 and slots[0]["bookable"]


@pytest.mark.parametrize("changes, field", [
    ({"organisation_id": None}, "organisation"),
    ({"host_id": None}, "host"),
    ({"specialist_id": None}, "specialist"),
    ({"topics": "abc"}, "topics"),
    ({"mode": "carrier pigeon"}, "mode"),
    ({"place": ""}, "place"),
    ({"mode": "online", "online_link": "http://insecure.example"}, "online_link"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 1000}, "capacity"),
    ({"duration_minutes": 5}, "duration_minutes"),
    ({"weeks": 13}, "weeks"),
    ({"first_day": None}, "first_day"),
    ({"start_time": None}, "start_time"),
])
async def test_bad_reception_input_is_refused(world, changes, field):
    before = await ReceptionSlot.count()
    with pytest.raises(RuleError) as refused:
        await receptions.publish_weekly(world["energy_official"], **_publish_values(world, **changes))
    assert refused.value.field == field
    assert await ReceptionSlot.count() == before


async def test_the_host_must_be_an_akimat_the_specialist_of_the_body_and_the_start_ahead(world):
    with pytest.raises(RuleError):
        await receptions.publish_weekly(world["energy_official"], **_publish_values(world, host_id=world["mobility"].id))
    with pytest.raises(RuleError):
        await receptions.publish_weekly(world["energy_official"], **_publish_values(
            world, specialist_id=world["mobility_official"]["id"]))
    with pytest.raises(RuleError):
        await receptions.publish_weekly(world["energy_official"], **_publish_values(
            world, first_day=services.almaty_today() - timedelta(days=1)))
    with pytest.raises(Denied):
        await receptions.publish_weekly(world["mobility_official"], **_publish_values(world))
    with pytest.raises(Denied):
        await receptions.publish_weekly(world["citizen"], **_publish_values(world))


async def test_booking_confirms_and_counts_one_place_per_person(world):
    slot = await new_slot(world, capacity=2)
    booking_id = await receptions.book(world["citizen"], slot["id"], "My radiators are cold.")
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 1
    with pytest.raises(RuleError):
        await receptions.book(world["citizen"], slot["id"])  # once
    notes = await Notification.select().where((Notification.user == world["citizen"]["id"])
                                              & (Notification.kind == "appeals.reception_booked"))
    assert len(notes) == 1 and "room 104" in notes[0]["body"]
    await receptions.book(world["neighbour"], slot["id"])
    with pytest.raises(RuleError) as full:
        await receptions.book(world["stranger"], slot["id"])
    assert "fully booked" in full.value.msgid
    # cancelling frees the place; booking again uses the same row
    await receptions.cancel_booking(world["citizen"], booking_id)
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 1
    with pytest.raises(RuleError):
        await receptions.cancel_booking(world["citizen"], booking_id)
    await receptions.book(world["stranger"], slot["id"])
    with pytest.raises(RuleError):
        await receptions.book(world["citizen"], slot["id"])  # full again
    assert await ReceptionBooking.count().where(ReceptionBooking.slot == slot["id"]) == 3


async def test_booking_again_after_cancelling(world):
    slot = await new_slot(world)
    first = await receptions.book(world["citizen"], slot["id"])
    await receptions.cancel_booking(world["citizen"], first)
    second = await receptions.book(world["citizen"], slot["id"], "Second try")
    assert second == first
    assert (await receptions.booking_of(world["citizen"]["id"], slot["id"]))["status"] == "booked"
    assert (await receptions.get_slot(slot["id"]))["booked_count"] == 1


async def test_booking_refusals(world):
    past = await new_slot(world, starts_at=datetime.now(ALMATY) - timedelta(days=1))
    with pytest.raises(RuleError):
        await receptions.book(world["citizen"], past["id"])
    with pytest.raises(Denied):
        await receptions.book(world["unconfirmed"], (await new_slot(world))["id"])
    with pytest.raises(NotFound):
        await receptions.book(world["citizen"], 10**9)
    slot = await new_slot(world)
    booking = await receptions.book(world["citizen"], slot["id"])
    with pytest.raises(NotFound):
        await receptions.cancel_booking(world["neighbour"], booking)  # not theirs
    with pytest.raises(RuleError):
        await receptions.cancel_slot(world["energy_official"], slot["id"], "")  # a reason is needed
    with pytest.raises(Denied):
        await receptions.cancel_slot(world["mobility_official"], slot["id"], "Ill")
    told = await receptions.cancel_slot(world["energy_official"], slot["id"], "The specialist is ill.")
    assert told == 1
    with pytest.raises(RuleError):
        await receptions.book(world["neighbour"], slot["id"])
    notes = await Notification.select().where((Notification.user == world["citizen"]["id"])
                                              & (Notification.kind == "appeals.reception_cancelled"))
    assert notes and "The specialist is ill." in notes[0]["body"]


async def test_reminders_go_once_the_day_before(world):
    tomorrow = await new_slot(world, starts_at=tomorrow_at(11))
    online = await new_slot(world, starts_at=tomorrow_at(15), mode="online")
    later = await new_slot(world)  # next week: no reminder yet
    for slot in (tomorrow, online, later):
        await receptions.book(world["citizen"], slot["id"])
    cancelled = await receptions.book(world["neighbour"], tomorrow["id"])
    await receptions.cancel_booking(world["neighbour"], cancelled)

    queued = await receptions.queue_reminders()
    assert queued >= 2
    mine = await Notification.select().where((Notification.user == world["citizen"]["id"])
                                             & (Notification.kind == "appeals.reception_reminder"))
    assert len(mine) == 2
    assert any("https://meet.example.kz/room" in n["body"] for n in mine)
    assert not await Notification.exists().where((Notification.user == world["neighbour"]["id"])
                                                 & (Notification.kind == "appeals.reception_reminder"))
    await receptions.queue_reminders()  # a second run reminds nobody twice
    assert await Notification.count().where((Notification.user == world["citizen"]["id"])
                                            & (Notification.kind == "appeals.reception_reminder")) == 2


async def test_the_module_declares_the_reminders_as_a_periodic_job():
    from modules.appeals import module

    names = [job.name for job in module.periodic_jobs]
    assert names == ["reception_reminders"]


async def test_outcomes_and_an_appeal_opened_at_the_reception(quiet_settings, world):
    slot = await new_slot(world, starts_at=datetime.now(ALMATY) - timedelta(hours=1))
    booking = ReceptionBooking(slot=slot["id"], person=world["citizen"]["id"], status="booked")
    await booking.save()
    booking_id = booking.id
    with pytest.raises(Denied):
        await receptions.record_outcome(quiet_settings, world["mobility_official"], booking_id, "advised")
    with pytest.raises(RuleError):
        await receptions.record_outcome(quiet_settings, world["energy_official"], booking_id, "teleported")
    with pytest.raises(RuleError) as missing:  # an appeal needs its details
        await receptions.record_outcome(quiet_settings, world["energy_official"], booking_id, "appeal_opened")
    assert missing.value.field == "kind"
    appeal_id = await receptions.record_outcome(
        quiet_settings, world["energy_official"], booking_id, "appeal_opened", "Needs an inspection.",
        {"kind": "complaint", "category": "energy", "title": "Cold radiators in block 9",
         "body": "The radiators in block 9 are cold since October.", "territory_id": None})
    appeal = await services.get_appeal_by_id(appeal_id)
    assert appeal["channel"] == "reception" and appeal["citizen"] == world["citizen"]["id"]
    assert appeal["organisation"] == world["energy"].id and appeal["territory"] == world["district"].id
    assert appeal["registered_by"] == world["energy_official"]["id"]
    row = await ReceptionBooking.select().where(ReceptionBooking.id == booking_id).first()
    assert row["outcome"] == "appeal_opened" and row["appeal"] == appeal_id
    with pytest.raises(RuleError):
        await receptions.record_outcome(quiet_settings, world["energy_official"], booking_id, "advised")  # once

    walk_in = await receptions.record_walk_in(quiet_settings, world["official"], slot["id"], visitor_name="Marat K.",
                                              outcome="resolved", note="Explained the heating tariff.")
    assert walk_in is None
    with pytest.raises(RuleError):
        await receptions.record_walk_in(quiet_settings, world["official"], slot["id"], visitor_name="",
                                        outcome="advised")


async def test_outcomes_wait_for_the_day_of_the_reception(quiet_settings, world):
    slot = await new_slot(world)  # next week
    booking_id = await receptions.book(world["citizen"], slot["id"])
    with pytest.raises(RuleError):
        await receptions.record_outcome(quiet_settings, world["energy_official"], booking_id, "advised")


async def test_dashboard_counts_people_advised_per_month_against_the_target(quiet_settings, world):
    before = await receptions.dashboard(months=3)
    slot = await new_slot(world, starts_at=datetime.now(ALMATY) - timedelta(minutes=30))
    for n in range(3):
        await receptions.record_walk_in(quiet_settings, world["energy_official"], slot["id"],
                                        visitor_name=f"Visitor {n}", outcome="advised" if n else "resolved")
    await receptions.record_walk_in(quiet_settings, world["energy_official"], slot["id"], visitor_name="Nobody",
                                    outcome="no_show")
    after = await receptions.dashboard(months=3)
    assert after["target"] == 200 and len(after["series"]) == 3
    this_month = services.month_key(receptions.local(slot["starts_at"]).date())
    advised = {m["key"]: m["advised"] for m in after["series"]}
    advised_before = {m["key"]: m["advised"] for m in before["series"]}
    assert advised[this_month] - advised_before.get(this_month, 0) == 3
    assert after["appeals_target"] == -30 and after["rerouted_target"] == -40


async def test_personal_data_lists_bookings(world):
    slot = await new_slot(world)
    await receptions.book(world["citizen"], slot["id"], "About my heating")
    data = await services.personal_data(world["citizen"]["id"])
    assert data["reception_bookings"][0]["question"] == "About my heating"
    assert datetime.fromisoformat(data["reception_bookings"][0]["starts_at"]) == slot["starts_at"]
