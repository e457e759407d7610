"""What only one backend has: the embedded writer lock across processes and its schema marker;
Meilisearch settings and outages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from search.backend import SearchUnavailable
from search.documents import SearchQuery
from search.embedded import EmbeddedBackend
from search.meili import SETTINGS, MeiliBackend
from tests.search.helpers import make_doc
from tests.support.meili import free_port

ROOT = Path(__file__).resolve().parents[2]

_HOLD_WRITER = textwrap.dedent("""
    import sys, time
    from search.embedded import EmbeddedBackend
    from tests.search.helpers import make_doc
    b = EmbeddedBackend(sys.argv[1], writer_idle=float(sys.argv[2]))
    b.index([make_doc("ideas:77", "Басқа процесс", "жазды")])
    print("written", flush=True)
    sys.stdin.readline()
    b.close()
""")


def _other_process(path: Path, idle: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", _HOLD_WRITER, str(path), str(idle)], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "written"
    return process


def test_embedded_writer_busy_in_another_process(tmp_path):
    path = tmp_path / "search"
    EmbeddedBackend(path).configure()
    other = _other_process(path, idle=60)  # holds the writer
    try:
        backend = EmbeddedBackend(path, lock_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(SearchUnavailable, match="another process"):
            backend.index([make_doc("ideas:1", "Саябақ")])
        assert time.monotonic() - started < 5
        # reads go on, and see the other process's write, its words in the vocabulary too
        assert [h.id for h in backend.search(SearchQuery(text="процесс")).hits] == ["ideas:77"]
        assert [h.id for h in backend.search(SearchQuery(text="прцесс ")).hits] == ["ideas:77"]
    finally:
        other.communicate("\n", timeout=30)
    backend.index([make_doc("ideas:1", "Саябақ")])  # the lock is free again
    assert backend.count() == 2


def test_embedded_writer_is_let_go_when_idle(tmp_path):
    path = tmp_path / "search"
    EmbeddedBackend(path).configure()
    other = _other_process(path, idle=0.2)
    try:
        time.sleep(0.6)
        backend = EmbeddedBackend(path, lock_timeout=2)
        backend.index([make_doc("ideas:1", "Саябақ")])  # while the other process still runs
        assert backend.count() == 2
        backend.close()
    finally:
        other.communicate("\n", timeout=30)


def test_embedded_index_with_another_schema_is_recreated(tmp_path):
    path = tmp_path / "search"
    backend = EmbeddedBackend(path)
    backend.index([make_doc("ideas:1", "Саябақ")])
    backend.close()
    (path / "ashyq-schema-version").write_text("ashyq-search-0\n")
    from search import embedded

    embedded._HANDLES.clear()  # a new process
    fresh = EmbeddedBackend(path)
    assert fresh.count() == 0 and fresh.needs_rebuild
    fresh.index([make_doc("ideas:1", "Саябақ")])
    assert fresh.count() == 1


def test_embedded_vocabulary_entries_are_never_results(tmp_path):
    """The typo vocabulary lives in the index beside the documents; it is never counted,
    listed or found as one."""
    backend = EmbeddedBackend(tmp_path / "search")
    backend.index([make_doc("ideas:1", "Саябақтағы орындықтар", "Орындықтар сынған"),
                   make_doc("petitions:2", "Бағдаршам керек", "Мектеп жанында", status="answered")])
    backend.index([make_doc("ideas:1", "Саябақтағы орындықтар", "Жөнделді")])  # new words, same doc
    assert backend.count() == 2 and sorted(backend.all_ids()) == ["ideas:1", "petitions:2"]
    everything = backend.search(SearchQuery(facets=("module", "status", "year")))
    assert everything.total == 2 and len(everything.hits) == 2
    assert sum(everything.facets["module"].values()) == 2 and sum(everything.facets["year"].values()) == 2
    backend.delete(["petitions:2"])
    assert backend.count() == 1 and backend.search(SearchQuery()).total == 1
    assert backend.search(SearchQuery(text="бағдаршам")).total == 0
    backend.clear()
    assert backend.count() == 0 and backend.search(SearchQuery()).total == 0


def test_embedded_typo_with_many_candidate_words_finds_the_same(tmp_path, monkeypatch):
    """Past ``_EXPANSIONS`` words for one typo or prefix, tantivy's automaton runs on the postings
    instead of the word list: the same documents are found."""
    from search import embedded

    backend = EmbeddedBackend(tmp_path / "search")
    backend.index([make_doc("ideas:1", "Светофор сломан"), make_doc("ideas:2", "Светофоры на перекрёстке"),
                   make_doc("ideas:3", "Светофорный объект"), make_doc("ideas:4", "Свет в подъезде")])
    queries = ["светоф", "свтофор", "светофоров", "свеофор ", "светафорный"]
    expanded = {q: sorted(h.id for h in backend.search(SearchQuery(text=q)).hits) for q in queries}
    monkeypatch.setattr(embedded, "_EXPANSIONS", 1)
    automaton = {q: sorted(h.id for h in backend.search(SearchQuery(text=q)).hits) for q in queries}
    assert expanded == automaton
    assert expanded["светоф"] == ["ideas:1", "ideas:2", "ideas:3"]


def test_meilisearch_unreachable_raises_search_unavailable():
    backend = MeiliBackend(f"http://127.0.0.1:{free_port()}", "key", timeout=1)
    assert backend.health() is False
    for call in (lambda: backend.search(SearchQuery(text="саябақ")),
                 lambda: backend.index([make_doc("ideas:1", "Саябақ")]),
                 lambda: backend.delete(["ideas:1"]), backend.count, backend.all_ids, backend.configure):
        with pytest.raises(SearchUnavailable):
            call()


def test_meilisearch_missing_index_is_unavailable(meili_server):
    url, key = meili_server
    with pytest.raises(SearchUnavailable, match="does not exist"):
        MeiliBackend(url, key, index_name="never_configured").search(SearchQuery(text="x"))


def test_meilisearch_settings_applied_once(meili_server):
    url, key = meili_server
    backend = MeiliBackend(url, key, index_name="settings_check")
    backend.configure()
    settings = backend._index.get_settings()
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 4, "twoTypos": 8}
    assert settings["searchableAttributes"] == SETTINGS["searchableAttributes"]
    assert set(settings["filterableAttributes"]) == set(SETTINGS["filterableAttributes"])
    assert settings["sortableAttributes"] == ["created_ts"]
    tasks_before = backend.client.get_tasks({"limit": 1}).results[0].uid
    backend.configure()  # nothing changed: no new settings task
    assert backend.client.get_tasks({"limit": 1}).results[0].uid == tasks_before
    backend.drop()


def test_meilisearch_write_without_waiting(meili_server):
    url, key = meili_server
    backend = MeiliBackend(url, key, index_name="nowait", wait=False)
    backend.configure()
    backend.index([make_doc("ideas:1", "Саябақ")])
    deadline = time.monotonic() + 10
    while backend.count() != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert backend.search(SearchQuery(text="саябақ")).total == 1
    backend.drop()
