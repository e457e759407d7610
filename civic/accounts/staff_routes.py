"""Staff pages of the core: confirming residents in person, and the audit log."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.exceptions import PermissionDeniedException

from civic.accounts import services
from civic.accounts.guards import current_user, signed_in
from civic.i18n.runtime import gettext as _
from civic.permissions import organisations_where
from civic.rules import RuleError
from civic.web.flash import flash
from civic.web.forms import FormErrors, form_data, integer, text
from civic.web.pages import page, see_other


async def _territories_or_refuse(user: dict) -> list[dict]:
    territories = await services.territories_confirmable_by(user)
    if not territories:
        raise PermissionDeniedException()
    return territories


@get("/staff/residents", guards=[signed_in])
async def residents_form(request: Request) -> Response:
    territories = await _territories_or_refuse(current_user(request))
    return page(request, "accounts/residents.html", {"territories": territories, "errors": {}, "values": {}})


@post("/staff/residents", guards=[signed_in])
async def confirm_resident(request: Request) -> Response:
    user = current_user(request)
    territories = await _territories_or_refuse(user)
    data = await form_data(request)
    values = {"email": text(data, "email", 254), "territory": integer(data, "territory")}
    errors = FormErrors()
    if text(data, "document_seen") != "yes":
        errors.add("document_seen", _("Confirm that you have seen the person's identity document."))
    else:
        try:
            person = await services.confirm_resident_in_person(user, values["email"], values["territory"])
        except RuleError as exc:
            errors.add(exc.field, exc.translated())
    if errors:
        return page(request, "accounts/residents.html", {"territories": territories, "errors": errors.errors,
                                                         "values": values}, status_code=400)
    flash(request, _("%(name)s is now a verified resident.", name=person["display_name"]), "success")
    return see_other("/staff/residents")


@get("/staff/audit", guards=[signed_in])
async def audit_log(request: Request) -> Response:
    user = current_user(request)
    entries = await services.audit_entries(user)
    if not entries and not user["is_admin"] and not await organisations_where(user, ("administrator",)):
        raise PermissionDeniedException()
    return page(request, "accounts/audit.html", {"entries": entries})


def router() -> Router:
    return Router(path="/", route_handlers=[residents_form, confirm_resident, audit_log])
