"""Kazakh Cyrillic -> Latin rendering (the 2021 Kazakh Latin alphabet).

Why this exists
---------------
Kazakh, the state language, is moving from Cyrillic to a 31-letter Latin
alphabet in stages between 2023 and 2031 (presidential decree of 2017; the
target was moved to 2031 in 2021). During the transition Ashyq offers both
scripts: a reader who chooses Latin sees the *interface and the content*
(akimat publications, answers to appeals, budget pages...) rendered in Latin.
Content is stored once, in Cyrillic, and rendered on the way out, so the
rendering must be cheap: :func:`html_to_latin` works on a finished HTML page
with a single compiled regular-expression tokenizer, not a DOM parser.

The alphabet and the mapping
----------------------------
The 2021 alphabet (presented January 2021):

    Aa Ää Bb Dd Ee Ff Gg Ğğ Hh Iı İi Jj Kk Ll Mm Nn Ññ Oo Öö Pp Qq Rr Ss
    Şş Tt Uu Ūū Üü Vv Yy Zz

Mapping used here (lower case; capitals follow the same table)::

    а a    ә ä    б b    в v    г g    ғ ğ    д d    е e    ё io   ж j
    з z    и i    й i    к k    қ q    л l    м m    н n    ң ñ    о o
    ө ö    п p    р r    с s    т t    у u    ұ ū    ү ü    ф f    х h
    һ h    ц ts   ч ch   ш ş    щ şş   ъ -    ы y    і ı    ь -    э e
    ю iu   я ia

Note the two Latin "i" letters, which must not be confused:

* Cyrillic ``і`` -> dotless ``ı``, capital ``I``;
* Cyrillic ``и`` and ``й`` -> dotted ``i``, capital ``İ`` (U+0130).

So "Ірі" -> "Irı" but "Ит" -> "İt", and multi-letter outputs starting with
the dotted i are capitalised with ``İ``: "Юлия" -> "İuliia", "ЯНВАРЬ" ->
"İANVAR". (Python's ``str.upper``/``title`` would produce a plain ``I`` here,
which in this alphabet is the capital of ``ı``; that is why the tables below
spell every capital out instead of calling ``str.upper``.)

Letters not in the alphabet (ё ц ч щ ъ ь э ю я) appear mostly in Russian
loanwords and in Russian text, which is rendered with the same table.

Uncertainty (documented on purpose): the 2021 version was presented by the
government working group and the Baitursynov Institute of Linguistics, but
its final orthographic rules were still being drafted when this was written.
The letters themselves (including Iı/İi, Ūū, Ññ and the absence of W, C and
X) are stable across sources; the renderings of the non-Kazakh letters
(ц->ts, ч->ch, щ->şş, ё->io, ю->iu, я->ia, dropping ъ/ь) follow the
transliteration proposed with the 2021 alphabet, and some sources differ
(e.g. ч->ç from the 2019 draft, or щ->ş). Note that ts/ch use ``c``,
which is not one of the 31 letters: it only ever appears in these two
digraphs, i.e. in Russian words and names. ``й`` and ``и`` both becoming
``i`` loses information, so the Latin text cannot be converted back
unambiguously. If the rules change, edit :data:`LOWER` only; the capitals
and the HTML handling follow automatically.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LOWER", "VISIBLE_ATTRIBUTES", "to_latin", "html_to_latin"]

#: Lower-case Cyrillic -> Latin. ``""`` drops the letter.
LOWER: Final[dict[str, str]] = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d",
    "е": "e", "ё": "io", "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k",
    "қ": "q", "л": "l", "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū", "ү": "ü",
    "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şş",
    "ъ": "", "ы": "y", "і": "ı", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip

# Capital of each Latin letter of the alphabet. Explicit because of ı/I and i/İ.
_LATIN_UPPER: Final[dict[str, str]] = {"i": "İ", "ı": "I"}


def _latin_upper(s: str) -> str:
    return "".join(_LATIN_UPPER.get(ch) or ch.upper() for ch in s)


def _cyr_upper(ch: str) -> str:
    up = ch.upper()
    if len(up) != 1:  # pragma: no cover - every letter of LOWER has a 1-char capital
        raise ValueError(ch)
    return up


#: Capital Cyrillic -> (title-case rendering, all-caps rendering).
_UPPER: Final[dict[str, tuple[str, str]]] = {
    _cyr_upper(c): (_latin_upper(v[:1]) + v[1:], _latin_upper(v)) for c, v in LOWER.items()
}

# str.translate table: every lower-case letter, and every capital with a
# single-letter (or empty) rendering. Capitals with a multi-letter rendering
# need context and are handled by _MULTI_RE first.
_TABLE: Final[dict[int, str]] = {ord(c): v for c, v in LOWER.items()}
_TABLE.update({ord(c): title for c, (title, caps) in _UPPER.items() if title == caps})
_MULTI_CAPITALS: Final[str] = "".join(c for c, (title, caps) in _UPPER.items() if title != caps)
_MULTI_RE: Final[re.Pattern[str]] = re.compile(f"[{_MULTI_CAPITALS}]")
_CYR_RE: Final[re.Pattern[str]] = re.compile(f"[{''.join(LOWER)}{''.join(_UPPER)}]")


def _multi_capital(m: re.Match[str]) -> str:
    """Render Щ/Ц/Ч/Ё/Ю/Я as 'Şş' in a capitalised word, 'ŞŞ' in an all-caps one.

    The letter after decides; at the end of a word the letter before does
    ("ЩЮ" -> "ŞŞİU", "ЮЛИЯ" -> "İULİİA"); a lone capital is title case
    ("Я" -> "İa").
    """
    s, i = m.string, m.start()
    title, caps = _UPPER[m.group()]
    nxt = s[i + 1] if i + 1 < len(s) else ""
    if nxt.isupper():
        return caps
    if nxt.islower():
        return title
    prev = s[i - 1] if i else ""
    return caps if prev.isupper() else title


# (Cyrillic letter, Latin) pairs for the str.replace chain used on long
# strings: CPython's str.translate with a dict costs ~40-70 ns per character
# of input (markup included), while a chain of str.replace calls that skips
# absent letters runs at memchr speed -- about 5x faster on a 100 KB page.
_PAIRS: Final[tuple[tuple[str, str], ...]] = tuple((chr(k), v) for k, v in _TABLE.items())
_SHORT: Final[int] = 200


def _translate(text: str) -> str:
    """Transliterate ``text`` that is known to contain Cyrillic."""
    if _MULTI_RE.search(text) is not None:
        text = _MULTI_RE.sub(_multi_capital, text)
    if len(text) < _SHORT:
        return text.translate(_TABLE)
    for cyr, lat in _PAIRS:
        if cyr in text:
            text = text.replace(cyr, lat)
    return text


def to_latin(text: str) -> str:
    """Render Kazakh (or Russian) Cyrillic in the 2021 Kazakh Latin alphabet.

    Everything that is not Cyrillic -- Latin, digits, punctuation, HTML
    entities, markup -- is returned unchanged.

    >>> to_latin("Алматы қаласының әкімдігі")
    'Almaty qalasynyñ äkımdıgı'
    >>> to_latin("Щучинск, ЩУЧИНСК")
    'Şşuchinsk, ŞŞUCHİNSK'
    """
    if not text or _CYR_RE.search(text) is None:
        return text
    return _translate(text)


# --------------------------------------------------------------------- HTML

#: Attributes whose values are shown to (or read out for) people.
#: ``content`` is added for ``<meta>`` only (see :func:`_meta_content_visible`).
#: ``value`` is deliberately absent: form fields keep the user's own text, and
#: the value of a submit button is also what the server receives.
VISIBLE_ATTRIBUTES: Final[frozenset[str]] = frozenset(
    {
        "title",
        "alt",
        "placeholder",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-placeholder",
        "label",  # <optgroup label>, <option label>, <track label>: shown in the UI
    }
)

# How it works: one compiled regex finds the *protected* regions -- the
# places where Cyrillic must not be blindly transliterated -- and everything
# between them is text, transliterated in bulk. Protected regions are
# comments, CDATA, declarations, <script>/<style>/<textarea> elements, and
# only those tags that contain Cyrillic (or a "<" inside a quoted value, so a
# "<script" inside an attribute cannot be mistaken for a real one). Tags
# without Cyrillic are left in the text run: transliteration cannot change
# them. This keeps the Python-level work proportional to the number of tags
# that actually need attention, not to the size of the page.
#
# Tag bodies are matched as runs of quoted strings or non-quote characters,
# so a ">" inside an attribute value does not end the tag; the alternatives
# are disjoint, so matching is linear (no catastrophic backtracking).
_CYR_CLASS = _CYR_RE.pattern[1:-1]
_TAG_BODY = r"""(?:[^'">]|"[^"]*"|'[^']*')*"""
_NEEDS_CARE = (
    r"""(?=(?:[^'">]|"[^"]*"|'[^']*')*?"""
    rf"""(?:[{_CYR_CLASS}]|"[^"]*[<{_CYR_CLASS}]|'[^']*[<{_CYR_CLASS}]))"""
)
_PROTECTED_RE: Final[re.Pattern[str]] = re.compile(
    # Every alternative starts with "<", factored out so the regex engine can
    # skip ahead to the next "<" instead of trying each alternative at every
    # character (3-4x faster on a typical page).
    r"<(?:"
    r"(?P<comment>!--.*?(?:-->|\Z))"
    r"|(?P<cdata>!\[CDATA\[.*?(?:\]\]>|\Z))"
    r"|(?P<decl>[!?][^>]*>?)"
    # Raw text elements: the opening tag (its attributes are rendered, e.g.
    # <textarea placeholder>), then the content verbatim up to the end tag.
    r"|(?P<rawopen>(?P<rawname>(?i:script|style|textarea))(?=[\s/>])" + _TAG_BODY + r">)"
    r"(?P<raw>.*?)(?P<rawclose></(?i:(?P=rawname))\s*>|\Z)"
    rf"|(?P<endtag>/(?=[^>]*[{_CYR_CLASS}])[^>]*>?)"
    r"|(?P<tag>[a-zA-Z]" + _NEEDS_CARE + r"[^\s/>]*" + _TAG_BODY + r">)"
    r")",
    re.DOTALL,
)

# Attributes inside a start tag (after the tag name). Quoted values are
# consumed whole, so text inside one value is never taken for an attribute.
_ATTR_RE: Final[re.Pattern[str]] = re.compile(
    r"""(?P<name>[^\s"'>/=]+)(?:(?P<eq>\s*=\s*)(?P<value>"[^"]*"|'[^']*'|[^\s"'>]+))?"""
)
_TAG_NAME_RE: Final[re.Pattern[str]] = re.compile(r"<([a-zA-Z][^\s/>]*)")

# <meta> whose content is a URL, a locale, a type... rather than prose.
_META_NOT_PROSE_RE: Final[re.Pattern[str]] = re.compile(
    r"url|image|video|audio|locale|type|robots|viewport|color|verification",
    re.IGNORECASE,
)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        return value[1:-1]
    return value


def _meta_content_visible(attrs: list[re.Match[str]]) -> bool:
    """A ``<meta content>`` is prose (description, og:title...) unless it is
    an ``http-equiv`` or names a URL/image/locale/... property."""
    for a in attrs:
        name = a.group("name").lower()
        if name == "http-equiv":
            return False
        if name in ("name", "property", "itemprop") and a.group("value"):
            if _META_NOT_PROSE_RE.search(_unquote(a.group("value"))):
                return False
    return True


def _render_tag(tag: str) -> str:
    """Render the visible attribute values of one start tag."""
    if _CYR_RE.search(tag) is None:
        return tag
    name_m = _TAG_NAME_RE.match(tag)
    if name_m is None:  # pragma: no cover - the tokenizer guarantees a name
        return tag
    attrs = list(_ATTR_RE.finditer(tag, name_m.end(), len(tag) - 1))
    wanted = VISIBLE_ATTRIBUTES
    if name_m.group(1).lower() == "meta" and _meta_content_visible(attrs):
        wanted = VISIBLE_ATTRIBUTES | {"content"}
    out: list[str] = []
    pos = 0
    for a in attrs:
        value = a.group("value")
        if value is None or a.group("name").lower() not in wanted:
            continue
        new = to_latin(value)
        if new != value:
            start, end = a.span("value")
            out.append(tag[pos:start])
            out.append(new)
            pos = end
    if not out:
        return tag
    out.append(tag[pos:])
    return "".join(out)


def _render_protected(m: re.Match[str]) -> str:
    if m.group("tag") is not None:
        return _render_tag(m.group())
    rawopen = m.group("rawopen")
    if rawopen is not None:
        return _render_tag("<" + rawopen) + m.group("raw") + m.group("rawclose")
    return m.group()  # comment, CDATA, declaration, end tag: verbatim


_SEP: Final[str] = "\x00"


def html_to_latin(html: str) -> str:
    """Render the human-visible text of an HTML document in Latin.

    Rendered: text nodes, and the values of :data:`VISIBLE_ATTRIBUTES`
    (``title``, ``alt``, ``placeholder``, ``aria-label``...) plus ``content``
    of prose ``<meta>`` tags (description, og:title...).

    Left untouched: tag and attribute names, every other attribute (``href``,
    ``src``, ``action``, ``id``, ``class``, ``value``, ``data-*``...), the
    content of ``<script>``, ``<style>`` and ``<textarea>``, comments,
    CDATA, the doctype, and HTML entities (entities are ASCII, so
    ``&laquo;`` or ``&#1072;`` pass through as written -- a Cyrillic letter
    written as a numeric entity therefore stays Cyrillic).

    This is a tokenizer, not a parser: it assumes reasonably well-formed
    HTML such as our own templates produce. Malformed input is never
    dropped; at worst a fragment is treated as text.
    """
    if not html or _CYR_RE.search(html) is None:
        return html
    texts: list[str] = []
    protected: list[str] = []
    pos = 0
    for m in _PROTECTED_RE.finditer(html):
        texts.append(html[pos : m.start()])
        protected.append(_render_protected(m))
        pos = m.end()
    texts.append(html[pos:])
    if not protected:
        return _translate(html)
    # Transliterate all text runs in one pass: join them with a separator
    # that cannot occur in them (NUL, which HTML forbids anyway), then split.
    if _SEP in html:
        texts = [to_latin(t) for t in texts]
    else:
        joined = _SEP.join(texts)
        texts = (_translate(joined) if _CYR_RE.search(joined) else joined).split(_SEP)
    out = [texts[0]]
    for p, t in zip(protected, texts[1:]):
        out.append(p)
        out.append(t)
    return "".join(out)
