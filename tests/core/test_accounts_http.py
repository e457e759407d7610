"""Accounts through the web forms, as a person uses them: register, confirm, sign in and out,
reset a password, profile, export, delete, API tokens; and the refusals."""

from __future__ import annotations

import json

import pytest

from civic.accounts.tables import User
from tests.support.web import last_mail_to, link_in, make_user, post_form, sign_in, unique_email

PASSWORD = "correct horse battery"


async def test_registration_confirmation_and_sign_in(client):
    email = unique_email("reg")
    response = await post_form(client, "/auth/register", {
        "display_name": "Айгерім Сейітова", "email": email.upper(), "password": PASSWORD, "password_repeat": PASSWORD,
    })
    assert response.status_code == 303 and response.headers["location"] == "/auth/register/sent"
    user = await User.select().where(User.email == email).first()
    assert user["verification"] == 0 and user["display_name"] == "Айгерім Сейітова"

    # The unconfirmed person can sign in but is shown as unconfirmed.
    mail = await last_mail_to(email)
    confirm_path = link_in(mail["body"], "/auth/confirm/")
    response = await client.get(confirm_path)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200 and "Айгерім Сейітова" in page.text
    assert (await User.select(User.verification).where(User.email == email).first())["verification"] == 1

    # A used or altered link does not work and says so.
    broken = await client.get(confirm_path[:-3] + "xyz")
    assert broken.status_code == 400


async def test_registration_leads_back_where_the_person_came_from(client):
    """A link that brought someone to register (an invitation, say) is where the confirmation
    link leads; only local paths are followed."""
    email = unique_email("next")
    form = await client.get("/auth/register", params={"next": "/delphi/invitations/abc", "email": email})
    assert form.status_code == 200
    assert 'name="next" value="/delphi/invitations/abc"' in form.text and f'value="{email}"' in form.text
    response = await post_form(client, "/auth/register", {
        "display_name": "Marat Ospanov", "email": email, "password": PASSWORD, "password_repeat": PASSWORD,
        "next": "/delphi/invitations/abc"})
    assert response.status_code == 303
    confirm_path = link_in((await last_mail_to(email))["body"], "/auth/confirm/")
    assert confirm_path.endswith("?next=%2Fdelphi%2Finvitations%2Fabc")
    response = await client.get(confirm_path)
    assert response.status_code == 303 and response.headers["location"] == "/delphi/invitations/abc"

    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = await client.get("/auth/register", params={"next": hostile})
        assert "evil.example" not in form.text
        other = unique_email("hostile")
        await post_form(client, "/auth/register", {"display_name": "Someone Else", "email": other,
                                                   "password": PASSWORD, "password_repeat": PASSWORD, "next": hostile})
        confirm_path = link_in((await last_mail_to(other))["body"], "/auth/confirm/")
        assert "next=" not in confirm_path
        response = await client.get(confirm_path, params={"next": hostile})
        assert response.headers["location"] == "/account"


async def test_registering_an_existing_address_reveals_nothing(client):
    email = unique_email("taken")
    await make_user(email)
    response = await post_form(client, "/auth/register", {
        "display_name": "Someone Else", "email": email, "password": PASSWORD, "password_repeat": PASSWORD,
    })
    # Same page as a fresh registration; the owner gets a mail instead.
    assert response.status_code == 303 and response.headers["location"] == "/auth/register/sent"
    assert await User.count().where(User.email == email) == 1
    assert "already have an account" in (await last_mail_to(email))["body"]


@pytest.mark.parametrize("form, field_message", [
    ({"display_name": "A B", "email": "not-an-address", "password": PASSWORD, "password_repeat": PASSWORD},
     "valid e-mail"),
    ({"display_name": "A B", "email": "x@example.kz", "password": "short", "password_repeat": "short"},
     "at least"),
    ({"display_name": "A B", "email": "y@example.kz", "password": PASSWORD, "password_repeat": PASSWORD + "!"},
     "passwords differ"),
    ({"display_name": "", "email": "z@example.kz", "password": PASSWORD, "password_repeat": PASSWORD},
     "Enter your name"),
])
async def test_registration_refuses_bad_input_and_changes_nothing(client, form, field_message):
    before = await User.count()
    response = await post_form(client, "/auth/register", form, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert field_message in response.text
    assert 'aria-invalid="true"' in response.text
    assert await User.count() == before


async def test_registration_messages_follow_the_language(client):
    form = {"display_name": "A B", "email": "not-an-address", "password": PASSWORD, "password_repeat": PASSWORD}
    response = await post_form(client, "/auth/register", form, headers={"accept-language": "ru"})
    assert response.status_code == 400
    assert "Enter a valid e-mail address." not in response.text
    assert 'lang="ru"' in response.text


async def test_honeypot_filled_creates_no_account(client):
    email = unique_email("bot")
    response = await post_form(client, "/auth/register", {
        "display_name": "Bot", "email": email, "password": PASSWORD, "password_repeat": PASSWORD,
        "website": "http://spam.example",
    })
    assert response.status_code == 303
    assert await User.count().where(User.email == email) == 0


async def test_sign_in_wrong_password_and_sign_out(client):
    email = unique_email("signin")
    await make_user(email, name="Ерлан")
    wrong = await post_form(client, "/auth/login", {"email": email, "password": "wrong password!"})
    assert wrong.status_code == 400
    unknown = await post_form(client, "/auth/login", {"email": unique_email(), "password": "wrong password!"})
    assert unknown.status_code == 400
    # no account enumeration: the same message for an unknown address and a wrong password
    assert "not correct" in wrong.text
    assert _without_values(wrong.text) == _without_values(unknown.text)

    session_before = client.cookies.get("ashyq_session")
    await sign_in(client, email, PASSWORD)
    assert client.cookies.get("ashyq_session") != session_before  # rotated at sign-in
    assert "Ерлан" in (await client.get("/account")).text
    response = await post_form(client, "/auth/logout")
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 303  # back to the sign-in page


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _without_values(html: str) -> str:
    """The page's main part with the echoed form values (the typed e-mail) blanked."""
    import re

    return re.sub(r'value="[^"]*"', 'value=""', _main(html))


async def test_sign_in_is_rate_limited_after_failures(client):
    email = unique_email("brute")
    await make_user(email)
    for _ in range(10):
        assert (await post_form(client, "/auth/login", {"email": email, "password": "guess-guess-guess"})).status_code == 400
    blocked = await post_form(client, "/auth/login", {"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert (await client.get("/account")).status_code == 303  # still not signed in


async def test_registration_is_rate_limited(client):
    for i in range(5):
        response = await post_form(client, "/auth/register", {
            "display_name": "Many", "email": unique_email("many"), "password": PASSWORD, "password_repeat": PASSWORD})
        assert response.status_code == 303
    email = unique_email("sixth")
    response = await post_form(client, "/auth/register", {
        "display_name": "Many", "email": email, "password": PASSWORD, "password_repeat": PASSWORD})
    assert response.status_code == 429
    assert await User.count().where(User.email == email) == 0


async def test_next_never_leaves_the_site(client):
    email = unique_email("next")
    await make_user(email)
    response = await post_form(client, "/auth/login", {"email": email, "password": PASSWORD,
                                                        "next": "https://evil.example/steal"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    response = await client.get("/language/ru", params={"next": "//evil.example"})
    assert response.headers["location"] == "/"


async def test_password_reset_without_enumeration(client):
    email = unique_email("reset")
    await make_user(email)
    known = await post_form(client, "/auth/reset", {"email": email})
    unknown = await post_form(client, "/auth/reset", {"email": unique_email("nobody")})
    assert known.status_code == unknown.status_code == 200
    assert _main(known.text) == _main(unknown.text)

    path = link_in((await last_mail_to(email))["body"], "/auth/reset/")
    assert (await client.get(path)).status_code == 200
    mismatch = await post_form(client, path, {"password": "new password 1", "password_repeat": "new password 2"})
    assert mismatch.status_code == 400
    done = await post_form(client, path, {"password": "new password 123", "password_repeat": "new password 123"})
    assert done.status_code == 303
    await post_form(client, "/auth/logout")
    assert (await post_form(client, "/auth/login", {"email": email, "password": PASSWORD})).status_code == 400
    await sign_in(client, email, "new password 123")
    # the link works once
    assert (await client.get(path)).status_code == 400


async def test_profile_language_and_residence(client):
    from civic.territory.tables import Territory

    territory = Territory(kind="district", code=f"t-{unique_email()[:12]}", path="/kz/x/", name_kk="Аудан",
                          name_ru="Район", name_en="District")
    await territory.save()
    email = unique_email("profile")
    await make_user(email, name="Old Name")
    await sign_in(client, email, PASSWORD)
    response = await post_form(client, "/account", {"display_name": "Жаңа Есім", "language": "kk",
                                                     "residence": str(territory.id)})
    assert response.status_code == 303
    row = await User.select().where(User.email == email).first()
    assert (row["display_name"], row["language"], row["residence"]) == ("Жаңа Есім", "kk", territory.id)
    page = await client.get("/account")
    assert 'lang="kk"' in page.text

    bad = await post_form(client, "/account", {"display_name": "Жаңа Есім", "language": "xx", "residence": "999999"})
    assert bad.status_code == 400
    assert (await User.select().where(User.email == email).first())["language"] == "kk"


async def test_personal_data_export_and_deletion(client):
    email = unique_email("gone")
    user = await make_user(email, name="Дана Әбенова")
    from civic.participation import follows
    from civic.participation.tables import Follow

    await follows.follow("sample:gone-1", user["id"])  # the shared participation tables hold it too
    await sign_in(client, email, PASSWORD)
    export = await client.get("/account/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    data = json.loads(export.text)
    assert data["profile"]["email"] == email and data["profile"]["display_name"] == "Дана Әбенова"
    assert [f["subject"] for f in data["participation"]["follows"]] == ["sample:gone-1"]

    refused = await post_form(client, "/account/delete", {"confirm": "yes", "password": "not my password"})
    assert refused.status_code == 400
    assert (await User.select().where(User.id == user["id"]).first())["deleted_at"] is None

    response = await post_form(client, "/account/delete", {"confirm": "yes", "password": PASSWORD})
    assert response.status_code == 303
    row = await User.select().where(User.id == user["id"]).first()
    assert row["deleted_at"] is not None
    assert row["email"] != email and "Әбенова" not in row["display_name"]  # anonymised, the row stays
    assert not await Follow.exists().where(Follow.user == user["id"])  # nobody is told any more
    assert (await client.get("/account")).status_code == 303
    assert (await post_form(client, "/auth/login", {"email": email, "password": PASSWORD})).status_code == 400


async def test_csrf_is_required_on_forms(client):
    email = unique_email("csrf")
    await make_user(email)
    response = await client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 403
    assert "form has expired" in response.text or "form" in response.text.lower()


async def test_api_tokens(client):
    email = unique_email("api")
    await make_user(email, name="Token Holder")
    await sign_in(client, email, PASSWORD)
    response = await post_form(client, "/account/tokens", {"name": "my script"})
    assert response.status_code == 303
    page = await client.get("/account/tokens")
    token = page.text.split('<code class="token">', 1)[1].split("</code>", 1)[0]
    assert token.startswith("ashyq_")
    assert token not in (await client.get("/account/tokens")).text  # shown once

    import httpx

    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    me = await anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["display_name"] == "Token Holder"
    assert (await anonymous.get("/api/v1/me")).status_code == 401
    assert (await anonymous.get("/api/v1/me", headers={"authorization": "Bearer ashyq_wrong"})).status_code == 401

    # a session cookie alone cannot write through the API (no CSRF there, so a token is required)
    assert (await client.post("/api/v1/me")).status_code in (401, 405)

    from datetime import datetime, timedelta, timezone

    from civic.accounts.tables import ApiToken

    token_id = (await ApiToken.select(ApiToken.id).where(ApiToken.name == "my script").first())["id"]

    async def last_used():
        value = (await ApiToken.select(ApiToken.last_used_at).where(ApiToken.id == token_id).first())["last_used_at"]
        return value.replace(tzinfo=value.tzinfo or timezone.utc)

    # "last used" is shown to the minute, and kept current without a write on every call
    first_use = await last_used()
    assert datetime.now(timezone.utc) - first_use < timedelta(minutes=1)
    await anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert await last_used() == first_use
    await ApiToken.update({ApiToken.last_used_at: first_use - timedelta(minutes=5)}).where(ApiToken.id == token_id)
    await anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert await last_used() > first_use - timedelta(minutes=1)
    await post_form(client, f"/account/tokens/{token_id}/revoke")
    assert (await anonymous.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})).status_code == 401


async def test_pages_that_need_sign_in_redirect_with_next(client):
    for path in ("/account", "/account/tokens", "/notifications", "/staff/inbox", "/account/delete"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/auth/login?next=" + path)


async def test_blocked_account_is_signed_out(client):
    email = unique_email("blocked")
    user = await make_user(email)
    await sign_in(client, email, PASSWORD)
    await User.update({User.blocked_reason: "spam"}).where(User.id == user["id"])
    assert (await client.get("/account")).status_code == 303


async def test_password_change_signs_out_other_sessions(app, client):
    import httpx

    email = unique_email("epoch")
    await make_user(email)
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 1)),
                              base_url="http://testserver")
    await sign_in(other, email, PASSWORD)
    await sign_in(client, email, PASSWORD)
    response = await post_form(client, "/account/password", {"current_password": PASSWORD,
                                                              "new_password": "another long password"})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200  # this session was renewed
    assert (await other.get("/account")).status_code == 303  # the other one is out


async def test_account_deletion_is_all_or_nothing_with_the_modules(client, settings):
    """A module that fails to forget the person leaves the account as it was: no half-deleted
    person."""
    from civic.accounts.services import delete_account
    from civic.modules import CivicModule

    person = await make_user(unique_email("atomic"), name="Stays Whole")

    async def fails(user_id: int) -> None:
        await User.update({User.display_name: "changed by the module"}).where(User.id == user_id)
        raise RuntimeError("the module failed")

    broken = CivicModule(slug="broken", title="Broken", forget_person=fails)
    with pytest.raises(RuntimeError):
        await delete_account(settings, person["id"], PASSWORD, [broken])
    row = await User.select(User.display_name, User.deleted_at, User.email).where(User.id == person["id"]).first()
    assert row == {"display_name": "Stays Whole", "deleted_at": None, "email": person["email"]}
