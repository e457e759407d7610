"""OpenID Connect sign-in end to end, against a real local OpenID provider.

`oidc-provider-mock` runs on 127.0.0.1 in a thread (werkzeug's threaded server); the app's
Authlib client fetches its discovery document, exchanges the code at its token endpoint,
checks the signed ID token against its JWKS and reads its userinfo endpoint, all over real
HTTP. The browser side is an httpx client on the app (ASGI, cookies kept) that follows the
redirects by hand and "authorizes" at the provider the way its form does (POST sub=...).
The provider lets the test choose each subject's claims with PUT /users/{sub}.
"""

from __future__ import annotations

import dataclasses
import html
import random
import socket
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from civic.accounts.tables import User
from civic.accounts.verification import Level
from civic.territory.tables import Territory, TerritoryKind

CLIENT_ID = "ashyq-test"
CLIENT_SECRET = "ashyq-test-secret"
APP_URL = "http://testserver"

STATE_REFUSED = "This sign-in link is not valid any more. Start signing in again."
NOT_VERIFIED = ("Your e-mail address is not confirmed by the identity provider, so it cannot be linked "
                "to an account. Confirm it there, or sign in with your password.")
PROVIDER_DOWN = "The identity provider cannot be reached right now. Try again later, or sign in with your password."


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def provider():
    """The OpenID provider on 127.0.0.1, on a free port picked by the OS; stopped after the module."""
    with run_server_in_thread(port=0) as server:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"  # "localhost" binds IPv4 only: werkzeug picks AF_INET for it
        yield f"http://127.0.0.1:{port}"


def oidc_settings(settings, issuer: str):
    return dataclasses.replace(settings, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
                               oidc_client_secret=CLIENT_SECRET, base_url=APP_URL)


@pytest.fixture(scope="module")
async def oidc_app(settings, database, provider):
    from ashyq.app import create_app

    return create_app(oidc_settings(settings, provider))  # the database is already open: reused


def browser(app) -> httpx.AsyncClient:
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=APP_URL, follow_redirects=False,
                             headers={"accept-language": "en"})


@pytest.fixture
async def web(oidc_app):
    async with browser(oidc_app) as client:
        yield client


@pytest.fixture
async def idp(provider):
    """A plain HTTP client on the provider (what the person's browser does there)."""
    async with httpx.AsyncClient(base_url=provider, follow_redirects=False, timeout=10) as client:
        yield client


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def authorize_at_provider(web: httpx.AsyncClient, idp: httpx.AsyncClient, sub: str, claims: dict,
                                next_path: str = "/account") -> str:
    """Start at the app, authorize `sub` with `claims` at the provider; return the callback URL."""
    put = await idp.put(f"/users/{sub}", json=claims)
    assert put.status_code == 204, put.text
    start = await web.get("/auth/oidc/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    authorize_url = start.headers["location"]
    assert authorize_url.startswith(f"{str(idp.base_url).rstrip('/')}/oauth2/authorize?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{APP_URL}/auth/oidc/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert set(query["scope"][0].split()) >= {"openid", "email", "profile"}
    form = await idp.get(authorize_url)
    assert form.status_code == 200 and 'name="sub"' in form.text
    answer = await idp.post(authorize_url, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert callback.startswith(f"{APP_URL}/auth/oidc/callback?")
    assert "code=" in callback
    return callback


async def sign_in(web, idp, sub: str, claims: dict, next_path: str = "/account") -> httpx.Response:
    callback = await authorize_at_provider(web, idp, sub, claims, next_path)
    return await web.get(callback)


async def signed_in_page(web: httpx.AsyncClient) -> httpx.Response | None:
    page = await web.get("/account")
    return page if page.status_code == 200 else None


async def sign_out(web: httpx.AsyncClient) -> None:
    response = await web.post("/auth/logout", headers={"x-csrftoken": web.cookies.get("ashyq_csrf", "")})
    assert response.status_code == 303
    assert await signed_in_page(web) is None


async def users_with_email(email: str) -> list[dict]:
    return await User.select().where(User.email == email)


async def make_password_account(email: str, name: str, verification: Level = Level.EMAIL_CONFIRMED) -> dict:
    user = User(email=email, display_name=name, password_hash="$argon2id$not-a-real-hash", language="en",
                verification=int(verification), oidc_subject=None)
    await user.save()
    return (await User.select().where(User.id == user.id).first())


async def make_territory() -> dict:
    code = unique("test.okrug")
    territory = Territory(parent=None, kind=TerritoryKind.RURAL_OKRUG, code=code, path=f"/test/{code}/",
                          name_kk="Сынақ округі", name_ru="Тестовый округ", name_en="Test okrug")
    await territory.save()
    return (await Territory.select().where(Territory.id == territory.id).first())


# --- the happy path -----------------------------------------------------------------------------

async def test_first_login_creates_confirmed_account_and_signs_in(web, idp):
    sub, email = unique("sub"), f"{unique('aigerim')}@example.kz"
    response = await sign_in(web, idp, sub, {"email": email, "email_verified": True, "name": "Aigerim Nurlanovna"})
    assert response.status_code == 303
    assert response.headers["location"] == "/account"  # the `next` given to /auth/oidc/login

    page = await signed_in_page(web)
    assert page is not None, "not signed in after the OIDC callback"
    assert "Aigerim Nurlanovna" in text(page) and email in text(page)

    [user] = await users_with_email(email)
    assert user["oidc_subject"] == sub
    assert user["verification"] == Level.EMAIL_CONFIRMED
    assert user["password_hash"] is None
    assert user["display_name"] == "Aigerim Nurlanovna"
    assert user["last_login_at"] is not None


async def test_email_in_mixed_case_is_stored_normalised(web, idp):
    sub, email = unique("sub"), f"{unique('Marat')}@Example.KZ"
    assert (await sign_in(web, idp, sub, {"email": email, "email_verified": True})).status_code == 303
    [user] = await users_with_email(email.lower())
    assert user["oidc_subject"] == sub
    assert user["display_name"]  # no name claim: a name is made from the address


async def test_second_login_reuses_the_same_account(oidc_app, web, idp):
    sub, email = unique("sub"), f"{unique('daniyar')}@example.kz"
    claims = {"email": email, "email_verified": True, "name": "Daniyar"}
    assert (await sign_in(web, idp, sub, claims)).status_code == 303
    [first] = await users_with_email(email)

    async with browser(oidc_app) as other_device:
        response = await sign_in(other_device, idp, sub, claims)
        assert response.status_code == 303
        page = await signed_in_page(other_device)
        assert page is not None and "Daniyar" in text(page)
    assert [u["id"] for u in await users_with_email(email)] == [first["id"]]


async def test_verified_email_links_an_existing_password_account(web, idp):
    email = f"{unique('saule')}@example.kz"
    existing = await make_password_account(email, "Saule Password", verification=Level.UNCONFIRMED)
    sub = unique("sub")
    response = await sign_in(web, idp, sub, {"email": email.upper(), "email_verified": True, "name": "Other Name"})
    assert response.status_code == 303

    page = await signed_in_page(web)
    assert page is not None and "Saule Password" in text(page)  # the existing account, not a new one
    [user] = await users_with_email(email)
    assert user["id"] == existing["id"]
    assert user["oidc_subject"] == sub
    assert user["password_hash"] == existing["password_hash"]  # the password still works
    assert user["display_name"] == "Saule Password"
    assert user["verification"] == Level.EMAIL_CONFIRMED  # the provider vouched for the address


# --- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("email_verified", [False, "false", None])
async def test_unverified_email_does_not_link_a_password_account(web, idp, email_verified):
    email = f"{unique('erlan')}@example.kz"
    existing = await make_password_account(email, "Erlan Password")
    claims = {"email": email, "name": "Intruder"}
    if email_verified is not None:
        claims["email_verified"] = email_verified
    response = await sign_in(web, idp, unique("sub"), claims)
    assert response.status_code == 400
    assert NOT_VERIFIED in text(response)
    assert await signed_in_page(web) is None
    [user] = await users_with_email(email)
    assert user == existing  # nothing changed: no subject linked, no level raised, no login time


async def test_email_of_an_account_linked_to_another_subject_is_not_relinked(web, idp):
    email = f"{unique('twice')}@example.kz"
    first_sub = unique("sub")
    assert (await sign_in(web, idp, first_sub, {"email": email, "email_verified": True})).status_code == 303
    [before] = await users_with_email(email)
    await sign_out(web)
    response = await sign_in(web, idp, unique("sub"), {"email": email, "email_verified": True})
    assert response.status_code == 400
    assert "already belongs to an account linked to another identity" in text(response)
    assert await signed_in_page(web) is None
    assert await users_with_email(email) == [before]


async def test_unverified_email_creates_no_account(web, idp):
    email = f"{unique('nobody')}@example.kz"
    response = await sign_in(web, idp, unique("sub"), {"email": email, "email_verified": False})
    assert response.status_code == 400 and NOT_VERIFIED in text(response)
    assert await users_with_email(email) == []
    assert await signed_in_page(web) is None


@pytest.mark.parametrize("tamper", ["changed", "unknown", "missing"])
async def test_tampered_state_is_refused(web, idp, tamper):
    email = f"{unique('state')}@example.kz"
    callback = await authorize_at_provider(web, idp, unique("sub"), {"email": email, "email_verified": True})
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if tamper == "changed":
        query["state"] = query["state"][:-2] + ("xy" if not query["state"].endswith("xy") else "zz")
    elif tamper == "unknown":
        query["state"] = "not-a-state-we-issued"
    else:
        del query["state"]
    response = await web.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 400
    assert STATE_REFUSED in text(response)
    assert "Sign-in failed" in text(response)
    assert await users_with_email(email) == []
    assert await signed_in_page(web) is None


async def test_callback_from_another_browser_is_refused(oidc_app, web, idp):
    """A callback URL carried to a browser that did not start the flow (login CSRF)."""
    email = f"{unique('csrf')}@example.kz"
    callback = await authorize_at_provider(web, idp, unique("sub"), {"email": email, "email_verified": True})
    async with browser(oidc_app) as victim:
        response = await victim.get(callback)
        assert response.status_code == 400 and STATE_REFUSED in text(response)
        assert await signed_in_page(victim) is None
    assert await users_with_email(email) == []


async def test_refusal_is_shown_in_the_readers_language(oidc_app, idp, monkeypatch):
    """The message goes through gettext in the reader's language (a Russian catalogue stands in
    for locale/ru until the real one has this message)."""
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    from civic.i18n import runtime

    catalog = Catalog(locale="ru")
    catalog.add(STATE_REFUSED, "Эта ссылка для входа больше не действует. Начните вход заново.")
    catalog.add("Sign-in failed", "Войти не удалось")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    russian = Translations(buffer)
    real = runtime.translator
    monkeypatch.setattr(runtime, "translator", lambda language: russian if language == "ru" else real(language))

    async with browser(oidc_app) as web:
        web.headers["accept-language"] = "ru"
        response = await web.get("/auth/oidc/callback", params={"code": "x", "state": "not-ours"})
    assert response.status_code == 400
    assert "Войти не удалось" in text(response)
    assert "Эта ссылка для входа больше не действует. Начните вход заново." in text(response)


async def test_provider_down_during_the_token_exchange(settings, database, idp):
    """The provider answers the start of the flow, then goes away before the code is exchanged."""
    from ashyq.app import create_app

    with run_server_in_thread(port=0) as server:
        short_lived = f"http://127.0.0.1:{server.server_address[1]}"
        app = create_app(oidc_settings(settings, short_lived))
        web = await browser(app).__aenter__()
        async with httpx.AsyncClient(base_url=short_lived, timeout=10) as there:
            callback = await authorize_at_provider(web, there, unique("sub"),
                                                   {"email": "gone@example.kz", "email_verified": True})
    try:  # the provider has stopped
        response = await web.get(callback)
        assert response.status_code == 503
        assert PROVIDER_DOWN in text(response)
        assert await signed_in_page(web) is None
    finally:
        await web.aclose()
    assert await users_with_email("gone@example.kz") == []


async def test_state_cannot_be_replayed(web, idp):
    email = f"{unique('replay')}@example.kz"
    callback = await authorize_at_provider(web, idp, unique("sub"), {"email": email, "email_verified": True})
    assert (await web.get(callback)).status_code == 303
    await sign_out(web)
    again = await web.get(callback)
    assert again.status_code == 400 and STATE_REFUSED in text(again)


async def test_refusal_at_the_provider_is_explained(web, idp):
    await idp.put("/users/whoever", json={"email": "whoever@example.kz", "email_verified": True})
    start = await web.get("/auth/oidc/login")
    denied = await idp.post(start.headers["location"], data={"action": "deny"})
    assert denied.status_code == 302 and "error=access_denied" in denied.headers["location"]
    response = await web.get(denied.headers["location"])
    assert response.status_code == 400
    assert "Signing in was cancelled at the identity provider." in text(response)
    assert await signed_in_page(web) is None


async def test_forged_code_is_refused_without_a_500(web, idp):
    callback = await authorize_at_provider(web, idp, unique("sub"), {"email": "forged@example.kz",
                                                                      "email_verified": True})
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["code"] = "forged-code"
    response = await web.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 400
    assert "The identity provider's answer could not be checked. Please try again." in text(response)
    assert await signed_in_page(web) is None


async def test_provider_down_on_login_gives_an_error_page(settings, database):
    from ashyq.app import create_app

    app = create_app(oidc_settings(settings, f"http://127.0.0.1:{closed_port()}"))
    async with browser(app) as web:
        response = await web.get("/auth/oidc/login")
        assert response.status_code == 503
        assert "text/html" in response.headers["content-type"]
        assert PROVIDER_DOWN in text(response)
        assert "Something went wrong" not in text(response)


async def test_oidc_routes_are_absent_without_settings(client):
    assert (await client.get("/auth/oidc/login")).status_code == 404
    assert (await client.get("/auth/oidc/callback?code=x&state=y")).status_code == 404


# --- verified residents -------------------------------------------------------------------------

async def test_residence_claim_makes_a_verified_resident(web, idp):
    territory = await make_territory()
    sub, email = unique("sub"), f"{unique('resident')}@example.kz"
    claims = {"email": email, "email_verified": True, "name": "Gulnar", "residence": territory["code"]}
    assert (await sign_in(web, idp, sub, claims)).status_code == 303
    [user] = await users_with_email(email)
    assert user["verification"] == Level.VERIFIED_RESIDENT
    assert user["verified_territory"] == territory["id"]
    assert user["residence"] == territory["id"]
    assert user["verified_by"] == "oidc"
    page = await signed_in_page(web)
    assert page is not None and "Verified resident" in text(page)


async def test_residence_claim_upgrades_an_existing_account(web, idp):
    territory = await make_territory()
    email = f"{unique('upgrade')}@example.kz"
    existing = await make_password_account(email, "Timur")
    await sign_in(web, idp, unique("sub"), {"email": email, "email_verified": True,
                                            "residence": territory["code"]})
    [user] = await users_with_email(email)
    assert user["id"] == existing["id"]
    assert (user["verification"], user["verified_territory"]) == (Level.VERIFIED_RESIDENT, territory["id"])


async def test_unknown_residence_code_verifies_nothing(web, idp):
    email = f"{unique('nowhere')}@example.kz"
    await sign_in(web, idp, unique("sub"), {"email": email, "email_verified": True,
                                            "residence": "no.such.territory"})
    [user] = await users_with_email(email)
    assert user["verification"] == Level.EMAIL_CONFIRMED
    assert user["verified_territory"] is None


# --- the messages are translatable ---------------------------------------------------------------

def test_refusal_messages_are_extracted_for_translation():
    from babel.messages.extract import extract_from_file

    root = Path(__file__).resolve().parents[2]
    msgids = set()
    for path in ("civic/accounts/routes.py", "civic/accounts/services.py"):
        for _lineno, message, _comments, _context in extract_from_file(
                "python", root / path, keywords={"_": None, "N_": None}):
            msgids.add(message)
    for message in (STATE_REFUSED, NOT_VERIFIED, PROVIDER_DOWN, "Sign-in failed",
                    "Signing in was cancelled at the identity provider."):
        assert message in msgids, message


async def test_two_first_sign_ins_at_once_make_one_account(database, monkeypatch):
    """Two tabs finishing their first sign-in together: one account, both signed in to it
    (on PostgreSQL the second insert meets the unique index and is run again)."""
    import asyncio
    import uuid

    from civic.accounts import services
    from civic.accounts.services import login_with_oidc
    from civic.accounts.tables import User

    real_lookup, arrived = services.user_by_email, []

    async def lookup_together(email):
        # both sign-ins look for the account before either creates it (where the database
        # lets them: SQLite's write lock makes the second wait for the first instead)
        found = await real_lookup(email)
        arrived.append(email)
        for _ in range(30):
            if len(arrived) >= 2:
                break
            await asyncio.sleep(0.01)
        return found

    monkeypatch.setattr(services, "user_by_email", lookup_together)

    tag = uuid.uuid4().hex[:10]
    claims = {"sub": f"twin-{tag}", "email": f"twin-{tag}@example.kz", "email_verified": True, "name": "Twin Tabs"}
    first, second = await asyncio.gather(login_with_oidc(dict(claims)), login_with_oidc(dict(claims)))
    assert first["id"] == second["id"]
    assert await User.count().where(User.email == claims["email"]) == 1
