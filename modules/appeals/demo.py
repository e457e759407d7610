"""The appeals demo's loader: the data is fixtures/appeals.yaml; this file turns it into rows.
The demo holds:

* routing rules: energy, housing, transport, land, schools, health and social support go to the
  city departments; courtyards and everything else to the district akimats;
* a year of appeals across Almaty's eight districts in the report's categories (energy,
  housing and apartment co-operatives, transport and roads, courtyards, and a few others),
  online and by phone, letter, e-mail and reception, most answered (some late, some rated), some
  re-routed between bodies — fewer as the receptions start (the trend seed 000 wants);
* the showcase: an overdue appeal, duplicates joined to an appeal (one answered within the last
  30 days, its answer shared), a joint answer of two departments, an appeal published without
  personal data, one registered in e-Otinish;
* weekly receptions of the four departments of seed 000 (housing policy, urban mobility,
  energy efficiency and infrastructure, land relations) at the district akimats of the pilot
  (Nauryzbay, Medeu, Alatau): half a year of held receptions with their outcomes, and the
  coming weeks open for booking.

Idempotent: an appeal is found by its ``demo_key`` and left as it is when it exists; the
receptions are created only when no demo reception exists. Demo residents made here have no
password and their mail switched off, so loading the demo sends no mail to anyone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from civic.accounts.tables import User
from civic.clock import ALMATY, now_utc
from civic.demo import day, days_ago, email, ensure_core_demo, fixture, organisation_ids, territory_ids
from civic.notify.tables import NotificationPreference
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse, ResponseEvent
from civic.responses.workdays import add_working_days
from civic.rules import RuleError
from civic.runtime import transaction
from civic.settings import Settings
from civic.territory.tables import Territory
from modules.appeals import receptions, services
from modules.appeals.tables import Appeal, AppealEvent, ReceptionBooking, ReceptionSlot, RoutingRule

_FIXTURE = fixture("appeals")
_RESIDENTS = _FIXTURE["residents"]
_GENERATED = _FIXTURE["generated"]
_RECEPTIONS = _FIXTURE["receptions"]
RESIDENTS: int = _RESIDENTS["count"]
DISTRICTS = tuple(code.rsplit(".", 1)[1] for code in _GENERATED["districts"])
PILOT_DISTRICTS = tuple(h["key"] for h in _RECEPTIONS["hosts"])  # the districts of seed 000's authors

ROUTES: dict[str, str] = _FIXTURE["routing"]["rules"]
#: Who answers for a body in the demo (its own official; the city reception for district akimats
#: without one — civic.responses lets the parent akimat's staff act).
OFFICIALS: dict[str, str] = {k: v for k, v in _FIXTURE["officials"].items() if k != "*"}
CITY_OFFICIAL: str = _FIXTURE["officials"]["*"]

# (title, text) in Kazakh and Russian, per category; "{street}" is filled in.
PROBLEMS = {c: [(p["title"], p["body"]) for p in problems] for c, problems in _GENERATED["problems"].items()}
STREETS = tuple(_GENERATED["streets"])
WEIGHTS: dict[str, int] = _GENERATED["categories"]
ANSWERS: list[str] = _GENERATED["answers"]


@dataclass(frozen=True)
class Showcase:
    key: str
    citizen: str  # e-mail (local part) of a core demo person, or "" for someone without an account
    kind: str
    category: str
    territory: str  # territory code
    title: str
    body: str
    days_ago: int
    channel: str = "online"
    consent: bool = False
    applicant_name: str = ""
    applicant_contact: str = ""
    registered_by: str = ""
    story: dict = field(default_factory=dict)  # answer, join, joint, publish, eotinish (see the fixture)


_STORY = ("answer", "join", "joint", "publish", "eotinish")
SHOWCASE = tuple(Showcase(
    key=r["key"], citizen=r.get("citizen", ""), kind=r["kind"], category=r["category"], territory=r["territory"],
    title=r["title"], body=r["body"], days_ago=days_ago(r["received"]), channel=r.get("channel", "online"),
    consent=r.get("consent", False), applicant_name=(r.get("applicant") or {}).get("name", ""),
    applicant_contact=(r.get("applicant") or {}).get("contact", ""), registered_by=r.get("registered_by", ""),
    story={k: r[k] for k in _STORY if k in r}) for r in _FIXTURE["showcase"])


def _email(local: str) -> str:
    return email(local)


def _resident_email(n: int) -> str:
    return email(_RESIDENTS["email"].format(n=n))


async def _residents() -> list[dict]:
    """Demo residents who file the generated appeals: no password, mail off."""
    emails = [_resident_email(n) for n in range(1, RESIDENTS + 1)]
    have = {r["email"] for r in await User.select(User.email).where(User.email.is_in(emails))}
    rng = random.Random(_RESIDENTS["seed"])
    districts = await Territory.select(Territory.id, Territory.code).where(Territory.code.like("almaty.%"))
    for n, email in enumerate(emails, start=1):
        if email in have:
            continue
        user = User(email=email, display_name=_RESIDENTS["name"].format(n=n), password_hash=None,
                    language=rng.choice(["kk", "ru"]),
                    residence=rng.choice(districts)["id"] if districts else None, verification=1)
        await user.save()
        for topic in ("response", "appeals"):
            await NotificationPreference(user=user.id, kind=topic, delivery="off").save()
    return await User.select().where(User.email.is_in(emails)).order_by(User.email)


async def _routing(organisations: dict, territories: dict) -> None:
    admin = await User.select().where(User.email == _email("admin")).first()
    territory_id = territories[_FIXTURE["routing"]["territory"]]
    for category, slug in ROUTES.items():
        if slug not in organisations:
            continue
        exists = await RoutingRule.exists().where((RoutingRule.category == category)
                                                  & (RoutingRule.territory == territory_id))
        if not exists:
            await services.set_routing_rule(admin, category=category, territory_id=territory_id,
                                            organisation_id=organisations[slug])


async def _user(local: str) -> dict | None:
    return await User.select().where(User.email == _email(local)).first() if local else None


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), ALMATY).astimezone(timezone.utc)


async def _backdate(response_id: int, kind: str, at: datetime) -> None:
    await ResponseEvent.update({ResponseEvent.created_at: at}).where(
        (ResponseEvent.response == response_id) & (ResponseEvent.kind == kind))


async def _official_for(holder: int, organisations_by_id: dict) -> dict:
    slug = organisations_by_id.get(holder, "")
    return await _user(OFFICIALS.get(slug, CITY_OFFICIAL))


async def _file(settings: Settings, *, key: str, citizen: dict | None, kind: str, category: str, territory_id: int,
                title: str, body: str, received: date, channel: str = "online", consent: bool = False,
                applicant_name: str = "", applicant_contact: str = "", registered_by: dict | None = None,
                organisation_id: int | None = None) -> dict | None:
    if await Appeal.exists().where(Appeal.demo_key == key):
        return None
    appeal = await services.file_appeal(
        settings, citizen, kind=kind, category=category, title=title, body=body, territory_id=territory_id,
        publish_consent=consent, channel=channel, registered_by=registered_by, applicant_name=applicant_name,
        applicant_contact=applicant_contact, organisation_id=organisation_id, today=received, now=_at(received, 9),
        demo_key=key)
    await OfficialResponse.update({OfficialResponse.received_at: _at(received, 9)}).where(
        OfficialResponse.id == appeal["response"])
    await _backdate(appeal["response"], "received", _at(received, 9))
    return appeal


async def _answer(appeal: dict, official: dict, text: str, day: date) -> None:
    await responses.answer(appeal["response"], actor_id=official["id"], text=text, public=False, today=day)
    await OfficialResponse.update({OfficialResponse.answered_at: _at(day, 16)}).where(
        OfficialResponse.id == appeal["response"])
    await _backdate(appeal["response"], "answered", _at(day, 16))


async def _generated(settings: Settings, residents: list[dict], organisations: dict, territories: dict,
                     step: Callable[[str], None]) -> int:
    """A year of appeals: fewer each month once the receptions started, and fewer re-routed."""
    rng = random.Random(_GENERATED["seed"])
    today = services.almaty_today()
    organisations_by_id = {v: k for k, v in organisations.items()}
    categories = [c for c, w in WEIGHTS.items() for _ in range(w)]
    created = 0
    n = 0
    for back in range(11, -1, -1):
        month = services.month_start(today, back)
        count = 18 - (11 - back) // 2 if back > 0 else 6  # the pilot's effect: fewer appeals month by month
        reroute_share = 0.32 - 0.02 * (11 - back)
        for _ in range(count):
            n += 1
            key = f"demo-gen-{n:03d}"
            if await Appeal.exists().where(Appeal.demo_key == key):
                continue
            last_day = today if back == 0 else services.month_start(today, back - 1) - timedelta(days=1)
            received = month + timedelta(days=rng.randrange(max(1, (last_day - month).days + 1)))
            category = rng.choice(categories)
            title, body = rng.choice(PROBLEMS[category])
            street = rng.choice(STREETS)
            district = rng.choice(DISTRICTS)
            citizen = residents[(n - 1) % len(residents)]
            channel = rng.choices(["online", "phone", "letter", "email", "reception"], [70, 12, 6, 6, 6])[0]
            registered_by = None
            if channel != "online":
                registered_by = await _user(OFFICIALS.get(ROUTES.get(category, ""), CITY_OFFICIAL))
            consent = rng.random() < 0.35
            rerouted = rng.random() < reroute_share
            first_body = None
            if rerouted:  # sent first to a body that is not competent, then forwarded
                wrong = rng.choice([s for s in ("almaty-energy", "almaty-housing", "almaty-mobility")
                                    if s != ROUTES.get(category)])
                first_body = organisations[wrong]
            try:
                async with transaction():
                    appeal = await _file(settings, key=key, citizen=citizen, kind=rng.choice(list(services.KINDS)),
                                         category=category, territory_id=territories[f"almaty.{district}"],
                                         title=title.format(street=street), body=body.format(street=street),
                                         received=received, channel=channel, consent=consent,
                                         registered_by=registered_by, organisation_id=first_body)
                    if appeal is None:
                        continue
                    if rerouted:
                        target = await services.route_for(category, territories[f"almaty.{district}"])
                        if target == first_body:
                            target = organisations[f"almaty-{district}-akimat"]
                        forwarder = await _official_for(first_body, organisations_by_id)
                        forwarded_on = add_working_days(received, rng.choice([1, 2, 3]))
                        if forwarded_on <= today:
                            await responses.forward(appeal["response"], actor_id=forwarder["id"],
                                                    to_organisation_id=target, today=forwarded_on,
                                                    note="Не относится к компетенции управления")
                            await _backdate(appeal["response"], "forwarded", _at(forwarded_on, 11))
                    appeal = await services.get_appeal_by_id(appeal["id"])
                    due = appeal["due_on"]
                    roll = rng.random()
                    answer_day = None
                    if roll < 0.78:  # on time
                        answer_day = received + timedelta(days=rng.randrange(2, max(3, (due - received).days)))
                    elif roll < 0.9:  # late
                        answer_day = due + timedelta(days=rng.randrange(1, 12))
                    official = await _official_for(appeal["holder"], organisations_by_id)
                    answer_text = ""
                    if answer_day is not None and answer_day < today:
                        answer_text = rng.choice(ANSWERS)
                        await _answer(appeal, official, answer_text, answer_day)
                        if rng.random() < 0.6:
                            rating = rng.choices([1, 2, 3, 4, 5], [5, 8, 17, 35, 35])[0]
                            await responses.rate(appeal["response"], user_id=citizen["id"], rating=rating,
                                                 solved=rating >= 3)
                    if consent and rng.random() < 0.7:  # published as written: the demo texts hold no personal data
                        await services.publish(official, appeal["id"], public_title=appeal["title"],
                                               public_body=appeal["body"], public_answer=answer_text)
                    created += 1
            except services.RefilingBlocked:
                continue
        step(f"Demo appeals: {created} generated")
    return created


async def _showcase(settings: Settings, organisations: dict, territories: dict) -> int:
    today = services.almaty_today()
    created = 0
    by_key = {}
    for spec in SHOWCASE:
        citizen = await _user(spec.citizen)
        async with transaction():
            appeal = await _file(settings, key=spec.key, citizen=citizen, kind=spec.kind, category=spec.category,
                                 territory_id=territories[spec.territory], title=spec.title, body=spec.body,
                                 received=today - timedelta(days=spec.days_ago), channel=spec.channel,
                                 consent=spec.consent, applicant_name=spec.applicant_name,
                                 applicant_contact=spec.applicant_contact,
                                 registered_by=await _user(spec.registered_by) if spec.registered_by else None)
            if appeal is None:
                continue
            created += 1
            by_key[spec.key] = appeal
            await _showcase_story(spec, appeal, organisations, today)
    return created


async def _showcase_story(spec: Showcase, appeal: dict, organisations: dict, today: date) -> None:
    """What happens to a showcase appeal, as its fixture tells (answer, join, joint, publish, eotinish)."""
    story = spec.story
    if "answer" in story:
        step = story["answer"]
        await _answer(appeal, await _user(step["by"]), step["text"], day(step["day"], today))
    if "join" in story:
        step = story["join"]
        primary = await Appeal.select(Appeal.number).where(Appeal.demo_key == step["to"]).first()
        if primary:
            await services.join(await _user(step["by"]), appeal["id"], primary["number"], today)
    if "joint" in story:
        step = story["joint"]
        lead, contributor = await _user(step["lead"]), await _user(step["contributor"])
        participant = organisations[step["participant"]]
        await services.add_participant(lead, appeal["id"], participant)
        await services.contribute(contributor, appeal["id"], participant, step["contribution"])
        await services.answer(lead, appeal["id"], step["answer"], day(step["day"], today))
    if "publish" in story:
        step = story["publish"]
        fresh = await services.get_appeal_by_id(appeal["id"])
        await services.publish(await _user(step["by"]), appeal["id"], public_title=step["title"],
                               public_body=step["body"],
                               public_answer=fresh["answer"] or story.get("answer", {}).get("text", ""))
    if "eotinish" in story:
        step = story["eotinish"]
        await services.set_eotinish_number(await _user(step["by"]), appeal["id"], step["number"])
        await Appeal.update({Appeal.eotinish_registered_at: _at(day(step["registered"], today))}).where(
            Appeal.id == appeal["id"])
    await AppealEvent.update({AppealEvent.created_at: _at(today - timedelta(days=spec.days_ago), 9)}).where(
        (AppealEvent.appeal == appeal["id"]) & (AppealEvent.kind == "filed"))


#: seed 000: the four departments and what their specialists explain
SEED_DEPARTMENTS = tuple((d["organisation"], d["specialist"], d["topics"]) for d in _RECEPTIONS["departments"])
WEEKDAYS = {h["key"]: h["weekday"] for h in _RECEPTIONS["hosts"]}  # 0 is Monday


async def _receptions(settings: Settings, organisations: dict, residents: list[dict],
                      step: Callable[[str], None]) -> int:
    if await ReceptionSlot.exists().where(ReceptionSlot.demo_key.like("demo-%")):
        return 0
    rng = random.Random(_RECEPTIONS["seed"])
    today = services.almaty_today()
    monday = today - timedelta(days=today.weekday())
    hosts = {h["key"]: h for h in _RECEPTIONS["hosts"]}
    online_ones = {(o["organisation"], o["host"]): o for o in _RECEPTIONS.get("online", ())}
    specialists = {slug: await _user(local) for slug, local, _ in SEED_DEPARTMENTS}
    held, ahead = _RECEPTIONS["weeks"]["held"], _RECEPTIONS["weeks"]["ahead"]
    created = 0
    visits = []
    async with transaction():
        for weeks_back in range(held, -ahead - 1, -1):  # held weeks, then the weeks ahead
            week = monday - timedelta(weeks=weeks_back)
            for district, host in hosts.items():
                host_id = organisations[host["organisation"]]
                for department in _RECEPTIONS["departments"]:
                    slug, topics = department["organisation"], department["topics"]
                    on_day = week + timedelta(days=WEEKDAYS[district])
                    starts = _at(on_day, int(department["starts"].split(":")[0]))
                    online = online_ones.get((slug, host["organisation"]))
                    slot = ReceptionSlot(
                        organisation=organisations[slug], host=host_id, specialist=specialists[slug]["id"],
                        topics=topics, place=online["place"] if online else host["place"],
                        mode="online" if online else "in_person",
                        online_link=online["link"] if online else "",
                        starts_at=starts, duration_minutes=_RECEPTIONS["duration_minutes"],
                        capacity=_RECEPTIONS["capacity"], booked_count=0,
                        series=f"demo-{slug}-{district}", created_by=specialists[slug]["id"],
                        created_at=_at(week - timedelta(days=14)),
                        demo_key=f"demo-{slug}-{district}-{weeks_back}")
                    await slot.save()
                    created += 1
                    if weeks_back > 0 or starts < now_utc():
                        # held: about 80 people advised a month half a year ago, about 200 now
                        people = max(1, round(1.5 + (held - weeks_back) * 0.12 + rng.uniform(-1, 1)))
                        for k in range(people):
                            outcome = rng.choices(["advised", "resolved", "no_show"], [65, 25, 10])[0]
                            visits.append(ReceptionBooking(
                                slot=slot.id, person=None, visitor_name=f"Келуші {k + 1}", status="walk_in",
                                created_at=starts, outcome=outcome, outcome_at=starts + timedelta(hours=1),
                                outcome_by=specialists[slug]["id"]))
        for start in range(0, len(visits), 500):
            await ReceptionBooking.insert(*visits[start:start + 500])
    step(f"Demo receptions: {created} slots, {len(visits)} visits recorded")
    # a few bookings for the coming weeks, by demo people (confirmations are in-app; demo mail goes to the outbox)
    upcoming = await receptions.upcoming_slots(now=now_utc(), weeks=4)
    bookings = _RECEPTIONS["bookings"]
    bookers = [*[await _user(local) for local in bookings["people"]], *residents[:bookings["residents"]]]
    for slot in upcoming[:bookings["slots"]]:
        for person in rng.sample([b for b in bookers if b], k=min(len(bookers), rng.randint(2, 9))):
            try:
                await receptions.book(person, slot["id"], bookings["note"])
            except RuleError:
                continue
    return created


async def load_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the appeals demo (idempotent); returns how many appeals and reception slots were created."""
    def step(message: str) -> None:
        if progress:
            progress(message)

    await ensure_core_demo(settings, progress)
    settings = settings.with_changes(rate_limits=False)  # the demo files many appeals at once
    organisations = await organisation_ids()
    territories = await territory_ids()
    step("Demo appeals: residents and routing rules…")
    residents = await _residents()
    await _routing(organisations, territories)
    step("Demo appeals: a year of appeals…")
    generated = await _generated(settings, residents, organisations, territories, step)
    showcase = await _showcase(settings, organisations, territories)
    step("Demo receptions: the four departments at the pilot district akimats…")
    slots = await _receptions(settings, organisations, residents, step)
    step(f"Demo appeals: {generated + showcase} appeals and {slots} reception slots created")
    return {"appeals": generated + showcase, "slots": slots}
