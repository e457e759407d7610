"""create_app(settings) -> Litestar: the core routes plus every enabled module."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig
from litestar.types import Scope

from civic import pending
from civic.accounts import routes as account_routes
from civic.accounts import staff_routes
from civic.accounts import services as account_services
from civic.accounts.roles import role_label
from civic.db import MAX_ROW_ID
from civic.i18n import runtime as i18n
from civic.i18n.runtime import N_
from civic.i18n.runtime import gettext as _
from civic.modules import CivicModule
from civic.notify.services import deliver_pending_mail
from civic.responses import routes as response_routes
from civic.runtime import _state, current_engine, open_database
from civic.settings import Settings
from civic.territory import routes as territory_routes
from civic.web import core_routes
from civic.web.context import RequestContextMiddleware, add_security_headers, language_for
from civic.web.page_cache import PageCacheMiddleware
from civic.web.refusals import RuleError, rule_error_handler
from civic.web.pages import page
from civic.web.templates import build_environment
from piccolo.engine.postgres import PostgresEngine
from search import backend_for
from search import routes as search_routes
from search.service import apply_pending, rebuild_if_needed, start, stop

from ashyq.manifests import build_modules

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


async def load_user(scope: Scope) -> dict | None:
    """The signed-in person: from a personal API token on /api/, else from the session cookie."""
    path = scope.get("path", "")
    token = _bearer_token(scope) if path.startswith("/api/") else None
    if token:
        user = await account_services.user_for_api_token(token)
        scope.setdefault("state", {})["api_token"] = user is not None
        return user
    if path.startswith("/api/") and scope.get("method") in UNSAFE_METHODS:
        return None  # API writes need a token: the CSRF check is skipped for /api/
    session = scope.get("session") or {}
    uid = session.get("uid") if isinstance(session, dict) else None
    if not uid:
        return None
    user = await account_services.user_by_id(uid)
    if not user or user["deleted_at"] or user["blocked_reason"] or user["session_epoch"] != session.get("epoch"):
        return None
    return user


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema")


def _error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    state = request.scope.setdefault("state", {})
    if "language" not in state:  # routing failed (404, 405): the context middleware never ran
        language, latin = language_for(request.scope, None)
        i18n.set_language(language, latin)
        state.update(language=language, latin=latin, user=None, unread=0, staff=False)
    title, message = i18n.gettext(title), i18n.gettext(message)
    if _is_api(request):
        return Response({"status_code": status_code, "detail": message}, status_code=status_code)
    try:
        return page(request, "core/error.html", {"title": title, "message": message, "status_code": status_code},
                    status_code=status_code)
    except Exception:  # the session may be unusable here; never fail while reporting a failure
        return Response(f"{status_code} {title}", status_code=status_code, media_type="text/plain")


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if _is_api(request):
        return Response({"status_code": 401, "detail": _("A personal API token is required.")}, status_code=401,
                        headers={"www-authenticate": "Bearer"})
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/auth/login?next={path if request.method == 'GET' else '/'}", status_code=303)


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    if "CSRF" in str(exc.detail):
        return _error_page(request, 403, N_("The form has expired"),
                           N_("For your safety the form could not be accepted. Go back, reload the page and send it again."))
    if str(exc.detail).startswith("verification:"):
        return _error_page(request, 403, N_("Confirmation needed"),
                           N_("This action needs a confirmed identity. Confirm your e-mail address, or sign in "
                             "through the state identity service to become a verified resident."))
    return _error_page(request, 403, N_("Access denied"), N_("You do not have the right to do this."))


async def refuse_impossible_ids(request: Request) -> None:
    """A whole number in the path beyond any row id (32-bit on PostgreSQL) names nothing: 404
    here, for every route, instead of a database error when the handler looks it up."""
    for value in request.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ROW_ID:
            raise NotFoundException()


def not_found(request: Request, exc: NotFoundException) -> Response:
    return _error_page(request, 404, N_("Page not found"), N_("There is no page at this address. It may have moved."))


def bad_request(request: Request, exc: ValidationException) -> Response:
    return _error_page(request, 400, N_("Something in the request is wrong"),
                       N_("Please check what you entered and try again."))


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 429:
        return _error_page(request, 429, N_("Too many requests"), N_("Please wait a little and try again."))
    if exc.status_code == 405:
        return _error_page(request, 405, N_("Not allowed"), N_("This address does not accept this kind of request."))
    return _error_page(request, exc.status_code, N_("Something went wrong"), N_("Please try again later."))


def server_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error", exc_info=exc)
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, N_("Something went wrong"),
                       N_("We could not finish this. Nothing was changed. Please try again later."))


async def deliver_mail_after_write(request: Request) -> None:
    """Mail is queued inside the transaction and sent once the request has finished."""
    if request.method in UNSAFE_METHODS and pending.is_marked(pending.MAIL):
        await deliver_pending_mail(request.app.state.settings)


async def apply_search_changes(request: Request) -> None:
    """Index changes are queued in the outbox inside the transaction; apply them once the
    request has finished, so a record is searchable (or gone) in the same request path. Never
    raises: when the engine is down the entries wait for the next write or the worker."""
    if request.method in UNSAFE_METHODS and pending.is_marked(pending.SEARCH):
        await apply_pending(request.app.state.search)


async def after_write(request: Request) -> None:
    """The after_response hook: search changes first (they are quick), then mail."""
    await apply_search_changes(request)
    await deliver_mail_after_write(request)


async def start_search(app: Litestar) -> None:
    """Configure the index (one backend per process); an engine that is down at start is
    tolerated: searches answer "unavailable" and writes wait in the outbox. An index emptied by
    a schema change is rebuilt in the background."""
    if await start(app.state.search):
        rebuild_if_needed(app.state.search, app.state.modules)


async def stop_search(app: Litestar) -> None:
    await stop(app.state.search)


async def start_database() -> None:
    """A connection pool per server process on PostgreSQL (Piccolo opens a connection per
    query otherwise)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=1, max_size=10)


async def stop_database() -> None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
    elif hasattr(engine, "close_read_connections"):
        await engine.close_read_connections()


def create_app(settings: Settings, extra_modules: tuple[CivicModule, ...] = ()) -> Litestar:
    modules = build_modules(settings, extra_modules)  # checked, and installed into the core's registries
    if "engine" not in _state:
        open_database(settings, modules)

    secret = hashlib.sha256(settings.secret_key.encode()).digest()
    session_config = CookieBackendConfig(secret=secret, key="ashyq_session", max_age=14 * 86400,
                                         httponly=True, samesite="lax", secure=settings.secure_cookies)
    csrf_config = CSRFConfig(secret=settings.secret_key, cookie_name="ashyq_csrf", header_name="x-csrftoken",
                             cookie_secure=settings.secure_cookies, cookie_samesite="lax",
                             exclude=["^/api/", "^/schema", "^/healthz", "^/static/"])
    environment = build_environment(auto_reload=settings.debug)
    environment.globals["nav_modules"] = [entry for module in modules for entry in module.nav]
    environment.globals["staff_links"] = [entry for module in modules for entry in module.staff_links]
    environment.globals["role_label"] = role_label  # msgid of a role's label: the core's, a module's or reserved
    environment.globals["oidc_enabled"] = settings.oidc_enabled
    environment.globals["oidc_name"] = settings.oidc_name

    handlers: list = [
        core_routes.router(),
        account_routes.router(),
        staff_routes.router(),
        territory_routes.router(),
        response_routes.router(),
        create_static_files_router(path="/static", directories=[STATIC_DIR], name="static",
                                   send_as_attachment=False),
    ]
    handlers.append(search_routes.router())
    for module in modules:
        if module.router:
            handlers.append(module.router())
        if module.api_router:
            handlers.append(module.api_router())

    oidc_client = None
    if settings.oidc_enabled:
        from civic.accounts.oidc import OidcClient

        oidc_client = OidcClient(settings)

    return Litestar(
        route_handlers=handlers,
        state=State({"settings": settings, "modules": modules, "oidc_client": oidc_client,
                     "search": backend_for(settings)}),
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment)),
        middleware=[DefineMiddleware(PageCacheMiddleware, settings=settings, csrf_config=csrf_config),
                    session_config.middleware, DefineMiddleware(RequestContextMiddleware, load_user=load_user)],
        csrf_config=csrf_config,
        openapi_config=OpenAPIConfig(title="Ashyq API", version="1", path="/schema",
                                     render_plugins=[JsonRenderPlugin()], create_examples=False),
        exception_handlers={
            RuleError: rule_error_handler,
            NotAuthorizedException: not_authorized,
            PermissionDeniedException: permission_denied,
            NotFoundException: not_found,
            ValidationException: bad_request,
            HTTPException: http_error,
            Exception: server_error,
        },
        on_startup=[start_database, start_search],
        on_shutdown=[stop_database, stop_search],
        before_request=refuse_impossible_ids,
        after_response=after_write,
        before_send=[add_security_headers],
        debug=settings.debug,
    )


__all__ = ["create_app", "Router"]
