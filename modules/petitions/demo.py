"""Demo petitions for the demo akimat, in Kazakh and Russian, at every stage: one reachable by
its link only, listed ones collecting signatures, one over its threshold and answered, closed
ones with their outcomes (one of them with its signers anonymised), one waiting for moderation
with its due date, one refused, and one flagged for review with suspicious signatures.

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
from datetime import datetime, timedelta, timezone

from civic.accounts.tables import User
from civic.db import write_transaction
from civic.demo import DEMO_EMAIL_DOMAIN, load_core_demo
from civic.notify.tables import NotificationPreference, OutgoingMail
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse, ResponseEvent
from civic.runtime import current_engine
from civic.settings import Settings
from civic.territory.tables import Organisation, Territory
from modules.petitions import services
from modules.petitions.tables import Petition, Signature

ALMATY_RESIDENTS = 2_700
ARAL_RESIDENTS = 850
WOMEN = ["Айжан", "Мадина", "Гүлмира", "Сабина", "Алия", "Ольга", "Татьяна", "Виктория", "Жанна", "Камила",
         "Әйгерім", "Дина", "Людмила", "Індира", "Светлана", "Ләззат", "Марина", "Салтанат"]
MEN = ["Ерлан", "Нұрсұлтан", "Асхат", "Данияр", "Бауыржан", "Сергей", "Игорь", "Андрей", "Руслан", "Тимур", "Арман",
       "Санжар", "Максим", "Ғалым", "Әлихан", "Қанат", "Виктор", "Ержан"]
SURNAMES = [("Ахметов", "Ахметова"), ("Серікбаев", "Серікбаева"), ("Иванов", "Иванова"), ("Жұмабеков", "Жұмабекова"),
            ("Ким", "Ким"), ("Нұрланов", "Нұрланова"), ("Петров", "Петрова"), ("Оспанов", "Оспанова"), ("Ли", "Ли"),
            ("Қасымов", "Қасымова"), ("Смагулов", "Смагулова"), ("Павленко", "Павленко"), ("Төлеуов", "Төлеуова"),
            ("Әбдірахманов", "Әбдірахманова"), ("Цой", "Цой"), ("Есенов", "Есенова"), ("Бекмұратов", "Бекмұратова")]
# how the Almaty residents spread over the districts (roughly by population)
DISTRICT_WEIGHTS = {"alatau": 16, "almaly": 10, "auezov": 14, "bostandyk": 17, "zhetysu": 8, "medeu": 10,
                    "nauryzbay": 11, "turksib": 14}


def _name(n: int) -> str:
    woman = n % 2 == 0
    first = (WOMEN if woman else MEN)[(n * 7) % len(WOMEN if woman else MEN)]
    return f"{first} {SURNAMES[(n * 11) % len(SURNAMES)][1 if woman else 0]}"


def _resident_email(place: str, n: int) -> str:
    return f"petitions-{place}-{n:04d}@{DEMO_EMAIL_DOMAIN}"


def _person(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class DemoPetition:
    title: str
    ask: str
    reasons: str
    addressee: str  # organisation slug
    territory: str  # territory code
    author: str  # e-mail local part
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
    extra: dict = field(default_factory=dict)


PETITIONS: tuple[DemoPetition, ...] = (
    DemoPetition(
        title="Алматыда велосипед жолдарының біртұтас желісін салу",
        ask="Алматы қаласының әкімдігінен 2027 жылы негізгі даңғылдарды (Әл-Фараби, Абай, Төле би, Райымбек) "
            "бойлай бөлінген велосипед жолдарының біртұтас желісін салуды және оны метро бекеттерімен "
            "байланыстыруды сұраймыз.",
        reasons="Қазір велосипед жолдары жеке учаскелерден тұрады және бір-бірімен жалғаспайды, сондықтан "
                "велосипедшілер көлік ағынымен қатар жүруге мәжбүр. Біртұтас желі кептелісті азайтып, ауаны "
                "тазартады және жасөспірімдерге мектепке қауіпсіз жетуге мүмкіндік береді.",
        addressee="almaty-akimat", territory="almaty", author="bolat.citizen", stage="answered", days_ago=75,
        signatures=2_612,
        answer="Алматы қаласының әкімдігі петицияны қарады. Қалалық мобильділік басқармасы 2027 жылға арналған "
               "велоинфрақұрылым бағдарламасына Әл-Фараби және Абай даңғылдарындағы бөлінген жолдарды енгізді "
               "(жалпы ұзындығы 28 км). Төле би мен Райымбек даңғылдарының жобалау-сметалық құжаттамасы "
               "2027 жылдың бірінші жартыжылдығында әзірленеді. Жұмыс барысы туралы ақпарат осы бетте "
               "жарияланады.",
        answered_by="nurlan.official"),
    DemoPetition(
        title="Сохранить сквер на улице Жандосова от застройки",
        ask="Просим маслихат города Алматы не утверждать изменение целевого назначения земельного участка сквера "
            "на пересечении улиц Жандосова и Манаса и закрепить за ним статус зелёной зоны общего пользования.",
        reasons="Сквер — единственное зелёное место в радиусе километра, здесь гуляют дети из трёх школ и "
                "пожилые жители соседних домов. Строительство жилого комплекса на его месте уничтожит более "
                "ста взрослых деревьев и добавит нагрузку на и без того перегруженные дороги.",
        addressee="almaty-maslikhat", territory="almaty.auezov", author="natalia.citizen", stage="listed",
        days_ago=35, signatures=1_240),
    DemoPetition(
        title="Бостандық ауданындағы Тимирязев көшесінің аулаларына балалар алаңын орнату",
        ask="Бостандық ауданының әкімдігінен Тимирязев көшесі, 42–48 үйлердің ортақ ауласына қауіпсіз "
            "жабыны бар балалар ойын алаңын орнатуды сұраймыз.",
        reasons="Аулада 300-ден астам бала тұрады, бірақ ойын алаңы жоқ: балалар автотұрақта ойнайды. "
                "Тұрғындар алаңды күтіп ұстауға және көгалдандыруға көмектесуге дайын.",
        addressee="almaty-bostandyk-akimat", territory="almaty.bostandyk", author="bolat.citizen",
        stage="link_only", days_ago=6, signatures=17),
    DemoPetition(
        title="Продлить маршрут автобуса № 45 до микрорайона Шугыла",
        ask="Просим акимат города Алматы продлить маршрут автобуса № 45 от конечной остановки «Саина» до "
            "микрорайона Шугыла с остановками у школы № 181 и поликлиники.",
        reasons="Жители Шугылы добираются до ближайшей остановки пешком 25 минут по обочине без тротуара. "
                "Продление маршрута на 4 километра свяжет микрорайон с метро и рынком.",
        addressee="almaty-akimat", territory="almaty.nauryzbay", author="natalia.citizen", stage="anonymised",
        days_ago=320, signatures=2_540,
        answer="Управление городской мобильности изучило пассажиропоток. Продление маршрута № 45 невозможно: "
               "улица Шугыла не отвечает требованиям к проезду автобусов (ширина проезжей части 5,5 м). "
               "Вместо этого с 1 марта запущен маршрут № 245 малой вместимости, который соединяет микрорайон со "
               "станцией метро «Сайран».",
        answered_by="nurlan.official", outcome="refused",
        outcome_reasons="Продление маршрута № 45 отклонено: улица не пригодна для больших автобусов. Вместо этого "
                        "открыт маршрут № 245 малой вместимости до метро «Сайран»."),
    DemoPetition(
        title="Арал ауданының ауылдарына таза ауыз су жеткізу",
        ask="Арал ауданының әкімдігінен Аманөткел, Қамыстыбас және Қаратерең ауылдарын 2027 жылы орталықтандырылған "
            "ауыз су құбырына қосуды сұраймыз.",
        reasons="Ауылдар су тасымалдайтын көлікке тәуелді, су аптасына бір-ақ рет жеткізіледі және оның сапасы "
                "нормаға сай емес. Бұл балалардың денсаулығына қауіп төндіреді.",
        addressee="aral-akimat", territory="kyzylorda.aral", author="serik.citizen", stage="closed", days_ago=200,
        signatures=830, pool="aral",
        answer="Арал ауданының әкімдігі петицияны қолдайды. «Ауыл – Ел бесігі» бағдарламасы аясында үш ауылды "
               "топтық су құбырына қосу жобасы 2027 жылғы бюджетке енгізілді, құрылыс мамыр айында басталады.",
        answered_by="zhanar.official", outcome="granted",
        outcome_reasons="Үш ауылды су құбырына қосу жобасы қаржыландырылды; құрылыс 2027 жылдың мамырында "
                        "басталып, қазан айында аяқталады."),
    DemoPetition(
        title="Ограничить движение грузовиков по проспекту Абая в часы пик",
        ask="Просим акимат города Алматы запретить въезд грузового транспорта массой более 12 тонн на проспект "
            "Абая с 7:30 до 10:00 и с 17:30 до 20:00.",
        reasons="Грузовики в часы пик замедляют общественный транспорт и создают опасные ситуации на "
                "пешеходных переходах у школ и университетов.",
        addressee="almaty-akimat", territory="almaty.almaly", author="dana.citizen", stage="moderation", days_ago=4),
    DemoPetition(
        title="Менің дүкенімнің жарнамасын қала сайтына тегін орналастыру",
        ask="Қала әкімдігінің сайтында менің құрылыс материалдары дүкенімнің жарнамасын тегін орналастыруды "
            "сұраймын.",
        reasons="Дүкен жаңа ашылды және оған сатып алушылар керек; бұл аудан тұрғындарына да пайдалы.",
        addressee="almaty-akimat", territory="almaty.turksib", author="dana.citizen", stage="rejected", days_ago=12,
        rejection="advertising", rejection_note="Петиция коммерциялық жарнама болып табылады."),
    DemoPetition(
        title="Остановить вырубку деревьев в парке Первого Президента",
        ask="Просим акимат города Алматы приостановить санитарную вырубку в парке Первого Президента до "
            "независимой дендрологической экспертизы и опубликовать перечень деревьев, назначенных к вырубке.",
        reasons="В парке помечены к вырубке более 200 здоровых на вид деревьев. Жители не видели заключения "
                "экспертов и хотят убедиться, что вырубаются только действительно больные деревья.",
        addressee="almaty-akimat", territory="almaty.bostandyk", author="bolat.citizen", stage="flagged",
        days_ago=20, signatures=380, suspicious=120),
)


async def _residents(place: str, count: int, territories: dict[str, int], progress: Callable[[str], None]) -> list[int]:
    """Demo residents who sign (no password; petition and response mail off)."""
    emails = [_resident_email(place, n) for n in range(1, count + 1)]
    existing = {r["email"]: r["id"] for r in await User.select(User.id, User.email).where(
        User.email.like(f"petitions-{place}-%@{DEMO_EMAIL_DOMAIN}"))}
    missing = [n for n in range(1, count + 1) if _resident_email(place, n) not in existing]
    if missing:
        progress(f"Demo petitions: {len(missing)} demo residents of {place}…")
        rng = random.Random(f"{place}-2026")
        if place == "almaty":
            codes = [f"almaty.{d}" for d, w in DISTRICT_WEIGHTS.items() for _ in range(w)]
        else:
            codes = [c for c in territories if c.startswith("kyzylorda.aral.")] or ["kyzylorda.aral"]
        created = _now() - timedelta(days=500)
        async with write_transaction(current_engine()):
            rows = [User(email=_resident_email(place, n), display_name=_name(n + (0 if place == "almaty" else 5000)),
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
            User.email.like(f"petitions-{place}-%@{DEMO_EMAIL_DOMAIN}"))}
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


async def _suspicious(petition_id: int, count: int, at: datetime, territories: dict[str, int]) -> None:
    """A burst from one throw-away domain and address within a minute (what the review is for)."""
    emails = [f"signer{n:03d}@mailbox-temp.kz" for n in range(count)]
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
                                       show_name=True, address_hash=address, email_domain="mailbox-temp.kz",
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
    moderator_email = "madi.moderator" if spec.addressee.startswith("aral") else "olga.moderator"
    moderator = await User.select().where(User.id == people[_person(moderator_email)]).first()
    if spec.addressee == "almaty-maslikhat":  # the maslikhat has no moderator of its own in the demo
        moderator = await User.select().where(User.id == people[_person("admin")]).first()
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
    async with write_transaction(current_engine()):
        await _signatures(petition_id, signer_ids, opened + timedelta(hours=2), signing_end, spec.title)
        if spec.suspicious:
            await _suspicious(petition_id, spec.suspicious, _now() - timedelta(days=2), territories)
        row = await Petition.select().where(Petition.id == petition_id).first()
        if row["signature_count"] >= row["listing_threshold"]:
            listed_at = opened + timedelta(days=1)
            await Petition.update({Petition.listed_at: listed_at}).where(Petition.id == petition_id)
        if spec.suspicious:
            await services.flag_for_review(petition_id, "burst", _now() - timedelta(days=2))
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
        async with write_transaction(current_engine()):
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

    if not await Organisation.exists().where(Organisation.slug == "almaty-akimat"):
        await load_core_demo(settings, progress)
    territories = {r["code"]: r["id"] for r in await Territory.select(Territory.id, Territory.code)}
    organisations = {r["slug"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.slug)}
    missing = [spec for spec in PETITIONS
               if not await Petition.exists().where(Petition.title == spec.title)]
    if not missing:
        return {"petitions": 0}
    pools = {"almaty": await _residents("almaty", ALMATY_RESIDENTS, territories, step),
             "aral": await _residents("aral", ARAL_RESIDENTS, territories, step)}
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
