"""The rules of petitions, as plain functions (no web here).

Sources, cited on the functions that implement them:

* DOMAIN.md §3 "Complaints, petitions, contests" and §5 "Answering citizens" (report lines
  671–735; APC art. 76): a petition is a collective request that obliges its addressee to give
  a substantive, public answer.
* Issue 5, "Petitions": the defaults of Kazakhstan's online petition rules that Ashyq ships —
  a city akimat answers at 2,500 signatures, a city maslikhat at 5,000, a region's akimat at 1%
  of the region's residents and its maslikhat at 2%; moderation within 20 working days; a
  petition is reachable only by its link until it has 50 signatures; a signing period of six
  months; prohibited topics as moderation reasons; one signature per person; the answer is
  published and sent to every signer; signers' personal data is anonymised after the close.
  Each addressee may change these for itself (:class:`~modules.petitions.tables.PetitionRule`).

Every mutating function runs in one write transaction: it happens completely or not at all.
Refusals raise :class:`RuleError` (bad input, 400), :class:`Denied` (403),
:class:`NotFound` (404) or :class:`TooMany` (429), each carrying an English
msgid that the caller translates.

Signing goes through the core's group commit (:data:`SIGNATURES`, a
:class:`civic.batching.GroupCommitWriter`): the signatures waiting at a moment are written in one
write transaction (IMMEDIATE on SQLite) — every check (petition open, verification level, rate
limits) is made inside that transaction, the rows go in with one ``INSERT … ON CONFLICT DO
NOTHING``, so the unique index decides who had already signed, and the count moves by exactly
the rows inserted. Each caller awaits its own result. A failing batch is retried in halves, so
one bad request never fails the others.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from piccolo.columns.combination import WhereRaw

from civic.accounts.services import audit, over_rate_limit
from civic.accounts.tables import Membership, Role
from civic.accounts.verification import Level
from civic.batching import GroupCommitWriter
from civic.clock import ALMATY, almaty_today, now_utc
from civic.db import subject_row_id
from civic.i18n.runtime import N_
from civic.notify.services import tell
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic.responses.workdays import add_calendar_months, add_working_days, working_days_between
from civic import participation
from civic.participation import discussion
from civic.permissions import Action, organisation_chain
from civic.rules import Denied, NotFound, RuleError, TooMany
from civic.runtime import transaction
from civic.settings import Settings
from civic.text import detect_language, plain_summary
from civic.territory.tables import Organisation, OrganisationKind, Territory, TerritoryKind
from modules.petitions.tables import Invalidation, Petition, PetitionRule, Signature

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- vocabulary

MODERATION = "moderation"
REJECTED = "rejected"
OPEN = "open"
CLOSED = "closed"
STATES = (MODERATION, REJECTED, OPEN, CLOSED)

#: What a reader is told about a petition (``public_status``): the state and how far it got.
STATUS_LABELS = {
    "moderation": N_("Waiting for moderation"),
    "rejected": N_("Not published"),
    "link_only": N_("Collecting signatures (by link only)"),
    "open": N_("Collecting signatures"),
    "awaiting_answer": N_("Waiting for the official answer"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}
#: The statuses a public list can be filtered by.
LIST_STATUSES = ("open", "awaiting_answer", "answered", "closed")

GRANTED = "granted"
PARTLY = "partly"
REFUSED = "refused"
INSUFFICIENT = "insufficient"
OUTCOMES = {
    GRANTED: N_("Granted"),
    PARTLY: N_("Partly granted"),
    REFUSED: N_("Refused"),
    INSUFFICIENT: N_("Closed without enough signatures"),
}
#: Outcomes the addressee chooses; "insufficient" is set by the close itself.
CHOSEN_OUTCOMES = (GRANTED, PARTLY, REFUSED)

#: Topics a petition may not be about: the reasons a moderator gives for not publishing it.
#: The list follows the grounds on which Kazakhstan's online petition rules refuse a petition
#: (issue 5: "a list of prohibited topics as moderation reasons"); each addressee may keep a
#: subset (PetitionRule.prohibited_topics).
PROHIBITED_TOPICS = {
    "constitution": N_("Calls for a violent change of the constitutional order or for breaking up the country"),
    "discord": N_("Incites social, national, religious, class or tribal discord"),
    "extremism": N_("Propaganda of war, terrorism or extremism"),
    "court": N_("Concerns a court case or questions a court decision"),
    "competence": N_("Outside the addressee's competence"),
    "offensive": N_("Insulting or obscene language"),
    "personal_data": N_("Reveals personal data or the private life of people"),
    "advertising": N_("Advertising or commercial promotion"),
    "duplicate": N_("Repeats a petition that is open or was answered in the last year"),
    "unclear": N_("It is not clear what is asked"),
}

SORTS = {
    "signatures": N_("Most signatures"),
    "newest": N_("Newest"),
    "closing": N_("Closing soonest"),
}

# The defaults of Kazakhstan's online petition rules as issue 5 sets them out.
CITY_AKIMAT_THRESHOLD = 2_500
CITY_MASLIKHAT_THRESHOLD = 5_000
REGION_AKIMAT_PERCENT = 1
REGION_MASLIKHAT_PERCENT = 2
DEFAULT_LISTING_THRESHOLD = 50
DEFAULT_MODERATION_WORKING_DAYS = 20
DEFAULT_SIGNING_MONTHS = 6
DEFAULT_RESPONSE_WORKING_DAYS = responses.DEFAULT_WORKING_DAYS  # APC art. 76
DEFAULT_ANONYMISE_AFTER_DAYS = 90
# Ashyq's own choice for bodies the rules do not name (district and rural akimats and
# maslikhats): 1% of the residents, at least 100 and at most the city akimat's 2,500.
LOCAL_PERCENT = 1
LOCAL_MIN = 100
LOCAL_MAX = CITY_AKIMAT_THRESHOLD

#: Organisations a petition may be addressed to.
ADDRESSEE_KINDS = (OrganisationKind.AKIMAT, OrganisationKind.MASLIKHAT, OrganisationKind.DEPARTMENT)

TITLE_LENGTH = (10, 200)
ASK_LENGTH = (20, 5_000)
REASONS_LENGTH = (20, 10_000)
OUTCOME_REASONS_LENGTH = (10, 10_000)
INVALIDATION_REASON_LENGTH = (5, 2_000)
PETITIONS_PER_DAY = 3  # per author
PAGE_SIZE = 20
SIGNERS_PAGE_SIZE = 100
KEY_BYTES = 9  # 12 URL-safe characters


@dataclass(frozen=True)
class AbuseLimits:
    """Limits against mass signing. Per petition: signatures from one network address, and
    from one e-mail domain that is not a common provider, within an hour. A burst — at least
    ``burst_min`` signatures within ``burst_window`` and ``burst_factor`` times the petition's
    usual rate — flags the petition for a moderator's review (signing goes on)."""

    address_per_hour: int = 20
    domain_per_hour: int = 50
    burst_window: timedelta = timedelta(minutes=1)
    burst_min: int = 200
    burst_factor: float = 10.0
    burst_check_every: float = 10.0  # seconds between burst checks of one petition (per process)


LIMITS = AbuseLimits()
#: Mail providers shared by many people: the per-domain limit does not apply to them.
COMMON_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "yandex.ru", "yandex.kz", "ya.ru",
    "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "me.com", "mail.kz", "inbox.kz",
    "rambler.ru", "proton.me", "protonmail.com",
})

def almaty_day(moment: datetime | None = None) -> date:
    """The date in Kazakhstan of a moment (deadlines are local dates)."""
    return (moment or now_utc()).astimezone(ALMATY).date()


# --------------------------------------------------------------------------- rules


def default_threshold(organisation_kind: str, territory_kind: str, population: int | None) -> tuple[int, str]:
    """The signatures an addressee needs before it must answer, by the defaults of Kazakhstan's
    online petition rules (issue 5): a city akimat 2,500, a city maslikhat 5,000, a region's
    akimat 1% of the region's residents, its maslikhat 2% (rounded up). Bodies the rules do not
    name (district and rural akimats and maslikhats, and regions without a population figure)
    get Ashyq's choice: 1% of their residents, at least 100, at most 2,500; 2,500 when the
    population is unknown. Returns (threshold, a msgid saying where it comes from)."""
    if territory_kind == TerritoryKind.CITY:
        if organisation_kind == OrganisationKind.MASLIKHAT:
            return CITY_MASLIKHAT_THRESHOLD, N_("the rule for a city maslikhat: 5,000 signatures")
        return CITY_AKIMAT_THRESHOLD, N_("the rule for a city akimat: 2,500 signatures")
    if territory_kind == TerritoryKind.REGION and population:
        if organisation_kind == OrganisationKind.MASLIKHAT:
            return (math.ceil(population * REGION_MASLIKHAT_PERCENT / 100),
                    N_("the rule for a region's maslikhat: 2% of the region's residents"))
        return (math.ceil(population * REGION_AKIMAT_PERCENT / 100),
                N_("the rule for a region's akimat: 1% of the region's residents"))
    if population:
        value = min(LOCAL_MAX, max(LOCAL_MIN, math.ceil(population * LOCAL_PERCENT / 100)))
        return value, N_("Ashyq's default for local bodies: 1% of the residents, from 100 to 2,500")
    return CITY_AKIMAT_THRESHOLD, N_("the default when the number of residents is unknown: 2,500 signatures")


def platform_signing_level(settings: Settings | None) -> int:
    """Who may sign when the addressee does not say: verified residents where the state identity
    service (OIDC) is connected, people with a confirmed e-mail address otherwise (the demo)."""
    if settings is not None and settings.oidc_enabled:
        return int(Level.VERIFIED_RESIDENT)
    return int(Level.EMAIL_CONFIRMED)


@dataclass(frozen=True)
class Rules:
    """The rules in force for one addressee, with the defaults filled in."""

    organisation: int
    signature_threshold: int
    threshold_source: str  # msgid
    threshold_is_default: bool
    listing_threshold: int
    moderation_working_days: int
    signing_months: int
    signing_level: int
    response_working_days: int
    anonymise_after_days: int
    prohibited_topics: tuple[str, ...]
    configured: dict = field(default_factory=dict)  # the addressee's own values (None: default)


RULE_FIELDS = ("signature_threshold", "listing_threshold", "moderation_working_days", "signing_months",
               "signing_level", "response_working_days", "anonymise_after_days")
#: Allowed values of each rule an addressee may set (inclusive).
RULE_BOUNDS = {
    "signature_threshold": (1, 10_000_000),
    "listing_threshold": (0, 100_000),
    "moderation_working_days": (1, 60),
    "signing_months": (1, 24),
    "signing_level": (int(Level.EMAIL_CONFIRMED), int(Level.VERIFIED_RESIDENT)),
    "response_working_days": (1, 60),
    "anonymise_after_days": (0, 3650),
}


async def _organisation_row(organisation_id: int) -> dict | None:
    return await Organisation.select(
        Organisation.id, Organisation.kind, Organisation.parent, Organisation.slug, Organisation.territory,
        Organisation.name_kk, Organisation.name_ru, Organisation.name_en, Organisation.is_public,
        Organisation.territory.kind.as_alias("territory_kind"), Organisation.territory.path.as_alias("territory_path"),
        Organisation.territory.population.as_alias("population"),
    ).where(Organisation.id == organisation_id).first()


async def rules_for(organisation_id: int, settings: Settings | None = None) -> Rules:
    """The addressee's rules (PetitionRule) over the defaults (:func:`defaults_for`)."""
    defaults = await defaults_for(organisation_id, settings)
    row = await PetitionRule.select().where(PetitionRule.organisation == organisation_id).output(
        load_json=True).first() or {}
    configured = {name: row.get(name) for name in RULE_FIELDS}
    topics = tuple(t for t in (row.get("prohibited_topics") or []) if t in PROHIBITED_TOPICS) or tuple(PROHIBITED_TOPICS)

    def pick(name: str) -> int:
        value = configured.get(name)
        return int(defaults[name]) if value is None else int(value)

    return Rules(
        organisation=organisation_id,
        signature_threshold=pick("signature_threshold"),
        threshold_source=N_("the addressee's own rule") if configured["signature_threshold"] is not None
        else defaults["threshold_source"],
        threshold_is_default=configured["signature_threshold"] is None,
        listing_threshold=pick("listing_threshold"),
        moderation_working_days=pick("moderation_working_days"),
        signing_months=pick("signing_months"),
        signing_level=pick("signing_level"),
        response_working_days=pick("response_working_days"),
        anonymise_after_days=pick("anonymise_after_days"),
        prohibited_topics=topics,
        configured={**configured, "prohibited_topics": list(row.get("prohibited_topics") or [])},
    )


async def defaults_for(organisation_id: int, settings: Settings | None = None) -> dict:
    """What each rule is for this addressee when it sets no value of its own, and where the
    default threshold comes from (a msgid)."""
    organisation = await _organisation_row(organisation_id)
    if organisation is None:
        raise NotFound(N_("This organisation does not exist."))
    basis = organisation
    if organisation["kind"] == OrganisationKind.DEPARTMENT and organisation["parent"]:
        basis = await _organisation_row(organisation["parent"]) or organisation
    threshold, source = default_threshold(basis["kind"], basis["territory_kind"], basis["population"])
    return {"signature_threshold": threshold, "threshold_source": source,
            "listing_threshold": DEFAULT_LISTING_THRESHOLD,
            "moderation_working_days": DEFAULT_MODERATION_WORKING_DAYS, "signing_months": DEFAULT_SIGNING_MONTHS,
            "signing_level": platform_signing_level(settings), "response_working_days": DEFAULT_RESPONSE_WORKING_DAYS,
            "anonymise_after_days": DEFAULT_ANONYMISE_AFTER_DAYS}


def _rule_snapshot(rules: Rules) -> dict:
    return {
        Petition.signature_threshold: rules.signature_threshold,
        Petition.listing_threshold: rules.listing_threshold,
        Petition.signing_level: rules.signing_level,
        Petition.signing_months: rules.signing_months,
        Petition.response_working_days: rules.response_working_days,
        Petition.anonymise_after_days: rules.anonymise_after_days,
    }


def moderation_due_on(submitted: datetime, working_days: int = DEFAULT_MODERATION_WORKING_DAYS) -> date:
    """A petition is moderated within 20 working days of its submission (issue 5), counted in
    Kazakh working days from the day after (civic.responses.workdays)."""
    return add_working_days(almaty_day(submitted), working_days)


def signing_ends_at(opened: datetime, months: int = DEFAULT_SIGNING_MONTHS) -> datetime:
    """Signing lasts six months by default (issue 5): until the same moment ``months`` calendar
    months after opening (the last day of a shorter month when the day does not exist)."""
    local = opened.astimezone(ALMATY)
    return add_calendar_months(local, months).astimezone(timezone.utc)


def is_listed(signature_count: int, listing_threshold: int) -> bool:
    """A petition is reachable only by its link until it has 50 signatures (issue 5), then it is
    listed publicly; once listed it stays listed."""
    return signature_count >= listing_threshold


def public_status(petition: dict, now: datetime | None = None) -> str:
    """One word for where a petition stands (keys of :data:`STATUS_LABELS`)."""
    state = petition["state"]
    if state in (MODERATION, REJECTED):
        return state
    if state == CLOSED:
        return "closed"
    if petition.get("answered_at"):
        return "answered"
    if petition.get("threshold_reached_at"):
        return "awaiting_answer"
    if petition.get("listed_at") is None:
        return "link_only"
    return "open"


def signing_open(petition: dict, now: datetime | None = None) -> bool:
    now = now or now_utc()
    return petition["state"] == OPEN and (petition.get("closes_at") is None or petition["closes_at"] > now)


# --------------------------------------------------------------------------- who may do what


#: What needs permission in petitions (civic.permissions): roles count down the organisation tree.
MODERATE = Action("petitions.moderate", roles=(Role.MODERATOR, Role.ADMINISTRATOR))
SET_RULES = Action("petitions.set_rules", roles=(Role.ADMINISTRATOR,))

#: What the shared reports and moderation log (civic.participation.discussion) call a petition.
PETITION_KIND = "petitions.petition"


async def may_moderate(user: dict | None, organisation_id: int | None) -> bool:
    """Moderators of the addressee or of a body above it (and their administrators); platform
    administrators everywhere."""
    return await participation.may_in(user, MODERATE, organisation_id)


async def may_set_rules(user: dict | None, organisation_id: int) -> bool:
    """Administrators of the addressee or of a body above it, and platform administrators."""
    return await participation.may_in(user, SET_RULES, organisation_id)


async def may_answer(user: dict | None, organisation_id: int) -> bool:
    """The addressee's staff, by the engine's rule (civic.responses.may_act)."""
    return bool(user) and await responses.may_act(user["id"], organisation_id)


async def moderated_organisations(user: dict | None) -> list[int] | None:
    """Every organisation the person moderates, with the bodies below them; None: all."""
    return await participation.moderated_organisations(user, MODERATE)


async def is_moderator_anywhere(user: dict | None) -> bool:
    return await participation.moderates_anywhere(user, MODERATE)


async def rule_organisations_of(user: dict | None) -> list[dict]:
    """Addressees whose rules the person may set."""
    if not user:
        return []
    rows = await addressees()
    if user.get("is_admin"):
        return rows
    allowed = []
    for row in rows:
        if await may_set_rules(user, row["id"]):
            allowed.append(row)
    return allowed


# --------------------------------------------------------------------------- choices


async def addressees() -> list[dict]:
    """Public akimats, maslikhats and departments, in territory order."""
    return await Organisation.select(
        Organisation.id, Organisation.slug, Organisation.kind, Organisation.name_kk, Organisation.name_ru,
        Organisation.name_en, Organisation.territory, Organisation.territory.path.as_alias("territory_path"),
    ).where(Organisation.kind.is_in(list(ADDRESSEE_KINDS)) & (Organisation.is_public == True)).order_by(  # noqa: E712
        Organisation.territory.path).order_by(Organisation.kind).order_by(Organisation.slug)


async def territory_choices() -> list[dict]:
    """Territories a petition can be about (everything below the republic), in tree order."""
    rows = await Territory.select(Territory.id, Territory.code, Territory.kind, Territory.path, Territory.name_kk,
                                  Territory.name_ru, Territory.name_en).where(
        Territory.kind != TerritoryKind.REPUBLIC).order_by(Territory.path)
    for row in rows:
        row["depth"] = max(0, row["path"].strip("/").count("/") - 1)
    return rows


# --------------------------------------------------------------------------- districts of signers


class DistrictMap:
    """Territory id -> the district a signature is counted in: the territory's own district
    (a rural okrug counts in its district), or the territory itself above district level.
    Kept in memory and reloaded at most every ``ttl`` seconds (territories rarely change)."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self.mapping: dict[int, int] = {}
        self.loaded_at = 0.0
        self._loading: dict[int, asyncio.Task] = {}

    @staticmethod
    def build(rows: list[dict]) -> dict[int, int]:
        by_id = {r["id"]: r for r in rows}
        mapping = {}
        for row in rows:
            current, seen = row, set()
            while current["kind"] == TerritoryKind.RURAL_OKRUG and current["parent"] in by_id \
                    and current["id"] not in seen:
                seen.add(current["id"])
                current = by_id[current["parent"]]
            mapping[row["id"]] = current["id"]
        return mapping

    async def _load(self) -> None:
        rows = await Territory.select(Territory.id, Territory.parent, Territory.kind)
        self.mapping = self.build(rows)
        self.loaded_at = time.monotonic()

    async def reload(self) -> None:
        """One reload at a time per event loop: a crowd signing at once waits for the same one."""
        loop = asyncio.get_running_loop()
        running = self._loading.get(id(loop))
        if running is None or running.done() or running.get_loop() is not loop:
            running = self._loading[id(loop)] = loop.create_task(self._load(), context=contextvars.Context())
        await asyncio.shield(running)

    async def district_of(self, territory_id: int | None) -> int | None:
        if not territory_id:
            return None
        stale = time.monotonic() - self.loaded_at > self.ttl
        if stale or territory_id not in self.mapping:
            await self.reload()
        return self.mapping.get(territory_id)


DISTRICTS = DistrictMap()


# --------------------------------------------------------------------------- reading


DETAIL_COLUMNS = (
    Petition.all_columns(),
    Petition.organisation.slug.as_alias("organisation_slug"),
    Petition.organisation.kind.as_alias("organisation_kind"),
    Petition.organisation.name_kk.as_alias("organisation_name_kk"),
    Petition.organisation.name_ru.as_alias("organisation_name_ru"),
    Petition.organisation.name_en.as_alias("organisation_name_en"),
    Petition.territory.code.as_alias("territory_code"),
    Petition.territory.path.as_alias("territory_path"),
    Petition.territory.name_kk.as_alias("territory_name_kk"),
    Petition.territory.name_ru.as_alias("territory_name_ru"),
    Petition.territory.name_en.as_alias("territory_name_en"),
    Petition.author.display_name.as_alias("author_name"),
)


def _decorate(row: dict | None) -> dict | None:
    if row is not None:
        row["status"] = public_status(row)
        row["signing_open"] = signing_open(row)
    return row


async def get_petition(petition_id: int) -> dict | None:
    return _decorate(await Petition.select(*DETAIL_COLUMNS).where(Petition.id == petition_id).first())


async def get_by_key(key: str) -> dict | None:
    if not key or len(key) > 16:
        return None
    return _decorate(await Petition.select(*DETAIL_COLUMNS).where(Petition.key == key).first())


async def may_see(user: dict | None, petition: dict) -> bool:
    """Anyone with the link sees an open or closed petition; one waiting for moderation or not
    published is seen by its author and its moderators only."""
    if petition["state"] in (OPEN, CLOSED):
        return True
    if user and petition["author"] == user["id"]:
        return True
    return await may_moderate(user, petition["organisation"])


@dataclass
class PetitionList:
    items: list[dict]
    page: int
    has_next: bool


LIST_COLUMNS = (
    Petition.id, Petition.key, Petition.title, Petition.summary, Petition.state, Petition.signature_count,
    Petition.signature_threshold, Petition.listed_at, Petition.threshold_reached_at, Petition.answered_at,
    Petition.closes_at, Petition.opened_at, Petition.outcome, Petition.lang, Petition.organisation,
    Petition.organisation.slug.as_alias("organisation_slug"),
    Petition.organisation.name_kk.as_alias("organisation_name_kk"),
    Petition.organisation.name_ru.as_alias("organisation_name_ru"),
    Petition.organisation.name_en.as_alias("organisation_name_en"),
    Petition.territory.name_kk.as_alias("territory_name_kk"),
    Petition.territory.name_ru.as_alias("territory_name_ru"),
    Petition.territory.name_en.as_alias("territory_name_en"),
)


async def _territory_ids_under(code: str) -> list[int] | None:
    territory = await Territory.select(Territory.path).where(Territory.code == code).first()
    if territory is None:
        return None
    rows = await Territory.select(Territory.id).where(Territory.path.like(territory["path"] + "%"))
    return [r["id"] for r in rows]


async def list_petitions(*, sort: str = "signatures", status: str | None = None, organisation: str | None = None,
                         territory: str | None = None, page: int = 1, per_page: int = PAGE_SIZE) -> PetitionList:
    """A page of publicly listed petitions (open with at least the listing threshold of
    signatures, or closed after being listed). ``organisation`` is the addressee's slug,
    ``territory`` a territory code that includes everything below it."""
    query = Petition.select(*LIST_COLUMNS).where(
        Petition.listed_at.is_not_null() & Petition.state.is_in([OPEN, CLOSED]))
    if status == "open":
        query = query.where((Petition.state == OPEN) & Petition.threshold_reached_at.is_null())
    elif status == "awaiting_answer":
        query = query.where((Petition.state == OPEN) & Petition.threshold_reached_at.is_not_null()
                            & Petition.answered_at.is_null())
    elif status == "answered":
        query = query.where((Petition.state == OPEN) & Petition.answered_at.is_not_null())
    elif status == "closed":
        query = query.where(Petition.state == CLOSED)
    if organisation:
        query = query.where(Petition.organisation.slug == organisation)
    if territory:
        ids = await _territory_ids_under(territory)
        query = query.where(Petition.territory.is_in(ids or [-1]))
    if sort == "newest":
        query = query.order_by(Petition.opened_at, ascending=False)
    elif sort == "closing":
        query = query.order_by(Petition.state, ascending=False).order_by(Petition.closes_at)
    else:
        query = query.order_by(Petition.signature_count, ascending=False)
    query = query.order_by(Petition.id, ascending=False)
    rows = await query.limit(per_page + 1).offset((page - 1) * per_page)
    for row in rows:
        _decorate(row)
    return PetitionList(items=rows[:per_page], page=page, has_next=len(rows) > per_page)


async def petitions_of_author(user_id: int) -> list[dict]:
    rows = await Petition.select(*LIST_COLUMNS, Petition.rejection_reason, Petition.moderation_due_on,
                                 Petition.submitted_at).where(Petition.author == user_id).order_by(
        Petition.id, ascending=False)
    return [_decorate(r) for r in rows]


async def petitions_signed_by(user_id: int) -> list[dict]:
    rows = await Signature.select(
        Signature.created_at, Signature.show_name, Signature.valid, Signature.petition.key.as_alias("key"),
        Signature.petition.title.as_alias("title"), Signature.petition.state.as_alias("state"),
        Signature.petition.signature_count.as_alias("signature_count"),
    ).where(Signature.user == user_id).order_by(Signature.id, ascending=False)
    return rows


async def signature_of(user: dict | None, petition_id: int) -> dict | None:
    if not user:
        return None
    return await Signature.select(Signature.id, Signature.created_at, Signature.show_name, Signature.valid).where(
        (Signature.petition == petition_id) & (Signature.user == user["id"])).first()


async def counts_by_district(petition_id: int) -> list[dict]:
    """Valid signatures per district of residence, most first; people who gave no residence
    are one row with ``district`` None."""
    from piccolo.query.functions.aggregate import Count

    rows = await Signature.select(Signature.district, Count(alias="signatures")).where(
        (Signature.petition == petition_id) & (Signature.valid == True)).group_by(Signature.district)  # noqa: E712
    ids = [r["district"] for r in rows if r["district"]]
    names = {t["id"]: t for t in await Territory.select(
        Territory.id, Territory.code, Territory.name_kk, Territory.name_ru, Territory.name_en).where(
        Territory.id.is_in(ids or [-1]))}
    out = []
    for row in rows:
        territory = names.get(row["district"]) or {}
        out.append({"district": row["district"], "code": territory.get("code", ""),
                    "name_kk": territory.get("name_kk", ""), "name_ru": territory.get("name_ru", ""),
                    "name_en": territory.get("name_en", ""), "signatures": row["signatures"]})
    out.sort(key=lambda r: (r["district"] is None, -r["signatures"], r["code"]))
    return out


def chart_bars(rows: list[dict], width: int = 100) -> list[dict]:
    """Bar lengths (0..width, whole numbers, at least 1 for a non-zero count) for the chart."""
    top = max((r["signatures"] for r in rows), default=0)
    bars = []
    for row in rows:
        length = 0 if not top else max(1, round(width * row["signatures"] / top)) if row["signatures"] else 0
        bars.append({**row, "length": length})
    return bars


async def public_signers(petition_id: int, page: int = 1, per_page: int = SIGNERS_PAGE_SIZE) -> tuple[list[dict], bool]:
    """Names of the signers who did not hide them, newest first (none once anonymised; never
    the placeholder of a deleted account)."""
    rows = await Signature.select(Signature.created_at, Signature.user.display_name.as_alias("name"),
                                  Signature.district.name_kk.as_alias("district_name_kk"),
                                  Signature.district.name_ru.as_alias("district_name_ru"),
                                  Signature.district.name_en.as_alias("district_name_en")).where(
        (Signature.petition == petition_id) & (Signature.valid == True) & (Signature.show_name == True)  # noqa: E712
        & Signature.user.is_not_null() & Signature.user.deleted_at.is_null()).order_by(Signature.id, ascending=False).limit(per_page + 1).offset(
        (page - 1) * per_page)
    return rows[:per_page], len(rows) > per_page


async def official_responses(petition_id: int) -> list[dict]:
    rows = await OfficialResponse.select(
        OfficialResponse.all_columns(),
        OfficialResponse.organisation.name_kk.as_alias("organisation_name_kk"),
        OfficialResponse.organisation.name_ru.as_alias("organisation_name_ru"),
        OfficialResponse.organisation.name_en.as_alias("organisation_name_en"),
    ).where(OfficialResponse.subject == f"petitions:{petition_id}").order_by(OfficialResponse.id)
    today = almaty_today()
    for row in rows:
        row["effective_due_on"] = responses.effective_due(row)
        row["light"] = responses.traffic_light(row, today)
    return rows


def timeline(petition: dict) -> list[dict]:
    """The petition's public history, from its own dates."""
    events = [("submitted", petition.get("submitted_at"))]
    if petition["state"] != REJECTED:
        events += [("opened", petition.get("opened_at")), ("listed", petition.get("listed_at")),
                   ("threshold", petition.get("threshold_reached_at")), ("answered", petition.get("answered_at")),
                   ("outcome", petition.get("outcome_at")), ("closed", petition.get("closed_at")),
                   ("anonymised", petition.get("anonymised_at"))]
    else:
        events.append(("rejected", petition.get("moderated_at")))
    return [{"event": name, "at": at} for name, at in events if at is not None]


# --------------------------------------------------------------------------- drafting


def _clean(value: str, length: tuple[int, int], msgid: str, field_name: str) -> str:
    value = (value or "").strip()
    if not length[0] <= len(value) <= length[1]:
        raise RuleError(msgid, field_name, min=length[0], max=length[1])
    return value


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)[:16]


async def submit(settings: Settings, author: dict, *, organisation_id: int | None, territory_id: int | None,
                 title: str, ask: str, reasons: str, now: datetime | None = None) -> dict:
    """A verified person sends a petition to an addressee (title, what is asked, why, territory).
    It waits for moderation, due within the addressee's moderation term (20 working days by
    default, issue 5); the moderators see the due date. The author must be verified at the level
    the addressee asks of its signers. Returns the new petition (its ``key`` makes the link)."""
    now = now or now_utc()
    if not author or author.get("deleted_at") or author.get("blocked_reason"):
        raise Denied(N_("This account cannot start petitions."))
    title = _clean(title, TITLE_LENGTH, N_("The title must be %(min)s to %(max)s characters long."), "title")
    ask = _clean(ask, ASK_LENGTH, N_("Say what you ask for in %(min)s to %(max)s characters."), "ask")
    reasons = _clean(reasons, REASONS_LENGTH, N_("Explain why in %(min)s to %(max)s characters."), "reasons")
    if organisation_id is None:
        raise RuleError(N_("Choose the organisation the petition is addressed to."), "organisation")
    organisation = await _organisation_row(organisation_id)
    if organisation is None or organisation["kind"] not in ADDRESSEE_KINDS or not organisation["is_public"]:
        raise RuleError(N_("Choose the organisation the petition is addressed to."), "organisation")
    if territory_id is None:
        raise RuleError(N_("Choose the territory the petition is about."), "territory")
    territory = await Territory.select(Territory.id, Territory.path).where(Territory.id == territory_id).first()
    if territory is None:
        raise RuleError(N_("Choose the territory the petition is about."), "territory")
    if not territory["path"].startswith(organisation["territory_path"]):
        raise RuleError(N_("The territory must be one the addressee is responsible for."), "territory")
    rules = await rules_for(organisation_id, settings)
    if author.get("verification", 0) < rules.signing_level:
        raise Denied(N_("To start a petition to this addressee you must be verified as its signers are: "
                                "%(level)s."), level=LEVEL_NAMES.get(rules.signing_level, ""))
    if await over_rate_limit(settings, f"petitions:submit:{author['id']}", PETITIONS_PER_DAY, timedelta(days=1)):
        raise TooMany(N_("You can start at most %(count)s petitions a day. Please try again tomorrow."),
                              count=PETITIONS_PER_DAY)
    async with transaction():
        petition = Petition(
            key=new_key(), title=title, ask=ask, reasons=reasons, summary=plain_summary(ask),
            territory=territory_id, organisation=organisation_id, author=author["id"],
            lang=detect_language(f"{title} {ask} {reasons}"), state=MODERATION, submitted_at=now,
            moderation_due_on=moderation_due_on(now, rules.moderation_working_days),
            created_at=now, updated_at=now,
        )
        for column, value in _rule_snapshot(rules).items():
            setattr(petition, column._meta.name, value)
        await petition.save()
        for moderator_id in await moderators_of(organisation_id):
            await tell([moderator_id], "petitions.moderation", N_("A new petition waits for moderation: “%(title)s”"),
                        N_("Please decide by %(due)s."), "/petitions/moderation", title=title,
                        due=petition.moderation_due_on)
    return await get_petition(petition.id)


async def moderators_of(organisation_id: int) -> list[int]:
    """Moderators of the addressee and of the bodies above it."""
    chain = await organisation_chain(organisation_id)
    rows = await Membership.select(Membership.user).where(
        Membership.organisation.is_in(chain or [-1]) & (Membership.role == Role.MODERATOR))
    return sorted({r["user"] for r in rows})


LEVEL_NAMES = {
    int(Level.EMAIL_CONFIRMED): N_("a confirmed e-mail address"),
    int(Level.VERIFIED_RESIDENT): N_("a verified resident (signed in through the state identity service or "
                                     "confirmed in person)"),
}


# --------------------------------------------------------------------------- moderation


async def _petition_or_error(petition_id: int) -> dict:
    petition = await get_petition(petition_id)
    if petition is None:
        raise NotFound(N_("This petition does not exist."))
    return petition


async def approve(settings: Settings, moderator: dict, petition_id: int, now: datetime | None = None) -> None:
    """A moderator of the addressee publishes the petition: signing opens for the addressee's
    signing period (six months by default), under the rules in force now; the author is told.
    It is reachable by its link until it has enough signatures to be listed."""
    now = now or now_utc()
    async with transaction():
        petition = await _petition_or_error(petition_id)
        if not await may_moderate(moderator, petition["organisation"]):
            raise Denied(N_("Only moderators of the addressee may moderate its petitions."))
        if petition["state"] != MODERATION:
            raise RuleError(N_("This petition is no longer waiting for moderation."))
        rules = await rules_for(petition["organisation"], settings)
        changes = {Petition.state: OPEN, Petition.moderated_at: now, Petition.moderated_by: moderator["id"],
                   Petition.opened_at: now, Petition.closes_at: signing_ends_at(now, rules.signing_months),
                   Petition.updated_at: now, **_rule_snapshot(rules)}
        if rules.listing_threshold <= 0:
            changes[Petition.listed_at] = now
        changed = await Petition.update(changes).where(
            (Petition.id == petition_id) & (Petition.state == MODERATION)).returning(Petition.id)
        if not changed:
            raise RuleError(N_("This petition is no longer waiting for moderation."))
        await audit(moderator["id"], "petitions.approve", organisation_id=petition["organisation"],
                    subject=f"petitions:{petition_id}")
        await discussion.record(PETITION_KIND, petition_id, f"petitions:{petition_id}", "approved",
                                moderator_id=moderator["id"], organisation_id=petition["organisation"], now=now)
        await tell([petition["author"]], "petitions.published", N_("Your petition “%(title)s” is published"),
                    N_("Share its link: it is listed publicly once %(count)s people have signed it."),
                    f"/petitions/{petition['key']}", title=petition["title"], count=rules.listing_threshold)
        if rules.listing_threshold <= 0:
            await _reindex(petition_id)


async def reject(moderator: dict, petition_id: int, reason: str, note: str = "", now: datetime | None = None) -> None:
    """A moderator refuses to publish the petition, naming one of the addressee's prohibited
    topics (issue 5); the author is told why. Only the author and moderators see it afterwards."""
    now = now or now_utc()
    note = (note or "").strip()[:2000]
    async with transaction():
        petition = await _petition_or_error(petition_id)
        if not await may_moderate(moderator, petition["organisation"]):
            raise Denied(N_("Only moderators of the addressee may moderate its petitions."))
        if petition["state"] != MODERATION:
            raise RuleError(N_("This petition is no longer waiting for moderation."))
        rules = await rules_for(petition["organisation"])
        if reason not in rules.prohibited_topics:
            raise RuleError(N_("Choose one of the addressee's reasons for not publishing a petition."), "reason")
        changed = await Petition.update({
            Petition.state: REJECTED, Petition.moderated_at: now, Petition.moderated_by: moderator["id"],
            Petition.rejection_reason: reason, Petition.rejection_note: note, Petition.updated_at: now,
        }).where((Petition.id == petition_id) & (Petition.state == MODERATION)).returning(Petition.id)
        if not changed:
            raise RuleError(N_("This petition is no longer waiting for moderation."))
        await audit(moderator["id"], "petitions.reject", organisation_id=petition["organisation"],
                    subject=f"petitions:{petition_id}", details={"reason": reason})
        await discussion.record(PETITION_KIND, petition_id, f"petitions:{petition_id}", "rejected",
                                moderator_id=moderator["id"], organisation_id=petition["organisation"],
                                reason=reason, note=note, now=now)
        await tell([petition["author"]], "petitions.rejected", N_("Your petition “%(title)s” was not published"),
                    N_("Reason: %(reason)s. %(note)s"), f"/petitions/{petition['key']}", title=petition["title"],
                    reason_msgid=PROHIBITED_TOPICS[reason], note=note)


async def moderation_queue(moderator: dict, today: date | None = None) -> dict:
    """What waits for the person's moderation: petitions to publish or refuse (the most urgent
    first, each with its due date and a deadline light) and petitions flagged for review."""
    organisations = await moderated_organisations(moderator)
    if organisations == []:
        raise Denied(N_("Only moderators may see the moderation queue."))
    today = today or almaty_today()
    columns = (*LIST_COLUMNS, Petition.submitted_at, Petition.moderation_due_on, Petition.review_reason,
               Petition.flagged_at, Petition.author.display_name.as_alias("author_name"), Petition.ask)
    pending = Petition.select(*columns).where(Petition.state == MODERATION)
    flagged = Petition.select(*columns).where(Petition.flagged_at.is_not_null())
    if organisations is not None:
        pending = pending.where(Petition.organisation.is_in(organisations))
        flagged = flagged.where(Petition.organisation.is_in(organisations))
    pending_rows = await pending.order_by(Petition.moderation_due_on).order_by(Petition.id)
    for row in pending_rows:
        due = row["moderation_due_on"]
        row["working_days_left"] = working_days_between(today, due) if due else None
        row["light"] = "red" if due and today > due else "amber" if due and row["working_days_left"] <= 3 else "green"
    flagged_rows = await flagged.order_by(Petition.flagged_at)
    return {"pending": [_decorate(r) for r in pending_rows], "flagged": [_decorate(r) for r in flagged_rows]}


# --------------------------------------------------------------------------- signing


@dataclass(frozen=True)
class SignRequest:
    petition_id: int
    user_id: int
    verification: int
    district_id: int | None
    show_name: bool
    address_hash: str
    email_domain: str
    now: datetime
    limited: bool  # rate limits apply


@dataclass(frozen=True)
class SignResult:
    signed: bool  # the person's signature is on the petition
    changed: bool  # this call added it (False: they had signed already)
    signature_count: int
    listed: bool = False  # this call made the petition listed
    threshold_reached: bool = False  # this call reached the threshold


def address_hash(secret: str, address: str) -> str:
    """A keyed hash of the signer's network address: enough to see many signatures coming from
    one place, without keeping the address itself."""
    if not address:
        return ""
    return hmac.new(secret.encode(), f"petitions:{address}".encode(), hashlib.sha256).hexdigest()[:16]


def email_domain(email: str) -> str:
    return (email or "").rpartition("@")[2].strip().lower()[:100]


async def sign(settings: Settings, user: dict, petition_id: int, *, show_name: bool = True, address: str = "",
               now: datetime | None = None) -> SignResult:
    """Sign a petition: one signature per person (a unique index decides), at the verification
    level the addressee's rules ask for, while signing is open; the signer may hide their name.
    Signatures from one address or one uncommon e-mail domain are limited per hour (abuse).
    Written through the group-commit writer; inside a caller's transaction it is written there."""
    if not user or user.get("deleted_at") or user.get("blocked_reason"):
        raise Denied(N_("This account cannot sign petitions."))
    if user.get("verification", 0) < Level.EMAIL_CONFIRMED:
        raise Denied(N_("Confirm your e-mail address before signing petitions."))
    residence = user.get("verified_territory") or user.get("residence")
    request = SignRequest(
        petition_id=int(petition_id), user_id=int(user["id"]), verification=int(user.get("verification", 0)),
        district_id=await DISTRICTS.district_of(residence), show_name=bool(show_name),
        address_hash=address_hash(settings.secret_key, address), email_domain=email_domain(user.get("email", "")),
        now=now or now_utc(), limited=settings.rate_limits,
    )
    return await SIGNATURES.submit(request)


def _marks(count: int) -> str:
    return ", ".join(["{}"] * count)


async def _rows(sql: str, *args) -> list[dict]:
    """One statement of the signing batch, through Piccolo's public raw query (``{}``
    placeholders, which Piccolo turns into the driver's own): the hot path skips building
    queries column by column. Runs in the batch's write transaction."""
    return await Signature.raw(sql, *args)


async def _recent_counts(column: str, petition_ids: list[int], values: list[str], since: datetime) -> dict:
    if not values:
        return {}
    rows = await _rows(
        f"SELECT petition, {column} AS value, COUNT(*) AS n FROM petitions_signature "
        f"WHERE petition IN ({_marks(len(petition_ids))}) AND {column} IN ({_marks(len(values))}) "
        "AND created_at > {} GROUP BY petition, " + column, *petition_ids, *values, since)
    return {(r["petition"], r["value"]): r["n"] for r in rows}


_burst_checked: dict[int, float] = {}


async def apply_batch(requests: list[SignRequest]) -> list:
    """Write a batch of signatures inside the caller's write transaction; one result per request:
    a :class:`SignResult` or the refusal (an exception instance, not raised)."""
    petition_ids = sorted({r.petition_id for r in requests})
    petitions = {p["id"]: p for p in await _rows(
        "SELECT id, state, closes_at, signing_level, signature_count, signature_threshold, listing_threshold, "
        "listed_at, threshold_reached_at, opened_at, flagged_at, organisation FROM petitions_petition "
        f"WHERE id IN ({_marks(len(petition_ids))})", *petition_ids)}
    results: list = [None] * len(requests)
    candidates: list[int] = []
    for index, request in enumerate(requests):
        petition = petitions.get(request.petition_id)
        if petition is None:
            results[index] = NotFound(N_("This petition does not exist."))
        elif petition["state"] != OPEN or (petition["closes_at"] and petition["closes_at"] <= request.now):
            results[index] = RuleError(N_("This petition is not open for signatures."))
        elif request.verification < petition["signing_level"]:
            results[index] = Denied(N_("This petition can be signed only with %(level)s."),
                                            level=LEVEL_NAMES.get(petition["signing_level"], ""))
        else:
            candidates.append(index)

    # Who has signed already (answered without touching the limits), and each person once per
    # batch: only new signatures count against the limits. The unique index still decides.
    if candidates:
        users = sorted({requests[i].user_id for i in candidates})
        have = await _rows(
            f'SELECT petition, "user" FROM petitions_signature WHERE petition IN ({_marks(len(petition_ids))}) '
            f'AND "user" IN ({_marks(len(users))})', *petition_ids, *users)
        seen = {(r["petition"], r["user"]) for r in have}
        fresh = []
        for index in candidates:
            key = (requests[index].petition_id, requests[index].user_id)
            if key not in seen:
                seen.add(key)
                fresh.append(index)
    else:
        fresh = []
    already = [i for i in candidates if i not in set(fresh)]
    candidates = fresh

    limited = [i for i in candidates if requests[i].limited]
    if limited:
        now = max(requests[i].now for i in limited)
        since = now - timedelta(hours=1)
        ids = sorted({requests[i].petition_id for i in limited})
        addresses = sorted({requests[i].address_hash for i in limited if requests[i].address_hash})
        domains = sorted({requests[i].email_domain for i in limited
                          if requests[i].email_domain and requests[i].email_domain not in COMMON_MAIL_DOMAINS})
        by_address = await _recent_counts("address_hash", ids, addresses, since)
        by_domain = await _recent_counts("email_domain", ids, domains, since)
        kept = []
        for index in candidates:
            request = requests[index]
            if request.limited:
                address_key = (request.petition_id, request.address_hash)
                domain_key = (request.petition_id, request.email_domain)
                if request.address_hash and by_address.get(address_key, 0) >= LIMITS.address_per_hour:
                    results[index] = TooMany(N_("Too many signatures came from your network in the last "
                                                        "hour. Please try again later."))
                    continue
                if request.email_domain in domains and by_domain.get(domain_key, 0) >= LIMITS.domain_per_hour:
                    results[index] = TooMany(N_("Too many signatures came from your e-mail domain in the "
                                                        "last hour. Please try again later."))
                    continue
                if request.address_hash:
                    by_address[address_key] = by_address.get(address_key, 0) + 1
                if request.email_domain in domains:
                    by_domain[domain_key] = by_domain.get(domain_key, 0) + 1
            kept.append(index)
        candidates = kept

    inserted: set[tuple[int, int]] = set()
    if candidates:
        values, arguments = [], []
        for index in candidates:
            r = requests[index]
            values.append("({}, {}, {}, {}, {}, {}, {}, TRUE)")
            arguments += [r.petition_id, r.user_id, r.district_id, r.show_name, r.address_hash, r.email_domain, r.now]
        rows = await _rows(
            'INSERT INTO petitions_signature (petition, "user", district, show_name, address_hash, email_domain, '
            f'created_at, valid) VALUES {", ".join(values)} ON CONFLICT DO NOTHING RETURNING petition, "user"',
            *arguments)
        inserted = {(row["petition"], row["user"]) for row in rows}

    added: dict[int, int] = {}
    claimed: set[tuple[int, int]] = set()
    changed_index: set[int] = set()
    for index in candidates:
        key = (requests[index].petition_id, requests[index].user_id)
        if key in inserted and key not in claimed:
            claimed.add(key)
            changed_index.add(index)
            added[key[0]] = added.get(key[0], 0) + 1

    counts = {pid: p["signature_count"] for pid, p in petitions.items()}
    listed_now: set[int] = set()
    reached_now: set[int] = set()
    for petition_id, step in added.items():
        rows = await _rows("UPDATE petitions_petition SET signature_count = signature_count + {} "
                           "WHERE id = {} RETURNING signature_count", step, petition_id)
        counts[petition_id] = rows[0]["signature_count"]
        petition = petitions[petition_id]
        moment = max(requests[i].now for i in changed_index if requests[i].petition_id == petition_id)
        if petition["listed_at"] is None and is_listed(counts[petition_id], petition["listing_threshold"]):
            if await _mark_listed(petition_id, moment):
                listed_now.add(petition_id)
        if petition["threshold_reached_at"] is None and counts[petition_id] >= petition["signature_threshold"]:
            if await reach_threshold(petition_id, now=moment):
                reached_now.add(petition_id)
        await _check_burst(petition, counts[petition_id], moment)

    for index in [*candidates, *already]:
        request = requests[index]
        changed = index in changed_index
        results[index] = SignResult(
            signed=True, changed=changed, signature_count=counts[request.petition_id],
            listed=changed and request.petition_id in listed_now and _last_added(requests, changed_index, index),
            threshold_reached=changed and request.petition_id in reached_now and _last_added(requests, changed_index, index),
        )
    return results



#: Signing's group commit (:mod:`civic.batching`): whatever signatures are waiting go in one write
#: transaction, through :func:`apply_batch`; a batch that fails is retried in halves, so one bad
#: signature never fails the others.
SIGNATURES: GroupCommitWriter[SignRequest, SignResult] = GroupCommitWriter(
    apply_batch, name="petitions.signatures", max_batch=500, linger=0.004, idle_seconds=5.0)


def _last_added(requests: list[SignRequest], changed: set[int], index: int) -> bool:
    """Whether this is the last signature added to its petition in the batch (the one that
    crossed a mark is reported once)."""
    same = [i for i in changed if requests[i].petition_id == requests[index].petition_id]
    return index == max(same)


async def _mark_listed(petition_id: int, now: datetime) -> bool:
    marked = await Petition.update({Petition.listed_at: now}).where(
        (Petition.id == petition_id) & Petition.listed_at.is_null()).returning(Petition.id)
    if marked:
        await _reindex(petition_id)
    return bool(marked)


async def _check_burst(petition: dict, total: int, now: datetime) -> None:
    """Flag the petition for a moderator's review when signatures come in a burst (issue 5,
    abuse): at least ``burst_min`` within ``burst_window`` and ``burst_factor`` times the
    petition's average rate before. Checked at most every ``burst_check_every`` seconds per
    petition and process; signing goes on while the flag waits for a moderator."""
    if petition["flagged_at"] is not None:
        return
    clock = time.monotonic()
    if clock - _burst_checked.get(petition["id"], -1e9) < LIMITS.burst_check_every:
        return
    _burst_checked[petition["id"]] = clock
    since = now - LIMITS.burst_window
    rows = await Signature.raw("SELECT COUNT(*) AS n FROM petitions_signature WHERE petition = {} AND created_at > {}",
                               petition["id"], since)
    recent = rows[0]["n"]
    if recent < LIMITS.burst_min:
        return
    opened = petition["opened_at"] or since
    windows_before = max(1.0, (since - opened) / LIMITS.burst_window)
    usual = max(0, total - recent) / windows_before
    if is_burst(recent, usual):
        await flag_for_review(petition["id"], "burst", now)


def is_burst(recent: int, usual_per_window: float) -> bool:
    """A burst: at least ``burst_min`` signatures in the window, and ``burst_factor`` times the
    usual number per window."""
    return recent >= LIMITS.burst_min and recent >= LIMITS.burst_factor * usual_per_window


async def flag_for_review(petition_id: int, reason: str, now: datetime | None = None) -> bool:
    """Put the petition in its moderators' queue for review (inside the caller's transaction,
    often a signing batch). The moderators are told by :func:`tell_moderators_of_flags`, a
    periodic job, so a surge of signatures never waits for mail. False when it was flagged
    already."""
    now = now or now_utc()
    flagged = await Petition.update({Petition.flagged_at: now, Petition.review_reason: reason,
                                     Petition.review_notified_at: None}).where(
        (Petition.id == petition_id) & Petition.flagged_at.is_null()).returning(Petition.organisation)
    if not flagged:
        return False
    await audit(None, "petitions.flag", organisation_id=flagged[0]["organisation"], subject=f"petitions:{petition_id}",
                details={"reason": reason})
    # raised by a rule, not a person: no reporter
    await discussion.add_flag(PETITION_KIND, petition_id, f"petitions:{petition_id}", None, reason[:20], now=now)
    return True


async def tell_moderators_of_flags(now: datetime | None = None) -> int:
    """Tell the moderators of each newly flagged petition (in the app, and by mail as each of
    them chose). A periodic job (``civic worker``, every minute); returns how many petitions."""
    now = now or now_utc()
    rows = await Petition.select(Petition.id).where(
        Petition.flagged_at.is_not_null() & Petition.review_notified_at.is_null())
    told = 0
    for row in rows:
        async with transaction():
            marked = await Petition.update({Petition.review_notified_at: now}).where(
                (Petition.id == row["id"]) & Petition.flagged_at.is_not_null()
                & Petition.review_notified_at.is_null()).returning(Petition.organisation, Petition.title)
            if not marked:
                continue
            await tell(await moderators_of(marked[0]["organisation"]), "petitions.review",
                        N_("Unusual signing on “%(title)s”"),
                        N_("Signatures came in a sudden burst. Please review them and strike out suspicious ones."),
                        "/petitions/moderation", title=marked[0]["title"])
            told += 1
    return told


async def withdraw(user: dict, petition_id: int, now: datetime | None = None) -> SignResult:
    """A signer withdraws their signature while signing is open; the count goes down in the same
    transaction. A signature a moderator struck out cannot be withdrawn (nor renewed)."""
    now = now or now_utc()
    async with transaction():
        petition = await Petition.select(Petition.id, Petition.state, Petition.closes_at,
                                         Petition.signature_count).where(Petition.id == petition_id).first()
        if petition is None:
            raise NotFound(N_("This petition does not exist."))
        if not signing_open(petition, now):
            raise RuleError(N_("Signing has ended: the signature can no longer be withdrawn."))
        existing = await Signature.select(Signature.id, Signature.valid).where(
            (Signature.petition == petition_id) & (Signature.user == user["id"])).first()
        if existing is None:
            return SignResult(signed=False, changed=False, signature_count=petition["signature_count"])
        if not existing["valid"]:
            raise RuleError(N_("A moderator struck out this signature; it cannot be withdrawn or renewed."))
        deleted = await Signature.delete().where(
            (Signature.id == existing["id"]) & (Signature.valid == True)).returning(Signature.id)  # noqa: E712
        if not deleted:
            return SignResult(signed=False, changed=False, signature_count=petition["signature_count"])
        rows = await Petition.raw("UPDATE petitions_petition SET signature_count = signature_count - 1 "
                                  "WHERE id = {} RETURNING signature_count", petition_id)
        return SignResult(signed=False, changed=True, signature_count=rows[0]["signature_count"])


# --------------------------------------------------------------------------- threshold and answer


async def reach_threshold(petition_id: int, *, now: datetime | None = None) -> bool:
    """The petition reached its addressee's threshold: the addressee must answer officially,
    within the working days its rules give (DOMAIN.md §5; civic.responses), and the author is
    told by whom and by when. Runs inside the caller's transaction; marking is conditional, so
    only one of several concurrent signatures does it. Returns True if this call did."""
    now = now or now_utc()
    marked = await Petition.update({Petition.threshold_reached_at: now, Petition.updated_at: now}).where(
        (Petition.id == petition_id) & Petition.threshold_reached_at.is_null()).returning(Petition.id)
    if not marked:
        return False
    petition = await _petition_or_error(petition_id)
    try:
        response = await responses.open_response(
            subject=f"petitions:{petition_id}", subject_kind="petitions.petition", subject_title=petition["title"],
            subject_url=f"/petitions/{petition['key']}", organisation_id=petition["organisation"],
            citizen_id=petition["author"], working_days=petition["response_working_days"], today=almaty_day(now))
    except RuleError:  # one is open already
        response = await OfficialResponse.objects().where(
            OfficialResponse.subject == f"petitions:{petition_id}").order_by(OfficialResponse.id, ascending=False).first()
    await Petition.update({Petition.response: response.id}).where(Petition.id == petition_id)
    await _reindex(petition_id)
    return True


async def signer_ids(petition_id: int, exclude: Iterable[int] = ()) -> list[int]:
    rows = await Signature.select(Signature.user).where(
        (Signature.petition == petition_id) & (Signature.valid == True) & Signature.user.is_not_null())  # noqa: E712
    return sorted({r["user"] for r in rows} - set(exclude))


async def on_answer(response: OfficialResponse) -> None:
    """Answer hook (civic.responses): the answer is published on the petition and sent to every
    signer (issue 5); the author is told by the engine. Runs inside the answer's transaction."""
    petition_id = subject_row_id(response.subject)
    if petition_id is None:
        return
    petition = await Petition.select(Petition.id, Petition.key, Petition.title, Petition.author).where(
        Petition.id == petition_id).first()
    if petition is None:
        return
    answered_at = response.answered_at or now_utc()
    await Petition.update({Petition.answered_at: answered_at, Petition.response: response.id,
                           Petition.updated_at: answered_at}).where(Petition.id == petition_id)
    organisation = await Organisation.select(Organisation.name_kk, Organisation.name_ru, Organisation.name_en).where(
        Organisation.id == response.organisation).first() or {}
    body = plain_summary(response.answer or "", 1000) if response.answer_is_public else ""
    await tell(await signer_ids(petition_id, {petition["author"]}), "petitions.answered",
                N_("%(organisation)s answered the petition “%(title)s”"), "" if body else
                N_("The addressee answered the petition."), f"/petitions/{petition['key']}#answer",
                organisation_names=organisation, title=petition["title"], body=body)
    await _reindex(petition_id)


async def answer(actor: dict, petition_id: int, text: str) -> None:
    """The addressee's staff publish the official answer from the petition's page (a petition's
    answer is always public); the engine records it and the hook tells every signer."""
    petition = await _petition_or_error(petition_id)
    if not await may_answer(actor, petition["organisation"]):
        raise Denied(N_("Only the addressee's staff may answer this petition."))
    if not petition["response"]:
        raise RuleError(N_("The petition has not reached its threshold: no official answer is due."))
    try:
        await responses.answer(petition["response"], actor_id=actor["id"], text=text, public=True)
    except RuleError as exc:
        raise RuleError(exc.msgid, "answer", **exc.params) from None


async def record_outcome(actor: dict, petition_id: int, outcome: str, reasons: str,
                         now: datetime | None = None) -> None:
    """At close the addressee states the outcome — granted, partly granted or refused — with its
    reasons (issue 5); the petition closes if signing was still open, and every signer and the
    author are told. Only after the official answer."""
    now = now or now_utc()
    reasons = (reasons or "").strip()
    async with transaction():
        petition = await _petition_or_error(petition_id)
        if not await may_answer(actor, petition["organisation"]):
            raise Denied(N_("Only the addressee's staff may record the outcome of this petition."))
        if outcome not in CHOSEN_OUTCOMES:
            raise RuleError(N_("Choose the outcome: granted, partly granted or refused."), "outcome")
        if not OUTCOME_REASONS_LENGTH[0] <= len(reasons) <= OUTCOME_REASONS_LENGTH[1]:
            raise RuleError(N_("Give the reasons for the outcome in %(min)s to %(max)s characters."), "reasons",
                                min=OUTCOME_REASONS_LENGTH[0], max=OUTCOME_REASONS_LENGTH[1])
        if petition["answered_at"] is None:
            raise RuleError(N_("Publish the official answer before recording the outcome."), "outcome")
        if petition["outcome"]:
            raise RuleError(N_("The outcome of this petition is already recorded."), "outcome")
        changes = {Petition.outcome: outcome, Petition.outcome_reasons: reasons, Petition.outcome_at: now,
                   Petition.updated_at: now}
        if petition["state"] == OPEN:
            changes.update({Petition.state: CLOSED, Petition.closed_at: now})
        changed = await Petition.update(changes).where(
            (Petition.id == petition_id) & (Petition.outcome == "")).returning(Petition.id)
        if not changed:
            raise RuleError(N_("The outcome of this petition is already recorded."), "outcome")
        await audit(actor["id"], "petitions.outcome", organisation_id=petition["organisation"],
                    subject=f"petitions:{petition_id}", details={"outcome": outcome})
        await tell([*await signer_ids(petition_id, {petition["author"]}), petition["author"]], "petitions.outcome",
                    N_("The petition “%(title)s” is closed: %(outcome)s"), N_("Reasons: %(reasons)s"),
                    f"/petitions/{petition['key']}#outcome", title=petition["title"],
                    outcome_msgid=OUTCOMES[outcome], reasons=plain_summary(reasons, 1000))
        await _reindex(petition_id)


# --------------------------------------------------------------------------- closing and anonymising


async def close_expired(now: datetime | None = None) -> int:
    """Close every open petition whose signing period has ended (issue 5: six months by
    default). One that never reached its threshold closes with the outcome "not enough
    signatures"; its author is told. Also catches up a threshold reached but not yet marked.
    A periodic job (``civic worker``); returns how many petitions it closed."""
    now = now or now_utc()
    missed = await Petition.select(Petition.id).where(
        (Petition.state == OPEN) & Petition.threshold_reached_at.is_null()
        & WhereRaw("signature_count >= signature_threshold"))
    for row in missed:
        async with transaction():
            await reach_threshold(row["id"], now=now)
    expired = await Petition.select(Petition.id).where((Petition.state == OPEN) & (Petition.closes_at <= now))
    closed = 0
    for row in expired:
        async with transaction():
            petition = await get_petition(row["id"])
            if petition is None or petition["state"] != OPEN or petition["closes_at"] > now:
                continue
            changes = {Petition.state: CLOSED, Petition.closed_at: now, Petition.updated_at: now}
            if petition["threshold_reached_at"] is None:
                changes.update({Petition.outcome: INSUFFICIENT, Petition.outcome_at: now})
            await Petition.update(changes).where((Petition.id == row["id"]) & (Petition.state == OPEN))
            await tell([petition["author"]], "petitions.closed", N_("Signing of “%(title)s” has ended"),
                        N_("%(count)s people signed it."), f"/petitions/{petition['key']}", title=petition["title"],
                        count=petition["signature_count"])
            await _reindex(row["id"])
            closed += 1
    return closed


async def anonymise_signers(now: datetime | None = None) -> int:
    """Signers' personal data is anonymised once a closed petition is older than its
    addressee's period (issue 5; 90 days by default): the link to the person, the address hash
    and the e-mail domain go; the count and the counts by district stay. A periodic job;
    returns how many petitions it anonymised."""
    now = now or now_utc()
    rows = await Petition.select(Petition.id, Petition.closed_at, Petition.anonymise_after_days).where(
        (Petition.state == CLOSED) & Petition.anonymised_at.is_null() & Petition.closed_at.is_not_null())
    done = 0
    for row in rows:
        if row["closed_at"] + timedelta(days=row["anonymise_after_days"]) > now:
            continue
        async with transaction():
            await Signature.update({Signature.user: None, Signature.address_hash: "", Signature.email_domain: "",
                                    Signature.show_name: False}).where(Signature.petition == row["id"])
            await Petition.update({Petition.anonymised_at: now}).where(Petition.id == row["id"])
            await audit(None, "petitions.anonymise", subject=f"petitions:{row['id']}")
        done += 1
    return done


async def close_expired_job(settings: Settings) -> int:
    return await close_expired()


async def anonymise_job(settings: Settings) -> int:
    return await anonymise_signers()


async def flags_job(settings: Settings) -> int:
    return await tell_moderators_of_flags()


# --------------------------------------------------------------------------- abuse review


INVALIDATION_CRITERIA = ("address", "domain", "window")


async def review_data(moderator: dict, petition_id: int, limit: int = 20) -> dict:
    """What a moderator looks at for a flagged petition: the busiest addresses (hashed) and
    e-mail domains, and the signatures per minute of the busiest minutes."""
    petition = await _petition_or_error(petition_id)
    if not await may_moderate(moderator, petition["organisation"]):
        raise Denied(N_("Only moderators of the addressee may review its signatures."))
    addresses = await Signature.raw(
        "SELECT address_hash AS value, COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last "
        "FROM petitions_signature WHERE petition = {} AND valid = TRUE AND address_hash != '' "
        "GROUP BY address_hash HAVING COUNT(*) > 1 ORDER BY n DESC, value LIMIT {}", petition_id, limit)
    domains = await Signature.raw(
        "SELECT email_domain AS value, COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last "
        "FROM petitions_signature WHERE petition = {} AND valid = TRUE AND email_domain != '' "
        "GROUP BY email_domain ORDER BY n DESC, value LIMIT {}", petition_id, limit)
    times = await Signature.select(Signature.created_at).where(
        (Signature.petition == petition_id) & (Signature.valid == True)).order_by(  # noqa: E712
        Signature.id, ascending=False).limit(50_000)
    minutes: dict[datetime, int] = {}
    for row in times:
        moment = _as_datetime(row["created_at"]).replace(second=0, microsecond=0)
        minutes[moment] = minutes.get(moment, 0) + 1
    busiest = sorted(minutes.items(), key=lambda item: (-item[1], item[0]))[:limit]
    for group in (addresses, domains):
        for row in group:
            row["first"], row["last"] = _as_datetime(row["first"]), _as_datetime(row["last"])
    invalidations = await Invalidation.select(
        Invalidation.all_columns(), Invalidation.moderator.display_name.as_alias("moderator_name")).where(
        Invalidation.petition == petition_id).order_by(Invalidation.id, ascending=False)
    return {"petition": petition, "addresses": addresses, "domains": domains,
            "minutes": [{"minute": m, "signatures": n} for m, n in sorted(busiest)], "invalidations": invalidations}


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


async def invalidate(moderator: dict, petition_id: int, *, criterion: str, value: str = "", reason: str,
                     start: datetime | None = None, end: datetime | None = None, now: datetime | None = None) -> dict:
    """A moderator strikes out suspicious signatures in bulk — all from one (hashed) address,
    one e-mail domain, or one time window — with a reason. The count is recounted from the rows
    in the same transaction, an Invalidation record and an audit entry keep what was done, and
    the struck-out signers cannot sign again. Returns the record."""
    now = now or now_utc()
    reason = (reason or "").strip()
    value = (value or "").strip()
    if criterion not in INVALIDATION_CRITERIA:
        raise RuleError(N_("Choose what the suspicious signatures have in common."), "criterion")
    if not INVALIDATION_REASON_LENGTH[0] <= len(reason) <= INVALIDATION_REASON_LENGTH[1]:
        raise RuleError(N_("Give the reason in %(min)s to %(max)s characters."), "reason",
                            min=INVALIDATION_REASON_LENGTH[0], max=INVALIDATION_REASON_LENGTH[1])
    if criterion in ("address", "domain") and not (0 < len(value) <= 100):
        raise RuleError(N_("Give the address or the domain the signatures came from."), "value")
    if criterion == "window":
        if start is None or end is None or end <= start:
            raise RuleError(N_("Give the start and the end of the time window; the end must come after the "
                                   "start."), "start")
        value = f"{start.isoformat()}/{end.isoformat()}"
    async with transaction():
        petition = await _petition_or_error(petition_id)
        if not await may_moderate(moderator, petition["organisation"]):
            raise Denied(N_("Only moderators of the addressee may strike out signatures."))
        if petition["state"] not in (OPEN, CLOSED):
            raise RuleError(N_("This petition has no signatures to review."))
        if petition["anonymised_at"] is not None:
            raise RuleError(N_("The signers' data of this petition is anonymised; it can no longer be reviewed."))
        where = (Signature.petition == petition_id) & (Signature.valid == True)  # noqa: E712
        if criterion == "address":
            where = where & (Signature.address_hash == value)
        elif criterion == "domain":
            where = where & (Signature.email_domain == value.lower())
        else:
            where = where & (Signature.created_at >= start) & (Signature.created_at < end)
        record = Invalidation(petition=petition_id, moderator=moderator["id"], criterion=criterion, value=value[:200],
                              reason=reason, count_before=petition["signature_count"], created_at=now)
        await record.save()
        struck = await Signature.update({Signature.valid: False, Signature.invalidation: record.id}).where(
            where).returning(Signature.id)
        rows = await Petition.raw(
            "UPDATE petitions_petition SET signature_count = (SELECT COUNT(*) FROM petitions_signature "
            "WHERE petition = {} AND valid = TRUE) WHERE id = {} RETURNING signature_count", petition_id, petition_id)
        after = rows[0]["signature_count"]
        await Invalidation.update({Invalidation.count: len(struck), Invalidation.count_after: after}).where(
            Invalidation.id == record.id)
        await audit(moderator["id"], "petitions.invalidate", organisation_id=petition["organisation"],
                    subject=f"petitions:{petition_id}",
                    details={"criterion": criterion, "value": value[:200], "reason": reason[:500],
                             "struck_out": len(struck), "count_before": petition["signature_count"],
                             "count_after": after})
    return {"id": record.id, "count": len(struck), "count_before": petition["signature_count"], "count_after": after}


async def clear_review(moderator: dict, petition_id: int, note: str = "") -> None:
    """The moderator has looked at a flagged petition: the flag is lifted (audited)."""
    async with transaction():
        petition = await _petition_or_error(petition_id)
        if not await may_moderate(moderator, petition["organisation"]):
            raise Denied(N_("Only moderators of the addressee may review its signatures."))
        if petition["flagged_at"] is None:
            raise RuleError(N_("This petition is not flagged for review."))
        await Petition.update({Petition.flagged_at: None, Petition.review_reason: ""}).where(Petition.id == petition_id)
        await discussion.resolve_flags(PETITION_KIND, petition_id, "kept")
        await discussion.record(PETITION_KIND, petition_id, f"petitions:{petition_id}", "review_cleared",
                                moderator_id=moderator["id"], organisation_id=petition["organisation"],
                                note=(note or "")[:500])
        await audit(moderator["id"], "petitions.review_done", organisation_id=petition["organisation"],
                    subject=f"petitions:{petition_id}", details={"note": (note or "")[:500]})


# --------------------------------------------------------------------------- rules administration


async def set_rules(actor: dict, organisation_id: int, values: dict, prohibited_topics: list[str]) -> None:
    """An administrator of the addressee sets its rules; an empty value means the default.
    Running petitions keep the rules they opened with."""
    if not await may_set_rules(actor, organisation_id):
        raise Denied(N_("Only an administrator of the organisation may change its rules for petitions."))
    organisation = await _organisation_row(organisation_id)
    if organisation is None or organisation["kind"] not in ADDRESSEE_KINDS:
        raise NotFound(N_("This organisation does not exist."))
    clean = {}
    for name in RULE_FIELDS:
        value = values.get(name)
        if value is None or value == "":
            clean[name] = None
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            raise RuleError(N_("Enter a whole number from %(min)s to %(max)s, or leave it empty for the "
                                   "default."), name, min=RULE_BOUNDS[name][0], max=RULE_BOUNDS[name][1]) from None
        low, high = RULE_BOUNDS[name]
        if not low <= number <= high:
            raise RuleError(N_("Enter a whole number from %(min)s to %(max)s, or leave it empty for the "
                                   "default."), name, min=low, max=high)
        clean[name] = number
    topics = [t for t in dict.fromkeys(prohibited_topics or []) if t]
    if any(t not in PROHIBITED_TOPICS for t in topics):
        raise RuleError(N_("Choose topics from the list."), "prohibited_topics")
    if not topics:
        raise RuleError(N_("Keep at least one reason for not publishing a petition."), "prohibited_topics")
    async with transaction():
        row = PetitionRule(organisation=organisation_id, prohibited_topics=topics, updated_at=now_utc(),
                           updated_by=actor["id"], **clean)
        await PetitionRule.insert(row).on_conflict(
            target=PetitionRule.organisation, action="DO UPDATE",
            values=[getattr(PetitionRule, name) for name in RULE_FIELDS]
            + [PetitionRule.prohibited_topics, PetitionRule.updated_at, PetitionRule.updated_by])
        await audit(actor["id"], "petitions.rules", organisation_id=organisation_id,
                    subject=f"organisations:{organisation_id}", details={**clean, "prohibited_topics": topics})


# --------------------------------------------------------------------------- open data and personal data


EXPORT_FIELDS = ("id", "url", "title", "addressee", "addressee_name", "territory", "state", "status", "lang",
                 "opened_at", "closes_at", "closed_at", "signature_count", "signature_threshold",
                 "listing_threshold", "threshold_reached_at", "response_received_on", "response_due_on",
                 "response_answered_on", "outcome", "signatures_by_district")


async def export_rows(base_url: str = "") -> list[dict]:
    """Open data: every listed petition with its counts by district, threshold and the dates of
    its official response."""
    rows = await Petition.select(*DETAIL_COLUMNS).where(
        Petition.listed_at.is_not_null() & Petition.state.is_in([OPEN, CLOSED])).order_by(Petition.id)
    response_ids = [r["response"] for r in rows if r["response"]]
    answers = {r["id"]: r for r in await OfficialResponse.select(
        OfficialResponse.id, OfficialResponse.received_on, OfficialResponse.due_on, OfficialResponse.extended_until,
        OfficialResponse.answered_on).where(OfficialResponse.id.is_in(response_ids or [-1]))}
    from piccolo.query.functions.aggregate import Count

    ids = [r["id"] for r in rows]
    district_rows = await Signature.select(Signature.petition, Signature.district, Count(alias="signatures")).where(
        Signature.petition.is_in(ids or [-1]) & (Signature.valid == True)).group_by(  # noqa: E712
        Signature.petition, Signature.district)
    codes = {t["id"]: t["code"] for t in await Territory.select(Territory.id, Territory.code).where(
        Territory.id.is_in(sorted({r["district"] for r in district_rows if r["district"]}) or [-1]))}
    by_petition: dict[int, dict[str, int]] = {}
    for row in district_rows:
        code = codes.get(row["district"], "unknown") if row["district"] else "unknown"
        by_petition.setdefault(row["petition"], {})[code] = row["signatures"]

    def iso(value):
        return value.isoformat() if value is not None else None

    out = []
    for row in rows:
        _decorate(row)
        response = answers.get(row["response"]) or {}
        out.append({
            "id": row["id"], "url": f"{base_url}/petitions/{row['key']}", "title": row["title"],
            "addressee": row["organisation_slug"], "addressee_name": row["organisation_name_en"] or row["organisation_name_kk"],
            "territory": row["territory_code"], "state": row["state"], "status": row["status"], "lang": row["lang"],
            "opened_at": iso(row["opened_at"]), "closes_at": iso(row["closes_at"]), "closed_at": iso(row["closed_at"]),
            "signature_count": row["signature_count"], "signature_threshold": row["signature_threshold"],
            "listing_threshold": row["listing_threshold"], "threshold_reached_at": iso(row["threshold_reached_at"]),
            "response_received_on": iso(response.get("received_on")),
            "response_due_on": iso(responses.effective_due(response)) if response else None,
            "response_answered_on": iso(response.get("answered_on")), "outcome": row["outcome"] or None,
            "signatures_by_district": dict(sorted(by_petition.get(row["id"], {}).items())),
        })
    return out


async def forget_signer(user_id: int) -> None:
    """The account is being deleted: its signatures keep counting (and keep the person from
    signing twice), but their network traces go and no name is shown, as after the addressee's
    anonymisation period."""
    await Signature.update({Signature.address_hash: "", Signature.email_domain: "", Signature.show_name: False}).where(
        Signature.user == user_id)


async def personal_data(user_id: int) -> dict:
    """What the module holds about a person (CivicModule.personal_data)."""
    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    authored = await Petition.select(Petition.key, Petition.title, Petition.state, Petition.submitted_at).where(
        Petition.author == user_id).order_by(Petition.id)
    signed = await Signature.select(Signature.petition.key.as_alias("petition"),
                                    Signature.petition.title.as_alias("title"), Signature.created_at,
                                    Signature.show_name, Signature.valid,
                                    Signature.district.code.as_alias("district")).where(
        Signature.user == user_id).order_by(Signature.id)
    return {"petitions": [{k: plain(v) for k, v in row.items()} for row in authored],
            "petition_signatures": [{k: plain(v) for k, v in row.items()} for row in signed]}


# --------------------------------------------------------------------------- helpers


async def _reindex(petition_id: int) -> None:
    """Queue the petition's search document (or its removal) in the caller's transaction."""
    from modules.petitions.search import petition_document, public_row
    from search.outbox import record_changed

    row = await public_row(petition_id)
    await record_changed(f"petitions:{petition_id}", petition_document(row) if row else None)
