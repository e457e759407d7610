"""Text normalisation shared by indexing and querying, identical for both backends.

Every word of a document and of a query goes through :func:`fold_word`, which gives one
canonical, script-independent key (lower-case ASCII letters and digits), so that

* Kazakh letters typed as their Russian look-alikes still match
  (қ→к, ң→н, ү→у, ұ→у, ө→о, ә→а, і→и, һ→х, ғ→г; also ё→е),
* Kazakh Latin (2021 alphabet, the 2017/2019 drafts, informal ASCII) finds Cyrillic text and
  the other way round: Cyrillic is rendered with :data:`civic.i18n.latin.LOWER` after the
  look-alike fold, then Latin diacritics and spelling variants are folded.

The mapping, in order (see :func:`fold_word`)::

    lower case; drop apostrophes inside a word (2017 draft "a'kimdik")
    Cyrillic:  look-alike fold, then civic.i18n.latin.LOWER (ш→ş, ц→ts, я→ia, ы→y, і→ı ...)
    Latin:     ä→a ö→o ü→u ū→u ı→i ñ→n ğ→g q→k y→i ş→sh ç→ch x→ks, other accents dropped (NFKD)
    spellings: zh→j  kh→h  gh→g  c→k before a consonant (script, concert), other c (not
               in "ch")→ts (ulica = улица)

Examples (all give the same key): саябақ, саябак, saiabaq, sayabak → ``saiabak``;
көше, коше, köşe, koshe → ``koshe``; әкімдік, акимдик, äkımdık → ``akimdik``;
улица, ulitsa, ulica → ``ulitsa``. ``y→i`` merges ы/и/і and the informal "ya/yu/yo" spellings
with the 2021 "ia/iu/io"; the price (мы = ми) is harmless for search.

The original text is kept as well: snippets are cut from it, and the embedded backend also
indexes it with tantivy's Russian Snowball stemmer (:func:`ru_stem`).

:func:`stem` is a light, language-agnostic suffix stripper working on folded words (Kazakh
plural, possessive and case endings; Russian inflections), so "саябақтар", "саябақтарда",
"saiabaqtardy" all give ``saiabak`` and "дороги", "дорогами", "doroga" give ``dorog``. No
search engine has Kazakh stemming; this plus prefix matching covers the suffixes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from civic.i18n.latin import LOWER

__all__ = [
    "WORD_RE", "QueryTerm", "fold", "fold_word", "words", "terms", "folded_words", "stem",
    "differing_stems", "loose_stem", "ru_stem",
    "typo_budget", "parse_query", "edit_distance", "STOPWORDS", "MAX_QUERY_WORDS",
]

#: A word of the original text: letters/digits, with apostrophes allowed inside.
WORD_RE: Final[re.Pattern[str]] = re.compile(r"\w+(?:['’ʼ`]\w+)*")

#: Queries keep their first ten words (Meilisearch ignores words after the tenth as well).
MAX_QUERY_WORDS: Final[int] = 10

#: Kazakh letters -> the Russian look-alike people type on a Russian keyboard (plus ё -> е).
LOOKALIKES: Final[dict[str, str]] = {
    "қ": "к", "ң": "н", "ү": "у", "ұ": "у", "ө": "о", "ә": "а", "і": "и", "һ": "х", "ғ": "г",
    "ё": "е",
}  # fmt: skip

#: Latin letters with diacritics (2021 alphabet and drafts) and spelling variants -> ASCII key.
LATIN_FOLD: Final[dict[str, str]] = {
    "ä": "a", "ö": "o", "ü": "u", "ū": "u", "ı": "i", "ñ": "n", "ğ": "g", "ş": "sh",
    "ç": "ch", "q": "k", "y": "i", "x": "ks", "á": "a", "ó": "o", "ú": "u", "ý": "i",
    "'": "", "’": "", "ʼ": "", "`": "",
}  # fmt: skip

_SPELLING_RE: Final[re.Pattern[str]] = re.compile(r"zh|kh|gh|c(?!h)")
_SPELLING: Final[dict[str, str]] = {"zh": "j", "kh": "h", "gh": "g"}


def _spelling(m: re.Match[str]) -> str:
    s = m.group()
    if s != "c":
        return _SPELLING[s]
    # "c" before a consonant sounds k (script, concert); elsewhere it stands for ц (ulica)
    return "k" if m.end() < len(m.string) and m.string[m.end()] in "bcdfgjklmnpqrstvwxz" else "ts"


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cyr, latin in LOWER.items():
        source = LOOKALIKES.get(cyr, cyr)
        out = LOWER[source]
        table[ord(cyr)] = "".join(LATIN_FOLD.get(ch, ch) for ch in out)
    for ch, out in LATIN_FOLD.items():
        table[ord(ch)] = out
    return table


_TABLE: Final[dict[int, str]] = _build_table()


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """The canonical key of one word (see the module docstring for the mapping)."""
    w = word.lower().translate(_TABLE)
    if not w.isascii():
        w = "".join(ch for ch in unicodedata.normalize("NFKD", w) if not unicodedata.combining(ch))
        w = w.translate(_TABLE)
    if "h" in w or "c" in w:
        w = _SPELLING_RE.sub(_spelling, w)
    return w


def words(text: str) -> list[str]:
    """The words of the original text, in order."""
    return WORD_RE.findall(text) if text else []


def terms(text: str) -> list[str]:
    """The folded keys of the words of ``text`` (what the folded index fields hold)."""
    out = []
    for w in words(text):
        f = fold_word(w)
        if f:
            out.append(f)
    return out


def fold(text: str) -> str:
    """The folded text: the keys of its words joined by single spaces."""
    return " ".join(terms(text))


folded_words = terms


# ------------------------------------------------------------------ light stemmer

MIN_STEM: Final[int] = 4

# Folded forms: ы/і/и -> i, ә -> a, ө -> o, ұ/ү -> u, қ -> k, ғ -> g, ң -> n, я -> ia, ю -> iu.
# Kazakh plural, possessive, genitive, ablative, instrumental and locative-adjective endings, and
# Russian inflections. The longest matching ending goes first.
_SUFFIXES = """
    lar ler dar der tar ter  miz niz imiz iniz im in
    nin din tin  dan den tan ten nan nen ndan nden  men ben pen menen
    dagi degi tagi tegi ndagi ndegi
    a ia i u iu e o
    om em am iam ami iami ah iah ov ev ei oi ii ie iia iiu iei iem iiam iiami iiah
    aia iaia oe ee ogo ego omu emu ih im oiu eiu uiu iuiu
"""
# Kazakh case endings of consonant + vowel collide with Russian stems ending in a consonant
# before an inflection ("дорог-а" is not "доро-ға"): they are stripped only right after a
# Kazakh plural or possessive ending ("саябақтар-да", "көшесі-не"); elsewhere the bare vowel
# goes, like a Russian ending, and prefix and typo matching bridge the rest ("саябаққ").
_CASE_AFTER_CHAIN = """ga ge ka ke na ne da de ta te ni di ti nda nde"""
_CHAIN_ENDS = tuple("lar ler dar der tar ter si miz niz".split())
# The possessive "-сы/-сі" follows a vowel ("аула-сы", "көше-сі"); after "у"/"о" and consonants
# "-сы" is usually a Russian plural ("автобус-ы", "вопрос-ы"), so only "-a"/"-e" stems lose it.
_SI_AFTER = ("a", "e")

SUFFIXES: Final[tuple[str, ...]] = tuple(sorted(set(_SUFFIXES.split()), key=len, reverse=True))
CASE_SUFFIXES: Final[tuple[str, ...]] = tuple(sorted(_CASE_AFTER_CHAIN.split(), key=len, reverse=True))


def _strip_once(w: str, loose: bool = False) -> str | None:
    if w.endswith("si") and len(w) - 2 >= MIN_STEM and w[-3] in _SI_AFTER:
        return w[:-2]
    for suffix in CASE_SUFFIXES:
        if w.endswith(suffix):
            rest = w[: -len(suffix)]
            if len(rest) >= MIN_STEM and (loose or rest.endswith(_CHAIN_ENDS)):
                return rest
    for suffix in SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= MIN_STEM:
            return w[: -len(suffix)]
    return None


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """Strip up to three inflectional endings from a folded word, keeping at least
    :data:`MIN_STEM` letters. Words with digits are left alone."""
    if len(folded) <= MIN_STEM or not folded.isalpha():
        return folded
    w = folded
    for _ in range(3):
        shorter = _strip_once(w)
        if shorter is None:
            break
        w = shorter
    return w


@lru_cache(maxsize=100_000)
def loose_stem(folded: str) -> str:
    """The stem used for prefix matching of a query word: like :func:`stem`, but the first
    ending removed may also be a Kazakh case ending after a bare stem ("көше-де" -> "көше"),
    which :func:`stem` leaves alone because Russian stems end like that ("дорог-а")."""
    if len(folded) <= MIN_STEM or not folded.isalpha():
        return folded
    first = _strip_once(folded, loose=True)
    return folded if first is None else stem(first)


def differing_stems(folded: list[str]) -> str:
    """The stems that differ from their word (Meilisearch's ``*_k`` fields: a stem equal to
    its word is found in the folded field already)."""
    out = []
    for f in folded:
        s = stem(f)
        if s != f:
            out.append(s)
    return " ".join(out)


# ------------------------------------------------------------------ Russian Snowball

_RU_ANALYZER = None


def _ru_analyzer():
    global _RU_ANALYZER
    if _RU_ANALYZER is None:
        from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

        _RU_ANALYZER = ru_analyzer(Tokenizer, Filter, TextAnalyzerBuilder)
    return _RU_ANALYZER


def ru_analyzer(Tokenizer, Filter, TextAnalyzerBuilder):  # noqa: N803 - tantivy classes
    """tantivy's Russian analyzer: simple tokenizer, lower case, Snowball stemmer."""
    return (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.remove_long(60))
            .filter(Filter.lowercase()).filter(Filter.stemmer("russian")).build())


@lru_cache(maxsize=100_000)
def ru_stem(word: str) -> str:
    """Snowball Russian stem of one original word (lower-cased; non-Cyrillic words unchanged)."""
    out = _ru_analyzer().analyze(word)
    return out[0] if len(out) == 1 else word.lower()


# ------------------------------------------------------------------ queries

STOPWORDS: Final[frozenset[str]] = frozenset(fold_word(w) for w in """
    и в во на не что по для с со к ко от до из за о об а но или же ли бы то это как так уже
    еще ещё все всё мы вы он она они их его ее её у при про над под без также был была были
    будет нужно надо очень
    және мен бен пен да де та те үшін бұл осы сол ол олар біз сіз мен жоқ бар ма ме ба бе па
    пе немесе туралы арқылы керек қажет өте
    the a an and or of to in on for with is are be by at from this that it as not
""".split())  # fmt: skip


def typo_budget(length: int) -> int:
    """Edits allowed on a word of ``length`` letters (as Meilisearch's minWordSizeForTypos
    oneTypo=4, twoTypos=8)."""
    return 0 if length < 4 else 1 if length < 8 else 2


@dataclass(frozen=True, slots=True)
class QueryTerm:
    raw: str  # as typed
    word: str  # folded key
    stem: str  # folded light stem
    ru: str  # Snowball Russian stem of the raw word ("" when Snowball changes nothing)
    last: bool  # the word being typed (prefix match)
    pstem: str = ""  # the stem for prefix matching (loose_stem; stem for the word being typed)

    @property
    def budget(self) -> int:
        return typo_budget(len(self.word))

    @property
    def stem_budget(self) -> int:
        return typo_budget(len(self.stem))

    @property
    def prefix(self) -> bool:
        """Prefix matching on the stem: the word being typed, or a stem of 4+ letters
        (Kazakh suffixes)."""
        return self.last or len(self.pstem) >= MIN_STEM


def parse_query(text: str, max_words: int = MAX_QUERY_WORDS) -> list[QueryTerm]:
    """The query's words as :class:`QueryTerm` s. The last word is a prefix (as you type)
    unless the text ends with a space or punctuation."""
    raw_words = [w for w in words(text or "") if fold_word(w)][:max_words]
    if not raw_words:
        return []
    typing = bool(text) and text[-1:].isalnum() and len(words(text)) <= max_words
    out = []
    for i, raw in enumerate(raw_words):
        f = fold_word(raw)
        last = typing and i == len(raw_words) - 1
        ru = ru_stem(raw)
        s = stem(f)
        out.append(QueryTerm(raw=raw, word=f, stem=s, ru="" if ru == raw.lower() else ru, last=last,
                             pstem=s if last else loose_stem(f)))
    return out


def _common_prefix(a: str, b: str) -> int:
    i = 0
    for x, y in zip(a, b):
        if x != y:
            return i
        i += 1
    return i


def _within1(a: str, b: str) -> bool:
    """Optimal-string-alignment distance <= 1."""
    la, lb = len(a), len(b)
    if la == lb:
        i = _common_prefix(a, b)
        if i == la:
            return True
        return a[i + 1:] == b[i + 1:] or (
            i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:])
    if la + 1 == lb:
        i = _common_prefix(a, b)
        return a[i:] == b[i + 1:]
    if lb + 1 == la:
        i = _common_prefix(a, b)
        return a[i + 1:] == b[i:]
    return False


@lru_cache(maxsize=500_000)
def within(a: str, b: str, k: int) -> bool:
    """Whether the optimal-string-alignment distance (Levenshtein plus adjacent swaps, as
    tantivy's fuzzy queries and Meilisearch count typos) between a and b is at most k."""
    if abs(len(a) - len(b)) > k:
        return False
    if k <= 1:
        return a == b if k == 0 else _within1(a, b)
    i = _common_prefix(a, b)
    a, b = a[i:], b[i:]
    if a == b:
        return True
    j = _common_prefix(a[::-1], b[::-1])
    if j:
        a, b = a[:-j], b[:-j]
    if not a or not b:
        return len(a) + len(b) <= k
    k -= 1
    return (within(a[1:], b[1:], k)  # substitution
            or within(a[1:], b, k)  # a letter too many in a
            or within(a, b[1:], k)  # a letter missing in a
            or (len(a) > 1 and len(b) > 1 and a[0] == b[1] and a[1] == b[0]
                and within(a[2:], b[2:], k)))  # two letters swapped


def edit_distance(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance between a and b, or ``limit + 1`` when it is
    more than ``limit``."""
    for d in range(limit + 1):
        if within(a, b, d):
            return d
    return limit + 1
