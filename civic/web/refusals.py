"""The one exception handler for :mod:`civic.rules`: a rule's refusal as JSON, an htmx fragment or a page.

A service raises ``RuleError`` (400), ``Denied`` (403), ``NotFound`` (404) or ``TooMany`` (429)
with an English msgid; the app registers :func:`rule_error_handler` once, so no routes file carries
its own refusal helpers. A route that re-renders a form with the message beside a field still
catches ``RuleError`` itself.

- ``/api/…``: ``{"status_code", "detail", "field"}`` (``detail`` in the reader's language, plus
  any ``extra`` the refusal carries, e.g. the number of an appeal already filed);
- an htmx request (not boosted): the message in one ``role="alert"`` element that htmx can swap,
  with the refusal's status code;
- otherwise the page ``core/error.html``: "Access denied" for 403, "This could not be done" for
  other refusals, and the usual "Page not found" page for 404.
"""

from __future__ import annotations

from litestar import Request, Response
from markupsafe import escape

from civic.i18n.runtime import N_, gettext as _
from civic.rules import NotFound, RuleError
from civic.web.pages import page

NOT_FOUND_TITLE = N_("Page not found")
NOT_FOUND_MESSAGE = N_("There is no page at this address. It may have moved.")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def refusal_fragment(message: str, status_code: int) -> Response:
    """The refusal as one element htmx can swap in place of what it asked for."""
    return Response(f'<div class="flash flash-error" role="alert" id="refusal">{escape(message)}</div>',
                    status_code=status_code, media_type="text/html")


def rule_error_handler(request: Request, exc: RuleError) -> Response:
    status_code = exc.status_code
    message = exc.translated()
    if is_api(request):
        return Response({"status_code": status_code, "detail": message, "field": exc.field,
                         **(getattr(exc, "extra", None) or {})}, status_code=status_code)
    if is_htmx(request):
        return refusal_fragment(message, status_code)
    if isinstance(exc, NotFound):
        title, message = _(NOT_FOUND_TITLE), _(NOT_FOUND_MESSAGE)
    elif status_code == 403:
        title = _("Access denied")
    else:
        title = _("This could not be done")
    return page(request, "core/error.html", {"title": title, "message": message, "status_code": status_code},
                status_code=status_code)
