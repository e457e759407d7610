"""The rules of citizens' appeals, as plain functions (no web here).

DOMAIN.md §5 "Answering citizens" and seed 004 "SMART-appeals":

* one window for requests, complaints and proposals (сұраныс / шағым / ұсыныс), online or
  registered by staff from a phone call, a letter, an e-mail or a reception, naming the channel;
* one end-to-end number for the appeal's whole life in every body it touches
  (:func:`allocate_number`, ``ALM-2026-000123``), allocated inside the filing transaction from a
  counter row, so two appeals filed at once never share a number (SQLite and PostgreSQL);
* routing to the competent body (:func:`route_for`) and then the shared rules of
  ``civic.responses``: 15 working days, forwarding within 3 working days (re-routing, the figure
  seed 000 wants cut by 40%), one extension, traffic light, rating, escalation;
* duplicates: staff join a duplicate to an existing appeal (:func:`join`); one answer serves
  all joined appeals and stays valid for :data:`ANSWER_VALID_DAYS` calendar days; the same person
  cannot file the same appeal again within :data:`REFILING_DAYS` days (:class:`RefilingBlocked`);
* a joint answer when several bodies are addressed (:func:`add_participant`,
  :func:`contribute`, :func:`answer`);
* the citizen chooses whether the appeal and its answer may be published; officials remove
  personal data first (:func:`publish`), and only that redacted text reaches the search index;
* the "pain points" analysis (:func:`analysis`) and the e-Otinish export (:func:`eotinish_export`).

Every mutating function runs in one write transaction. Refusals raise the core's
:mod:`civic.rules` (``RuleError`` 400, ``Denied`` 403, ``NotFound`` 404, ``TooMany`` 429)
carrying an English msgid; the app's one handler renders them.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from civic import uploads
from civic.accounts.services import audit, over_rate_limit
from civic.accounts.tables import Membership, Role
from civic.clock import almaty_today, now_utc
from civic.db import MAX_ROW_ID, subject_row_id
from civic.i18n.runtime import N_, localized
from civic.notify.services import tell
from civic.permissions import (
    MAX_DEPTH,
    Action,
    holds_role,
    is_active,
    may,
    organisation_chain,
    organisations_where,
)
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse, ResponseEvent, ResponseState
from civic.rules import Denied, NotFound, RuleError, TooMany
from civic.runtime import current_engine, transaction
from civic.settings import Settings
from civic.territory.tables import Organisation, OrganisationKind, Territory
from civic.text import detect_language
from search.outbox import record_changed
from search.service import SimilarParams, run_similar
from search.text import stem, terms

from modules.appeals.search import appeal_document, public_appeal_row
from modules.appeals.tables import (
    Appeal,
    AppealAttachment,
    AppealCounter,
    AppealEvent,
    AppealParticipant,
    ReceptionBooking,
    RoutingRule,
)

# --------------------------------------------------------------------------- vocabulary

KINDS = {
    "request": N_("Request"),  # сұраныс
    "complaint": N_("Complaint"),  # шағым
    "proposal": N_("Proposal"),  # ұсыныс
}
#: The names e-Otinish uses (the export carries them as they are, in both state languages).
KIND_NAMES = {
    "request": {"kk": "Сұраныс", "ru": "Запрос"},
    "complaint": {"kk": "Шағым", "ru": "Жалоба"},
    "proposal": {"kk": "Ұсыныс", "ru": "Предложение"},
}

#: The report's categories first (energy, housing and apartment co-operatives, transport and
#: roads, courtyards), then the other departments of a city akimat.
CATEGORIES = {
    "energy": N_("Energy: heating, electricity, gas, water"),
    "housing": N_("Housing and apartment co-operatives"),
    "transport": N_("Transport and roads"),
    "courtyards": N_("Courtyards and landscaping"),
    "land": N_("Land plots"),
    "social": N_("Social support and employment"),
    "education": N_("Schools and kindergartens"),
    "health": N_("Health care"),
    "other": N_("Other"),
}

CHANNELS = {
    "online": N_("Online form"),
    "api": N_("Another system, through the API"),
    "phone": N_("Phone call"),
    "letter": N_("Letter"),
    "email": N_("E-mail"),
    "reception": N_("Reception"),
}
#: Channels an official names when registering an appeal that did not come through the site.
STAFF_CHANNELS = ("phone", "letter", "email", "reception")

OPEN = "open"
ANSWERED = "answered"
STATUS_LABELS = {OPEN: N_("Open"), ANSWERED: N_("Answered")}

EVENT_LABELS = {
    "filed": N_("Registered"),
    "joined": N_("Joined to another appeal with the same problem"),
    "detached": N_("Separated from the appeal it was joined to"),
    "duplicate_added": N_("Another appeal with the same problem was joined to it"),
    "participant": N_("Another body was asked to take part in the answer"),
    "participant_removed": N_("A body no longer takes part in the answer"),
    "contribution": N_("A body gave its part of the joint answer"),
    "published": N_("Published without personal data"),
    "unpublished": N_("Publication withdrawn"),
    "consent": N_("The citizen changed the publication choice"),
    "eotinish": N_("Registered in e-Otinish"),
    # the response's own events (civic.responses)
    "received": N_("Received by the body"),
    "acknowledged": N_("Acknowledged, specialist assigned"),
    "in_progress": N_("Work started"),
    "forwarded": N_("Forwarded to the competent body"),
    "extended": N_("Deadline extended"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}

REFILING_DAYS = 15  # seed 004: "интервальность отправки обращения (15 дней)"
ANSWER_VALID_DAYS = 30  # seed 004: one answer to duplicates, valid 30 calendar days
TITLE_LENGTH = (5, 200)
BODY_LENGTH = (10, 10_000)
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
APPEALS_PER_HOUR = 5  # per person, online and API
APPEALS_PER_DAY = 20
SIMILAR_TITLE = 0.6  # "the same appeal": title words shared (Jaccard), or …
SIMILAR_TEXT = 0.5  # … words of title and text shared
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
STAFF_ROLES = (Role.OFFICIAL, Role.ADMINISTRATOR)
#: Handling a body's appeals (answering, forwarding, joining, receptions): its officials and
#: administrators, or those of a body above it, and site administrators (civic.permissions; the
#: same rule as ``civic.responses.ACT``).
HANDLE = Action("appeals.handle", roles=STAFF_ROLES)
EXPORT_FORMAT = "ashyq.appeal.eotinish/1"

NUMBER_RE = re.compile(r"^[A-Z]{2,8}-\d{4}-\d{6,9}$")
EOTINISH_RE = re.compile(r"^[0-9A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі/._-]{4,40}$")
#: The number's prefix: the city of republican significance or region the appeal comes from.
PREFIXES = {
    "almaty": "ALM", "astana": "AST", "shymkent": "SHM", "abai": "ABA", "akmola": "AKM", "aktobe": "AKT",
    "almaty-region": "ALR", "atyrau": "ATR", "east-kazakhstan": "VKO", "zhambyl": "ZHM", "zhetysu": "ZHT",
    "west-kazakhstan": "ZKO", "karaganda": "KAR", "kostanay": "KOS", "kyzylorda": "KZO", "mangystau": "MNG",
    "pavlodar": "PAV", "north-kazakhstan": "SKO", "turkistan": "TRK", "ulytau": "ULT",
}
DEFAULT_PREFIX = "KZ"

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<!\d)(\+?[78])[\s(.-]*\d{3}[\s).-]*\d{3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\d)")
IIN_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
REDACTED = "[…]"


class RefilingBlocked(RuleError):
    """The same person filed the same appeal less than 15 days ago: ``existing`` is its number
    (also in ``extra``, which the API answer carries)."""

    status_code = 409

    def __init__(self, existing: str, filed_on: date) -> None:
        super().__init__(N_("You filed the same appeal on %(day)s as %(number)s. The same appeal can be filed "
                            "again %(days)s days after the first one; follow your appeal instead."),
                         "__all__", number=existing, day=filed_on.isoformat(), days=REFILING_DAYS)
        self.existing = existing
        self.extra = {"existing": existing}


@dataclass
class Upload:
    filename: str
    data: bytes


MAX_ID = MAX_ROW_ID  # a bigger number from a form or a path finds nothing


def db_id(value) -> int | None:
    """A whole number that can be a row id, else None (so a typed 10**20 is "not found", not an error)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID else None


# --------------------------------------------------------------------------- small helpers


def _significant(text: str) -> set[str]:
    return {stem(t) for t in terms(text) if len(t) >= 3}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def same_appeal(a: dict, b: dict) -> bool:
    """Whether two appeals of one person say the same thing (the 15-day rule): the same
    category and territory, and most words of the title, or of title and text, shared (in
    either script, with Kazakh and Russian endings folded by the search normalisation)."""
    if a["category"] != b["category"] or a["territory"] != b["territory"]:
        return False
    if _jaccard(_significant(a["title"]), _significant(b["title"])) >= SIMILAR_TITLE:
        return True
    return _jaccard(_significant(f"{a['title']} {a['body']}"),
                    _significant(f"{b['title']} {b['body']}")) >= SIMILAR_TEXT


def sniff_attachment(data: bytes) -> str | None:
    """The file's type from its first bytes: PDF, JPEG and PNG only."""
    return uploads.sniff(data, ATTACHMENT_TYPES)


def check_attachments(files: list[Upload]) -> list[tuple[Upload, str]]:
    files = [u for u in files if u.data or u.filename]
    if len(files) > MAX_ATTACHMENTS:
        raise RuleError(N_("Attach at most %(count)s files."), "attachments", count=MAX_ATTACHMENTS)
    checked = []
    for upload in files:
        name = uploads.safe_name(upload.filename)
        if not upload.data:
            raise RuleError(N_("The file %(name)s is empty."), "attachments", name=name)
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            raise RuleError(N_("The file %(name)s is larger than %(size)s MB."), "attachments", name=name,
                              size=MAX_ATTACHMENT_BYTES // (1024 * 1024))
        content_type = sniff_attachment(upload.data)
        if content_type is None:
            raise RuleError(N_("The file %(name)s is not a PDF, JPEG or PNG file."), "attachments", name=name)
        checked.append((upload, content_type))
    return checked


def attachment_path(settings: Settings, stored_name: str) -> Path:
    return uploads.stored_path(settings, "appeals", stored_name)


def _store(settings: Settings, checked: list[tuple[Upload, str]]) -> list[dict]:
    stored = []
    for upload, content_type in checked:
        extension = uploads.EXTENSIONS[content_type]
        stem = uploads.safe_name(upload.filename).rsplit(".", 1)[0][:50] or "file"
        stored.append({"stored_name": uploads.store(settings, "appeals", upload.data, content_type),
                       "content_type": content_type, "size": len(upload.data),
                       "sha256": hashlib.sha256(upload.data).hexdigest(), "filename": f"{stem}.{extension}"})
    return stored


def number_prefix(territory_path: str) -> str:
    """'/kz/almaty/bostandyk/' -> 'ALM': the prefix of the city or region (the level below the
    republic); an unknown one gives its first three letters."""
    parts = [p for p in (territory_path or "").split("/") if p]
    if len(parts) < 2:
        return DEFAULT_PREFIX
    code = parts[1]
    if code in PREFIXES:
        return PREFIXES[code]
    letters = re.sub(r"[^A-Za-z]", "", code).upper()
    return letters[:3] if len(letters) >= 2 else DEFAULT_PREFIX


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:06d}"


def normalise_number(value: str | None) -> str | None:
    """A number as typed (spaces, lower case) in its canonical form, or None when it cannot be one."""
    value = re.sub(r"\s+", "", (value or "")).upper()
    return value if NUMBER_RE.match(value) else None


async def allocate_number(prefix: str, year: int) -> str:
    """The next number for (prefix, year). Call it inside the write transaction that saves the
    appeal: the counter row is created once (ON CONFLICT DO NOTHING against the unique index)
    and incremented with UPDATE … RETURNING, which holds the row until commit on PostgreSQL and
    happens under SQLite's write lock, so concurrent filings never get the same number and a
    rolled-back filing gives its number back."""
    await AppealCounter.insert(AppealCounter(prefix=prefix, year=year, last_number=0)).on_conflict(
        action="DO NOTHING")
    rows = await AppealCounter.update({AppealCounter.last_number: AppealCounter.last_number + 1}).where(
        (AppealCounter.prefix == prefix) & (AppealCounter.year == year)).returning(AppealCounter.last_number)
    return format_number(prefix, year, rows[0]["last_number"])


_TOKEN_RE = re.compile(r"\w+")


def _contact_spans(text: str, contact: str) -> list[tuple[int, int]]:
    """Where ``text`` repeats the applicant's contact (a postal address, usually): runs of two or
    more of its words in its order, one of them with a digit ("street 14", "flat 9"). A street
    named alone is not personal (appeals are often about a street); a house or flat number with it is."""
    wanted = [m.group().casefold() for m in _TOKEN_RE.finditer(contact or "")]
    if len(wanted) < 2:
        return []
    tokens = list(_TOKEN_RE.finditer(text or ""))
    words = [m.group().casefold() for m in tokens]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        best = 0
        for k in range(len(wanted)):
            length = 0
            while i + length < len(words) and k + length < len(wanted) and words[i + length] == wanted[k + length]:
                length += 1
            if length >= 2 and any(any(c.isdigit() for c in w) for w in words[i:i + length]):
                best = max(best, length)
        if best:
            spans.append((tokens[i].start(), tokens[i + best - 1].end()))
            i += best
        else:
            i += 1
    return spans


def personal_data_found(text: str, names: list[str] = (), contact: str = "") -> list[str]:
    """What in ``text`` looks like personal data: e-mail addresses, phone numbers, IINs, the
    applicant's names (the words of them, three letters or longer) and their postal address."""
    found = []
    if _contact_spans(text, contact):
        found.append("address")
    if EMAIL_RE.search(text or ""):
        found.append("e-mail")
    if PHONE_RE.search(text or ""):
        found.append("phone")
    if IIN_RE.search(text or ""):
        found.append("IIN")
    lowered = (text or "").casefold()
    for name in names:
        for word in re.findall(r"\w{3,}", name or ""):
            if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", lowered):
                found.append("name")
                break
        if "name" in found:
            break
    return found


def redact(text: str, names: list[str] = (), contact: str = "") -> str:
    """A first draft of the public text: e-mails, phone numbers, IINs, the applicant's
    names and postal address replaced by […]. Officials read and correct it before publishing."""
    text = text or ""
    for start, end in reversed(_contact_spans(text, contact)):
        text = text[:start] + REDACTED + text[end:]
    text = EMAIL_RE.sub(REDACTED, text)
    text = PHONE_RE.sub(REDACTED, text)
    text = IIN_RE.sub(REDACTED, text)
    for name in names:
        for word in sorted(set(re.findall(r"\w{3,}", name or "")), key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


# --------------------------------------------------------------------------- organisations and roles


async def organisation_for_territory(territory_id: int) -> int | None:
    """The akimat that answers for a territory: its own, else the nearest one above it."""
    territory = await Territory.select(Territory.path).where(Territory.id == territory_id).first()
    if territory is None:
        return None
    prefixes = _prefixes(territory["path"])
    rows = await Organisation.select(Organisation.id, Organisation.territory.path.as_alias("path")).where(
        (Organisation.kind == OrganisationKind.AKIMAT) & Organisation.territory.path.is_in(prefixes))
    if not rows:
        return None
    return max(rows, key=lambda r: (len(r["path"]), -r["id"]))["id"]


def _prefixes(path: str) -> list[str]:
    parts = [p for p in (path or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))] or ["/"]


async def route_for(category: str, territory_id: int) -> int | None:
    """The body that receives an appeal of this category from this territory: the routing
    rule of the most specific territory above it (or of it), else the territory's akimat."""
    territory = await Territory.select(Territory.path).where(Territory.id == territory_id).first()
    if territory is None:
        return None
    rules = await RoutingRule.select(RoutingRule.organisation, RoutingRule.territory.path.as_alias("path")).where(
        (RoutingRule.category == category) & RoutingRule.territory.path.is_in(_prefixes(territory["path"])))
    if rules:
        return max(rules, key=lambda r: len(r["path"]))["organisation"]
    return await organisation_for_territory(territory_id)


async def staff_organisations(user: dict | None) -> list[int] | None:
    """The bodies whose appeals this person handles: where they are an official or
    administrator, and every body below those (a city akimat's departments, as
    :data:`HANDLE` allows). None means every body (platform administrators)."""
    if not is_active(user):
        return []
    if user.get("is_admin"):
        return None
    ids = set(await organisations_where(user, STAFF_ROLES))
    frontier = sorted(ids)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        children = {c["id"] for c in await Organisation.select(Organisation.id).where(
            Organisation.parent.is_in(frontier))} - ids
        ids |= children
        frontier = sorted(children)
    return sorted(ids)


async def is_staff(user: dict | None) -> bool:
    """An official or administrator of some body (or a site administrator)."""
    return await holds_role(user, STAFF_ROLES)


async def may_handle(user: dict | None, appeal: dict) -> bool:
    """Staff of the body holding the appeal now, or of a body above it (:data:`HANDLE`)."""
    return await may(user, HANDLE, appeal["holder"])


async def participant_organisations(appeal_id: int) -> list[dict]:
    return await AppealParticipant.select(
        AppealParticipant.all_columns(),
        AppealParticipant.organisation.name_kk.as_alias("organisation_name_kk"),
        AppealParticipant.organisation.name_ru.as_alias("organisation_name_ru"),
        AppealParticipant.organisation.name_en.as_alias("organisation_name_en"),
        AppealParticipant.organisation.slug.as_alias("organisation_slug"),
        AppealParticipant.contributed_by.display_name.as_alias("contributed_by_name"),
    ).where(AppealParticipant.appeal == appeal_id).order_by(AppealParticipant.id)


async def contributing_organisations(user: dict | None, appeal: dict) -> list[int]:
    """The participant bodies of this appeal for which this person writes a part."""
    if not user:
        return []
    out = []
    for row in await AppealParticipant.select(AppealParticipant.organisation).where(
            AppealParticipant.appeal == appeal["id"]):
        if await may(user, HANDLE, row["organisation"]):
            out.append(row["organisation"])
    return out


async def may_see_full(user: dict | None, appeal: dict) -> bool:
    """The whole appeal (text, applicant, attachments): the citizen, staff of the body holding
    it, and staff of the bodies asked for a part of a joint answer."""
    if not user:
        return False
    if appeal["citizen"] and appeal["citizen"] == user["id"]:
        return True
    return await may_handle(user, appeal) or bool(await contributing_organisations(user, appeal))


# --------------------------------------------------------------------------- reading


def _appeal_query():
    return Appeal.select(
        Appeal.all_columns(),
        Appeal.territory.path.as_alias("territory_path"),
        Appeal.territory.code.as_alias("territory_code"),
        Appeal.territory.name_kk.as_alias("territory_name_kk"),
        Appeal.territory.name_ru.as_alias("territory_name_ru"),
        Appeal.territory.name_en.as_alias("territory_name_en"),
        Appeal.organisation.slug.as_alias("first_organisation_slug"),
        Appeal.organisation.name_kk.as_alias("first_organisation_name_kk"),
        Appeal.organisation.name_ru.as_alias("first_organisation_name_ru"),
        Appeal.organisation.name_en.as_alias("first_organisation_name_en"),
        Appeal.response.organisation.as_alias("holder"),
        Appeal.response.organisation.slug.as_alias("holder_slug"),
        Appeal.response.organisation.name_kk.as_alias("holder_name_kk"),
        Appeal.response.organisation.name_ru.as_alias("holder_name_ru"),
        Appeal.response.organisation.name_en.as_alias("holder_name_en"),
        Appeal.response.state.as_alias("response_state"),
        Appeal.response.due_on.as_alias("due_on"),
        Appeal.response.extended_until.as_alias("extended_until"),
        Appeal.response.extension_reason.as_alias("extension_reason"),
        Appeal.response.answer.as_alias("answer"),
        Appeal.response.answered_on.as_alias("response_answered_on"),
        Appeal.response.rating.as_alias("rating"),
        Appeal.response.solved.as_alias("solved"),
        Appeal.response.forward_count.as_alias("forward_count"),
        Appeal.response.escalated_at.as_alias("escalated_at"),
        Appeal.response.specialist.display_name.as_alias("specialist_name"),
        Appeal.citizen.display_name.as_alias("citizen_name"),
        Appeal.citizen.email.as_alias("citizen_email"),
        Appeal.citizen.language.as_alias("citizen_language"),
        Appeal.duplicate_of.number.as_alias("duplicate_of_number"),
    )


def _decorate(row: dict, today: date | None = None) -> dict:
    if row.get("response") and row.get("due_on"):
        response = {"state": row["response_state"], "due_on": row["due_on"],
                    "extended_until": row["extended_until"]}
        row["effective_due_on"] = responses.effective_due(response)
        row["light"] = responses.traffic_light(response, today)
    else:
        row["effective_due_on"] = None
        row["light"] = "done"
    if row.get("holder") is None:
        row["holder"] = row["organisation"]
    row["applicant"] = row.get("citizen_name") or row.get("applicant_name") or ""
    row["is_published"] = row.get("published_at") is not None
    return row


async def get_appeal(number: str, today: date | None = None) -> dict | None:
    row = await _appeal_query().where(Appeal.number == number).first()
    return _decorate(row, today) if row else None


async def get_appeal_by_id(appeal_id: int, today: date | None = None) -> dict | None:
    if db_id(appeal_id) is None:
        return None
    row = await _appeal_query().where(Appeal.id == appeal_id).first()
    return _decorate(row, today) if row else None


async def _appeal_or_error(appeal_id: int) -> dict:
    appeal = await get_appeal_by_id(appeal_id)
    if appeal is None:
        raise NotFound(N_("There is no appeal with this number."))
    return appeal


async def attachments_of(appeal_id: int) -> list[dict]:
    return await AppealAttachment.select().where(AppealAttachment.appeal == appeal_id).order_by(AppealAttachment.id)


async def duplicates_of(appeal_id: int) -> list[dict]:
    rows = await _appeal_query().where(Appeal.duplicate_of == appeal_id).order_by(Appeal.id)
    return [_decorate(r) for r in rows]


async def appeals_of(user_id: int) -> list[dict]:
    rows = await _appeal_query().where(Appeal.citizen == user_id).order_by(Appeal.id, ascending=False)
    return [_decorate(r) for r in rows]


async def timeline(appeal: dict, include_private: bool = False) -> list[dict]:
    """The appeal's events and its response's, in time order. Without ``include_private`` (the
    public status page): only public events, without notes and without who acted; escalations
    and ratings never."""
    events = []
    query = AppealEvent.select(
        AppealEvent.kind, AppealEvent.note, AppealEvent.public, AppealEvent.created_at,
        AppealEvent.actor.display_name.as_alias("actor_name"),
        AppealEvent.organisation.name_kk.as_alias("organisation_name_kk"),
        AppealEvent.organisation.name_ru.as_alias("organisation_name_ru"),
        AppealEvent.organisation.name_en.as_alias("organisation_name_en"),
    ).where(AppealEvent.appeal == appeal["id"])
    for row in await query:
        if not include_private and not row["public"]:
            continue
        events.append(row)
    if appeal.get("response"):
        kinds = None if include_private else [k for k in ("received", "acknowledged", "in_progress", "forwarded",
                                                          "extended", "answered", "closed")]
        query = ResponseEvent.select(
            ResponseEvent.kind, ResponseEvent.note, ResponseEvent.created_at,
            ResponseEvent.actor.display_name.as_alias("actor_name"),
            ResponseEvent.organisation.name_kk.as_alias("organisation_name_kk"),
            ResponseEvent.organisation.name_ru.as_alias("organisation_name_ru"),
            ResponseEvent.organisation.name_en.as_alias("organisation_name_en"),
        ).where(ResponseEvent.response == appeal["response"])
        if kinds is not None:
            query = query.where(ResponseEvent.kind.is_in(kinds))
        for row in await query:
            row["public"] = True
            events.append(row)
    events.sort(key=lambda e: e["created_at"])
    if not include_private:
        for event in events:
            event["note"] = ""
            event["actor_name"] = ""
    return events


# --------------------------------------------------------------------------- filing


def _clean_text(value: str, bounds: tuple[int, int], field: str, msgid: str) -> str:
    value = (value or "").strip()
    if not bounds[0] <= len(value) <= bounds[1]:
        raise RuleError(msgid, field, low=bounds[0], high=bounds[1])
    return value


def _clean_fields(kind: str, category: str, title: str, body: str) -> tuple[str, str, str, str]:
    if kind not in KINDS:
        raise RuleError(N_("Choose whether this is a request, a complaint or a proposal."), "kind")
    if category not in CATEGORIES:
        raise RuleError(N_("Choose a category from the list."), "category")
    title = " ".join((title or "").split())
    title = _clean_text(title, TITLE_LENGTH, "title", N_("Write a subject of %(low)s to %(high)s characters."))
    body = _clean_text(body, BODY_LENGTH, "body", N_("Describe the problem in %(low)s to %(high)s characters."))
    return kind, category, title, body


async def _check_refiling(citizen_id: int, candidate: dict, today: date) -> None:
    since = today - timedelta(days=REFILING_DAYS - 1)
    earlier = await Appeal.select(Appeal.number, Appeal.category, Appeal.territory, Appeal.title, Appeal.body,
                                  Appeal.received_on).where(
        (Appeal.citizen == citizen_id) & (Appeal.received_on >= since)).order_by(Appeal.id, ascending=False)
    for row in earlier:
        if same_appeal(row, candidate):
            raise RefilingBlocked(row["number"], row["received_on"])


async def find_refiling(citizen_id: int, *, category: str, territory_id: int | None, title: str, body: str,
                        today: date | None = None) -> str | None:
    """The number of this person's same appeal filed in the last 15 days, if any (the form
    shows it before the person sends a second one)."""
    try:
        await _check_refiling(citizen_id, {"category": category, "territory": territory_id, "title": title,
                                           "body": body}, today or almaty_today())
    except RefilingBlocked as exc:
        return exc.existing
    return None


async def file_appeal(settings: Settings, citizen: dict | None, *, kind: str, category: str, title: str, body: str,
                      territory_id: int | None, publish_consent: bool = False, attachments: list[Upload] = (),
                      channel: str = "online", registered_by: dict | None = None, applicant_name: str = "",
                      applicant_contact: str = "", organisation_id: int | None = None, today: date | None = None,
                      now: datetime | None = None, demo_key: str = "") -> dict:
    """Register an appeal and open its official response (APC art. 76: the term counts from
    registration). Online and API appeals need a confirmed e-mail address; staff register the
    others (``registered_by``) naming the channel and, for people without an account, their
    name and contact. Returns the appeal (with its number)."""
    today = today or almaty_today()
    now = now or now_utc()
    if channel not in CHANNELS:
        raise RuleError(N_("Choose how the appeal arrived."), "channel")
    if registered_by is None:
        if channel not in ("online", "api"):
            raise RuleError(N_("Choose how the appeal arrived."), "channel")
        if citizen is None:
            raise Denied(N_("Sign in to file an appeal."))
        if citizen.get("verification", 0) < 1:
            raise Denied(N_("Confirm your e-mail address before filing an appeal."))
    else:
        if channel not in STAFF_CHANNELS:
            raise RuleError(N_("Choose how the appeal arrived."), "channel")
        if not await is_staff(registered_by):
            raise Denied(N_("Only officials register appeals that came by phone, letter or to a reception."))
    kind, category, title, body = _clean_fields(kind, category, title, body)
    applicant_name = " ".join((applicant_name or "").split())[:200]
    applicant_contact = " ".join((applicant_contact or "").split())[:200]
    if citizen is None and not applicant_name:
        raise RuleError(N_("Write the applicant's name."), "applicant_name")
    territory_id = db_id(territory_id)
    if territory_id is None or not await Territory.exists().where(Territory.id == territory_id):
        raise RuleError(N_("Choose the district or settlement the appeal is about."), "territory")
    territory = await Territory.select(Territory.path).where(Territory.id == territory_id).first()
    if organisation_id is not None:
        if db_id(organisation_id) is None or not await Organisation.exists().where(Organisation.id == organisation_id):
            raise RuleError(N_("Choose the body from the list."), "organisation")
    else:
        organisation_id = await route_for(category, territory_id)
        if organisation_id is None:
            raise RuleError(N_("No body answers for this territory yet. Choose another one."), "territory")
    checked = check_attachments(list(attachments))
    if registered_by is None and citizen is not None:
        for bucket, limit, window in ((f"appeals:file:{citizen['id']}", APPEALS_PER_HOUR, timedelta(hours=1)),
                                      (f"appeals:file-day:{citizen['id']}", APPEALS_PER_DAY, timedelta(days=1))):
            if await over_rate_limit(settings, bucket, limit, window):
                raise TooMany(N_("You have filed many appeals in a short time. Please wait and try again "
                                           "later."))

    candidate = {"category": category, "territory": territory_id, "title": title, "body": body}
    stored = _store(settings, checked)
    try:
        async with transaction():
            if citizen is not None:
                if getattr(current_engine(), "engine_type", "") == "postgres":
                    # one filing per person at a time, so two identical ones sent at once are seen
                    await Appeal.raw("SELECT pg_advisory_xact_lock(hashtext({}))", f"appeals:citizen:{citizen['id']}")
                await _check_refiling(citizen["id"], candidate, today)
            number = await allocate_number(number_prefix(territory["path"]), today.year)
            appeal = Appeal(number=number, kind=kind, category=category, title=title, body=body,
                            lang=detect_language(f"{title} {body}"), territory=territory_id,
                            organisation=organisation_id, channel=channel,
                            citizen=citizen["id"] if citizen else None, applicant_name=applicant_name,
                            applicant_contact=applicant_contact,
                            registered_by=registered_by["id"] if registered_by else None, status=OPEN,
                            received_on=today, created_at=now, publish_consent=bool(publish_consent),
                            demo_key=demo_key)
            await appeal.save()
            for row in stored:
                await AppealAttachment(appeal=appeal.id, created_at=now, **row).save()
            response = await responses.open_response(
                subject=f"appeals:{appeal.id}", subject_kind="appeals.appeal", subject_title=f"{number}: {title}",
                subject_url=f"/appeals/{number}/full", organisation_id=organisation_id,
                citizen_id=citizen["id"] if citizen else None, subject_is_public=False, today=today)
            await Appeal.update({Appeal.response: response.id}).where(Appeal.id == appeal.id)
            await _event(appeal.id, "filed", actor=registered_by["id"] if registered_by else None,
                         organisation=organisation_id, note=channel, public=True, at=now)
            if registered_by is not None:
                await audit(registered_by["id"], "appeals.register", organisation_id=organisation_id,
                            subject=f"appeals:{appeal.id}", details={"channel": channel, "number": number})
    except BaseException:
        for row in stored:
            attachment_path(settings, row["stored_name"]).unlink(missing_ok=True)
        raise
    return await get_appeal_by_id(appeal.id, today)


async def _event(appeal_id: int, kind: str, *, actor: int | None = None, organisation: int | None = None,
                 note: str = "", public: bool = False, at: datetime | None = None) -> None:
    await AppealEvent(appeal=appeal_id, kind=kind, actor=actor, organisation=organisation, note=note or "",
                      public=public, created_at=at or now_utc()).save()


# --------------------------------------------------------------------------- duplicates


def answer_still_valid(answered_on: date | None, today: date) -> bool:
    """One answer serves duplicates for 30 calendar days after it was given (seed 004)."""
    return answered_on is not None and (today - answered_on).days <= ANSWER_VALID_DAYS


async def join(actor: dict, duplicate_id: int, primary_number: str, today: date | None = None) -> dict:
    """Join a duplicate to the appeal that has the same problem: one answer then serves both.
    When that appeal is answered already and its answer is at most 30 days old, the duplicate
    gets the same answer at once; an older answer cannot serve it. Appeals joined to the
    duplicate move to the same appeal. Returns the appeal joined to."""
    today = today or almaty_today()
    async with transaction():
        duplicate = await _appeal_or_error(duplicate_id)
        number = normalise_number(primary_number)
        primary = await get_appeal(number) if number else None
        if primary is None:
            raise RuleError(N_("There is no appeal with this number."), "primary")
        if primary["duplicate_of"]:  # join to the appeal the others are joined to
            primary = await get_appeal_by_id(primary["duplicate_of"])
        if not await may_handle(actor, duplicate) or not await may_handle(actor, primary):
            raise Denied(N_("You can join only appeals your body handles."))
        if primary["id"] == duplicate["id"]:
            raise RuleError(N_("An appeal cannot be joined to itself."), "primary")
        if duplicate["duplicate_of"]:
            raise RuleError(N_("This appeal is already joined to %(number)s."), "primary",
                              number=duplicate["duplicate_of_number"])
        if duplicate["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already; only open appeals can be joined."), "primary")
        primary_answered = primary["response_state"] in (ResponseState.ANSWERED, ResponseState.CLOSED)
        if primary_answered and not answer_still_valid(primary["response_answered_on"], today):
            raise RuleError(N_("The answer to %(number)s was given more than %(days)s days ago and can no longer "
                                 "serve other appeals. Answer this one on its own."), "primary",
                              number=primary["number"], days=ANSWER_VALID_DAYS)
        now = now_utc()
        moved = await Appeal.update({Appeal.duplicate_of: primary["id"]}).where(
            Appeal.duplicate_of == duplicate["id"]).returning(Appeal.id)
        await Appeal.update({Appeal.duplicate_of: primary["id"], Appeal.joined_at: now,
                             Appeal.joined_by: actor["id"]}).where(Appeal.id == duplicate["id"])
        await _event(duplicate["id"], "joined", actor=actor["id"], organisation=duplicate["holder"],
                     note=primary["number"], public=True, at=now)
        await _event(primary["id"], "duplicate_added", actor=actor["id"], organisation=primary["holder"],
                     note=duplicate["number"], at=now)
        await audit(actor["id"], "appeals.join", organisation_id=duplicate["holder"],
                    subject=f"appeals:{duplicate['id']}", details={"to": primary["number"]})
        if primary_answered:
            for appeal_id in [duplicate["id"], *(r["id"] for r in moved)]:
                await _share_answer(appeal_id, primary, actor["id"], today)
        return primary


async def _share_answer(appeal_id: int, primary: dict, actor_id: int, today: date) -> bool:
    """Give an open joined appeal the answer of the appeal it is joined to (inside the caller's
    transaction). False when it is not open or the official may not act for its body."""
    appeal = await get_appeal_by_id(appeal_id)
    if appeal is None or appeal["response_state"] not in ResponseState.OPEN:
        return False
    if not await responses.may_act(actor_id, appeal["holder"]):
        return False
    text = primary.get("answer") or ""
    if not text:
        return False
    token = _joint_answer.set(True)  # the shared answer is complete already, whoever took part in it
    try:
        await responses.answer(appeal["response"], actor_id=actor_id, text=text, public=False, today=today)
    finally:
        _joint_answer.reset(token)
    return True


async def detach(actor: dict, appeal_id: int) -> None:
    """Separate an open appeal from the one it was joined to (it gets its own answer)."""
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not appeal["duplicate_of"]:
            raise RuleError(N_("This appeal is not joined to another one."))
        if not await may_handle(actor, appeal):
            raise Denied(N_("You can change only appeals your body handles."))
        if appeal["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already; it stays with the answer it got."))
        await Appeal.update({Appeal.duplicate_of: None, Appeal.joined_at: None, Appeal.joined_by: None}).where(
            Appeal.id == appeal_id)
        await _event(appeal_id, "detached", actor=actor["id"], organisation=appeal["holder"],
                     note=appeal["duplicate_of_number"] or "", public=True)


async def same_place_open_appeals(appeal: dict, viewer: dict, limit: int = 10) -> list[dict]:
    """Open appeals of the same category about the same territory held by the viewer's bodies
    (a list for sorting out duplicates that does not depend on wording, nor on publication)."""
    query = _appeal_query().where(
        (Appeal.category == appeal["category"]) & (Appeal.territory == appeal["territory"])
        & (Appeal.status == OPEN) & (Appeal.id != appeal["id"]) & Appeal.duplicate_of.is_null())
    organisations = await staff_organisations(viewer)
    if organisations is not None:
        query = query.where(Appeal.response.organisation.is_in(organisations or [-1]))
    rows = await query.order_by(Appeal.id, ascending=False).limit(limit)
    return [_decorate(r) for r in rows]


async def similar_appeals(backend, appeal: dict, limit: int = 8, today: date | None = None) -> list[dict]:
    """Appeals the search index finds similar to this one's text that it could be joined to:
    open ones, and answered ones whose answer is still valid (30 days). Only published appeals
    are in the index (their redacted text); this appeal's own text is only the query, never
    indexed. Raises ``SearchUnavailable`` when the engine is down."""
    today = today or almaty_today()
    hits = await run_similar(backend, SimilarParams(text=f"{appeal['title']}\n{appeal['body']}"[:2000],
                                                    module="appeals", limit=20))
    ids = []
    for hit in hits:
        if hit.id == f"appeals:{appeal['id']}":
            continue
        try:
            ids.append(int(hit.id.split(":", 1)[1]))
        except ValueError:
            continue
    if not ids:
        return []
    rows = [_decorate(r, today) for r in await _appeal_query().where(Appeal.id.is_in(ids))]
    order = {appeal_id: n for n, appeal_id in enumerate(ids)}
    joinable = [r for r in rows if r["duplicate_of"] is None and r["id"] != appeal.get("duplicate_of")
                and (r["status"] == OPEN or answer_still_valid(r["response_answered_on"], today))]
    return sorted(joinable, key=lambda r: order[r["id"]])[:limit]


# --------------------------------------------------------------------------- joint answers


_joint_answer: contextvars.ContextVar[bool] = contextvars.ContextVar("appeals_joint_answer", default=False)


async def _tell_staff(organisation_id: int, kind: str, title_msgid: str, body_msgid: str, url: str,
                      **params) -> None:
    """Tell the officials and administrators of a body, each in their language; ``%(organisation)s``
    is the body's name."""
    organisation = await Organisation.select(Organisation.name_kk, Organisation.name_ru, Organisation.name_en).where(
        Organisation.id == organisation_id).first() or {}
    people = await Membership.select(Membership.user).where(
        (Membership.organisation == organisation_id) & Membership.role.is_in(list(STAFF_ROLES)))
    await tell([p["user"] for p in people], kind, title_msgid, body_msgid, url, organisation_names=organisation,
               **params)


async def add_participant(actor: dict, appeal_id: int, organisation_id: int | None) -> None:
    """Ask another body for its part of one joint answer (seed 004: one answer when several
    bodies are addressed). Its staff are told."""
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal asks other bodies to take part."))
        if appeal["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already."))
        organisation_id = db_id(organisation_id)
        if organisation_id is None or not await Organisation.exists().where(Organisation.id == organisation_id):
            raise RuleError(N_("Choose the body from the list."), "organisation")
        if organisation_id == appeal["holder"]:
            raise RuleError(N_("This body holds the appeal already."), "organisation")
        if await AppealParticipant.exists().where((AppealParticipant.appeal == appeal_id)
                                                  & (AppealParticipant.organisation == organisation_id)):
            raise RuleError(N_("This body takes part already."), "organisation")
        await AppealParticipant(appeal=appeal_id, organisation=organisation_id, added_by=actor["id"],
                                added_at=now_utc()).save()
        await _event(appeal_id, "participant", actor=actor["id"], organisation=organisation_id, public=True)
        await _tell_staff(organisation_id, "appeals.participant", N_("Your part of a joint answer: %(number)s"),
                          N_("%(organisation)s is asked to write its part of the joint answer to appeal %(number)s "
                             "before %(due)s."),
                          f"/appeals/{appeal['number']}/full", number=appeal["number"],
                          due=(appeal["effective_due_on"] or almaty_today()).isoformat())


async def remove_participant(actor: dict, appeal_id: int, organisation_id: int) -> None:
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal asks other bodies to take part."))
        if appeal["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already."))
        removed = await AppealParticipant.delete().where(
            (AppealParticipant.appeal == appeal_id) & (AppealParticipant.organisation == (db_id(organisation_id) or -1))
        ).returning(AppealParticipant.id)
        if not removed:
            raise RuleError(N_("This body does not take part."))
        await _event(appeal_id, "participant_removed", actor=actor["id"], organisation=organisation_id, public=True)


async def contribute(actor: dict, appeal_id: int, organisation_id: int | None, text: str) -> None:
    """A participant body writes (or corrects) its part until the joint answer is given."""
    text = (text or "").strip()[:20_000]
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if organisation_id is None or organisation_id not in await contributing_organisations(actor, appeal):
            raise Denied(N_("Only staff of a body taking part write its part."))
        if appeal["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already."))
        if not text:
            raise RuleError(N_("Write your body's part of the answer."), "contribution")
        await AppealParticipant.update({AppealParticipant.contribution: text,
                                        AppealParticipant.contributed_by: actor["id"],
                                        AppealParticipant.contributed_at: now_utc()}).where(
            (AppealParticipant.appeal == appeal_id) & (AppealParticipant.organisation == organisation_id))
        await _event(appeal_id, "contribution", actor=actor["id"], organisation=organisation_id, public=True)


def compose_joint_answer(text: str, parts: list[dict], language: str) -> str:
    """The one answer the citizen receives: the holding body's text, then each body's part
    under its name."""
    pieces = [text.strip()]
    for part in parts:
        pieces.append(f"**{localized(part, 'organisation_name', language)}**\n\n{part['contribution'].strip()}")
    return "\n\n".join(p for p in pieces if p)


async def answer(actor: dict, appeal_id: int, text: str, today: date | None = None) -> None:
    """Answer the appeal. With other bodies taking part, every one of them must have written
    its part first, and the citizen receives one joint answer. The answer then goes to every
    open appeal joined to this one (the answer hook)."""
    text = (text or "").strip()
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal answers it."))
        if appeal["response_state"] not in ResponseState.OPEN:
            raise RuleError(N_("This appeal is answered already."))
        if not text:
            raise RuleError(N_("Write the answer."), "answer")
        parts = await participant_organisations(appeal_id)
        waiting = [p for p in parts if not p["contribution"]]
        if waiting:
                    raise RuleError(N_("The answer is given jointly: waiting for the part of %(organisation)s."), "answer",
                              organisation=localized(waiting[0], "organisation_name"))
        if parts:
            text = compose_joint_answer(text, parts, appeal.get("citizen_language") or appeal["lang"] or "kk")
        token = _joint_answer.set(True)
        try:
            await responses.answer(appeal["response"], actor_id=actor["id"], text=text, public=False, today=today)
        except RuleError as exc:
            raise RuleError(exc.msgid, "answer", **exc.params) from None
        finally:
            _joint_answer.reset(token)


async def on_answer(response: OfficialResponse) -> None:
    """Answer hook (civic.responses), inside the answer's transaction: the appeal is answered,
    its open duplicates get the same answer, and a published appeal is re-indexed. An appeal
    answered jointly must be answered on its own page (so every body's part is in it)."""
    appeal_id = subject_row_id(response.subject)
    if appeal_id is None:
        return
    appeal = await Appeal.select(Appeal.id, Appeal.published_at).where(Appeal.id == appeal_id).first()
    if appeal is None:
        return
    if not _joint_answer.get() and await AppealParticipant.exists().where(AppealParticipant.appeal == appeal_id):
        raise RuleError("This appeal is answered jointly with other bodies: give the answer on the appeal's "
                                "page, where their parts are.")
    answered_on = response.answered_on or almaty_today()
    await Appeal.update({Appeal.status: ANSWERED, Appeal.answered_on: answered_on}).where(Appeal.id == appeal_id)
    primary = await get_appeal_by_id(appeal_id)
    duplicates = await Appeal.select(Appeal.id).where(
        (Appeal.duplicate_of == appeal_id) & (Appeal.status == OPEN)).order_by(Appeal.id)
    for row in duplicates:
        await _share_answer(row["id"], primary, response.answered_by, answered_on)
    if appeal["published_at"] is not None:
        await reindex(appeal_id)


# --------------------------------------------------------------------------- publication


def _names(appeal: dict) -> list[str]:
    return [n for n in (appeal.get("citizen_name"), appeal.get("applicant_name")) if n]


async def set_consent(citizen: dict, appeal_id: int, consent: bool) -> None:
    """The citizen allows or forbids publication; forbidding withdraws a publication at once."""
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not appeal["citizen"] or appeal["citizen"] != citizen["id"]:
            raise Denied(N_("Only the person who filed the appeal decides about publishing it."))
        await Appeal.update({Appeal.publish_consent: bool(consent)}).where(Appeal.id == appeal_id)
        await _event(appeal_id, "consent", actor=citizen["id"], note="yes" if consent else "no")
        if not consent and appeal["published_at"] is not None:
            await Appeal.update({Appeal.published_at: None, Appeal.published_by: None}).where(Appeal.id == appeal_id)
            await _event(appeal_id, "unpublished", actor=citizen["id"], public=True)
            await reindex(appeal_id)


async def publish(actor: dict, appeal_id: int, *, public_title: str, public_body: str, public_answer: str = "") -> None:
    """Publish the appeal (and its answer) in the words an official checked: only with the
    citizen's consent, and only text without e-mail addresses, phone numbers, IINs, the
    applicant's name or postal address. Only this text reaches the search index and the status page."""
    public_title = " ".join((public_title or "").split())
    public_body = (public_body or "").strip()
    public_answer = (public_answer or "").strip()
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal publishes it."))
        if not appeal["publish_consent"]:
            raise RuleError(N_("The citizen has not allowed publishing this appeal."))
        public_title = _clean_text(public_title, TITLE_LENGTH, "public_title",
                                   N_("Write a subject of %(low)s to %(high)s characters."))
        public_body = _clean_text(public_body, BODY_LENGTH, "public_body",
                                  N_("Describe the problem in %(low)s to %(high)s characters."))
        for field, value in (("public_title", public_title), ("public_body", public_body),
                             ("public_answer", public_answer)):
            found = personal_data_found(value, _names(appeal), appeal.get("applicant_contact") or "")
            if found:
                raise RuleError(N_("This text still contains personal data (%(what)s). Replace it with […] "
                                     "before publishing."), field, what=", ".join(found))
        now = now_utc()
        await Appeal.update({Appeal.public_title: public_title, Appeal.public_body: public_body,
                             Appeal.public_answer: public_answer, Appeal.published_at: appeal["published_at"] or now,
                             Appeal.published_by: actor["id"]}).where(Appeal.id == appeal_id)
        await _event(appeal_id, "published", actor=actor["id"], organisation=appeal["holder"], public=True, at=now)
        await audit(actor["id"], "appeals.publish", organisation_id=appeal["holder"], subject=f"appeals:{appeal_id}")
        await reindex(appeal_id)


async def unpublish(actor: dict, appeal_id: int) -> None:
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal publishes it."))
        if appeal["published_at"] is None:
            raise RuleError(N_("This appeal is not published."))
        await Appeal.update({Appeal.published_at: None, Appeal.published_by: None}).where(Appeal.id == appeal_id)
        await _event(appeal_id, "unpublished", actor=actor["id"], organisation=appeal["holder"], public=True)
        await reindex(appeal_id)


async def on_forward(response: OfficialResponse) -> None:
    """Forward hook (civic.responses): a published appeal's search document names the body
    holding it, which has just changed."""
    appeal_id = subject_row_id(response.subject)
    if appeal_id is None:
        return
    if await Appeal.exists().where((Appeal.id == appeal_id) & Appeal.published_at.is_not_null()):
        await reindex(appeal_id)


async def reindex(appeal_id: int) -> None:
    """Queue the appeal's search document (or its removal) in the outbox, inside the caller's
    transaction."""
    row = await public_appeal_row(appeal_id)
    await record_changed(f"appeals:{appeal_id}", appeal_document(row) if row else None)


async def recently_published(limit: int = 10) -> list[dict]:
    rows = await _appeal_query().where(Appeal.published_at.is_not_null()).order_by(
        Appeal.published_at, ascending=False).limit(limit)
    return [_decorate(r) for r in rows]


# --------------------------------------------------------------------------- e-Otinish


async def set_eotinish_number(actor: dict, appeal_id: int, value: str) -> None:
    value = (value or "").strip()
    async with transaction():
        appeal = await _appeal_or_error(appeal_id)
        if not await may_handle(actor, appeal):
            raise Denied(N_("Only the body holding the appeal registers it in e-Otinish."))
        if not EOTINISH_RE.match(value):
            raise RuleError(N_("Enter the number e-Otinish gave: 4 to 40 letters, digits, dashes or slashes."),
                              "eotinish_number")
        await Appeal.update({Appeal.eotinish_number: value, Appeal.eotinish_registered_at: now_utc()}).where(
            Appeal.id == appeal_id)
        await _event(appeal_id, "eotinish", actor=actor["id"], organisation=appeal["holder"], note=value, public=True)
        await audit(actor["id"], "appeals.eotinish", organisation_id=appeal["holder"], subject=f"appeals:{appeal_id}",
                    details={"eotinish_number": value})


def _org(row: dict, prefix: str) -> dict:
    return {"slug": row.get(f"{prefix}_slug"), "name_kk": row.get(f"{prefix}_name_kk"),
            "name_ru": row.get(f"{prefix}_name_ru"), "name_en": row.get(f"{prefix}_name_en")}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def eotinish_export(appeal: dict) -> dict:
    """Everything e-Otinish asks for when an official registers the appeal there (format
    :data:`EXPORT_FORMAT`, documented in ``modules/appeals/api.py``). It holds the applicant's
    personal data: staff of the holding body only."""
    participants = await participant_organisations(appeal["id"])
    attachments = await attachments_of(appeal["id"])
    history = await timeline(appeal, include_private=True)
    return {
        "format": EXPORT_FORMAT,
        "number": appeal["number"],
        "eotinish_number": appeal["eotinish_number"] or None,
        "kind": {"code": appeal["kind"], **KIND_NAMES[appeal["kind"]]},
        "category": appeal["category"],
        "channel": appeal["channel"],
        "language": appeal["lang"],
        "received_on": _iso(appeal["received_on"]),
        "registered_at": _iso(appeal["created_at"]),
        "territory": {"code": appeal["territory_code"], "path": appeal["territory_path"],
                      "name_kk": appeal["territory_name_kk"], "name_ru": appeal["territory_name_ru"]},
        "addressee": _org(appeal, "holder"),
        "first_addressee": _org(appeal, "first_organisation"),
        "co_addressees": [{"slug": p["organisation_slug"], "name_kk": p["organisation_name_kk"],
                           "name_ru": p["organisation_name_ru"], "contribution_given": bool(p["contribution"])}
                          for p in participants],
        "applicant": {"name": appeal["applicant"], "email": appeal.get("citizen_email") or None,
                      "contact": appeal["applicant_contact"] or None, "has_account": bool(appeal["citizen"])},
        "subject": appeal["title"],
        "text": appeal["body"],
        "attachments": [{"filename": a["filename"], "content_type": a["content_type"], "size": a["size"],
                         "sha256": a["sha256"]} for a in attachments],
        "deadline": {"due_on": _iso(appeal["due_on"]), "extended_until": _iso(appeal["extended_until"]),
                     "extension_reason": appeal["extension_reason"] or None},
        "status": appeal["status"],
        "answer": ({"text": appeal["answer"], "answered_on": _iso(appeal["response_answered_on"])}
                   if appeal.get("answer") else None),
        "duplicate_of": appeal["duplicate_of_number"] or None,
        "publish_consent": appeal["publish_consent"],
        "history": [{"at": _iso(e["created_at"]), "event": e["kind"],
                     "organisation": e.get("organisation_name_kk") or None} for e in history],
    }


# --------------------------------------------------------------------------- staff lists


async def staff_list(user: dict, *, status: str | None = OPEN, category: str | None = None,
                     channel: str | None = None, today: date | None = None, limit: int = 200) -> list[dict]:
    """The appeals held by this person's bodies, most urgent first; joined duplicates sit
    under the appeal they are joined to (``duplicates``)."""
    organisations = await staff_organisations(user)
    query = _appeal_query().where(Appeal.duplicate_of.is_null())
    if organisations is not None:
        query = query.where(Appeal.response.organisation.is_in(organisations or [-1]))
    if status:
        query = query.where(Appeal.status == status)
    if category:
        query = query.where(Appeal.category == category)
    if channel:
        query = query.where(Appeal.channel == channel)
    rows = [_decorate(r, today) for r in await query.order_by(Appeal.id, ascending=False).limit(limit)]
    ids = [r["id"] for r in rows]
    joined: dict[int, list[dict]] = defaultdict(list)
    if ids:
        for dup in await _appeal_query().where(Appeal.duplicate_of.is_in(ids)).order_by(Appeal.id):
            joined[dup["duplicate_of"]].append(_decorate(dup, today))
    for row in rows:
        row["duplicates"] = joined.get(row["id"], [])
    far = date.max
    rows.sort(key=lambda r: (r["status"] != OPEN, r["effective_due_on"] or far, r["id"]))
    return rows


# --------------------------------------------------------------------------- routing rules


#: Setting routing rules: administrators of a body (for its territory and the bodies below it),
#: and platform administrators.
ROUTE = Action("appeals.route", roles=(Role.ADMINISTRATOR,))


async def may_manage_routing(user: dict | None) -> bool:
    return await may(user, ROUTE)


async def routing_rules() -> list[dict]:
    return await RoutingRule.select(
        RoutingRule.all_columns(),
        RoutingRule.territory.name_kk.as_alias("territory_name_kk"),
        RoutingRule.territory.name_ru.as_alias("territory_name_ru"),
        RoutingRule.territory.name_en.as_alias("territory_name_en"),
        RoutingRule.territory.path.as_alias("territory_path"),
        RoutingRule.organisation.name_kk.as_alias("organisation_name_kk"),
        RoutingRule.organisation.name_ru.as_alias("organisation_name_ru"),
        RoutingRule.organisation.name_en.as_alias("organisation_name_en"),
    ).order_by(RoutingRule.category).order_by(RoutingRule.territory.path)


async def set_routing_rule(actor: dict, *, category: str, territory_id: int | None, organisation_id: int | None) -> None:
    """Appeals of ``category`` from the territory (and below it) go to the organisation.
    Platform administrators set rules anywhere; administrators of a body within its territory,
    to the body itself or a body below it (:data:`ROUTE`)."""
    if category not in CATEGORIES:
        raise RuleError(N_("Choose a category from the list."), "category")
    territory_id, organisation_id = db_id(territory_id), db_id(organisation_id)
    if territory_id is None or not await Territory.exists().where(Territory.id == territory_id):
        raise RuleError(N_("Choose the district or settlement the appeal is about."), "territory")
    if organisation_id is None or not await Organisation.exists().where(Organisation.id == organisation_id):
        raise RuleError(N_("Choose the body from the list."), "organisation")
    if not await may(actor, ROUTE, organisation_id):
        raise Denied(N_("You can route appeals only within the territory and bodies you administer."))
    if not actor.get("is_admin"):
        # the body it heads (or one above it) must serve the territory the rule is about
        administered = await Membership.select(Membership.organisation.territory.path.as_alias("path")).where(
            (Membership.user == actor["id"]) & (Membership.role == Role.ADMINISTRATOR)
            & Membership.organisation.is_in(await organisation_chain(organisation_id)))
        territory = await Territory.select(Territory.path).where(Territory.id == territory_id).first()
        if not any(a["path"] and territory["path"].startswith(a["path"]) for a in administered):
            raise Denied(N_("You can route appeals only within the territory and bodies you administer."))
    async with transaction():
        await RoutingRule.insert(RoutingRule(category=category, territory=territory_id, organisation=organisation_id,
                                             updated_by=actor["id"], updated_at=now_utc())).on_conflict(
            target=(RoutingRule.category, RoutingRule.territory), action="DO UPDATE",
            values=[RoutingRule.organisation, RoutingRule.updated_by, RoutingRule.updated_at])
        await audit(actor["id"], "appeals.routing", organisation_id=organisation_id,
                    details={"category": category, "territory": territory_id})


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class AnalysisFilters:
    months: int = 12
    category: str = ""
    district: str = ""  # territory path of a district (or city)
    organisation: str = ""  # slug of the holding body
    channel: str = ""


PERIODS = (3, 6, 12, 24)


def month_start(day: date, back: int = 0) -> date:
    year, month = day.year, day.month - back
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def district_of(path: str) -> str:
    """The district level of a territory path ('/kz/almaty/bostandyk/…' -> '/kz/almaty/bostandyk/');
    a city or region without a district stays itself."""
    parts = [p for p in (path or "").split("/") if p]
    return "/" + "/".join(parts[:3]) + "/" if parts else "/"


async def analysis_rows(filters: AnalysisFilters, today: date | None = None) -> list[dict]:
    today = today or almaty_today()
    since = month_start(today, filters.months - 1)
    query = Appeal.select(
        Appeal.id, Appeal.kind, Appeal.category, Appeal.channel, Appeal.received_on, Appeal.status,
        Appeal.duplicate_of,
        Appeal.territory.path.as_alias("territory_path"),
        Appeal.response.organisation.slug.as_alias("holder_slug"),
        Appeal.response.organisation.name_kk.as_alias("holder_name_kk"),
        Appeal.response.organisation.name_ru.as_alias("holder_name_ru"),
        Appeal.response.organisation.name_en.as_alias("holder_name_en"),
        Appeal.response.state.as_alias("state"),
        Appeal.response.due_on.as_alias("due_on"),
        Appeal.response.extended_until.as_alias("extended_until"),
        Appeal.response.answered_on.as_alias("answered_on"),
        Appeal.response.rating.as_alias("rating"),
        Appeal.response.solved.as_alias("solved"),
        Appeal.response.forward_count.as_alias("forward_count"),
    ).where(Appeal.received_on >= since)
    if filters.category:
        query = query.where(Appeal.category == filters.category)
    if filters.channel:
        query = query.where(Appeal.channel == filters.channel)
    if filters.organisation:
        query = query.where(Appeal.response.organisation.slug == filters.organisation)
    if filters.district:
        query = query.where(Appeal.territory.path.like(filters.district + "%"))
    rows = await query.order_by(Appeal.id)
    for row in rows:
        row["month"] = month_key(row["received_on"])
        row["district"] = district_of(row["territory_path"])
        due = row["extended_until"] or row["due_on"]
        row["answered"] = row["answered_on"] is not None
        row["on_time"] = row["answered"] and due is not None and row["answered_on"] <= due
        row["overdue"] = not row["answered"] and due is not None and due < today
        row["rerouted"] = (row["forward_count"] or 0) > 0
    return rows


def summarise(rows: list[dict]) -> dict:
    answered = [r for r in rows if r["answered"]]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    solved = [r for r in rows if r["solved"] is not None]
    return {
        "appeals": len(rows),
        "answered": len(answered),
        "on_time": sum(1 for r in answered if r["on_time"]),
        "on_time_percent": round(100 * sum(1 for r in answered if r["on_time"]) / len(answered)) if answered else None,
        "overdue": sum(1 for r in rows if r["overdue"]),
        "rerouted": sum(1 for r in rows if r["rerouted"]),
        "rerouted_percent": round(100 * sum(1 for r in rows if r["rerouted"]) / len(rows)) if rows else None,
        "duplicates": sum(1 for r in rows if r["duplicate_of"]),
        "rated": len(ratings),
        "mean_rating": round(statistics.fmean(ratings), 1) if ratings else None,
        "solved_percent": round(100 * sum(1 for r in solved if r["solved"]) / len(solved)) if solved else None,
    }


def group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        out[row[key] or ""].append(row)
    return out


async def analysis(filters: AnalysisFilters, today: date | None = None) -> dict:
    """The "pain points" for planning: appeals per month and by category, district,
    department and channel, with the share answered on time, re-routing (appeals forwarded at
    least once), duplicates and ratings."""
    today = today or almaty_today()
    rows = await analysis_rows(filters, today)
    months = [month_key(month_start(today, back)) for back in range(filters.months - 1, -1, -1)]
    by_month = group(rows, "month")
    dimensions = {}
    for key in ("category", "district", "holder_slug", "channel", "kind"):
        groups = group(rows, key)
        dimensions[key] = sorted(({"key": k, **summarise(v), "sample": v[0]} for k, v in groups.items()),
                                 key=lambda d: (-d["appeals"], d["key"]))
    return {
        "total": summarise(rows),
        "months": [{"key": m, **summarise(by_month.get(m, []))} for m in months],
        "dimensions": dimensions,
        "rows": rows,
    }


CSV_FIELDS = ("month", "category", "district", "department", "channel", "kind", "appeals", "answered",
              "answered_on_time", "overdue", "rerouted", "duplicates", "rated", "mean_rating")


def analysis_csv_rows(rows: list[dict]) -> list[dict]:
    """One line per month, category, district, department, channel and kind, for pivot tables."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["month"], row["category"], row["district"], row["holder_slug"] or "", row["channel"],
                row["kind"])].append(row)
    out = []
    for key in sorted(groups):
        s = summarise(groups[key])
        out.append({"month": key[0], "category": key[1], "district": key[2], "department": key[3],
                    "channel": key[4], "kind": key[5], "appeals": s["appeals"], "answered": s["answered"],
                    "answered_on_time": s["on_time"], "overdue": s["overdue"], "rerouted": s["rerouted"],
                    "duplicates": s["duplicates"], "rated": s["rated"],
                    "mean_rating": "" if s["mean_rating"] is None else s["mean_rating"]})
    return out


# --------------------------------------------------------------------------- personal data


async def forget_person(user_id: int) -> None:
    """The account is being deleted: the name and contact copied onto the person's appeals and
    bookings go. The appeals themselves stay (the bodies that answered keep their case, under its
    number), without anyone to contact."""
    await Appeal.update({Appeal.applicant_name: "", Appeal.applicant_contact: ""}).where(Appeal.citizen == user_id)
    await ReceptionBooking.update({ReceptionBooking.visitor_name: ""}).where(ReceptionBooking.person == user_id)


async def personal_data(user_id: int) -> dict:
    """What this module holds about a person: their appeals and reception bookings."""
    def plain(row: dict) -> dict:
        return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in row.items()}

    appeals = await Appeal.select(
        Appeal.number, Appeal.kind, Appeal.category, Appeal.title, Appeal.body, Appeal.channel, Appeal.status,
        Appeal.received_on, Appeal.publish_consent, Appeal.applicant_contact, Appeal.eotinish_number,
        Appeal.response.answer.as_alias("answer"),
    ).where(Appeal.citizen == user_id).order_by(Appeal.id)
    bookings = await ReceptionBooking.select(
        ReceptionBooking.slot.starts_at.as_alias("starts_at"), ReceptionBooking.slot.place.as_alias("place"),
        ReceptionBooking.question, ReceptionBooking.status, ReceptionBooking.outcome, ReceptionBooking.created_at,
    ).where(ReceptionBooking.person == user_id).order_by(ReceptionBooking.id)
    return {"appeals": [plain(a) for a in appeals], "reception_bookings": [plain(b) for b in bookings]}
