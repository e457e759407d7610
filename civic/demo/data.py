"""The core demo data, read from fixtures/core.yaml: territories, organisations and people.

The records are plain data in the fixture; this module gives them the shapes the loader (and the
README's account table) use, with the references checked: a parent or territory code, an
organisation slug and a residence must name something the fixture defines earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civic.accounts.tables import Role
from civic.accounts.verification import Level
from civic.demo.fixtures import fixture
from civic.territory.tables import OrganisationKind, TerritoryKind

#: Every role a person in the demo may hold: the names civic.accounts.tables.Role spells (the
#: modules that declare them may not be installed when the fixture is read).
_ROLE_NAMES = {value for name, value in vars(Role).items() if name.isupper() and isinstance(value, str)}


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


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"fixtures/core.yaml: {message}")


def _territories(records: list[dict]) -> tuple[DemoTerritory, ...]:
    result: list[DemoTerritory] = []
    for r in records:
        t = DemoTerritory(r["code"], r["kind"], r["name"]["kk"], r["name"]["ru"], r["name"]["en"],
                          r.get("population"))
        _check(t.kind in TerritoryKind.ALL, f"territory {t.code}: unknown kind {t.kind!r}")
        _check(t.parent_code is None or any(p.code == t.parent_code for p in result),
               f"territory {t.code}: its parent {t.parent_code} must come first")
        result.append(t)
    return tuple(result)


def _organisations(records: list[dict], codes: set[str]) -> tuple[DemoOrganisation, ...]:
    result: list[DemoOrganisation] = []
    for r in records:
        o = DemoOrganisation(r["slug"], r["territory"], r["kind"], r["name"]["kk"], r["name"]["ru"], r["name"]["en"],
                             r["description"], r.get("parent"), r.get("is_public", True))
        _check(o.kind in OrganisationKind.ALL, f"organisation {o.slug}: unknown kind {o.kind!r}")
        _check(o.territory in codes, f"organisation {o.slug}: unknown territory {o.territory}")
        _check(o.parent is None or any(p.slug == o.parent for p in result),
               f"organisation {o.slug}: its parent {o.parent} must come first")
        result.append(o)
    return tuple(result)


def _people(records: list[dict], codes: set[str], slugs: set[str]) -> list[DemoPerson]:
    result = []
    for r in records:
        p = DemoPerson(r["email"], r["name"], r.get("role", ""), r.get("organisation"), r["description"],
                       language=r.get("language", "kk"), residence=r.get("residence"),
                       verification=Level[r.get("verification", "email_confirmed").upper()],
                       verified_by=r.get("verified_by", ""), is_admin=r.get("is_admin", False),
                       also=tuple((a["role"], a["organisation"]) for a in r.get("also", ())))
        _check(p.residence is None or p.residence in codes, f"{p.email}: unknown residence {p.residence}")
        for role, slug in p.memberships:
            _check(role in _ROLE_NAMES, f"{p.email}: unknown role {role!r}")
            _check(slug in slugs, f"{p.email}: unknown organisation {slug}")
        result.append(p)
    return result


_CORE = fixture("core")
DEMO_PASSWORD: str = _CORE["password"]
DEMO_EMAIL_DOMAIN: str = _CORE["email_domain"]
DEMO_TERRITORIES = _territories(_CORE["territories"])
DEMO_ORGANISATIONS = _organisations(_CORE["organisations"], {t.code for t in DEMO_TERRITORIES})
DEMO_PEOPLE = _people(_CORE["people"], {t.code for t in DEMO_TERRITORIES}, {o.slug for o in DEMO_ORGANISATIONS})

ALMATY_DISTRICTS = tuple(t.code.split(".")[1] for t in DEMO_TERRITORIES if t.code.count(".") == 1
                         and t.code.startswith("almaty."))
ARAL_OKRUGS = tuple(t.code.rsplit(".", 1)[1] for t in DEMO_TERRITORIES if t.code.startswith("kyzylorda.aral."))
