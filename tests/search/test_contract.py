"""The search contract: the same tests, unchanged, against both backends (embedded tantivy and a
real Meilisearch). Read-only tests share one index per backend loaded with CORPUS; tests that
write get an empty index of their own (fixture ``backend``)."""

from __future__ import annotations

import pytest

from search.backend import SearchBackend
from search.documents import SearchQuery
from tests.search.helpers import BACKENDS, make_doc, open_backend

CORPUS = [
    make_doc("ideas:1", "Бостандық ауданында жаңа саябақ",
             "Әл-Фараби даңғылының бойында шағын саябақ салуды ұсынамын. Орындықтар мен субұрқақ керек.",
             created_at="2024-03-01T09:00:00+05:00"),
    make_doc("ideas:2", "Қаладағы саябақтар", "Барлық саябақтарда түнгі жарық жеткіліксіз.",
             territory="/kz/almaty/almaly/", status="accepted", level="dialogue",
             created_at="2023-06-10T12:00:00+05:00"),
    make_doc("petitions:1", "Ремонт дороги на улице Абая",
             "Дорога разбита, после дождя стоит вода. Просим отремонтировать до осени.",
             lang="ru", created_at="2024-09-15T10:00:00+05:00"),
    make_doc("appeals:1", "Светофор на перекрёстке",
             "На перекрёстке Абая и Байтурсынова нужен светофор: дети переходят дорогу к школе.",
             lang="ru", territory="/kz/almaty/almaly/", status="answered", level="inform",
             created_at="2025-01-20T08:00:00+05:00"),
    make_doc("appeals:2", "Отопление <script>alert('x')</script> в школе №5",
             "В классах холодно, батареи <b>еле тёплые</b> & окна не закрываются.",
             lang="ru", territory="/kz/almaty/bostandyk/kok-tobe/", status="in_progress", level="inform",
             created_at="2024-11-05T15:00:00+05:00"),
    make_doc("ideas:3", "Bike lanes on Abay avenue", "Protected bike lanes would make the avenue safer.",
             lang="en", territory="/kz/almaty/medeu/", created_at="2025-04-02T11:00:00+05:00"),
    make_doc("budgets:1", "Balalar alañy", "Şağyn audanda jaña balalar alañy men orındyqtar.",
             territory="/kz/almaty/bostandyk/kok-tobe/", status="accepted", level="partnership",
             created_at="2025-02-14T10:00:00+05:00"),
    make_doc("ideas:4", "Детский сад во дворе",
             "Во дворе нужен детский сад, спортивная площадка и светофор у ворот.",
             lang="ru", territory="/kz/almaty/medeu/", created_at="2023-02-01T10:00:00+05:00"),
    # 20:30 UTC on 31 December is already 2025 in Kazakhstan (UTC+5)
    make_doc("appeals:3", "Көше жарығы",
             "Әкімдік көшелерде жарық орнатсын. Түнде автобус аялдамасы қараңғы.",
             status="answered", level="inform", created_at="2024-12-31T20:30:00+00:00"),
    make_doc("petitions:2", "Новый маршрут автобуса", "Просим пустить автобус до микрорайона Кок-Тобе.",
             lang="ru", territory="/kz/almaty/medeu/", created_at="2025-03-03T10:00:00+05:00"),
]
BY_DATE = [d.id for d in sorted(CORPUS, key=lambda d: d.created_at, reverse=True)]


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory) -> SearchBackend:
    """One index per backend with CORPUS, shared by the read-only tests of this module."""
    backend, close = open_backend(request.param, request, lambda: tmp_path_factory.mktemp("corpus"))
    backend.index(CORPUS)
    yield backend
    close()


def ids(backend: SearchBackend, text: str = "", **options) -> list[str]:
    return [h.id for h in backend.search(SearchQuery(text=text, per_page=50, **options)).hits]


# ------------------------------------------------------------------ finding


def test_index_then_find(loaded):
    results = loaded.search(SearchQuery(text="светофор"))
    assert results.total == 2
    assert [h.id for h in results.hits] == ["appeals:1", "ideas:4"]  # title match first
    hit = results.hits[0]
    assert (hit.module, hit.kind, hit.url, hit.lang) == ("appeals", "appeal", "/appeals/1", "ru")
    assert hit.created_at == CORPUS[3].created_at
    assert results.took_ms >= 0 and results.suggestions == []


def test_count_and_all_ids(loaded):
    assert loaded.count() == len(CORPUS)
    assert sorted(loaded.all_ids()) == sorted(d.id for d in CORPUS)
    assert loaded.health() is True


@pytest.mark.parametrize("text, expected", [
    ("автобас ", "appeals:3"),  # 7 letters, one substitution
    ("сфетофор ", "appeals:1"),  # 8 letters, one substitution
    ("свитафор ", "appeals:1"),  # 8 letters, two substitutions
    ("свеотфор ", "appeals:1"),  # a transposition is one edit
    ("отоплние ", "appeals:2"),  # a deletion
])
def test_typo_tolerance(loaded, text, expected):
    assert expected in ids(loaded, text)


@pytest.mark.parametrize("text", [
    "автбас ",  # 6 letters, two edits: too many
    "сат ",  # 3 letters ("сад"): no typo allowed
    "двр ",
])
def test_typo_tolerance_has_limits(loaded, text):
    assert ids(loaded, text) == []
    assert "ideas:4" in ids(loaded, "сад ")


@pytest.mark.parametrize("text, expected", [
    ("свето", {"appeals:1", "ideas:4"}),
    ("орынд", {"ideas:1", "budgets:1"}),  # Cyrillic and Latin documents
    ("шағын саяб", {"ideas:1"}),
    ("Bik", {"ideas:3"}),
])
def test_prefix_as_you_type(loaded, text, expected):
    assert set(ids(loaded, text)) == expected


def test_kazakh_suffixes(loaded):
    # ideas:1 only has "саябақ", ideas:2 only "саябақтар"/"саябақтарда"
    assert set(ids(loaded, "саябақтар ")) == {"ideas:1", "ideas:2"}
    assert set(ids(loaded, "саябақ ")) == {"ideas:1", "ideas:2"}
    assert set(ids(loaded, "саябақтарда ")) == {"ideas:1", "ideas:2"}
    assert "appeals:3" in ids(loaded, "көшеде ")  # the document says "көшелерде"
    assert "appeals:3" in ids(loaded, "аялдама ")  # "аялдамасы"


@pytest.mark.parametrize("text", ["дороги ", "дорога ", "дорогами ", "дорогу "])
def test_russian_morphology(loaded, text):
    assert "petitions:1" in ids(loaded, text)


@pytest.mark.parametrize("text, expected", [
    ("saiabaq ", {"ideas:1", "ideas:2"}),  # 2021 Latin finds Cyrillic
    ("sayabak ", {"ideas:1", "ideas:2"}),  # informal Latin
    ("äkımdık ", {"appeals:3"}),
    ("köşe jarygy", {"appeals:3"}),
    ("балалар алаңы", {"budgets:1"}),  # Cyrillic finds a document written in Latin
    ("орындықтар ", {"ideas:1", "budgets:1"}),
    ("Абай ", {"ideas:3", "petitions:1", "appeals:1"}),  # "Abay", "Абая"
])
def test_latin_and_cyrillic(loaded, text, expected):
    assert set(ids(loaded, text)) == expected


@pytest.mark.parametrize("text, expected", [
    ("саябак ", {"ideas:1", "ideas:2"}),  # қ typed as к
    ("коше жарыгы", {"appeals:3"}),  # ө, ғ
    ("акимдик ", {"appeals:3"}),  # ә, і
    ("агылшын кошелерде", set()),  # every word must match
])
def test_russian_look_alike_letters(loaded, text, expected):
    assert set(ids(loaded, text)) == expected


# ------------------------------------------------------------------ filters and facets


@pytest.mark.parametrize("options, expected", [
    (dict(module="ideas"), {"ideas:1", "ideas:2", "ideas:3", "ideas:4"}),
    (dict(module=["ideas", "budgets"], lang="kk"), {"ideas:1", "ideas:2", "budgets:1"}),
    (dict(status="answered"), {"appeals:1", "appeals:3"}),
    (dict(level="partnership"), {"budgets:1"}),
    (dict(lang="en"), {"ideas:3"}),
    # a district includes its okrugs ("kok-tobe"), and only them
    (dict(territory="/kz/almaty/bostandyk/"), {"ideas:1", "petitions:1", "appeals:2", "budgets:1", "appeals:3"}),
    (dict(territory="kz/almaty/bostandyk/kok-tobe"), {"appeals:2", "budgets:1"}),
    (dict(year=2023), {"ideas:2", "ideas:4"}),
    (dict(year=2025, module="appeals"), {"appeals:1", "appeals:3"}),  # appeals:3: 2025 in Almaty time
    (dict(text="саябақ", territory="/kz/almaty/almaly/"), {"ideas:2"}),
    (dict(text="светофор", module="petitions"), set()),
])
def test_filters(loaded, options, expected):
    assert set(ids(loaded, **options)) == expected


def test_facet_counts(loaded):
    results = loaded.search(SearchQuery(facets=("module", "status", "level", "lang", "year", "territory")))
    assert results.total == len(CORPUS)
    assert results.facets["module"] == {"ideas": 4, "petitions": 2, "appeals": 3, "budgets": 1}
    assert results.facets["status"] == {"open": 5, "accepted": 2, "answered": 2, "in_progress": 1}
    assert results.facets["level"] == {"consult": 5, "dialogue": 1, "inform": 3, "partnership": 1}
    assert results.facets["lang"] == {"kk": 4, "ru": 5, "en": 1}
    assert results.facets["year"] == {"2023": 2, "2024": 3, "2025": 5}
    territory = results.facets["territory"]
    assert territory["/kz/"] == territory["/kz/almaty/"] == 10
    assert territory["/kz/almaty/bostandyk/"] == 5
    assert territory["/kz/almaty/bostandyk/kok-tobe/"] == 2
    assert territory["/kz/almaty/medeu/"] == 3


def test_facet_counts_follow_text_and_filters(loaded):
    results = loaded.search(SearchQuery(territory="/kz/almaty/bostandyk/", facets=("module", "year")))
    assert results.facets["module"] == {"ideas": 1, "petitions": 1, "appeals": 2, "budgets": 1}
    results = loaded.search(SearchQuery(text="саябақ", facets=("module", "territory", "kind")))
    assert results.facets["module"] == {"ideas": 2}
    assert results.facets["kind"] == {"idea": 2}
    assert results.facets["territory"]["/kz/almaty/almaly/"] == 1
    empty = loaded.search(SearchQuery(text="саябақ", module="budgets", facets=("module",)))
    assert empty.total == 0 and empty.facets == {"module": {}}


# ------------------------------------------------------------------ pages and order


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_pagination_and_sort(loaded, sort):
    expected = BY_DATE if sort == "newest" else BY_DATE[::-1]
    seen = []
    for page in (1, 2, 3):
        results = loaded.search(SearchQuery(sort=sort, page=page, per_page=4))
        assert results.total == 10 and results.pages == 3 and results.page == page
        seen += [h.id for h in results.hits]
    assert seen == expected
    assert loaded.search(SearchQuery(sort=sort, page=4, per_page=4)).hits == []


def test_relevance_without_text_is_newest_first(loaded):
    assert ids(loaded) == BY_DATE


def test_sort_with_text(loaded):
    assert ids(loaded, "саябақ", sort="oldest") == ["ideas:2", "ideas:1"]
    assert ids(loaded, "саябақ", sort="newest") == ["ideas:1", "ideas:2"]


def test_per_page_is_capped():
    assert SearchQuery(per_page=500).per_page == 50
    assert SearchQuery(page=0).page == 1


# ------------------------------------------------------------------ highlighting


def test_highlighted_title_and_snippet(loaded):
    hit = loaded.search(SearchQuery(text="saiabaq")).hits
    by_id = {h.id: h for h in hit}
    assert by_id["ideas:1"].title_html == "Бостандық ауданында жаңа <mark>саябақ</mark>"
    assert "шағын <mark>саябақ</mark> салуды" in by_id["ideas:1"].snippet_html
    assert by_id["ideas:2"].title_html == "Қаладағы <mark>саябақтар</mark>"
    assert "Барлық <mark>саябақтарда</mark>" in by_id["ideas:2"].snippet_html


def test_highlighting_escapes_html(loaded):
    hit = loaded.search(SearchQuery(text="отопление")).hits[0]
    assert hit.id == "appeals:2"
    assert hit.title == "Отопление <script>alert('x')</script> в школе №5"
    assert hit.title_html == ("<mark>Отопление</mark> &lt;script&gt;alert(&#x27;x&#x27;)"
                              "&lt;/script&gt; в школе №5")
    assert hit.snippet_html == "В классах холодно, батареи &lt;b&gt;еле тёплые&lt;/b&gt; &amp; окна не закрываются."
    hit = loaded.search(SearchQuery(text="script")).hits[0]
    assert "<script" not in hit.title_html
    assert "&lt;<mark>script</mark>&gt;alert" in hit.title_html


def test_every_word_must_match(loaded):
    assert ids(loaded, "саябақ светофор") == []
    assert ids(loaded, "саябақ жарық") == ["ideas:2"]
    assert ids(loaded, "«саябақ» -(жарық) AND \"") == []  # no query syntax: "and" is a word
    assert ids(loaded, "«саябақ» + -(жарық)*!") == ["ideas:2"]  # punctuation is not syntax


def test_snippet_falls_back_to_the_summary(backend):
    backend.index([make_doc("ideas:8", "Саябақ", "Мәтін басы. " * 40, summary="Қысқаша <b>сипаттама</b>")])
    hit = backend.search(SearchQuery(text="саябақ")).hits[0]
    assert hit.title_html == "<mark>Саябақ</mark>"
    assert hit.snippet_html == "Қысқаша &lt;b&gt;сипаттама&lt;/b&gt;"


def test_snippet_of_a_long_body(backend):
    filler = "Жиналыс хаттамасы бекітілді. " * 40
    body = filler + "Ауладағы балалар алаңына жаңа әткеншек орнату керек. " + filler
    backend.index([make_doc("ideas:9", "Хаттама", body)])
    hit = backend.search(SearchQuery(text="әткеншек")).hits[0]
    assert hit.snippet_html.startswith("…") and hit.snippet_html.endswith("…")
    assert "жаңа <mark>әткеншек</mark> орнату" in hit.snippet_html
    assert len(hit.snippet_html.replace("<mark>", "").replace("</mark>", "")) <= 205


# ------------------------------------------------------------------ writes


def test_delete_then_not_found(backend):
    backend.index(CORPUS[:3])
    assert backend.count() == 3
    backend.delete(["ideas:1", "ideas:404"])
    assert ids(backend, "саябақ") == ["ideas:2"]
    assert backend.count() == 2
    assert sorted(backend.all_ids()) == ["ideas:2", "petitions:1"]


def test_reindex_replaces(backend):
    backend.index([CORPUS[0]])
    changed = make_doc("ideas:1", "Велосипед жолы", "Саябақ емес, велосипед жолы.", status="accepted")
    backend.index([changed])
    backend.index([changed])
    assert backend.count() == 1
    assert ids(backend, "ауданында") == []
    results = backend.search(SearchQuery(text="велосипед", facets=("status",)))
    assert [h.id for h in results.hits] == ["ideas:1"]
    assert results.hits[0].title == "Велосипед жолы"
    assert results.facets["status"] == {"accepted": 1}
    # several versions of one record in one call: the last wins
    backend.index([CORPUS[0], changed, CORPUS[0]])
    assert backend.count() == 1 and ids(backend, "велосипед ") == []


def test_clear_and_empty_writes(backend):
    backend.index([])
    backend.delete([])
    backend.index(CORPUS[:4])
    backend.clear()
    assert backend.count() == 0 and backend.all_ids() == [] and ids(backend) == []
    backend.index(CORPUS[:1])
    assert ids(backend, "саябақ") == ["ideas:1"]


# ------------------------------------------------------------------ similar and suggestions


def test_similar(loaded):
    similar = loaded.similar("Жаңа саябақ салу керек")
    assert similar[0].id == "ideas:1"
    assert "<mark>" in similar[0].title_html
    assert [h.id for h in loaded.similar("светофор на перекрёстке у школы")][:1] == ["appeals:1"]
    assert {h.id for h in loaded.similar("саябақтар", module="ideas")} == {"ideas:1", "ideas:2"}
    assert loaded.similar("саябақтар", module="budgets") == []
    assert [h.id for h in loaded.similar("саябақтар", limit=1)] in (["ideas:1"], ["ideas:2"])
    assert loaded.similar("") == [] and loaded.similar("и в на") == []
    assert loaded.similar("квантовый компьютер") == []


def test_suggestions_for_empty_results(loaded):
    results = loaded.search(SearchQuery(text="свитафорр "))
    assert results.total == 0
    assert results.suggestions[:1] == ["светофор"]
    for suggestion in results.suggestions:
        assert loaded.search(SearchQuery(text=suggestion)).total > 0
    assert loaded.search(SearchQuery(text="светофор")).suggestions == []
    assert loaded.search(SearchQuery(text="жжжжжжж")).suggestions == []
    # corrections that would find nothing under the filters are not offered
    assert loaded.search(SearchQuery(text="свитафорр ", module="budgets")).suggestions == []
