"""The ideas demo's loader: the data is fixtures/ideas.yaml (ideas, challenges, policies, the
rule for the demo residents and their supports); this file turns it into rows.

Idempotent: an idea or a challenge is found by its title and left exactly as it is when it
exists; what is missing is created with everything that belongs to it in one transaction.
It builds on the core demo (civic.demo): its territories, organisations and people. The
threshold supports come from demo residents created here (no password: they cannot sign in)
whose mail is switched off, so loading the demo sends no mail to anyone.

The participation rows (supports, follows, comments, flags) are written by `_write_supports`,
`_write_comments` and `_write_flags` only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from civic.accounts.tables import User
from civic.clock import ALMATY, almaty_today, now_utc
from civic.demo import (
    DEMO_EMAIL_DOMAIN,
    days,
    days_ago,
    email,
    ensure_core_demo,
    fixture,
    organisation_ids,
    territory_ids,
)
from civic.notify.tables import NotificationPreference
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic.runtime import transaction
from civic.settings import Settings
from civic.territory.tables import Territory
from modules.ideas import services
from civic.participation.tables import Comment, Flag, Follow, ModerationEntry, Support
from modules.ideas.tables import (
    Challenge,
    Idea,
    IdeaPolicy,
    IdeaVersion,
    Milestone,
    StatusChange,
)

_FIXTURE = fixture("ideas")
_RESIDENTS = _FIXTURE["residents"]
RESIDENTS: int = _RESIDENTS["count"]
WOMEN: list[str] = _RESIDENTS["names"]["women"]
MEN: list[str] = _RESIDENTS["names"]["men"]
SURNAMES: list[list[str]] = _RESIDENTS["names"]["surnames"]


def _resident_name(n: int) -> str:
    woman = n % 2 == 0
    first = (WOMEN if woman else MEN)[(n * 7) % len(WOMEN if woman else MEN)]
    return f"{first} {SURNAMES[(n * 11) % len(SURNAMES)][1 if woman else 0]}"


def _resident_email(n: int) -> str:
    return email(_RESIDENTS["email"].format(n=n))


def _person(local: str) -> str:
    return email(local)


@dataclass(frozen=True)
class DemoComment:
    author: str  # e-mail (local part), or "resident:N"
    body: str
    days_ago: float
    replies: tuple[DemoComment, ...] = ()


@dataclass(frozen=True)
class DemoMilestone:
    title: str
    due_days: int  # from today, negative in the past
    done_days: int | None
    progress: int


@dataclass(frozen=True)
class DemoIdea:
    title: str
    body: str
    territory: str  # territory code
    category: str
    author: str  # e-mail (local part), or "resident:N"
    days_ago: int
    supports: int
    cost: int | None = None
    comments: tuple[DemoComment, ...] = ()
    # "answered": threshold reached, answered within the term; "overdue": threshold reached, no answer yet
    response: str = ""
    answer: str = ""
    answered_by: str = ""
    statuses: tuple[tuple[str, str, str], ...] = ()  # (status, reason, official) after the answer
    department: str = ""
    budget_line: str = ""
    progress: int = 0
    milestones: tuple[DemoMilestone, ...] = ()
    challenge: str = ""  # challenge title
    shortlisted: bool = False
    hidden: tuple[str, str] | None = None  # (reason, note)
    flags: tuple[tuple[str, str], ...] = ()  # (reporter, reason) on the first comment
    earlier_body: str = ""  # a version kept after an edit made once people supported it


@dataclass(frozen=True)
class DemoChallenge:
    title: str
    organisation: str
    territory: str
    problem: str
    success_criteria: str
    level: str
    created_days_ago: int
    deadline_days: int  # from today
    official: str
    outcome: str = ""


def _comment(r: dict) -> DemoComment:
    return DemoComment(r["by"], r["body"], days_ago(r["at"]), tuple(_comment(c) for c in r.get("replies", ())))


def _idea_spec(r: dict) -> DemoIdea:
    answer = r.get("answer") or {}
    implementation = r.get("implementation") or {}
    hidden = r.get("hidden")
    return DemoIdea(
        title=r["title"], body=r["body"], territory=r["territory"], category=r["category"], author=r["author"],
        days_ago=days_ago(r["created"]), supports=r.get("supports", 0), cost=r.get("cost"),
        comments=tuple(_comment(c) for c in r.get("comments", ())), response=r.get("response", ""),
        answer=answer.get("text", ""), answered_by=answer.get("by", ""),
        statuses=tuple((s["status"], s["reason"], s["by"]) for s in r.get("statuses", ())),
        department=implementation.get("department", ""), budget_line=implementation.get("budget_line", ""),
        progress=implementation.get("progress", 0),
        milestones=tuple(DemoMilestone(m["title"], round(days(m["due"])),
                                       round(days(m["done"])) if "done" in m else None, m["progress"])
                         for m in implementation.get("milestones", ())),
        challenge=r.get("challenge", ""), shortlisted=r.get("shortlisted", False),
        hidden=(hidden["reason"], hidden["note"]) if hidden else None,
        flags=tuple((f["by"], f["reason"]) for f in r.get("flags", ())), earlier_body=r.get("earlier_body", ""))


def _challenge_spec(r: dict) -> DemoChallenge:
    return DemoChallenge(
        title=r["title"], organisation=r["organisation"], territory=r["territory"], problem=r["problem"],
        success_criteria=r["success_criteria"], level=r["level"], created_days_ago=days_ago(r["created"]),
        deadline_days=round(days(r["deadline"])), official=r["by"], outcome=r.get("outcome", ""))


CHALLENGES: tuple[DemoChallenge, ...] = tuple(_challenge_spec(r) for r in _FIXTURE["challenges"])
IDEAS: tuple[DemoIdea, ...] = tuple(_idea_spec(r) for r in _FIXTURE["ideas"])
#: Ideas in an Aral okrug, where the district akimat moderates before publishing.
PENDING: tuple[DemoIdea, ...] = tuple(_idea_spec(r) for r in _FIXTURE.get("pending", ()))
PENDING_IDEA = PENDING[0]


# ------------------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return now_utc()


def _at(days_ago: float) -> datetime:
    return _now() - timedelta(days=days_ago)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ALMATY).date()


class People:
    def __init__(self, ids: dict[str, int]):
        self.ids = ids

    def __call__(self, who: str) -> int:
        if who.startswith("resident:"):
            return self.ids[_resident_email(int(who.split(":")[1]))]
        return self.ids[_person(who)]


async def _residents(progress: Callable[[str], None]) -> None:
    """Demo residents who support ideas (no password: nobody signs in as them; mail off)."""
    emails = [_resident_email(n) for n in range(1, RESIDENTS + 1)]
    existing = {r["email"] for r in await User.select(User.email).where(User.email.is_in(emails))}
    missing = [n for n in range(1, RESIDENTS + 1) if _resident_email(n) not in existing]
    if not missing:
        return
    progress(f"Demo ideas: {len(missing)} demo residents…")
    districts = await Territory.select(Territory.id).where(Territory.path.like("/kz/almaty/%"))
    rng = random.Random(_RESIDENTS["seed"])
    created = _at(days_ago(_RESIDENTS["created"]))
    async with transaction():
        for n in missing:
            user = User(email=_resident_email(n), display_name=_resident_name(n), password_hash=None,
                        language="ru" if n % 3 == 0 else "kk", residence=rng.choice(districts)["id"],
                        verification=1, created_at=created)
            await user.save()
            for topic in ("ideas", "response"):
                await NotificationPreference.insert(NotificationPreference(
                    user=user.id, kind=topic, delivery="off")).on_conflict(action="DO NOTHING")


async def _policies(organisations: dict[str, int]) -> None:
    for rule in _FIXTURE.get("policies", ()):
        if rule["organisation"] in organisations:
            await IdeaPolicy.insert(IdeaPolicy(organisation=organisations[rule["organisation"]],
                                               moderation=rule["moderation"],
                                               support_threshold=rule["support_threshold"])).on_conflict(
                action="DO NOTHING")


async def _challenge(spec: DemoChallenge, people: People, organisations: dict, territories: dict) -> int:
    existing = await Challenge.select(Challenge.id).where(Challenge.title == spec.title).first()
    if existing:
        return existing["id"]
    today = almaty_today()
    async with transaction():
        challenge = Challenge(
            organisation=organisations[spec.organisation], territory=territories[spec.territory], title=spec.title,
            problem=spec.problem, summary=services.plain_summary(spec.problem), success_criteria=spec.success_criteria,
            deadline=today + timedelta(days=spec.deadline_days), level=spec.level,
            state=services.CHALLENGE_OPEN, lang=services.detect_language(spec.title + spec.problem),
            created_by=people(spec.official), created_at=_at(spec.created_days_ago))
        await challenge.save()
        await services._reindex_challenge(challenge.id)
        return challenge.id


async def _publish_outcomes(people: People) -> None:
    for spec in CHALLENGES:
        if not spec.outcome:
            continue
        row = await Challenge.select().where(Challenge.title == spec.title).first()
        if row and row["state"] != services.CHALLENGE_OUTCOME:
            actor = await User.select().where(User.id == people(spec.official)).first()
            await services.publish_outcome(actor, row["id"], spec.outcome)
            await Challenge.update({Challenge.outcome_published_at: _at(-spec.deadline_days - 10)}).where(
                Challenge.id == row["id"])


async def _write_supports(idea_id: int, author_id: int, created: datetime, supporters: list[int],
                          moments: list[datetime]) -> None:
    """The author follows the idea; each supporter supports it (and so follows it) at their moment."""
    subject = f"ideas:{idea_id}"
    await Follow.insert(Follow(subject=subject, user=author_id, created_at=created))
    for user_id, moment in zip(supporters, moments):
        await Support.insert(Support(subject=subject, user=user_id, created_at=moment))
        await Follow.insert(Follow(subject=subject, user=user_id, created_at=moment)).on_conflict(action="DO NOTHING")


async def _write_comments(idea_id: int, comments: tuple[DemoComment, ...], people: People,
                          parent: int | None = None) -> int:
    """The discussion, replies under their comment; returns how many comments were written."""
    count = 0
    for spec in comments:
        comment = Comment(subject=f"ideas:{idea_id}", parent=parent, author=people(spec.author), kind="comment", body=spec.body,
                          visibility="visible", created_at=_at(spec.days_ago))
        await comment.save()
        count += 1 + await _write_comments(idea_id, spec.replies, people, comment.id)
    return count


async def _write_flags(idea_id: int, flags: tuple[tuple[str, str], ...], people: People, at: datetime) -> None:
    """Reports on the idea's first comment."""
    subject = f"ideas:{idea_id}"
    first = await Comment.select(Comment.id).where(Comment.subject == subject).order_by(Comment.id).first()
    for reporter, reason in flags:
        await Flag(target_kind="comment", target_id=first["id"], subject=subject, reporter=people(reporter),
                   reason=reason, created_at=at).save()


async def _idea(spec: DemoIdea, people: People, organisations: dict, territories: dict, challenges: dict,
                resident_ids: list[int]) -> bool:
    if await Idea.exists().where(Idea.title == spec.title):
        return False
    created = _at(spec.days_ago)
    territory_id = territories[spec.territory]
    challenge_id = challenges.get(spec.challenge)
    if challenge_id:
        organisation_id = (await Challenge.select(Challenge.organisation).where(Challenge.id == challenge_id).first())[
            "organisation"]
    else:
        organisation_id = await services.organisation_for_territory(territory_id)
    policy = await services.policy_for(organisation_id)
    author_id = people(spec.author)
    rng = random.Random(spec.title)
    supporters = [r for r in resident_ids if r != author_id]
    rng.shuffle(supporters)
    supporters = supporters[:spec.supports]
    # supports come fast in the first days, then slow down; an idea that reached its threshold got
    # its supports in the first third of its life, so its answer (or missed deadline) is in the past
    span = max(spec.days_ago - 1, 1) * (0.35 if spec.response else 1.0)
    moments = sorted(created + timedelta(days=span * (rng.random() ** 2.2)) for _ in supporters)

    async with transaction():
        visibility = "pending" if policy["moderation"] == "pre" else "visible"
        idea = Idea(title=spec.title, body=spec.body, summary=services.plain_summary(spec.body),
                    category=spec.category, territory=territory_id, organisation=organisation_id, author=author_id,
                    challenge=challenge_id, cost_estimate=spec.cost,
                    lang=services.detect_language(spec.title + spec.body),
                    status="published", visibility=visibility, created_at=created, updated_at=created,
                    status_changed_at=created, shortlisted=spec.shortlisted,
                    support_count=len(supporters),
                    trend_score=sum(services.trend_weight(m) for m in moments))
        await idea.save()
        await StatusChange(idea=idea.id, old_status="", new_status="published", actor=author_id,
                           created_at=created).save()
        await _write_supports(idea.id, author_id, created, supporters, moments)
        comment_count = await _write_comments(idea.id, spec.comments, people)
        await Idea.update({Idea.comment_count: comment_count}).where(Idea.id == idea.id)
        if spec.earlier_body:
            await IdeaVersion(idea=idea.id, version=1, title=spec.title, body=spec.earlier_body,
                              category=spec.category, replaced_at=created + timedelta(days=2)).save()
            await Idea.update({Idea.version: 2}).where(Idea.id == idea.id)
        if spec.flags:
            await _write_flags(idea.id, spec.flags, people, _at(spec.days_ago - 1))
        if spec.hidden:
            reason, note = spec.hidden
            hidden_at = created + timedelta(hours=3)
            moderator = people("olga.moderator")
            await Idea.update({Idea.visibility: "hidden", Idea.hidden_reason: reason, Idea.hidden_note: note,
                               Idea.hidden_at: hidden_at}).where(Idea.id == idea.id)
            await ModerationEntry(target_kind="ideas.idea", target_id=idea.id, subject=f"ideas:{idea.id}",
                                  action="hidden", reason=reason,
                                  note=note, moderator=moderator, organisation=organisation_id,
                                  created_at=hidden_at).save()

        if spec.response and len(moments) >= policy["support_threshold"] or spec.shortlisted:
            reached = moments[policy["support_threshold"] - 1] if len(moments) >= policy["support_threshold"] \
                else created + timedelta(days=10)
            received_on = _local_day(reached)
            response = await responses.open_response(
                subject=f"ideas:{idea.id}", subject_kind="ideas.idea", subject_title=spec.title,
                subject_url=f"/ideas/{idea.id}", organisation_id=organisation_id, citizen_id=author_id,
                today=received_on)
            changes = {Idea.response: response.id}
            if not spec.shortlisted:
                changes.update({Idea.threshold_reached_at: reached, Idea.status: "under_review",
                                Idea.status_changed_at: reached})
                await StatusChange(idea=idea.id, old_status="published", new_status="under_review", actor=None,
                                   created_at=reached).save()
            await Idea.update(changes).where(Idea.id == idea.id)
            if spec.response == "answered":
                official = people(spec.answered_by)
                answered_on = responses.add_working_days(received_on, 9)
                await responses.acknowledge(response.id, actor_id=official, specialist_id=official)
                await responses.answer(response.id, actor_id=official, text=spec.answer, public=True,
                                       today=answered_on)
                answered_at = datetime.combine(answered_on, time(11, 30), tzinfo=ALMATY)
                await OfficialResponse.update({
                    OfficialResponse.answered_at: answered_at,
                    OfficialResponse.acknowledged_at: answered_at - timedelta(days=5),
                }).where(OfficialResponse.id == response.id)
                await Idea.update({Idea.answered_at: answered_at}).where(Idea.id == idea.id)
                await Comment.update({Comment.created_at: answered_at}).where(
                    (Comment.subject == f"ideas:{idea.id}") & (Comment.kind == "answer"))
                moment = answered_at
                for status, reason, who in spec.statuses:
                    moment = moment + timedelta(days=7)
                    old = (await Idea.select(Idea.status).where(Idea.id == idea.id).first())["status"]
                    await Idea.update({Idea.status: status, Idea.status_reason: reason,
                                       Idea.status_changed_at: moment}).where(Idea.id == idea.id)
                    await StatusChange(idea=idea.id, old_status=old, new_status=status, reason=reason,
                                       actor=people(who), created_at=min(moment, _now())).save()
        elif spec.statuses:
            moment = created
            for status, reason, who in spec.statuses:
                moment = moment + timedelta(days=10)
                old = (await Idea.select(Idea.status).where(Idea.id == idea.id).first())["status"]
                await Idea.update({Idea.status: status, Idea.status_reason: reason,
                                   Idea.status_changed_at: moment}).where(Idea.id == idea.id)
                await StatusChange(idea=idea.id, old_status=old, new_status=status, reason=reason, actor=people(who),
                                   created_at=moment).save()
        if spec.department:
            await Idea.update({Idea.department: organisations[spec.department], Idea.budget_line: spec.budget_line,
                               Idea.progress: spec.progress}).where(Idea.id == idea.id)
            today = almaty_today()
            for m in spec.milestones:
                await Milestone(idea=idea.id, title=m.title, due_on=today + timedelta(days=m.due_days),
                                done_on=today + timedelta(days=m.done_days) if m.done_days is not None else None,
                                progress=m.progress, created_at=created).save()
        await services._reindex_idea(idea.id)
    return True


async def load_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the ideas demo (idempotent); returns how many ideas and challenges were created."""
    def step(message: str) -> None:
        if progress:
            progress(message)

    await ensure_core_demo(settings, progress)
    organisations = await organisation_ids()
    territories = await territory_ids()
    await _residents(step)
    await _policies(organisations)
    emails = [_resident_email(n) for n in range(1, RESIDENTS + 1)]
    rows = await User.select(User.id, User.email).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
    people = People({r["email"]: r["id"] for r in rows})
    resident_ids = [people.ids[e] for e in emails]

    step("Demo ideas: challenges…")
    challenges = {}
    for spec in CHALLENGES:
        challenges[spec.title] = await _challenge(spec, people, organisations, territories)
    created = 0
    for n, spec in enumerate((*IDEAS, *PENDING), start=1):
        step(f"Demo ideas: {n} of {len(IDEAS) + len(PENDING)}…")
        created += await _idea(spec, people, organisations, territories, challenges, resident_ids)
    await _publish_outcomes(people)
    step(f"Demo ideas: {created} ideas created")
    return {"ideas": created, "challenges": len(challenges)}
