"""One Jinja environment over templates/, with gettext that follows the request's language."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from civic.i18n import runtime as i18n
from civic.web.markdown import render_markdown

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
ALMATY = ZoneInfo("Asia/Almaty")


# Jinja's new-style gettext does the %-formatting itself (escaping the values), so these
# only translate.
def _gettext(message: str) -> str:
    return i18n.translator(i18n.current_language()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translator(i18n.current_language()).ngettext(singular, plural, n)


def format_day(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(ALMATY), style, locale=i18n.current_language())
    return format_date(value, style, locale=i18n.current_language())


def format_number(value) -> str:
    return "" if value is None else format_decimal(value, locale=i18n.current_language())


def own_script(value: str) -> Markup:
    """Text that keeps its own letters on Kazakh Latin pages: the Latin rendering leaves HTML
    entities alone, so a name such as «Русский» or «Қазақша» in the language switch is written
    as numeric entities (the browser shows the same letters)."""
    return Markup("".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in escape(str(value))))


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["day"] = format_day
    env.filters["number"] = format_number
    env.filters["markdown"] = render_markdown
    env.filters["own_script"] = own_script
    env.globals["localized"] = i18n.localized
    env.globals["current_language"] = i18n.current_language
    env.globals["latin_script"] = i18n.latin_script
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    return env
