"""Demo ideas for the Almaty demo akimat: realistic Kazakh and Russian ideas in all eight
districts (courtyards, pavements, bus routes, street lighting, parks, sanitary tree felling,
heating), discussions, supports, two challenges (one open, one with its outcome published),
answered and overdue official responses, implementation records and moderation examples.

Idempotent: an idea or a challenge is found by its title and left exactly as it is when it
exists; what is missing is created with everything that belongs to it in one transaction.
It builds on the core demo (civic.demo): its territories, organisations and people. The
threshold supports come from demo residents created here (no password: they cannot sign in)
whose mail is switched off, so loading the demo sends no mail to anyone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from civic.accounts.tables import User
from civic.db import write_transaction
from civic.demo import DEMO_EMAIL_DOMAIN, load_core_demo
from civic.notify.tables import NotificationPreference
from civic.responses import services as responses
from civic.responses.tables import OfficialResponse
from civic.runtime import current_engine
from civic.settings import Settings
from civic.territory.tables import Organisation, Territory
from modules.ideas import services
from modules.ideas.tables import (
    Challenge,
    Comment,
    Flag,
    Follow,
    Idea,
    IdeaPolicy,
    IdeaVersion,
    Milestone,
    ModerationEntry,
    StatusChange,
    Support,
)

RESIDENTS = 150
WOMEN = ["Айжан", "Мадина", "Гүлмира", "Сабина", "Алия", "Ольга", "Татьяна", "Виктория", "Жанна", "Камила",
         "Әйгерім", "Дина", "Людмила", "Індира", "Светлана", "Ләззат", "Марина", "Салтанат"]
MEN = ["Ерлан", "Нұрсұлтан", "Асхат", "Данияр", "Бауыржан", "Сергей", "Игорь", "Андрей", "Руслан", "Тимур", "Арман",
       "Санжар", "Максим", "Ғалым", "Әлихан", "Қанат", "Виктор", "Ержан"]
SURNAMES = [("Ахметов", "Ахметова"), ("Серікбаев", "Серікбаева"), ("Иванов", "Иванова"), ("Жұмабеков", "Жұмабекова"),
            ("Ким", "Ким"), ("Нұрланов", "Нұрланова"), ("Петров", "Петрова"), ("Оспанов", "Оспанова"), ("Ли", "Ли"),
            ("Қасымов", "Қасымова"), ("Смагулов", "Смагулова"), ("Павленко", "Павленко"), ("Төлеуов", "Төлеуова"),
            ("Абдрахманов", "Абдрахманова"), ("Цой", "Цой"), ("Есенов", "Есенова"), ("Бекмуратов", "Бекмуратова")]


def _resident_name(n: int) -> str:
    woman = n % 2 == 0
    first = (WOMEN if woman else MEN)[(n * 7) % len(WOMEN if woman else MEN)]
    return f"{first} {SURNAMES[(n * 11) % len(SURNAMES)][1 if woman else 0]}"


def _resident_email(n: int) -> str:
    return f"ideas-resident-{n:03d}@{DEMO_EMAIL_DOMAIN}"


def _person(local: str) -> str:
    return f"{local}@{DEMO_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoComment:
    author: str  # e-mail local part, or "resident:N"
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
    author: str  # e-mail local part, or "resident:N"
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


CHALLENGES = (
    DemoChallenge(
        title="Как ускорить автобусный маршрут 92 в часы пик?",
        organisation="almaty-mobility", territory="almaty", level="dialogue", created_days_ago=12, deadline_days=30,
        official="daniyar.official",
        problem="Маршрут 92 связывает Аксай, Алмалинский и Медеуский районы. Утром рейс от конечной до "
                "площади Республики занимает **70 минут** вместо 40 по расписанию: автобусы стоят в общих "
                "пробках на Абая и Толе би, посадка идёт только через переднюю дверь.\n\n"
                "Ежедневно маршрутом пользуются около 18 000 человек.",
        success_criteria="- время поездки в часы пик сокращается минимум на 20%;\n- решение не требует покупки "
                         "новых автобусов;\n- его можно проверить за три месяца на одном маршруте."),
    DemoChallenge(
        title="Қараңғы аулалар: Түрксіб ауданындағы аулаларды қалай жарықтандырамыз?",
        organisation="almaty-energy", territory="almaty.turksib", level="partnership", created_days_ago=95,
        deadline_days=-50, official="svetlana.official",
        problem="Түрксіб ауданындағы 140-тан астам көппәтерлі үйдің ауласында түнгі жарық жоқ немесе "
                "шамдар істен шыққан. Тұрғындар кешке балалар алаңы мен автотұрақтан өту қауіпті екенін "
                "айтады. Бюджетте 2026 жылға ауладағы жарыққа 180 млн теңге қаралған.",
        success_criteria="- бір ауланы жарықтандыру құны 1,5 млн теңгеден аспайды;\n- электр шығыны қазіргіден "
                         "көп емес;\n- тұрғындар бұзылған шамды оңай хабарлай алады.",
        outcome="Екі идея іріктелді. **Қозғалыс датчигі бар шамдар** 2026 жылы Түрксіб ауданының 40 ауласына "
                "орнатылады (бағдарлама 451-032). Күн батареясы бар шамдардан бас тартылды: қыста жарық "
                "уақыты жетпейді. Бұзылған шамдар туралы хабарлау картасы ашық деректер порталына қосылады. "
                "Барлық қатысушыға рахмет!"),
)

IDEAS = (
    DemoIdea(
        title="Тимирязев көшесі 42 үйдің ауласына шам орнату",
        body="Тимирязев көшесіндегі 42 үйдің ауласы кешкі сағат жетіден кейін толық қараңғы. Аулада балалар "
             "алаңы мен автотұрақ бар, қыста мектептен қайтқан балалар қараңғыда жүреді.\n\n"
             "**Ұсыныс:** аула периметріне төрт LED шам және балалар алаңына бір шам орнату.",
        territory="almaty.bostandyk", category="lighting", author="bolat.citizen", days_ago=120, supports=124,
        cost=2_400_000, response="answered", answered_by="assel.official",
        answer="Бостандық ауданы әкімдігі идеяны қолдайды. Аулаға бес LED шам 2026 жылдың мамыр айында "
               "орнатылады; жұмысты Энергия тиімділігі басқармасы «Көше жарығы» бағдарламасы бойынша "
               "атқарады. Тұрғындарға рахмет!",
        statuses=(("accepted", "Бағдарлама 451-032 бойынша қаржыландырылады.", "assel.official"),
                  ("in_progress", "Мердігер анықталды, шамдар сатып алынды.", "svetlana.official")),
        department="almaty-energy", budget_line="451-032 «Көше жарығы»", progress=60,
        milestones=(DemoMilestone("Жоба-смета құжаттамасы бекітілді", -60, -62, 20),
                    DemoMilestone("Шамдар сатып алынды", -20, -18, 60),
                    DemoMilestone("Шамдар орнатылып, қосылды", 25, None, 100)),
        comments=(DemoComment("resident:3", "Өте дұрыс ұсыныс, кеше ғана қараңғыда құлап қала жаздадым.", 110,
                              (DemoComment("bolat.citizen", "Рахмет! Қолдау белгісін басуды ұмытпаңыз.", 109),)),
                  DemoComment("resident:17", "Шамдар автотұраққа да жетсе жақсы болар еді.", 100))),
    DemoIdea(
        title="Отремонтировать тротуар на улице Жамбыла между Фурманова и Пушкина",
        body="Тротуар по чётной стороне Жамбыла разрушен: плитка вздыблена корнями, после дождя стоят лужи "
             "глубиной по щиколотку. Здесь ходят к поликлинике №4 пожилые люди и мамы с колясками.\n\n"
             "Прошу переложить тротуар и сделать водоотвод.",
        territory="almaty.medeu", category="pavements", author="natalia.citizen", days_ago=75, supports=108,
        cost=18_000_000, response="overdue",
        comments=(DemoComment("resident:8", "С коляской там не пройти, приходится идти по проезжей части.", 70),
                  DemoComment("resident:41", "Поддерживаю. Сфотографировала лужи, могу приложить.", 66),
                  DemoComment("natalia.citizen", "Срок ответа акимата уже прошёл. Ждём.", 3))),
    DemoIdea(
        title="Продлить автобусный маршрут 79 до микрорайона Аксай-5",
        body="Жители Аксай-5 ходят до остановки 79-го маршрута 1,2 км. Зимой это тяжело, особенно пожилым.\n\n"
             "Предлагаю продлить маршрут на две остановки, до пересечения Momышулы и Яссауи.",
        territory="almaty.auezov", category="transport", author="resident:22", days_ago=140, supports=137,
        response="answered", answered_by="timur.official",
        answer="Маршрут 79 уже работает на пределе: продление увеличит интервал с 8 до 12 минут для всех "
               "пассажиров. Вместо этого с 1 марта запускается новый маршрут 145 от Аксай-5 до метро "
               "«Сайран» с интервалом 10 минут. Управление городской мобильности следит за загрузкой.",
        statuses=(("not_accepted", "Продление ухудшит интервал для всех пассажиров маршрута 79; жителей "
                                   "Аксай-5 обслужит новый маршрут 145.", "timur.official"),),
        comments=(DemoComment("resident:5", "Маршрут 145 — хорошее решение, лишь бы действительно запустили.", 95),)),
    DemoIdea(
        title="Райымбек даңғылы 200 үйдің жылу жүйесін жөндеу",
        body="Өткен қыста 200 үйдің жоғарғы қабаттарында батареялар суық болды, пәтерлерде 15 градус. "
             "КСК құбырлардың тозғанын айтады, бірақ жөндеуге қаражат жоқ.\n\n"
             "Үйдің жылу жүйесін күрделі жөндеу бағдарламасына қосуды сұраймыз.",
        territory="almaty.turksib", category="heating", author="resident:31", days_ago=100, supports=101,
        response="answered", answered_by="nurlan.official",
        answer="Үй 2026–2027 жылдардағы жылу жүйелерін жаңғырту тізіміне енгізілді. Жұмыс жылыту "
               "маусымынан кейін, 2026 жылдың маусым айында басталады.",
        statuses=(("planned", "2026–2027 жылдардағы жаңғырту тізіміне енгізілді.", "svetlana.official"),),
        department="almaty-energy", budget_line="451-015 «Жылу желілерін жаңғырту»", progress=10,
        milestones=(DemoMilestone("Тексеру актісі жасалды", -30, -28, 10),
                    DemoMilestone("Жөндеу жұмысы басталады", 150, None, 40))),
    DemoIdea(
        title="Приостановить санитарную вырубку карагачей на Толе би до публичного обследования",
        body="Акимат планирует санитарную вырубку 46 карагачей на Толе би между Байзакова и Муканова. "
             "Многие деревья выглядят здоровыми.\n\nПрошу:\n\n1. опубликовать акт обследования по каждому "
             "дереву;\n2. провести повторное обследование с участием жителей и независимого дендролога;\n"
             "3. рубить только действительно аварийные деревья.",
        territory="almaty.almaly", category="trees", author="resident:12", days_ago=9, supports=96,
        comments=(DemoComment("resident:44", "Эти деревья старше меня. Поддерживаю обследование.", 8,
                              (DemoComment("resident:12", "Акт обследования можно запросить в акимате района.",
                                           7),)),
                  DemoComment("resident:60", "Часть деревьев правда сухая, весной ветка упала на машину.", 6),
                  DemoComment("resident:71", "Главное — прозрачность. Опубликуйте акты.", 4))),
    DemoIdea(
        title="Shade trees and benches at the Alatau bus terminal",
        body="The bus terminal at Alatau has no shade at all. In July people wait for 20 minutes in the sun. "
             "Plant a row of elms and put six benches under a canopy.",
        territory="almaty.alatau", category="parks", author="dana.citizen", days_ago=30, supports=27,
        cost=6_500_000),
    DemoIdea(
        title="Майлин көшесі 8 үйдің балалар алаңын жаңарту",
        body="Балалар алаңындағы әткеншектер 1990 жылдардан қалған, біреуі сынған. Алаңның астына резеңке "
             "төсеніш салып, жаңа ойын кешенін орнатуды ұсынамыз.",
        territory="almaty.zhetysu", category="courtyards", author="resident:45", days_ago=40, supports=45,
        cost=9_000_000),
    DemoIdea(
        title="Сквер вместо пустыря у школы №178",
        body="Между школой №178 и жилыми домами — пустырь, где паркуются и сваливают мусор. Предлагаю сделать "
             "сквер: дорожки, освещение, деревья, площадку для воркаута.",
        earlier_body="Между школой №178 и домами пустырь. Сделайте там сквер.",
        territory="almaty.nauryzbay", category="parks", author="resident:52", days_ago=55, supports=67,
        statuses=(("under_review", "Земельный участок проверяется Управлением земельных отношений.",
                   "nurlan.official"),)),
    DemoIdea(
        title="Көктөбе баурайында серуендеу жолын белгілеу",
        body="Көктөбе баурайында тұрғындар серуендейтін соқпақтар бар, бірақ белгі жоқ, кешке адасып кетуге "
             "болады. Жолды белгілеп, қоқыс жәшіктерін қоюды ұсынамын.",
        territory="almaty.medeu", category="parks", author="resident:9", days_ago=15, supports=23),
    DemoIdea(
        title="Выделенная полоса для автобусов на проспекте Абая",
        body="От Саина до Назарбаева выделить правую полосу проспекта Абая для автобусов в часы пик "
             "(7:30–10:00 и 17:00–20:00) и контролировать её камерами.",
        territory="almaty", category="transport", author="resident:2", days_ago=10, supports=58,
        challenge="Как ускорить автобусный маршрут 92 в часы пик?",
        comments=(DemoComment("sergey.expert", "По нашим моделям полоса на Абая даёт до 12 минут экономии "
                                               "на рейс.", 8),)),
    DemoIdea(
        title="92-бағыттағы автобустарға барлық есіктен отыруды енгізу",
        body="Қазір жолаушылар тек алдыңғы есіктен отырып, жол ақысын жүргізушіге көрсетеді. Әр аялдамада "
             "2–3 минут кетеді. Валидаторларды барлық есікке орнатуды ұсынамын.",
        territory="almaty", category="transport", author="bolat.citizen", days_ago=8, supports=44,
        challenge="Как ускорить автобусный маршрут 92 в часы пик?"),
    DemoIdea(
        title="Светофоры с приоритетом для автобусов на Толе би",
        body="Установить на перекрёстках Толе би светофоры, которые продлевают зелёный свет для подъезжающего "
             "автобуса. Так сделано в Таллине и Казани.",
        territory="almaty", category="transport", author="resident:77", days_ago=6, supports=19,
        challenge="Как ускорить автобусный маршрут 92 в часы пик?"),
    DemoIdea(
        title="Фонари с датчиками движения во дворах Турксиба",
        body="Ставить во дворах светодиодные фонари с датчиком движения: в полную силу они горят, только когда "
             "кто-то идёт. Экономия электроэнергии до 60%.",
        territory="almaty.turksib", category="lighting", author="resident:33", days_ago=85, supports=73,
        challenge="Қараңғы аулалар: Түрксіб ауданындағы аулаларды қалай жарықтандырамыз?", shortlisted=True,
        response="answered", answered_by="svetlana.official",
        answer="Идея выбрана: в 2026 году фонари с датчиками движения установят в 40 дворах Турксибского "
               "района по программе 451-032.",
        statuses=(("accepted", "Выбрана по итогам вызова «Тёмные дворы».", "svetlana.official"),),
        department="almaty-energy", budget_line="451-032 «Көше жарығы»", progress=15,
        milestones=(DemoMilestone("Список из 40 дворов согласован с жителями", -10, -9, 15),
                    DemoMilestone("Фонари установлены", 120, None, 100))),
    DemoIdea(
        title="Аулалардағы шамдарды күн батареясымен қамту",
        body="Күн батареясы бар шамдар электр желісіне қосуды қажет етпейді, сондықтан кабель тартуға "
             "шығын жоқ. Түрксіб аулаларына осындай шамдар қоюды ұсынамын.",
        territory="almaty.turksib", category="lighting", author="resident:48", days_ago=80, supports=41,
        challenge="Қараңғы аулалар: Түрксіб ауданындағы аулаларды қалай жарықтандырамыз?", shortlisted=True,
        response="answered", answered_by="svetlana.official",
        answer="Рахмет, идея мұқият қаралды. Алматыда қыста күн қысқа, бұлтты күндер көп: сынақта мұндай "
               "шамдар желтоқсанда түнгі 22:00-ге дейін ғана жанды. Сондықтан бұл шешім таңдалмады.",
        statuses=(("not_accepted", "Қыста күн батареясының қуаты түні бойы жарыққа жетпейді.",
                   "svetlana.official"),)),
    DemoIdea(
        title="Карта неработающих фонарей для жителей",
        body="Сделать на сайте акимата карту, где жители отмечают неработающие фонари, а подрядчик отмечает "
             "ремонт. Данные публиковать открыто.",
        territory="almaty.turksib", category="lighting", author="natalia.citizen", days_ago=70, supports=36,
        challenge="Қараңғы аулалар: Түрксіб ауданындағы аулаларды қалай жарықтандырамыз?"),
    DemoIdea(
        title="Мектептердегі жылу жүйесін жазда алдын ала тексеру",
        body="Әр жылы қазан айында бірнеше мектепте жылу болмай қалады. Жылу жүйесін тамыз айында "
             "тексеріп, нәтижесін ата-аналарға жариялауды ұсынамын.",
        territory="almaty.almaly", category="heating", author="resident:66", days_ago=20, supports=12),
    DemoIdea(
        title="Пешеходный переход через Рыскулова у рынка «Алтын Орда»",
        body="Чтобы попасть на рынок с остановки, люди перебегают шесть полос Рыскулова. Нужен регулируемый "
             "переход со светофором.",
        territory="almaty.alatau", category="pavements", author="resident:90", days_ago=210, supports=115,
        cost=35_000_000, response="answered", answered_by="nurlan.official",
        answer="Переход со светофором включён в план на этот год. Работы выполнит Управление городской "
               "мобильности.",
        statuses=(("accepted", "Включено в план благоустройства.", "nurlan.official"),
                  ("in_progress", "Подрядчик вышел на объект.", "daniyar.official"),
                  ("implemented", "Переход и светофор открыты.", "daniyar.official")),
        department="almaty-mobility", budget_line="453-010 «Безопасность дорожного движения»", progress=100,
        milestones=(DemoMilestone("Проект согласован с дорожной полицией", -140, -141, 30),
                    DemoMilestone("Разметка и светофор установлены", -100, -104, 90),
                    DemoMilestone("Переход открыт", -95, -97, 100))),
    DemoIdea(
        title="Заменить аварийные тополя во дворе на Сейфуллина 500",
        body="Три тополя во дворе наклонились над детской площадкой, весной одно дерево сломалось. Просим "
             "провести обследование и заменить их на клёны.",
        territory="almaty.zhetysu", category="trees", author="resident:14", days_ago=25, supports=38),
    DemoIdea(
        title="Шұғыла шағынауданындағы көшелерді асфальттау",
        body="Шұғыла шағынауданының Алатау, Жетісу көшелері әлі қиыршық тас. Жаңбырдан кейін жүру мүмкін "
             "емес, жедел жәрдем көлігі өте алмай қалған жағдай болды.",
        territory="almaty.nauryzbay", category="pavements", author="resident:101", days_ago=35, supports=88,
        comments=(DemoComment("resident:102", "Біздің көшеде де солай. Қолдаймын!", 33),)),
    DemoIdea(
        title="Бесплатные курсы блогеров — пишите в директ",
        body="Лучшие курсы для начинающих блогеров, скидка 90% только сегодня, пишите в директ и переходите "
             "по ссылке в профиле.",
        territory="almaty.medeu", category="other", author="resident:130", days_ago=5, supports=0,
        hidden=("spam", "Реклама, не относится к благоустройству.")),
    DemoIdea(
        title="Аулаға велосипед тұрағын орнату",
        body="Жазда аулада велосипедтерді қоятын орын жоқ, подъезге кіргізуге тыйым салынған. Аулаға "
             "10 орындық тұрақ қоюды ұсынамын.",
        territory="almaty.auezov", category="courtyards", author="resident:19", days_ago=12, supports=19,
        comments=(DemoComment("resident:120", "Велосипедшілерге ақша шашу керек емес, бәрі көлікпен жүреді!!!", 11),),
        flags=(("resident:4", "offensive"), ("resident:7", "off_topic"))),
)

#: An idea in an Aral okrug, where the district akimat moderates before publishing.
PENDING_IDEA = DemoIdea(
    title="Қамыстыбас ауылына ауыз су құбырын тарту",
    body="Қамыстыбас ауылында ауыз су тасымалмен келеді, бір бөшке 3000 теңге. Ауылға су құбырын тартуды "
         "аудандық бағдарламаға енгізуді сұраймыз.",
    territory="kyzylorda.aral.kamystybas", category="heating", author="serik.citizen", days_ago=1, supports=0)


# ------------------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _at(days_ago: float) -> datetime:
    return _now() - timedelta(days=days_ago)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(responses.ALMATY).date()


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
    rng = random.Random(2026)
    async with write_transaction(current_engine()):
        for n in missing:
            user = User(email=_resident_email(n), display_name=_resident_name(n), password_hash=None,
                        language="ru" if n % 3 == 0 else "kk", residence=rng.choice(districts)["id"],
                        verification=1, created_at=_at(400))
            await user.save()
            for topic in ("ideas", "response"):
                await NotificationPreference.insert(NotificationPreference(
                    user=user.id, kind=topic, delivery="off")).on_conflict(action="DO NOTHING")


async def _policies() -> None:
    rules = {"almaty-akimat": "post", "aral-akimat": "pre", "kyzylorda-akimat": "post", "mangystau-akimat": "post"}
    organisations = {r["slug"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.slug).where(
        Organisation.slug.is_in(list(rules)))}
    for slug, moderation in rules.items():
        if slug in organisations:
            await IdeaPolicy.insert(IdeaPolicy(organisation=organisations[slug], moderation=moderation,
                                               support_threshold=100)).on_conflict(action="DO NOTHING")


async def _challenge(spec: DemoChallenge, people: People, organisations: dict, territories: dict) -> int:
    existing = await Challenge.select(Challenge.id).where(Challenge.title == spec.title).first()
    if existing:
        return existing["id"]
    today = responses.almaty_today()
    async with write_transaction(current_engine()):
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


async def _comments(idea_id: int, comments: tuple[DemoComment, ...], people: People, parent: int | None = None) -> int:
    count = 0
    for spec in comments:
        comment = Comment(idea=idea_id, parent=parent, author=people(spec.author), kind="comment", body=spec.body,
                          visibility="visible", created_at=_at(spec.days_ago))
        await comment.save()
        count += 1 + await _comments(idea_id, spec.replies, people, comment.id)
    return count


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

    async with write_transaction(current_engine()):
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
        await Follow.insert(Follow(idea=idea.id, user=author_id, created_at=created))
        for user_id, moment in zip(supporters, moments):
            await Support.insert(Support(idea=idea.id, user=user_id, created_at=moment))
            await Follow.insert(Follow(idea=idea.id, user=user_id, created_at=moment)).on_conflict(action="DO NOTHING")
        comment_count = await _comments(idea.id, spec.comments, people)
        await Idea.update({Idea.comment_count: comment_count}).where(Idea.id == idea.id)
        if spec.earlier_body:
            await IdeaVersion(idea=idea.id, version=1, title=spec.title, body=spec.earlier_body,
                              category=spec.category, replaced_at=created + timedelta(days=2)).save()
            await Idea.update({Idea.version: 2}).where(Idea.id == idea.id)
        if spec.flags:
            first = await Comment.select(Comment.id).where(Comment.idea == idea.id).order_by(Comment.id).first()
            for reporter, reason in spec.flags:
                await Flag(target_kind="comment", target_id=first["id"], reporter=people(reporter), reason=reason,
                           created_at=_at(spec.days_ago - 1)).save()
        if spec.hidden:
            reason, note = spec.hidden
            hidden_at = created + timedelta(hours=3)
            moderator = people("olga.moderator")
            await Idea.update({Idea.visibility: "hidden", Idea.hidden_reason: reason, Idea.hidden_note: note,
                               Idea.hidden_at: hidden_at}).where(Idea.id == idea.id)
            await ModerationEntry(target_kind="idea", target_id=idea.id, idea=idea.id, action="hidden", reason=reason,
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
                answered_at = datetime.combine(answered_on, time(11, 30), tzinfo=responses.ALMATY)
                await OfficialResponse.update({
                    OfficialResponse.answered_at: answered_at,
                    OfficialResponse.acknowledged_at: answered_at - timedelta(days=5),
                }).where(OfficialResponse.id == response.id)
                await Idea.update({Idea.answered_at: answered_at}).where(Idea.id == idea.id)
                await Comment.update({Comment.created_at: answered_at}).where(
                    (Comment.idea == idea.id) & (Comment.kind == "answer"))
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
            today = responses.almaty_today()
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

    if not await Organisation.exists().where(Organisation.slug == "almaty-akimat"):
        await load_core_demo(settings, progress)
    await _residents(step)
    await _policies()
    emails = [_resident_email(n) for n in range(1, RESIDENTS + 1)]
    rows = await User.select(User.id, User.email).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
    people = People({r["email"]: r["id"] for r in rows})
    resident_ids = [people.ids[e] for e in emails]
    organisations = {r["slug"]: r["id"] for r in await Organisation.select(Organisation.id, Organisation.slug)}
    territories = {r["code"]: r["id"] for r in await Territory.select(Territory.id, Territory.code)}

    step("Demo ideas: challenges…")
    challenges = {}
    for spec in CHALLENGES:
        challenges[spec.title] = await _challenge(spec, people, organisations, territories)
    created = 0
    for n, spec in enumerate((*IDEAS, PENDING_IDEA), start=1):
        step(f"Demo ideas: {n} of {len(IDEAS) + 1}…")
        created += await _idea(spec, people, organisations, territories, challenges, resident_ids)
    await _publish_outcomes(people)
    step(f"Demo ideas: {created} ideas created")
    return {"ideas": created, "challenges": len(challenges)}
