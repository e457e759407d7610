"""Per-request language: catalogues read from locale/*.po at start, chosen through a contextvar.

The .po files are the only source; they are compiled in memory, so a fresh clone needs no
build step to show Kazakh and Russian.
"""

from __future__ import annotations

import contextvars
import io
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("kk", "ru", "en")
DEFAULT_LANGUAGE = "kk"
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("civic_language", default=DEFAULT_LANGUAGE)
_latin: contextvars.ContextVar[bool] = contextvars.ContextVar("civic_latin", default=False)


@lru_cache(maxsize=None)
def translator(language: str) -> NullTranslations:
    po_file = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language not in LANGUAGES or not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def babel_locale(language: str) -> Locale:
    return Locale.parse(language)


def set_language(language: str, latin: bool = False) -> None:
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    _latin.set(latin and language == "kk")


def current_language() -> str:
    return _language.get()


def latin_script() -> bool:
    return _latin.get()


def gettext(message: str, **params) -> str:
    text = translator(_language.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translator(_language.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Marks a msgid for extraction (scripts/translations.py) where it is written; it is
    translated later, where it is shown, in the reader's language."""
    return message


def negotiate(accept_language: str | None) -> str | None:
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return None


def localized(record: dict, field: str, language: str | None = None) -> str:
    """Pick name_kk / name_ru / name_en for the reader, falling back through the others."""
    language = language or _language.get()
    for code in (language, "kk", "ru", "en"):
        value = record.get(f"{field}_{code}")
        if value:
            return value
    return ""
