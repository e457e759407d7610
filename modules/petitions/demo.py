"""The petitions demo's loader: the data is fixtures/petitions.yaml (petitions at every stage,
the pools of demo residents who sign, who moderates); this file turns it into rows.

Idempotent: a petition is found by its title and left exactly as it is when it exists; what is
missing is created. It builds on the core demo (civic.demo): its territories, organisations and
people. The signatures come from demo residents created here (no password: nobody signs in as
them) whose petition and response mail is switched off, so loading the demo sends no mail.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from civic.accounts.tables import User
from civic.clock import now_utc
from civic.demo import DEMO_EMAIL_DOMAIN, days_ago, email, ensure_core_demo, fixture, organisation_ids, territory_ids
from civic.notify.tables import NotificationPreference, OutgoingMail
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse, ResponseEvent
from civic.runtime import transaction
from civic.settings import Settings
from modules.petitions import services
from modules.petitions.tables import Petition, Signature

_FIXTURE = fixture("petitions")
_RESIDENTS = _FIXTURE["residents"]
POOLS: dict[str, dict] = _RESIDENTS["pools"]
ALMATY_RESIDENTS: int = POOLS["almaty"]["count"]
ARAL_RESIDENTS: int = POOLS["aral"]["count"]
WOMEN: list[str] = _RESIDENTS["names"]["women"]
MEN: list[str] = _RESIDENTS["names"]["men"]
SURNAMES: list[list[str]] = _RESIDENTS["names"]["surnames"]


def _name(n: int) -> str:
    woman = n % 2 == 0
    first = (WOMEN if woman else MEN)[(n * 7) % len(WOMEN if woman else MEN)]
    return f"{first} {SURNAMES[(n * 11) % len(SURNAMES)][1 if woman else 0]}"


def _resident_email(place: str, n: int) -> str:
    return email(POOLS[place]["email"].format(n=n))


def _resident_pattern(place: str) -> str:
    """A LIKE pattern matching every resident of a pool."""
    return email(POOLS[place]["email"].split("{", 1)[0] + "%")


def _person(local: str) -> str:
    return email(local)


def _now() -> datetime:
    return now_utc().replace(microsecond=0)


@dataclass(frozen=True)
class DemoPetition:
    title: str
    ask: str
    reasons: str
    addressee: str  # organisation slug
    territory: str  # territory code
    author: str  # e-mail (local part)
    stage: str  # moderation, rejected, link_only, listed, answered, closed, anonymised, flagged
    days_ago: int  # submitted this many days ago
    signatures: int = 0
    pool: str = "almaty"  # which demo residents sign: almaty or aral
    answer: str = ""
    answered_by: str = ""
    outcome: str = ""
    outcome_reasons: str = ""
    rejection: str = ""
    rejection_note: str = ""
    suspicious: int = 0  # signatures from one throw-away domain within a minute (flagged)
    suspicious_domain: str = ""
    suspicious_days_ago: float = 0
    extra: dict = field(default_factory=dict)


def _spec(r: dict) -> DemoPetition:
    signatures = r.get("signatures", 0)
    if isinstance(signatures, int):
        signatures = {"count": signatures}
    answer, outcome, rejection = r.get("answer") or {}, r.get("outcome") or {}, r.get("rejection") or {}
    suspicious = r.get("suspicious") or {}
    return DemoPetition(
        title=r["title"], ask=r["ask"], reasons=r["reasons"], addressee=r["addressee"], territory=r["territory"],
        author=r["author"], stage=r["stage"], days_ago=days_ago(r["submitted"]), signatures=signatures["count"],
        pool=signatures.get("pool", "almaty"), answer=answer.get("text", ""), answered_by=answer.get("by", ""),
        outcome=outcome.get("decision", ""), outcome_reasons=outcome.get("reasons", ""),
        rejection=rejection.get("reason", ""), rejection_note=rejection.get("note", ""),
        suspicious=suspicious.get("count", 0), suspicious_domain=suspicious.get("domain", ""),
        suspicious_days_ago=days_ago(suspicious.get("at", "0d")))


PETITIONS: tuple[DemoPetition, ...] = tuple(_spec(r) for r in _FIXTURE["petitions"])
MODERATORS: dict[str, str] = _FIXTURE["moderators"]


async def _residents(place: str, territories: dict[str, int], progress: Callable[[str], None]) -> list[int]:
    """Demo residents who sign (no password; petition and response mail off)."""
    pool = POOLS[place]
    count = pool["count"]
    emails = [_resident_email(place, n) for n in range(1, count + 1)]
    existing = {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(
        User.email.like(_resident_pattern(place)))}
    missing = [n for n in range(1, count + 1) if _resident_email(place, n) not in existing]
    if missing:
        progress(f"Demo petitions: {len(missing)} demo residents of {place}…")
        rng = random.Random(pool["seed"])
        codes = [code for code, weight in pool["districts"].items() for _ in range(weight)]
        created = _now() - timedelta(days=days_ago(_RESIDENTS["created"]))
        async with transaction():
            rows = [User(email=_resident_email(place, n), display_name=_name(n + pool.get("name_offset", 0)),
                         password_hash=None, language="ru" if n % 3 == 0 else "kk",
                         residence=territories[rng.choice(codes)], verification=1, created_at=created)
                    for n in missing]
            for start in range(0, len(rows), 400):
                await User.insert(*rows[start:start + 400])
            ids = [r["id"] for r in await User.select(User.id).where(
                User.email.is_in([_resident_email(place, n) for n in missing]))]
            for start in range(0, len(ids), 400):
                await NotificationPreference.insert(*[
                    NotificationPreference(user=user_id, kind=topic, delivery="off")
                    for user_id in ids[start:start + 400] for topic in ("petitions", "response")]).on_conflict(
                    action="DO NOTHING")
        existing = {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(
            User.email.like(_resident_pattern(place)))}
    return [existing[e] for e in emails]


async def _signatures(petition_id: int, signer_ids: list[int], start: datetime, end: datetime, seed: str) -> None:
    """Signature rows spread over [start, end], most showing their names; the count follows."""
    rng = random.Random(seed)
    districts = {r["id"]: r["residence"] for r in await User.select(User.id, User.residence).where(
        User.id.is_in(signer_ids or [-1]))}
    span = max(1.0, (end - start).total_seconds())
    # more signatures early on, as when a petition is shared
    moments = sorted(start + timedelta(seconds=span * rng.random() ** 2) for _ in signer_ids)
    rows = []
    for user_id, moment in zip(signer_ids, moments):
        address = hashlib.sha256(f"demo-{rng.randrange(10**9)}".encode()).hexdigest()[:16]
        rows.append(Signature(petition=petition_id, user=user_id,
                              district=await services.DISTRICTS.district_of(districts.get(user_id)),
                              show_name=rng.random() < 0.8, address_hash=address, email_domain=DEMO_EMAIL_DOMAIN,
                              created_at=moment, valid=True))
    for first in range(0, len(rows), 400):
        await Signature.insert(*rows[first:first + 400])
    count = await Signature.count().where((Signature.petition == petition_id) & (Signature.valid == True))  # noqa: E712
    await Petition.update({Petition.signature_count: count}).where(Petition.id == petition_id)


async def _suspicious(petition_id: int, count: int, domain: str, at: datetime, territories: dict[str, int]) -> None:
    """A burst from one throw-away domain and address within a minute (what the review is for)."""
    emails = [f"signer{n:03d}@{domain}" for n in range(count)]
    existing = {r["email"] for r in await User.select(User.email).where(User.email.is_in(emails))}
    new = [User(email=e, display_name=f"User {n}", password_hash=None, language="ru", verification=1,
                residence=territories["almaty.bostandyk"], created_at=at - timedelta(hours=2))
           for n, e in enumerate(emails) if e not in existing]
    if new:
        await User.insert(*new)
    ids = [r["id"] for r in await User.select(User.id).where(User.email.is_in(emails))]
    for user_id in ids:
        await NotificationPreference.insert(NotificationPreference(user=user_id, kind="petitions", delivery="off")
                                            ).on_conflict(action="DO NOTHING")
    address = hashlib.sha256(b"demo-burst").hexdigest()[:16]
    await Signature.insert(*[Signature(petition=petition_id, user=user_id, district=territories["almaty.bostandyk"],
                                       show_name=True, address_hash=address, email_domain=domain,
                                       created_at=at + timedelta(seconds=n % 60), valid=True)
                             for n, user_id in enumerate(ids)])
    total = await Signature.count().where((Signature.petition == petition_id) & (Signature.valid == True))  # noqa: E712
    await Petition.update({Petition.signature_count: total}).where(Petition.id == petition_id)


async def _petition(settings: Settings, spec: DemoPetition, people: dict[str, int], organisations: dict[str, int],
                    territories: dict[str, int], pools: dict[str, list[int]]) -> bool:
    if await Petition.exists().where(Petition.title == spec.title):
        return False
    quiet = settings.with_changes(rate_limits=False)
    author = await User.select().where(User.id == people[_person(spec.author)]).first()
    moderator_email = MODERATORS.get(spec.addressee, MODERATORS["*"])
    moderator = await User.select().where(User.id == people[_person(moderator_email)]).first()
    submitted = _now() - timedelta(days=spec.days_ago)
    petition = await services.submit(quiet, author, organisation_id=organisations[spec.addressee],
                                     territory_id=territories[spec.territory], title=spec.title, ask=spec.ask,
                                     reasons=spec.reasons, now=submitted)
    petition_id = petition["id"]
    if spec.stage == "moderation":
        return True
    if spec.stage == "rejected":
        await services.reject(moderator, petition_id, spec.rejection, spec.rejection_note,
                              now=submitted + timedelta(days=2))
        return True
    opened = submitted + timedelta(days=3)
    await services.approve(quiet, moderator, petition_id, now=opened)
    signer_ids = pools[spec.pool][: spec.signatures]
    signing_end = _now() - timedelta(hours=1)
    if spec.stage in ("closed", "anonymised"):
        signing_end = min(signing_end, opened + timedelta(days=40))
    async with transaction():
        await _signatures(petition_id, signer_ids, opened + timedelta(hours=2), signing_end, spec.title)
        if spec.suspicious:
            await _suspicious(petition_id, spec.suspicious, spec.suspicious_domain,
                              _now() - timedelta(days=spec.suspicious_days_ago), territories)
        row = await Petition.select().where(Petition.id == petition_id).first()
        if row["signature_count"] >= row["listing_threshold"]:
            listed_at = opened + timedelta(days=1)
            await Petition.update({Petition.listed_at: listed_at}).where(Petition.id == petition_id)
        if spec.suspicious:
            await services.flag_for_review(petition_id, "burst", _now() - timedelta(days=spec.suspicious_days_ago))
            await services.tell_moderators_of_flags()
        reached_at = None
        if row["signature_count"] >= row["signature_threshold"]:
            reached_at = min(signing_end, opened + timedelta(days=15))
            await services.reach_threshold(petition_id, now=reached_at)
        await services._reindex(petition_id)
    if spec.answer and reached_at is not None:
        petition = await services.get_petition(petition_id)
        answered_on = reached_at + timedelta(days=12)
        official = await User.select(User.id).where(User.id == people[_person(spec.answered_by)]).first()
        await responses.answer(petition["response"], actor_id=official["id"], text=spec.answer,
                               today=services.almaty_day(answered_on))
        async with transaction():
            await OfficialResponse.update({OfficialResponse.answered_at: answered_on,
                                           OfficialResponse.received_at: reached_at}).where(
                OfficialResponse.id == petition["response"])
            await ResponseEvent.update({ResponseEvent.created_at: answered_on}).where(
                (ResponseEvent.response == petition["response"]) & (ResponseEvent.kind == "answered"))
            await ResponseEvent.update({ResponseEvent.created_at: reached_at}).where(
                (ResponseEvent.response == petition["response"]) & (ResponseEvent.kind == "received"))
            await Petition.update({Petition.answered_at: answered_on}).where(Petition.id == petition_id)
        if spec.outcome:
            await services.record_outcome(await User.select().where(User.id == official["id"]).first(), petition_id,
                                          spec.outcome, spec.outcome_reasons, now=answered_on + timedelta(days=3))
            closed_at = answered_on + timedelta(days=3)
            await Petition.update({Petition.closed_at: closed_at, Petition.outcome_at: closed_at}).where(
                Petition.id == petition_id)
            if spec.stage == "anonymised":
                await services.anonymise_signers()
    return True


async def load_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the petitions demo (idempotent); returns how many petitions were created."""
    def step(message: str) -> None:
        if progress:
            progress(message)

    await ensure_core_demo(settings, progress)
    territories = await territory_ids()
    organisations = await organisation_ids()
    missing = [spec for spec in PETITIONS
               if not await Petition.exists().where(Petition.title == spec.title)]
    if not missing:
        return {"petitions": 0}
    pools = {place: await _residents(place, territories, step) for place in POOLS}
    people = {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(
        User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))}
    last_mail = (await OutgoingMail.select(OutgoingMail.id).order_by(OutgoingMail.id, ascending=False).first()
                 or {"id": 0})["id"]
    created = 0
    for n, spec in enumerate(PETITIONS, start=1):
        step(f"Demo petitions: {n} of {len(PETITIONS)}…")
        created += await _petition(settings, spec, people, organisations, territories, pools)
    # the demo people get their notifications in the app, but no mail: nobody reads @demo.ashyq.kz
    await OutgoingMail.delete().where((OutgoingMail.id > last_mail) & OutgoingMail.sent_at.is_null()
                                      & OutgoingMail.to_address.like(f"%@{DEMO_EMAIL_DOMAIN}"))
    step(f"Demo petitions: {created} petitions created")
    return {"petitions": created}
