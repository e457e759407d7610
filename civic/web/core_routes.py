"""Core pages: home, language and script switches, notifications, health."""

from __future__ import annotations

from litestar.params import FromPath, FromQuery
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State

from civic.accounts.guards import current_user, signed_in
from civic.i18n.runtime import LANGUAGES, gettext as _
from civic.web.flash import flash
from civic.web.forms import form_data, safe_next, text
from civic.web.pages import page, see_other

YEAR = 365 * 86400


@get("/", name="home")
async def home(request: Request, state: State) -> Response:
    from civic.engagement.services import openness_summary

    return page(request, "core/home.html", {"summary": await openness_summary(state.modules)})


@get("/healthz", include_in_schema=False)
async def healthz() -> dict:
    from civic.territory.tables import Territory

    await Territory.count()
    return {"status": "ok"}


@get("/language/{code:str}")
async def switch_language(request: Request, code: FromPath[str], next: FromQuery[str | None] = None) -> Response:
    """A plain link, so switching works without JavaScript; `latn` is Kazakh in Latin letters."""
    response = see_other(safe_next(next))
    if code == "latn":
        response.set_cookie("lang", "kk", max_age=YEAR, samesite="lax", httponly=True)
        response.set_cookie("script", "latn", max_age=YEAR, samesite="lax", httponly=True)
    elif code in LANGUAGES:
        response.set_cookie("lang", code, max_age=YEAR, samesite="lax", httponly=True)
        response.set_cookie("script", "cyrl", max_age=YEAR, samesite="lax", httponly=True)
    return response


@get("/notifications", guards=[signed_in])
async def notifications(request: Request, page_number: FromQuery[int] = 1) -> Response:
    from civic.notify import services

    user = current_user(request)
    page_number = max(1, page_number)
    items = await services.list_for(user["id"], limit=30, offset=(page_number - 1) * 30)
    return page(request, "core/notifications.html", {
        "items": items, "page_number": page_number, "preferences": await services.preferences(user["id"]),
        "kinds": services.NOTIFICATION_KINDS,
    })


@post("/notifications/read", guards=[signed_in])
async def mark_read(request: Request) -> Response:
    from civic.notify import services

    await services.mark_read(current_user(request)["id"], None)
    return see_other("/notifications")


@post("/notifications/preferences", guards=[signed_in])
async def save_preferences(request: Request) -> Response:
    from civic.notify import services

    data = await form_data(request)
    user = current_user(request)
    for kind in services.NOTIFICATION_KINDS:
        delivery = text(data, f"delivery_{kind}")
        if delivery:
            try:
                await services.set_preference(user["id"], kind, delivery)
            except ValueError:
                flash(request, _("Choose one of the offered delivery options."), "error")
                return see_other("/notifications")
    flash(request, _("Your choices are saved."), "success")
    return see_other("/notifications")


def router() -> Router:
    return Router(path="/", route_handlers=[home, healthz, switch_language, notifications, mark_read,
                                            save_preferences])
