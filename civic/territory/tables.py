"""Territories (republic > region / city > district > rural okrug) and organisations."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Varchar
from piccolo.table import Table


class TerritoryKind:
    REPUBLIC = "republic"
    REGION = "region"
    CITY = "city"  # city of republican significance, at region level
    DISTRICT = "district"
    RURAL_OKRUG = "rural_okrug"
    ALL = (REPUBLIC, REGION, CITY, DISTRICT, RURAL_OKRUG)


class Territory(Table, tablename="civic_territory"):
    parent = ForeignKey("self", null=True)
    kind = Varchar(length=20)
    code = Varchar(length=64, unique=True)  # stable slug, e.g. "almaty.bostandyk"
    path = Varchar(length=255, index=True)  # "/kz/almaty/bostandyk/": prefix match finds all below
    name_kk = Varchar(length=200)
    name_ru = Varchar(length=200)
    name_en = Varchar(length=200)
    population = Integer(null=True, default=None)


class OrganisationKind:
    AKIMAT = "akimat"
    DEPARTMENT = "department"
    MASLIKHAT = "maslikhat"
    PUBLIC_COUNCIL = "public_council"
    ADVICE_BUREAU = "advice_bureau"
    NGO = "ngo"
    COMPANY = "company"
    ALL = (AKIMAT, DEPARTMENT, MASLIKHAT, PUBLIC_COUNCIL, ADVICE_BUREAU, NGO, COMPANY)


class Organisation(Table, tablename="civic_organisation"):
    territory = ForeignKey(Territory)
    parent = ForeignKey("self", null=True)  # a department's akimat
    kind = Varchar(length=20)
    slug = Varchar(length=80, unique=True)
    name_kk = Varchar(length=300)
    name_ru = Varchar(length=300)
    name_en = Varchar(length=300)
    description = Text(default="")
    is_public = Boolean(default=True)
