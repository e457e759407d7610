"""The Delphi demo's loader (the data is fixtures/delphi.yaml). Demo Delphi studies for the demo akimats: 20 demo experts; a finished and published study
of three rounds (the kindergarten-place forecast of Aral district) and a foresight study of the
Aral saxaul forests to 2050s, open in round 2 with a roadmap.

Idempotent: a study is found by its title and left as it is when it exists. Answers are
generated deterministically (seeded): each expert starts from their own view, most move towards
the group in later rounds, two keep a minority view with their reasons. The demo people get
notifications in the app but no mail. Every demo expert signs in with the demo password.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from civic.accounts.passwords import hash_password
from civic.accounts.tables import Membership, Role, User
from civic.clock import now_utc
from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, email, ensure_core_demo, fixture, offset, organisation_ids
from civic.notify.tables import NotificationPreference, OutgoingMail
from civic.runtime import transaction
from civic.settings import Settings
from modules.delphi import services
from modules.delphi.tables import Answer, Item, Panelist, RoundResponse, Study

_FIXTURE = fixture("delphi")
_STUDIES = _FIXTURE["studies"]
EXPERT_NAMES = [(p["name"], p["field"]) for p in _FIXTURE["experts"]["people"]]
ORGANISER_EMAIL = email(_FIXTURE["organiser"]["email"])
KINDERGARTEN = _STUDIES["kindergarten"]["title"]
FOREST = _STUDIES["forest"]["title"]


def expert_email(n: int) -> str:
    return email(_FIXTURE["experts"]["email"].format(n=n))


def _questions(study: str) -> list[dict]:
    """The study's questions as add_question's arguments (without the fixture's "truth")."""
    return [{k: v for k, v in q.items() if k != "truth"} for q in _STUDIES[study].get("questions", ())]


async def _people(settings: Settings, organisations: dict[str, int]) -> tuple[dict, list[dict]]:
    emails = [expert_email(n) for n in range(1, len(EXPERT_NAMES) + 1)] + [ORGANISER_EMAIL]
    have = {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(User.email.is_in(emails))}
    password_hash = None
    async with transaction():
        for n, (name, _) in enumerate(EXPERT_NAMES, start=1):
            if expert_email(n) not in have:
                password_hash = password_hash or hash_password(DEMO_PASSWORD, settings.password_hash_profile)
                user = User(email=expert_email(n), display_name=name, password_hash=password_hash,
                            language="ru" if n % 3 else "kk", verification=1)
                await user.save()
                have[user.email] = user.id
                await NotificationPreference.insert(NotificationPreference(user=user.id, kind="delphi",
                                                                           delivery="off"))
        if ORGANISER_EMAIL not in have:
            password_hash = password_hash or hash_password(DEMO_PASSWORD, settings.password_hash_profile)
            user = User(email=ORGANISER_EMAIL, display_name=_FIXTURE["organiser"]["name"],
                        password_hash=password_hash, language=_FIXTURE["organiser"]["language"], verification=1)
            await user.save()
            have[ORGANISER_EMAIL] = user.id
        for slug in _FIXTURE["organiser"]["organiser_of"]:
            if not await Membership.exists().where((Membership.user == have[ORGANISER_EMAIL])
                                                   & (Membership.organisation == organisations[slug])
                                                   & (Membership.role == Role.ORGANISER)):
                await Membership(user=have[ORGANISER_EMAIL], organisation=organisations[slug],
                                 role=Role.ORGANISER).save()
    users = {r["id"]: r for r in await User.select().where(User.id.is_in(list(have.values())))}
    organiser = users[have[ORGANISER_EMAIL]]
    experts = [users[have[expert_email(n)]] for n in range(1, len(EXPERT_NAMES) + 1)]
    return organiser, experts


async def _seat(settings: Settings, organiser: dict, study: dict, experts: list[dict], now: datetime) -> None:
    for n, expert in enumerate(experts):
        field = next(f for name, f in EXPERT_NAMES if name == expert["display_name"])
        invited = await services.invite(settings, organiser, study["id"], expert["email"], field)
        await services.respond(settings, expert, invited["token"], True)
    await Panelist.update({Panelist.invited_at: now, Panelist.responded_at: now + timedelta(days=1)}).where(
        Panelist.study == study["id"])


async def _answer(settings: Settings, study: dict, round_row: dict, expert: dict, given: dict) -> None:
    """Write an expert's answers of a (possibly past) round straight into their pseudonymous rows."""
    items = {i["code"]: i for i in await services.items_of(round_row["id"])}
    pseudonym = await services.pseudonym_of(settings, study["id"], expert["id"])
    async with transaction():
        for code, (value, justification) in given.items():
            item = items.get(code)
            if item is None:
                continue
            changes = {Answer.justification: justification}
            if item["kind"] == "text":
                changes[Answer.text] = value
            elif item["kind"] == "ranking":
                changes[Answer.ranking] = value
            else:
                changes[Answer.value] = value
            await Answer.update(changes).where((Answer.item == item["id"]) & (Answer.pseudonym == pseudonym["id"]))
        await RoundResponse.update({RoundResponse.submitted: True}).where(
            (RoundResponse.round == round_row["id"]) & (RoundResponse.pseudonym == pseudonym["id"]))


def _opinion(rng: random.Random, truth: float, spread: float, n: int, minority: set[int]) -> list[float]:
    """Each expert's starting view: most around the truth, the minority far from it."""
    views = []
    for i in range(n):
        if i in minority:
            views.append(truth + spread * (2.5 if i % 2 else -2.2))
        else:
            views.append(truth + rng.gauss(0, spread))
    return views


def _in_round(view: float, truth: float, number: int, minority: bool) -> float:
    """Later rounds: most experts move towards the group; the minority holds its view."""
    if minority:
        return view
    return truth + (view - truth) * {1: 1.0, 2: 0.25, 3: 0.18}.get(number, 0.15)


REASONS: dict[str, list[str]] = _FIXTURE["reasons"]


def _reason(rng: random.Random, value: float, truth: float, spread: float) -> str:
    if value < truth - spread:
        return rng.choice(REASONS["low"])
    if value > truth + spread:
        return rng.choice(REASONS["high"])
    return rng.choice(REASONS["mid"])


async def _kindergarten(settings: Settings, organiser: dict, experts: list[dict], organisations: dict,
                        progress: Callable[[str], None]) -> None:
    spec = _STUDIES["kindergarten"]
    rng = random.Random(spec["seed"])
    start = now_utc() + offset(spec["started"])
    study = await services.create_study(
        organiser, organisation_id=organisations[spec["organisation"]], title=spec["title"], lang=spec["lang"],
        kind=spec["kind"], horizon_year=None, planned_rounds=spec["planned_rounds"], purpose=spec["purpose"])
    q = dict(user=organiser, study_id=study["id"])
    for question in _questions("kindergarten"):
        await services.add_question(**q, **question)
    first, last = spec["panel"]
    panel = experts[first:last]
    await _seat(settings, organiser, study, panel, start)
    truths = {f"Q{n}": tuple(question["truth"]) for n, question in enumerate(spec["questions"], start=1)
              if "truth" in question}
    minority = set(spec["minority"])
    views = {code: _opinion(rng, t, s, len(panel), minority) for code, (t, s) in truths.items()}
    for number in (1, 2, 3):
        progress(f"Demo Delphi: the kindergarten forecast, round {number} of 3…")
        opened = start + timedelta(days=10 + 30 * (number - 1))
        round_row = await services.open_round(settings, organiser, study["id"], opened + timedelta(days=14),
                                              now=opened)
        for i, expert in enumerate(panel):
            if number == 2 and i == 11:
                continue  # one expert missed round 2
            given = {}
            for code, (truth, spread) in truths.items():
                value = _in_round(views[code][i], truth, number, i in minority)
                if code == "Q2":
                    value = max(0, min(100, round(value)))
                elif code == "Q3":
                    value = max(2026, min(2045, round(value)))
                elif code == "Q4":
                    value = max(1, min(9, round(value)))
                else:
                    value = max(0, round(value, -1))
                given[code] = (value, _reason(rng, value, truth, spread) if code == "Q1" else
                               rng.choice(REASONS["mid"]) if i not in minority else
                               spec["minority_prefix"] + rng.choice(REASONS["high"]).lower())
            given["Q5"] = (rng.choice(spec["measures"]), spec["measures_reason"])
            await _answer(settings, study, round_row, expert, given)
        await services.close_round(organiser, study["id"], now=opened + timedelta(days=14))
        await services.analyse_round(organiser, study["id"], spec["analysis"].format(number=number),
                                     now=opened + timedelta(days=16))
        if number < 3:
            await services.next_round(settings, organiser, study["id"])
            current = await services.latest_round(study["id"])
            for item in await services.items_of(current["id"]):
                if item["kind"] == "text":
                    await services.drop_item(organiser, study["id"], item["id"])
    await services.finish(settings, organiser, study["id"], spec["result"], now=start + timedelta(days=90))
    await services.publish(organiser, study["id"], now=start + timedelta(days=91))


async def _forest(settings: Settings, organiser: dict, experts: list[dict], organisations: dict,
                  progress: Callable[[str], None]) -> None:
    spec = _STUDIES["forest"]
    rng = random.Random(spec["seed"])
    now = now_utc()
    start = now + offset(spec["started"])
    study = await services.create_study(
        organiser, organisation_id=organisations[spec["organisation"]], title=spec["title"], lang=spec["lang"],
        kind=spec["kind"], horizon_year=now.year + spec["horizon"], planned_rounds=spec["planned_rounds"],
        purpose=spec["purpose"])
    q = dict(user=organiser, study_id=study["id"])
    roadmap = [tuple(item) for item in spec["roadmap"]]
    for text, _, _ in roadmap:
        await services.add_question(**q, kind="year", min_value=str(now.year), max_value=str(now.year + 30),
                                    roadmap=True, text=text)
    for question in _questions("forest"):
        await services.add_question(**q, **question)
    first, last = spec["panel"]
    panel = experts[first:last]
    await _seat(settings, organiser, study, panel, start)
    minority = set(spec["minority"])
    views = {text: _opinion(rng, year, spread, len(panel), minority) for text, year, spread in roadmap}
    progress("Demo Delphi: the forest foresight, rounds 1 and 2…")
    for number in (1, 2):
        opened = start + timedelta(days=1 + 25 * (number - 1))
        deadline = opened + timedelta(days=14) if number == 1 else now + timedelta(days=12)
        round_row = await services.open_round(settings, organiser, study["id"], deadline, now=opened)
        answering = panel if number == 1 else panel[:9]  # round 2 is still open: 9 of 15 have answered
        for i, expert in enumerate(answering):
            given = {}
            for n, (text, year, spread) in enumerate(roadmap, start=1):
                value = max(now.year, min(now.year + 30, round(_in_round(views[text][i], year, number, i in minority))))
                reason = ("Опыт Казахстана и Узбекистана показывает, что это займёт больше времени."
                          if value > year + spread else "Исхожу из текущих темпов посадок и финансирования."
                          if abs(value - year) <= spread else "При международном финансировании возможно раньше.")
                given[f"Q{n}"] = (value, reason)
            order = [0, 2, 1, 3, 4] if i % 3 else [2, 0, 1, 4, 3]
            if i in minority:
                order = [4, 3, 0, 1, 2]
            given["Q5"] = (order, "Без участия жителей аулов посадки не сохранить." if i in minority
                           else "Без саженцев и охраны ничего не вырастет.")
            given["Q6"] = (4 if i not in minority else 2, "Зависит от полива в первые два года.")
            await _answer(settings, study, round_row, expert, given)
        if number == 1:
            await services.close_round(organiser, study["id"], now=opened + timedelta(days=14))
            await services.analyse_round(organiser, study["id"], "Первый раунд: сроки сходятся, кроме пыльных бурь.",
                                         now=opened + timedelta(days=15))
            await services.next_round(settings, organiser, study["id"])
            # everything again in round 2, so the roadmap is complete
            current = await services.latest_round(study["id"])
            asked = {i["question"] for i in await Item.select(Item.question).where(Item.round == current["id"])}
            for question in await services.questions_of(study["id"]):
                if question["id"] not in asked:
                    await services.restore_question(organiser, study["id"], question["id"])


async def load_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the Delphi demo (idempotent); returns how many studies were created."""
    def step(message: str) -> None:
        if progress:
            progress(message)

    await ensure_core_demo(settings, progress)
    organisations = await organisation_ids()
    missing = [title for title in (KINDERGARTEN, FOREST) if not await Study.exists().where(Study.title == title)]
    if not missing:
        return {"studies": 0}
    last_mail = (await OutgoingMail.select(OutgoingMail.id).order_by(OutgoingMail.id, ascending=False).first()
                 or {"id": 0})["id"]
    organiser, experts = await _people(settings, organisations)
    if KINDERGARTEN in missing:
        await _kindergarten(settings, organiser, experts, organisations, step)
    if FOREST in missing:
        await _forest(settings, organiser, experts, organisations, step)
    await OutgoingMail.delete().where((OutgoingMail.id > last_mail) & OutgoingMail.sent_at.is_null()
                                      & OutgoingMail.to_address.like(f"%@{DEMO_EMAIL_DOMAIN}"))
    step(f"Demo Delphi: {len(missing)} studies created")
    return {"studies": len(missing)}
