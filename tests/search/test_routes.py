"""The search page, its htmx fragments, the JSON API, "similar items" and the administrators'
status page, through HTTP.

The app is built with a small test-only module ("gazette") whose public records are documents
written straight into the app's own backend: the embedded index in the test data folder (a temp
folder), and, for the key tests, a real Meilisearch process (tests/support/meili.py). Every test
uses words of its own, so documents of other tests in the shared index do not disturb it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from ashyq.app import create_app
from civic.modules import CivicModule, NavEntry
from search.backend import SearchUnavailable
from search.documents import Document
from tests.support.web import make_user, post_form, sign_in, unique_email

# --------------------------------------------------------------------------- the test module

STORE: dict[str, Document] = {}  # the gazette's public records, as documents


async def gazette_documents():
    for document in list(STORE.values()):
        yield document


GAZETTE = CivicModule(
    slug="gazette", title="Ideas",  # a msgid with translations: the facet label is translated
    nav=(NavEntry("Ideas", "/gazette"),), levels=("consult",), search_documents=gazette_documents,
)
BULLETIN = CivicModule(slug="bulletin", title="Challenges", search_documents=None)


def word() -> str:
    """A made-up word no other test uses (letters only: the engines see a word)."""
    letters = "bdfgklmnprstvz"
    return "qor" + "".join(letters[int(c, 16) % len(letters)] for c in uuid.uuid4().hex[:7])


def doc(key: str, title: str, body: str = "", module: str = "gazette", **fields) -> Document:
    values = dict(
        id=f"{module}:{key}", module=module, kind="notice", title=title, body=body,
        territory="/kz/almaty/bostandyk/", organisation="almaty-akimat", status="published",
        level="consult", lang="ru", created_at=datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc),
        url=f"/{module}/{key}", summary="",
    )
    values.update(fields)
    return Document(**values)


async def put(app, *documents: Document) -> None:
    for d in documents:
        STORE[d.id] = d
    await asyncio.to_thread(app.state.search.index, list(documents))


class EngineDown:
    """Stands for a search engine that is down (Meilisearch stopped, the index locked): a fake is
    the point here, since a real outage cannot be switched on and off inside one test."""

    name = "down"

    def __getattr__(self, name):
        def refuse(*args, **kwargs):
            raise SearchUnavailable("the search engine is down (test)")

        return refuse

    def health(self) -> bool:
        return False


# --------------------------------------------------------------------------- fixtures


def _client(app, language: str = "en") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}", 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False,
                             headers={"accept-language": language})


@pytest.fixture(scope="module", autouse=True)
async def territories(settings, database):
    """The demo territories, so facets and results show territory names."""
    from civic.demo import load_core_demo

    await load_core_demo(settings)


@pytest.fixture(scope="module")
def search_app(settings, database):
    return create_app(dataclasses.replace(settings, modules=("gazette", "bulletin")), extra_modules=(GAZETTE, BULLETIN))


@pytest.fixture
async def web(search_app):
    async with _client(search_app) as client:
        yield client


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
async def any_app(request, settings, database):
    """The app on each backend: the embedded index, and a real Meilisearch (one index for the
    module, dropped at the end)."""
    if request.param == "embedded":
        yield create_app(dataclasses.replace(settings, modules=("gazette",)), extra_modules=(GAZETTE,))
        return
    url, key = request.getfixturevalue("meili_server")
    app = create_app(dataclasses.replace(settings, modules=("gazette",), meilisearch_url=url, meilisearch_key=key,
                                         meilisearch_index=f"routes_{uuid.uuid4().hex[:10]}"),
                     extra_modules=(GAZETTE,))
    await asyncio.to_thread(app.state.search.configure)  # what start-up does (no lifespan in these tests)
    yield app
    await asyncio.to_thread(app.state.search.drop)


def params_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def links(html: str, css_class: str) -> dict[str, str]:
    """{visible label: href} of the links with a class (facets)."""
    out = {}
    for match in re.finditer(rf'<a href="([^"]+)" class="{css_class}[^"]*"[^>]*>(.*?)</a>', html, re.S):
        label = re.sub(r"<[^>]+>", " ", match.group(2))
        out[" ".join(label.split())] = match.group(1).replace("&amp;", "&")
    return out


# --------------------------------------------------------------------------- the page


async def test_page_finds_highlights_and_counts(any_app):
    w = word()
    await put(any_app,
              doc(f"{w}-1", f"Ремонт {w} во дворе", "Жители просят отремонтировать двор.", status="published"),
              doc(f"{w}-2", f"Новый {w} у школы", f"Нужен {w} рядом со школой.", status="under_review",
                  territory="/kz/almaty/medeu/", created_at=datetime(2023, 5, 2, tzinfo=timezone.utc)),
              doc(f"{w}-3", "Другое", "Совсем о другом."))
    async with _client(any_app) as client:
        response = await client.get("/search", params={"q": w})
    assert response.status_code == 200
    html = response.text
    assert "2 results for" in html
    assert f"<mark>{w.capitalize()}</mark>" in html or f"<mark>{w}</mark>" in html
    assert f'href="/gazette/{w}-1"' in html and f'href="/gazette/{w}-2"' in html and f"/gazette/{w}-3" not in html
    facets = links(html, "facet-link")
    assert any(label.startswith("Ideas") and label.endswith("2") for label in facets), facets  # module title
    assert "Published 1" in facets and "Under review 1" in facets  # statuses, as labels
    assert "Consultation 2" in facets  # participation level
    assert "2024 1" in facets and "2023 1" in facets
    assert "Bostandyk district 1" in facets and "Medeu district 1" in facets  # the districts of the city
    # every facet link keeps the words and adds its own filter
    for href in facets.values():
        assert ("q", w) in params_of(href)
    assert ("status", "under_review") in params_of(facets["Under review 1"])
    assert 'aria-live="polite"' in html and 'hx-get="/search"' in html and 'hx-push-url="true"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html


async def test_filters_narrow_and_chosen_values_can_be_removed(web, search_app):
    w = word()
    await put(search_app,
              doc(f"{w}-a", f"{w} alpha", status="published", level="consult", territory="/kz/almaty/bostandyk/"),
              doc(f"{w}-b", f"{w} beta", status="published", level="dialogue", territory="/kz/almaty/medeu/",
                  created_at=datetime(2023, 1, 10, tzinfo=timezone.utc)),
              doc(f"{w}-c", f"{w} gamma", status="under_review", level="dialogue", territory="/kz/astana/"))
    response = await web.get("/search", params={"q": w, "level": "dialogue"})
    assert "2 results for" in response.text
    facets = links(response.text, "facet-link")
    # the chosen level is marked and links to the search without it; the other level still counts
    chosen = next(label for label in facets if label.startswith("✓ Dialogue"))
    assert "chosen" in chosen
    assert ("level", "dialogue") not in params_of(facets[chosen])
    assert "Consultation 1" in facets and ("level", "consult") in params_of(facets["Consultation 1"])
    # two filters together
    response = await web.get("/search", params=[("q", w), ("level", "dialogue"), ("status", "under_review")])
    assert "1 result for" in response.text and f"/gazette/{w}-c" in response.text
    # territory: a city includes its districts; the way up widens again
    response = await web.get("/search", params={"q": w, "territory": "/kz/almaty/"})
    assert "2 results for" in response.text and f"/gazette/{w}-c" not in response.text
    facets = links(response.text, "facet-link")
    assert ("territory", "/kz/almaty/medeu/") in params_of(facets["Medeu district 1"])
    assert ("territory", "/kz/") in params_of(facets["Republic of Kazakhstan"])  # wider
    chosen = next(label for label in facets if label.startswith("✓ Almaty 2"))
    assert ("territory", "/kz/almaty/") not in params_of(facets[chosen])
    response = await web.get("/search", params={"q": w, "year": "2023"})
    assert "1 result for" in response.text and f"/gazette/{w}-b" in response.text
    assert "Remove all filters" in response.text


async def test_territory_names_are_shown_in_the_readers_language(search_app, web):
    w = word()
    await put(search_app, doc(f"{w}-1", f"{w} saiabak", territory="/kz/almaty/bostandyk/"))
    response = await web.get("/search", params={"q": w})
    assert "Bostandyk district" in response.text
    async with _client(search_app, "ru") as client:
        response = await client.get("/search", params={"q": w})
    assert "Бостандыкский район" in response.text
    assert "Идеи" in response.text  # the module's title msgid, translated


async def test_pagination_and_order(web, search_app):
    w = word()
    await put(search_app, *[doc(f"{w}-{i}", f"{w} номер {i}", created_at=datetime(2020 + i, 2, 1, tzinfo=timezone.utc))
                            for i in range(5)])
    response = await web.get("/search", params={"q": w, "per_page": "2", "sort": "newest"})
    html = response.text
    assert "5 results for" in html
    assert html.index(f"/gazette/{w}-4") < html.index(f"/gazette/{w}-3") and f"/gazette/{w}-2" not in html
    assert 'aria-current="page"' in html and 'rel="next"' in html and 'rel="prev"' not in html
    response = await web.get("/search", params={"q": w, "per_page": "2", "sort": "newest", "page": "3"})
    assert f"/gazette/{w}-0" in response.text and 'rel="prev"' in response.text and 'rel="next"' not in response.text
    assert '<ol class="search-hits" start="5">' in response.text
    response = await web.get("/search", params={"q": w, "sort": "oldest"})
    assert response.text.index(f"/gazette/{w}-0") < response.text.index(f"/gazette/{w}-4")
    # past the last page: an empty page with a way back, not an error
    response = await web.get("/search", params={"q": w, "per_page": "2", "page": "9"})
    assert response.status_code == 200 and "Back to the first page" in response.text


@pytest.mark.parametrize("query, expected", [
    ({"page": "-1"}, 200), ({"page": "0"}, 200), ({"per_page": "9999"}, 200), ({"per_page": "-5"}, 200),
    ({"page": "99999999"}, 200),
    ({"sort": "random"}, 400), ({"year": "abc"}, 400), ({"year": "20240"}, 400), ({"page": "two"}, 400),
    ({"per_page": "1e9"}, 400), ({"level": "shout"}, 400), ({"module": "nonexistent"}, 400),
    ({"territory": "../../etc"}, 400), ({"status": "<script>"}, 400),
])
async def test_bad_parameters_are_clamped_or_refused_clearly(web, query, expected):
    response = await web.get("/search", params={"q": "саябақ", **query})
    assert response.status_code == expected, response.text[:300]
    if expected == 400:
        assert "Something in the search is wrong" in response.text and 'role="alert"' in response.text
        assert "<script>" not in response.text.split("<main", 1)[1]
    api = await web.get("/api/v1/search", params={"q": "саябақ", **query})
    assert api.status_code == expected
    if expected == 400:
        assert api.json()["field"] == next(iter(query)) and api.json()["detail"]
    else:
        assert 1 <= api.json()["per_page"] <= 50 and api.json()["page"] >= 1


async def test_clamped_values_are_what_is_shown(web):
    data = (await web.get("/api/v1/search", params={"q": "x", "page": "-1", "per_page": "9999"})).json()
    assert data["page"] == 1 and data["per_page"] == 50


async def test_htmx_gets_the_results_fragment_only(web, search_app):
    w = word()
    await put(search_app, doc(f"{w}-1", f"{w} фрагмент"))
    response = await web.get("/search", params={"q": w}, headers={"hx-request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<form" not in response.text
    assert "1 result for" in response.text and f"/gazette/{w}-1" in response.text
    assert "HX-Request" in response.headers["vary"]
    # a history restore (back button, cache missed) asks for the whole page
    response = await web.get("/search", params={"q": w},
                             headers={"hx-request": "true", "hx-history-restore-request": "true"})
    assert "<html" in response.text


async def test_empty_result_suggests_spelling_and_wider_filters(any_app):
    w = word()
    await put(any_app, doc(f"{w}-1", "Благоустройство парка", "Скамейки и освещение в парке."),
              doc(f"{w}-2", "Благоустройство двора", "Детская площадка."))
    async with _client(any_app) as client:
        response = await client.get("/search", params={"q": "блогаустройтсво", "status": "published"})
        assert response.status_code == 200
        assert "Nothing found for" in response.text
        assert "Did you mean" in response.text and "благоустройство" in response.text.lower()
        suggestion = re.search(r'<a href="([^"]+)" class="suggestion">', response.text).group(1).replace("&amp;", "&")
        assert ("status", "published") in params_of(suggestion)  # the filters are kept
        assert "Search again without the filters" in response.text
        response = await client.get("/search", params={"q": w + "zzzz"})
        assert "Nothing found for" in response.text and "Search again without the filters" not in response.text


async def test_engine_down_is_a_friendly_503(search_app, web):
    real = search_app.state.search
    search_app.state.search = EngineDown()
    try:
        response = await web.get("/search", params={"q": "саябақ"})
        assert response.status_code == 503
        assert "Search is unavailable" in response.text and 'role="alert"' in response.text
        assert response.headers["retry-after"]
        fragment = await web.get("/search", params={"q": "саябақ"}, headers={"hx-request": "true"})
        assert fragment.status_code == 200 and "Search is unavailable" in fragment.text  # htmx swaps only 2xx
        api = await web.get("/api/v1/search", params={"q": "саябақ"})
        assert api.status_code == 503 and api.json()["status_code"] == 503
        similar = await web.get("/search/similar", params={"text": "ремонт дороги во дворе"})
        assert similar.status_code == 200 and similar.text.strip() == ""  # the form works without it
        assert (await web.get("/api/v1/search/similar", params={"text": "ремонт дороги"})).status_code == 503
        home = await web.get("/")
        assert home.status_code == 200
    finally:
        search_app.state.search = real


async def test_api_answers_results_as_json(any_app):
    w = word()
    await put(any_app, doc(f"{w}-1", f"Сквер {w}", "Деревья и скамейки.", lang="ru"))
    async with _client(any_app) as client:
        data = (await client.get("/api/v1/search", params={"q": w})).json()
    assert data["total"] == 1 and data["page"] == 1 and data["pages"] == 1
    hit = data["hits"][0]
    assert hit["id"] == f"gazette:{w}-1" and hit["url"] == f"/gazette/{w}-1" and "<mark>" in hit["title_html"]
    assert set(data["facets"]) >= {"module", "territory", "status", "level", "year"}
    assert data["facets"]["module"] == {"gazette": 1}


async def test_search_keeps_to_enabled_modules(web, search_app):
    """Documents of a module that is switched off are not shown (reindex removes them)."""
    w = word()
    await put(search_app, doc(f"{w}-1", f"{w} видно"), doc(f"{w}-2", f"{w} скрыто", module="oldmodule"))
    data = (await web.get("/api/v1/search", params={"q": w})).json()
    assert [h["id"] for h in data["hits"]] == [f"gazette:{w}-1"]
    similar = (await web.get("/api/v1/search/similar", params={"text": f"{w} видно скрыто"})).json()
    assert all(h["module"] != "oldmodule" for h in similar["hits"])


async def test_openapi_lists_the_search_api(web):
    spec = (await web.get("/schema/openapi.json")).json()
    for path in ("/api/v1/search", "/api/v1/search/similar"):
        assert spec["paths"][path]["get"]["tags"] == ["search"]
    names = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "module", "territory", "status", "level", "year", "sort", "page", "per_page"} <= names
    assert "/search" not in spec["paths"] and "/staff/search" not in spec["paths"]


# --------------------------------------------------------------------------- similar items


async def test_similar_items_json_and_fragment(any_app):
    w = word()
    await put(any_app,
              doc(f"{w}-1", f"Освещение {w} в парке", "Поставить фонари вдоль аллеи."),
              doc(f"{w}-2", "Ремонт крыши школы", "Протекает крыша."),
              doc(f"{w}-3", f"Освещение {w} у реки", "", module="bulletin"))
    async with _client(any_app) as client:
        data = (await client.get("/api/v1/search/similar",
                                 params={"text": f"освещение {w} парк", "module": "gazette", "limit": "3"})).json()
        assert [h["id"] for h in data["hits"]][:1] == [f"gazette:{w}-1"]
        assert all(h["module"] == "gazette" for h in data["hits"])
        fragment = await client.get("/search/similar", params={"text": f"освещение {w} парк", "module": "gazette"})
        assert fragment.status_code == 200 and "Similar items already exist" in fragment.text
        assert f'href="/gazette/{w}-1"' in fragment.text and "<mark>" in fragment.text and "<html" not in fragment.text
        # the ideas form asks the API path with htmx: it gets the same HTML
        via_api = await client.get("/api/v1/search/similar", params={"text": f"освещение {w} парк", "module": "gazette"},
                                   headers={"hx-request": "true"})
        assert via_api.headers["content-type"].startswith("text/html") and "Similar items already exist" in via_api.text
        # nothing similar, or nothing typed: no markup at all (the form's box stays empty)
        for text in ("", "а", "совершенно другое предложение про космос"):
            response = await client.get("/search/similar", params={"text": text, "module": "gazette"})
            assert response.status_code == 200 and response.text.strip() == ""
        assert (await client.get("/api/v1/search/similar", params={"text": "x", "module": "nope"})).status_code == 400
        assert (await client.get("/api/v1/search/similar", params={"text": "x", "limit": "many"})).status_code == 400
        many = (await client.get("/api/v1/search/similar", params={"text": f"{w}", "limit": "500"})).json()
        assert len(many["hits"]) <= 20


# --------------------------------------------------------------------------- status page


async def test_status_page_is_for_administrators_only(search_app, web):
    response = await web.get("/staff/search")
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/login")
    citizen = unique_email("citizen")
    await make_user(citizen)
    await sign_in(web, citizen, "correct horse battery")
    assert (await web.get("/staff/search")).status_code == 403
    assert (await post_form(web, "/staff/search/apply")).status_code == 403


async def test_status_page_compares_database_and_index_and_applies_the_outbox(search_app):
    from search.outbox import record_changed
    from search.tables import SearchOutboxEntry

    admin = unique_email("admin")
    await make_user(admin, is_admin=True)
    w = word()
    await put(search_app, doc(f"{w}-1", f"{w} в индексе"))
    STORE[f"gazette:{w}-2"] = doc(f"{w}-2", f"{w} ещё не в индексе")  # public, not indexed yet
    real = search_app.state.search
    async with _client(search_app) as web:
        await sign_in(web, admin, "correct horse battery")
        await SearchOutboxEntry.delete(force=True)
        await record_changed(f"gazette:{w}-2", STORE[f"gazette:{w}-2"])
        search_app.state.search = EngineDown()
        try:
            await post_form(web, "/staff/search/apply")  # engine down: the entry stays, with its error
        finally:
            search_app.state.search = real
        page = await web.get("/staff/search")
        assert page.status_code == 200
        html = page.text
        assert "Changes waiting in the outbox" in html and f"gazette:{w}-2" in html
        assert "the search engine is down (test)" in html and re.search(r"<td>[12]</td>", html)  # attempts
        assert "Public documents missing from the index: " in html
        assert "embedded: answering" in html or "meilisearch: answering" in html
        # no token, no change
        no_csrf = await web.post("/staff/search/apply")
        assert no_csrf.status_code == 403 and await SearchOutboxEntry.count() == 1
        applied = await post_form(web, "/staff/search/apply")
        assert applied.status_code == 303 and applied.headers["location"] == "/staff/search"
        assert await SearchOutboxEntry.count() == 0
        html = (await web.get("/staff/search")).text
        assert "nothing is waiting" in html
        found = (await web.get("/api/v1/search", params={"q": w})).json()
        assert found["total"] == 2


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize("language", ["kk", "ru", "en", "latn"])
async def test_page_in_every_language_and_script(search_app, language):
    from civic.i18n.runtime import translator

    w = word()
    await put(search_app, doc(f"{w}-1", f"Саябақ {w} жөндеу", "Қала саябағын абаттандыру.", lang="kk"))
    async with _client(search_app, "kk" if language == "latn" else language) as client:
        if language == "latn":
            client.cookies.set("lang", "kk")
            client.cookies.set("script", "latn")
        response = await client.get("/search", params={"q": w})
        empty = await client.get("/search", params={"q": w + "zz"})
    assert response.status_code == 200 and empty.status_code == 200
    assert f"/gazette/{w}-1" in response.text and "Nothing found for" not in response.text
    if language == "latn":
        for page in (response, empty):
            assert not re.search(r"[\u0400-\u04ff]", page.text.split("<body", 1)[1])
        assert 'lang="kk-Latn"' in response.text
    else:
        expected = translator(language).gettext("Search")
        assert f"<h1>{expected}</h1>" in response.text and f'lang="{language}"' in response.text
