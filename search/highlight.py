"""Highlighted titles and snippets, computed here for both backends alike.

A word of the original text is marked when it matches a query term the way the engines match
(see :class:`Matcher`): same folded key, same light stem, prefix of the stem (the word being
typed, Kazakh suffixes), within the typo budget, or the same Russian Snowball stem. The result
is safe HTML: every character of the text is escaped and only ``<mark>…</mark>`` is added.
"""

from __future__ import annotations

import re
from html import escape
from typing import Sequence

from markupsafe import Markup

from search.text import WORD_RE, QueryTerm, fold_word, ru_stem, stem, within

__all__ = ["Matcher", "highlight", "snippet", "SNIPPET_CHARS"]

SNIPPET_CHARS = 200
_SCAN_CHARS = 20_000  # where to look for matches in a long body
_ELLIPSIS = "…"


_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")


class Matcher:
    """Decides whether a word of a document matches one of the query terms (memoised).

    The rules mirror the engines: same folded key or light stem; starts with the stem (the word
    being typed, or a stem of 4+ letters); within the typo budget of the word or of the stem
    (the word being typed: its beginning, with typos); same Russian Snowball stem."""

    __slots__ = ("terms", "_cache", "_exact", "_prefixes", "_fuzzy")

    def __init__(self, terms: Sequence[QueryTerm]):
        self.terms = tuple(terms)
        self._cache: dict[str, int] = {}
        self._exact: dict[str, int] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._fuzzy = []
        for i, t in enumerate(self.terms):
            bit = 1 << i
            for key in (t.word, t.stem):
                self._exact[key] = self._exact.get(key, 0) | bit
            if t.prefix:
                self._prefixes.append((t.pstem, bit))
            self._fuzzy.append((bit, t.word, t.budget, t.stem, t.stem_budget, t.last, t.ru))

    def which(self, word: str) -> int:
        """Bit mask of the query terms this word matches (0: none)."""
        mask = self._cache.get(word)
        if mask is not None:
            return mask
        f = fold_word(word)
        if not f:
            self._cache[word] = 0
            return 0
        s = stem(f)
        exact = self._exact
        mask = exact.get(f, 0) | exact.get(s, 0)
        for prefix, bit in self._prefixes:
            if not mask & bit and f.startswith(prefix):
                mask |= bit
        lf, ls = len(f), len(s)
        for bit, tw, budget, ts, sbudget, last, ru in self._fuzzy:
            if mask & bit:
                continue
            if budget and abs(lf - len(tw)) <= budget and within(f, tw, budget):
                mask |= bit
            elif sbudget and ((abs(ls - len(ts)) <= sbudget and within(s, ts, sbudget))
                              or (abs(lf - len(ts)) <= sbudget and within(f, ts, sbudget))
                              or (last and lf > len(ts) and within(f[: len(ts)], ts, sbudget))):
                mask |= bit
            elif ru and _CYRILLIC_RE.search(word) and ru_stem(word) == ru:
                mask |= bit
        self._cache[word] = mask
        return mask

    def __call__(self, word: str) -> bool:
        return bool(self.which(word))


def _render(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(escape(text[pos:start], quote=True))
        out.append("<mark>")
        out.append(escape(text[start:end], quote=True))
        out.append("</mark>")
        pos = end
    out.append(escape(text[pos:], quote=True))
    return "".join(out)


def _match_spans(text: str, matcher: Matcher, start: int = 0, end: int | None = None
                 ) -> list[tuple[int, int, int]]:
    """(start, end, term mask) of every matching word in text[start:end]."""
    if not matcher.terms:
        return []
    out = []
    for m in WORD_RE.finditer(text, start, len(text) if end is None else end):
        mask = matcher.which(m.group())
        if mask:
            out.append((m.start(), m.end(), mask))
    return out


def highlight(text: str, matcher: Matcher) -> Markup:
    """The whole text, escaped, with ``<mark>`` around matching words."""
    if not text:
        return Markup("")
    spans = [(a, b) for a, b, _ in _match_spans(text, matcher)]
    return Markup(_render(text, spans))


def _word_start(text: str, pos: int, floor: int) -> int:
    """Move pos back to the start of the word it is in (not before floor)."""
    while pos > floor and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _word_end(text: str, pos: int) -> int:
    """Move pos back so that text[:pos] does not end in the middle of a word."""
    if pos >= len(text):
        return len(text)
    cut = pos
    while cut > 0 and not text[cut].isspace():
        cut -= 1
    return cut if cut > 0 else pos


def snippet(text: str, matcher: Matcher, max_chars: int = SNIPPET_CHARS, *,
            require_match: bool = False) -> Markup | None:
    """About ``max_chars`` characters of the text around the best cluster of matches
    (the window holding the most distinct query terms, then the most matches), escaped,
    matches in ``<mark>``, "…" where text was cut. With ``require_match``, None when no word
    matches (the caller then falls back to another text)."""
    if not text:
        return None if require_match else Markup("")
    text = " ".join(text.split()) if len(text) <= _SCAN_CHARS * 2 else text
    matches = _match_spans(text, matcher, 0, min(len(text), _SCAN_CHARS))
    if require_match and not matches:
        return None
    if len(text) <= max_chars:
        return Markup(_render(text, [(a, b) for a, b, _ in matches]))
    start = 0
    if matches:
        lead = max_chars // 5  # some context before the first match of the window
        best = (-1, -1)
        j = 0
        for i, (a, _, _) in enumerate(matches):
            limit = a - lead + max_chars
            mask, count = 0, 0
            for k in range(i, len(matches)):
                if matches[k][1] > limit:
                    break
                mask |= matches[k][2]
                count += 1
            score = (bin(mask).count("1"), count)
            if score > best:
                best, j = score, i
        start = max(0, matches[j][0] - lead)
        start = _word_start(text, start, 0) if start else 0
    end = min(len(text), start + max_chars)
    if end < len(text):
        end = _word_end(text, end)
        if end <= start:
            end = min(len(text), start + max_chars)
    if end == len(text) and start > 0:  # near the end: use the whole width
        start = _word_start(text, max(0, end - max_chars), 0)
    spans = [(a - start, b - start) for a, b, _ in matches if a >= start and b <= end]
    if end > _SCAN_CHARS:
        spans = [(a - start, b - start) for a, b, _ in _match_spans(text, matcher, start, end)]
    body = _render(text[start:end], spans)
    return Markup((_ELLIPSIS if start > 0 else "") + body + (_ELLIPSIS if end < len(text) else ""))
