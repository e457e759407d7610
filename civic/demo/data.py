"""The core demo data: real territories of Kazakhstan, a realistic set of organisations, and
demo people for every role.

Territory names are the official Kazakh and Russian ones. Populations are approximate
(rounded, 2024 figures) and serve only to make dashboards look plausible; rural okrugs carry
no population rather than an invented one. The organisations are modelled on the real
structure of the Almaty city akimat and its departments (басқарма); the NGO, the company and
every person are fictional.

TerritoryKind has no kind for a town of district significance, so the town of Aral itself
(the district centre) is not a separate territory: its people live in "Aral district", and the
Aral district akimat answers for the town.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civic.accounts.tables import Role
from civic.accounts.verification import Level
from civic.territory.tables import OrganisationKind as OK
from civic.territory.tables import TerritoryKind as TK

DEMO_PASSWORD = "demo-ashyq-2026"
DEMO_EMAIL_DOMAIN = "demo.ashyq.kz"


# --- territories ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoTerritory:
    code: str  # "almaty.bostandyk": the parent's code, a dot, the own slug
    kind: str
    name_kk: str
    name_ru: str
    name_en: str
    population: int | None = None

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    @property
    def path(self) -> str:
        if self.code == "kz":
            return "/kz/"
        return "/kz/" + "/".join(self.code.split(".")) + "/"


def _okrug(slug: str, kk: str, ru: str, en: str) -> DemoTerritory:
    return DemoTerritory(f"kyzylorda.aral.{slug}", TK.RURAL_OKRUG,
                         f"{kk} ауылдық округі", f"{ru} сельский округ", f"{en} rural okrug")


# Parents come before their children; the loader relies on it.
DEMO_TERRITORIES: tuple[DemoTerritory, ...] = (
    DemoTerritory("kz", TK.REPUBLIC, "Қазақстан Республикасы", "Республика Казахстан",
                  "Republic of Kazakhstan", 20_300_000),

    DemoTerritory("almaty", TK.CITY, "Алматы қаласы", "город Алматы", "Almaty", 2_280_000),
    DemoTerritory("almaty.alatau", TK.DISTRICT, "Алатау ауданы", "Алатауский район", "Alatau district", 370_000),
    DemoTerritory("almaty.almaly", TK.DISTRICT, "Алмалы ауданы", "Алмалинский район", "Almaly district", 225_000),
    DemoTerritory("almaty.auezov", TK.DISTRICT, "Әуезов ауданы", "Ауэзовский район", "Auezov district", 325_000),
    DemoTerritory("almaty.bostandyk", TK.DISTRICT, "Бостандық ауданы", "Бостандыкский район",
                  "Bostandyk district", 385_000),
    DemoTerritory("almaty.zhetysu", TK.DISTRICT, "Жетісу ауданы", "Жетысуский район", "Zhetysu district", 185_000),
    DemoTerritory("almaty.medeu", TK.DISTRICT, "Медеу ауданы", "Медеуский район", "Medeu district", 240_000),
    DemoTerritory("almaty.nauryzbay", TK.DISTRICT, "Наурызбай ауданы", "Наурызбайский район",
                  "Nauryzbay district", 245_000),
    DemoTerritory("almaty.turksib", TK.DISTRICT, "Түрксіб ауданы", "Турксибский район", "Turksib district", 305_000),

    DemoTerritory("kyzylorda", TK.REGION, "Қызылорда облысы", "Кызылординская область", "Kyzylorda region", 840_000),
    DemoTerritory("kyzylorda.aral", TK.DISTRICT, "Арал ауданы", "Аральский район", "Aral district", 80_000),
    _okrug("amanotkel", "Аманөткел", "Аманоткельский", "Amanotkel"),
    _okrug("akbasty", "Ақбасты", "Акбастинский", "Akbasty"),
    _okrug("akespe", "Ақеспе", "Акеспинский", "Akespe"),
    _okrug("bekbauyl", "Бекбауыл", "Бекбауыльский", "Bekbauyl"),
    _okrug("zhanakurylys", "Жаңақұрылыс", "Жанакурылысский", "Zhanakurylys"),
    _okrug("kamystybas", "Қамыстыбас", "Камыстыбасский", "Kamystybas"),
    _okrug("karakum", "Қаракұм", "Каракумский", "Karakum"),
    _okrug("karateren", "Қаратерең", "Каратеренский", "Karateren"),
    _okrug("kulandy", "Құланды", "Куландинский", "Kulandy"),
    _okrug("raiym", "Райым", "Раимский", "Raiym"),
    _okrug("sapak", "Сапақ", "Сапакский", "Sapak"),

    DemoTerritory("mangystau", TK.REGION, "Маңғыстау облысы", "Мангистауская область", "Mangystau region", 790_000),
)

ALMATY_DISTRICTS = ("alatau", "almaly", "auezov", "bostandyk", "zhetysu", "medeu", "nauryzbay", "turksib")
ARAL_OKRUGS = tuple(t.code.rsplit(".", 1)[1] for t in DEMO_TERRITORIES if t.code.startswith("kyzylorda.aral."))


# --- organisations --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    territory: str  # territory code
    kind: str
    name_kk: str
    name_ru: str
    name_en: str
    description: str
    parent: str | None = None  # organisation slug
    is_public: bool = True


def _district_akimat(slug: str) -> DemoOrganisation:
    district = next(t for t in DEMO_TERRITORIES if t.code == f"almaty.{slug}")
    return DemoOrganisation(
        f"almaty-{slug}-akimat", district.code, OK.AKIMAT,
        f"Алматы қаласы {district.name_kk} әкімінің аппараты",
        f"Аппарат акима {district.name_ru.replace('ский район', 'ского района')} города Алматы",
        f"Akimat of {district.name_en}, Almaty",
        f"Runs the {district.name_en} of Almaty: receives residents, answers appeals addressed to the district, "
        f"and hosts the weekly receptions of the city departments' specialists.",
        parent="almaty-akimat")


def _okrug_akimat(slug: str) -> DemoOrganisation:
    okrug = next(t for t in DEMO_TERRITORIES if t.code == f"kyzylorda.aral.{slug}")
    base_kk = okrug.name_kk.removesuffix(" ауылдық округі")
    base_ru = okrug.name_ru.removesuffix(" сельский округ")
    base_en = okrug.name_en.removesuffix(" rural okrug")
    return DemoOrganisation(
        f"aral-{slug}-akimat", okrug.code, OK.AKIMAT,
        f"{base_kk} ауылдық округі әкімінің аппараты",
        f"Аппарат акима {base_ru[:-2]}ого сельского округа",
        f"Office of the akim of {base_en} rural okrug",
        f"The elected akim of {base_en} rural okrug (Aral district) and the akim's office: local roads, "
        f"water supply, schools and the settlements' budget.",
        parent="aral-akimat")


def _department(slug: str, kk: str, ru: str, en: str, description: str) -> DemoOrganisation:
    return DemoOrganisation(f"almaty-{slug}", "almaty", OK.DEPARTMENT,
                            f"Алматы қаласы {kk}", f"{ru} города Алматы", f"Almaty City {en}", description,
                            parent="almaty-akimat")


DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "almaty-akimat", "almaty", OK.AKIMAT,
        "Алматы қаласының әкімдігі", "Акимат города Алматы", "Akimat of Almaty",
        "The city's executive body, headed by the akim of Almaty. It coordinates the city departments and the "
        "eight district akimats and answers for the city budget."),
    DemoOrganisation(
        "almaty-maslikhat", "almaty", OK.MASLIKHAT,
        "Алматы қалалық мәслихаты", "Маслихат города Алматы", "Almaty City Maslikhat",
        "The elected representative body of Almaty: approves the city budget and its execution report, "
        "development programmes and local rules."),
    DemoOrganisation(
        "almaty-public-council", "almaty", OK.PUBLIC_COUNCIL,
        "Алматы қаласының Қоғамдық кеңесі", "Общественный совет города Алматы", "Public Council of Almaty",
        "Citizens and NGO representatives who review draft acts, budget programmes and the akimat's reports "
        "at open sittings (Law 383-V on public councils) and send recommendations the akimat must answer."),
    *(_district_akimat(slug) for slug in ALMATY_DISTRICTS),
    _department("housing", "Тұрғын үй саясаты басқармасы", "Управление жилищной политики",
                "Housing Policy Department",
                "Social housing queues, rental housing for waiting-list families, condominium management and "
                "the renovation of old apartment blocks."),
    _department("mobility", "Қалалық мобильділік басқармасы", "Управление городской мобильности",
                "Urban Mobility Department",
                "Public transport routes, bus lanes, cycling and pedestrian infrastructure, parking and traffic "
                "management."),
    _department("energy", "Энергия тиімділігі және инфрақұрылымдық даму басқармасы",
                "Управление энергоэффективности и инфраструктурного развития",
                "Energy Efficiency and Infrastructure Development Department",
                "Heating, power, gas and water networks, street lighting and the energy-saving modernisation of "
                "public buildings."),
    _department("land", "Жер қатынастары басқармасы", "Управление земельных отношений",
                "Land Relations Department",
                "Allocation and registration of land plots, land-use control and the return of unused plots to "
                "the city."),
    _department("education", "Білім басқармасы", "Управление образования", "Education Department",
                "Kindergartens, schools and colleges of the city: places, enrolment, new school buildings and "
                "after-school activities."),
    _department("health", "Қоғамдық денсаулық сақтау басқармасы", "Управление общественного здравоохранения",
                "Public Health Department",
                "City polyclinics and hospitals, primary care, emergency services and public health campaigns."),
    _department("employment", "Жұмыспен қамту және әлеуметтік бағдарламалар басқармасы",
                "Управление занятости и социальных программ", "Employment and Social Programmes Department",
                "Job centres, retraining, targeted social assistance, support for people with disabilities and "
                "large families."),
    DemoOrganisation(
        "almaty-advice-bureau", "almaty.bostandyk", OK.ADVICE_BUREAU,
        "Алматы азаматтарға кеңес беру бюросы", "Бюро консультаций для граждан Алматы",
        "Almaty Citizens' Advice Bureau",
        "Free, confidential and independent advice on debts, benefits, housing, employment and consumer "
        "problems, mostly by trained volunteers; publishes an annual alternative report from anonymised cases."),
    DemoOrganisation(
        "qala-birge", "almaty", OK.NGO,
        "«Қала бірге» қоғамдық қоры", "Общественный фонд «Город вместе»", "City Together Public Foundation",
        "A civic NGO (fictional) that runs neighbourhood committees, urban walks and youth mini-grant "
        "competitions, and brings residents to public hearings."),
    DemoOrganisation(
        "almaty-tech-service", "almaty", OK.COMPANY,
        "«Алматы Тех Сервис» ЖШС", "ТОО «Алматы Тех Сервис»", "Almaty Tech Service LLP",
        "A software company (fictional) that sponsors city hackathons and lends mentors and open data engineers."),

    DemoOrganisation(
        "kyzylorda-akimat", "kyzylorda", OK.AKIMAT,
        "Қызылорда облысының әкімдігі", "Акимат Кызылординской области", "Akimat of Kyzylorda Region",
        "The regional executive body of Kyzylorda region on the lower Syr Darya; coordinates the district "
        "akimats."),
    DemoOrganisation(
        "aral-akimat", "kyzylorda.aral", OK.AKIMAT,
        "Арал ауданының әкімдігі", "Акимат Аральского района", "Akimat of Aral District",
        "The district akimat in the town of Aral by the Small Aral Sea: fisheries, water supply, rural roads "
        "and the district's rural okrugs.",
        parent="kyzylorda-akimat"),
    *(_okrug_akimat(slug) for slug in ARAL_OKRUGS),

    DemoOrganisation(
        "mangystau-akimat", "mangystau", OK.AKIMAT,
        "Маңғыстау облысының әкімдігі", "Акимат Мангистауской области", "Akimat of Mangystau Region",
        "The regional executive body of Mangystau region on the Caspian coast (centre: Aktau)."),
    DemoOrganisation(
        "mangystau-youth", "mangystau", OK.DEPARTMENT,
        "Маңғыстау облысының Жастар саясаты басқармасы", "Управление молодежной политики Мангистауской области",
        "Mangystau Region Youth Policy Department",
        "Youth centres, volunteering, youth employment and the regional youth mini-grant competition.",
        parent="mangystau-akimat"),
)


# --- people ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str  # a Role constant, or "" for a plain citizen
    organisation: str | None  # organisation slug of the main membership
    description: str  # what the person does, for the README
    language: str = "kk"
    residence: str | None = None  # territory code
    verification: Level = Level.EMAIL_CONFIRMED
    verified_by: str = ""  # "oidc" or "official" for verified residents
    is_admin: bool = False
    also: tuple[tuple[str, str], ...] = field(default=())  # further (role, organisation slug) memberships

    @property
    def memberships(self) -> tuple[tuple[str, str], ...]:
        main = ((self.role, self.organisation),) if self.role and self.organisation else ()
        return main + self.also


def _p(local: str, name: str, role: str, organisation: str | None, description: str, **values) -> DemoPerson:
    return DemoPerson(f"{local}@{DEMO_EMAIL_DOMAIN}", name, role, organisation, description, **values)


R = Role
V = Level

DEMO_PEOPLE: list[DemoPerson] = [
    _p("admin", "Ерлан Сейітқали", R.ADMINISTRATOR, "almaty-akimat",
       "Platform administrator (all settings, all organisations)", language="ru", residence="almaty.almaly",
       is_admin=True),

    # officials: the city akimat, its departments, district akimats, Aral and Mangystau
    _p("nurlan.official", "Нұрлан Әбдірахманов", R.OFFICIAL, "almaty-akimat",
       "Head of the akimat's public reception; escalations go to him", residence="almaty.medeu"),
    _p("aigerim.official", "Айгерім Сәрсенбаева", R.OFFICIAL, "almaty-housing",
       "Housing policy specialist; answers appeals on social housing", residence="almaty.bostandyk"),
    _p("daniyar.official", "Данияр Жақсыбеков", R.OFFICIAL, "almaty-mobility",
       "Public transport routes and bus lanes", language="ru", residence="almaty.auezov"),
    _p("svetlana.official", "Светлана Ким", R.OFFICIAL, "almaty-energy",
       "Heating and street lighting; energy-saving programme", language="ru", residence="almaty.almaly"),
    _p("gulnar.official", "Гүлнар Омарова", R.OFFICIAL, "almaty-land",
       "Land plots and land-use control", residence="almaty.nauryzbay"),
    _p("marat.official", "Марат Исаев", R.OFFICIAL, "almaty-education",
       "Kindergarten and school places", language="ru", residence="almaty.turksib"),
    _p("dinara.official", "Динара Тұрсынова", R.OFFICIAL, "almaty-health",
       "Primary care and polyclinics", language="en", residence="almaty.bostandyk"),
    _p("yerbol.official", "Ербол Қасымов", R.OFFICIAL, "almaty-employment",
       "Job centres and targeted social assistance", residence="almaty.alatau"),
    _p("assel.official", "Әсел Нұрланқызы", R.OFFICIAL, "almaty-bostandyk-akimat",
       "Bostandyk district akimat, residents' reception", residence="almaty.bostandyk"),
    _p("timur.official", "Тимур Ахметов", R.OFFICIAL, "almaty-auezov-akimat",
       "Auezov district akimat, housing and utilities", language="ru", residence="almaty.auezov"),
    _p("zhanar.official", "Жанар Жұмабаева", R.OFFICIAL, "aral-akimat",
       "Aral district akimat, internal policy", residence="kyzylorda.aral"),
    _p("bakhyt.official", "Бақыт Оспанов", R.OFFICIAL, "aral-amanotkel-akimat",
       "Akim of Amanotkel rural okrug", residence="kyzylorda.aral.amanotkel"),
    _p("aruzhan.official", "Аружан Төлеуова", R.OFFICIAL, "mangystau-youth",
       "Youth policy specialist, Mangystau region", residence="mangystau"),

    # moderators
    _p("olga.moderator", "Ольга Петренко", R.MODERATOR, "almaty-akimat",
       "Moderates ideas, petitions and comments for Almaty", language="ru", residence="almaty.medeu"),
    _p("madi.moderator", "Мәди Серікбаев", R.MODERATOR, "kyzylorda-akimat",
       "Moderates Kyzylorda region's participation pages", residence="kyzylorda.aral"),

    # consultants of the advice bureau
    _p("saule.consultant", "Сәуле Бекова", R.CONSULTANT, "almaty-advice-bureau",
       "Volunteer consultant: debts and benefits", residence="almaty.bostandyk"),
    _p("irina.consultant", "Ирина Ли", R.CONSULTANT, "almaty-advice-bureau",
       "Volunteer consultant: housing and consumer rights", language="ru", residence="almaty.zhetysu"),

    # public council
    _p("askar.council", "Асқар Мұқанов", R.COUNCIL_MEMBER, "almaty-public-council",
       "Chair of the Public Council of Almaty", residence="almaty.medeu"),
    _p("elena.council", "Елена Васильева", R.COUNCIL_MEMBER, "almaty-public-council",
       "Council member, social policy commission", language="ru", residence="almaty.almaly"),
    _p("kairat.council", "Қайрат Жолдасбеков", R.COUNCIL_MEMBER, "almaty-public-council",
       "Council member and urban-planning expert", residence="almaty.turksib",
       also=((R.EXPERT, "almaty-mobility"),)),

    # experts
    _p("aliya.expert", "Әлия Нұрпейісова", R.EXPERT, "almaty-energy",
       "Energy-efficiency expert (Delphi panel)", language="en", residence="almaty.bostandyk"),
    _p("sergey.expert", "Сергей Ковалёв", R.EXPERT, "almaty-mobility",
       "Transport modelling expert", language="ru", residence="almaty.auezov"),
    _p("zhansaya.expert", "Жансая Әбенова", R.EXPERT, "almaty-public-council",
       "Outside expert with a 20-hour expert subscription", residence="almaty.alatau"),

    # jury, mentors, organisers
    _p("rustem.jury", "Рүстем Байжанов", R.JURY, "mangystau-youth",
       "Jury of the Mangystau youth mini-grant competition", residence="mangystau"),
    _p("anna.jury", "Анна Цой", R.JURY, "qala-birge",
       "Jury of the city ideas contest and hackathon", language="ru", residence="almaty.medeu"),
    _p("arman.mentor", "Арман Тоқтаров", R.MENTOR, "almaty-tech-service",
       "Hackathon mentor (back end, open data)", language="en", residence="almaty.bostandyk"),
    _p("kamila.mentor", "Камила Юсупова", R.MENTOR, "qala-birge",
       "Mentor of neighbourhood committees and grant applicants", language="ru", residence="almaty.almaly"),
    _p("dauren.organiser", "Дәурен Есенов", R.ORGANISER, "mangystau-youth",
       "Organises the Mangystau youth mini-grant competition", residence="mangystau"),
    _p("madina.organiser", "Мадина Сулейменова", R.ORGANISER, "qala-birge",
       "Organises Almaty's civic hackathon and urban walks", language="ru", residence="almaty.nauryzbay",
       also=((R.ORGANISER, "almaty-akimat"),)),

    # plain citizens at every verification level
    _p("bolat.citizen", "Болат Ермеков", "", None,
       "Citizen, verified resident of Bostandyk (eGov)", residence="almaty.bostandyk",
       verification=V.VERIFIED_RESIDENT, verified_by="oidc"),
    _p("serik.citizen", "Серік Әбілов", "", None,
       "Citizen, verified resident of Kamystybas okrug (confirmed in person)", residence="kyzylorda.aral.kamystybas",
       verification=V.VERIFIED_RESIDENT, verified_by="official"),
    _p("natalia.citizen", "Наталья Смирнова", "", None,
       "Citizen, e-mail confirmed", language="ru", residence="almaty.medeu"),
    _p("dana.citizen", "Дана Исмаилова", "", None,
       "Citizen, e-mail confirmed", language="en", residence="almaty.alatau"),
    _p("ainur.citizen", "Айнұр Қалиева", "", None,
       "Citizen, e-mail not yet confirmed", residence="kyzylorda.aral", verification=V.UNCONFIRMED),
]
