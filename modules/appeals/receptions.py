"""Reception schedules (seed 000 "Қайта жолдауды болдырмау", "no more re-routing").

Specialists of four city departments (housing policy, urban mobility, energy efficiency and
infrastructure, land relations) hold a weekly reception at the district akimat, so residents get
a correct explanation on the spot instead of an appeal that is forwarded from body to body.
Targets: advise 200 people a month (:data:`MONTHLY_TARGET`), cut appeals by 30% and re-routing by
40% (:data:`APPEALS_CUT_PERCENT`, :data:`REROUTING_CUT_PERCENT`).

* a department publishes weekly slots (:func:`publish_weekly`): specialist, topics, place, time,
  capacity, in person or online;
* a person books a slot (:func:`book`): one booking per person and slot (a unique index), the
  capacity taken with one conditional UPDATE (``booked_count < capacity``), so concurrent
  bookings never exceed it; a confirmation at once, a reminder the day before
  (:func:`queue_reminders`, run by ``civic worker`` as the module's periodic job);
* the person can cancel; the specialist records the outcome (advised, resolved on the spot,
  appeal opened — which registers an appeal with the channel "reception");
* :func:`dashboard`: people advised per month against the target, and the trend of appeals and
  re-routing.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from babel.dates import format_datetime

from civic.accounts.services import audit
from civic.accounts.tables import Membership, User
from civic.clock import ALMATY, now_utc
from civic.db import is_unique_violation
from civic.i18n.runtime import N_
from civic.notify.services import tell
from civic.permissions import may
from civic.responses import services as responses
from civic.rules import Denied, NotFound, RuleError
from civic.runtime import transaction
from civic.settings import Settings
from civic.territory.tables import Organisation, OrganisationKind, TerritoryKind
from modules.appeals import services
from modules.appeals.services import HANDLE
from modules.appeals.tables import ReceptionBooking, ReceptionSlot

MODES = {"in_person": N_("In person"), "online": N_("Online")}
OUTCOMES = {
    "advised": N_("Advised"),
    "resolved": N_("Resolved on the spot"),
    "appeal_opened": N_("Appeal opened"),
    "no_show": N_("Did not come"),
}
ADVISED = ("advised", "resolved", "appeal_opened")  # people who received an explanation
MONTHLY_TARGET = 200  # seed 000: "1 айда 200 адамға дұрыс түсіндіру жұмысын жүргізу"
APPEALS_CUT_PERCENT = 30  # seed 000: "Өтініштерді 30%-ға азайту"
REROUTING_CUT_PERCENT = 40  # seed 000: "Өтініштерді қайта бағыттауды 40%-ға азайту"
MAX_WEEKS = 12
CAPACITY = (1, 100)
DURATION = (15, 480)
TOPICS_LENGTH = (5, 1000)
PLACE_LENGTH = (3, 300)
QUESTION_LENGTH = 2000
LINK_RE = re.compile(r"^https://[^\s<>\"']{4,290}$")


def local(at: datetime) -> datetime:
    return at.astimezone(ALMATY)


# --------------------------------------------------------------------------- who may do what


async def may_manage(user: dict | None, slot_or_organisation) -> bool:
    """Staff of the department holding the reception (or of a body above it), and platform admins."""
    organisation_id = slot_or_organisation["organisation"] if isinstance(slot_or_organisation, dict) \
        else slot_or_organisation
    return await may(user, HANDLE, organisation_id)


async def may_record(user: dict | None, slot: dict) -> bool:
    """The specialist of the slot, staff of its department and staff of the hosting akimat."""
    if not user:
        return False
    if slot["specialist"] == user["id"]:
        return True
    return await may_manage(user, slot) or await may(user, HANDLE, slot["host"])


async def departments_for(user: dict) -> list[dict]:
    """The bodies this person publishes receptions for."""
    organisations = await services.staff_organisations(user)
    query = Organisation.select(Organisation.id, Organisation.slug, Organisation.kind, Organisation.name_kk,
                                Organisation.name_ru, Organisation.name_en).where(
        Organisation.kind.is_in([OrganisationKind.DEPARTMENT, OrganisationKind.AKIMAT]))
    if organisations is not None:
        query = query.where(Organisation.id.is_in(organisations or [-1]))
    return await query.order_by(Organisation.kind, ascending=False).order_by(Organisation.slug)


async def hosts() -> list[dict]:
    """Akimats of districts and rural okrugs, where receptions are held."""
    return await Organisation.select(
        Organisation.id, Organisation.slug, Organisation.name_kk, Organisation.name_ru, Organisation.name_en,
        Organisation.territory.code.as_alias("territory_code"),
    ).where((Organisation.kind == OrganisationKind.AKIMAT)
            & Organisation.territory.kind.is_in([TerritoryKind.DISTRICT, TerritoryKind.RURAL_OKRUG])
            ).order_by(Organisation.territory.path)


async def specialists_of(organisation_ids: list[int]) -> list[dict]:
    rows = await Membership.select(Membership.user.id.as_alias("id"),
                                   Membership.user.display_name.as_alias("display_name"),
                                   Membership.organisation).where(
        Membership.organisation.is_in(organisation_ids or [-1]) & Membership.role.is_in(list(services.STAFF_ROLES)))
    seen, out = set(), []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            out.append(row)
    return sorted(out, key=lambda r: r["display_name"])


# --------------------------------------------------------------------------- reading


def _slot_query():
    return ReceptionSlot.select(
        ReceptionSlot.all_columns(),
        ReceptionSlot.organisation.slug.as_alias("organisation_slug"),
        ReceptionSlot.organisation.name_kk.as_alias("organisation_name_kk"),
        ReceptionSlot.organisation.name_ru.as_alias("organisation_name_ru"),
        ReceptionSlot.organisation.name_en.as_alias("organisation_name_en"),
        ReceptionSlot.host.slug.as_alias("host_slug"),
        ReceptionSlot.host.name_kk.as_alias("host_name_kk"),
        ReceptionSlot.host.name_ru.as_alias("host_name_ru"),
        ReceptionSlot.host.name_en.as_alias("host_name_en"),
        ReceptionSlot.host.territory.as_alias("host_territory"),
        ReceptionSlot.host.territory.code.as_alias("host_territory_code"),
        ReceptionSlot.specialist.display_name.as_alias("specialist_name"),
    )


def _decorate(slot: dict, now: datetime | None = None) -> dict:
    now = now or now_utc()
    slot["ends_at"] = slot["starts_at"] + timedelta(minutes=slot["duration_minutes"])
    slot["free"] = max(0, slot["capacity"] - slot["booked_count"])
    slot["past"] = slot["starts_at"] <= now
    slot["cancelled"] = slot["cancelled_at"] is not None
    slot["bookable"] = not slot["past"] and not slot["cancelled"] and slot["free"] > 0
    slot["week"] = local(slot["starts_at"]).date() - timedelta(days=local(slot["starts_at"]).weekday())
    return slot


async def get_slot(slot_id: int, now: datetime | None = None) -> dict | None:
    if services.db_id(slot_id) is None:
        return None
    row = await _slot_query().where(ReceptionSlot.id == slot_id).first()
    return _decorate(row, now) if row else None


async def upcoming_slots(*, host_slug: str | None = None, organisation_slug: str | None = None,
                         organisation_ids: list[int] | None = None, now: datetime | None = None,
                         include_past_days: int = 0, weeks: int = 8) -> list[dict]:
    now = now or now_utc()
    since = now - timedelta(days=include_past_days)
    query = _slot_query().where((ReceptionSlot.starts_at >= since)
                                & (ReceptionSlot.starts_at < now + timedelta(weeks=weeks)))
    if host_slug:
        query = query.where(ReceptionSlot.host.slug == host_slug)
    if organisation_slug:
        query = query.where(ReceptionSlot.organisation.slug == organisation_slug)
    if organisation_ids is not None:
        query = query.where(ReceptionSlot.organisation.is_in(organisation_ids or [-1])
                            | ReceptionSlot.host.is_in(organisation_ids or [-1]))
    return [_decorate(r, now) for r in await query.order_by(ReceptionSlot.starts_at).order_by(ReceptionSlot.id)]


async def bookings_of_slot(slot_id: int) -> list[dict]:
    return await ReceptionBooking.select(
        ReceptionBooking.all_columns(),
        ReceptionBooking.person.display_name.as_alias("person_name"),
        ReceptionBooking.person.email.as_alias("person_email"),
        ReceptionBooking.appeal.number.as_alias("appeal_number"),
    ).where(ReceptionBooking.slot == slot_id).order_by(ReceptionBooking.id)


async def booking_of(user_id: int, slot_id: int) -> dict | None:
    return await ReceptionBooking.select().where(
        (ReceptionBooking.slot == slot_id) & (ReceptionBooking.person == user_id)).first()


async def bookings_of_person(user_id: int, now: datetime | None = None) -> list[dict]:
    rows = await ReceptionBooking.select(
        ReceptionBooking.all_columns(),
        ReceptionBooking.appeal.number.as_alias("appeal_number"),
    ).where(ReceptionBooking.person == user_id).order_by(ReceptionBooking.id, ascending=False)
    slots = {s["id"]: s for s in [await get_slot(r["slot"], now) for r in rows] if s}
    for row in rows:
        row["slot_info"] = slots.get(row["slot"])
    return rows


# --------------------------------------------------------------------------- publishing


def _bounded(value: int | None, bounds: tuple[int, int], field: str, msgid: str) -> int:
    if value is None or not bounds[0] <= value <= bounds[1]:
        raise RuleError(msgid, field, low=bounds[0], high=bounds[1])
    return value


async def publish_weekly(actor: dict, *, organisation_id: int | None, host_id: int | None,
                         specialist_id: int | None, topics: str, place: str, mode: str, online_link: str = "",
                         first_day: date | None, start_time: time | None, duration_minutes: int | None,
                         capacity: int | None, weeks: int | None, now: datetime | None = None,
                         demo_key: str = "") -> list[int]:
    """Publish a weekly reception: the same day and hour for ``weeks`` weeks from
    ``first_day``. Returns the slots' ids."""
    now = now or now_utc()
    organisation_id, host_id = services.db_id(organisation_id), services.db_id(host_id)
    specialist_id = services.db_id(specialist_id)
    if organisation_id is None or not await Organisation.exists().where(Organisation.id == organisation_id):
        raise RuleError(N_("Choose the body holding the reception."), "organisation")
    if not await may_manage(actor, organisation_id):
        raise Denied(N_("Only staff of a body publish its receptions."))
    host = await Organisation.select(Organisation.id, Organisation.kind).where(Organisation.id == host_id).first() \
        if host_id else None
    if host is None or host["kind"] != OrganisationKind.AKIMAT:
        raise RuleError(N_("Choose the akimat where the reception is held."), "host")
    if specialist_id is None or not await responses.may_act(specialist_id, organisation_id):
        raise RuleError(N_("Choose a specialist of the body."), "specialist")
    topics = (topics or "").strip()
    if not TOPICS_LENGTH[0] <= len(topics) <= TOPICS_LENGTH[1]:
        raise RuleError(N_("List the topics in %(low)s to %(high)s characters."), "topics",
                          low=TOPICS_LENGTH[0], high=TOPICS_LENGTH[1])
    if mode not in MODES:
        raise RuleError(N_("Choose in person or online."), "mode")
    place = " ".join((place or "").split())
    if not PLACE_LENGTH[0] <= len(place) <= PLACE_LENGTH[1]:
        raise RuleError(N_("Write where the reception is held (address and room, or how to join online)."),
                          "place")
    online_link = (online_link or "").strip()
    if mode == "online" and not LINK_RE.match(online_link):
        raise RuleError(N_("An online reception needs a meeting link starting with https://."), "online_link")
    if mode == "in_person":
        online_link = ""
    duration_minutes = _bounded(duration_minutes, DURATION, "duration_minutes",
                                N_("The reception lasts %(low)s to %(high)s minutes."))
    capacity = _bounded(capacity, CAPACITY, "capacity", N_("Between %(low)s and %(high)s people can book one reception."))
    weeks = _bounded(weeks, (1, MAX_WEEKS), "weeks", N_("Publish %(low)s to %(high)s weeks at a time."))
    if first_day is None:
        raise RuleError(N_("Enter the date of the first reception."), "first_day")
    if start_time is None:
        raise RuleError(N_("Enter the time the reception starts."), "start_time")
    first = datetime.combine(first_day, start_time, ALMATY).astimezone(timezone.utc)
    if first <= now:
        raise RuleError(N_("The first reception must be in the future."), "first_day")
    series = secrets.token_hex(8)
    ids = []
    async with transaction():
        for week in range(weeks):
            starts_at = datetime.combine(first_day + timedelta(weeks=week), start_time, ALMATY).astimezone(timezone.utc)
            slot = ReceptionSlot(organisation=organisation_id, host=host_id, specialist=specialist_id, topics=topics,
                                 place=place, mode=mode, online_link=online_link, starts_at=starts_at,
                                 duration_minutes=duration_minutes, capacity=capacity, booked_count=0,
                                 series=series, created_by=actor["id"], created_at=now, demo_key=demo_key)
            await slot.save()
            ids.append(slot.id)
        await audit(actor["id"], "appeals.reception_publish", organisation_id=organisation_id,
                    details={"weeks": weeks, "first": first.isoformat(), "series": series})
    return ids


async def cancel_slot(actor: dict, slot_id: int, reason: str, now: datetime | None = None) -> int:
    """Cancel a reception; everybody booked is told. Returns how many were told."""
    now = now or now_utc()
    reason = (reason or "").strip()[:1000]
    async with transaction():
        slot = await get_slot(slot_id, now)
        if slot is None:
            raise NotFound(N_("There is no such reception."))
        if not await may_manage(actor, slot):
            raise Denied(N_("Only staff of a body cancel its receptions."))
        if slot["cancelled"]:
            raise RuleError(N_("This reception is cancelled already."))
        if slot["past"]:
            raise RuleError(N_("This reception has already taken place."))
        if not reason:
            raise RuleError(N_("Say why the reception is cancelled."), "reason")
        await ReceptionSlot.update({ReceptionSlot.cancelled_at: now, ReceptionSlot.cancel_reason: reason}).where(
            ReceptionSlot.id == slot_id)
        people = await ReceptionBooking.select(ReceptionBooking.person).where(
            (ReceptionBooking.slot == slot_id) & (ReceptionBooking.status == "booked")
            & ReceptionBooking.person.is_not_null())
        await tell([row["person"] for row in people], "appeals.reception_cancelled",
                   N_("The reception on %(when)s is cancelled"),
                   N_("%(organisation)s cancelled the reception: %(reason)s"), "/appeals/receptions/mine",
                   **_slot_params(slot), reason=reason)
        return len(people)


# --------------------------------------------------------------------------- booking


def _when(slot: dict, language: str) -> str:
    try:
        return format_datetime(local(slot["starts_at"]), "d MMMM y, HH:mm", locale=language)
    except Exception:  # an unknown locale must not stop a notification
        return local(slot["starts_at"]).strftime("%Y-%m-%d %H:%M")


def _names(row: dict, field: str) -> dict:
    return {f"name_{code}": row.get(f"{field}_{code}") for code in ("kk", "ru", "en")}


def _slot_params(slot: dict) -> dict:
    """What a message about a reception may name, for :func:`civic.notify.services.tell`: the
    time (in the person's language), place, department, hosting akimat and specialist."""
    return {"when": lambda language: _when(slot, language), "place": slot["place"],
            "organisation_names": _names(slot, "organisation_name"), "host_names": _names(slot, "host_name"),
            "specialist": slot["specialist_name"]}


_is_unique_violation = is_unique_violation


async def book(user: dict, slot_id: int, question: str = "", now: datetime | None = None) -> int:
    """Book a place: one per person and slot, never more than the capacity. The person gets a
    confirmation at once and a reminder the day before."""
    now = now or now_utc()
    if user.get("verification", 0) < 1:
        raise Denied(N_("Confirm your e-mail address before booking a reception."))
    question = (question or "").strip()[:QUESTION_LENGTH]
    try:
        async with transaction():
            slot = await get_slot(slot_id, now)
            if slot is None:
                raise NotFound(N_("There is no such reception."))
            if slot["cancelled"]:
                raise RuleError(N_("This reception is cancelled."))
            if slot["past"]:
                raise RuleError(N_("This reception has already taken place."))
            existing = await booking_of(user["id"], slot_id)
            if existing is not None and existing["status"] == "booked":
                raise RuleError(N_("You have already booked this reception."))
            taken = await ReceptionSlot.update({ReceptionSlot.booked_count: ReceptionSlot.booked_count + 1}).where(
                (ReceptionSlot.id == slot_id) & (ReceptionSlot.booked_count < ReceptionSlot.capacity)
                & ReceptionSlot.cancelled_at.is_null()).returning(ReceptionSlot.id)
            if not taken:
                raise RuleError(N_("This reception is fully booked. Choose another time."))
            if existing is not None:  # booked before and cancelled: the same row again
                changed = await ReceptionBooking.update({
                    ReceptionBooking.status: "booked", ReceptionBooking.question: question,
                    ReceptionBooking.created_at: now, ReceptionBooking.cancelled_at: None,
                    ReceptionBooking.reminder_sent_at: None}).where(
                    (ReceptionBooking.id == existing["id"]) & (ReceptionBooking.status == "cancelled")
                ).returning(ReceptionBooking.id)
                if not changed:
                    raise RuleError(N_("You have already booked this reception."))
                booking_id = existing["id"]
            else:
                booking = ReceptionBooking(slot=slot_id, person=user["id"], question=question, status="booked",
                                           created_at=now)
                await booking.save()
                booking_id = booking.id
            await tell(user["id"], "appeals.reception_booked", N_("Reception booked: %(when)s"),
                       N_("%(specialist)s of %(organisation)s expects you on %(when)s at %(place)s "
                          "(%(host)s). You will be reminded the day before."),
                       "/appeals/receptions/mine", **_slot_params(slot))
            return booking_id
    except RuleError:
        raise
    except Exception as exc:
        if _is_unique_violation(exc):  # the same person booking twice at once (PostgreSQL)
            raise RuleError(N_("You have already booked this reception.")) from None
        raise


async def cancel_booking(user: dict, booking_id: int, now: datetime | None = None) -> None:
    now = now or now_utc()
    async with transaction():
        booking = await ReceptionBooking.select().where(
            ReceptionBooking.id == (services.db_id(booking_id) or -1)).first()
        if booking is None or booking["person"] != user["id"]:
            raise NotFound(N_("There is no such booking."))
        slot = await get_slot(booking["slot"], now)
        if slot["past"]:
            raise RuleError(N_("This reception has already taken place."))
        changed = await ReceptionBooking.update({ReceptionBooking.status: "cancelled",
                                                 ReceptionBooking.cancelled_at: now}).where(
            (ReceptionBooking.id == booking_id) & (ReceptionBooking.status == "booked")).returning(ReceptionBooking.id)
        if not changed:
            raise RuleError(N_("This booking is cancelled already."))
        await ReceptionSlot.update({ReceptionSlot.booked_count: ReceptionSlot.booked_count - 1}).where(
            (ReceptionSlot.id == booking["slot"]) & (ReceptionSlot.booked_count > 0))


async def queue_reminders(now: datetime | None = None) -> int:
    """Remind everybody booked for a reception tomorrow (Asia/Almaty). Each booking is
    reminded once, even when two workers run at the same time. The core worker runs this as
    the module's periodic job ``appeals.reception_reminders``; returns how many were queued."""
    now = now or now_utc()
    tomorrow = local(now).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0, 0), ALMATY).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    slots = await _slot_query().where((ReceptionSlot.starts_at >= start) & (ReceptionSlot.starts_at < end)
                                      & ReceptionSlot.cancelled_at.is_null())
    queued = 0
    for slot in slots:
        slot = _decorate(slot, now)
        async with transaction():
            reminded = await ReceptionBooking.update({ReceptionBooking.reminder_sent_at: now}).where(
                (ReceptionBooking.slot == slot["id"]) & (ReceptionBooking.status == "booked")
                & ReceptionBooking.reminder_sent_at.is_null() & ReceptionBooking.person.is_not_null()
            ).returning(ReceptionBooking.person)
            body = (N_("%(specialist)s of %(organisation)s expects you online: %(link)s")
                    if slot["mode"] == "online"
                    else N_("%(specialist)s of %(organisation)s expects you at %(place)s (%(host)s)."))
            await tell([row["person"] for row in reminded], "appeals.reception_reminder",
                       N_("Reminder: your reception tomorrow, %(when)s"), body, "/appeals/receptions/mine",
                       **_slot_params(slot), link=slot["online_link"])
            queued += len(reminded)
    return queued


# --------------------------------------------------------------------------- outcomes


async def _record(settings: Settings, actor: dict, slot: dict, booking: dict, outcome: str, note: str,
                  appeal: dict | None, now: datetime) -> int | None:
    appeal_id = None
    if outcome == "appeal_opened":
        appeal = appeal or {}
        citizen = None
        if booking["person"]:
            citizen = await User.select().where(User.id == booking["person"]).first()
        created = await services.file_appeal(
            settings, citizen, kind=appeal.get("kind", ""), category=appeal.get("category", ""),
            title=appeal.get("title", ""), body=appeal.get("body", ""),
            territory_id=appeal.get("territory_id") or slot["host_territory"],
            publish_consent=bool(appeal.get("publish_consent")), channel="reception", registered_by=actor,
            applicant_name=booking["visitor_name"] if not citizen else "",
            applicant_contact=appeal.get("applicant_contact", ""), organisation_id=slot["organisation"])
        appeal_id = created["id"]
    await ReceptionBooking.update({ReceptionBooking.outcome: outcome, ReceptionBooking.outcome_note: note,
                                   ReceptionBooking.outcome_at: now, ReceptionBooking.outcome_by: actor["id"],
                                   ReceptionBooking.appeal: appeal_id}).where(ReceptionBooking.id == booking["id"])
    return appeal_id


def _check_outcome(outcome: str, slot: dict, now: datetime) -> None:
    if outcome not in OUTCOMES:
        raise RuleError(N_("Choose the outcome from the list."), "outcome")
    if slot["cancelled"]:
        raise RuleError(N_("This reception is cancelled."))
    if local(slot["starts_at"]).date() > local(now).date():
        raise RuleError(N_("Outcomes are recorded on the day of the reception or later."), "outcome")


async def record_outcome(settings: Settings, actor: dict, booking_id: int, outcome: str, note: str = "",
                         appeal: dict | None = None, now: datetime | None = None) -> int | None:
    """The specialist records what came of a visit: advised, resolved on the spot, did not
    come, or an appeal opened (registered at once with the channel "reception" and the
    department of the reception as its body). Returns the new appeal's id, if any."""
    now = now or now_utc()
    note = (note or "").strip()[:2000]
    async with transaction():
        booking = await ReceptionBooking.select().where(
            ReceptionBooking.id == (services.db_id(booking_id) or -1)).first()
        if booking is None:
            raise NotFound(N_("There is no such booking."))
        slot = await get_slot(booking["slot"], now)
        if not await may_record(actor, slot):
            raise Denied(N_("Only the specialist and staff of the reception record outcomes."))
        if booking["status"] not in ("booked", "walk_in"):
            raise RuleError(N_("This booking was cancelled."))
        if booking["outcome"]:
            raise RuleError(N_("The outcome of this visit is recorded already."))
        _check_outcome(outcome, slot, now)
        return await _record(settings, actor, slot, booking, outcome, note, appeal, now)


async def record_walk_in(settings: Settings, actor: dict, slot_id: int, *, visitor_name: str, question: str = "",
                         outcome: str, note: str = "", appeal: dict | None = None,
                         now: datetime | None = None) -> int | None:
    """A visitor who came without booking: recorded with their outcome (capacity is for
    bookings; nobody who came is turned away by the system)."""
    now = now or now_utc()
    visitor_name = " ".join((visitor_name or "").split())[:200]
    async with transaction():
        slot = await get_slot(slot_id, now)
        if slot is None:
            raise NotFound(N_("There is no such reception."))
        if not await may_record(actor, slot):
            raise Denied(N_("Only the specialist and staff of the reception record outcomes."))
        if not visitor_name:
            raise RuleError(N_("Write the visitor's name."), "visitor_name")
        _check_outcome(outcome, slot, now)
        booking = ReceptionBooking(slot=slot_id, person=None, visitor_name=visitor_name,
                                   question=(question or "").strip()[:QUESTION_LENGTH], status="walk_in",
                                   created_at=now)
        await booking.save()
        row = await ReceptionBooking.select().where(ReceptionBooking.id == booking.id).first()
        return await _record(settings, actor, slot, row, outcome, (note or "").strip()[:2000], appeal, now)


# --------------------------------------------------------------------------- dashboard


async def dashboard(months: int = 12, today: date | None = None) -> dict:
    """People advised per month against the target of 200, by department; appeals and
    re-routed appeals per month, and the change of the last full month against the first
    three months shown (targets: appeals −30%, re-routing −40%)."""
    today = today or services.almaty_today()
    first_month = services.month_start(today, months - 1)
    since = datetime.combine(first_month, time(0, 0), ALMATY).astimezone(timezone.utc)
    visits = await ReceptionBooking.select(
        ReceptionBooking.outcome, ReceptionBooking.slot.starts_at.as_alias("starts_at"),
        ReceptionBooking.slot.organisation.slug.as_alias("organisation_slug"),
        ReceptionBooking.slot.organisation.name_kk.as_alias("organisation_name_kk"),
        ReceptionBooking.slot.organisation.name_ru.as_alias("organisation_name_ru"),
        ReceptionBooking.slot.organisation.name_en.as_alias("organisation_name_en"),
    ).where(ReceptionBooking.outcome.is_in(list(ADVISED)) & (ReceptionBooking.slot.starts_at >= since))
    keys = [services.month_key(services.month_start(today, back)) for back in range(months - 1, -1, -1)]
    advised = defaultdict(int)
    outcomes = defaultdict(int)
    by_department: dict[str, dict] = {}
    for visit in visits:
        key = services.month_key(local(visit["starts_at"]).date())
        advised[key] += 1
        outcomes[visit["outcome"]] += 1
        department = by_department.setdefault(visit["organisation_slug"], {**visit, "advised": 0})
        department["advised"] += 1
    rows = await services.analysis_rows(services.AnalysisFilters(months=months), today)
    appeals = defaultdict(int)
    rerouted = defaultdict(int)
    for row in rows:
        appeals[row["month"]] += 1
        rerouted[row["month"]] += row["rerouted"]
    series = [{"key": k, "advised": advised[k], "target": MONTHLY_TARGET,
               "percent": round(100 * advised[k] / MONTHLY_TARGET), "appeals": appeals[k],
               "rerouted": rerouted[k]} for k in keys]

    def change(field: str) -> int | None:
        if len(series) < 5:
            return None
        baseline = sum(s[field] for s in series[:3]) / 3
        latest = series[-2][field]  # the last full month
        return round(100 * (latest - baseline) / baseline) if baseline else None

    last_full = series[-2] if len(series) >= 2 else series[-1]
    return {
        "series": series,
        "target": MONTHLY_TARGET,
        "last_full": last_full,
        "current": series[-1],
        "outcomes": dict(outcomes),
        "departments": sorted(by_department.values(), key=lambda d: -d["advised"]),
        "appeals_change": change("appeals"),
        "rerouted_change": change("rerouted"),
        "appeals_target": -APPEALS_CUT_PERCENT,
        "rerouted_target": -REROUTING_CUT_PERCENT,
    }
