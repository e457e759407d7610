"""Demo appeals and reception schedules for the Almaty demo akimat.

* routing rules: energy, housing, transport, land, schools, health and social support go to the
  city departments; courtyards and everything else to the district akimats;
* a year of appeals across Almaty's eight districts in the report's categories (energy,
  housing and apartment co-operatives, transport and roads, courtyards, and a few others),
  online and by phone, letter, e-mail and reception, most answered (some late, some rated), some
  re-routed between bodies — fewer as the receptions start (the trend seed 000 wants);
* the showcase: an overdue appeal, duplicates joined to an appeal (one answered within the last
  30 days, its answer shared), a joint answer of two departments, an appeal published without
  personal data, one registered in e-Otinish;
* weekly receptions of the four departments of seed 000 (housing policy, urban mobility,
  energy efficiency and infrastructure, land relations) at the district akimats of the pilot
  (Nauryzbay, Medeu, Alatau): half a year of held receptions with their outcomes, and the
  coming weeks open for booking.

Idempotent: an appeal is found by its ``demo_key`` and left as it is when it exists; the
receptions are created only when no demo reception exists. Demo residents made here have no
password and their mail switched off, so loading the demo sends no mail to anyone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from civic.accounts.tables import User
from civic.clock import ALMATY, now_utc
from civic.demo import DEMO_EMAIL_DOMAIN, load_core_demo
from civic.notify.tables import NotificationPreference
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse, ResponseEvent
from civic.responses.workdays import add_working_days
from civic.rules import RuleError
from civic.runtime import transaction
from civic.settings import Settings
from civic.territory.tables import Organisation, Territory
from modules.appeals import receptions, services
from modules.appeals.tables import Appeal, AppealEvent, ReceptionBooking, ReceptionSlot, RoutingRule

RESIDENTS = 60
DISTRICTS = ("alatau", "almaly", "auezov", "bostandyk", "zhetysu", "medeu", "nauryzbay", "turksib")
PILOT_DISTRICTS = ("nauryzbay", "medeu", "alatau")  # the districts of seed 000's authors

ROUTES = {
    "energy": "almaty-energy", "housing": "almaty-housing", "transport": "almaty-mobility", "land": "almaty-land",
    "education": "almaty-education", "health": "almaty-health", "social": "almaty-employment",
}
#: Who answers for a body in the demo (its own official; the city reception for district akimats
#: without one — civic.responses lets the parent akimat's staff act).
OFFICIALS = {
    "almaty-energy": "svetlana.official", "almaty-housing": "aigerim.official", "almaty-mobility": "daniyar.official",
    "almaty-land": "gulnar.official", "almaty-education": "marat.official", "almaty-health": "dinara.official",
    "almaty-employment": "yerbol.official", "almaty-bostandyk-akimat": "assel.official",
    "almaty-auezov-akimat": "timur.official",
}
CITY_OFFICIAL = "nurlan.official"

# (title, text) in Kazakh and Russian, per category; "{street}" is filled in.
PROBLEMS = {
    "energy": [
        ("{street} көшесіндегі үйде ыстық су жоқ", "Бір аптадан бері үйімізде ыстық су жоқ. Жылу желілеріне хабарластық, "
         "бірақ нақты мерзім айтпады. Қашан қалпына келеді?"),
        ("Нет отопления в доме на {street}", "С начала отопительного сезона батареи в подъезде еле тёплые, в квартирах "
         "+15. Просим проверить теплоузел и наладить подачу тепла."),
        ("Отключения электричества на {street}", "Третью неделю по вечерам отключают свет на 2–3 часа без "
         "предупреждения. Портится техника, дети не могут делать уроки."),
        ("{street} бойында көше шамдары жанбайды", "Кешкі уақытта көше қараңғы, шамдардың жартысы жанбайды. Балалар мен "
         "қарт адамдарға қауіпті."),
        ("Низкое давление газа в частном секторе на {street}", "Зимой давление газа падает, котлы гаснут. Просим "
         "проверить газопровод нашего квартала."),
    ],
    "housing": [
        ("ОСИ не отчитывается о расходах, дом на {street}", "Объединение собственников имущества второй год не "
         "показывает отчёт о расходах взносов. Просим разъяснить, как потребовать отчёт и сменить управляющего."),
        ("{street} көшесіндегі үйдің шатыры ағады", "Жаңбыр жауса, жоғарғы қабаттағы пәтерлерге су ағады. ПИБ жөндеуді "
         "кейінге қалдырып жүр."),
        ("КСК не ремонтирует лифт на {street}", "Лифт стоит уже два месяца, в доме 16 этажей, живут пожилые люди и "
         "мамы с колясками. КСК ссылается на отсутствие денег."),
        ("Очередь на арендное жильё: как узнать свой номер?", "Стою в очереди на жильё как многодетная семья с 2019 "
         "года. Номер в очереди не меняется. Прошу разъяснить порядок."),
        ("Апатты үй: {street} көшесіндегі ескі үйді бұзу мерзімі", "Үйіміз апатты деп танылған, бірақ көшіру мерзімі "
         "белгісіз. Тұрғындарға ақпарат беруді сұраймыз."),
    ],
    "transport": [
        ("Маршрут 92 ходит раз в 40 минут", "Утром на остановке {street} автобус 92 приходит переполненным раз в 40 минут. "
         "Просим добавить рейсы в часы пик."),
        ("{street} көшесіндегі жолдағы шұңқырлар", "Жолда терең шұңқырлар пайда болды, көліктер зақымданып жатыр. "
         "Жөндеуді сұраймыз."),
        ("Нет пешеходного перехода у школы на {street}", "Дети переходят дорогу с оживлённым движением без перехода и "
         "светофора. Просим установить регулируемый переход."),
        ("Светофор на пересечении {street} не работает", "Светофор не работает уже неделю, утром образуются пробки и "
         "опасные ситуации."),
        ("Автобус аялдамасында баспана жоқ, {street}", "Аялдамада күн мен жаңбырдан қорғайтын баспана жоқ. Қарт адамдарға "
         "қиын."),
    ],
    "courtyards": [
        ("Сломана детская площадка во дворе на {street}", "Качели сломаны, торчат болты, дети травмируются. Просим "
         "отремонтировать площадку."),
        ("{street} көшесіндегі аулада жарық жоқ", "Ауламыз кешке мүлдем қараңғы, кіреберіс алдында шам жоқ. Жарықтандыруды "
         "сұраймыз."),
        ("Во дворе на {street} вырубают деревья", "Во дворе без объявления начали спиливать здоровые карагачи. Просим "
         "проверить, есть ли разрешение."),
        ("Аулада көлік тұрағы жоқ, жасыл алаңға көлік қояды", "Ауладағы көгал көлік тұрағына айналды. Тәртіп орнатуды "
         "және абаттандыруды сұраймыз."),
        ("Мусорные баки во дворе на {street} не вывозят", "Контейнеры переполнены по несколько дней, вокруг мусор и "
         "крысы. Просим наладить вывоз."),
    ],
    "land": [
        ("Участок под ИЖС: сроки рассмотрения заявления", "Подал заявление на участок под ИЖС в 2020 году, ответа о "
         "сроках нет. Прошу сообщить мою очередь."),
        ("Жер учаскесінің шекарасы көршімен дау", "Көршім қоршауды біздің учаскеге жылжытып салды. Жер қатынастары "
         "тарапынан тексеруді сұраймын."),
    ],
    "education": [
        ("Нет мест в детском саду, {street}", "Ребёнку 4 года, в очереди на садик третий год. Ближайшие сады "
         "переполнены. Прошу разъяснить, когда появятся места."),
    ],
    "health": [
        ("Емханаға жазылу мүмкін емес", "Емханаға телефон арқылы да, онлайн да жазыла алмаймын. Бір апта күттім."),
    ],
    "social": [
        ("Адресная помощь: отказ без объяснения", "Получили отказ в адресной социальной помощи без объяснения причин. "
         "Просим разъяснить основания."),
    ],
    "other": [
        ("Бродячие собаки у школы на {street}", "У школы каждое утро стая бродячих собак. Родители боятся за детей."),
    ],
}
STREETS = ("Абая", "Төле би", "Жандосова", "Момышұлы", "Райымбека", "Сейфуллина", "Толе би", "Аль-Фараби",
           "Назарбаева", "Саина", "Рыскулова", "Шаляпина", "Жібек жолы", "Суюнбая", "Достык", "Розыбакиева")
WEIGHTS = {"energy": 24, "housing": 22, "transport": 20, "courtyards": 20, "land": 5, "education": 3, "health": 2,
           "social": 2, "other": 2}
ANSWERS = [
    "Ваше обращение рассмотрено. Работы включены в план на текущий месяц; ответственный специалист свяжется с вами "
    "для уточнения адреса. Если проблема не будет решена, сообщите на этой странице.",
    "Өтінішіңіз қаралды. Мәселе жауапты мекемеге тапсырылды, жұмыстар екі апта ішінде жүргізіледі. Нәтижесі туралы "
    "осы бетте хабарлаймыз.",
    "По вашему обращению проведена проверка. Нарушение подтвердилось, подрядчику выдано предписание устранить его в "
    "течение 10 рабочих дней. Контроль за исполнением оставлен за управлением.",
    "Разъясняем: вопрос относится к компетенции собственников дома (ОСИ). Порядок требования отчёта и смены "
    "управляющего описан в Законе «О жилищных отношениях»; специалист готов проконсультировать на приёме в акимате "
    "района.",
]


@dataclass(frozen=True)
class Showcase:
    key: str
    citizen: str  # e-mail local part of a core demo person, or "" for someone without an account
    kind: str
    category: str
    district: str
    title: str
    body: str
    days_ago: int
    channel: str = "online"
    consent: bool = False
    applicant_name: str = ""
    applicant_contact: str = ""
    registered_by: str = ""


SHOWCASE = (
    # overdue: registered more than 15 working days ago, nobody answered
    Showcase("demo-overdue", "natalia.citizen", "complaint", "energy", "auezov",
             "Нет горячей воды в доме 17 на Жандосова с прошлого месяца",
             "В доме 17 по улице Жандосова нет горячей воды уже больше месяца. Звонили в диспетчерскую много раз, "
             "сроков не называют. В доме живут пожилые люди и маленькие дети.", days_ago=40),
    # duplicates: a broken playground reported by three people; the first answered 10 days ago
    Showcase("demo-playground", "bolat.citizen", "complaint", "courtyards", "bostandyk",
             "Сломана детская площадка во дворе дома 45 на Розыбакиева",
             "Во дворе дома 45 по Розыбакиева сломаны качели и горка, торчат болты. Вчера ребёнок поранил руку. Просим "
             "срочно отремонтировать площадку.", days_ago=24, consent=True),
    Showcase("demo-playground-2", "dana.citizen", "request", "courtyards", "bostandyk",
             "Детская площадка на Розыбакиева 45 опасна для детей",
             "Качели на площадке у дома 45 по Розыбакиева сломаны, дети могут пораниться. Прошу отремонтировать.",
             days_ago=5),
    Showcase("demo-playground-3", "", "complaint", "courtyards", "bostandyk",
             "Площадка во дворе Розыбакиева 45 сломана",
             "Звонок жительницы: во дворе дома 45 по Розыбакиева сломана детская площадка, торчат болты.",
             days_ago=3, channel="phone", applicant_name="Гүлмира Сағынтаева", applicant_contact="+7 701 555 12 34",
             registered_by="assel.official"),
    # joint answer: a dark crossing near a school — mobility leads, energy lights it
    Showcase("demo-joint", "dana.citizen", "proposal", "transport", "alatau",
             "Пешеходный переход у школы №180 без светофора и освещения",
             "У школы №180 в Алатауском районе дети переходят улицу без светофора, вечером переход не освещён. "
             "Предлагаю поставить светофор и фонари.", days_ago=12, consent=True),
    # published without personal data, answered
    Showcase("demo-published", "bolat.citizen", "complaint", "housing", "bostandyk",
             "ОСИ дома 12 на Шаляпина не показывает отчёт о расходах",
             "Меня зовут Болат Ермеков, живу в кв. 34. ОСИ нашего дома второй год не показывает отчёт о расходах "
             "взносов, председатель не отвечает на звонки. Мой телефон +7 777 123 45 67.", days_ago=20, consent=True),
    # a letter registered by an official, registered in e-Otinish
    Showcase("demo-letter", "", "request", "land", "nauryzbay",
             "Сроки рассмотрения заявления на участок под ИЖС",
             "Письмо: заявитель подал заявление на земельный участок под ИЖС в 2020 году и просит сообщить своё место "
             "в очереди и сроки.", days_ago=8, channel="letter", applicant_name="Ерлан Жұмабеков",
             applicant_contact="Наурызбай ауданы, Шұғыла ы., 7 үй", registered_by="gulnar.official"),
)


def _email(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


def _resident_email(n: int) -> str:
    return f"appeals-resident-{n:03d}@{DEMO_EMAIL_DOMAIN}"


async def _residents() -> list[dict]:
    """Demo residents who file the generated appeals: no password, mail off."""
    emails = [_resident_email(n) for n in range(1, RESIDENTS + 1)]
    have = {r["email"] for r in await User.select(User.email).where(User.email.is_in(emails))}
    rng = random.Random(7)
    districts = await Territory.select(Territory.id, Territory.code).where(Territory.code.like("almaty.%"))
    for n, email in enumerate(emails, start=1):
        if email in have:
            continue
        user = User(email=email, display_name=f"Тұрғын {n}", password_hash=None, language=rng.choice(["kk", "ru"]),
                    residence=rng.choice(districts)["id"] if districts else None, verification=1)
        await user.save()
        for topic in ("response", "appeals"):
            await NotificationPreference(user=user.id, kind=topic, delivery="off").save()
    return await User.select().where(User.email.is_in(emails)).order_by(User.email)


async def _routing(organisations: dict, territories: dict) -> None:
    admin = await User.select().where(User.email == _email("admin")).first()
    for category, slug in ROUTES.items():
        if slug not in organisations:
            continue
        exists = await RoutingRule.exists().where((RoutingRule.category == category)
                                                  & (RoutingRule.territory == territories["almaty"]))
        if not exists:
            await services.set_routing_rule(admin, category=category, territory_id=territories["almaty"],
                                            organisation_id=organisations[slug])


async def _user(local: str) -> dict | None:
    return await User.select().where(User.email == _email(local)).first() if local else None


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), ALMATY).astimezone(timezone.utc)


async def _backdate(response_id: int, kind: str, at: datetime) -> None:
    await ResponseEvent.update({ResponseEvent.created_at: at}).where(
        (ResponseEvent.response == response_id) & (ResponseEvent.kind == kind))


async def _official_for(holder: int, organisations_by_id: dict) -> dict:
    slug = organisations_by_id.get(holder, "")
    return await _user(OFFICIALS.get(slug, CITY_OFFICIAL))


async def _file(settings: Settings, *, key: str, citizen: dict | None, kind: str, category: str, territory_id: int,
                title: str, body: str, received: date, channel: str = "online", consent: bool = False,
                applicant_name: str = "", applicant_contact: str = "", registered_by: dict | None = None,
                organisation_id: int | None = None) -> dict | None:
    if await Appeal.exists().where(Appeal.demo_key == key):
        return None
    appeal = await services.file_appeal(
        settings, citizen, kind=kind, category=category, title=title, body=body, territory_id=territory_id,
        publish_consent=consent, channel=channel, registered_by=registered_by, applicant_name=applicant_name,
        applicant_contact=applicant_contact, organisation_id=organisation_id, today=received, now=_at(received, 9),
        demo_key=key)
    await OfficialResponse.update({OfficialResponse.received_at: _at(received, 9)}).where(
        OfficialResponse.id == appeal["response"])
    await _backdate(appeal["response"], "received", _at(received, 9))
    return appeal


async def _answer(appeal: dict, official: dict, text: str, day: date) -> None:
    await responses.answer(appeal["response"], actor_id=official["id"], text=text, public=False, today=day)
    await OfficialResponse.update({OfficialResponse.answered_at: _at(day, 16)}).where(
        OfficialResponse.id == appeal["response"])
    await _backdate(appeal["response"], "answered", _at(day, 16))


async def _generated(settings: Settings, residents: list[dict], organisations: dict, territories: dict,
                     step: Callable[[str], None]) -> int:
    """A year of appeals: fewer each month once the receptions started, and fewer re-routed."""
    rng = random.Random(2026)
    today = services.almaty_today()
    organisations_by_id = {v: k for k, v in organisations.items()}
    categories = [c for c, w in WEIGHTS.items() for _ in range(w)]
    created = 0
    n = 0
    for back in range(11, -1, -1):
        month = services.month_start(today, back)
        count = 18 - (11 - back) // 2 if back > 0 else 6  # the pilot's effect: fewer appeals month by month
        reroute_share = 0.32 - 0.02 * (11 - back)
        for _ in range(count):
            n += 1
            key = f"demo-gen-{n:03d}"
            if await Appeal.exists().where(Appeal.demo_key == key):
                continue
            last_day = today if back == 0 else services.month_start(today, back - 1) - timedelta(days=1)
            received = month + timedelta(days=rng.randrange(max(1, (last_day - month).days + 1)))
            category = rng.choice(categories)
            title, body = rng.choice(PROBLEMS[category])
            street = rng.choice(STREETS)
            district = rng.choice(DISTRICTS)
            citizen = residents[(n - 1) % len(residents)]
            channel = rng.choices(["online", "phone", "letter", "email", "reception"], [70, 12, 6, 6, 6])[0]
            registered_by = None
            if channel != "online":
                registered_by = await _user(OFFICIALS.get(ROUTES.get(category, ""), CITY_OFFICIAL))
            consent = rng.random() < 0.35
            rerouted = rng.random() < reroute_share
            first_body = None
            if rerouted:  # sent first to a body that is not competent, then forwarded
                wrong = rng.choice([s for s in ("almaty-energy", "almaty-housing", "almaty-mobility")
                                    if s != ROUTES.get(category)])
                first_body = organisations[wrong]
            try:
                async with transaction():
                    appeal = await _file(settings, key=key, citizen=citizen, kind=rng.choice(list(services.KINDS)),
                                         category=category, territory_id=territories[f"almaty.{district}"],
                                         title=title.format(street=street), body=body.format(street=street),
                                         received=received, channel=channel, consent=consent,
                                         registered_by=registered_by, organisation_id=first_body)
                    if appeal is None:
                        continue
                    if rerouted:
                        target = await services.route_for(category, territories[f"almaty.{district}"])
                        if target == first_body:
                            target = organisations[f"almaty-{district}-akimat"]
                        forwarder = await _official_for(first_body, organisations_by_id)
                        forwarded_on = add_working_days(received, rng.choice([1, 2, 3]))
                        if forwarded_on <= today:
                            await responses.forward(appeal["response"], actor_id=forwarder["id"],
                                                    to_organisation_id=target, today=forwarded_on,
                                                    note="Не относится к компетенции управления")
                            await _backdate(appeal["response"], "forwarded", _at(forwarded_on, 11))
                    appeal = await services.get_appeal_by_id(appeal["id"])
                    due = appeal["due_on"]
                    roll = rng.random()
                    answer_day = None
                    if roll < 0.78:  # on time
                        answer_day = received + timedelta(days=rng.randrange(2, max(3, (due - received).days)))
                    elif roll < 0.9:  # late
                        answer_day = due + timedelta(days=rng.randrange(1, 12))
                    official = await _official_for(appeal["holder"], organisations_by_id)
                    answer_text = ""
                    if answer_day is not None and answer_day < today:
                        answer_text = rng.choice(ANSWERS)
                        await _answer(appeal, official, answer_text, answer_day)
                        if rng.random() < 0.6:
                            rating = rng.choices([1, 2, 3, 4, 5], [5, 8, 17, 35, 35])[0]
                            await responses.rate(appeal["response"], user_id=citizen["id"], rating=rating,
                                                 solved=rating >= 3)
                    if consent and rng.random() < 0.7:  # published as written: the demo texts hold no personal data
                        await services.publish(official, appeal["id"], public_title=appeal["title"],
                                               public_body=appeal["body"], public_answer=answer_text)
                    created += 1
            except services.RefilingBlocked:
                continue
        step(f"Demo appeals: {created} generated")
    return created


async def _showcase(settings: Settings, organisations: dict, territories: dict) -> int:
    today = services.almaty_today()
    created = 0
    by_key = {}
    for spec in SHOWCASE:
        citizen = await _user(spec.citizen)
        async with transaction():
            appeal = await _file(settings, key=spec.key, citizen=citizen, kind=spec.kind, category=spec.category,
                                 territory_id=territories[f"almaty.{spec.district}"], title=spec.title, body=spec.body,
                                 received=today - timedelta(days=spec.days_ago), channel=spec.channel,
                                 consent=spec.consent, applicant_name=spec.applicant_name,
                                 applicant_contact=spec.applicant_contact,
                                 registered_by=await _user(spec.registered_by) if spec.registered_by else None)
            if appeal is None:
                continue
            created += 1
            by_key[spec.key] = appeal
            await _showcase_story(spec, appeal, organisations, today)
    return created


async def _showcase_story(spec: Showcase, appeal: dict, organisations: dict, today: date) -> None:
    assel = await _user("assel.official")
    if spec.key == "demo-playground":
        await _answer(appeal, assel, "Площадку осмотрели 12-го числа. Подрядчик заменит качели и горку до конца "
                                     "месяца; до ремонта опасные элементы огорожены. Ответ действует для всех "
                                     "обращений об этой площадке.", today - timedelta(days=10))
    elif spec.key in ("demo-playground-2", "demo-playground-3"):
        primary = await Appeal.select(Appeal.number).where(Appeal.demo_key == "demo-playground").first()
        if primary:
            await services.join(assel, appeal["id"], primary["number"], today)
    elif spec.key == "demo-joint":
        daniyar = await _user("daniyar.official")
        svetlana = await _user("svetlana.official")
        await services.add_participant(daniyar, appeal["id"], organisations["almaty-energy"])
        await services.contribute(svetlana, appeal["id"], organisations["almaty-energy"],
                                  "Освещение перехода включено в программу на этот год: шесть светодиодных фонарей "
                                  "установят до 1 сентября.")
        await services.answer(daniyar, appeal["id"], "Светофор с кнопкой вызова будет установлен в августе; до этого "
                                                      "в часы начала и окончания уроков у перехода дежурит инспектор.",
                              today - timedelta(days=2))
    elif spec.key == "demo-published":
        aigerim = await _user("aigerim.official")
        answer = ("ОСИ обязано ежегодно отчитываться перед собственниками (Закон «О жилищных отношениях», ст. 42-3). "
                  "Управление направило председателю ОСИ требование представить отчёт на собрании в течение месяца.")
        await _answer(appeal, aigerim, answer, today - timedelta(days=6))
        fresh = await services.get_appeal_by_id(appeal["id"])
        await services.publish(aigerim, appeal["id"], public_title="ОСИ дома на Шаляпина не показывает отчёт о расходах",
                               public_body="ОСИ нашего дома второй год не показывает отчёт о расходах взносов, "
                                           "председатель не отвечает на звонки.",
                               public_answer=fresh["answer"] or answer)
    elif spec.key == "demo-letter":
        gulnar = await _user("gulnar.official")
        await services.set_eotinish_number(gulnar, appeal["id"], "ЖТ-2026-04512873")
        await Appeal.update({Appeal.eotinish_registered_at: _at(today - timedelta(days=7))}).where(
            Appeal.id == appeal["id"])
    await AppealEvent.update({AppealEvent.created_at: _at(today - timedelta(days=spec.days_ago), 9)}).where(
        (AppealEvent.appeal == appeal["id"]) & (AppealEvent.kind == "filed"))


SEED_DEPARTMENTS = (  # seed 000: the four departments and what their specialists explain
    ("almaty-housing", "aigerim.official", "Очередь на жильё, ОСИ и КСК, аварийные дома / Тұрғын үй кезегі, ПИБ, апатты үйлер"),
    ("almaty-mobility", "daniyar.official", "Маршруты автобусов, остановки, переходы, парковки / Қоғамдық көлік, аялдамалар"),
    ("almaty-energy", "svetlana.official", "Отопление, горячая вода, свет, газ / Жылу, ыстық су, жарық, газ"),
    ("almaty-land", "gulnar.official", "Земельные участки, ИЖС, границы участков / Жер учаскелері, жеке тұрғын үй құрылысы"),
)
WEEKDAYS = {"nauryzbay": 1, "medeu": 2, "alatau": 3}  # Tuesday, Wednesday, Thursday


async def _receptions(settings: Settings, organisations: dict, residents: list[dict],
                      step: Callable[[str], None]) -> int:
    if await ReceptionSlot.exists().where(ReceptionSlot.demo_key.like("demo-%")):
        return 0
    rng = random.Random(1000)
    today = services.almaty_today()
    monday = today - timedelta(days=today.weekday())
    hosts = {d: organisations[f"almaty-{d}-akimat"] for d in PILOT_DISTRICTS}
    host_places = {"nauryzbay": "Наурызбай ауданы әкімдігі, Шұғыла ы-ауданы, 1-қабат, 104-кабинет",
                   "medeu": "Акимат Медеуского района, ул. Наурызбай батыра, 40, зал приёма",
                   "alatau": "Алатау ауданы әкімдігі, Шаңырақ-2, Жанқожа батыр к-сі, 2, 1-қабат"}
    specialists = {slug: await _user(local) for slug, local, _ in SEED_DEPARTMENTS}
    created = 0
    visits = []
    async with transaction():
        for weeks_back in range(26, -5, -1):  # half a year held, four weeks ahead
            week = monday - timedelta(weeks=weeks_back)
            for district, host_id in hosts.items():
                for n, (slug, _local, topics) in enumerate(SEED_DEPARTMENTS):
                    day = week + timedelta(days=WEEKDAYS[district])
                    starts = _at(day, 10 + 2 * n)  # 10:00, 12:00, 14:00, 16:00
                    online = slug == "almaty-land" and district == "alatau"
                    slot = ReceptionSlot(
                        organisation=organisations[slug], host=host_id, specialist=specialists[slug]["id"],
                        topics=topics, place="Онлайн (Zoom)" if online else host_places[district],
                        mode="online" if online else "in_person",
                        online_link="https://meet.example.kz/ashyq-land-alatau" if online else "",
                        starts_at=starts, duration_minutes=120, capacity=12, booked_count=0,
                        series=f"demo-{slug}-{district}", created_by=specialists[slug]["id"],
                        created_at=_at(week - timedelta(days=14)),
                        demo_key=f"demo-{slug}-{district}-{weeks_back}")
                    await slot.save()
                    created += 1
                    if weeks_back > 0 or starts < now_utc():
                        # held: about 80 people advised a month half a year ago, about 200 now
                        people = max(1, round(1.5 + (26 - weeks_back) * 0.12 + rng.uniform(-1, 1)))
                        for k in range(people):
                            outcome = rng.choices(["advised", "resolved", "no_show"], [65, 25, 10])[0]
                            visits.append(ReceptionBooking(
                                slot=slot.id, person=None, visitor_name=f"Келуші {k + 1}", status="walk_in",
                                created_at=starts, outcome=outcome, outcome_at=starts + timedelta(hours=1),
                                outcome_by=specialists[slug]["id"]))
        for start in range(0, len(visits), 500):
            await ReceptionBooking.insert(*visits[start:start + 500])
    step(f"Demo receptions: {created} slots, {len(visits)} visits recorded")
    # a few bookings for the coming weeks, by demo people (confirmations are in-app; demo mail goes to the outbox)
    upcoming = await receptions.upcoming_slots(now=now_utc(), weeks=4)
    bookers = [await _user("natalia.citizen"), await _user("dana.citizen"), *residents[:20]]
    for slot in upcoming[:12]:
        for person in rng.sample([b for b in bookers if b], k=min(len(bookers), rng.randint(2, 9))):
            try:
                await receptions.book(person, slot["id"], "Хочу получить консультацию по своему вопросу.")
            except RuleError:
                continue
    return created


async def load_demo(settings: Settings, progress: Callable[[str], None] | None = None) -> dict:
    """Load the appeals demo (idempotent); returns how many appeals and reception slots were created."""
    def step(message: str) -> None:
        if progress:
            progress(message)

    if not await Organisation.exists().where(Organisation.slug == "almaty-akimat"):
        await load_core_demo(settings, progress)
    settings = settings.with_changes(rate_limits=False)  # the demo files many appeals at once
    organisations = {r["slug"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.slug)}
    territories = {r["code"]: r["id"] for r in await Territory.select(Territory.id, Territory.code)}
    step("Demo appeals: residents and routing rules…")
    residents = await _residents()
    await _routing(organisations, territories)
    step("Demo appeals: a year of appeals…")
    generated = await _generated(settings, residents, organisations, territories, step)
    showcase = await _showcase(settings, organisations, territories)
    step("Demo receptions: the four departments at the pilot district akimats…")
    slots = await _receptions(settings, organisations, residents, step)
    step(f"Demo appeals: {generated + showcase} appeals and {slots} reception slots created")
    return {"appeals": generated + showcase, "slots": slots}
