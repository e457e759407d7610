"""Helpers for HTTP tests: forms with the CSRF token, signing in, reading queued mail."""

from __future__ import annotations

import re

import httpx

CSRF_COOKIE = "ashyq_csrf"


async def csrf_token(client: httpx.AsyncClient) -> str:
    if CSRF_COOKIE not in client.cookies:
        await client.get("/auth/login")
    return client.cookies[CSRF_COOKIE]


async def post_form(client: httpx.AsyncClient, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
    """Post a form the way a browser does: with the CSRF field from the page."""
    form = dict(data or {})
    form["_csrf_token"] = await csrf_token(client)
    return await client.post(path, data=form, **kwargs)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    response = await post_form(client, "/auth/login", {"email": email, "password": password, "next": "/account"})
    assert response.status_code == 303, response.text[:500]
    return response


async def last_mail_to(address: str) -> dict | None:
    from civic.notify.tables import OutgoingMail

    return await OutgoingMail.select().where(OutgoingMail.to_address == address).order_by(
        OutgoingMail.id, ascending=False).first()


def link_in(body: str, path_prefix: str) -> str:
    match = re.search(rf"https?://[^\s]+({re.escape(path_prefix)}[^\s]+)", body)
    assert match, f"no {path_prefix} link in mail: {body}"
    return match.group(1)


async def make_user(email: str, *, name: str = "Test Person", password: str = "correct horse battery",
                    verification: int = 1, language: str = "en", is_admin: bool = False) -> dict:
    """A ready account, created directly (registration itself is tested through the forms)."""
    from civic.accounts.passwords import hash_password
    from civic.accounts.tables import User
    from civic.accounts.services import user_by_id

    user = User(email=email, display_name=name, password_hash=hash_password(password, "cheapest"),
                language=language, verification=verification, is_admin=is_admin)
    await user.save()
    return await user_by_id(user.id)


def unique_email(prefix: str = "person") -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.kz"
