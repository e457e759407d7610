"""Sign-up, sign-in, password reset, OIDC, profile, personal data, API tokens: thin handlers."""

from __future__ import annotations

import json
from datetime import timedelta

from litestar.params import FromPath, FromQuery
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.response import Redirect

from civic.accounts import services, tokens
from civic.accounts.guards import current_user, signed_in
from civic.accounts.oidc import OidcError
from civic.accounts.tables import ApiToken
from civic.i18n.runtime import LANGUAGES, gettext as _
from civic.notify.services import queue_mail
from civic.rules import RuleError
from civic.runtime import transaction
from civic.territory.tables import Territory
from civic.web.flash import flash
from civic.web.forms import FormErrors, form_data, integer, safe_next, text
from civic.web.pages import page, see_other

SIGN_IN_LIMIT = (10, timedelta(minutes=15))
REGISTER_LIMIT = (5, timedelta(hours=1))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, user: dict) -> None:
    """A fresh session dict is a fresh encrypted cookie: the session is rotated at sign-in."""
    request.clear_session()
    request.set_session({"uid": user["id"], "epoch": user["session_epoch"]})


@get("/auth/login", name="login")
async def login_form(request: Request, next: FromQuery[str | None] = None) -> Response:
    return page(request, "accounts/login.html", {"next": safe_next(next), "errors": {}, "values": {}})


@post("/auth/login")
async def login(request: Request, state: State) -> Response:
    settings = state.settings
    data = await form_data(request)
    next_path = safe_next(text(data, "next"))
    email = text(data, "email", 254)
    # Only failed attempts count, per address and per account, so a shared office network
    # can still sign in while guessing one person's password is slowed down.
    buckets = (f"login:{client_address(request)}", f"login-account:{services.normalise_email(email)}")
    if any([await services.over_rate_limit(settings, bucket, *SIGN_IN_LIMIT, record=False) for bucket in buckets]):
        errors = {"__all__": _("Too many sign-in attempts. Wait 15 minutes and try again.")}
        return page(request, "accounts/login.html", {"next": next_path, "errors": errors, "values": {"email": email}},
                    status_code=429)
    user = await services.authenticate(settings, email, text(data, "password", 1000))
    if user is None:
        for bucket in buckets:
            await services.record_rate_limit_hit(bucket)
        errors = {"__all__": _("The e-mail or password is not correct.")}
        return page(request, "accounts/login.html", {"next": next_path, "errors": errors, "values": {"email": email}},
                    status_code=400)
    sign_in(request, user)
    response = see_other(next_path)
    response.set_cookie("lang", user["language"], max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@post("/auth/logout")
async def logout(request: Request) -> Redirect:
    request.clear_session()
    flash(request, _("You have signed out."))
    return see_other("/")


@get("/auth/register")
async def register_form(request: Request, next: FromQuery[str | None] = None,
                        email: FromQuery[str | None] = None) -> Response:
    """The form; ``next`` (a local path) is where the confirmation link leads, e.g. back to the
    invitation that brought the person here, whose address fills ``email``."""
    return page(request, "accounts/register.html", {"errors": {}, "values": {"email": (email or "")[:254]},
                                                     "next": safe_next(next, "")})


@post("/auth/register")
async def register(request: Request, state: State) -> Response:
    settings = state.settings
    data = await form_data(request)
    values = {k: text(data, k, 254) for k in ("email", "display_name")}
    next_path = safe_next(text(data, "next", 500), "")
    errors = FormErrors()
    if text(data, "website"):  # honeypot: people never see this field
        return see_other("/auth/register/sent")
    if await services.over_rate_limit(settings, f"register:{client_address(request)}", *REGISTER_LIMIT):
        errors.add("__all__", _("Too many registrations from your network. Try again in an hour."))
        return page(request, "accounts/register.html", {"errors": errors.errors, "values": values, "next": next_path},
                    status_code=429)
    if text(data, "password", 1000) != text(data, "password_repeat", 1000):
        errors.add("password_repeat", _("The two passwords differ."))
    if not errors:
        try:
            await services.register(settings, email=values["email"], display_name=values["display_name"],
                                    password=text(data, "password", 1000), language=request.state.language,
                                    next_path=next_path)
        except RuleError as exc:
            errors.add(exc.field, exc.translated())
    if errors:
        return page(request, "accounts/register.html", {"errors": errors.errors, "values": values, "next": next_path},
                    status_code=400)
    return see_other("/auth/register/sent")


@get("/auth/register/sent")
async def register_sent(request: Request) -> Response:
    return page(request, "accounts/message.html", {
        "title": _("Check your e-mail"),
        "message": _("We have sent a link to confirm your address. Open it to finish registering."),
    })


@get("/auth/confirm/{token:str}")
async def confirm(request: Request, state: State, token: FromPath[str], next: FromQuery[str | None] = None) -> Response:
    user = await services.confirm_email(state.settings, token)
    if user is None:
        return page(request, "accounts/message.html", {
            "title": _("This link does not work"),
            "message": _("The confirmation link is wrong or has expired. Sign in and ask for a new one."),
        }, status_code=400)
    sign_in(request, user)
    flash(request, _("Your e-mail address is confirmed. Welcome to Ashyq!"), "success")
    return see_other(safe_next(next, "/account"))


@post("/auth/confirm/resend", guards=[signed_in])
async def resend_confirmation(request: Request, state: State) -> Redirect:

    user = current_user(request)
    if user["verification"] == 0 and not await services.over_rate_limit(
            state.settings, f"resend:{user['id']}", 3, timedelta(hours=1)):
        token = tokens.make_token(state.settings.secret_key, "confirm", user["id"])
        async with transaction():
            await queue_mail(user["email"], _("Confirm your e-mail for Ashyq"),
                             _("Open this link to confirm your e-mail address: %(url)s",
                               url=f"{state.settings.base_url}/auth/confirm/{token}"))
    flash(request, _("If your address still needs confirming, a new link is on its way."))
    return see_other("/account")


@get("/auth/reset")
async def reset_request_form(request: Request) -> Response:
    return page(request, "accounts/reset_request.html", {"errors": {}, "values": {}})


@post("/auth/reset")
async def reset_request(request: Request, state: State) -> Response:
    data = await form_data(request)
    if not await services.over_rate_limit(state.settings, f"reset:{client_address(request)}", 5, timedelta(hours=1)):
        await services.request_password_reset(state.settings, text(data, "email", 254))
    # The same answer whether or not the address has an account.
    return page(request, "accounts/message.html", {
        "title": _("Check your e-mail"),
        "message": _("If an account uses this address, we have sent it a link to choose a new password."),
    })


@get("/auth/reset/{token:str}")
async def reset_form(request: Request, state: State, token: FromPath[str]) -> Response:
    user = await services.user_for_reset_token(state.settings, token)
    if user is None:
        return page(request, "accounts/message.html", {
            "title": _("This link does not work"),
            "message": _("The link is wrong, already used or has expired. Ask for a new one."),
        }, status_code=400)
    return page(request, "accounts/reset.html", {"token": token, "errors": {}})


@post("/auth/reset/{token:str}")
async def reset(request: Request, state: State, token: FromPath[str]) -> Response:
    data = await form_data(request)
    errors = FormErrors()
    password = text(data, "password", 1000)
    if password != text(data, "password_repeat", 1000):
        errors.add("password_repeat", _("The two passwords differ."))
    user = None
    if not errors:
        try:
            user = await services.reset_password(state.settings, token, password)
            if user is None:
                errors.add("__all__", _("The link is wrong, already used or has expired. Ask for a new one."))
        except RuleError as exc:
            errors.add(exc.field, exc.translated())
    if errors:
        return page(request, "accounts/reset.html", {"token": token, "errors": errors.errors}, status_code=400)
    sign_in(request, user)
    flash(request, _("Your new password is set."), "success")
    return see_other("/account")


# --- OpenID Connect -----------------------------------------------------------------------------

def _oidc_unavailable(request: Request) -> Response:
    return page(request, "core/error.html", {
        "title": _("Sign-in is not available"),
        "message": _("The identity provider cannot be reached right now. Try again later, or sign in with "
                     "your password."),
        "status_code": 503,
    }, status_code=503)


@get("/auth/oidc/login")
async def oidc_login(request: Request, state: State, next: FromQuery[str | None] = None) -> Response:
    client = state.oidc_client
    if client is None:
        raise NotFoundException()
    request.session["oidc_next"] = safe_next(next)
    redirect_uri = f"{state.settings.base_url}/auth/oidc/callback"
    try:
        return await client.authorize_redirect_litestar(request, redirect_uri)
    except OidcError as exc:
        request.logger.warning("OIDC sign-in not started: %s", exc)
        return _oidc_unavailable(request)


@get("/auth/oidc/callback")
async def oidc_callback(request: Request, state: State) -> Response:
    client = state.oidc_client
    if client is None:
        raise NotFoundException()
    try:
        claims = await client.claims_from_callback(request)
    except OidcError as exc:
        request.logger.info("OIDC callback refused: %s", exc)
        if exc.reason == "unavailable":
            return _oidc_unavailable(request)
        message = {
            "state": _("This sign-in link is not valid any more. Start signing in again."),
            "denied": _("Signing in was cancelled at the identity provider."),
        }.get(exc.reason) or _("The identity provider's answer could not be checked. Please try again.")
        return page(request, "accounts/message.html", {"title": _("Sign-in failed"), "message": message},
                    status_code=400)
    try:
        user = await services.login_with_oidc(claims, language=request.state.language)
    except RuleError as exc:  # nothing was changed
        return page(request, "accounts/message.html", {
            "title": _("Sign-in failed"), "message": exc.translated(),
        }, status_code=400)
    next_path = safe_next(request.session.get("oidc_next"))
    sign_in(request, user)
    response = see_other(next_path)
    response.set_cookie("lang", user["language"], max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# --- profile ------------------------------------------------------------------------------------

async def _territory_choices() -> list[dict]:
    return await Territory.select().order_by(Territory.path)


@get("/account", guards=[signed_in])
async def account(request: Request) -> Response:
    user = current_user(request)
    return page(request, "accounts/profile.html", {
        "errors": {}, "values": user, "territories": await _territory_choices(),
        "memberships": await services.memberships_of(user["id"]), "languages": LANGUAGES,
    })


@post("/account", guards=[signed_in])
async def update_account(request: Request) -> Response:
    user = current_user(request)
    data = await form_data(request)
    errors = FormErrors()
    values = {"display_name": text(data, "display_name", 200), "language": text(data, "language", 5),
              "residence": integer(data, "residence")}
    try:
        await services.update_profile(user["id"], display_name=values["display_name"], language=values["language"],
                                      residence_id=values["residence"])
    except RuleError as exc:
        errors.add(exc.field, exc.translated())
        return page(request, "accounts/profile.html", {
            "errors": errors.errors, "values": {**user, **values}, "territories": await _territory_choices(),
            "memberships": await services.memberships_of(user["id"]), "languages": LANGUAGES,
        }, status_code=400)
    response = see_other("/account")
    response.set_cookie("lang", values["language"], max_age=365 * 86400, samesite="lax", httponly=True)
    flash(request, _("Your profile is saved."), "success")
    return response


@post("/account/password", guards=[signed_in])
async def change_password(request: Request, state: State) -> Response:
    user = current_user(request)
    data = await form_data(request)
    try:
        await services.change_password(state.settings, user["id"], text(data, "current_password", 1000),
                                       text(data, "new_password", 1000))
    except RuleError as exc:
        flash(request, exc.translated(), "error")
        return see_other("/account")
    sign_in(request, await services.user_by_id(user["id"]))
    flash(request, _("Your new password is set."), "success")
    return see_other("/account")


@get("/account/export", guards=[signed_in])
async def export(request: Request, state: State) -> Response:
    user_id = current_user(request)["id"]
    data = await services.export_personal_data(user_id)
    for module in state.modules:  # each mechanism adds what it holds about the person
        if module.personal_data:
            data[module.slug] = await module.personal_data(user_id)
    return Response(json.dumps(data, ensure_ascii=False, indent=2, default=str), media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="ashyq-my-data.json"'})


@get("/account/delete", guards=[signed_in])
async def delete_form(request: Request) -> Response:
    return page(request, "accounts/delete.html", {"errors": {}})


@post("/account/delete", guards=[signed_in])
async def delete(request: Request, state: State) -> Response:
    data = await form_data(request)
    if text(data, "confirm") != "yes":
        return page(request, "accounts/delete.html", {"errors": {"confirm": _("Tick the box to confirm.")}},
                    status_code=400)
    try:
        await services.delete_account(state.settings, current_user(request)["id"], text(data, "password", 1000),
                                      state.modules)
    except RuleError as exc:
        return page(request, "accounts/delete.html", {"errors": {"password": exc.translated()}}, status_code=400)
    request.clear_session()
    flash(request, _("Your account is deleted. What you wrote stays, without your name."))
    return see_other("/")


@get("/account/tokens", guards=[signed_in])
async def tokens_page(request: Request) -> Response:
    user = current_user(request)
    rows = await ApiToken.select().where((ApiToken.user == user["id"]) & ApiToken.revoked_at.is_null()).order_by(
        ApiToken.created_at, ascending=False)
    return page(request, "accounts/tokens.html", {"tokens": rows, "new_token": request.session.pop("new_token", None)})


@post("/account/tokens", guards=[signed_in])
async def create_token(request: Request) -> Redirect:
    data = await form_data(request)
    request.session["new_token"] = await services.create_api_token(current_user(request)["id"], text(data, "name", 100))
    return see_other("/account/tokens")


@post("/account/tokens/{token_id:int}/revoke", guards=[signed_in])
async def revoke_token(request: Request, token_id: FromPath[int]) -> Redirect:
    await services.revoke_api_token(current_user(request)["id"], token_id)
    flash(request, _("The token is revoked."))
    return see_other("/account/tokens")


@get("/api/v1/me", tags=["accounts"])
async def api_me(request: Request) -> dict:
    """The person the token belongs to."""
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException()
    return {"id": user["id"], "display_name": user["display_name"], "language": user["language"],
            "verification": user["verification"]}


def router() -> Router:
    return Router(path="/", route_handlers=[
        login_form, login, logout, register_form, register, register_sent, confirm, resend_confirmation,
        reset_request_form, reset_request, reset_form, reset, oidc_login, oidc_callback, account, update_account,
        change_password, export, delete_form, delete, tokens_page, create_token, revoke_token, api_me,
    ])
