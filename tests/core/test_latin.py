"""Tests for civic.i18n.latin (Kazakh Cyrillic -> 2021 Latin alphabet)."""

from __future__ import annotations

import time

import pytest

from civic.i18n.latin import LOWER, html_to_latin, to_latin

# The 2021 alphabet, as capital/small pairs.
ALPHABET_2021 = (
    "Aa Ää Bb Dd Ee Ff Gg Ğğ Hh Iı İi Jj Kk Ll Mm Nn Ññ Oo Öö Pp Qq Rr Ss Şş Tt Uu Ūū Üü Vv Yy Zz"
).split()

# Hand-written from the official 2021 table (not generated from LOWER).
EXPECTED = {
    "а": ("a", "A"), "ә": ("ä", "Ä"), "б": ("b", "B"), "в": ("v", "V"),
    "г": ("g", "G"), "ғ": ("ğ", "Ğ"), "д": ("d", "D"), "е": ("e", "E"),
    "ё": ("io", "İo"), "ж": ("j", "J"), "з": ("z", "Z"), "и": ("i", "İ"),
    "й": ("i", "İ"), "к": ("k", "K"), "қ": ("q", "Q"), "л": ("l", "L"),
    "м": ("m", "M"), "н": ("n", "N"), "ң": ("ñ", "Ñ"), "о": ("o", "O"),
    "ө": ("ö", "Ö"), "п": ("p", "P"), "р": ("r", "R"), "с": ("s", "S"),
    "т": ("t", "T"), "у": ("u", "U"), "ұ": ("ū", "Ū"), "ү": ("ü", "Ü"),
    "ф": ("f", "F"), "х": ("h", "H"), "һ": ("h", "H"), "ц": ("ts", "Ts"),
    "ч": ("ch", "Ch"), "ш": ("ş", "Ş"), "щ": ("şş", "Şş"), "ъ": ("", ""),
    "ы": ("y", "Y"), "і": ("ı", "I"), "ь": ("", ""), "э": ("e", "E"),
    "ю": ("iu", "İu"), "я": ("ia", "İa"),
}  # fmt: skip


def test_alphabet_has_31_letters():
    assert len(ALPHABET_2021) == 31
    assert len(LOWER) == 42  # 33 Russian + 9 Kazakh Cyrillic letters


@pytest.mark.parametrize("cyr", sorted(EXPECTED))
def test_letter_table(cyr):
    small, capital = EXPECTED[cyr]
    assert to_latin(cyr) == small
    # A lone capital (or one followed by lower case) is title case.
    assert to_latin(cyr.upper()) == capital


def test_every_output_letter_is_in_the_2021_alphabet():
    letters = set("".join(ALPHABET_2021))
    # c/C appear only in the digraphs ts/ch for Russian ц/ч.
    allowed = letters | {"c", "C"}
    for cyr in LOWER:
        for ch in to_latin(cyr) + to_latin(cyr.upper() + "а") + to_latin(cyr.upper() * 2):
            assert ch in allowed, (cyr, ch)


def test_two_latin_i_letters_are_kept_apart():
    # і -> dotless ı / I; и, й -> dotted i / İ
    assert to_latin("іні") == "ını"
    assert to_latin("Іні") == "Inı"
    assert to_latin("ит") == "it"
    assert to_latin("Ит") == "İt"
    assert to_latin("ИІ") == "İI"
    assert to_latin("Йогурт") == "İogurt"


@pytest.mark.parametrize(
    ("cyr", "latin"),
    [
        ("Алматы қаласының әкімдігі", "Almaty qalasynyñ äkımdıgı"),
        ("АЛМАТЫ ҚАЛАСЫНЫҢ ӘКІМДІГІ", "ALMATY QALASYNYÑ ÄKIMDIGI"),
        ("Қазақстан Республикасы", "Qazaqstan Respublikasy"),
        ("Ақмола облысы, Щучинск ауданы", "Aqmola oblysy, Şşuchinsk audany"),
        ("Өтініш қабылданды", "Ötınış qabyldandy"),
        ("Ұлттық бірыңғай нөмір", "Ūlttyq bıryñğai nömır"),
        ("Үкімет қаулысы", "Ükımet qaulysy"),
        ("Шаһар", "Şahar"),
        # Russian text goes through the same table.
        ("Акимат города Алматы", "Akimat goroda Almaty"),
        ("Объявление о съезде", "Obiavlenie o sezde"),
        ("Щука, чай, цирк, ёлка, юрта, яблоко, этаж",
         "Şşuka, chai, tsirk, iolka, iurta, iabloko, etaj"),
        # Mixed Kazakh and Russian in one sentence.
        ("Әкімдік (акимат) 15 жұмыс күні ішінде жауап береді",
         "Äkımdık (akimat) 15 jūmys künı ışınde jauap beredı"),
    ],
)  # fmt: skip
def test_sentences(cyr, latin):
    assert to_latin(cyr) == latin


@pytest.mark.parametrize(
    ("cyr", "latin"),
    [
        ("Щучинск", "Şşuchinsk"),
        ("ЩУЧИНСК", "ŞŞUCHİNSK"),
        ("Цесна", "Tsesna"),
        ("ЦЕСНА", "TSESNA"),
        ("Чапаев", "Chapaev"),
        ("ЧАПАЕВ", "CHAPAEV"),
        ("Ёлка", "İolka"),
        ("ЁЛКА", "İOLKA"),
        ("Юлия", "İuliia"),
        ("ЮЛИЯ", "İULİİA"),
        ("Январь", "İanvar"),
        ("ЯНВАРЬ", "İANVAR"),
        # multi-letter capital at the end of an all-caps word follows the letter before
        ("БОРЩ", "BORŞŞ"),
        ("ТАЯ", "TAİA"),
        # ... and a lone capital is title case
        ("Я", "İa"),
        ("Ч.", "Ch."),
        ("ЩЮ", "ŞŞİU"),
        # mixed case: each letter looks at its neighbour
        ("ЧАй", "CHAi"),
        ("А.Ч. Юсупов", "A.Ch. İusupov"),
    ],
)
def test_case_of_multi_letter_outputs(cyr, latin):
    assert to_latin(cyr) == latin


def test_non_cyrillic_is_untouched():
    s = "Latin text, 123, €, émoji 🙂, Türkçe ı İ, &amp; &#1072; <b>"
    assert to_latin(s) == s
    assert to_latin("") == ""


def test_long_text_uses_same_rules_as_short():
    # Long strings go through a different (faster) code path.
    words = "Алматы қаласының әкімдігі ЩУЧИНСК Юлия Щука объявление "
    long = words * 50
    assert len(long) > 1000
    assert to_latin(long) == "".join(to_latin(w + " ") for w in words.split()) * 50


# ------------------------------------------------------------------- HTML


def test_html_text_and_visible_attributes_are_rendered():
    html = (
        '<a title="Өтініш жіберу" aria-label="Жабу" class="btn">Өтініш</a>'
        '<img src="/s/logo.png" alt="Елтаңба">'
        '<input name="q" placeholder="Іздеу">'
        "<optgroup label='Аудандар'><option value=\"медеу\">Медеу</option></optgroup>"
    )
    assert html_to_latin(html) == (
        '<a title="Ötınış jıberu" aria-label="Jabu" class="btn">Ötınış</a>'
        '<img src="/s/logo.png" alt="Eltañba">'
        '<input name="q" placeholder="Izdeu">'
        "<optgroup label='Audandar'><option value=\"медеу\">Medeu</option></optgroup>"
    )


def test_html_urls_ids_classes_and_tag_names_untouched():
    html = (
        '<a href="/kk/өтініш?q=Сәлем" id="бас" class="кнопка" data-x="Әкім">Сілтеме</a>'
        '<form action="/жіберу"><img src="сурет.png" srcset="сурет@2x.png 2x"></form>'
    )
    assert html_to_latin(html) == (
        '<a href="/kk/өтініш?q=Сәлем" id="бас" class="кнопка" data-x="Әкім">Sılteme</a>'
        '<form action="/жіберу"><img src="сурет.png" srcset="сурет@2x.png 2x"></form>'
    )


def test_html_script_style_textarea_and_input_values_untouched():
    html = (
        '<script>var msg = "Сәлем"; if (a < b) {}</script>'
        "<STYLE>.ә::after{content:'Ә'}</STYLE>"
        '<textarea name="body" placeholder="Мәтін">Менің <b>мәтінім</b></textarea>'
        '<input value="Менің атым" title="Аты">'
        '<input type="submit" value="Жіберу">'
        "<p>Сәлем</p>"
    )
    assert html_to_latin(html) == (
        '<script>var msg = "Сәлем"; if (a < b) {}</script>'
        "<STYLE>.ә::after{content:'Ә'}</STYLE>"
        '<textarea name="body" placeholder="Mätın">Менің <b>мәтінім</b></textarea>'
        '<input value="Менің атым" title="Aty">'
        '<input type="submit" value="Жіберу">'
        "<p>Sälem</p>"
    )


def test_html_entities_comments_and_doctype_untouched():
    html = (
        "<!DOCTYPE html><!-- Түсініктеме -->"
        "<p>Ашық &laquo;әкімдік&raquo; &amp; &#1072;&#x430; &nbsp;</p>"
        '<span title="А &quot;Б&quot;">В</span>'
    )
    assert html_to_latin(html) == (
        "<!DOCTYPE html><!-- Түсініктеме -->"
        "<p>Aşyq &laquo;äkımdık&raquo; &amp; &#1072;&#x430; &nbsp;</p>"
        '<span title="A &quot;B&quot;">V</span>'
    )


def test_html_meta_content():
    html = (
        '<meta name="description" content="Әкімдік порталы">'
        '<meta property="og:title" content="Ашық">'
        '<meta property="og:url" content="https://ashyq.kz/әкім">'
        '<meta property="og:image" content="/сурет.png">'
        '<meta http-equiv="refresh" content="5; url=/әкім">'
        '<div content="Әкім">Әкім</div>'
    )
    assert html_to_latin(html) == (
        '<meta name="description" content="Äkımdık portaly">'
        '<meta property="og:title" content="Aşyq">'
        '<meta property="og:url" content="https://ashyq.kz/әкім">'
        '<meta property="og:image" content="/сурет.png">'
        '<meta http-equiv="refresh" content="5; url=/әкім">'
        '<div content="Әкім">Äkım</div>'
    )


def test_html_attribute_edge_cases():
    # ">" inside a quoted value does not end the tag; unquoted values;
    # attribute names in any case; a "<script" inside an attribute value.
    html = (
        '<p data-x="a > б" TITLE=Тақырып hx-vals=\'{"a":"б"}\'>Мәтін</p>'
        '<div x-data="<script>">Сәлем</div><p>Әлем</p>'
        "<br/><img alt='Сурет'/>Соңы"
    )
    assert html_to_latin(html) == (
        '<p data-x="a > б" TITLE=Taqyryp hx-vals=\'{"a":"б"}\'>Mätın</p>'
        '<div x-data="<script>">Sälem</div><p>Älem</p>'
        "<br/><img alt='Suret'/>Soñy"
    )


def test_html_malformed_input_is_not_lost():
    for html in [
        "<p>Ашық",
        "<script>var a = 'Сәлем';",
        "Ашық < әкімдік",
        '<a title="Ашық>Әкім',
        "<!-- Ашық",
        "</p>Әкім</жоқ>",
    ]:
        out = html_to_latin(html)
        assert len(out) >= len(html) - 2, html
    assert html_to_latin("<p>Ашық") == "<p>Aşyq"
    assert html_to_latin("<script>var a = 'Сәлем';") == "<script>var a = 'Сәлем';"
    assert html_to_latin("Ашық < әкімдік") == "Aşyq < äkımdık"
    assert html_to_latin("<!-- Ашық") == "<!-- Ашық"


def test_html_without_cyrillic_is_returned_as_is():
    html = "<p class='x'>Hello &amp; welcome</p>"
    assert html_to_latin(html) is html
    assert html_to_latin("") == ""


def test_html_text_matches_to_latin():
    text = "Алматы қаласының әкімдігі. ЩУЧИНСК. Юлия."
    assert html_to_latin(f"<p>{text}</p><p>{text}</p>") == f"<p>{to_latin(text)}</p>" * 2


def _page() -> str:
    card = (
        '<article class="rounded-xl border p-4 shadow-sm" id="appeal-{i}" hx-get="/kk/appeals/{i}">'
        '<h2 class="text-base font-semibold"><a href="/kk/appeals/{i}" class="text-sky-700">'
        "№{i} Аулаға балалар алаңын орнату туралы өтініш</a></h2>"
        '<span class="rounded-full bg-emerald-100 px-2 text-xs" title="Мерзімі: 15 жұмыс күні">'
        "Қаралуда</span><p class=\"mt-2 text-sm\">Медеу ауданы, Қазыбек би көшесі 12. "
        "Тұрғындар ескі алаңды жөндеуді сұрайды.</p>"
        '<img src="/s/{i}.png" alt="Сурет"></article>\n'
    )
    parts = ['<html><head><script>var t="Сәлем";</script></head><body>']
    i = 0
    while sum(map(len, parts)) < 100_000:
        parts.append(card.format(i=i))
        i += 1
    return "".join(parts) + "</body></html>"


def test_html_100kb_page_is_fast():
    page = _page()
    assert len(page) >= 100_000
    html_to_latin(page)  # warm up
    best = min(_timed(html_to_latin, page) for _ in range(5))
    # Typically 3-7 ms; the bound is loose so slow CI machines do not flake.
    assert best < 0.05, f"{best * 1000:.1f} ms"
    out = html_to_latin(page)
    assert 'title="Merzımı: 15 jūmys künı"' in out
    assert 'var t="Сәлем"' in out


def _timed(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start
