"""The rules of Delphi studies, as plain functions (no web here).

Sources, cited on the functions that implement them:

* DOMAIN.md §3 "Delphi method for working groups" (report lines 1861–1953): a panel informed on
  the topic and **stable in size and membership**; rounds of clear questions answered **as
  numbers where possible**, every answer **justified**; analysis and an improved questionnaire;
  repeat until agreement, **at least 3 rounds when opinions diverge widely**; anonymous answers,
  aggregates fed back to the group; the report's warning that creative minority ideas get
  filtered out — Ashyq keeps minority justifications in view. Foresight (lines 1698–1736):
  25–30 years, ends in a roadmap; "critical technologies": 5–10 years.
* The Delphi issue: studies and panels, question types, the round lifecycle draft → open →
  closed → analysed → next round, feedback, configurable consensus, reminders and drafts, and
  anonymity that can be shown: answers are stored against a per-study pseudonym (see
  ``tables``), organisers see response rates only, statistics are withheld below 3 answers.

Every mutating function runs in one write transaction: it happens completely or not at all.
Refusals raise the core's :mod:`civic.rules` (``RuleError`` 400, ``Denied`` 403, ``NotFound``
404), each carrying an English msgid; the app's one handler renders them.
Answering an expert's round is never written to the audit log, and answers carry no
timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from civic.accounts.services import audit, normalise_email
from civic.accounts.tables import Role, User
from civic.clock import now_utc
from civic.i18n.runtime import N_, translator
from civic.notify.services import queue_mail, tell
from civic.permissions import Action, is_active, may, organisations_where
from civic.rules import Denied, NotFound, RuleError
from civic.runtime import transaction
from civic.settings import Settings, load_settings
from civic.territory.tables import Organisation
from modules.delphi import statistics as st
from modules.delphi.tables import Answer, Item, Panelist, Pseudonym, Question, Round, RoundResponse, Study
from search.documents import Document
from search.outbox import record_changed

# --------------------------------------------------------------------------- vocabularies

STUDY_KINDS = {
    "classic": N_("Classic Delphi"),
    "foresight": N_("Foresight: 25–30 years ahead, ending in a roadmap"),
    "critical_technologies": N_("Critical technologies: 5–10 years ahead"),
}
HORIZONS = {"classic": None, "foresight": (25, 30), "critical_technologies": (5, 10)}
QUESTION_KINDS = {
    "numeric": N_("Numeric estimate"),
    "scale": N_("Scale"),
    "probability": N_("Probability in percent"),
    "year": N_("Year of an event"),
    "ranking": N_("Ranking of options"),
    "text": N_("Free text"),
}
STUDY_STATES = {"draft": N_("Being prepared"), "running": N_("Running"), "finished": N_("Finished")}
ROUND_STATES = {"draft": N_("Draft"), "open": N_("Open for answers"), "closed": N_("Closed"),
                "analysed": N_("Analysed")}
PANEL_STATES = {"invited": N_("Invited"), "accepted": N_("On the panel"), "declined": N_("Declined"),
                "removed": N_("Removed")}
CONSENSUS_STATES = {
    st.CONSENSUS: N_("Consensus"),
    st.CONVERGING: N_("Converging"),
    st.STABLE_DISAGREEMENT: N_("Stable disagreement"),
    st.INSUFFICIENT: N_("Not enough answers"),
    st.NO_STATISTICS: N_("Free text: no statistics"),
}
RULES = {"iqr": N_("Interquartile range at most a bound"), "band": N_("A share of answers near the median")}

ORGANISER_ROLES = (Role.ORGANISER, Role.ADMINISTRATOR)
STUDY_TOPIC = "delphi.study"  # the notification kind of every message about a study
MIN_PANEL = 3  # a round opens only with at least this many accepted experts
REMIND_BEFORE = timedelta(days=2)
TITLE_LENGTH = (5, 200)
TEXT_LENGTH = 2000
JUSTIFICATION_LENGTH = 4000
MAX_OPTIONS = 12


class AnswerErrors(RuleError):
    """Several answers of a round were refused: {field name: (msgid, params)}."""

    def __init__(self, errors: dict[str, tuple[str, dict]]) -> None:
        self.errors = errors
        super().__init__(N_("Some answers need your attention."))


def new_key() -> str:
    return secrets.token_urlsafe(9)[:12]


# --------------------------------------------------------------------------- anonymity


def pseudonym_key(secret_key: str, study_id: int, user_id: int) -> str:
    """The expert's pseudonym in a study: HMAC-SHA256(secret, "delphi:<study>:<user>"). Without
    the application's secret nobody can tell whose pseudonym it is."""
    return hmac.new(secret_key.encode(), f"delphi:{study_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _ensure_pseudonyms(settings: Settings, study_id: int, user_ids: list[int]) -> dict[int, int]:
    """Pseudonyms for these people (created in a random order, with random labels); returns
    {user id: pseudonym id}. Inside the caller's transaction."""
    keys = {uid: pseudonym_key(settings.secret_key, study_id, uid) for uid in user_ids}
    existing = {r["key"]: r for r in await Pseudonym.select(Pseudonym.id, Pseudonym.key, Pseudonym.label).where(
        Pseudonym.study == study_id)} if keys else {}
    missing = [uid for uid in user_ids if keys[uid] not in existing]
    if missing:
        rng = random.SystemRandom()
        rng.shuffle(missing)
        used = {r["label"] for r in existing.values()}
        pool = [n for n in range(1, max(100, 10 * (len(existing) + len(missing))) + 1) if n not in used]
        labels = rng.sample(pool, len(missing))
        await Pseudonym.insert(*[Pseudonym(study=study_id, key=keys[uid], label=label)
                                 for uid, label in zip(missing, labels)])
        existing = {r["key"]: r for r in await Pseudonym.select(Pseudonym.id, Pseudonym.key, Pseudonym.label).where(
            Pseudonym.study == study_id)}
    return {uid: existing[keys[uid]]["id"] for uid in user_ids}


async def pseudonym_of(settings: Settings, study_id: int, user_id: int) -> dict | None:
    return await Pseudonym.select().where((Pseudonym.study == study_id) & (
        Pseudonym.key == pseudonym_key(settings.secret_key, study_id, user_id))).first()


async def _prepare_round_rows(round_id: int, pseudonym_ids: list[int], item_ids: list[int]) -> None:
    """The round's response and (empty) answer rows for these pseudonyms, in a random order:
    answering then only updates rows, so neither ids nor row order tell who answered when."""
    have = {r["pseudonym"] for r in await RoundResponse.select(RoundResponse.pseudonym).where(
        RoundResponse.round == round_id)}
    new = [p for p in pseudonym_ids if p not in have]
    if not new:
        return
    rng = random.SystemRandom()
    rng.shuffle(new)
    await RoundResponse.insert(*[RoundResponse(round=round_id, pseudonym=p, submitted=False) for p in new])
    rows = [Answer(round=round_id, item=item_id, pseudonym=p, value=None, ranking=[], text="", justification="")
            for p in new for item_id in item_ids]
    rng.shuffle(rows)
    for start in range(0, len(rows), 500):
        await Answer.insert(*rows[start:start + 500])


# --------------------------------------------------------------------------- who may do what


#: Organising a study (panel, questions, rounds, report): organisers and administrators of the
#: study's organisation or a body above it, and platform administrators (civic.permissions).
MANAGE = Action("delphi.manage", roles=ORGANISER_ROLES)


async def may_manage(user: dict | None, study: dict) -> bool:
    """Organisers (and administrators) of the study's organisation or a body above it, and
    platform administrators."""
    return bool(study.get("organisation")) and await may(user, MANAGE, study["organisation"])


async def organisations_for_studies(user: dict | None) -> list[dict]:
    """Where the person may start a study: organisations where they are an organiser or an
    administrator (every organisation for a platform administrator)."""
    if not is_active(user):
        return []
    query = Organisation.select(Organisation.id, Organisation.slug, Organisation.name_kk, Organisation.name_ru,
                                Organisation.name_en)
    if not user.get("is_admin"):
        ids = await organisations_where(user, ORGANISER_ROLES)
        if not ids:
            return []
        query = query.where(Organisation.id.is_in(ids))
    return await query.order_by(Organisation.name_en)


async def panelist_of(user: dict | None, study_id: int) -> dict | None:
    if not user:
        return None
    return await Panelist.select().where((Panelist.study == study_id) & (Panelist.user == user["id"])).first()


async def access(user: dict | None, study: dict) -> dict:
    """What the person may do with the study: manage, answer (an accepted expert), see results."""
    manage = await may_manage(user, study)
    panelist = await panelist_of(user, study["id"])
    member = bool(panelist and panelist["state"] == "accepted")
    public = study["published_at"] is not None
    return {"manage": manage, "panelist": panelist, "member": member,
            "see": manage or public or bool(panelist and panelist["state"] in ("accepted", "invited")),
            "results": manage or public or (member and study["state"] == "finished"),
            "answers": manage or (member and study["state"] == "finished"),  # justifications, CSV
            "public": public}


# --------------------------------------------------------------------------- reading


async def get_study(key: str) -> dict | None:
    if not key or len(key) > 16:
        return None
    return await Study.select(Study.all_columns(), Study.organisation.name_kk.as_alias("organisation_name_kk"),
                              Study.organisation.name_ru.as_alias("organisation_name_ru"),
                              Study.organisation.name_en.as_alias("organisation_name_en"),
                              Study.organisation.slug.as_alias("organisation_slug")).where(Study.key == key).first()


async def _study_by_id(study_id: int) -> dict:
    row = await Study.select(Study.key).where(Study.id == study_id).first()
    if row is None:
        raise NotFound(N_("This study does not exist."))
    return await get_study(row["key"])


async def rounds_of(study_id: int) -> list[dict]:
    return await Round.select().where(Round.study == study_id).order_by(Round.number)


async def latest_round(study_id: int) -> dict | None:
    return await Round.select().where(Round.study == study_id).order_by(Round.number, ascending=False).first()


async def questions_of(study_id: int) -> list[dict]:
    return await Question.select().where(Question.study == study_id).order_by(
        Question.position, Question.id).output(load_json=True)


async def items_of(round_id: int) -> list[dict]:
    return await Item.select(Item.all_columns(), Item.question.code.as_alias("code"),
                             Item.question.kind.as_alias("kind"), Item.question.unit.as_alias("unit"),
                             Item.question.min_value.as_alias("min_value"),
                             Item.question.max_value.as_alias("max_value"),
                             Item.question.scale_max.as_alias("scale_max"),
                             Item.question.options.as_alias("options"),
                             Item.question.tolerance.as_alias("tolerance"),
                             Item.question.roadmap.as_alias("roadmap"),
                             Item.question.origin.as_alias("origin")).where(
        Item.round == round_id).order_by(Item.position, Item.id).output(load_json=True)


async def list_studies(user: dict | None) -> dict:
    """Published studies for everyone; the person's own (as organiser or expert) besides."""
    columns = (Study.id, Study.key, Study.title, Study.kind, Study.state, Study.lang, Study.published_at,
               Study.created_at, Study.organisation, Study.organisation.name_kk.as_alias("organisation_name_kk"),
               Study.organisation.name_ru.as_alias("organisation_name_ru"),
               Study.organisation.name_en.as_alias("organisation_name_en"))
    published = await Study.select(*columns).where(Study.published_at.is_not_null()).order_by(
        Study.published_at, ascending=False)
    managed, invited = [], []
    if user:
        organisations = await organisations_for_studies(user)
        if user.get("is_admin"):
            managed = await Study.select(*columns).order_by(Study.id, ascending=False)
        elif organisations:
            ids = set()
            for o in organisations:  # and the bodies below: a study of a department of the akimat
                ids.add(o["id"])
            children = {}
            for o in await Organisation.select(Organisation.id, Organisation.parent):
                if o["parent"]:
                    children.setdefault(o["parent"], []).append(o["id"])
            stack = list(ids)
            while stack:
                current = stack.pop()
                for child in children.get(current, []):
                    if child not in ids:
                        ids.add(child)
                        stack.append(child)
            managed = await Study.select(*columns).where(Study.organisation.is_in(sorted(ids))).order_by(
                Study.id, ascending=False)
        invited = await Panelist.select(
            Panelist.state, Panelist.field, Panelist.study.key.as_alias("key"),
            Panelist.study.title.as_alias("title"), Panelist.study.state.as_alias("study_state"),
            Panelist.study.lang.as_alias("lang")).where(
            (Panelist.user == user["id"]) & Panelist.state.is_in(["invited", "accepted"])).order_by(
            Panelist.id, ascending=False)
    return {"published": published, "managed": managed, "invited": invited}


async def panel_of(study_id: int) -> list[dict]:
    return await Panelist.select(Panelist.all_columns(), Panelist.user.display_name.as_alias("name")).where(
        Panelist.study == study_id).order_by(Panelist.id)


async def response_counts(round_id: int) -> dict:
    """How many experts of the round sent their answers (never who)."""
    rows = await RoundResponse.select(RoundResponse.submitted).where(RoundResponse.round == round_id)
    return {"submitted": sum(1 for r in rows if r["submitted"]), "panel": len(rows)}


# --------------------------------------------------------------------------- creating a study


def _clean(value: str, length: tuple[int, int], msgid: str, field: str) -> str:
    value = " ".join((value or "").split()) if length[1] <= 200 else (value or "").strip()
    if not length[0] <= len(value) <= length[1]:
        raise RuleError(msgid, field, min=length[0], max=length[1])
    return value


def _number(value, msgid: str, field: str, *, low: float | None = None, high: float | None = None,
            optional: bool = True, message: dict | None = None) -> float | None:
    """A number from a form field within [low, high]; ``message`` fills the msgid's placeholders."""
    message = message or {}
    if value in (None, ""):
        if optional:
            return None
        raise RuleError(msgid, field, **message)
    try:
        number = float(str(value).replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        raise RuleError(msgid, field, **message) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RuleError(msgid, field, **message)
    if (low is not None and number < low) or (high is not None and number > high):
        raise RuleError(msgid, field, **message)
    return number


async def create_study(user: dict, *, organisation_id: int | None, title: str, purpose: str, kind: str,
                       horizon_year, planned_rounds, lang: str = "ru", consensus_rule: str = "iqr",
                       iqr_bound=1.0, band_share=70, stability_bound=0.5, divergence_rounds=3,
                       justification_required: bool = True, today: date | None = None) -> dict:
    """An organiser of a working group starts a study (issue: "Studies and panels"): the topic,
    purpose, type, planned rounds and the consensus rule. Round 1 is created as a draft."""
    today = today or now_utc().date()
    allowed = {o["id"] for o in await organisations_for_studies(user)}
    if organisation_id not in allowed:
        raise Denied(N_("Only an organiser of the working group's organisation may start a study there."),
                           "organisation")
    title = _clean(title, TITLE_LENGTH, N_("Give the topic in %(min)s to %(max)s characters."), "title")
    purpose = (purpose or "").strip()
    if not 10 <= len(purpose) <= 5000:
        raise RuleError(N_("Say what the study is for in 10 to 5000 characters."), "purpose")
    if kind not in STUDY_KINDS:
        raise RuleError(N_("Choose a type of study from the list."), "kind")
    horizon = None
    if HORIZONS[kind]:
        low, high = HORIZONS[kind]
        horizon = _number(horizon_year, N_("Give the horizon as a year %(low)s to %(high)s years ahead."),
                          "horizon_year", low=today.year + low, high=today.year + high, optional=False,
                          message={"low": low, "high": high})
        if horizon is None or not float(horizon).is_integer():
            raise RuleError(N_("Give the horizon as a year %(low)s to %(high)s years ahead."), "horizon_year",
                              low=low, high=high)
    rounds = _number(planned_rounds, N_("Plan 2 to 10 rounds."), "planned_rounds", low=2, high=10, optional=False)
    if consensus_rule not in RULES:
        raise RuleError(N_("Choose a consensus rule from the list."), "consensus_rule")
    iqr = _number(iqr_bound, N_("Give the bound on the interquartile range as a number from 0.1 to 10."),
                  "iqr_bound", low=0.1, high=10, optional=False)
    share = _number(band_share, N_("Give the share of answers as a percentage from 50 to 100."), "band_share",
                    low=50, high=100, optional=False)
    stability = _number(stability_bound, N_("Give the stability bound as a number from 0 to 5."),
                        "stability_bound", low=0, high=5, optional=False)
    divergence = _number(divergence_rounds, N_("Give the rounds for wide divergence as a number from 2 to 10."),
                         "divergence_rounds", low=2, high=10, optional=False)
    if lang not in ("kk", "ru", "en"):
        lang = "ru"
    async with transaction():
        study = Study(key=new_key(), organisation=organisation_id, created_by=user["id"], title=title,
                      purpose=purpose, kind=kind, horizon_year=int(horizon) if horizon else None,
                      planned_rounds=int(rounds), lang=lang, state="draft", consensus_rule=consensus_rule,
                      iqr_bound=iqr, band_share=share / 100, stability_bound=stability,
                      divergence_rounds=int(divergence), justification_required=bool(justification_required),
                      created_at=now_utc())
        await study.save()
        await Round(study=study.id, number=1, state="draft").save()
        await audit(user["id"], "delphi.study.create", organisation_id=organisation_id, subject=f"delphi:{study.id}")
    return await get_study(study.key)


async def _managed(user: dict, study_id: int) -> dict:
    study = await _study_by_id(study_id)
    if not await may_manage(user, study):
        raise Denied(N_("Only the study's organisers may do this."))
    return study


# --------------------------------------------------------------------------- the panel


def panel_changes_after_round_one(rounds: list[dict]) -> bool:
    """After round 1 has opened, every change of the panel deserves a warning (DOMAIN.md: a
    panel stable in size and membership)."""
    return any(r["number"] >= 1 and r["opened_at"] is not None for r in rounds)


async def invite(settings: Settings, user: dict, study_id: int, email: str, field: str) -> dict:
    """Invite an expert by e-mail, with their field. An existing account is told in the app
    and by mail; anyone else gets a mail with the invitation link, opens it, creates an
    account and accepts. Returns {"panelist", "warning"}: the warning is set once round 1 has
    opened."""
    study = await _managed(user, study_id)
    if study["state"] == "finished":
        raise RuleError(N_("The study is finished: its panel no longer changes."))
    email = normalise_email(email or "")
    if "@" not in email or len(email) > 254 or " " in email:
        raise RuleError(N_("Enter a valid e-mail address."), "email")
    field = " ".join((field or "").split())
    if not 2 <= len(field) <= 200:
        raise RuleError(N_("Give the expert's field in 2 to 200 characters."), "field")
    token = secrets.token_urlsafe(24)
    async with transaction():
        if await Panelist.exists().where((Panelist.study == study_id) & (Panelist.email == email)):
            raise RuleError(N_("This person is already invited."), "email")
        rounds = await rounds_of(study_id)
        opened = [r for r in rounds if r["opened_at"] is not None]
        existing = await User.select(User.id, User.language).where(
            (User.email == email) & User.deleted_at.is_null()).first()
        panelist = Panelist(study=study_id, user=existing["id"] if existing else None, email=email, field=field,
                            token=token_hash(token), state="invited", invited_at=now_utc(),
                            invited_in_round=max((r["number"] for r in opened), default=0))
        await panelist.save()
        link = f"/delphi/invitations/{token}"
        if existing:
            await tell(existing["id"], STUDY_TOPIC, N_("You are invited to the Delphi study “%(title)s”"),
                       N_("Your field: %(field)s. Accept or decline the invitation."), link,
                       title=study["title"], field=field)
        else:
            t = translator(study["lang"] if study["lang"] in ("kk", "ru", "en") else "kk").gettext
            await queue_mail(email, t("You are invited to the Delphi study “%(title)s”") % {"title": study["title"]},
                             t("You are invited as an expert (%(field)s). Open this link, create an account with "
                               "this e-mail address or sign in, and accept or decline: %(url)s")
                             % {"field": field, "url": f"{settings.base_url}{link}"})
        await audit(user["id"], "delphi.panel.invite", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}")
    warning = N_("The panel changed after round 1. A Delphi panel should stay stable; the final report "
                 "shows every change.") if opened else ""
    return {"panelist": panelist.id, "warning": warning, "token": token}


async def invitation(token: str) -> dict | None:
    if not token or len(token) > 100:
        return None
    row = await Panelist.select().where(Panelist.token == token_hash(token)).first()
    if row is None:
        return None
    study = await _study_by_id(row["study"])
    return {"panelist": row, "study": study}


async def respond(settings: Settings, user: dict, token: str, accept: bool) -> dict:
    """The invited expert accepts or declines. The link binds the invitation to the signed-in
    account (a new account claims an invitation sent to its address). Accepting while a round
    is open lets the expert answer it at once."""
    found = await invitation(token)
    if found is None:
        raise NotFound(N_("This invitation does not exist."))
    panelist, study = found["panelist"], found["study"]
    if panelist["user"] not in (None, user["id"]):
        raise Denied(N_("This invitation was sent to someone else."))
    if panelist["user"] is None and normalise_email(user["email"]) != panelist["email"]:
        raise Denied(N_("This invitation was sent to another e-mail address. Sign in with the address "
                              "the invitation was sent to."))
    if panelist["state"] == "removed":
        raise RuleError(N_("The organisers have removed this invitation."))
    if study["state"] == "finished":
        raise RuleError(N_("The study is finished."))
    if panelist["state"] != "invited":
        raise RuleError(N_("You have already answered this invitation."))
    async with transaction():
        if await Panelist.exists().where((Panelist.study == study["id"]) & (Panelist.user == user["id"])
                                         & (Panelist.id != panelist["id"])):
            raise RuleError(N_("You are already on this study's panel."))
        changed = await Panelist.update({Panelist.user: user["id"], Panelist.state: "accepted" if accept else "declined",
                                         Panelist.responded_at: now_utc()}).where(
            (Panelist.id == panelist["id"]) & (Panelist.state == "invited")).returning(Panelist.id)
        if not changed:
            raise RuleError(N_("You have already answered this invitation."))
        # An expert who accepts while a round is open answers from the next round on: a
        # pseudonym created now, alone, would be the newest row and tell a database reader
        # whose it is; at the next opening it is created with the others', in a random order.
    return study


async def remove_panelist(user: dict, study_id: int, panelist_id: int) -> dict:
    """An organiser takes an expert off the panel (their answers stay, pseudonymous).
    Returns {"warning"} when round 1 has already opened."""
    study = await _managed(user, study_id)
    async with transaction():
        rounds = await rounds_of(study_id)
        opened = [r for r in rounds if r["opened_at"] is not None]
        changed = await Panelist.update({Panelist.state: "removed", Panelist.removed_at: now_utc(),
                                         Panelist.removed_in_round: max((r["number"] for r in opened), default=0)}
                                        ).where((Panelist.id == panelist_id) & (Panelist.study == study_id)
                                                & (Panelist.state != "removed")).returning(Panelist.id)
        if not changed:
            raise RuleError(N_("This expert is not on the panel."))
        await audit(user["id"], "delphi.panel.remove", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}")
    return {"warning": N_("The panel changed after round 1. A Delphi panel should stay stable; the final report "
                          "shows every change.") if opened else ""}


async def panel_stability(study_id: int) -> dict:
    """How stable the panel was (issue: "reports panel stability in the final report"): the
    experts at the opening of round 1, how many of them stayed, who joined or left later, and
    the share kept."""
    rounds = await rounds_of(study_id)
    panel = await Panelist.select(Panelist.state, Panelist.invited_in_round, Panelist.removed_in_round,
                                  Panelist.responded_at).where(Panelist.study == study_id)
    first = next((r for r in rounds if r["number"] == 1), None)
    initial = first["panel_size"] if first and first["opened_at"] else 0
    joined = sum(1 for p in panel if p["invited_in_round"] >= 1 and p["state"] in ("accepted", "removed")
                 and p["responded_at"] is not None)
    left = sum(1 for p in panel if p["state"] == "removed" and (p["removed_in_round"] or 0) >= 1)
    kept = max(0, initial - left)
    return {"initial": initial, "joined": joined, "left": left, "kept": kept,
            "share": (kept / initial) if initial else None,
            "sizes": [{"number": r["number"], "panel": r["panel_size"]} for r in rounds if r["opened_at"]]}


# --------------------------------------------------------------------------- questionnaires


def _parse_options(raw: str) -> list[str]:
    options = [" ".join(line.split()) for line in (raw or "").splitlines()]
    return [o[:200] for o in options if o]


async def _draft_round(study_id: int) -> dict:
    current = await latest_round(study_id)
    if current is None or current["state"] != "draft":
        raise RuleError(N_("Questions change only in a round that is still a draft."))
    return current


async def add_question(user: dict, study_id: int, *, kind: str, text: str, unit: str = "", min_value=None,
                       max_value=None, scale_max=9, options: str = "", tolerance=None, roadmap: bool = False,
                       origin: str = "") -> dict:
    """Add a question to the draft round (issue: "add new ones drawn from the round's comments":
    ``origin`` says where it came from)."""
    study = await _managed(user, study_id)
    if kind not in QUESTION_KINDS:
        raise RuleError(N_("Choose a type of question from the list."), "kind")
    text = (text or "").strip()
    if not 5 <= len(text) <= TEXT_LENGTH:
        raise RuleError(N_("Write the question in 5 to %(max)s characters."), "text", max=TEXT_LENGTH)
    low = high = None
    option_list: list[str] = []
    scale = 9
    if kind in ("numeric", "year"):
        low = _number(min_value, N_("The lowest allowed answer must be a number."), "min_value")
        high = _number(max_value, N_("The highest allowed answer must be a number."), "max_value")
        if low is not None and high is not None and low >= high:
            raise RuleError(N_("The lowest allowed answer must be below the highest."), "min_value")
        if kind == "year":
            low = low if low is not None else float(now_utc().year)
            high = high if high is not None else float(now_utc().year + 50)
    elif kind == "probability":
        low, high = 0.0, 100.0
    elif kind == "scale":
        scale = int(_number(scale_max, N_("A scale runs from 1 to 5 or from 1 to 9."), "scale_max") or 9)
        if scale not in (5, 9):
            raise RuleError(N_("A scale runs from 1 to 5 or from 1 to 9."), "scale_max")
        low, high = 1.0, float(scale)
    elif kind == "ranking":
        option_list = _parse_options(options)
        if not 2 <= len(option_list) <= MAX_OPTIONS or len(set(option_list)) != len(option_list):
            raise RuleError(N_("Give 2 to %(max)s different options to rank, one a line."), "options",
                              max=MAX_OPTIONS)
    unit_value = " ".join((unit or "").split())[:40]
    tolerance_value = None
    if kind not in ("ranking", "text"):
        tolerance_value = _number(tolerance, N_("The unit of agreement must be a positive number."), "tolerance",
                                  low=1e-9)
    async with transaction():
        current = await _draft_round(study_id)
        position = len(await Question.select(Question.id).where(Question.study == study_id)) + 1
        question = Question(study=study_id, code=f"Q{position}", kind=kind, unit=unit_value, min_value=low,
                            max_value=high, scale_max=scale, options=option_list, tolerance=tolerance_value,
                            roadmap=bool(roadmap) and kind == "year", origin=" ".join((origin or "").split())[:200],
                            added_in_round=current["number"], position=position)
        await question.save()
        items = await Item.select(Item.id).where(Item.round == current["id"])
        await Item(round=current["id"], question=question.id, text=text, position=len(items) + 1).save()
        await audit(user["id"], "delphi.question.add", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}")
    return {"question": question.id}


async def _draft_item(user: dict, study_id: int, item_id: int) -> tuple[dict, dict]:
    study = await _managed(user, study_id)
    current = await _draft_round(study_id)
    item = await Item.select().where((Item.id == item_id) & (Item.round == current["id"])).first()
    if item is None:
        raise RuleError(N_("This question is not in the draft round."))
    return study, item


async def reword_item(user: dict, study_id: int, item_id: int, text: str) -> None:
    """Change the wording of a question for the draft round (earlier rounds keep theirs)."""
    text = (text or "").strip()
    if not 5 <= len(text) <= TEXT_LENGTH:
        raise RuleError(N_("Write the question in 5 to %(max)s characters."), "text", max=TEXT_LENGTH)
    async with transaction():
        study, item = await _draft_item(user, study_id, item_id)
        await Item.update({Item.text: text}).where(Item.id == item_id)


async def drop_item(user: dict, study_id: int, item_id: int) -> None:
    """Leave a question out of the draft round (e.g. one that reached consensus)."""
    async with transaction():
        study, item = await _draft_item(user, study_id, item_id)
        await Item.delete().where(Item.id == item_id)


async def restore_question(user: dict, study_id: int, question_id: int) -> None:
    """Ask an earlier question again in the draft round, in its last wording."""
    async with transaction():
        await _managed(user, study_id)
        current = await _draft_round(study_id)
        question = await Question.select().where((Question.id == question_id) & (Question.study == study_id)).first()
        if question is None:
            raise RuleError(N_("This question is not in the study."))
        if await Item.exists().where((Item.round == current["id"]) & (Item.question == question_id)):
            raise RuleError(N_("This question is already in the draft round."))
        last = await Item.select(Item.text).where(Item.question == question_id).order_by(
            Item.id, ascending=False).first()
        count = len(await Item.select(Item.id).where(Item.round == current["id"]))
        await Item(round=current["id"], question=question_id, text=last["text"] if last else question["code"],
                   position=count + 1).save()


# --------------------------------------------------------------------------- the round lifecycle


def _parse_deadline(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        day = date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise RuleError(N_("Give the deadline as a date."), "deadline") from None
    # the end of that day in Almaty (UTC+5)
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=timezone(timedelta(hours=5)))


async def open_round(settings: Settings, user: dict, study_id: int, deadline, now: datetime | None = None) -> dict:
    """draft → open. The questionnaire is fixed; every accepted expert gets a pseudonym (in a
    random order) and is told; answers are taken until the deadline."""
    now = now or now_utc()
    deadline_at = _parse_deadline(deadline)
    if deadline_at <= now:
        raise RuleError(N_("The deadline must be in the future."), "deadline")
    if deadline_at > now + timedelta(days=92):
        raise RuleError(N_("A round takes from a day to a month; give a deadline within three months."),
                          "deadline")
    async with transaction():
        study = await _managed(user, study_id)
        if study["state"] == "finished":
            raise RuleError(N_("The study is finished."))
        current = await _draft_round(study_id)
        items = await Item.select(Item.id).where(Item.round == current["id"])
        if not items:
            raise RuleError(N_("Add at least one question before opening the round."))
        panel = await Panelist.select(Panelist.user).where((Panelist.study == study_id)
                                                           & (Panelist.state == "accepted"))
        user_ids = [p["user"] for p in panel if p["user"]]
        if len(user_ids) < MIN_PANEL:
            raise RuleError(N_("A round opens only when at least %(count)s experts have accepted."),
                              count=MIN_PANEL)
        pseudonyms = await _ensure_pseudonyms(settings, study_id, user_ids)
        await _prepare_round_rows(current["id"], list(pseudonyms.values()), [i["id"] for i in items])
        await Round.update({Round.state: "open", Round.opened_at: now, Round.deadline: deadline_at,
                            Round.panel_size: len(user_ids)}).where(Round.id == current["id"])
        await Study.update({Study.state: "running"}).where(Study.id == study_id)
        await tell(user_ids, STUDY_TOPIC, N_("Round %(number)s of “%(title)s” is open"),
                   N_("Please answer by %(deadline)s. You can save a draft and come back."),
                   f"/delphi/{study['key']}/round", number=current["number"], title=study["title"],
                   deadline=deadline_at.date().isoformat())
        await audit(user["id"], "delphi.round.open", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}", details={"round": current["number"]})
    return await latest_round(study_id)


async def close_round(user: dict | None, study_id: int, now: datetime | None = None) -> None:
    """open → closed, by an organiser or (``user`` None) at the deadline."""
    now = now or now_utc()
    async with transaction():
        study = await _managed(user, study_id) if user is not None else await _study_by_id(study_id)
        current = await latest_round(study_id)
        if current is None or current["state"] != "open":
            raise RuleError(N_("No round of this study is open."))
        await Round.update({Round.state: "closed", Round.closed_at: now}).where(
            (Round.id == current["id"]) & (Round.state == "open"))
        await audit(user["id"] if user else None, "delphi.round.close", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}", details={"round": current["number"]})


async def analyse_round(user: dict, study_id: int, note: str = "", now: datetime | None = None) -> None:
    """closed → analysed: the organiser has looked at the statistics and writes the round's summary."""
    now = now or now_utc()
    note = (note or "").strip()[:5000]
    async with transaction():
        study = await _managed(user, study_id)
        current = await latest_round(study_id)
        if current is None or current["state"] != "closed":
            raise RuleError(N_("Only a closed round can be analysed."))
        await Round.update({Round.state: "analysed", Round.analysed_at: now, Round.note: note}).where(
            Round.id == current["id"])
        await audit(user["id"], "delphi.round.analyse", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}", details={"round": current["number"]})


async def next_round(settings: Settings, user: dict, study_id: int) -> dict:
    """analysed → a new draft round with every question not yet in consensus, in its last
    wording; the organiser can drop, reword and add before opening it."""
    async with transaction():
        study = await _managed(user, study_id)
        current = await latest_round(study_id)
        if current is None or current["state"] != "analysed":
            raise RuleError(N_("Analyse the round before starting the next one."))
        if current["number"] >= 10:
            raise RuleError(N_("A study has at most 10 rounds."))
        results = await study_results(settings, study)
        new_round = Round(study=study_id, number=current["number"] + 1, state="draft")
        await new_round.save()
        position = 0
        for item in await items_of(current["id"]):
            result = results["by_question"].get(item["question"])
            if result and result["state"] == st.CONSENSUS:
                continue
            position += 1
            await Item(round=new_round.id, question=item["question"], text=item["text"], position=position).save()
        await audit(user["id"], "delphi.round.next", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}", details={"round": new_round.number})
    return await latest_round(study_id)


async def finish(settings: Settings, user: dict, study_id: int, conclusion: str, now: datetime | None = None) -> None:
    """End the study with the organisers' recommendation. When round 1 diverged widely, the study
    asks for at least ``divergence_rounds`` rounds (DOMAIN.md: at least 3 rounds when opinions
    diverge widely) unless every question has reached consensus."""
    now = now or now_utc()
    conclusion = (conclusion or "").strip()
    if not 10 <= len(conclusion) <= 10_000:
        raise RuleError(N_("Write the conclusion or recommendation in 10 to 10000 characters."), "conclusion")
    async with transaction():
        study = await _managed(user, study_id)
        current = await latest_round(study_id)
        if study["state"] == "finished":
            raise RuleError(N_("The study is already finished."))
        if current is None or current["state"] not in ("analysed", "draft") or current["opened_at"] is not None \
                and current["state"] == "draft":
            raise RuleError(N_("Analyse the last round before finishing the study."))
        if current["state"] == "draft":
            await Item.delete().where(Item.round == current["id"])
            await Round.delete().where(Round.id == current["id"])
        results = await study_results(settings, study)
        if results["required_rounds"] > results["rounds_done"] and not results["all_consensus"]:
            raise RuleError(N_("Round 1 showed widely divergent opinions: the study asks for at least %(count)s "
                                 "rounds, unless every question reaches consensus first."),
                              count=results["required_rounds"])
        if results["rounds_done"] == 0:
            raise RuleError(N_("Analyse the last round before finishing the study."))
        await Study.update({Study.state: "finished", Study.finished_at: now, Study.conclusion: conclusion}).where(
            Study.id == study_id)
        await audit(user["id"], "delphi.study.finish", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}")


async def publish(user: dict, study_id: int, now: datetime | None = None) -> None:
    """Make a finished study's results public and searchable (aggregates only)."""
    now = now or now_utc()
    async with transaction():
        study = await _managed(user, study_id)
        if study["state"] != "finished":
            raise RuleError(N_("Only a finished study can be published."))
        if study["published_at"]:
            raise RuleError(N_("The results are already published."))
        await Study.update({Study.published_at: now}).where(Study.id == study_id)
        await audit(user["id"], "delphi.study.publish", organisation_id=study["organisation"],
                    subject=f"delphi:{study_id}")
        await _reindex(study_id)


# --------------------------------------------------------------------------- answering


@dataclass
class ParsedAnswer:
    item_id: int
    value: float | None
    ranking: list[int]
    text: str
    justification: str
    empty: bool


def parse_answer(item: dict, raw_value, raw_ranking: list | None, raw_justification: str) -> ParsedAnswer:
    """Read one answer from the form, by the question's type; raise RuleError on bad input.
    An empty answer is allowed (a draft)."""
    kind = item["kind"]
    field = f"item-{item['id']}"
    justification = (raw_justification or "").strip()
    if len(justification) > JUSTIFICATION_LENGTH:
        raise RuleError(N_("Keep the justification under %(max)s characters."), field, max=JUSTIFICATION_LENGTH)
    value, ranking, text = None, [], ""
    if kind == "text":
        text = (raw_value or "").strip() if isinstance(raw_value, str) else ""
        if len(text) > TEXT_LENGTH:
            raise RuleError(N_("Keep the answer under %(max)s characters."), field, max=TEXT_LENGTH)
        empty = not text
    elif kind == "ranking":
        options = item["options"] or []
        positions = raw_ranking or []
        if not any(str(p).strip() for p in positions):
            empty = True
        else:
            try:
                ranks = [int(str(p).strip()) for p in positions]
            except ValueError:
                raise RuleError(N_("Give every option a different place from 1 to %(count)s."), field,
                                  count=len(options)) from None
            if len(ranks) != len(options) or sorted(ranks) != list(range(1, len(options) + 1)):
                raise RuleError(N_("Give every option a different place from 1 to %(count)s."), field,
                                  count=len(options))
            ranking = [option for _, option in sorted(zip(ranks, range(len(options))))]
            empty = False
    else:
        raw = raw_value if isinstance(raw_value, str) else ""
        if not raw.strip():
            empty = True
        else:
            low, high = item["min_value"], item["max_value"]
            messages = {
                "scale": N_("Choose a point of the scale from 1 to %(high)s."),
                "probability": N_("Give a probability from 0 to 100 percent."),
                "year": N_("Give a year from %(low)s to %(high)s."),
                "numeric": N_("Give a number from %(low)s to %(high)s.") if low is not None and high is not None
                else N_("Give a number."),
            }
            msgid = messages[kind]
            params = {"low": _plain_number(low), "high": _plain_number(high)}
            try:
                value = _number(raw, msgid, field, low=low, high=high, optional=False)
            except RuleError as exc:
                raise RuleError(msgid, field, **params) from exc
            if kind in ("scale", "year") and not float(value).is_integer():
                raise RuleError(msgid, field, **params)
            empty = False
    return ParsedAnswer(item_id=item["id"], value=value, ranking=ranking, text=text, justification=justification,
                        empty=empty)


def _plain_number(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


async def expert_round(settings: Settings, user: dict, study: dict) -> dict:
    """The open round as the expert sees it: the items, their own answers (draft or sent), and
    for round 2 and later the feedback on each question from the previous round."""
    panelist = await panelist_of(user, study["id"])
    if panelist is None or panelist["state"] != "accepted":
        raise Denied(N_("Only experts on the study's panel answer its rounds."))
    current = await latest_round(study["id"])
    if current is None or current["state"] != "open":
        raise RuleError(N_("No round of this study is open now."))
    pseudonym = await pseudonym_of(settings, study["id"], user["id"])
    items = await items_of(current["id"])
    mine, submitted, joined_late = {}, False, True
    if pseudonym:
        rows = await Answer.select().where((Answer.round == current["id"]) & (Answer.pseudonym == pseudonym["id"])
                                           ).output(load_json=True)
        mine = {r["item"]: r for r in rows}
        response = await RoundResponse.select(RoundResponse.submitted).where(
            (RoundResponse.round == current["id"]) & (RoundResponse.pseudonym == pseudonym["id"])).first()
        submitted = bool(response and response["submitted"])
        joined_late = response is None
    feedback = {}
    if current["number"] > 1:
        previous = await Round.select().where((Round.study == study["id"])
                                              & (Round.number == current["number"] - 1)).first()
        if previous:
            analysis = await round_analysis(previous, await items_of(previous["id"]), study,
                                            own_pseudonym=pseudonym["id"] if pseudonym else None)
            feedback = {a["question"]: a for a in analysis}
    return {"round": current, "items": items, "mine": mine, "submitted": submitted, "feedback": feedback,
            "panelist": panelist, "joined_late": joined_late}


async def save_answers(settings: Settings, user: dict, study_id: int, form: dict, *, submit: bool) -> dict:
    """Save the expert's answers of the open round: as a draft (incomplete is fine), or sent
    (every question answered and, when the study asks for it, justified). Bad input changes
    nothing. Not audited; no timestamps on answers."""
    study = await _study_by_id(study_id)
    async with transaction():
        panelist = await panelist_of(user, study_id)
        if panelist is None or panelist["state"] != "accepted":
            raise Denied(N_("Only experts on the study's panel answer its rounds."))
        current = await latest_round(study_id)
        if current is None or current["state"] != "open":
            raise RuleError(N_("No round of this study is open now."))
        if current["deadline"] and current["deadline"] <= now_utc():
            raise RuleError(N_("The deadline of this round has passed."))
        items = await items_of(current["id"])
        errors: dict[str, tuple[str, dict]] = {}
        parsed: list[ParsedAnswer] = []
        for item in items:
            key = f"item-{item['id']}"
            ranking = form.get(f"{key}-rank")
            if ranking is not None and not isinstance(ranking, list):
                ranking = [ranking]
            try:
                answer = parse_answer(item, form.get(key), ranking, form.get(f"{key}-justification", ""))
            except RuleError as exc:
                errors[key] = (exc.msgid, exc.params)
                continue
            if submit and answer.empty:
                errors[key] = (N_("Answer this question before sending."), {})
            elif submit and study["justification_required"] and not answer.justification:
                errors[key] = (N_("Justify this answer: the other experts read the reasons, not the names."), {})
            parsed.append(answer)
        if errors:
            raise AnswerErrors(errors)
        pseudonym = await pseudonym_of(settings, study_id, user["id"])
        if pseudonym is None or not await RoundResponse.exists().where(
                (RoundResponse.round == current["id"]) & (RoundResponse.pseudonym == pseudonym["id"])):
            raise RuleError(N_("You joined the panel after this round opened: you answer from the next round on."))
        pseudonym_id = pseudonym["id"]
        for answer in parsed:
            await Answer.update({Answer.value: answer.value, Answer.ranking: answer.ranking, Answer.text: answer.text,
                                 Answer.justification: answer.justification}).where(
                (Answer.item == answer.item_id) & (Answer.pseudonym == pseudonym_id))
        if submit:
            await RoundResponse.update({RoundResponse.submitted: True}).where(
                (RoundResponse.round == current["id"]) & (RoundResponse.pseudonym == pseudonym_id))
    return {"submitted": submit}


# --------------------------------------------------------------------------- statistics of rounds


def rule_of(study: dict) -> st.ConsensusRule:
    return st.ConsensusRule(rule=study["consensus_rule"], iqr_bound=study["iqr_bound"],
                            band_share=study["band_share"], stability_bound=study["stability_bound"])


def tolerance_of(question: dict) -> float:
    return question.get("tolerance") or st.default_tolerance(question["kind"], question.get("min_value"),
                                                             question.get("max_value"), question.get("scale_max", 9))


async def round_answers(round_id: int) -> list[dict]:
    """Every sent answer of a round, in one query (the pseudonym id stays inside this module)."""
    submitted = RoundResponse.select(RoundResponse.pseudonym).where(
        (RoundResponse.round == round_id) & (RoundResponse.submitted == True))  # noqa: E712
    return await Answer.select(Answer.item, Answer.pseudonym, Answer.value, Answer.ranking, Answer.text,
                               Answer.justification).where(
        (Answer.round == round_id) & Answer.pseudonym.is_in(submitted)).output(load_json=True)


def _answered(item: dict, answer: dict) -> bool:
    if item["kind"] == "text":
        return bool(answer["text"])
    if item["kind"] == "ranking":
        return bool(answer["ranking"])
    return answer["value"] is not None


def analyse_items(items: list[dict], answers: list[dict]) -> dict[int, st.Summary]:
    """{item id: Summary} for one round (pure: the bench times this)."""
    by_item: dict[int, list] = {i["id"]: [] for i in items}
    kinds = {i["id"]: i for i in items}
    for answer in answers:
        item = kinds.get(answer["item"])
        if item is None or not _answered(item, answer):
            continue
        if item["kind"] == "ranking":
            by_item[item["id"]].append(answer["ranking"])
        elif item["kind"] == "text":
            by_item[item["id"]].append(answer["text"])
        else:
            by_item[item["id"]].append(answer["value"])
    return {item_id: st.summarise(kinds[item_id]["kind"], values, min_value=kinds[item_id]["min_value"],
                                  max_value=kinds[item_id]["max_value"], scale_max=kinds[item_id]["scale_max"] or 9,
                                  tolerance=kinds[item_id]["tolerance"], options=len(kinds[item_id]["options"] or []))
            for item_id, values in by_item.items()}


def _is_minority(item: dict, answer: dict, summary: st.Summary) -> bool:
    if item["kind"] == "ranking":
        return st.ranking_distance(answer["ranking"], summary) > 0.5
    if item["kind"] == "text":
        return False
    return st.outside_iqr(answer["value"], summary)


def justifications(item: dict, answers: list[dict], summary: st.Summary) -> list[dict]:
    """The anonymised justifications of a question, those of answers outside the interquartile
    range first (the report's warning about filtering out creative minority views), then by the
    answer itself; never by pseudonym. Withheld with fewer than 3 answers."""
    if summary.withheld:
        return []
    rows = []
    for answer in answers:
        if answer["item"] != item["id"] or not _answered(item, answer):
            continue
        if not answer["justification"] and item["kind"] != "text":
            continue
        minority = _is_minority(item, answer, summary)
        if item["kind"] == "ranking":
            shown = [item["options"][i] for i in answer["ranking"] if 0 <= i < len(item["options"] or [])]
            sort_value = st.ranking_distance(answer["ranking"], summary)
        elif item["kind"] == "text":
            shown, sort_value = answer["text"], 0.0
        else:
            shown, sort_value = answer["value"], answer["value"]
        rows.append({"minority": minority, "value": shown, "justification": answer["justification"],
                     "sort": sort_value})
    rows.sort(key=lambda r: (not r["minority"], r["sort"] if isinstance(r["sort"], (int, float)) else 0,
                             r["justification"]))
    for row in rows:
        row.pop("sort")
    return rows


async def round_analysis(round_row: dict, items: list[dict], study: dict, *, own_pseudonym: int | None = None,
                         previous: dict[int, st.Summary] | None = None) -> list[dict]:
    """Per item of a closed round: the statistics, and the justifications; with ``own_pseudonym``
    also that expert's own answer (for the expert only). Open rounds have no statistics."""
    if round_row["state"] not in ("closed", "analysed"):
        return []
    answers = await round_answers(round_row["id"])
    summaries = analyse_items(items, answers)
    rule = rule_of(study)
    result = []
    for item in items:
        summary = summaries[item["id"]]
        own = None
        if own_pseudonym is not None:
            own = next((a for a in answers if a["item"] == item["id"] and a["pseudonym"] == own_pseudonym), None)
        prev = (previous or {}).get(item["question"])
        result.append({"item": item, "question": item["question"], "summary": summary,
                       "state": st.consensus_state(summary, prev, rule, tolerance_of(item)),
                       "justifications": justifications(item, answers, summary),
                       "own": _own_view(item, own) if own else None})
    return result


def _own_view(item: dict, answer: dict) -> dict:
    if item["kind"] == "ranking":
        value = [item["options"][i] for i in answer["ranking"] if 0 <= i < len(item["options"] or [])]
    elif item["kind"] == "text":
        value = answer["text"]
    else:
        value = answer["value"]
    return {"value": value, "justification": answer["justification"]}


async def study_results(settings: Settings | None, study: dict, *, with_justifications: bool = True) -> dict:
    """Everything the results page, the report, the export and the API show (issue: "Results"):
    per question its statistics in every closed round, the consensus state, the minority
    justifications of its last round; response rates per round; the roadmap of a foresight
    study; whether round 1 diverged widely and how many rounds the study therefore asks for."""
    rounds = await rounds_of(study["id"])
    questions = await questions_of(study["id"])
    rule = rule_of(study)
    per_question: dict[int, dict] = {q["id"]: {"question": q, "rounds": [], "state": None, "last": None,
                                               "text": None, "justifications": [], "minority": []}
                                     for q in questions}
    diverged = False
    rates = []
    done = 0
    for round_row in rounds:
        counts = await response_counts(round_row["id"])
        rates.append({"number": round_row["number"], "state": round_row["state"], "panel": round_row["panel_size"],
                      "submitted": counts["submitted"], "deadline": round_row["deadline"],
                      "note": round_row["note"]})
        if round_row["state"] not in ("closed", "analysed"):
            continue
        done += 1
        items = await items_of(round_row["id"])
        answers = await round_answers(round_row["id"])
        summaries = analyse_items(items, answers)
        for item in items:
            entry = per_question[item["question"]]
            summary = summaries[item["id"]]
            previous = entry["rounds"][-1]["summary"] if entry["rounds"] and \
                entry["rounds"][-1]["number"] == round_row["number"] - 1 else None
            state = st.consensus_state(summary, previous, rule, tolerance_of(item))
            if round_row["number"] == 1 and st.diverges_widely(summary, rule, tolerance_of(item)):
                diverged = True
            entry["rounds"].append({"number": round_row["number"], "summary": summary, "state": state,
                                    "text": item["text"]})
            entry["state"], entry["last"], entry["text"] = state, summary, item["text"]
            rows = justifications(item, answers, summary) if with_justifications else []
            entry["justifications"] = rows
            entry["minority"] = [r for r in rows if r["minority"]]
    required = max(study["divergence_rounds"], 1) if diverged else 1
    asked = [e for e in per_question.values() if e["rounds"]]
    numeric = [e for e in asked if e["question"]["kind"] != "text"]
    roadmap = []
    if study["kind"] == "foresight":
        for entry in asked:
            if entry["question"]["roadmap"] and entry["last"] and not entry["last"].withheld:
                roadmap.append({"question": entry["question"], "text": entry["text"], "summary": entry["last"],
                                "state": entry["state"], "year": round(entry["last"].median)})
        roadmap.sort(key=lambda r: (r["year"], r["question"]["position"]))
    return {"questions": asked, "by_question": {e["question"]["id"]: e for e in asked}, "rates": rates,
            "rounds_done": done, "diverged": diverged, "required_rounds": required,
            "all_consensus": bool(numeric) and all(e["state"] == st.CONSENSUS for e in numeric),
            "roadmap": roadmap, "method": st.METHOD}


# --------------------------------------------------------------------------- charts


def convergence_chart(entry: dict, width: int = 560, height: int = 200) -> dict | None:
    """Points for the SVG chart of a numeric question across rounds: the median with the band
    from Q1 to Q3 (the template draws it; the table beside it gives the same figures)."""
    rounds = [r for r in entry["rounds"] if not r["summary"].withheld and r["summary"].median is not None]
    if not rounds:
        return None
    question = entry["question"]
    low = min([r["summary"].low for r in rounds] + ([question["min_value"]] if question["min_value"] is not None
                                                    else []))
    high = max([r["summary"].high for r in rounds] + ([question["max_value"]] if question["max_value"] is not None
                                                      else []))
    if high <= low:
        high = low + 1
    left, right, top, bottom = 70, 20, 15, 35
    count = max(len(entry["rounds"]), 1)

    def x(index: int) -> float:
        return left + (width - left - right) * ((index + 0.5) / count)

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    points = []
    for index, r in enumerate(entry["rounds"]):
        s = r["summary"]
        if s.withheld or s.median is None:
            continue
        points.append({"x": round(x(index), 1), "median": round(y(s.median), 1), "q1": round(y(s.q1), 1),
                       "q3": round(y(s.q3), 1), "number": r["number"], "value": s.median})
    path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['median']}" for i, p in enumerate(points))
    return {"width": width, "height": height, "points": points, "path": path, "low": low, "high": high,
            "y_low": round(y(low), 1), "y_high": round(y(high), 1), "left": left, "bottom": height - bottom}


def histogram_bars(summary: st.Summary, width: int = 300) -> list[dict]:
    top = max((b["count"] for b in summary.histogram), default=0) or 1
    return [{**b, "length": round(width * b["count"] / top)} for b in summary.histogram]


# --------------------------------------------------------------------------- export


def csv_rows(study: dict, rounds: list[dict], items_by_round: dict[int, list[dict]],
             answers_by_round: dict[int, list[dict]], labels: dict[int, int]) -> list[list]:
    """The anonymised answers by round: round, question, type, expert label, answer,
    justification; sorted by round, question and answer (never in an order that follows people).
    Questions with fewer than 3 answers are left out."""
    out = []
    for round_row in rounds:
        items = items_by_round.get(round_row["id"], [])
        answers = answers_by_round.get(round_row["id"], [])
        summaries = analyse_items(items, answers)
        for item in items:
            if summaries[item["id"]].withheld:
                continue
            rows = []
            for a in answers:
                if a["item"] != item["id"] or not _answered(item, a):
                    continue
                if item["kind"] == "ranking":
                    shown = " > ".join(item["options"][i] for i in a["ranking"] if 0 <= i < len(item["options"]))
                elif item["kind"] == "text":
                    shown = a["text"]
                else:
                    shown = _plain_number(a["value"])
                rows.append([round_row["number"], item["code"], item["kind"], f"E{labels.get(a['pseudonym'], 0)}",
                             shown, a["justification"], a["value"] if a["value"] is not None else 0])
            rows.sort(key=lambda r: (r[6], r[4], r[3]))
            out.extend(r[:6] for r in rows)
    return out


async def export_rows(study: dict) -> list[list]:
    rounds = [r for r in await rounds_of(study["id"]) if r["state"] in ("closed", "analysed")]
    items_by_round = {r["id"]: await items_of(r["id"]) for r in rounds}
    answers_by_round = {r["id"]: await round_answers(r["id"]) for r in rounds}
    labels = {r["id"]: r["label"] for r in await Pseudonym.select(Pseudonym.id, Pseudonym.label).where(
        Pseudonym.study == study["id"])}
    return csv_rows(study, rounds, items_by_round, answers_by_round, labels)


# --------------------------------------------------------------------------- jobs


async def close_due_rounds(now: datetime | None = None) -> int:
    """Close every open round whose deadline has passed (``civic worker``)."""
    now = now or now_utc()
    due = await Round.select(Round.study).where((Round.state == "open") & (Round.deadline <= now))
    closed = 0
    for row in due:
        try:
            await close_round(None, row["study"], now=now)
            closed += 1
        except RuleError:
            continue
    return closed


async def send_reminders(settings: Settings, now: datetime | None = None) -> int:
    """Two days before a round's deadline, remind each expert who has not yet sent their answers
    — once per round. The reminder names only the study and the deadline, nobody else."""
    now = now or now_utc()
    rounds = await Round.select(Round.id, Round.study, Round.number, Round.deadline).where(
        (Round.state == "open") & Round.reminders_sent_at.is_null() & (Round.deadline <= now + REMIND_BEFORE)
        & (Round.deadline > now))
    sent = 0
    for round_row in rounds:
        async with transaction():
            marked = await Round.update({Round.reminders_sent_at: now}).where(
                (Round.id == round_row["id"]) & Round.reminders_sent_at.is_null()).returning(Round.id)
            if not marked:
                continue
            study = await _study_by_id(round_row["study"])
            panel = await Panelist.select(Panelist.user).where((Panelist.study == study["id"])
                                                               & (Panelist.state == "accepted"))
            responses = await RoundResponse.select(RoundResponse.pseudonym.key.as_alias("key"),
                                                   RoundResponse.submitted).where(RoundResponse.round == round_row["id"])
            # those with a place in this round (who joined later answer from the next one)
            expected = {r["key"] for r in responses if not r["submitted"]}
            waiting = [p["user"] for p in panel if p["user"]
                       and pseudonym_key(settings.secret_key, study["id"], p["user"]) in expected]
            await tell(waiting, STUDY_TOPIC, N_("Reminder: round %(number)s of “%(title)s” closes on %(deadline)s"),
                       N_("Your answers are not sent yet. A saved draft is kept until you send it."),
                       f"/delphi/{study['key']}/round", number=round_row["number"], title=study["title"],
                       deadline=round_row["deadline"].date().isoformat())
            sent += len(waiting)
    return sent


# --------------------------------------------------------------------------- personal data


async def forget_expert(user_id: int) -> None:
    """The account is being deleted: the e-mail address its invitations were sent to goes (also
    on invitations not yet accepted). The answers stay under the study's pseudonym, which never
    named anyone."""
    user = await User.select(User.email).where(User.id == user_id).first()
    invited = Panelist.user == user_id
    if user is not None:
        invited = invited | (Panelist.email == user["email"])
    for row in await Panelist.select(Panelist.id).where(invited):
        await Panelist.update({Panelist.email: f"deleted-{row['id']}@invalid"}).where(Panelist.id == row["id"])


async def personal_data(user_id: int, settings: Settings | None = None) -> dict:
    """An expert's own data: their panel memberships and their own answers (their export only)."""
    settings = settings or load_settings()

    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    panels = await Panelist.select(Panelist.study.id.as_alias("study_id"), Panelist.study.title.as_alias("study"),
                                   Panelist.field, Panelist.state, Panelist.invited_at, Panelist.responded_at).where(
        Panelist.user == user_id).order_by(Panelist.id)
    answers = []
    for panel in panels:
        pseudonym = await pseudonym_of(settings, panel["study_id"], user_id)
        if pseudonym is None:
            continue
        rows = await Answer.select(Answer.round.number.as_alias("round"),
                                   Answer.item.question.code.as_alias("question"), Answer.value, Answer.ranking,
                                   Answer.text, Answer.justification).where(
            Answer.pseudonym == pseudonym["id"]).order_by(Answer.round).output(load_json=True)
        answers.extend({"study": panel["study"], **r} for r in rows if r["value"] is not None or r["ranking"] or r["text"])
    return {"delphi_panels": [{k: plain(v) for k, v in p.items() if k != "study_id"} for p in panels],
            "delphi_answers": answers}


# --------------------------------------------------------------------------- search document

DELPHI_LEVEL = "consult"  # DOMAIN.md §1: the akimat asks experts; advice considered, not binding


def _fmt(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


async def public_document(study_id: int) -> Document | None:
    """A published study as a search Document: the topic, the purpose, the questions in their
    last wording and the aggregates of the last round; None when it is not published. Lives
    here, beside get_study and study_results, so that services and search need no cycle."""
    row = await Study.select(Study.key).where((Study.id == study_id) & Study.published_at.is_not_null()).first()
    if row is None:
        return None
    study = await get_study(row["key"])
    results = await study_results(None, study, with_justifications=False)
    lines = [study["purpose"]]
    for entry in results["questions"]:
        summary = entry["last"]
        line = f"{entry['question']['code']}. {entry['text']}"
        if summary is not None and not summary.withheld and summary.median is not None:
            line += f" — {_fmt(summary.median)} {entry['question']['unit']}".rstrip()
        lines.append(line)
    if study["conclusion"]:
        lines.append(study["conclusion"])
    organisation = await Organisation.select(Organisation.slug, Organisation.territory.path.as_alias("path")).where(
        Organisation.id == study["organisation"]).first()
    return Document(
        id=f"delphi:{study_id}", module="delphi", kind="study", title=study["title"], body="\n".join(lines),
        territory=(organisation or {}).get("path") or "", organisation=(organisation or {}).get("slug") or "",
        status="published", level=DELPHI_LEVEL, lang=study["lang"] if study["lang"] in ("kk", "ru", "en") else "kk",
        created_at=study["published_at"], url=f"/delphi/{study['key']}/results",
        summary=study["purpose"][:280],
    )


async def _reindex(study_id: int) -> None:
    await record_changed(f"delphi:{study_id}", await public_document(study_id))
