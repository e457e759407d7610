"""One Jinja environment over templates/, with gettext that follows the request's language.

A page renders many small pieces (a translated word, a date, a count, an attribute of a row)
for every item of a list, so these are kept cheap: the translation callables are called
directly by the template (Jinja's own go through two more calls each), a message without
variables is translated and formatted once per language, a date or number is formatted once
per value and language, and an attribute of a plain dict (every database row) is looked up
as the key it is without raising an AttributeError first. The output is the same.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from types import BuiltinFunctionType, FunctionType

from jinja2 import Environment, FileSystemLoader, Template, pass_eval_context, select_autoescape
from jinja2.runtime import Context
from jinja2.utils import _PassArg, internalcode
from markupsafe import Markup, escape
from markupsafe._speedups import _escape_inner

from civic.i18n import runtime as i18n
from civic.web.markdown import render_markdown

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
ALMATY = ZoneInfo("Asia/Almaty")


# What the templates call as _(), gettext() and ngettext(): Jinja's new-style gettext (the
# translation, as Markup when the template escapes, always %-formatted with the keyword
# arguments, which Markup escapes), without Jinja's two extra layers of Context.call.
_FORMATTED: dict[tuple, Markup] = {}  # (catalogue, msgid[, plural, count]) -> the translation, formatted
_PLAIN_NUMBERS = (int, float)  # values that escaping leaves as they are


def _gettext(message: str) -> str:
    return i18n.translator(i18n.current_language()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translator(i18n.current_language()).ngettext(singular, plural, n)


def _format(text: str, autoescape: bool, variables: dict) -> str:
    if not autoescape:
        return text % variables
    if all(type(v) in _PLAIN_NUMBERS for v in variables.values()):
        return Markup(text % variables)  # numbers need no escaping
    return Markup(text) % variables


@pass_eval_context
def template_gettext(__eval_ctx, __string: str, **variables) -> str:
    if not variables and __eval_ctx.autoescape:
        catalogue = i18n.translator(i18n.current_language())
        key = (catalogue, __string)
        formatted = _FORMATTED.get(key)
        if formatted is None:
            formatted = Markup(catalogue.gettext(__string)) % variables
            if len(_FORMATTED) < 20_000:  # msgids are finite; a text from data is not kept forever
                _FORMATTED[key] = formatted
        return formatted
    return _format(_gettext(__string), __eval_ctx.autoescape, variables)


@pass_eval_context
def template_ngettext(__eval_ctx, __singular: str, __plural: str, __num: int, **variables) -> str:
    if not variables and type(__num) is int and __eval_ctx.autoescape:  # "%(num)s ideas": kept per count
        catalogue = i18n.translator(i18n.current_language())
        key = (catalogue, __singular, __plural, __num)
        formatted = _FORMATTED.get(key)
        if formatted is None:
            formatted = _format(catalogue.ngettext(__singular, __plural, __num), True, {"num": __num})
            if len(_FORMATTED) < 20_000:
                _FORMATTED[key] = formatted
        return formatted
    variables.setdefault("num", __num)
    return _format(_ngettext(__singular, __plural, __num), __eval_ctx.autoescape, variables)


@lru_cache(maxsize=8192)
def _format_day(value: date, style: str, language: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(ALMATY), style, locale=language)
    return format_date(value, style, locale=language)


def format_day(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    return _format_day(value, style, i18n.current_language())


@lru_cache(maxsize=4096)
def _format_number(value, language: str) -> str:
    return format_decimal(value, locale=language)


def format_number(value) -> str:
    return "" if value is None else _format_number(value, i18n.current_language())


def own_script(value: str) -> Markup:
    """Text that keeps its own letters on Kazakh Latin pages: the Latin rendering leaves HTML
    entities alone, so a name such as «Русский» or «Қазақша» in the language switch is written
    as numeric entities (the browser shows the same letters)."""
    return Markup("".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in escape(str(value))))


#: Names a template may read from a dict as attributes of the dict itself (``.items``).
_DICT_ATTRIBUTES = frozenset(dir(dict))


_new_str = str.__new__


def output_escape(value) -> Markup:
    """markupsafe.escape, as the templates call it for every ``{{ value }}``, with the common
    cases first: a str (escaped), an int (nothing to escape), Markup (already safe)."""
    kind = type(value)
    if kind is str:
        return _new_str(Markup, _escape_inner(value))
    if kind is int:
        return _new_str(Markup, str(value))
    if kind is Markup:
        return value
    return escape(value)


class CivicTemplate(Template):
    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["escape"] = output_escape  # the compiled template's global, read at each call
        return super()._from_namespace(environment, namespace, globals)


class CivicContext(Context):
    @internalcode
    def call(__self, __obj, *args, **kwargs):  # noqa: B902 (Jinja's own signature)
        """Jinja's Context.call, shorter for what a template calls most: a function or a
        built-in method (``labels.get``) that takes no context, and a function that takes the
        evaluation context (the gettext above). Everything else goes the general way."""
        kind = type(__obj)
        if kind is BuiltinFunctionType:
            pass_arg = None
        elif kind is FunctionType:
            pass_arg = __obj.__dict__.get("jinja_pass_arg")
            if pass_arg is not None and pass_arg is not _PassArg.eval_context:
                return super().call(__obj, *args, **kwargs)
        else:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        if pass_arg is not None:
            args = (__self.eval_ctx, *args)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


class CivicEnvironment(Environment):
    context_class = CivicContext
    template_class = CivicTemplate
    def getattr(self, obj, attribute):
        """``row.title`` on a dict: Jinja tries the attribute first and falls back to the key;
        for a plain dict and a name that is no attribute of dict, that is the key alone."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def build_environment(auto_reload: bool = True) -> Environment:
    """``auto_reload``: look at each template file's time whenever it is used, so an edited
    template shows without a restart (for development; a served app passes its debug flag)."""
    env = CivicEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        auto_reload=auto_reload,
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    env.filters["day"] = format_day
    env.filters["number"] = format_number
    env.filters["markdown"] = render_markdown
    env.filters["own_script"] = own_script
    env.globals["localized"] = i18n.localized
    env.globals["current_language"] = i18n.current_language
    env.globals["latin_script"] = i18n.latin_script
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    return env
