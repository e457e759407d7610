"""Normalisation (shared by both backends at index and query time), stems, highlighting."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.highlight import Matcher, highlight, snippet
from search.text import edit_distance, fold, fold_word, parse_query, stem


@pytest.mark.parametrize("spellings, key", [
    (["саябақ", "Саябак", "saiabaq", "sayabak", "SAIABAQ"], "saiabak"),
    (["көше", "коше", "köşe", "koshe", "KÖŞE"], "koshe"),
    (["әкімдік", "акимдик", "äkımdık", "a'kimdik", "akimdik"], "akimdik"),
    (["улица", "ulitsa", "ulica", "Улица"], "ulitsa"),
    (["Жетісу", "Zhetisu", "Jetisu", "Жетысу"], "jetisu"),
    (["Ғабит", "Ghabit", "Ğabit", "Габит"], "gabit"),
    (["Шымкент", "Shymkent", "Şymkent", "Шимкент"], "shimkent"),
    (["ёлка", "елка"], "elka"),
    (["тұрғын", "турғын", "tūrğyn", "turgyn"], "turgin"),
    (["үй", "уй", "üi", "üy"], "ui"),
    (["ашық", "aşyq", "ashyk", "ашык"], "ashik"),
    (["қоңырау", "qoñyrau", "коныpау".replace("p", "р")], "konirau"),
    (["һәм", "хам", "häm"], "ham"),
    (["script", "скрипт"], "skript"),
])
def test_fold_meets_scripts_and_look_alikes(spellings, key):
    assert {fold_word(s) for s in spellings} == {key}


def test_fold_text_keeps_words_and_digits():
    assert fold("Көше №5, «Абай» даңғылы — 2024 ж.") == "koshe 5 abai dangili 2024 j"
    assert fold("<script>alert(1)</script>") == "skript alert 1 skript"


@pytest.mark.parametrize("forms, common", [
    (["саябақ", "саябақтар", "саябақтарда", "саябақтардың", "saiabaqtardy"], "saiabak"),
    (["көше", "көшесі", "көшелерде", "көшесінде"], "kosh"),
    (["дорога", "дороги", "дорогу", "дорогами", "дорогах"], "dorog"),
    (["автобус", "автобусы", "автобусов", "автобустар"], "avtobus"),
    (["улица", "улицы", "улицах", "улицами"], "ulits"),
    (["остановка", "остановки", "остановках"], "ostanovk"),
])
def test_light_stems(forms, common):
    assert {stem(fold_word(f)) for f in forms} == {common}


def test_short_words_keep_their_stem():
    assert stem("kala") == "kala" and stem("sad") == "sad" and stem("2024") == "2024"


def test_parse_query_marks_the_word_being_typed():
    terms = parse_query("саябақтар Коке")
    assert [(t.word, t.stem, t.last) for t in terms] == [("saiabaktar", "saiabak", False), ("koke", "koke", True)]
    assert parse_query("дороги ")[-1].last is False
    assert parse_query("дороги ")[0].ru == "дорог"
    assert parse_query("!!!") == []
    assert len(parse_query(" ".join(["слово"] * 30))) == 10


def test_edit_distance():
    assert edit_distance("saiabk", "saiabak", 1) == 1
    assert edit_distance("svitafor", "svetofor", 2) == 2
    assert edit_distance("ab", "ba", 1) == 1  # transposition
    assert edit_distance("avtbas", "avtobus", 1) == 2  # over the limit: limit + 1


def test_highlight_marks_every_form_and_escapes():
    m = Matcher(parse_query("саябак "))
    assert highlight("Саябақ & <саябақтар>", m) == "<mark>Саябақ</mark> &amp; &lt;<mark>саябақтар</mark>&gt;"
    assert highlight("", m) == ""
    assert highlight("a \"quoted\" 'text'", Matcher([])) == "a &quot;quoted&quot; &#x27;text&#x27;"


def test_snippet_short_and_long():
    m = Matcher(parse_query("әткеншек"))
    assert snippet("Жаңа әткеншек", m) == "Жаңа <mark>әткеншек</mark>"
    long = "бір " * 200 + "әткеншек керек " + "екі " * 200
    s = snippet(long, m, max_chars=100)
    assert s.startswith("…") and s.endswith("…") and "<mark>әткеншек</mark>" in s
    assert snippet("үш " * 100, m, max_chars=50).startswith("үш")  # no match: the beginning


def test_backend_for(tmp_path: Path):
    from civic.settings import load_settings
    from search import backend_for
    from search.embedded import EmbeddedBackend
    from search.meili import MeiliBackend

    env = {"CIVIC_DATA_DIR": str(tmp_path), "CIVIC_SECRET_KEY": "k" * 40}
    embedded = backend_for(load_settings(env))
    assert isinstance(embedded, EmbeddedBackend) and embedded.path == tmp_path.resolve() / "search"
    meili = backend_for(load_settings({**env, "CIVIC_MEILISEARCH_URL": "http://127.0.0.1:7700",
                                       "CIVIC_MEILISEARCH_KEY": "secret"}))
    assert isinstance(meili, MeiliBackend)
    assert (meili.url, meili.key, meili.index_name) == ("http://127.0.0.1:7700", "secret", "ashyq")
