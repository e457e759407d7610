"""The rules of official answers to citizens, shared by every module.

DOMAIN.md §5 and the Administrative Procedural Code of Kazakhstan, art. 76:

* a body answers within **15 working days** of registration (:data:`DEFAULT_WORKING_DAYS`);
* an appeal outside its competence is forwarded within **3 working days**
  (:data:`FORWARD_WINDOW_WORKING_DAYS`), and the term still counts from registration;
* the term may be extended **once**, by **at most 2 calendar months**
  (:data:`MAX_EXTENSION_MONTHS`), and the applicant is told;
* evasive answers and missed deadlines are escalated to the body's head (Open Almaty);
* the report's recommendation 6: a formal acknowledgement naming the body and the specialist,
  a substantive answer, an invitation to further discussion.

A module opens a response for one of its records (``subject`` "ideas:42"), officials move it
along with the functions below, and the module hears about the answer, a forward and the
closing through the hooks of its manifest (``CivicModule.hooks``), which the composition root
installs here with :func:`set_module_hooks`. Every mutating function runs in one write transaction and
re-reads the row inside it; state changes are conditional on the state read, so two officials
acting at once cannot both succeed. Rule violations raise :class:`civic.rules.RuleError` (or
``Denied``, ``NotFound``) with an English msgid that the caller translates.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime

from babel.dates import format_date

from civic.accounts.tables import AuditEntry, Membership, Role, User
from civic.clock import ALMATY, almaty_today, now_utc  # noqa: F401 - modules read the engine's calendar here too
from civic.i18n.runtime import N_, translator
from civic.notify.services import notify
from civic.permissions import Action, may
from civic.responses.tables import OfficialResponse, ResponseEvent, ResponseState
from civic.responses.workdays import add_calendar_months, add_working_days, working_days_between
from civic.rules import Denied, NotFound, RuleError
from civic.runtime import current_engine, transaction
from civic.territory.tables import Organisation

DEFAULT_WORKING_DAYS = 15  # APC art. 76: the term of an answer
FORWARD_WINDOW_WORKING_DAYS = 3  # APC art. 76: forwarding outside competence
MAX_EXTENSION_MONTHS = 2  # APC art. 76: one extension of at most 2 months
AMBER_WORKING_DAYS = 3  # traffic light (seed 004): amber this many working days before due
LOW_RATING = 2  # a rating at or below this escalates to the head (evasive answer)


# Event kinds (ResponseEvent.kind, at most 20 characters)
EVENT_RECEIVED = "received"
EVENT_ACKNOWLEDGED = "acknowledged"
EVENT_IN_PROGRESS = "in_progress"
EVENT_FORWARDED = "forwarded"
EVENT_EXTENDED = "extended"
EVENT_ANSWERED = "answered"
EVENT_RATED = "rated"
EVENT_ESCALATED = "escalated"
EVENT_CLOSED = "closed"
#: Shown to staff only: what the head is told, and the citizen's private rating.
PRIVATE_EVENT_KINDS = frozenset({EVENT_ESCALATED, EVENT_RATED})
#: Shown publicly without their note (internal routing notes).
NOTE_HIDDEN_EVENT_KINDS = frozenset({EVENT_FORWARDED})

AnswerHook = Callable[[OfficialResponse], Awaitable[None]]
# The registries, keyed by module slug (the subject's prefix); filled by the composition root
# from the enabled manifests (set_module_hooks), never by a module itself.
_answer_hooks: dict[str, list[AnswerHook]] = {}
_forward_hooks: dict[str, list[AnswerHook]] = {}
_close_hooks: dict[str, list[AnswerHook]] = {}


#: The refusals of the engine are the core's one family; the old name stays for callers not moved yet.
ResponseRuleError = RuleError


# --------------------------------------------------------------------------- helpers


def _get(response, name: str):
    return response[name] if isinstance(response, dict) else getattr(response, name)


def effective_due(response) -> date:
    """The due date in force: the extended date when there is one."""
    return _get(response, "extended_until") or _get(response, "due_on")


def _translator(language: str):
    return translator(language or "kk")


def _format_date(day: date, language: str) -> str:
    try:
        return format_date(day, format="long", locale=language or "kk")
    except Exception:  # an unknown locale must not stop a notification
        return day.isoformat()


def _name(record: dict | None, language: str) -> str:
    if not record:
        return ""
    for code in (language, "kk", "ru", "en"):
        value = record.get(f"name_{code}")
        if value:
            return value
    return ""


async def _load(response_id: int) -> OfficialResponse:
    response = await OfficialResponse.objects().where(OfficialResponse.id == response_id).first()
    if response is None:
        raise NotFound("This response does not exist.")
    return response


async def _transition(response: OfficialResponse, values: dict, *, expect: dict | None = None) -> None:
    """Update the row only if its state (and ``expect`` columns) are still what we read."""
    where = (OfficialResponse.id == response.id) & (OfficialResponse.state == response.state)
    for column, value in (expect or {}).items():
        where = where & (column.is_null() if value is None else column == value)
    changed = await OfficialResponse.update(values).where(where).returning(OfficialResponse.id)
    if not changed:
        raise RuleError("Someone else changed this response at the same time. Please reload and try again.")
    for column, value in values.items():
        setattr(response, column._meta.name, value)


async def _event(response_id: int, kind: str, *, actor_id=None, organisation_id=None, note: str = "") -> None:
    await ResponseEvent(
        response=response_id, kind=kind, actor=actor_id, organisation=organisation_id, note=note or ""
    ).save()


async def _audit(actor_id, organisation_id, action: str, response_id: int, **details) -> None:
    await AuditEntry(
        actor=actor_id,
        organisation=organisation_id,
        action=action,
        subject=f"responses:{response_id}",
        details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items()},
    ).save()


#: Membership roles whose holders act on a body's responses (its staff).
STAFF_ROLES = (Role.OFFICIAL, Role.ADMINISTRATOR)


#: Acting on a body's responses: its officials and administrators, or those of a body above it
#: (civic.permissions), and site administrators; never a deleted or blocked account, and never a
#: member in another role (a jury member or moderator is not the body's staff).
ACT = Action("responses.act", roles=STAFF_ROLES, message=N_("You are not allowed to act on this response."))


async def may_act(user_id: int | None, organisation_id: int) -> bool:
    """The person with this id may act on the responses held by this body (:data:`ACT`)."""
    if not user_id:
        return False
    user = await User.select(User.id, User.is_admin, User.deleted_at, User.blocked_reason).where(
        User.id == user_id).first()
    return await may(user, ACT, organisation_id)


async def _require_official(actor_id: int, organisation_id: int) -> None:
    if not await may_act(actor_id, organisation_id):
        raise Denied(ACT.message)


def _require_open(response: OfficialResponse) -> None:
    if response.state not in ResponseState.OPEN:
        raise RuleError("This response is already answered or closed.")


async def _citizen(response: OfficialResponse) -> dict | None:
    if not response.citizen:
        return None
    return await User.select(User.id, User.language, User.display_name).where(User.id == response.citizen).first()


async def _organisation_row(organisation_id: int) -> dict | None:
    return await Organisation.select(
        Organisation.id, Organisation.name_kk, Organisation.name_ru, Organisation.name_en, Organisation.parent
    ).where(Organisation.id == organisation_id).first()


async def _notify_citizen(response: OfficialResponse, kind: str, title_msgid: str, body_msgid: str, **params) -> None:
    citizen = await _citizen(response)
    if citizen is None:
        return
    language = citizen["language"]
    t = _translator(language)
    organisation = await _organisation_row(response.organisation)
    values = {
        "title": response.subject_title,
        "organisation": _name(organisation, language),
        **{k: (_format_date(v, language) if isinstance(v, date) else v) for k, v in params.items()},
    }
    await notify(
        citizen["id"], kind, t.gettext(title_msgid) % values, t.gettext(body_msgid) % values, response.subject_url
    )


async def heads_of(organisation_id: int) -> list[int]:
    """Users with the administrator role in the organisation (its head); when it has none,
    those of its parent akimat."""
    heads = await Membership.select(Membership.user).where(
        (Membership.organisation == organisation_id) & (Membership.role == Role.ADMINISTRATOR)
    )
    if not heads:
        organisation = await _organisation_row(organisation_id)
        if organisation and organisation["parent"]:
            heads = await Membership.select(Membership.user).where(
                (Membership.organisation == organisation["parent"]) & (Membership.role == Role.ADMINISTRATOR)
            )
    return sorted({row["user"] for row in heads})


async def _escalate(response: OfficialResponse, reason: str, now: datetime, *, once: bool = False) -> bool:
    """Record the escalation and tell the head(s) of the body (Open Almaty: evasive or late
    answers go to the head). Runs inside the caller's transaction. With ``once`` nothing
    happens (False) when the response is already escalated, even by a concurrent run."""
    where = OfficialResponse.id == response.id
    if once:
        where = where & OfficialResponse.escalated_at.is_null()
    changed = await OfficialResponse.update(
        {OfficialResponse.escalated_at: now, OfficialResponse.escalation_reason: reason}
    ).where(where).returning(OfficialResponse.id)
    if not changed:
        return False
    response.escalated_at, response.escalation_reason = now, reason
    await _event(response.id, EVENT_ESCALATED, organisation_id=response.organisation, note=reason)
    await _audit(None, response.organisation, "response.escalate", response.id, reason=reason)
    title_msgid = (
        N_("Overdue: “%(title)s” was due on %(due)s")
        if reason == "overdue"
        else N_("Low rating: the citizen is not satisfied with the answer to “%(title)s”")
    )
    body_msgid = N_("The response is escalated to you as the head of %(organisation)s.")
    for head_id in await heads_of(response.organisation):
        head = await User.select(User.language).where(User.id == head_id).first()
        language = head["language"] if head else "kk"
        t = _translator(language)
        organisation = await _organisation_row(response.organisation)
        values = {
            "title": response.subject_title,
            "due": _format_date(effective_due(response), language),
            "organisation": _name(organisation, language),
        }
        await notify(
            head_id,
            "response.escalated",
            t.gettext(title_msgid) % values,
            t.gettext(body_msgid) % values,
            response.subject_url,
        )
    return True


# --------------------------------------------------------------------------- answer hooks


def register_answer_hook(module_slug: str, callback: AnswerHook) -> None:
    """Call ``callback(response)`` when a response whose subject starts with
    ``f"{module_slug}:"`` is answered (inside the answer's transaction: if it raises, the
    answer is not saved). Modules declare theirs in their manifest (``Hooks(answer=...)``), e.g.
    to notify supporters and signers; the composition root installs them."""
    hooks = _answer_hooks.setdefault(module_slug, [])
    if callback not in hooks:
        hooks.append(callback)


def unregister_answer_hook(module_slug: str, callback: AnswerHook) -> None:
    hooks = _answer_hooks.get(module_slug, [])
    if callback in hooks:
        hooks.remove(callback)


def register_forward_hook(module_slug: str, callback: AnswerHook) -> None:
    """Call ``callback(response)`` when a response of the module's subjects is forwarded to
    another body (inside the forward's transaction), e.g. to re-index a record that names the
    body holding it."""
    hooks = _forward_hooks.setdefault(module_slug, [])
    if callback not in hooks:
        hooks.append(callback)


def register_close_hook(module_slug: str, callback: AnswerHook) -> None:
    """Call ``callback(response)`` when an answered response of the module's subjects is closed
    (inside the closing's transaction)."""
    hooks = _close_hooks.setdefault(module_slug, [])
    if callback not in hooks:
        hooks.append(callback)


def set_module_hooks(module_slug: str, *, answer: AnswerHook | None = None, forward: AnswerHook | None = None,
                     close: AnswerHook | None = None) -> None:
    """The module's hooks as its manifest declares them, replacing what was set for it before
    (the composition root calls this for every enabled module when it builds the app)."""
    for registry, hook in ((_answer_hooks, answer), (_forward_hooks, forward), (_close_hooks, close)):
        registry.pop(module_slug, None)
        if hook is not None:
            registry[module_slug] = [hook]


def module_hooks(module_slug: str) -> dict[str, list[AnswerHook]]:
    """The hooks installed for a module, by event (for tests and the admin listing)."""
    return {"answer": list(_answer_hooks.get(module_slug, ())), "forward": list(_forward_hooks.get(module_slug, ())),
            "close": list(_close_hooks.get(module_slug, ()))}


# --------------------------------------------------------------------------- life cycle


async def open_response(
    *,
    subject: str,
    subject_kind: str,
    subject_title: str,
    subject_url: str,
    organisation_id: int,
    citizen_id: int | None = None,
    working_days: int = DEFAULT_WORKING_DAYS,
    subject_is_public: bool = True,
    today: date | None = None,
) -> OfficialResponse:
    """Register a request for an answer (APC art. 76: the term counts from registration).

    Due ``working_days`` Kazakh working days after today (Asia/Almaty). One open response per
    subject: while one is open, another is refused (:class:`civic.rules.RuleError`). The citizen
    is told at once which body has the request and by when it answers (recommendation 6;
    :func:`acknowledge` later names the specialist).
    """
    if ":" not in subject:
        raise ValueError("subject must look like 'module:id'")
    if not isinstance(working_days, int) or working_days < 1:
        raise ValueError("working_days must be a positive whole number")
    received_on = today or almaty_today()
    async with transaction():
        if getattr(current_engine(), "engine_type", "") == "postgres":
            # Serialise openers of the same subject (SQLite's immediate transaction already
            # does): otherwise two concurrent calls both see none open and both insert.
            await OfficialResponse.raw("SELECT pg_advisory_xact_lock(hashtext({}))", subject)
        if await OfficialResponse.exists().where(
            (OfficialResponse.subject == subject) & OfficialResponse.state.is_in(list(ResponseState.OPEN))
        ):
            raise RuleError("An answer to this is already being prepared.")
        response = OfficialResponse(
            subject=subject,
            subject_kind=subject_kind,
            subject_title=subject_title[:300],
            subject_url=subject_url[:300],
            subject_is_public=subject_is_public,
            organisation=organisation_id,
            citizen=citizen_id,
            state=ResponseState.RECEIVED,
            received_on=received_on,
            due_on=add_working_days(received_on, working_days),
            working_days=working_days,
        )
        await response.save()
        await _event(response.id, EVENT_RECEIVED, actor_id=citizen_id, organisation_id=organisation_id)
        await _notify_citizen(
            response,
            "response.received",
            N_("%(organisation)s has received “%(title)s”"),
            N_("Your request is registered with %(organisation)s, which will answer by %(due)s. "
               "You will be told which specialist is handling it."),
            due=response.due_on,
        )
        return response


async def acknowledge(response_id: int, *, actor_id: int, specialist_id: int) -> OfficialResponse:
    """Acknowledge receipt and assign a specialist; the citizen is told which body and which
    specialist has the request (recommendation 6 of the report)."""
    async with transaction():
        response = await _load(response_id)
        if response.state not in (ResponseState.RECEIVED, ResponseState.FORWARDED, ResponseState.ACKNOWLEDGED):
            raise RuleError("This response can no longer be acknowledged.")
        await _require_official(actor_id, response.organisation)
        specialist = await User.select(User.display_name).where(User.id == specialist_id).first()
        if specialist is None:
            raise RuleError("The specialist does not exist.")
        if not await may_act(specialist_id, response.organisation):
            raise RuleError("The specialist must be an official of the organisation.")
        await _transition(
            response,
            {
                OfficialResponse.state: ResponseState.ACKNOWLEDGED,
                OfficialResponse.specialist: specialist_id,
                OfficialResponse.acknowledged_at: now_utc(),
            },
        )
        await _event(response.id, EVENT_ACKNOWLEDGED, actor_id=actor_id, organisation_id=response.organisation)
        await _audit(actor_id, response.organisation, "response.acknowledge", response.id, specialist=specialist_id)
        await _notify_citizen(
            response,
            "response.acknowledged",
            N_("%(organisation)s has received “%(title)s”"),
            N_("%(specialist)s of %(organisation)s is handling your request and will answer by %(due)s. "
               "You are welcome to add details or ask for a meeting on the page."),
            specialist=specialist["display_name"],
            due=effective_due(response),
        )
        return response


async def start_work(response_id: int, *, actor_id: int) -> OfficialResponse:
    """The specialist starts working on the request."""
    async with transaction():
        response = await _load(response_id)
        if response.state not in (ResponseState.RECEIVED, ResponseState.ACKNOWLEDGED, ResponseState.FORWARDED):
            raise RuleError("Work on this response has already started or it is finished.")
        await _require_official(actor_id, response.organisation)
        values = {OfficialResponse.state: ResponseState.IN_PROGRESS}
        if not response.specialist:
            values[OfficialResponse.specialist] = actor_id
        await _transition(response, values)
        await _event(response.id, EVENT_IN_PROGRESS, actor_id=actor_id, organisation_id=response.organisation)
        await _audit(actor_id, response.organisation, "response.start_work", response.id)
        return response


async def forward(
    response_id: int, *, actor_id: int, to_organisation_id: int, note: str = "", today: date | None = None
) -> OfficialResponse:
    """Forward a request outside the body's competence (APC art. 76): only within
    3 working days of receipt, never to the same body; the due date does not restart."""
    today = today or almaty_today()
    async with transaction():
        response = await _load(response_id)
        if response.state not in (
            ResponseState.RECEIVED,
            ResponseState.ACKNOWLEDGED,
            ResponseState.IN_PROGRESS,
            ResponseState.FORWARDED,
        ):
            raise RuleError("This response can no longer be forwarded.")
        await _require_official(actor_id, response.organisation)
        if to_organisation_id == response.organisation:
            raise RuleError("A response cannot be forwarded to the organisation that already holds it.")
        if not await Organisation.exists().where(Organisation.id == to_organisation_id):
            raise RuleError("The organisation does not exist.")
        elapsed = working_days_between(response.received_on, today)
        if elapsed > FORWARD_WINDOW_WORKING_DAYS:
            raise RuleError(
                "A request can be forwarded only within %(days)d working days of receipt.",
                days=FORWARD_WINDOW_WORKING_DAYS,
            )
        from_organisation = response.organisation
        await _transition(
            response,
            {
                OfficialResponse.state: ResponseState.FORWARDED,
                OfficialResponse.organisation: to_organisation_id,
                OfficialResponse.specialist: None,
                OfficialResponse.forward_count: response.forward_count + 1,
            },
        )
        await _event(response.id, EVENT_FORWARDED, actor_id=actor_id, organisation_id=from_organisation, note=note)
        await _audit(
            actor_id, from_organisation, "response.forward", response.id, to_organisation=to_organisation_id, note=note
        )
        await _notify_citizen(
            response,
            "response.forwarded",
            N_("“%(title)s” was forwarded to %(organisation)s"),
            N_("It is the competent body for your request. The answer is still due by %(due)s."),
            due=effective_due(response),
        )
        for hook in list(_forward_hooks.get(response.subject.split(":", 1)[0], ())):
            await hook(response)
        return response


async def extend(
    response_id: int, *, actor_id: int, new_due_on: date, reason: str, today: date | None = None
) -> OfficialResponse:
    """Extend the term once (APC art. 76): a reason is required, the new date falls after
    the current due date and at most 2 calendar months after the original one, and it is
    decided while the term runs (not after the due date has passed, which would hide a
    missed deadline); the citizen is told at once."""
    reason = (reason or "").strip()
    today = today or almaty_today()
    async with transaction():
        response = await _load(response_id)
        _require_open(response)
        await _require_official(actor_id, response.organisation)
        if response.extended_until is not None:
            raise RuleError("The term of an answer can be extended only once.")
        if not reason:
            raise RuleError("Say why the term is extended.")
        if today > response.due_on:
            raise RuleError("The term has already run out; it can no longer be extended.")
        if new_due_on <= response.due_on:
            raise RuleError("The new date must be after the current due date.")
        latest = add_calendar_months(response.due_on, MAX_EXTENSION_MONTHS)
        if new_due_on > latest:
            raise RuleError(
                "The term can be extended by at most %(months)d months, to %(latest)s at the latest.",
                months=MAX_EXTENSION_MONTHS,
                latest=latest.isoformat(),
            )
        await _transition(
            response,
            {
                OfficialResponse.state: ResponseState.EXTENDED,
                OfficialResponse.extended_until: new_due_on,
                OfficialResponse.extension_reason: reason,
            },
            expect={OfficialResponse.extended_until: None},
        )
        await _event(response.id, EVENT_EXTENDED, actor_id=actor_id, organisation_id=response.organisation, note=reason)
        await _audit(actor_id, response.organisation, "response.extend", response.id, new_due_on=new_due_on, reason=reason)
        await _notify_citizen(
            response,
            "response.extended",
            N_("The answer to “%(title)s” is now due by %(due)s"),
            N_("%(organisation)s extended the term: %(reason)s"),
            due=new_due_on,
            reason=reason,
        )
        return response


async def answer(
    response_id: int, *, actor_id: int, text: str, public: bool = True, today: date | None = None
) -> OfficialResponse:
    """Give the substantive answer (recommendation 6), public or private (seed 004); the
    citizen is notified and the subject's module hears of it through its answer hooks —
    all in one transaction, so a failing hook leaves the response unanswered."""
    text = (text or "").strip()
    async with transaction():
        response = await _load(response_id)
        _require_open(response)
        await _require_official(actor_id, response.organisation)
        if not text:
            raise RuleError("An answer cannot be empty.")
        await _transition(
            response,
            {
                OfficialResponse.state: ResponseState.ANSWERED,
                OfficialResponse.answer: text,
                OfficialResponse.answer_is_public: bool(public),
                OfficialResponse.answered_at: now_utc(),
                OfficialResponse.answered_on: today or almaty_today(),
                OfficialResponse.answered_by: actor_id,
            },
        )
        await _event(
            response.id,
            EVENT_ANSWERED,
            actor_id=actor_id,
            organisation_id=response.organisation,
            note=text if public else "",
        )
        await _audit(actor_id, response.organisation, "response.answer", response.id, public=bool(public))
        await _notify_citizen(
            response,
            "response.answered",
            N_("%(organisation)s answered “%(title)s”"),
            N_("Read the answer and tell us whether it solved your problem."),
        )
        slug = response.subject.split(":", 1)[0]
        for hook in list(_answer_hooks.get(slug, ())):
            await hook(response)
        return response


async def rate(response_id: int, *, user_id: int, rating: int, solved: bool | None) -> OfficialResponse:
    """The citizen rates the answer once; a rating of :data:`LOW_RATING` or less, or "not
    solved", escalates to the body's head (evasive answers, DOMAIN.md §5)."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise RuleError("A rating is a whole number from 1 to 5.")
    async with transaction():
        response = await _load(response_id)
        if not response.citizen or response.citizen != user_id:
            raise RuleError("Only the person who asked can rate the answer.")
        if response.state not in (ResponseState.ANSWERED, ResponseState.CLOSED):
            raise RuleError("An answer can be rated only after it is given.")
        if response.rating is not None:
            raise RuleError("You have already rated this answer.")
        await _transition(
            response,
            {OfficialResponse.rating: rating, OfficialResponse.solved: solved},
            expect={OfficialResponse.rating: None},
        )
        await _event(response.id, EVENT_RATED, actor_id=user_id, note=f"{rating}")
        if rating <= LOW_RATING or solved is False:
            await _escalate(response, "low_rating", now_utc())
        return response


async def close(response_id: int, *, actor_id: int) -> OfficialResponse:
    """Close an answered response (the reception takes it off its "under control" list)."""
    async with transaction():
        response = await _load(response_id)
        if response.state != ResponseState.ANSWERED:
            raise RuleError("Only an answered response can be closed.")
        await _require_official(actor_id, response.organisation)
        await _transition(response, {OfficialResponse.state: ResponseState.CLOSED, OfficialResponse.closed_at: now_utc()})
        await _event(response.id, EVENT_CLOSED, actor_id=actor_id, organisation_id=response.organisation)
        await _audit(actor_id, response.organisation, "response.close", response.id)
        for hook in list(_close_hooks.get(response.subject.split(":", 1)[0], ())):
            await hook(response)
        return response


async def escalate_overdue(today: date | None = None, organisation_ids: Iterable[int] | None = None) -> int:
    """Escalate every open response past its effective due date (the extended date when
    extended) and not yet escalated: reason "overdue", an event, and a notification to the
    head(s) of the body. ``organisation_ids`` limits the run to some bodies. Returns the count."""
    today = today or almaty_today()
    query = OfficialResponse.select(OfficialResponse.id).where(
        OfficialResponse.state.is_in(list(ResponseState.OPEN))
        & OfficialResponse.escalated_at.is_null()
        & (OfficialResponse.due_on < today)
    )
    if organisation_ids is not None:
        query = query.where(OfficialResponse.organisation.is_in(list(organisation_ids) or [-1]))
    candidates = [row["id"] for row in await query]
    escalated = 0
    for response_id in candidates:
        async with transaction():
            response = await _load(response_id)  # re-read: it may have been answered meanwhile
            if (
                response.state not in ResponseState.OPEN
                or response.escalated_at is not None
                or effective_due(response) >= today
            ):
                continue
            if await _escalate(response, "overdue", now_utc(), once=True):
                escalated += 1
    return escalated


# --------------------------------------------------------------------------- reading


def traffic_light(response, today: date | None = None) -> str:
    """The deadline light (seed 004): "done" when answered or closed, "red" after the
    effective due date, "amber" from :data:`AMBER_WORKING_DAYS` working days before it,
    "green" otherwise. Accepts a table object or a row dict."""
    if _get(response, "state") in (ResponseState.ANSWERED, ResponseState.CLOSED):
        return "done"
    today = today or almaty_today()
    due = effective_due(response)
    if today > due:
        return "red"
    if working_days_between(today, due) <= AMBER_WORKING_DAYS:
        return "amber"
    return "green"


async def inbox(organisation_ids: Iterable[int], today: date | None = None, state: str | None = None) -> list[dict]:
    """Open responses of these bodies, most urgent first, each with ``effective_due_on``,
    ``light`` and ``working_days_left`` (negative when overdue)."""
    today = today or almaty_today()
    ids = list(organisation_ids)
    if not ids:
        return []
    states = [state] if state else list(ResponseState.OPEN)
    rows = await OfficialResponse.select().where(
        OfficialResponse.organisation.is_in(ids) & OfficialResponse.state.is_in(states)
    )
    for row in rows:
        row["effective_due_on"] = effective_due(row)
        row["light"] = traffic_light(row, today)
        row["working_days_left"] = working_days_between(today, row["effective_due_on"])
    rows.sort(key=lambda r: (r["effective_due_on"], r["id"]))
    return rows


async def organisation_figures(organisation_id: int, today: date | None = None) -> dict:
    """How well a body answers: number answered, share on time (answered on or before the
    effective due date), median working days to answer, requests it forwarded to another
    body (re-routing, seed 000), mean rating, overdue open."""
    today = today or almaty_today()
    rows = await OfficialResponse.select(
        OfficialResponse.state,
        OfficialResponse.received_on,
        OfficialResponse.due_on,
        OfficialResponse.extended_until,
        OfficialResponse.answered_on,
        OfficialResponse.rating,
    ).where(OfficialResponse.organisation == organisation_id)
    answered = [r for r in rows if r["answered_on"] is not None]
    on_time = [r for r in answered if r["answered_on"] <= effective_due(r)]
    days = [working_days_between(r["received_on"], r["answered_on"]) for r in answered]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    return {
        "answered": len(answered),
        "answered_on_time_percent": round(100 * len(on_time) / len(answered), 1) if answered else None,
        "median_days_to_answer": statistics.median(days) if days else None,
        # Forwarding events record the body forwarding away; a response's own forward_count
        # stays with whichever body holds it last, which did not re-route it.
        "forward_count": await ResponseEvent.count().where(
            (ResponseEvent.kind == EVENT_FORWARDED) & (ResponseEvent.organisation == organisation_id)
        ),
        "mean_rating": round(statistics.fmean(ratings), 2) if ratings else None,
        "overdue_open": sum(1 for r in rows if r["state"] in ResponseState.OPEN and effective_due(r) < today),
    }


async def history(response_id: int, include_private: bool = False) -> list[dict]:
    """The events of a response in order. Without ``include_private`` (the public page),
    escalations and ratings are left out and internal forwarding notes are blanked; so is
    the text of a private answer."""
    events = await ResponseEvent.select().where(ResponseEvent.response == response_id).order_by(ResponseEvent.id)
    if include_private:
        return events
    public = []
    for event in events:
        if event["kind"] in PRIVATE_EVENT_KINDS:
            continue
        if event["kind"] in NOTE_HIDDEN_EVENT_KINDS:
            event["note"] = ""
        public.append(event)
    return public


async def responses_for_subject(subject: str) -> list[OfficialResponse]:
    """Every response ever opened for a subject ("ideas:42"), oldest first."""
    return await OfficialResponse.objects().where(OfficialResponse.subject == subject).order_by(OfficialResponse.id)
