"""Pages for people who are not signed in, served from memory until anything changes.

Most visitors read without signing in, and they all get the same page for the same address and
language. A page is kept only when it was made for nobody in particular: a GET without a session
cookie, an Authorization header or an htmx header, answered 200 text/html with no cookie but the
CSRF one. The CSRF token inside the page is swapped for the visitor's own on the way out.

Every write marks a change: an unsafe request when its response starts (its transaction has
committed by then), a ``civic worker`` round that did something, a CLI command. The mark is a
file in the data folder, which every process of a deployment shares (uploads live there too),
so one stat tells each process whether its pages are still true. Pages that change with the
clock alone (days left, overdue answers) are rendered again after ``page_cache_seconds``.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from civic.web.context import language_for

SESSION_COOKIE = "ashyq_session"
CSRF_COOKIE = "ashyq_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PASS_THROUGH_PREFIXES = ("/api/", "/static/", "/schema", "/healthz")
MAX_PAGES = 512
MAX_PAGE_BYTES = 512 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # per process; the least recently served pages go first
TOKEN_MARK = b"\x00csrf\x00"


class ChangeMark:
    """The data folder's "something changed" mark shared by the deployment's processes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "page-cache" / "changed"

    def touch(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".changed-{os.getpid()}-{secrets.token_hex(4)}")
        temporary.write_text(secrets.token_hex(8))
        os.replace(temporary, self.path)  # a new file each time: inode and time both change

    def current(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns


def mark_changed(data_dir: Path) -> None:
    """For writes outside a request (worker jobs, CLI commands)."""
    ChangeMark(data_dir).touch()


@dataclass(frozen=True)
class _Page:
    mark: tuple[int, int] | None
    stored_at: float
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes  # the CSRF token replaced by TOKEN_MARK


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name: value for name, value in scope.get("headers", [])}


def _cookie(headers: dict[bytes, bytes], name: str) -> str | None:
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class PageCacheMiddleware:
    def __init__(self, app: ASGIApp, settings, csrf_config) -> None:
        self.app = app
        self.seconds = settings.page_cache_seconds
        self.mark = ChangeMark(settings.data_dir)
        self.csrf = csrf_config
        self.pages: OrderedDict[tuple, _Page] = OrderedDict()
        self.total_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in UNSAFE_METHODS:
            await self.app(scope, receive, self._marking(send))
            return
        headers = _headers(scope)
        if (not self.seconds or method != "GET" or scope["path"].startswith(PASS_THROUGH_PREFIXES)
                or b"authorization" in headers or b"hx-request" in headers
                or _cookie(headers, SESSION_COOKIE)):
            await self.app(scope, receive, send)
            return
        language, latin = language_for(scope, None)
        key = (scope["path"], scope.get("query_string", b""), language, latin)
        mark = self.mark.current()
        page = self.pages.get(key)
        if page is not None and page.mark == mark and time.monotonic() - page.stored_at < self.seconds:
            self.pages.move_to_end(key)
            await self._serve(page, headers, send)
            return
        await self.app(scope, receive, self._keeping(send, key, mark, headers))

    def _marking(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.mark.touch()
            await send(message)

        return wrapped

    def _keeping(self, send: Send, key: tuple, mark, request_headers: dict[bytes, bytes]) -> Send:
        state: dict = {"keep": False, "headers": (), "chunks": [], "size": 0}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = [(bytes(n).lower(), bytes(v)) for n, v in message.get("headers", [])]
                cookies = [v for n, v in response_headers if n == b"set-cookie"]
                content_type = next((v for n, v in response_headers if n == b"content-type"), b"")
                state["keep"] = (message["status"] == 200 and content_type.startswith(b"text/html")
                                 and all(c.startswith(CSRF_COOKIE.encode() + b"=") for c in cookies))
                state["token"] = _cookie(request_headers, CSRF_COOKIE) or next(
                    (c.split(b";", 1)[0].split(b"=", 1)[1].decode("latin-1") for c in cookies), None)
                state["headers"] = tuple((n, v) for n, v in response_headers
                                         if n not in (b"set-cookie", b"content-length"))
            elif message["type"] == "http.response.body" and state["keep"]:
                chunk = message.get("body", b"")
                state["size"] += len(chunk)
                if state["size"] > MAX_PAGE_BYTES:
                    state["keep"], state["chunks"] = False, []
                else:
                    state["chunks"].append(chunk)
                if not message.get("more_body", False) and state["keep"]:
                    self._store(key, mark, state)
            await send(message)

        return wrapped

    def _store(self, key: tuple, mark, state: dict) -> None:
        body = b"".join(state["chunks"])
        token = state.get("token")
        if token:
            body = body.replace(token.encode("latin-1"), TOKEN_MARK)
        elif TOKEN_MARK in body:
            return
        previous = self.pages.pop(key, None)
        if previous is not None:
            self.total_bytes -= len(previous.body)
        self.pages[key] = _Page(mark, time.monotonic(), state["headers"], body)
        self.total_bytes += len(body)
        while len(self.pages) > MAX_PAGES or self.total_bytes > MAX_TOTAL_BYTES:
            _, dropped = self.pages.popitem(last=False)
            self.total_bytes -= len(dropped.body)

    async def _serve(self, page: _Page, request_headers: dict[bytes, bytes], send: Send) -> None:
        headers = list(page.headers)
        token = _cookie(request_headers, CSRF_COOKIE)
        if not token:
            token = generate_csrf_token(secret=self.csrf.secret)
            cookie = Cookie(key=CSRF_COOKIE, value=token, path=self.csrf.cookie_path, secure=self.csrf.cookie_secure,
                            httponly=self.csrf.cookie_httponly, samesite=self.csrf.cookie_samesite,
                            domain=self.csrf.cookie_domain)
            headers.append((b"set-cookie", cookie.to_header(header="").encode("latin-1")))
        body = page.body.replace(TOKEN_MARK, token.encode("latin-1"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
