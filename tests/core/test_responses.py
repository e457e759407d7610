"""The official-response engine (civic.responses.services): due dates on Kazakhstan's
calendar, who may act, forwarding, extension, answers, ratings, escalation, the inbox and
the figures.

Every date below was counted by hand on the Kazakh calendar of the ``holidays`` package
(public holidays, days off moved to Mondays, and decreed transfers). Counting rule of
APC art. 76 as the engine applies it: the day of receipt is not counted; the term's first
day is the next working day.

The database is shared by the whole test session, so every test makes its own
organisations, people and subjects, and limits escalation runs to its own organisations.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timezone

import pytest

from civic.accounts.tables import AuditEntry, Membership, Role, User
from civic.notify.tables import Notification
from civic.responses import services
from civic.rules import RuleError
from civic.responses.tables import OfficialResponse, ResponseEvent, ResponseState
from civic.territory.tables import Organisation, Territory

NOT_FOUND = "This response does not exist."
NOT_ALLOWED = "You are not allowed to act on this response."


# --------------------------------------------------------------------------- helpers


def tag() -> str:
    return uuid.uuid4().hex[:10]


async def make_user(**values) -> User:
    t = tag()
    values.setdefault("display_name", f"Person {t}")
    user = User(email=f"r-{t}@example.kz", language="en", oidc_subject=None, **values)
    await user.save()
    return user


async def make_organisation(name: str = "", parent: Organisation | None = None) -> Organisation:
    t = tag()
    territory = Territory(kind="district", code=f"t-{t}", path=f"/kz/t-{t}/", name_kk=f"T {t}", name_ru=f"T {t}",
                          name_en=f"T {t}")
    await territory.save()
    name = name or f"Department {t}"
    organisation = Organisation(territory=territory.id, parent=parent.id if parent else None, kind="department",
                                slug=f"o-{t}", name_kk=f"{name} (kk)", name_ru=f"{name} (ru)", name_en=name)
    await organisation.save()
    return organisation


async def add_member(user: User, organisation: Organisation, role: str) -> None:
    await Membership(user=user.id, organisation=organisation.id, role=role).save()


class Body:
    """An organisation with an official (staff) and a head (administrator membership)."""

    def __init__(self, organisation, official, head):
        self.organisation, self.official, self.head = organisation, official, head

    @property
    def id(self) -> int:
        return self.organisation.id

    @property
    def name(self) -> str:
        return self.organisation.name_en


async def make_body(name: str = "", parent: Organisation | None = None, with_head: bool = True) -> Body:
    organisation = await make_organisation(name, parent)
    official = await make_user(display_name=f"Aigerim Official {tag()}")
    await add_member(official, organisation, Role.OFFICIAL)
    head = None
    if with_head:
        head = await make_user(display_name=f"Head {tag()}")
        await add_member(head, organisation, Role.ADMINISTRATOR)
    return Body(organisation, official, head)


async def open_for(body: Body, citizen: User | None, received: date, *, title: str = "", **kw) -> OfficialResponse:
    t = tag()
    return await services.open_response(
        subject=kw.pop("subject", f"ideas:{t}"),
        subject_kind="ideas.idea",
        subject_title=title or f"Bus stop {t}",
        subject_url=f"/ideas/{t}",
        organisation_id=body.id,
        citizen_id=citizen.id if citizen else None,
        today=received,
        **kw,
    )


async def row(response_id: int) -> dict:
    return await OfficialResponse.select().where(OfficialResponse.id == response_id).first()


async def events(response_id: int) -> list[dict]:
    return await ResponseEvent.select().where(ResponseEvent.response == response_id).order_by(ResponseEvent.id)


async def audits(response_id: int) -> list[dict]:
    return await (
        AuditEntry.select()
        .where(AuditEntry.subject == f"responses:{response_id}")
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


async def notes_of(user: User) -> list[dict]:
    return await Notification.select().where(Notification.user == user.id).order_by(Notification.id)


async def refused(msgid: str, action) -> RuleError:
    """Run the awaitable, expect a RuleError with exactly this msgid."""
    with pytest.raises(RuleError) as info:
        await action
    assert info.value.msgid == msgid
    return info.value


async def unchanged_after(response_id: int, msgid: str, action) -> RuleError:
    """A refused action leaves the row, its history and its audit trail as they were."""
    before = (await row(response_id), len(await events(response_id)), len(await audits(response_id)))
    error = await refused(msgid, action)
    after = (await row(response_id), len(await events(response_id)), len(await audits(response_id)))
    assert after == before
    return error


# --------------------------------------------------------------------------- opening


async def test_open_friday_before_nauryz_due_date_and_acknowledgement(database):
    body = await make_body("Housing Policy Department")
    citizen = await make_user()
    # Received Friday 20 March 2026. Nauryz 2026: 21 (Sat), 22 (Sun), 23 (Mon) March, with
    # the weekend days moved to Tue 24 and Wed 25, so Sat 21 to Wed 25 are all off.
    # Working days: Mar 26 (1), 27 (2), 30 (3), 31 (4), Apr 1 (5), 2 (6), 3 (7), 6 (8),
    # 7 (9), 8 (10), 9 (11), 10 (12), 13 (13), 14 (14), 15 (15) -> due Wednesday 15 April.
    response = await open_for(body, citizen, date(2026, 3, 20), title="Lift broken at Abay 10")
    stored = await row(response.id)
    assert stored["state"] == ResponseState.RECEIVED
    assert stored["received_on"] == date(2026, 3, 20)
    assert stored["due_on"] == date(2026, 4, 15)
    assert stored["working_days"] == 15
    assert stored["forward_count"] == 0
    assert stored["organisation"] == body.id and stored["citizen"] == citizen.id
    assert services.effective_due(stored) == date(2026, 4, 15)

    assert [e["kind"] for e in await events(response.id)] == ["received"]

    # recommendation 6: the citizen is told at once which body has it and by when
    notes = await notes_of(citizen)
    assert len(notes) == 1
    assert notes[0]["kind"] == "response.received"
    assert notes[0]["title"] == "Housing Policy Department has received “Lift broken at Abay 10”"
    assert "Housing Policy Department" in notes[0]["body"]
    assert "April 15, 2026" in notes[0]["body"]
    assert notes[0]["url"] == response.subject_url


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Fri 7 Mar 2025, the day before Women's Day (Sat 8 Mar, moved to Mon 10 Mar):
        # Mar 11 (1), 12, 13, 14, 17, 18, 19, 20 (8); Nauryz 2025 is Fri 21 to Sun 23 with
        # Mon 24 and Tue 25 off; Mar 26 (9), 27, 28, 31, Apr 1, 2 (14), Apr 3 (15).
        (date(2025, 3, 7), date(2025, 4, 3)),
        # Fri 12 Dec 2025: Mon 15 (1), Tue 16 Independence Day off, 17 (2), 18, 19, 22, 23,
        # 24, 25, 26, 29, 30, Wed 31 Dec (12); 1-2 Jan 2026 New Year off; Mon 5 (13),
        # Tue 6 (14), Wed 7 Orthodox Christmas off, Thu 8 Jan 2026 (15).
        (date(2025, 12, 12), date(2026, 1, 8)),
        # Tue 31 Dec 2024: 1-2 Jan New Year, Fri 3 Jan off by transfer and Sunday 5 Jan
        # worked instead (1); Mon 6 (2), Tue 7 Christmas off, 8 (3), 9, 10, 13, 14, 15, 16,
        # 17 (10), 20, 21, 22, 23 (14), Fri 24 Jan 2025 (15).
        (date(2024, 12, 31), date(2025, 1, 24)),
        # Thu 2 May 2024: Fri 3 (1), Saturday 4 May worked by transfer (2), Mon 6 (3),
        # Tue 7 Defender's Day, Wed 8 transferred day off, Thu 9 Victory Day; Fri 10 (4),
        # 13-17 (9), 20-24 (14), Mon 27 May 2024 (15).
        (date(2024, 5, 2), date(2024, 5, 27)),
    ],
)
async def test_due_date_is_15_kazakh_working_days(database, received, due):
    body = await make_body()
    response = await open_for(body, None, received)
    assert (await row(response.id))["due_on"] == due


async def test_term_configurable_per_subject_type(database):
    body = await make_body()
    # 5 working days from Friday 20 March 2026 (Nauryz Sat 21 - Wed 25 off):
    # Mar 26 (1), 27 (2), 30 (3), 31 (4), Wed 1 April (5).
    response = await open_for(body, None, date(2026, 3, 20), working_days=5)
    stored = await row(response.id)
    assert stored["due_on"] == date(2026, 4, 1) and stored["working_days"] == 5
    with pytest.raises(ValueError):
        await open_for(body, None, date(2026, 3, 20), working_days=0)
    with pytest.raises(ValueError):
        await services.open_response(subject="no-colon", subject_kind="x", subject_title="x", subject_url="/x",
                                     organisation_id=body.id)


async def test_one_open_response_per_subject(database):
    body = await make_body()
    other = await make_body()
    citizen = await make_user()
    subject = f"petitions:{tag()}"
    first = await open_for(body, citizen, date(2025, 9, 2), subject=subject)
    await refused("An answer to this is already being prepared.",
                  open_for(other, citizen, date(2025, 9, 3), subject=subject))
    assert [r.id for r in await services.responses_for_subject(subject)] == [first.id]
    assert len(await notes_of(citizen)) == 1  # the refused attempt told nobody anything

    # once answered, the subject may ask again (a new request, a new term)
    await services.answer(first.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 10))
    second = await open_for(other, citizen, date(2025, 9, 11), subject=subject)
    assert [r.id for r in await services.responses_for_subject(subject)] == [first.id, second.id]


async def test_concurrent_opening_of_one_subject_makes_one_response(database):
    body = await make_body()
    subject = f"appeals:{tag()}"
    results = await asyncio.gather(
        open_for(body, None, date(2025, 9, 2), subject=subject),
        open_for(body, None, date(2025, 9, 2), subject=subject),
        return_exceptions=True,
    )
    assert sum(isinstance(r, OfficialResponse) for r in results) == 1
    assert sum(isinstance(r, RuleError) for r in results) == 1
    assert len(await services.responses_for_subject(subject)) == 1


# --------------------------------------------------------------------------- acknowledging, rights, audit


async def test_acknowledge_names_body_and_specialist(database):
    body = await make_body("Urban Mobility Department")
    specialist = await make_user(display_name="Dana Seitkali")
    await add_member(specialist, body.organisation, Role.OFFICIAL)
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 3, 7), title="Crossing on Tole bi")  # due 3 April 2025

    acknowledged = await services.acknowledge(response.id, actor_id=body.official.id, specialist_id=specialist.id)
    stored = await row(response.id)
    assert acknowledged.state == stored["state"] == ResponseState.ACKNOWLEDGED
    assert stored["specialist"] == specialist.id
    assert stored["acknowledged_at"] is not None
    assert stored["due_on"] == date(2025, 4, 3)

    note = (await notes_of(citizen))[-1]
    assert note["kind"] == "response.acknowledged"
    assert note["title"] == "Urban Mobility Department has received “Crossing on Tole bi”"
    assert "Dana Seitkali of Urban Mobility Department is handling your request" in note["body"]
    assert "April 3, 2025" in note["body"]

    [entry] = await audits(response.id)
    assert entry["action"] == "response.acknowledge"
    assert entry["actor"] == body.official.id and entry["organisation"] == body.id
    assert entry["details"] == {"specialist": specialist.id}


async def test_specialist_must_exist_and_be_staff_of_the_body(database):
    body = await make_body()
    response = await open_for(body, None, date(2025, 9, 2))
    outsider = await make_user()
    await unchanged_after(response.id, "The specialist must be an official of the organisation.",
                          services.acknowledge(response.id, actor_id=body.official.id, specialist_id=outsider.id))
    await unchanged_after(response.id, "The specialist does not exist.",
                          services.acknowledge(response.id, actor_id=body.official.id, specialist_id=10**9))


@pytest.mark.parametrize("who", ["citizen", "other_body_official", "jury", "moderator", "consultant",
                                 "deleted_official", "blocked_official"])
async def test_only_staff_of_the_body_may_act(database, who):
    body = await make_body()
    other = await make_body()
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2))
    if who == "citizen":
        actor = citizen
    elif who == "other_body_official":
        actor = other.official
    elif who in ("jury", "moderator", "consultant"):
        actor = await make_user()
        await add_member(actor, body.organisation, who)
    else:
        actor = await make_user(**({"deleted_at": datetime.now(timezone.utc)} if who == "deleted_official"
                                   else {"blocked_reason": "spam"}))
        await add_member(actor, body.organisation, Role.OFFICIAL)

    attempts = [
        services.acknowledge(response.id, actor_id=actor.id, specialist_id=body.official.id),
        services.start_work(response.id, actor_id=actor.id),
        services.forward(response.id, actor_id=actor.id, to_organisation_id=other.id, today=date(2025, 9, 3)),
        services.extend(response.id, actor_id=actor.id, new_due_on=date(2025, 10, 1), reason="Site visit",
                        today=date(2025, 9, 3)),
        services.answer(response.id, actor_id=actor.id, text="Fixed", today=date(2025, 9, 3)),
    ]
    for attempt in attempts:
        await unchanged_after(response.id, NOT_ALLOWED, attempt)
    assert len(await notes_of(citizen)) == 1  # only the receipt


@pytest.mark.parametrize("who", ["administrator", "parent_akimat_official", "site_admin"])
async def test_heads_parent_akimat_and_site_admins_may_act(database, who):
    akimat = await make_body("Almaly District Akimat")
    body = await make_body(parent=akimat.organisation)
    if who == "administrator":
        actor = body.head
    elif who == "parent_akimat_official":
        actor = akimat.official
    else:
        actor = await make_user(is_admin=True)
    response = await open_for(body, None, date(2025, 9, 2))
    await services.start_work(response.id, actor_id=actor.id)
    stored = await row(response.id)
    assert stored["state"] == ResponseState.IN_PROGRESS
    assert stored["specialist"] == actor.id  # whoever starts work without a specialist takes it


async def test_every_official_action_is_audited(database):
    body = await make_body()
    target = await make_body()
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 3, 7))  # due 3 April 2025
    await services.acknowledge(response.id, actor_id=body.official.id, specialist_id=body.official.id)
    await services.start_work(response.id, actor_id=body.official.id)
    await services.forward(response.id, actor_id=body.official.id, to_organisation_id=target.id,
                           note="Land is not ours", today=date(2025, 3, 11))
    await services.extend(response.id, actor_id=target.official.id, new_due_on=date(2025, 5, 5),
                          reason="Needs a survey", today=date(2025, 3, 20))
    await services.answer(response.id, actor_id=target.head.id, text="The crossing will be built in May.",
                          today=date(2025, 4, 30))
    await services.close(response.id, actor_id=target.official.id)
    await services.rate(response.id, user_id=citizen.id, rating=5, solved=True)  # the citizen's own: no audit

    entries = await audits(response.id)
    assert [(e["action"], e["actor"], e["organisation"]) for e in entries] == [
        ("response.acknowledge", body.official.id, body.id),
        ("response.start_work", body.official.id, body.id),
        ("response.forward", body.official.id, body.id),
        ("response.extend", target.official.id, target.id),
        ("response.answer", target.head.id, target.id),
        ("response.close", target.official.id, target.id),
    ]
    assert entries[2]["details"] == {"to_organisation": target.id, "note": "Land is not ours"}
    assert entries[3]["details"] == {"new_due_on": "2025-05-05", "reason": "Needs a survey"}
    assert entries[4]["details"] == {"public": True}
    assert (await row(response.id))["state"] == ResponseState.CLOSED


# --------------------------------------------------------------------------- forwarding


async def test_forward_within_three_working_days_keeps_the_due_date(database):
    first = await make_body("Education Department")
    second = await make_body("Land Relations Department")
    third = await make_body("Health Department")
    citizen = await make_user()
    # Received Fri 7 March 2025, due Thu 3 April 2025 (see the due-date cases above).
    response = await open_for(first, citizen, date(2025, 3, 7), title="Plot boundaries")
    await services.acknowledge(response.id, actor_id=first.official.id, specialist_id=first.official.id)

    # Thu 13 March: Mon 10 (Women's Day moved) is off, so 11, 12, 13 = 3 working days: allowed
    await services.forward(response.id, actor_id=first.official.id, to_organisation_id=second.id,
                           note="Land plots are not ours", today=date(2025, 3, 13))
    stored = await row(response.id)
    assert stored["state"] == ResponseState.FORWARDED
    assert stored["organisation"] == second.id
    assert stored["specialist"] is None
    assert stored["forward_count"] == 1
    assert stored["due_on"] == date(2025, 4, 3)  # the term still counts from registration

    note = (await notes_of(citizen))[-1]
    assert note["kind"] == "response.forwarded"
    assert note["title"] == "“Plot boundaries” was forwarded to Land Relations Department"
    assert "April 3, 2025" in note["body"]

    # the first body no longer holds it
    await unchanged_after(response.id, NOT_ALLOWED, services.start_work(response.id, actor_id=first.official.id))
    # the new holder may pass it on the same day; it is counted again
    await services.forward(response.id, actor_id=second.official.id, to_organisation_id=third.id,
                           today=date(2025, 3, 13))
    stored = await row(response.id)
    assert (stored["organisation"], stored["forward_count"], stored["due_on"]) == (third.id, 2, date(2025, 4, 3))
    # ... but not after the window: Fri 14 March is the 4th working day
    await unchanged_after(
        response.id, "A request can be forwarded only within %(days)d working days of receipt.",
        services.forward(response.id, actor_id=third.official.id, to_organisation_id=first.id,
                         today=date(2025, 3, 14)),
    )


@pytest.mark.parametrize(
    ("received", "today", "allowed"),
    [
        (date(2025, 3, 7), date(2025, 3, 10), True),  # Mon 10 Mar is a holiday: 0 days gone
        (date(2025, 3, 7), date(2025, 3, 13), True),  # 11, 12, 13 March: 3
        (date(2025, 3, 7), date(2025, 3, 14), False),  # 4
        # Thu 2 May 2024: Fri 3 (1), Saturday 4 May worked by transfer (2), Mon 6 (3); Tue 7 to
        # Thu 9 are all off, so on Victory Day still 3 have gone; Fri 10 May is the 4th.
        (date(2024, 5, 2), date(2024, 5, 9), True),
        (date(2024, 5, 2), date(2024, 5, 10), False),
    ],
)
async def test_forward_window(database, received, today, allowed):
    body = await make_body()
    target = await make_body()
    response = await open_for(body, None, received)
    attempt = services.forward(response.id, actor_id=body.official.id, to_organisation_id=target.id, today=today)
    if allowed:
        await attempt
        assert (await row(response.id))["organisation"] == target.id
    else:
        error = await unchanged_after(
            response.id, "A request can be forwarded only within %(days)d working days of receipt.", attempt)
        assert error.params == {"days": 3}
        assert str(error) == "A request can be forwarded only within 3 working days of receipt."


async def test_forward_to_same_or_unknown_organisation_refused(database):
    body = await make_body()
    response = await open_for(body, None, date(2025, 9, 2))
    await unchanged_after(
        response.id, "A response cannot be forwarded to the organisation that already holds it.",
        services.forward(response.id, actor_id=body.official.id, to_organisation_id=body.id, today=date(2025, 9, 2)))
    await unchanged_after(
        response.id, "The organisation does not exist.",
        services.forward(response.id, actor_id=body.official.id, to_organisation_id=10**9, today=date(2025, 9, 2)))


# --------------------------------------------------------------------------- extension


async def test_extend_once_with_reason_and_citizen_told(database):
    body = await make_body("Energy Efficiency Department")
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 3, 7), title="Heating in school 12")  # due 3 April 2025
    # at most 2 calendar months after 3 April 2025: 3 June 2025
    await services.extend(response.id, actor_id=body.official.id, new_due_on=date(2025, 6, 3),
                          reason="  An expert survey of the boiler is needed  ", today=date(2025, 4, 1))
    stored = await row(response.id)
    assert stored["state"] == ResponseState.EXTENDED
    assert stored["extended_until"] == date(2025, 6, 3)
    assert stored["extension_reason"] == "An expert survey of the boiler is needed"
    assert stored["due_on"] == date(2025, 4, 3)  # the original date is kept
    assert services.effective_due(stored) == date(2025, 6, 3)

    note = (await notes_of(citizen))[-1]
    assert note["kind"] == "response.extended"
    assert note["title"] == "The answer to “Heating in school 12” is now due by June 3, 2025"
    assert note["body"] == "Energy Efficiency Department extended the term: An expert survey of the boiler is needed"
    assert (await events(response.id))[-1]["note"] == "An expert survey of the boiler is needed"

    await unchanged_after(
        response.id, "The term of an answer can be extended only once.",
        services.extend(response.id, actor_id=body.official.id, new_due_on=date(2025, 6, 2), reason="Again",
                        today=date(2025, 4, 2)))


async def test_extension_limits(database):
    body = await make_body()
    response = await open_for(body, None, date(2025, 3, 7))  # due Thu 3 April 2025
    official = body.official.id

    def extend(new_due_on, reason="Survey", today=date(2025, 4, 1)):
        return services.extend(response.id, actor_id=official, new_due_on=new_due_on, reason=reason, today=today)

    await unchanged_after(response.id, "Say why the term is extended.", extend(date(2025, 5, 5), reason="   "))
    error = await unchanged_after(
        response.id, "The term can be extended by at most %(months)d months, to %(latest)s at the latest.",
        extend(date(2025, 6, 4)))
    assert error.params == {"months": 2, "latest": "2025-06-03"}
    await unchanged_after(response.id, "The new date must be after the current due date.", extend(date(2025, 4, 3)))
    # Friday 4 April: the term ran out on the 3rd; extending now would hide the missed deadline
    await unchanged_after(response.id, "The term has already run out; it can no longer be extended.",
                          extend(date(2025, 5, 5), today=date(2025, 4, 4)))
    # on the due date itself it still may be extended
    await extend(date(2025, 5, 5), today=date(2025, 4, 3))
    assert (await row(response.id))["extended_until"] == date(2025, 5, 5)


async def test_extension_limit_clamps_to_month_end(database):
    body = await make_body()
    # Received Tue 9 Dec 2025: Dec 10 (1), 11, 12, 15 (4), Tue 16 Independence Day off,
    # 17 (5), 18, 19, 22, 23, 24, 25, 26 (12), 29, 30, Wed 31 Dec (15).
    response = await open_for(body, None, date(2025, 12, 9))
    assert (await row(response.id))["due_on"] == date(2025, 12, 31)
    # 31 December + 2 months = 28 February 2026 (no 31st, not a leap year)
    error = await unchanged_after(
        response.id, "The term can be extended by at most %(months)d months, to %(latest)s at the latest.",
        services.extend(response.id, actor_id=body.official.id, new_due_on=date(2026, 3, 1), reason="Survey",
                        today=date(2025, 12, 20)))
    assert error.params["latest"] == "2026-02-28"
    await services.extend(response.id, actor_id=body.official.id, new_due_on=date(2026, 2, 28), reason="Survey",
                          today=date(2025, 12, 20))
    assert (await row(response.id))["extended_until"] == date(2026, 2, 28)


# --------------------------------------------------------------------------- answering


async def test_public_answer(database):
    body = await make_body("Infrastructure Department")
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2), title="Pothole on Seifullin")
    answered = await services.answer(response.id, actor_id=body.official.id, text="  Repaired on 8 September.  ",
                                     today=date(2025, 9, 9))
    stored = await row(response.id)
    assert answered.state == stored["state"] == ResponseState.ANSWERED
    assert stored["answer"] == "Repaired on 8 September."
    assert stored["answer_is_public"] is True
    assert stored["answered_on"] == date(2025, 9, 9)
    assert stored["answered_by"] == body.official.id
    assert stored["answered_at"] is not None
    assert (await events(response.id))[-1]["note"] == "Repaired on 8 September."

    note = (await notes_of(citizen))[-1]
    assert note["kind"] == "response.answered"
    assert note["title"] == "Infrastructure Department answered “Pothole on Seifullin”"
    # answered responses are finished: no second answer
    await unchanged_after(response.id, "This response is already answered or closed.",
                          services.answer(response.id, actor_id=body.official.id, text="Again"))


async def test_private_answer_text_stays_out_of_the_history(database):
    body = await make_body()
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2))
    await services.answer(response.id, actor_id=body.official.id, text="Your personal benefit is approved.",
                          public=False, today=date(2025, 9, 3))
    stored = await row(response.id)
    assert stored["answer_is_public"] is False
    assert stored["answer"] == "Your personal benefit is approved."
    for include_private in (False, True):
        answered_event = (await services.history(response.id, include_private=include_private))[-1]
        assert answered_event["kind"] == "answered" and answered_event["note"] == ""
    assert (await notes_of(citizen))[-1]["kind"] == "response.answered"


async def test_answer_hooks(database):
    body = await make_body()
    citizen = await make_user()
    heard: list[tuple[str, str, str]] = []

    async def petitions_hook(response):
        heard.append(("petitions", response.subject, response.state))

    async def ideas_hook(response):
        heard.append(("ideas", response.subject, response.state))

    async def failing_hook(response):
        raise RuntimeError("signers could not be told")

    services.register_answer_hook("hookpetitions", petitions_hook)
    services.register_answer_hook("hookpetitions", petitions_hook)  # registering twice calls it once
    services.register_answer_hook("hookideas", ideas_hook)
    try:
        subject = f"hookpetitions:{tag()}"
        response = await open_for(body, citizen, date(2025, 9, 2), subject=subject)
        await services.answer(response.id, actor_id=body.official.id, text="Accepted.", today=date(2025, 9, 3))
        assert heard == [("petitions", subject, ResponseState.ANSWERED)]

        # a hook that fails undoes the answer: nothing is saved, nobody is told
        services.register_answer_hook("hookfailing", failing_hook)
        failing = await open_for(body, citizen, date(2025, 9, 2), subject=f"hookfailing:{tag()}")
        before = (await row(failing.id), len(await events(failing.id)), len(await audits(failing.id)),
                  len(await notes_of(citizen)))
        with pytest.raises(RuntimeError):
            await services.answer(failing.id, actor_id=body.official.id, text="Accepted.", today=date(2025, 9, 3))
        after = (await row(failing.id), len(await events(failing.id)), len(await audits(failing.id)),
                 len(await notes_of(citizen)))
        assert after == before and after[0]["state"] == ResponseState.RECEIVED

        # unregistered: the answer goes through
        services.unregister_answer_hook("hookfailing", failing_hook)
        await services.answer(failing.id, actor_id=body.official.id, text="Accepted.", today=date(2025, 9, 3))
        assert (await row(failing.id))["state"] == ResponseState.ANSWERED
        assert heard == [("petitions", subject, ResponseState.ANSWERED)]
    finally:
        services.unregister_answer_hook("hookpetitions", petitions_hook)
        services.unregister_answer_hook("hookideas", ideas_hook)
        services.unregister_answer_hook("hookfailing", failing_hook)


async def test_two_officials_answering_at_once_one_wins(database):
    body = await make_body()
    second = await make_user()
    await add_member(second, body.organisation, Role.OFFICIAL)
    response = await open_for(body, None, date(2025, 9, 2))
    results = await asyncio.gather(
        services.answer(response.id, actor_id=body.official.id, text="First", today=date(2025, 9, 3)),
        services.answer(response.id, actor_id=second.id, text="Second", today=date(2025, 9, 3)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, OfficialResponse) for r in results) == 1
    assert sum(isinstance(r, RuleError) for r in results) == 1
    assert [e["kind"] for e in await events(response.id)].count("answered") == 1
    assert len(await audits(response.id)) == 1


async def test_close_only_after_answer(database):
    body = await make_body()
    response = await open_for(body, None, date(2025, 9, 2))
    await unchanged_after(response.id, "Only an answered response can be closed.",
                          services.close(response.id, actor_id=body.official.id))
    await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 3))
    await services.close(response.id, actor_id=body.official.id)
    stored = await row(response.id)
    assert stored["state"] == ResponseState.CLOSED and stored["closed_at"] is not None


# --------------------------------------------------------------------------- rating and escalation


async def test_rating_rules(database):
    body = await make_body()
    citizen = await make_user()
    stranger = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2))
    await unchanged_after(response.id, "An answer can be rated only after it is given.",
                          services.rate(response.id, user_id=citizen.id, rating=4, solved=True))
    await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 3))
    for someone in (stranger, body.official):
        await unchanged_after(response.id, "Only the person who asked can rate the answer.",
                              services.rate(response.id, user_id=someone.id, rating=4, solved=True))
    for bad in (0, 6, -1, True, 3.5, "3", None):
        await unchanged_after(response.id, "A rating is a whole number from 1 to 5.",
                              services.rate(response.id, user_id=citizen.id, rating=bad, solved=True))

    await services.rate(response.id, user_id=citizen.id, rating=4, solved=True)
    stored = await row(response.id)
    assert (stored["rating"], stored["solved"]) == (4, True)
    assert stored["escalated_at"] is None  # a good answer goes to no one
    assert await notes_of(body.head) == []
    await unchanged_after(response.id, "You have already rated this answer.",
                          services.rate(response.id, user_id=citizen.id, rating=5, solved=True))


async def test_response_without_citizen_cannot_be_rated(database):
    body = await make_body()
    citizen = await make_user()
    response = await open_for(body, None, date(2025, 9, 2))
    await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 3))
    await unchanged_after(response.id, "Only the person who asked can rate the answer.",
                          services.rate(response.id, user_id=citizen.id, rating=3, solved=True))


@pytest.mark.parametrize(("rating", "solved", "escalates"), [
    (1, True, True), (2, None, True), (3, True, False), (5, False, True), (5, None, False),
])
async def test_low_rating_or_not_solved_escalates_to_the_head(database, rating, solved, escalates):
    body = await make_body("Employment and Social Programmes Department")
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2), title="Benefit refused")
    await services.answer(response.id, actor_id=body.official.id, text="See the rules.", today=date(2025, 9, 3))
    await services.rate(response.id, user_id=citizen.id, rating=rating, solved=solved)
    stored = await row(response.id)
    head_notes = await notes_of(body.head)
    assert await notes_of(body.official) == []  # staff who are not the head are not told
    if not escalates:
        assert stored["escalated_at"] is None and head_notes == []
        return
    assert stored["escalated_at"] is not None
    assert stored["escalation_reason"] == "low_rating"
    assert len(head_notes) == 1
    assert head_notes[0]["kind"] == "response.escalated"
    assert head_notes[0]["title"] == "Low rating: the citizen is not satisfied with the answer to “Benefit refused”"
    assert head_notes[0]["body"] == (
        "The response is escalated to you as the head of Employment and Social Programmes Department.")
    assert [e["kind"] for e in await events(response.id)][-2:] == ["rated", "escalated"]
    assert (await audits(response.id))[-1]["action"] == "response.escalate"


async def test_escalation_goes_to_the_parent_akimat_head_when_the_body_has_none(database):
    akimat = await make_body("Aral District Akimat")
    body = await make_body(parent=akimat.organisation, with_head=False)
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2))
    await services.answer(response.id, actor_id=body.official.id, text="No.", today=date(2025, 9, 3))
    await services.rate(response.id, user_id=citizen.id, rating=1, solved=False)
    assert await services.heads_of(body.id) == [akimat.head.id]
    [note] = await notes_of(akimat.head)
    assert note["body"] == "The response is escalated to you as the head of {}.".format(body.name)


async def test_escalate_overdue_once(database):
    body = await make_body("Almaty Housing Department")
    citizen = await make_user()
    # Received Fri 12 Dec 2025, due Thu 8 Jan 2026 (see the due-date cases above)
    late = await open_for(body, citizen, date(2025, 12, 12), title="Roof leaking")
    answered = await open_for(body, citizen, date(2025, 12, 12))
    await services.answer(answered.id, actor_id=body.official.id, text="Fixed.", today=date(2026, 1, 9))
    # extended on the due date to Mon 19 Jan 2026
    extended = await open_for(body, citizen, date(2025, 12, 12))
    await services.extend(extended.id, actor_id=body.official.id, new_due_on=date(2026, 1, 19), reason="Survey",
                          today=date(2026, 1, 8))
    mine = [body.id]

    assert await services.escalate_overdue(date(2026, 1, 8), organisation_ids=mine) == 0  # due today: not late
    assert await services.escalate_overdue(date(2026, 1, 9), organisation_ids=mine) == 1
    stored = await row(late.id)
    assert stored["escalation_reason"] == "overdue" and stored["escalated_at"] is not None
    assert stored["state"] == ResponseState.RECEIVED  # escalation does not close or move it
    [note] = await notes_of(body.head)
    assert note["kind"] == "response.escalated"
    assert note["title"] == "Overdue: “Roof leaking” was due on January 8, 2026"
    assert (await row(answered.id))["escalated_at"] is None
    assert (await row(extended.id))["escalated_at"] is None

    # a second run escalates nothing again
    assert await services.escalate_overdue(date(2026, 1, 12), organisation_ids=mine) == 0
    assert len(await notes_of(body.head)) == 1
    assert [e["kind"] for e in await events(late.id)].count("escalated") == 1

    # the extended one is late only after its extended date
    assert await services.escalate_overdue(date(2026, 1, 19), organisation_ids=mine) == 0
    assert await services.escalate_overdue(date(2026, 1, 20), organisation_ids=mine) == 1
    assert (await row(extended.id))["escalation_reason"] == "overdue"
    notes = await notes_of(body.head)
    assert len(notes) == 2 and "January 19, 2026" in notes[-1]["title"]
    assert await services.escalate_overdue(date(2026, 2, 20), organisation_ids=mine) == 0
    # another body's run does not touch ours
    assert await services.escalate_overdue(date(2026, 2, 20), organisation_ids=[]) == 0


# --------------------------------------------------------------------------- traffic light, inbox, figures


@pytest.mark.parametrize(
    ("today", "light"),
    [
        # Due Thu 8 Jan 2026. Working days up to it: from Tue 30 Dec: 31 Dec, 5, 6, 8 Jan = 4
        (date(2025, 12, 30), "green"),
        # from Wed 31 Dec: Mon 5, Tue 6, Thu 8 Jan (1-2 and 7 Jan are holidays) = 3 -> amber
        (date(2025, 12, 31), "amber"),
        (date(2026, 1, 2), "amber"),  # a holiday, still 3
        (date(2026, 1, 7), "amber"),  # 1
        (date(2026, 1, 8), "amber"),  # the due date itself: 0, not yet late
        (date(2026, 1, 9), "red"),
        (date(2026, 3, 1), "red"),
    ],
)
async def test_traffic_light_across_new_year(database, today, light):
    body = await make_body()
    response = await open_for(body, None, date(2025, 12, 12))  # due 8 January 2026
    assert services.traffic_light(response, today) == light
    assert services.traffic_light(await row(response.id), today) == light  # row dicts too


async def test_traffic_light_after_extension_and_answer(database):
    body = await make_body()
    response = await open_for(body, None, date(2026, 3, 20))  # due Wed 15 April 2026
    # Fri 10 April: 13, 14, 15 = 3 -> amber; Thu 9 April: 10, 13, 14, 15 = 4 -> green
    assert services.traffic_light(response, date(2026, 4, 9)) == "green"
    assert services.traffic_light(response, date(2026, 4, 10)) == "amber"
    assert services.traffic_light(response, date(2026, 4, 16)) == "red"
    await services.extend(response.id, actor_id=body.official.id, new_due_on=date(2026, 5, 15), reason="Survey",
                          today=date(2026, 4, 10))
    assert services.traffic_light(await row(response.id), date(2026, 4, 16)) == "green"
    await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2026, 6, 1))
    # answered late, but finished: never red
    assert services.traffic_light(await row(response.id), date(2026, 6, 2)) == "done"


async def test_inbox_sorted_by_due_date(database):
    body = await make_body()
    other = await make_body()
    today = date(2025, 12, 31)
    a = await open_for(body, None, date(2025, 12, 12))  # due Thu 8 Jan 2026: 3 working days left
    b = await open_for(body, None, date(2025, 12, 1))  # Dec 2..5, 8..12 (9), 15 (10), 17..19 (13), 22 (14), 23 -> Tue 23 Dec
    c = await open_for(body, None, date(2025, 12, 9))  # due Wed 31 Dec 2025 (see extension test)
    d = await open_for(body, None, date(2025, 12, 1))  # due 23 Dec, extended to 20 Feb 2026
    await services.extend(d.id, actor_id=body.official.id, new_due_on=date(2026, 2, 20), reason="Survey",
                          today=date(2025, 12, 22))
    e = await open_for(body, None, date(2025, 11, 3))  # answered: not in the inbox
    await services.answer(e.id, actor_id=body.official.id, text="Done.", today=date(2025, 11, 20))
    await open_for(other, None, date(2025, 11, 3))  # another body's

    items = await services.inbox([body.id], today=today)
    assert [(i["id"], i["effective_due_on"], i["light"], i["working_days_left"]) for i in items] == [
        # 23 Dec -> 31 Dec: 24, 25, 26, 29, 30, 31 = 6 working days late
        (b.id, date(2025, 12, 23), "red", -6),
        (c.id, date(2025, 12, 31), "amber", 0),
        (a.id, date(2026, 1, 8), "amber", 3),
        (d.id, date(2026, 2, 20), "green", services.working_days_between(today, date(2026, 2, 20))),
    ]
    assert [i["id"] for i in await services.inbox([body.id], today=today, state="extended")] == [d.id]
    assert [i["id"] for i in await services.inbox([body.id], today=today, state="answered")] == [e.id]
    assert await services.inbox([], today=today) == []
    both = await services.inbox([body.id, other.id], today=today)
    assert len(both) == 5 and [i["effective_due_on"] for i in both] == sorted(i["effective_due_on"] for i in both)


async def test_organisation_figures(database):
    body = await make_body()
    other = await make_body()
    citizen = await make_user()
    received = date(2025, 9, 2)  # Tue 2 Sep 2025 -> due Tue 23 Sep 2025 (no holidays in between)
    official = body.official.id

    async def answered(on: date, rating: int | None = None, at: Body = body, extend_to: date | None = None):
        response = await open_for(at, citizen, received)
        if extend_to:
            await services.extend(response.id, actor_id=at.official.id, new_due_on=extend_to, reason="Survey",
                                  today=date(2025, 9, 15))
        await services.answer(response.id, actor_id=at.official.id, text="Answer.", today=on)
        if rating is not None:
            await services.rate(response.id, user_id=citizen.id, rating=rating, solved=True)
        return response

    await answered(date(2025, 9, 9), rating=5)  # 3, 4, 5, 8, 9: 5 working days, on time
    await answered(date(2025, 9, 23), rating=4)  # 15 working days, on the due date: on time
    await answered(date(2025, 9, 24), rating=1)  # 16 working days: late
    await answered(date(2025, 10, 14), extend_to=date(2025, 10, 15))  # 20 in Sep + 10 in Oct = 30, on time
    # received by the other body and forwarded to ours on Wed 3 Sep, answered Wed 10 Sep
    # (6 working days after 2 Sep), rated 3: counts in our figures, the forward in theirs
    moved = await open_for(other, citizen, received)
    await services.forward(moved.id, actor_id=other.official.id, to_organisation_id=body.id, today=date(2025, 9, 3))
    await services.answer(moved.id, actor_id=official, text="Answer.", today=date(2025, 9, 10))
    await services.rate(moved.id, user_id=citizen.id, rating=3, solved=True)
    # two we forwarded away on Thu 4 Sep (2 working days after receipt)
    for _ in range(2):
        away = await open_for(body, citizen, received)
        await services.forward(away.id, actor_id=official, to_organisation_id=other.id, today=date(2025, 9, 4))
    await open_for(body, citizen, received)  # still open, due 23 Sep: overdue on 1 Oct

    figures = await services.organisation_figures(body.id, today=date(2025, 10, 1))
    assert figures == {
        "answered": 5,
        "answered_on_time_percent": 80.0,  # 4 of 5 (only the 16-day one was late)
        "median_days_to_answer": 15,  # 5, 6, 15, 16, 30
        "forward_count": 2,  # the two we forwarded away, not the one forwarded to us
        "mean_rating": 3.25,  # (5 + 4 + 1 + 3) / 4
        "overdue_open": 1,
    }
    assert await services.organisation_figures(other.id, today=date(2025, 10, 1)) == {
        "answered": 0,
        "answered_on_time_percent": None,
        "median_days_to_answer": None,
        "forward_count": 1,
        "mean_rating": None,
        "overdue_open": 2,  # the two we sent them, due 23 Sep
    }


async def test_history_hides_private_events_unless_asked(database):
    body = await make_body()
    target = await make_body()
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 3, 7))
    await services.acknowledge(response.id, actor_id=body.official.id, specialist_id=body.official.id)
    await services.forward(response.id, actor_id=body.official.id, to_organisation_id=target.id,
                           note="Internal: wrong department again", today=date(2025, 3, 11))
    await services.extend(response.id, actor_id=target.official.id, new_due_on=date(2025, 5, 5),
                          reason="Expert survey", today=date(2025, 3, 20))
    await services.answer(response.id, actor_id=target.official.id, text="We will fix it.", today=date(2025, 4, 30))
    await services.rate(response.id, user_id=citizen.id, rating=1, solved=False)

    staff = await services.history(response.id, include_private=True)
    assert [(e["kind"], e["note"]) for e in staff] == [
        ("received", ""),
        ("acknowledged", ""),
        ("forwarded", "Internal: wrong department again"),
        ("extended", "Expert survey"),
        ("answered", "We will fix it."),
        ("rated", "1"),
        ("escalated", "low_rating"),
    ]
    assert staff[2]["organisation"] == body.id  # the body that forwarded it
    public = await services.history(response.id)
    assert [(e["kind"], e["note"]) for e in public] == [
        ("received", ""),
        ("acknowledged", ""),
        ("forwarded", ""),
        ("extended", "Expert survey"),
        ("answered", "We will fix it."),
    ]


# --------------------------------------------------------------------------- bad input


async def test_unknown_response_is_refused_everywhere(database):
    body = await make_body()
    target = await make_body()
    citizen = await make_user()
    missing = 10**9
    for attempt in (
        services.acknowledge(missing, actor_id=body.official.id, specialist_id=body.official.id),
        services.start_work(missing, actor_id=body.official.id),
        services.forward(missing, actor_id=body.official.id, to_organisation_id=target.id),
        services.extend(missing, actor_id=body.official.id, new_due_on=date(2030, 1, 1), reason="x"),
        services.answer(missing, actor_id=body.official.id, text="x"),
        services.rate(missing, user_id=citizen.id, rating=3, solved=True),
        services.close(missing, actor_id=body.official.id),
    ):
        await refused(NOT_FOUND, attempt)
    assert await AuditEntry.count().where(AuditEntry.subject == f"responses:{missing}") == 0
    assert await ResponseEvent.count().where(ResponseEvent.response == missing) == 0


async def test_empty_answer_changes_nothing(database):
    body = await make_body()
    citizen = await make_user()
    response = await open_for(body, citizen, date(2025, 9, 2))
    for empty in ("", "   \n\t ", None):
        error = await unchanged_after(response.id, "An answer cannot be empty.",
                                      services.answer(response.id, actor_id=body.official.id, text=empty))
        assert error.translated("en") == "An answer cannot be empty."
    stored = await row(response.id)
    assert stored["state"] == ResponseState.RECEIVED and stored["answer"] is None
    assert len(await notes_of(citizen)) == 1  # only the receipt


async def test_finished_responses_refuse_further_work(database):
    body = await make_body()
    target = await make_body()
    response = await open_for(body, None, date(2025, 9, 2))
    await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 3))
    official = body.official.id
    for msgid, attempt in (
        ("This response can no longer be acknowledged.",
         services.acknowledge(response.id, actor_id=official, specialist_id=official)),
        ("Work on this response has already started or it is finished.",
         services.start_work(response.id, actor_id=official)),
        ("This response can no longer be forwarded.",
         services.forward(response.id, actor_id=official, to_organisation_id=target.id, today=date(2025, 9, 3))),
        ("This response is already answered or closed.",
         services.extend(response.id, actor_id=official, new_due_on=date(2025, 10, 1), reason="x",
                         today=date(2025, 9, 3))),
    ):
        await unchanged_after(response.id, msgid, attempt)


def test_subject_row_ids_are_whole_numbers_a_database_can_hold():
    from civic.db import subject_row_id

    assert subject_row_id("ideas:42") == 42
    assert subject_row_id("ideas:2147483647") == 2147483647
    for subject in ("ideas:2147483648", "ideas:7247424541", "ideas:0", "ideas:-3", "ideas:4a", "ideas:", "ideas", ""):
        assert subject_row_id(subject) is None, subject


async def test_answering_a_subject_no_module_row_can_have_changes_nothing_in_the_modules(database):
    """A module's answer hook meets a subject whose number is beyond a row id (on PostgreSQL a
    query with it would fail): the answer goes through, the module finds nothing of its own."""
    import modules.appeals  # noqa: F401 - their answer hooks
    import modules.ideas  # noqa: F401
    import modules.petitions  # noqa: F401

    body = await make_body()
    citizen = await make_user()
    for slug in ("ideas", "petitions", "appeals"):
        response = await open_for(body, citizen, date(2025, 9, 2), subject=f"{slug}:7247424541")
        await services.answer(response.id, actor_id=body.official.id, text="Done.", today=date(2025, 9, 3))
        assert (await row(response.id))["state"] == "answered"
