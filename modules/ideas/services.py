"""The rules of crowdsourced ideas and akimat challenges, as plain functions (no web here).

DOMAIN.md "Crowdsourcing" (report lines 1980–2035): projects published on a platform open to
all; crowd wisdom (discussion) and crowd voting (rankings). The collaboration method (line
1787): a department formulates a concrete problem and invites citizens to solve it — a
:class:`~modules.ideas.tables.Challenge`. DOMAIN.md "Answering citizens" (§5, APC art. 76): an
idea that reaches its support threshold gets an official answer within 15 working days through
``civic.responses``, and the answer goes to every supporter.

Every mutating function runs in one write transaction: it happens completely or not at all.
Refusals raise :class:`RuleError` (bad input, status 400), :class:`Denied` (403) or
:class:`NotFound` (404) carrying an English msgid that the caller translates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from civic import uploads
from civic.accounts.services import audit, over_rate_limit
from civic.accounts.tables import Membership, Role, User
from civic.clock import almaty_today, now_utc
from civic.db import subject_row_id
from civic.engagement.levels import LEVELS
from civic.i18n.runtime import N_
from civic.notify.services import tell
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic import participation
from civic.participation import discussion, follows, supports
from civic.participation.tables import Comment
from civic.permissions import CHAIN_SQL, Action
from civic.rules import Denied, NotFound, RuleError
from civic.runtime import transaction
from civic.settings import Settings
from civic.text import count_links, detect_language, plain_summary
from civic.territory.tables import Organisation, OrganisationKind, Territory, TerritoryKind
from modules.ideas.tables import Challenge, Idea, IdeaImage, IdeaPolicy, IdeaVersion, Milestone, StatusChange

# --------------------------------------------------------------------------- vocabulary

PUBLISHED = "published"
UNDER_REVIEW = "under_review"
ACCEPTED = "accepted"
PLANNED = "planned"
IN_PROGRESS = "in_progress"
IMPLEMENTED = "implemented"
NOT_ACCEPTED = "not_accepted"
STATUSES = (PUBLISHED, UNDER_REVIEW, ACCEPTED, PLANNED, IN_PROGRESS, IMPLEMENTED, NOT_ACCEPTED)
STATUS_LABELS = {
    PUBLISHED: N_("Published"),
    UNDER_REVIEW: N_("Under review"),
    ACCEPTED: N_("Accepted"),
    PLANNED: N_("Planned"),
    IN_PROGRESS: N_("In progress"),
    IMPLEMENTED: N_("Implemented"),
    NOT_ACCEPTED: N_("Not accepted"),
}
#: An idea is open (can be supported, and a support withdrawn) until the akimat decides.
OPEN_STATUSES = (PUBLISHED, UNDER_REVIEW)
#: Statuses in which implementation is tracked openly (Decidim's "accountability").
DELIVERY_STATUSES = (ACCEPTED, PLANNED, IN_PROGRESS, IMPLEMENTED)
#: published → under review → accepted / planned / in progress / implemented / not accepted.
TRANSITIONS = {
    PUBLISHED: (UNDER_REVIEW, NOT_ACCEPTED),
    UNDER_REVIEW: (ACCEPTED, PLANNED, IN_PROGRESS, IMPLEMENTED, NOT_ACCEPTED),
    ACCEPTED: (PLANNED, IN_PROGRESS, IMPLEMENTED, NOT_ACCEPTED),
    PLANNED: (IN_PROGRESS, IMPLEMENTED, NOT_ACCEPTED),
    IN_PROGRESS: (IMPLEMENTED, PLANNED),
    IMPLEMENTED: (IN_PROGRESS,),
    NOT_ACCEPTED: (UNDER_REVIEW,),
}

CATEGORIES = {
    "courtyards": N_("Courtyards"),
    "pavements": N_("Pavements and roads"),
    "transport": N_("Buses and public transport"),
    "lighting": N_("Street lighting"),
    "parks": N_("Parks and green spaces"),
    "trees": N_("Trees and sanitary felling"),
    "heating": N_("Heating and utilities"),
    "safety": N_("Safety"),
    "other": N_("Other"),
}

FLAG_REASONS = {
    "spam": N_("Spam or advertising"),
    "offensive": N_("Offensive or insulting"),
    "off_topic": N_("Off topic"),
    "personal_data": N_("Reveals personal data"),
    "prohibited": N_("Prohibited content"),
}

VISIBLE = discussion.VISIBLE
PENDING = discussion.PENDING
HIDDEN = discussion.HIDDEN

#: What the ideas module calls the items it moderates, and what the shared flags and log call them.
CORE_KINDS = {"idea": "ideas.idea", "comment": discussion.COMMENT, "challenge": "ideas.challenge"}
KINDS_OF_CORE = {core: kind for kind, core in CORE_KINDS.items()}

CHALLENGE_OPEN = "open"
CHALLENGE_CLOSED = "closed"
CHALLENGE_OUTCOME = "outcome"
CHALLENGE_STATES = {
    CHALLENGE_OPEN: N_("Open for ideas"),
    CHALLENGE_CLOSED: N_("Closed, ideas being assessed"),
    CHALLENGE_OUTCOME: N_("Outcome published"),
}

SORTS = {
    "new": N_("Newest"),
    "supported": N_("Most supported"),
    "trending": N_("Trending"),
    "discussed": N_("Most discussed"),
    "answered": N_("Answered"),
}

DEFAULT_THRESHOLD = 100  # issue 4: "setting per organisation, demo 100"
DEFAULT_MODERATION = "post"
COMMENT_EDIT_WINDOW = discussion.EDIT_WINDOW
MAX_IMAGES = 3
MAX_IMAGE_BYTES = 5 * 1024 * 1024
TITLE_LENGTH = (8, 200)
BODY_LENGTH = (20, 10_000)
COMMENT_LENGTH = (2, 5_000)
MAX_COST = 10**13  # tenge
PAGE_SIZE = 20

# Abuse limits. New accounts (younger than NEW_ACCOUNT_AGE) may post little and link little;
# everybody is rate limited so scripts cannot flood the site.
NEW_ACCOUNT_AGE = timedelta(days=7)
NEW_ACCOUNT_POSTS_PER_HOUR = 3
NEW_ACCOUNT_LINKS_PER_POST = 1
LINKS_PER_POST = 10
IDEAS_PER_HOUR = 5
COMMENTS_PER_HOUR = 30
FLAGS_PER_HOUR = 20
SUPPORTS_PER_MINUTE = 30

# Trending: each support adds 2 ** ((t - TREND_EPOCH) / half-life). Dividing every idea's sum
# by the same 2 ** ((now - TREND_EPOCH) / half-life) gives the time-decayed support velocity,
# so ordering by the stored sum is ordering by trend. The numbers stay within a double until
# about 2045 with a 7-day half-life (then move the epoch and rescale the column once).
TREND_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
TREND_HALF_LIFE = timedelta(days=7)


IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def subject_of(idea_id: int) -> str:
    """The idea's subject id (its search document, its supports, follows and discussion)."""
    return f"ideas:{idea_id}"


def challenge_subject(challenge_id: int) -> str:
    return f"ideas:challenge-{challenge_id}"


def idea_of(subject: str) -> int | None:
    """The idea a subject id names, if it names one."""
    return subject_row_id(subject) if (subject or "").startswith("ideas:") else None


def trend_weight(at: datetime) -> float:
    """What one support given at ``at`` adds to ``Idea.trend_score`` (see TREND_EPOCH)."""
    return 2.0 ** ((at - TREND_EPOCH).total_seconds() / TREND_HALF_LIFE.total_seconds())


def trend_velocity(trend_score: float, at: datetime | None = None) -> float:
    """Decayed supports "as of now": a support given now counts 1, one a half-life ago 0.5."""
    return trend_score / trend_weight(at or now_utc())


def sniff_image(data: bytes) -> str | None:
    """The image type from the file's first bytes: JPEG, PNG, GIF and WebP only (SVG can carry
    scripts and is refused)."""
    return uploads.sniff(data, IMAGE_TYPES)


@dataclass
class ImageUpload:
    filename: str
    data: bytes
    alt: str = ""


@dataclass
class SupportResult:
    support_count: int
    supported: bool
    changed: bool
    threshold_reached: bool = False


@dataclass
class IdeaList:
    items: list[dict]
    page: int
    has_next: bool
    filters: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- organisations


async def organisation_for_territory(territory_id: int) -> int | None:
    """The akimat that answers for a territory: its own, else the nearest one above it."""
    territory = await Territory.select(Territory.path).where(Territory.id == territory_id).first()
    if territory is None:
        return None
    parts = [p for p in territory["path"].split("/") if p]
    prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    rows = await Organisation.select(Organisation.id, Organisation.territory.path.as_alias("path")).where(
        (Organisation.kind == OrganisationKind.AKIMAT) & Organisation.territory.path.is_in(prefixes))
    if not rows:
        return None
    return max(rows, key=lambda r: (len(r["path"]), -r["id"]))["id"]


async def policy_for(organisation_id: int | None) -> dict:
    """The ideas policy in force for an organisation: its own, else the nearest one above it,
    else the defaults (post-moderation, threshold 100). One query."""
    if organisation_id:
        # wrapped in SELECT so it counts as a plain read (civic.db shares one connection for those)
        rows = await IdeaPolicy.raw(
            'SELECT * FROM (' + CHAIN_SQL + ' SELECT p."moderation", p."support_threshold", p."organisation",'
            ' chain.depth FROM chain JOIN "ideas_policy" p ON p."organisation" = chain.id) x ORDER BY depth LIMIT 1',
            organisation_id)
        if rows:
            return {"moderation": rows[0]["moderation"], "support_threshold": rows[0]["support_threshold"],
                    "organisation": rows[0]["organisation"]}
    return {"moderation": DEFAULT_MODERATION, "support_threshold": DEFAULT_THRESHOLD, "organisation": None}


#: What needs permission in ideas (civic.permissions): roles count down the organisation tree.
MODERATE = Action("ideas.moderate", roles=(Role.MODERATOR, Role.ADMINISTRATOR))
SET_POLICY = Action("ideas.set_policy", roles=(Role.ADMINISTRATOR,))


async def may_moderate(user: dict | None, organisation_id: int | None) -> bool:
    """Moderators (and administrators) of the organisation or of a body above it; platform
    administrators everywhere."""
    return await participation.may_in(user, MODERATE, organisation_id)


async def is_moderator_anywhere(user: dict | None) -> bool:
    return await participation.moderates_anywhere(user, MODERATE)


async def moderated_organisations(user: dict) -> list[int] | None:
    """Every organisation the person moderates (with the bodies below them); None: all."""
    return await participation.moderated_organisations(user, MODERATE)


async def may_manage(user: dict | None, idea: dict) -> bool:
    """Who may change an idea's status and its implementation record: staff of the answering
    organisation (the engine's rule, civic.responses.may_act) or of the responsible department."""
    if not user:
        return False
    if await responses.may_act(user["id"], idea["organisation"]):
        return True
    return bool(idea.get("department")) and await responses.may_act(user["id"], idea["department"])


async def may_run_challenges(user: dict | None, organisation_id: int) -> bool:
    return bool(user) and await responses.may_act(user["id"], organisation_id)


async def challenge_organisations_of(user: dict) -> list[dict]:
    """Organisations in whose name the person may publish a challenge."""
    if user.get("is_admin"):
        rows = await Organisation.select(Organisation.id, Organisation.slug, Organisation.name_kk, Organisation.name_ru,
                                         Organisation.name_en, Organisation.territory).where(
            Organisation.kind.is_in([OrganisationKind.AKIMAT, OrganisationKind.DEPARTMENT]))
        return sorted(rows, key=lambda r: r["slug"])
    rows = await Membership.select(Membership.organisation).where(
        (Membership.user == user["id"]) & Membership.role.is_in(list(responses.STAFF_ROLES)))
    ids = [r["organisation"] for r in rows]
    if not ids:
        return []
    return await Organisation.select(Organisation.id, Organisation.slug, Organisation.name_kk, Organisation.name_ru,
                                     Organisation.name_en, Organisation.territory).where(
        Organisation.id.is_in(ids)).order_by(Organisation.slug)


async def may_set_policy(user: dict | None, organisation_id: int) -> bool:
    return await participation.may_in(user, SET_POLICY, organisation_id)


async def policy_organisations(user: dict) -> list[dict]:
    """The organisations whose rules for ideas the person may set, each with the rules in force."""
    query = Organisation.select(Organisation.id, Organisation.slug, Organisation.name_kk, Organisation.name_ru,
                                Organisation.name_en, Organisation.kind)
    if not user.get("is_admin"):
        rows = await Membership.select(Membership.organisation).where(
            (Membership.user == user["id"]) & (Membership.role == Role.ADMINISTRATOR))
        query = query.where(Organisation.id.is_in([r["organisation"] for r in rows] or [-1]))
    else:
        query = query.where(Organisation.kind.is_in([OrganisationKind.AKIMAT, OrganisationKind.DEPARTMENT]))
    organisations = await query.order_by(Organisation.slug)
    for organisation in organisations:
        organisation["policy"] = await policy_for(organisation["id"])
    return organisations


async def set_policy(actor: dict, organisation_id: int, *, moderation: str, support_threshold: int) -> None:
    """An organisation's administrator chooses pre- or post-moderation and the support threshold."""
    if not await may_set_policy(actor, organisation_id):
        raise Denied(N_("Only an administrator of the organisation may change its rules for ideas."))
    if moderation not in ("pre", "post"):
        raise RuleError(N_("Choose pre-moderation or post-moderation."), "moderation")
    if not isinstance(support_threshold, int) or not 1 <= support_threshold <= 1_000_000:
        raise RuleError(N_("The support threshold must be a whole number from 1 to 1,000,000."), "support_threshold")
    async with transaction():
        await IdeaPolicy.insert(IdeaPolicy(organisation=organisation_id, moderation=moderation,
                                           support_threshold=support_threshold, updated_at=now_utc())).on_conflict(
            target=IdeaPolicy.organisation, action="DO UPDATE",
            values=[IdeaPolicy.moderation, IdeaPolicy.support_threshold, IdeaPolicy.updated_at])
        await audit(actor["id"], "ideas.policy", organisation_id=organisation_id,
                    subject=f"organisations:{organisation_id}",
                    details={"moderation": moderation, "support_threshold": support_threshold})


# --------------------------------------------------------------------------- territories


async def territory_choices() -> list[dict]:
    """Districts and rural okrugs (where ideas are placed), in tree order, with their parent's names."""
    rows = await Territory.select(Territory.id, Territory.code, Territory.kind, Territory.path, Territory.name_kk,
                                  Territory.name_ru, Territory.name_en,
                                  Territory.parent.name_kk.as_alias("parent_name_kk"),
                                  Territory.parent.name_ru.as_alias("parent_name_ru"),
                                  Territory.parent.name_en.as_alias("parent_name_en")).where(
        Territory.kind.is_in([TerritoryKind.DISTRICT, TerritoryKind.RURAL_OKRUG])).order_by(Territory.path)
    return rows


async def filter_territories() -> list[dict]:
    """Territories offered in the list filter: cities, regions, districts and okrugs."""
    rows = await Territory.raw('SELECT "id", "code", "kind", "path", "name_kk", "name_ru", "name_en"'
                               ' FROM "civic_territory" WHERE "kind" != {} ORDER BY "path"', TerritoryKind.REPUBLIC)
    for row in rows:
        row["depth"] = max(0, row["path"].strip("/").count("/") - 1)
    return rows


async def _territory_ids_under(code: str) -> list[int] | None:
    """The territory and everything below it (path prefix, compared in Python: SQLite's LIKE
    is case-insensitive and uses no index here)."""
    rows = await Territory.raw('SELECT "id", "code", "path" FROM "civic_territory"')
    prefix = next((r["path"] for r in rows if r["code"] == code), None)
    if prefix is None:
        return None
    return [r["id"] for r in rows if r["path"].startswith(prefix)]


# The lists and an idea's page are the busiest reads: hand-written SQL (the same on SQLite and
# PostgreSQL) keeps them to one statement each, ordered along the composite list indexes.
LIST_SQL = (
    'SELECT i."id", i."title", i."summary", i."category", i."status", i."support_count", i."comment_count",'
    ' i."created_at", i."answered_at", i."progress", i."challenge", i."threshold_reached_at", i."lang",'
    ' i."territory", t."name_kk" AS "territory_name_kk", t."name_ru" AS "territory_name_ru",'
    ' t."name_en" AS "territory_name_en"'
    ' FROM "ideas_idea" i LEFT JOIN "civic_territory" t ON t."id" = i."territory"'
)
LIST_ORDER = {"new": "created_at", "supported": "support_count", "trending": "trend_score",
              "discussed": "comment_count", "answered": "answered_at"}


async def list_ideas(*, sort: str = "new", territory: str | None = None, category: str | None = None,
                     status: str | None = None, challenge_id: int | None = None, page: int = 1,
                     per_page: int = PAGE_SIZE) -> IdeaList:
    """A page of public ideas (DOMAIN.md "Crowdsourcing": crowd voting, rankings): new, most
    supported, trending (support velocity with time decay), most discussed, answered; filtered
    by territory (with everything below it), category and status. Unknown filter values are
    refused by the caller; here they simply match nothing. No total count: a page asks for one
    row more than it shows to know whether a next page exists, so its cost does not grow with
    the number of ideas."""
    sort = sort if sort in SORTS else "new"
    page = max(1, min(int(page), 10_000))
    per_page = max(1, min(int(per_page), 500))
    where, args = ['i."visibility" = {}'], [VISIBLE]
    if territory:
        ids = await _territory_ids_under(territory) or [-1]
        where.append('i."territory" IN (' + ", ".join("{}" for _ in ids) + ")")
        args.extend(ids)
    if category:
        where.append('i."category" = {}')
        args.append(category)
    if status:
        where.append('i."status" = {}')
        args.append(status)
    if challenge_id:
        where.append('i."challenge" = {}')
        args.append(challenge_id)
    if sort == "answered":
        where.append('i."answered_at" IS NOT NULL')
    column = LIST_ORDER[sort]
    sql = (f'{LIST_SQL} WHERE {" AND ".join(where)} ORDER BY i."{column}" DESC, i."id" DESC'
           f" LIMIT {per_page + 1} OFFSET {(page - 1) * per_page}")
    rows = await Idea.raw(sql, *args)
    return IdeaList(items=rows[:per_page], page=page, has_next=len(rows) > per_page,
                    filters={"sort": sort, "territory": territory or "", "category": category or "",
                             "status": status or ""})


IDEA_SQL = (
    'SELECT i.*, t."name_kk" AS "territory_name_kk", t."name_ru" AS "territory_name_ru",'
    ' t."name_en" AS "territory_name_en", t."path" AS "territory_path", t."code" AS "territory_code",'
    ' o."slug" AS "organisation_slug", o."name_kk" AS "organisation_name_kk", o."name_ru" AS "organisation_name_ru",'
    ' o."name_en" AS "organisation_name_en", d."slug" AS "department_slug", d."name_kk" AS "department_name_kk",'
    ' d."name_ru" AS "department_name_ru", d."name_en" AS "department_name_en",'
    ' u."display_name" AS "author_name", c."title" AS "challenge_title"'
    ' FROM "ideas_idea" i'
    ' LEFT JOIN "civic_territory" t ON t."id" = i."territory"'
    ' LEFT JOIN "civic_organisation" o ON o."id" = i."organisation"'
    ' LEFT JOIN "civic_organisation" d ON d."id" = i."department"'
    ' LEFT JOIN "civic_user" u ON u."id" = i."author"'
    ' LEFT JOIN "ideas_challenge" c ON c."id" = i."challenge"'
    ' WHERE i."id" = {}'
)


async def get_idea(idea_id: int) -> dict | None:
    rows = await Idea.raw(IDEA_SQL, idea_id)
    return rows[0] if rows else None


async def _idea_or_error(idea_id: int) -> dict:
    idea = await Idea.select().where(Idea.id == idea_id).first()
    if idea is None:
        raise NotFound(N_("This idea does not exist."))
    return idea


async def may_see_content(user: dict | None, idea: dict) -> bool:
    """Public ideas are for everyone; one waiting for moderation or hidden shows its text only to
    its author and the moderators (everyone else sees the placeholder)."""
    if idea["visibility"] == VISIBLE:
        return True
    if user and user["id"] == idea["author"]:
        return True
    return await may_moderate(user, idea["organisation"])


async def viewer_state(user: dict | None, idea_id: int) -> dict:
    if not user:
        return {"supported": False, "following": False}
    supported = await supports.has_supported(subject_of(idea_id), user["id"])
    following = await follows.is_following(subject_of(idea_id), user["id"])
    return {"supported": supported, "following": following}


async def comments_of(idea_id: int, viewer: dict | None = None, moderator: bool = False) -> list[dict]:
    """The discussion: top-level comments oldest first, each with its replies. Hidden comments
    keep their place as a placeholder; pending ones show only to their author and moderators."""
    thread = await discussion.thread(subject_of(idea_id), viewer["id"] if viewer else None, moderator)
    for row in thread:
        for item in (row, *row["replies"]):
            item["idea"] = idea_id
    return thread


async def idea_images(idea_id: int) -> list[dict]:
    return await IdeaImage.raw('SELECT * FROM "ideas_image" WHERE "idea" = {} ORDER BY "position", "id"', idea_id)


async def status_history(idea_id: int) -> list[dict]:
    return await StatusChange.raw('SELECT * FROM "ideas_status_change" WHERE "idea" = {} ORDER BY "id"', idea_id)


async def milestones_of(idea_id: int) -> list[dict]:
    return await Milestone.raw('SELECT * FROM "ideas_milestone" WHERE "idea" = {} ORDER BY "due_on", "id"', idea_id)


async def versions_of(idea_id: int) -> list[dict]:
    return await IdeaVersion.raw('SELECT * FROM "ideas_version" WHERE "idea" = {} ORDER BY "version" DESC', idea_id)


async def official_responses(idea_id: int) -> list[dict]:
    """Every official response opened for the idea, oldest first, with its deadline light."""
    rows = await OfficialResponse.raw(
        'SELECT r.*, o."name_kk" AS "organisation_name_kk", o."name_ru" AS "organisation_name_ru",'
        ' o."name_en" AS "organisation_name_en" FROM "civic_official_response" r'
        ' LEFT JOIN "civic_organisation" o ON o."id" = r."organisation" WHERE r."subject" = {} ORDER BY r."id"',
        f"ideas:{idea_id}")
    for row in rows:
        row["light"] = responses.traffic_light(row)
        row["effective_due_on"] = responses.effective_due(row)
    return rows


# --------------------------------------------------------------------------- abuse limits


async def check_posting_allowed(settings: Settings, user: dict, text: str, kind: str,
                                now: datetime | None = None) -> None:
    """Stop scripted and abusive posting before anything is written (issue 4, "Moderation and
    abuse"): blocked accounts post nothing; an account younger than NEW_ACCOUNT_AGE posts at most
    NEW_ACCOUNT_POSTS_PER_HOUR items an hour with at most NEW_ACCOUNT_LINKS_PER_POST link each;
    everyone has a rate limit per kind of post and LINKS_PER_POST links at most."""
    now = now or now_utc()
    if user.get("blocked_reason"):
        raise Denied(N_("Your account is blocked from posting."))
    links = count_links(text)
    created = user.get("created_at") or now
    is_new = now - created < NEW_ACCOUNT_AGE
    if is_new and links > NEW_ACCOUNT_LINKS_PER_POST:
        raise RuleError(N_("New accounts may include at most %(links)s link in a post."), "body",
                        links=NEW_ACCOUNT_LINKS_PER_POST)
    if links > LINKS_PER_POST:
        raise RuleError(N_("A post may include at most %(links)s links."), "body", links=LINKS_PER_POST)
    if is_new:
        since = now - timedelta(hours=1)
        recent = await Idea.count().where((Idea.author == user["id"]) & (Idea.created_at > since))
        recent += await discussion.comments_since(user["id"], since)
        if recent >= NEW_ACCOUNT_POSTS_PER_HOUR:
            raise RuleError(N_("New accounts may post at most %(posts)s times an hour. Please come back later."),
                            posts=NEW_ACCOUNT_POSTS_PER_HOUR)
    limit = IDEAS_PER_HOUR if kind == "idea" else COMMENTS_PER_HOUR
    if await over_rate_limit(settings, f"ideas:{kind}:{user['id']}", limit, timedelta(hours=1)):
        raise RuleError(N_("You are posting too often. Please wait a while and try again."))


# --------------------------------------------------------------------------- proposing


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not TITLE_LENGTH[0] <= len(title) <= TITLE_LENGTH[1]:
        raise RuleError(N_("Give the idea a title of %(min)s to %(max)s characters."), "title",
                        min=TITLE_LENGTH[0], max=TITLE_LENGTH[1])
    return title


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not BODY_LENGTH[0] <= len(body) <= BODY_LENGTH[1]:
        raise RuleError(N_("Describe the idea in %(min)s to %(max)s characters."), "body",
                        min=BODY_LENGTH[0], max=BODY_LENGTH[1])
    return body


def _clean_category(category: str) -> str:
    if category not in CATEGORIES:
        raise RuleError(N_("Choose a category from the list."), "category")
    return category


def _clean_cost(cost) -> int | None:
    if cost in (None, ""):
        return None
    try:
        value = int(str(cost).replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        raise RuleError(N_("Enter the cost estimate in whole tenge, or leave it empty."), "cost_estimate") from None
    if not 0 <= value <= MAX_COST:
        raise RuleError(N_("Enter the cost estimate in whole tenge, or leave it empty."), "cost_estimate")
    return value


def check_images(images: list[ImageUpload]) -> list[tuple[ImageUpload, str]]:
    """At most three JPEG, PNG, GIF or WebP images of at most 5 MB each, typed by their bytes."""
    images = [i for i in images if i.data or i.filename]
    if len(images) > MAX_IMAGES:
        raise RuleError(N_("Attach at most %(count)s images."), "images", count=MAX_IMAGES)
    checked = []
    for image in images:
        if not image.data:
            raise RuleError(N_("The file %(name)s is empty."), "images", name=uploads.safe_name(image.filename, "image"))
        if len(image.data) > MAX_IMAGE_BYTES:
            raise RuleError(N_("The image %(name)s is larger than %(size)s MB."), "images",
                            name=uploads.safe_name(image.filename, "image"), size=MAX_IMAGE_BYTES // (1024 * 1024))
        content_type = sniff_image(image.data)
        if content_type is None:
            raise RuleError(N_("The file %(name)s is not a JPEG, PNG, GIF or WebP image."), "images",
                            name=uploads.safe_name(image.filename, "image"))
        checked.append((image, content_type))
    return checked


def _store_images(settings: Settings, checked: list[tuple[ImageUpload, str]]) -> list[dict]:
    return [{"stored_name": uploads.store(settings, "ideas", image.data, content_type), "content_type": content_type,
             "size": len(image.data), "alt": " ".join((image.alt or "").split())[:200], "position": position}
            for position, (image, content_type) in enumerate(checked)]


def image_path(settings: Settings, stored_name: str) -> Path:
    return uploads.stored_path(settings, "ideas", stored_name)


async def _challenge_for_new_idea(challenge_id: int | None, today: date) -> dict | None:
    if not challenge_id:
        return None
    challenge = await Challenge.select().where(Challenge.id == challenge_id).first()
    if challenge is None or challenge["visibility"] != VISIBLE:
        raise RuleError(N_("This challenge does not exist."), "challenge")
    if not challenge_accepts_ideas(challenge, today):
        raise RuleError(N_("This challenge no longer accepts ideas."), "challenge")
    return challenge


def challenge_accepts_ideas(challenge: dict, today: date | None = None) -> bool:
    """Ideas answer a challenge while it is open and its deadline has not passed."""
    return challenge["state"] == CHALLENGE_OPEN and (today or almaty_today()) <= challenge["deadline"]


async def propose(settings: Settings, author: dict, *, title: str, body: str, category: str, territory_id: int | None,
                  cost_estimate=None, challenge_id: int | None = None, images: list[ImageUpload] = (),
                  now: datetime | None = None) -> int:
    """A citizen with a confirmed e-mail proposes an idea (DOMAIN.md "Crowdsourcing": projects
    published on a platform open to all). It goes to the akimat of its territory, or to the
    department of the challenge it answers; under pre-moderation it waits for a moderator."""
    now = now or now_utc()
    if author.get("verification", 0) < 1:
        raise Denied(N_("Confirm your e-mail address before proposing ideas."))
    title = _clean_title(title)
    body = _clean_body(body)
    category = _clean_category(category)
    cost = _clean_cost(cost_estimate)
    challenge = await _challenge_for_new_idea(challenge_id, almaty_today())
    if territory_id is None and challenge is not None:
        territory_id = challenge["territory"]
    if territory_id is None or not await Territory.exists().where(Territory.id == territory_id):
        raise RuleError(N_("Choose the district or rural okrug the idea is for."), "territory")
    organisation_id = challenge["organisation"] if challenge else await organisation_for_territory(territory_id)
    if organisation_id is None:
        raise RuleError(N_("No akimat answers for this territory yet. Choose another one."), "territory")
    checked = check_images(list(images))
    await check_posting_allowed(settings, author, f"{title}\n{body}", "idea", now)
    policy = await policy_for(organisation_id)
    visibility = PENDING if policy["moderation"] == "pre" else VISIBLE

    stored = _store_images(settings, checked)
    try:
        async with transaction():
            idea = Idea(title=title, body=body, summary=plain_summary(body), category=category,
                        territory=territory_id, organisation=organisation_id, author=author["id"],
                        challenge=challenge["id"] if challenge else None, cost_estimate=cost,
                        lang=detect_language(f"{title} {body}"), status=PUBLISHED, visibility=visibility,
                        created_at=now, updated_at=now, status_changed_at=now)
            await idea.save()
            for n, image in enumerate(stored, start=1):
                extension = image["stored_name"].rsplit(".", 1)[1]
                await IdeaImage(idea=idea.id, filename=f"idea-{idea.id}-{n}.{extension}", created_at=now,
                                **image).save()
            await follows.follow(subject_of(idea.id), author["id"], now)
            await StatusChange(idea=idea.id, old_status="", new_status=PUBLISHED, actor=author["id"],
                               created_at=now).save()
            if visibility == VISIBLE:
                await _reindex_idea(idea.id)
    except BaseException:
        for image in stored:
            image_path(settings, image["stored_name"]).unlink(missing_ok=True)
        raise
    return idea.id


async def may_edit(user: dict | None, idea: dict) -> bool:
    return bool(user) and user["id"] == idea["author"] and idea["visibility"] != HIDDEN \
        and idea["status"] in OPEN_STATUSES


async def edit_idea(settings: Settings, author: dict, idea_id: int, *, title: str, body: str, category: str,
                    cost_estimate=None, now: datetime | None = None) -> bool:
    """The author edits the idea. Until its first support the text simply changes; after that
    every change keeps the previous text as a numbered version that everyone can read, so
    supporters see what changed since they supported it. Returns True when a version was kept."""
    now = now or now_utc()
    title = _clean_title(title)
    body = _clean_body(body)
    category = _clean_category(category)
    cost = _clean_cost(cost_estimate)
    await check_posting_allowed(settings, author, f"{title}\n{body}", "edit", now)
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if idea["author"] != author["id"]:
            raise Denied(N_("Only the author may edit an idea."))
        if not await may_edit(author, idea):
            raise RuleError(N_("This idea can no longer be edited."))
        if (title, body, category, cost) == (idea["title"], idea["body"], idea["category"], idea["cost_estimate"]):
            return False
        versioned = idea["support_count"] > 0
        changes = {Idea.title: title, Idea.body: body, Idea.summary: plain_summary(body), Idea.category: category,
                   Idea.cost_estimate: cost, Idea.lang: detect_language(f"{title} {body}"), Idea.updated_at: now}
        where = Idea.id == idea_id
        if versioned:
            await IdeaVersion(idea=idea_id, version=idea["version"], title=idea["title"], body=idea["body"],
                              category=idea["category"], cost_estimate=idea["cost_estimate"], replaced_at=now).save()
            changes[Idea.version] = idea["version"] + 1
            where = where & (Idea.version == idea["version"])
        changed = await Idea.update(changes).where(where).returning(Idea.id)
        if not changed:
            raise RuleError(N_("Someone else changed this idea at the same time. Please reload and try again."))
        if idea["visibility"] == VISIBLE:
            await _reindex_idea(idea_id)
        return versioned


# --------------------------------------------------------------------------- support


async def _count_support(idea_id: int, step: int, weight: float) -> int:
    """Change the support count and the trend score in one atomic statement (no read-modify-
    write), inside the caller's transaction; returns the new count. The statement also checks
    that the idea is still public and open, so a decision taken meanwhile by the akimat wins:
    the support is refused and its transaction rolled back."""
    rows = await Idea.raw(
        'UPDATE "ideas_idea" SET "support_count" = "support_count" + {}, "trend_score" = "trend_score" + {}'
        ' WHERE "id" = {} AND "visibility" = {} AND "status" IN ({}, {}) RETURNING "support_count"',
        step, weight, idea_id, VISIBLE, *OPEN_STATUSES)
    if not rows:
        raise RuleError(N_("Supports are closed: the akimat has decided on this idea."))
    return rows[0]["support_count"]


def _require_supportable(idea: dict) -> None:
    if idea["visibility"] != VISIBLE:
        raise RuleError(N_("This idea cannot be supported now."))
    if idea["status"] not in OPEN_STATUSES:
        raise RuleError(N_("Supports are closed: the akimat has decided on this idea."))


async def support(user: dict, idea_id: int, now: datetime | None = None) -> SupportResult:
    """One support per person and idea, enforced by the database (unique index); the count and
    the trend score change in the same transaction with an atomic increment, so 200 people
    supporting at once give exactly 200 and a double submission gives one. The support that
    reaches the organisation's threshold opens the official response (:func:`reach_threshold`)."""
    now = now or now_utc()
    if user.get("verification", 0) < 1:
        raise Denied(N_("Confirm your e-mail address before supporting ideas."))
    async with transaction():
        idea = await _idea_or_error(idea_id)
        _require_supportable(idea)

        async def count(step: int, at: datetime) -> int:
            return await _count_support(idea_id, step, trend_weight(at))

        async def on_count(total: int) -> bool:
            if idea["threshold_reached_at"] is not None:
                return False
            policy = await policy_for(idea["organisation"])
            if total < policy["support_threshold"]:
                return False
            return await reach_threshold(idea_id, now=now, threshold=policy["support_threshold"])

        change = await supports.add_support(subject_of(idea_id), user["id"], count=count, on_count=on_count, now=now)
        if not change.changed:
            count_now = (await Idea.select(Idea.support_count).where(Idea.id == idea_id).first())["support_count"]
            return SupportResult(count_now, supported=True, changed=False)
        await follows.follow(subject_of(idea_id), user["id"], now)
        return SupportResult(change.count, supported=True, changed=True, threshold_reached=change.threshold_reached)


async def withdraw_support(user: dict, idea_id: int) -> SupportResult:
    """A supporter may withdraw while the idea is open; the count goes down in the same transaction."""
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if idea["status"] not in OPEN_STATUSES:
            raise RuleError(N_("Supports are closed: the akimat has decided on this idea."))

        async def count(step: int, supported_at: datetime) -> int:
            return await _count_support(idea_id, step, step * trend_weight(supported_at))

        change = await supports.withdraw_support(subject_of(idea_id), user["id"], count=count)
        if not change.changed:
            count_now = (await Idea.select(Idea.support_count).where(Idea.id == idea_id).first())["support_count"]
            return SupportResult(count_now, supported=False, changed=False)
        return SupportResult(change.count, supported=False, changed=True)


async def follow(user: dict, idea_id: int, on: bool = True) -> None:
    """Followers hear of status changes and answers; supporters and the author follow by default."""
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if on:
            if idea["visibility"] != VISIBLE and idea["author"] != user["id"]:
                raise RuleError(N_("This idea cannot be followed now."))
            await follows.follow(subject_of(idea_id), user["id"])
        else:
            await follows.unfollow(subject_of(idea_id), user["id"])


async def audience(idea_id: int, exclude: set[int] | None = None) -> list[int]:
    """Everyone to tell about the idea: its author, supporters and followers (each once)."""
    exclude = exclude or set()
    author = await Idea.select(Idea.author).where(Idea.id == idea_id).first()
    ids = set(await supports.supporters(subject_of(idea_id))) | set(await follows.followers(subject_of(idea_id)))
    if author:
        ids.add(author["author"])
    return sorted(ids - exclude)


# --------------------------------------------------------------------------- threshold and answers


async def reach_threshold(idea_id: int, *, now: datetime | None = None, threshold: int | None = None,
                          today: date | None = None) -> bool:
    """The idea reached its support threshold (DOMAIN.md §5): it goes under review and gets an
    official response from its organisation, due in 15 working days (APC art. 76); its author,
    supporters and followers are told. Runs inside the support's transaction; marking the idea
    is conditional, so only one of several concurrent supports does it. Returns True if it did."""
    now = now or now_utc()
    marked = await Idea.update({Idea.threshold_reached_at: now}).where(
        (Idea.id == idea_id) & Idea.threshold_reached_at.is_null()).returning(Idea.id)
    if not marked:
        return False
    idea = await _idea_or_error(idea_id)
    try:
        response = await responses.open_response(
            subject=f"ideas:{idea_id}", subject_kind="ideas.idea", subject_title=idea["title"],
            subject_url=f"/ideas/{idea_id}", organisation_id=idea["organisation"], citizen_id=idea["author"],
            today=today)
    except RuleError:  # one is already open (e.g. the idea was shortlisted)
        response = (await OfficialResponse.objects().where(
            (OfficialResponse.subject == f"ideas:{idea_id}")).order_by(OfficialResponse.id, ascending=False).first())
    changes = {Idea.response: response.id}
    if idea["status"] == PUBLISHED:
        changes.update({Idea.status: UNDER_REVIEW, Idea.status_changed_at: now})
        await StatusChange(idea=idea_id, old_status=PUBLISHED, new_status=UNDER_REVIEW, reason="", actor=None,
                           created_at=now).save()
    await Idea.update(changes).where(Idea.id == idea_id)
    await tell(await audience(idea_id, {idea["author"]}), "ideas.threshold",
                N_("“%(title)s” reached %(count)s supports"),
                N_("The akimat must now give an official answer by %(due)s. You will be told when it answers."),
                f"/ideas/{idea_id}", title=idea["title"], count=threshold or idea["support_count"],
                due=responses.effective_due(response))
    if idea["visibility"] == VISIBLE:
        await _reindex_idea(idea_id)
    return True


async def on_answer(response: OfficialResponse) -> None:
    """Answer hook (civic.responses): the answer shows on the idea, is mentioned in its
    discussion, and goes to every supporter and follower (the author is told by the engine).
    Runs inside the answer's transaction."""
    idea_id = subject_row_id(response.subject)
    if idea_id is None:
        return
    idea = await Idea.select(Idea.id, Idea.title, Idea.author, Idea.visibility).where(Idea.id == idea_id).first()
    if idea is None:
        return
    answered_at = response.answered_at or now_utc()
    await Idea.update({Idea.answered_at: answered_at, Idea.response: response.id}).where(Idea.id == idea_id)
    if not response.answer_is_public:
        return
    await discussion.post_comment(subject_of(idea_id), response.answered_by, response.answer or "", kind="answer",
                                  now=answered_at)
    organisation = await Organisation.select(Organisation.name_kk, Organisation.name_ru, Organisation.name_en).where(
        Organisation.id == response.organisation).first() or {}
    await tell(await audience(idea_id, {idea["author"]}), "ideas.answered",
               N_("%(organisation)s answered “%(title)s”"), "", f"/ideas/{idea_id}#answer",
               organisation_names=organisation, title=idea["title"],
               body=plain_summary(response.answer or "", 1000))  # every supporter, in a few queries
    if idea["visibility"] == VISIBLE:
        await _reindex_idea(idea_id)


# --------------------------------------------------------------------------- statuses and delivery


async def change_status(actor: dict, idea_id: int, new_status: str, reason: str = "",
                        now: datetime | None = None) -> None:
    """Staff of the answering organisation move the idea along published → under review →
    accepted / planned / in progress / implemented / not accepted. Not accepting needs a reason
    (DOMAIN.md §1, consultation: advice must be considered and the decision justified).
    Followers are told; the change and its reason stay in the public history."""
    now = now or now_utc()
    reason = (reason or "").strip()[:5000]
    if new_status not in STATUSES:
        raise RuleError(N_("Choose a status from the list."), "status")
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if not await may_manage(actor, idea):
            raise Denied(N_("Only staff of the answering organisation may change the status of this idea."))
        if idea["visibility"] != VISIBLE:
            raise RuleError(N_("A hidden or unmoderated idea cannot change status."))
        if new_status not in TRANSITIONS[idea["status"]]:
            raise RuleError(N_("An idea cannot go from “%(old)s” to “%(new)s”."), "status",
                            old=STATUS_LABELS[idea["status"]], new=STATUS_LABELS[new_status])
        if new_status == NOT_ACCEPTED and not reason:
            raise RuleError(N_("Say why the idea is not accepted; the reason is published."), "reason")
        changed = await Idea.update({Idea.status: new_status, Idea.status_reason: reason,
                                     Idea.status_changed_at: now}).where(
            (Idea.id == idea_id) & (Idea.status == idea["status"])).returning(Idea.id)
        if not changed:
            raise RuleError(N_("Someone else changed this idea at the same time. Please reload and try again."))
        await StatusChange(idea=idea_id, old_status=idea["status"], new_status=new_status, reason=reason,
                           actor=actor["id"], created_at=now).save()
        await audit(actor["id"], "ideas.status", organisation_id=idea["organisation"], subject=f"ideas:{idea_id}",
                    details={"from": idea["status"], "to": new_status})
        await tell(await audience(idea_id, {actor["id"]}), "ideas.status",
                    N_("“%(title)s” is now: %(status)s"), "", f"/ideas/{idea_id}",
                    title=idea["title"], status_msgid=STATUS_LABELS[new_status], body=reason)
        await _reindex_idea(idea_id)


async def set_implementation(actor: dict, idea_id: int, *, department_id: int | None, budget_line: str,
                             progress: int) -> None:
    """Open implementation tracking (Decidim's accountability): the responsible department, the
    budget line if any, and the progress in percent, once the idea is accepted."""
    budget_line = " ".join((budget_line or "").split())[:200]
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise RuleError(N_("Progress is a whole number of percent from 0 to 100."), "progress")
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if not await may_manage(actor, idea):
            raise Denied(N_("Only staff of the answering organisation may update the implementation."))
        if idea["status"] not in DELIVERY_STATUSES:
            raise RuleError(N_("Implementation is tracked once the idea is accepted."))
        if department_id is not None and not await Organisation.exists().where(Organisation.id == department_id):
            raise RuleError(N_("Choose the responsible department from the list."), "department")
        await Idea.update({Idea.department: department_id, Idea.budget_line: budget_line, Idea.progress: progress,
                           Idea.updated_at: now_utc()}).where(Idea.id == idea_id)
        await audit(actor["id"], "ideas.implementation", organisation_id=idea["organisation"],
                    subject=f"ideas:{idea_id}", details={"department": department_id, "progress": progress,
                                                          "budget_line": budget_line})


async def add_milestone(actor: dict, idea_id: int, *, title: str, due_on: date | None, progress: int) -> int:
    """A dated step of the implementation with the progress (percent of the whole) it brings."""
    title = " ".join((title or "").split())
    if not 3 <= len(title) <= 200:
        raise RuleError(N_("Name the milestone in 3 to 200 characters."), "milestone_title")
    if due_on is None:
        raise RuleError(N_("Enter the date of the milestone."), "milestone_due_on")
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise RuleError(N_("Progress is a whole number of percent from 0 to 100."), "milestone_progress")
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if not await may_manage(actor, idea):
            raise Denied(N_("Only staff of the answering organisation may update the implementation."))
        if idea["status"] not in DELIVERY_STATUSES:
            raise RuleError(N_("Implementation is tracked once the idea is accepted."))
        milestone = Milestone(idea=idea_id, title=title, due_on=due_on, progress=progress, created_at=now_utc())
        await milestone.save()
        await audit(actor["id"], "ideas.milestone", organisation_id=idea["organisation"], subject=f"ideas:{idea_id}",
                    details={"milestone": title, "due_on": due_on.isoformat(), "progress": progress})
        return milestone.id


async def complete_milestone(actor: dict, milestone_id: int, done_on: date | None = None) -> None:
    """Mark a milestone reached; the idea's progress becomes at least the milestone's."""
    done_on = done_on or almaty_today()
    async with transaction():
        milestone = await Milestone.select().where(Milestone.id == milestone_id).first()
        if milestone is None:
            raise NotFound(N_("This milestone does not exist."))
        idea = await _idea_or_error(milestone["idea"])
        if not await may_manage(actor, idea):
            raise Denied(N_("Only staff of the answering organisation may update the implementation."))
        if milestone["done_on"] is not None:
            raise RuleError(N_("This milestone is already reached."))
        await Milestone.update({Milestone.done_on: done_on}).where(Milestone.id == milestone_id)
        if milestone["progress"] > idea["progress"]:
            await Idea.update({Idea.progress: milestone["progress"]}).where(Idea.id == idea["id"])
        await tell(await audience(idea["id"], {actor["id"]}), "ideas.status",
                    N_("“%(title)s”: milestone reached"), N_("%(milestone)s. Progress: %(progress)s%%."),
                    f"/ideas/{idea['id']}#delivery", title=idea["title"], milestone=milestone["title"],
                    progress=max(milestone["progress"], idea["progress"]))


# --------------------------------------------------------------------------- discussion


async def add_comment(settings: Settings, author: dict, idea_id: int, body: str, parent_id: int | None = None,
                      now: datetime | None = None) -> int:
    """Crowd wisdom (DOMAIN.md "Crowdsourcing"): comments with one level of replies, in
    markdown. A reply to a reply joins its thread. Under pre-moderation it waits."""
    now = now or now_utc()
    if author.get("verification", 0) < 1:
        raise Denied(N_("Confirm your e-mail address before taking part in the discussion."))
    body = (body or "").strip()
    if not COMMENT_LENGTH[0] <= len(body) <= COMMENT_LENGTH[1]:
        raise RuleError(N_("Write a comment of %(min)s to %(max)s characters."), "comment",
                        min=COMMENT_LENGTH[0], max=COMMENT_LENGTH[1])
    await check_posting_allowed(settings, author, body, "comment", now)
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if idea["visibility"] != VISIBLE:
            raise RuleError(N_("This idea cannot be discussed now."))
        policy = await policy_for(idea["organisation"])
        visibility = PENDING if policy["moderation"] == "pre" else VISIBLE
        comment_id, parent = await discussion.post_comment(subject_of(idea_id), author["id"], body,
                                                           parent_id=parent_id, visibility=visibility, now=now)
        if visibility == VISIBLE:
            await Idea.update({Idea.comment_count: Idea.comment_count + 1}).where(Idea.id == idea_id)
            if parent and parent["author"] and parent["author"] != author["id"]:
                await tell([parent["author"]], "ideas.reply", N_("%(name)s replied to you on “%(title)s”"), "",
                            f"/ideas/{idea_id}#comment-{comment_id}", name=author["display_name"],
                            title=idea["title"], body=plain_summary(body, 300))
        return comment_id


async def edit_comment(settings: Settings, author: dict, comment_id: int, body: str,
                       now: datetime | None = None) -> None:
    """The author may correct a comment within 15 minutes of writing it."""
    now = now or now_utc()
    body = (body or "").strip()
    if not COMMENT_LENGTH[0] <= len(body) <= COMMENT_LENGTH[1]:
        raise RuleError(N_("Write a comment of %(min)s to %(max)s characters."), "comment",
                        min=COMMENT_LENGTH[0], max=COMMENT_LENGTH[1])
    await check_posting_allowed(settings, author, body, "edit", now)
    async with transaction():
        if await get_comment(comment_id) is None:
            raise NotFound(N_("This comment does not exist."))
        await discussion.edit_comment(comment_id, author["id"], body, now=now, window=COMMENT_EDIT_WINDOW)


def comment_editable(comment: dict, now: datetime | None = None) -> bool:
    return discussion.comment_editable(comment, now, COMMENT_EDIT_WINDOW)


async def get_comment(comment_id: int) -> dict | None:
    """A comment in the discussion of an idea, with the idea's id (``idea``)."""
    row = await discussion.get_comment(comment_id)
    if row is None or idea_of(row["subject"]) is None:
        return None
    row["idea"] = idea_of(row["subject"])
    return row


# --------------------------------------------------------------------------- moderation


def _subject_of_item(kind: str, item: dict) -> str:
    """The subject an idea, comment or challenge belongs to (for the shared flags and log)."""
    if kind == "challenge":
        return challenge_subject(item["id"])
    return item["subject"] if kind == "comment" else subject_of(item["id"])


async def _target(kind: str, target_id: int) -> tuple[dict, int, int | None]:
    """The flagged or moderated item, its organisation and the idea it belongs to."""
    if kind == "idea":
        row = await Idea.select().where(Idea.id == target_id).first()
        if row:
            return row, row["organisation"], row["id"]
    elif kind == "comment":
        row = await get_comment(target_id)
        idea = row and await Idea.select(Idea.organisation).where(Idea.id == row["idea"]).first()
        if idea:
            row["organisation"] = idea["organisation"]
            return row, row["organisation"], row["idea"]
    elif kind == "challenge":
        row = await Challenge.select().where(Challenge.id == target_id).first()
        if row:
            return row, row["organisation"], None
    raise NotFound(N_("There is nothing to moderate here."))


async def flag(settings: Settings, reporter: dict, kind: str, target_id: int, reason: str, note: str = "") -> None:
    """Anyone signed in reports an item for a reason (spam, offensive, off-topic, personal
    data, prohibited content); one report per person and item (unique index)."""
    if reason not in FLAG_REASONS:
        raise RuleError(N_("Choose why you report this."), "reason")
    note = (note or "").strip()[:1000]
    if await over_rate_limit(settings, f"ideas:flag:{reporter['id']}", FLAGS_PER_HOUR, timedelta(hours=1)):
        raise RuleError(N_("You have sent many reports. Please wait a while and try again."))
    async with transaction():
        item, _organisation, _idea = await _target(kind, target_id)
        author_field = "created_by" if kind == "challenge" else "author"
        if item.get(author_field) == reporter["id"]:
            raise RuleError(N_("You cannot report your own post."))
        if item["visibility"] == HIDDEN:
            raise RuleError(N_("This has already been hidden by a moderator."))
        if not await discussion.add_flag(CORE_KINDS[kind], target_id, _subject_of_item(kind, item), reporter["id"],
                                         reason, note):
            raise RuleError(N_("You have already reported this. A moderator will look at it."))


async def moderation_queue(moderator: dict) -> dict:
    """What a moderator has to look at: ideas and comments waiting for pre-moderation, and items
    with open reports, of the organisations they moderate."""
    organisations = await moderated_organisations(moderator)
    if organisations == []:
        raise Denied(N_("Only moderators may see the moderation queue."))

    def scope(query, column):
        return query if organisations is None else query.where(column.is_in(organisations or [-1]))

    pending_ideas = await scope(Idea.select(Idea.id, Idea.title, Idea.body, Idea.created_at,
                                            Idea.author.display_name.as_alias("author_name"),
                                            Idea.author.created_at.as_alias("author_since"), Idea.author).where(
        Idea.visibility == PENDING), Idea.organisation).order_by(Idea.id)
    pending_comments = []
    waiting = await discussion.pending_comments("ideas:")
    ideas = {r["id"]: r for r in await Idea.select(Idea.id, Idea.title, Idea.organisation).where(
        Idea.id.is_in([idea_of(c["subject"]) or -1 for c in waiting] or [-1]))}
    for comment in waiting:
        idea = ideas.get(idea_of(comment["subject"]))
        if idea is None or (organisations is not None and idea["organisation"] not in organisations):
            continue
        pending_comments.append({**comment, "idea": idea["id"], "idea_title": idea["title"]})
    reported = []
    for entry in await discussion.open_flags(list(CORE_KINDS.values())):
        if not entry["subject"].startswith("ideas:"):
            continue  # a comment in another module's discussion
        kind = entry["kind"] = KINDS_OF_CORE[entry["kind"]]
        try:
            item, organisation_id, idea_id = await _target(kind, entry["id"])
        except NotFound:
            continue
        if organisations is not None and organisation_id not in organisations:
            continue
        entry.update({"item": item, "idea_id": idea_id,
                      "title": item.get("title") or plain_summary(item.get("body", ""), 120),
                      "reasons": sorted({f["reason"] for f in entry["flags"]})})
        reported.append(entry)
    return {"pending_ideas": pending_ideas, "pending_comments": pending_comments, "reported": reported}


async def _set_visibility(moderator: dict, kind: str, target_id: int, *, action: str, visibility: str,
                          reason: str = "", note: str = "", allowed_from: tuple[str, ...]) -> dict:
    now = now_utc()
    item, organisation_id, idea_id = await _target(kind, target_id)
    if not await may_moderate(moderator, organisation_id):
        raise Denied(N_("Only moderators of the organisation may moderate this."))
    if item["visibility"] not in allowed_from:
        raise RuleError(N_("This has already been moderated. Please reload the page."))
    table = {"idea": Idea, "comment": Comment, "challenge": Challenge}[kind]
    if not await discussion.set_visibility(table, target_id, was=item["visibility"], visibility=visibility,
                                           reason=reason, note=note, now=now):
        raise RuleError(N_("This has already been moderated. Please reload the page."))
    if kind == "comment" and item["kind"] == "comment":
        if item["visibility"] == VISIBLE and visibility != VISIBLE:
            await Idea.update({Idea.comment_count: Idea.comment_count - 1}).where(Idea.id == idea_id)
        elif item["visibility"] != VISIBLE and visibility == VISIBLE:
            await Idea.update({Idea.comment_count: Idea.comment_count + 1}).where(Idea.id == idea_id)
    await discussion.resolve_flags(CORE_KINDS[kind], target_id, "hidden" if visibility == HIDDEN else "kept", now)
    await discussion.record(CORE_KINDS[kind], target_id, _subject_of_item(kind, item), action,
                            moderator_id=moderator["id"], organisation_id=organisation_id, reason=reason, note=note,
                            now=now)
    await audit(moderator["id"], f"ideas.{action}", organisation_id=organisation_id,
                subject=f"ideas.{kind}:{target_id}", details={"reason": reason})
    if kind == "idea":
        await _reindex_idea(target_id)
    elif kind == "challenge":
        await _reindex_challenge(target_id)
    return item


async def hide(moderator: dict, kind: str, target_id: int, reason: str, note: str = "") -> None:
    """A moderator hides an item for a stated reason; a public placeholder keeps the reason, the
    public moderation log records what, when and why (never who), and the author is told."""
    if reason not in FLAG_REASONS:
        raise RuleError(N_("Choose why this is hidden."), "reason")
    note = (note or "").strip()[:1000]
    async with transaction():
        item = await _set_visibility(moderator, kind, target_id, action="hidden",
                                     visibility=HIDDEN, reason=reason, note=note, allowed_from=(VISIBLE, PENDING))
        await _tell_author(kind, item, N_("A moderator hid your post"),
                           N_("Reason: %(reason)s. You may ask the moderators to look again by replying to the "
                              "notification e-mail."), reason_msgid=FLAG_REASONS[reason])


async def restore(moderator: dict, kind: str, target_id: int, note: str = "") -> None:
    """Undo a hide: the item is public again; the log says so."""
    async with transaction():
        await _set_visibility(moderator, kind, target_id, action="restored", visibility=VISIBLE,
                              note=(note or "").strip()[:1000], allowed_from=(HIDDEN,))


async def approve(moderator: dict, kind: str, target_id: int) -> None:
    """Pre-moderation: a waiting idea or comment is published."""
    async with transaction():
        item = await _set_visibility(moderator, kind, target_id, action="approved", visibility=VISIBLE,
                                     allowed_from=(PENDING,))
        await _tell_author(kind, item, N_("Your post is published"), N_("A moderator has published it."))


async def reject(moderator: dict, kind: str, target_id: int, reason: str, note: str = "") -> None:
    """Pre-moderation: a waiting item is not published, for a stated reason (shown as a placeholder)."""
    if reason not in FLAG_REASONS:
        raise RuleError(N_("Choose why this is hidden."), "reason")
    async with transaction():
        item = await _set_visibility(moderator, kind, target_id, action="rejected", visibility=HIDDEN, reason=reason,
                                     note=(note or "").strip()[:1000], allowed_from=(PENDING,))
        await _tell_author(kind, item, N_("A moderator did not publish your post"), N_("Reason: %(reason)s."),
                           reason_msgid=FLAG_REASONS[reason])


async def dismiss_flags(moderator: dict, kind: str, target_id: int) -> int:
    """The reports are unfounded: they are closed and the item stays."""
    async with transaction():
        _item, organisation_id, _idea = await _target(kind, target_id)
        if not await may_moderate(moderator, organisation_id):
            raise Denied(N_("Only moderators of the organisation may moderate this."))
        return await discussion.resolve_flags(CORE_KINDS[kind], target_id, "kept")


async def _tell_author(kind: str, item: dict, title_msgid: str, body_msgid: str, **params) -> None:
    author = item.get("created_by") if kind == "challenge" else item.get("author")
    if not author:
        return
    idea_id = item["id"] if kind == "idea" else item.get("idea")
    url = f"/ideas/challenges/{item['id']}" if kind == "challenge" else f"/ideas/{idea_id}"
    await tell([author], "ideas.moderation", title_msgid, body_msgid, url, **params)


async def block_account(moderator: dict, user_id: int, reason: str) -> None:
    """A moderator blocks an account that abuses the site: it can no longer sign in or post
    (the core refuses blocked accounts); recorded in the audit log, not the public log."""
    reason = " ".join((reason or "").split())[:500]
    if not await is_moderator_anywhere(moderator):
        raise Denied(N_("Only moderators may block accounts."))
    if not reason:
        raise RuleError(N_("Say why the account is blocked."), "block_reason")
    async with transaction():
        target = await User.select(User.id, User.is_admin, User.session_epoch, User.blocked_reason).where(
            User.id == user_id).first()
        if target is None:
            raise NotFound(N_("This account does not exist."))
        if target["id"] == moderator["id"] or target["is_admin"]:
            raise Denied(N_("This account cannot be blocked here."))
        if await Membership.exists().where(Membership.user == user_id):
            raise Denied(N_("Staff accounts are blocked by a platform administrator, not here."))
        await User.update({User.blocked_reason: reason, User.session_epoch: target["session_epoch"] + 1}).where(
            User.id == user_id)
        await audit(moderator["id"], "ideas.block_account", subject=f"users:{user_id}", details={"reason": reason})


async def unblock_account(moderator: dict, user_id: int) -> None:
    if not await is_moderator_anywhere(moderator):
        raise Denied(N_("Only moderators may block accounts."))
    async with transaction():
        await User.update({User.blocked_reason: None}).where(User.id == user_id)
        await audit(moderator["id"], "ideas.unblock_account", subject=f"users:{user_id}")


async def moderation_log(page: int = 1, per_page: int = 50) -> tuple[list[dict], bool]:
    """The public moderation log: what was hidden or restored, when and why — never by whom."""
    rows, more = await discussion.public_log("ideas:", page, per_page)
    ideas = {r["id"]: r for r in await Idea.select(Idea.id, Idea.title, Idea.visibility).where(
        Idea.id.is_in([idea_of(r["subject"]) or -1 for r in rows] or [-1]))}
    for row in rows:
        row["target_kind"] = KINDS_OF_CORE.get(row["target_kind"], row["target_kind"])
        idea = ideas.get(idea_of(row["subject"]))
        row["idea"] = idea["id"] if idea else None
        row["idea_title"] = idea["title"] if idea else None
        row["idea_visibility"] = idea["visibility"] if idea else None
    return rows, more


# --------------------------------------------------------------------------- challenges


async def create_challenge(actor: dict, *, organisation_id: int | None, territory_id: int | None, title: str,
                           problem: str, success_criteria: str, deadline: date | None, level: str,
                           today: date | None = None) -> int:
    """A department formulates a concrete problem for citizens to solve (the collaboration
    method, report line 1787): context, success criteria, a deadline and the participation level."""
    today = today or almaty_today()
    if organisation_id is None or not await Organisation.exists().where(Organisation.id == organisation_id):
        raise RuleError(N_("Choose the organisation that sets the challenge."), "organisation")
    if not await may_run_challenges(actor, organisation_id):
        raise Denied(N_("Only staff of the organisation may publish its challenges."))
    title = " ".join((title or "").split())
    if not TITLE_LENGTH[0] <= len(title) <= TITLE_LENGTH[1]:
        raise RuleError(N_("Give the challenge a title of %(min)s to %(max)s characters."), "title",
                        min=TITLE_LENGTH[0], max=TITLE_LENGTH[1])
    problem = (problem or "").strip()
    if not BODY_LENGTH[0] <= len(problem) <= BODY_LENGTH[1]:
        raise RuleError(N_("Describe the problem in %(min)s to %(max)s characters."), "problem",
                        min=BODY_LENGTH[0], max=BODY_LENGTH[1])
    success_criteria = (success_criteria or "").strip()
    if not 10 <= len(success_criteria) <= BODY_LENGTH[1]:
        raise RuleError(N_("Say how a good solution will be recognised (at least 10 characters)."),
                        "success_criteria")
    if deadline is None or deadline <= today:
        raise RuleError(N_("The deadline must be a date in the future."), "deadline")
    if level not in LEVELS:
        raise RuleError(N_("Choose the participation level."), "level")
    if territory_id is None:
        territory_id = (await Organisation.select(Organisation.territory).where(
            Organisation.id == organisation_id).first())["territory"]
    elif not await Territory.exists().where(Territory.id == territory_id):
        raise RuleError(N_("Choose the territory from the list."), "territory")
    async with transaction():
        challenge = Challenge(organisation=organisation_id, territory=territory_id, title=title, problem=problem,
                              summary=plain_summary(problem), success_criteria=success_criteria, deadline=deadline,
                              level=level, state=CHALLENGE_OPEN, lang=detect_language(f"{title} {problem}"),
                              created_by=actor["id"], created_at=now_utc())
        await challenge.save()
        await audit(actor["id"], "ideas.challenge", organisation_id=organisation_id,
                    subject=f"ideas.challenge:{challenge.id}")
        await _reindex_challenge(challenge.id)
        return challenge.id


async def get_challenge(challenge_id: int) -> dict | None:
    return await Challenge.select(
        Challenge.all_columns(),
        Challenge.organisation.slug.as_alias("organisation_slug"),
        Challenge.organisation.name_kk.as_alias("organisation_name_kk"),
        Challenge.organisation.name_ru.as_alias("organisation_name_ru"),
        Challenge.organisation.name_en.as_alias("organisation_name_en"),
        Challenge.territory.name_kk.as_alias("territory_name_kk"),
        Challenge.territory.name_ru.as_alias("territory_name_ru"),
        Challenge.territory.name_en.as_alias("territory_name_en"),
    ).where(Challenge.id == challenge_id).first()


async def list_challenges() -> list[dict]:
    rows = await Challenge.select(
        Challenge.id, Challenge.title, Challenge.summary, Challenge.deadline, Challenge.state, Challenge.level,
        Challenge.created_at,
        Challenge.organisation.name_kk.as_alias("organisation_name_kk"),
        Challenge.organisation.name_ru.as_alias("organisation_name_ru"),
        Challenge.organisation.name_en.as_alias("organisation_name_en"),
    ).where(Challenge.visibility == VISIBLE).order_by(Challenge.deadline, ascending=False)
    counts = await Idea.raw(
        "SELECT challenge, COUNT(*) AS n FROM ideas_idea WHERE challenge IS NOT NULL AND visibility = {} "
        "GROUP BY challenge", VISIBLE)
    by_id = {r["challenge"]: r["n"] for r in counts}
    today = almaty_today()
    for row in rows:
        row["idea_count"] = by_id.get(row["id"], 0)
        row["accepting"] = row["state"] == CHALLENGE_OPEN and today <= row["deadline"]
    rows.sort(key=lambda r: (not r["accepting"], r["deadline"] if r["accepting"] else -r["deadline"].toordinal()))
    return rows


async def close_challenge(actor: dict, challenge_id: int) -> None:
    """The department stops taking ideas (also done by the deadline) to assess them."""
    async with transaction():
        challenge = await Challenge.select().where(Challenge.id == challenge_id).first()
        if challenge is None:
            raise NotFound(N_("This challenge does not exist."))
        if not await may_run_challenges(actor, challenge["organisation"]):
            raise Denied(N_("Only staff of the organisation may run its challenges."))
        if challenge["state"] != CHALLENGE_OPEN:
            raise RuleError(N_("This challenge is already closed."))
        await Challenge.update({Challenge.state: CHALLENGE_CLOSED}).where(Challenge.id == challenge_id)
        await _reindex_challenge(challenge_id)


async def shortlist(actor: dict, idea_id: int, on: bool = True, today: date | None = None) -> None:
    """The department shortlists an idea answering its challenge; each shortlisted idea gets an
    official answer from the department through civic.responses (due in 15 working days)."""
    async with transaction():
        idea = await _idea_or_error(idea_id)
        if not idea["challenge"]:
            raise RuleError(N_("Only ideas answering a challenge can be shortlisted."))
        challenge = await Challenge.select().where(Challenge.id == idea["challenge"]).first()
        if not await may_run_challenges(actor, challenge["organisation"]):
            raise Denied(N_("Only staff of the organisation may run its challenges."))
        if challenge["state"] == CHALLENGE_OUTCOME:
            raise RuleError(N_("The outcome of this challenge is already published."))
        if idea["visibility"] != VISIBLE:
            raise RuleError(N_("A hidden or unmoderated idea cannot be shortlisted."))
        if bool(idea["shortlisted"]) == on:
            return
        await Idea.update({Idea.shortlisted: on}).where(Idea.id == idea_id)
        if on:
            open_exists = await OfficialResponse.exists().where(
                (OfficialResponse.subject == f"ideas:{idea_id}")
                & OfficialResponse.state.is_in(list(responses.ResponseState.OPEN)))
            if not open_exists and idea["answered_at"] is None:
                response = await responses.open_response(
                    subject=f"ideas:{idea_id}", subject_kind="ideas.idea", subject_title=idea["title"],
                    subject_url=f"/ideas/{idea_id}", organisation_id=challenge["organisation"],
                    citizen_id=idea["author"], today=today)
                await Idea.update({Idea.response: response.id}).where(Idea.id == idea_id)
            await tell([idea["author"]], "ideas.status", N_("Your idea “%(title)s” is shortlisted"),
                        N_("The department will answer it officially."), f"/ideas/{idea_id}", title=idea["title"])
        await audit(actor["id"], "ideas.shortlist", organisation_id=challenge["organisation"],
                    subject=f"ideas:{idea_id}", details={"shortlisted": on})


async def publish_outcome(actor: dict, challenge_id: int, outcome: str, today: date | None = None) -> None:
    """The department publishes the outcome once the challenge is closed (or its deadline has
    passed) and every shortlisted idea has its answer; every idea's author is told (step 10 of
    the case workflow: inform all participants)."""
    outcome = (outcome or "").strip()
    today = today or almaty_today()
    async with transaction():
        challenge = await Challenge.select().where(Challenge.id == challenge_id).first()
        if challenge is None:
            raise NotFound(N_("This challenge does not exist."))
        if not await may_run_challenges(actor, challenge["organisation"]):
            raise Denied(N_("Only staff of the organisation may run its challenges."))
        if challenge["state"] == CHALLENGE_OUTCOME:
            raise RuleError(N_("The outcome of this challenge is already published."))
        if challenge["state"] == CHALLENGE_OPEN and today <= challenge["deadline"]:
            raise RuleError(N_("Close the challenge or wait for its deadline before publishing the outcome."))
        if len(outcome) < BODY_LENGTH[0]:
            raise RuleError(N_("Describe the outcome in at least %(min)s characters."), "outcome", min=BODY_LENGTH[0])
        unanswered = await Idea.count().where(
            (Idea.challenge == challenge_id) & (Idea.shortlisted == True) & Idea.answered_at.is_null())  # noqa: E712
        if unanswered:
            raise RuleError(N_("Answer every shortlisted idea before publishing the outcome (%(count)s still "
                               "waiting)."), count=unanswered)
        await Challenge.update({Challenge.state: CHALLENGE_OUTCOME, Challenge.outcome: outcome,
                                Challenge.outcome_published_at: now_utc()}).where(Challenge.id == challenge_id)
        authors = await Idea.select(Idea.author).where((Idea.challenge == challenge_id) & (Idea.visibility == VISIBLE))
        await tell(sorted({a["author"] for a in authors} - {actor["id"]}), "ideas.status",
                    N_("The outcome of the challenge “%(title)s” is published"), N_("Thank you for your idea."),
                    f"/ideas/challenges/{challenge_id}", title=challenge["title"])
        await audit(actor["id"], "ideas.outcome", organisation_id=challenge["organisation"],
                    subject=f"ideas.challenge:{challenge_id}")
        await _reindex_challenge(challenge_id)


# --------------------------------------------------------------------------- search


async def _reindex_idea(idea_id: int) -> None:
    """Queue the idea's search document (or its removal) in the current transaction."""
    from search.outbox import record_changed

    from modules.ideas.search import idea_document, public_idea_row

    row = await public_idea_row(idea_id)
    await record_changed(f"ideas:{idea_id}", idea_document(row) if row else None)


async def _reindex_challenge(challenge_id: int) -> None:
    from search.outbox import record_changed

    from modules.ideas.search import challenge_document, public_challenge_row

    row = await public_challenge_row(challenge_id)
    await record_changed(f"ideas:challenge-{challenge_id}", challenge_document(row) if row else None)


# --------------------------------------------------------------------------- open data


async def export_rows() -> list[dict]:
    """Every public idea with its supports, status, response times and implementation progress."""
    ideas = await Idea.select(
        Idea.id, Idea.title, Idea.category, Idea.status, Idea.status_reason, Idea.support_count, Idea.comment_count,
        Idea.cost_estimate, Idea.created_at, Idea.threshold_reached_at, Idea.answered_at, Idea.progress,
        Idea.budget_line, Idea.challenge, Idea.lang,
        Idea.territory.code.as_alias("territory"), Idea.organisation.slug.as_alias("organisation"),
        Idea.department.slug.as_alias("department"),
    ).where(Idea.visibility == VISIBLE).order_by(Idea.id)
    response_rows = await OfficialResponse.select(
        OfficialResponse.subject, OfficialResponse.received_on, OfficialResponse.due_on,
        OfficialResponse.extended_until, OfficialResponse.answered_on, OfficialResponse.state,
    ).where(OfficialResponse.subject.like("ideas:%")).order_by(OfficialResponse.id)
    latest = {r["subject"]: r for r in response_rows}
    from civic.responses.workdays import working_days_between

    out = []
    for idea in ideas:
        response = latest.get(f"ideas:{idea['id']}")
        row = {key: (value.isoformat() if isinstance(value, (datetime, date)) else value)
               for key, value in idea.items()}
        row["url"] = f"/ideas/{idea['id']}"
        row["response_received_on"] = response["received_on"].isoformat() if response else None
        row["response_due_on"] = responses.effective_due(response).isoformat() if response else None
        row["response_answered_on"] = response["answered_on"].isoformat() if response and response[
            "answered_on"] else None
        row["response_working_days"] = (working_days_between(response["received_on"], response["answered_on"])
                                        if response and response["answered_on"] else None)
        row["response_overdue"] = bool(response and response["state"] in responses.ResponseState.OPEN
                                       and responses.effective_due(response) < almaty_today())
        out.append(row)
    return out


EXPORT_FIELDS = ("id", "title", "category", "status", "status_reason", "territory", "organisation", "challenge",
                 "support_count", "comment_count", "cost_estimate", "lang", "created_at", "threshold_reached_at",
                 "response_received_on", "response_due_on", "response_answered_on", "response_working_days",
                 "response_overdue", "answered_at", "department", "budget_line", "progress", "url")


async def personal_data(user_id: int) -> dict:
    """What the ideas module holds about a person, for their data export."""
    def plain(row: dict) -> dict:
        return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in row.items()}

    ideas = await Idea.select(Idea.id, Idea.title, Idea.body, Idea.category, Idea.status, Idea.visibility,
                              Idea.created_at).where(Idea.author == user_id).order_by(Idea.id)
    comments = [{"id": r["id"], "idea": idea_of(r["subject"]), "body": r["body"], "visibility": r["visibility"],
                 "created_at": r["created_at"]} for r in await discussion.comments_of_author(user_id, "ideas:")]
    supported = [{"idea": idea_of(r["subject"]), "created_at": r["created_at"]}
                 for r in await supports.supports_of(user_id, "ideas:")]
    followed = [{"idea": idea_of(r["subject"]), "created_at": r["created_at"]}
                for r in await follows.follows_of(user_id, "ideas:")]
    flags = [{"target_kind": KINDS_OF_CORE[r["target_kind"]], "target_id": r["target_id"], "reason": r["reason"],
              "note": r["note"], "created_at": r["created_at"]}
             for r in await discussion.flags_of_reporter(user_id)
             if r["subject"].startswith("ideas:") and r["target_kind"] in KINDS_OF_CORE]
    return {"ideas": [plain(r) for r in ideas], "idea_comments": [plain(r) for r in comments],
            "idea_supports": [plain(r) for r in supported], "idea_follows": [plain(r) for r in followed],
            "idea_reports": [plain(r) for r in flags]}
