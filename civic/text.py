"""Small text rules shared by every module: which language a text is in, its plain summary."""

from __future__ import annotations

import re

KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LINK_RE = re.compile(r"(https?://|www\.)", re.IGNORECASE)


def detect_language(text: str) -> str:
    """Kazakh when the text has letters only Kazakh uses, Russian for other Cyrillic, else English."""
    if KAZAKH_LETTERS.search(text or ""):
        return "kk"
    if CYRILLIC.search(text or ""):
        return "ru"
    return "en"


def plain_summary(markdown_text: str, length: int = 280) -> str:
    """The opening of a markdown text as plain text, for cards and search results."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown_text or "")
    text = re.sub(r"[*_`>#~|]+", "", text)
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def count_links(text: str) -> int:
    return len(LINK_RE.findall(text or ""))
