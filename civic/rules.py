"""One family of refusals for every module: a rule said no.

A service raises :class:`RuleError` (bad input, 400), :class:`Denied` (403) or :class:`NotFound`
(404) with an English msgid; one exception handler in the app renders it as a page, an htmx
fragment or JSON in the reader's language, so no routes file carries its own refusal helpers.
"""

from __future__ import annotations


class RuleError(Exception):
    """A rule refused the action. ``msgid`` is English and translatable; ``params`` fill its
    %(name)s placeholders; ``field`` names the form field it concerns (``__all__``: the form)."""

    status_code = 400

    def __init__(self, msgid: str, field: str = "__all__", **params) -> None:
        self.msgid = msgid
        self.field = field
        self.params = params
        super().__init__(msgid % params if params else msgid)

    def translated(self, language: str | None = None) -> str:
        from civic.i18n.runtime import current_language, translator

        text = translator(language or current_language()).gettext(self.msgid)
        return text % self.params if self.params else text

    @property
    def form_field(self) -> str | None:
        return None if self.field == "__all__" else self.field


class Denied(RuleError):
    """The person may not do this (403)."""

    status_code = 403


class NotFound(RuleError):
    """No such record, or not one this person may see (404)."""

    status_code = 404


class TooMany(RuleError):
    """A rate or posting limit (429)."""

    status_code = 429
