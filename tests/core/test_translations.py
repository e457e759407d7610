"""Kazakh and Russian catalogues: complete for what the code says today, and pages read in
kk or ru show no English text from the catalogue.

The catalogue checks run on a fresh extraction (into a temporary folder), so a string added to
the code or a template without translations fails here even if nobody ran
``python scripts/translations.py extract``. To fix such a failure: run
``python scripts/translations.py extract && python scripts/translations.py update``, translate the
new entries in locale/kk and locale/ru, and ``python scripts/translations.py check``.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from tests.support.web import make_user, sign_in, unique_email

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("ashyq_translations", ROOT / "scripts" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


translations = _load_script()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The catalogue template as the code and templates are now."""
    path = translations.extract(tmp_path_factory.mktemp("pot") / "messages.pot")
    return translations.read_catalog(path)


# --------------------------------------------------------------------------- catalogues


def test_extraction_finds_messages_passed_through_variables(template):
    """Refusal messages, notification labels and escalation titles reach gettext through a
    variable; the extraction keywords (or N_) must still find them."""
    ids = {m.id for m in template if m.id}
    for msgid in (
        "This response does not exist.",  # ResponseRuleError
        "The password must be at least %(min)s characters long.",  # AccountError
        "The identity provider did not say who you are.",  # AccountError(N_(...))
        "Answers to your requests, appeals and petitions",  # NOTIFICATION_KINDS
        "Overdue: “%(title)s” was due on %(due)s",  # escalation title
        "%(organisation)s answered “%(title)s”",  # citizen notification
        "Page not found",  # error pages, N_ in ashyq/app.py
    ):
        assert msgid in ids, f"{msgid!r} is not extracted"
    assert ("%(num)s item", "%(num)s items") in ids  # ngettext in a template


@pytest.mark.parametrize("language", translations.LANGUAGES)
def test_catalogue_is_complete_and_well_formed(template, language):
    report = translations.check_language(template, language)
    assert report.total > 0
    assert report.ok, "\n" + translations.format_reports([report], limit=200)


def test_check_runs_against_a_fresh_extraction():
    reports = translations.check()
    assert {r.language for r in reports} == {"kk", "ru"}
    assert all(r.ok for r in reports), "\n" + translations.format_reports(reports)


@pytest.mark.parametrize("language, header", [
    ("kk", "nplurals=2; plural=(n!=1);"),
    ("ru", "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"),
])
def test_plural_forms(language, header):
    catalog = translations.read_catalog(translations.po_path(language), language)
    assert dict(catalog.mime_headers)["Plural-Forms"].replace(" ", "") == header.replace(" ", "")
    assert catalog.num_plurals == int(header[9])


def test_update_creates_catalogues_and_keeps_translations(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    pot = Catalog()
    pot.add("Kept")
    pot.add(("%(num)s day", "%(num)s days"))
    template_path = tmp_path / "messages.pot"
    with template_path.open("wb") as handle:
        write_po(handle, pot)
    locale_dir = tmp_path / "locale"
    translations.update(template_path, locale_dir=locale_dir)  # creates both files
    path = translations.po_path("ru", locale_dir)
    catalog = translations.read_catalog(path, "ru")
    assert catalog.num_plurals == 3 and catalog.get("Kept").string == ""
    catalog.get("Kept").string = "Сохранено"
    with path.open("wb") as handle:
        write_po(handle, catalog)

    pot.add("New")
    with template_path.open("wb") as handle:
        write_po(handle, pot)
    translations.update(template_path, locale_dir=locale_dir)
    catalog = translations.read_catalog(path, "ru")
    assert catalog.get("Kept").string == "Сохранено" and catalog.get("New") is not None
    assert len(catalog.get(("%(num)s day", "%(num)s days")).string) == 3
    kk = translations.read_catalog(translations.po_path("kk", locale_dir), "kk")
    assert dict(kk.mime_headers)["Plural-Forms"] == translations.PLURAL_FORMS["kk"]


def test_runtime_uses_the_plural_rules():
    from civic.i18n.runtime import translator

    ru = translator("ru")
    forms = {n: ru.ngettext("%(num)s working day left", "%(num)s working days left", n) for n in (1, 3, 5, 21, 11)}
    assert forms[1] == forms[21] != forms[3] != forms[5] == forms[11]
    kk = translator("kk")
    assert kk.gettext("Sign in") == "Кіру" and ru.gettext("Sign in") == "Вход"


def test_placeholders_are_parsed():
    assert translations.placeholders("%(a)s and %(b)d, 5%% and %s") == (["a", "b"], 1)
    assert translations.placeholders("%(num)s %(num)s") == (["num"], 0)
    assert translations.placeholders("100%%") == ([], 0)


def test_check_reports_each_kind_of_problem(tmp_path, template):
    """A .po with a wrong placeholder, an empty, a fuzzy and a missing entry, and a wrong
    plural rule: each is reported."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    pot = Catalog()
    pot.add("Hello %(name)s")
    pot.add("Empty")
    pot.add("Fuzzy")
    pot.add("Missing")
    pot.add(("%(num)s day", "%(num)s days"))
    pot.add("50%% done")  # a template string: a literal percent is written %%
    po = Catalog(locale="ru")
    po.mime_headers = [("Plural-Forms", "nplurals=2; plural=(n != 1);")]
    po.add("Hello %(name)s", "Привет, %(nam)s")
    po.add("Empty", "")
    po.add("Fuzzy", "Нечётко", flags=["fuzzy"])
    po.add(("%(num)s day", "%(num)s days"), ("%(num)s день", "дня"))
    po.add("50%% done", "50% готово")
    path = tmp_path / "messages.po"
    with path.open("wb") as handle:
        write_po(handle, po)
    report = translations.check_language(pot, "ru", path)
    assert not report.ok
    assert report.missing == ["Missing"]
    assert report.fuzzy == ["Fuzzy"]
    assert "Empty" in report.untranslated and "%(num)s day" in report.untranslated  # a form is empty
    assert any("Hello %(name)s" in e for e in report.placeholder_errors)
    assert any("50%% done" in e for e in report.placeholder_errors)
    assert any("Plural-Forms" in e for e in report.header_errors)


# --------------------------------------------------------------------------- rendered pages

_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>|<div class=\"honeypot\".*?</div>", re.S | re.I)
_ATTRIBUTES = re.compile(r"\b(?:placeholder|aria-label|title|alt)=\"([^\"]*)\"", re.I)
_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0+-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def visible_text(page: str) -> str:
    """What a reader sees or hears: text between tags and the attributes read out."""
    page = _HIDDEN.sub(" ", page)
    attributes = " ".join(_ATTRIBUTES.findall(page))
    text = _TAG.sub(" ", page) + " " + attributes
    return re.sub(r"\s+", " ", html.unescape(text))


def _pattern(msgid: str) -> re.Pattern:
    parts = [re.escape(re.sub(r"\s+", " ", chunk.replace("%%", "%"))).replace(r"\ ", r"\s+")
             for chunk in _PLACEHOLDER.split(msgid)]
    return re.compile(r"(?<!\w)" + ".+?".join(parts) + r"(?!\w)")


def english_from_catalogue(template, language: str):
    """(msgid, pattern) for each English text whose translation differs from it."""
    from civic.i18n.runtime import translator

    t = translator(language)
    out = []
    for message in template:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for msgid in ids:
            translated = t.ngettext(ids[0], ids[1], 5) if len(ids) == 2 else t.gettext(msgid)
            if translated != msgid and re.search(r"[A-Za-z]{2}", msgid):
                out.append((msgid, _pattern(msgid)))
    return out


def untranslated_in(page: str, patterns, data: frozenset[str] = frozenset()) -> list[str]:
    """Catalogue msgids shown in English on the page; a msgid that is also the name of a
    record (an organisation other tests called "Department") is data, not interface."""
    text = visible_text(page)
    return [msgid for msgid, pattern in patterns if msgid not in data and pattern.search(text)]


async def record_names() -> frozenset[str]:
    """Names of organisations, territories and people in the test database: data that may
    be English whatever the reader's language."""
    from civic.accounts.tables import User
    from civic.territory.tables import Organisation, Territory

    names = set()
    for table in (Organisation, Territory):
        for row in await table.select(table.name_kk, table.name_ru, table.name_en):
            names.update(v for v in row.values() if v)
    names.update(row["display_name"] for row in await User.select(User.display_name) if row["display_name"])
    return frozenset(names)


PUBLIC_PAGES = ["/", "/auth/login", "/auth/register", "/auth/reset", "/organisations", "/search",
                "/search?q=nothing-like-this", "/no-such-page"]
ACCOUNT_PAGES = ["/account", "/notifications", "/account/tokens", "/account/delete"]


def _module_pages(settings, attribute: str = "nav") -> list[str]:
    """The pages each enabled module puts in the menu (or, with "staff_links", in the staff tools)."""
    from civic.modules import enabled_modules

    return [entry.path for module in enabled_modules(settings) for entry in getattr(module, attribute)]


async def _organisation_page(client) -> list[str]:
    listing = await client.get("/organisations")
    match = re.search(r'href="(/organisations/[^"/?#]+)"', listing.text)
    return [match.group(1)] if match else []


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_public_pages_show_no_english(client, settings, template, language):
    patterns = english_from_catalogue(template, language)
    client.cookies.set("lang", language)
    found = {}
    for path in PUBLIC_PAGES + _module_pages(settings) + await _organisation_page(client):
        response = await client.get(path)
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
        assert f'lang="{language}"' in response.text, path
        english = untranslated_in(response.text, patterns, await record_names())
        if english:
            found[path] = english
    assert not found, f"English catalogue text on {language} pages: {found}"


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_account_pages_show_no_english(client, template, language):
    email = unique_email(f"i18n-{language}")
    await make_user(email, language=language)
    await sign_in(client, email, "correct horse battery")
    client.cookies.set("lang", language)
    patterns = english_from_catalogue(template, language)
    found = {}
    for path in ACCOUNT_PAGES:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert f'lang="{language}"' in response.text, path
        english = untranslated_in(response.text, patterns, await record_names())
        if english:
            found[path] = english
    assert not found, f"English catalogue text on {language} pages: {found}"


async def _office(language: str) -> dict:
    """An akimat with a department, an official (also its head), a citizen (both reading ``language``) and one
    open response; the citizen has been notified of it."""
    import uuid

    from civic.accounts.tables import Membership, Role
    from civic.responses import services
    from civic.territory.tables import Organisation, Territory

    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"i18n{tag}", path=f"/kz/i18n{tag}/", name_kk="Қала", name_ru="Город",
                     name_en="City")
    await city.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"i18n-akimat-{tag}", name_kk="Қала әкімдігі",
                          name_ru="Акимат города", name_en="City akimat")
    await akimat.save()
    department = Organisation(territory=city.id, parent=akimat.id, kind="department", slug=f"i18n-dept-{tag}",
                              name_kk="Білім басқармасы", name_ru="Управление образования",
                              name_en="Education department")
    await department.save()
    official = await make_user(unique_email("i18n-official"), name="Асқар Нұрланұлы", language=language)
    citizen = await make_user(unique_email("i18n-citizen"), name="Дана Серікқызы", language=language)
    await Membership.insert(Membership(user=official["id"], organisation=akimat.id, role=Role.OFFICIAL),
                            Membership(user=official["id"], organisation=akimat.id, role=Role.ADMINISTRATOR))
    response = await services.open_response(
        subject=f"test:{tag}", subject_kind="test.item", subject_title="Лифт", subject_url=f"/test/{tag}",
        organisation_id=akimat.id, citizen_id=citizen["id"])
    return {"akimat": akimat, "official": official, "citizen": citizen, "response": response}


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_staff_and_response_pages_show_no_english(client, settings, template, language):
    office = await _office(language)
    patterns = english_from_catalogue(template, language)
    found = {}

    async def look(paths):
        for path in paths:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert f'lang="{language}"' in response.text, path
            english = untranslated_in(response.text, patterns, await record_names())
            if english:
                found[path] = english

    await sign_in(client, office["official"]["email"], "correct horse battery")
    await look(["/staff/inbox", f"/responses/{office['response'].id}", "/staff/residents", "/staff/audit",
                f"/organisations/{office['akimat'].slug}", "/account"] + _module_pages(settings, "staff_links"))
    await client.post("/auth/logout", data={"_csrf_token": client.cookies.get("ashyq_csrf", "")})
    client.cookies.clear()
    await sign_in(client, office["citizen"]["email"], "correct horse battery")
    await look(["/notifications", f"/responses/{office['response'].id}"])
    assert not found, f"English catalogue text on {language} pages: {found}"


async def test_the_english_detector_sees_english(client, template):
    """The page check is not vacuous: the same pages in English are full of catalogue text."""
    patterns = english_from_catalogue(template, "ru")
    client.cookies.set("lang", "en")
    for path in ("/auth/login", "/no-such-page"):
        response = await client.get(path)
        assert len(untranslated_in(response.text, patterns)) >= 3, path
