"""Per-request context: language and script, the signed-in person, security headers,
and Kazakh Latin rendering of finished pages."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from civic import pending
from civic.i18n import runtime as i18n
from civic.i18n.latin import html_to_latin

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def _cookies(scope: Scope) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                cookies[key] = val
    return cookies


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook, so it also covers responses Litestar makes before any route
    middleware runs (404, 405)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for key, value in SECURITY_HEADERS.items():
            if key not in headers:
                headers[key] = value


def language_for(scope: Scope, user: dict | None) -> tuple[str, bool]:
    """The reader's language and whether Kazakh is shown in Latin letters: the cookie set by
    the switch, else the account's choice, else the browser's Accept-Language, else Kazakh."""
    cookies = _cookies(scope)
    language = cookies.get("lang") if cookies.get("lang") in i18n.LANGUAGES else None
    if language is None and user is not None:
        language = user["language"]
    language = language or i18n.negotiate(_header(scope, b"accept-language")) or i18n.DEFAULT_LANGUAGE
    return language, cookies.get("script") == "latn" and language == "kk"


def _is_machine_path(path: str) -> bool:
    """API and files render no page header, so they need no header counts."""
    return path.startswith(("/api/", "/static/", "/schema"))


async def header_counts(user_id: int) -> tuple[int, bool]:
    """The page header's unread count and whether the person holds any role, in one query."""
    from civic.accounts.tables import Membership

    rows = await Membership.raw(
        'SELECT (SELECT COUNT(*) FROM civic_notification WHERE "user" = {} AND read_at IS NULL) AS unread, '
        'EXISTS (SELECT 1 FROM civic_membership WHERE "user" = {}) AS has_role',
        user_id, user_id,
    )
    return int(rows[0]["unread"]), bool(rows[0]["has_role"])


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, load_user) -> None:
        self.app = app
        self.load_user = load_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = await self.load_user(scope)
        state = scope.setdefault("state", {})
        state["user"] = user
        state["unread"] = 0
        state["staff"] = False
        pending.start_request()
        if user is not None and not _is_machine_path(scope.get("path", "")):
            unread, has_role = await header_counts(user["id"])
            state["unread"] = unread
            state["staff"] = bool(user["is_admin"]) or has_role
        language, latin = language_for(scope, user)
        i18n.set_language(language, latin)
        state["language"] = language
        state["latin"] = latin

        buffered: list[Message] = []
        transliterate = False

        async def send_wrapper(message: Message) -> None:
            nonlocal transliterate
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["content-language"] = language
                transliterate = latin and headers.get("content-type", "").startswith("text/html")
                if transliterate:
                    buffered.append(message)
                    return
            elif transliterate:
                buffered.append(message)
                if message.get("more_body"):
                    return
                body = b"".join(m.get("body", b"") for m in buffered[1:])
                out = html_to_latin(body.decode("utf-8")).encode("utf-8")
                start = buffered[0]
                headers = MutableScopeHeaders.from_message(start)
                headers["content-length"] = str(len(out))
                await send(start)
                await send({"type": "http.response.body", "body": out, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


def user_of(request: Any):
    return request.scope.get("state", {}).get("user")
