"""Sign-up, sign-in and sign-out in Chromium, by keyboard."""

from __future__ import annotations

import asyncio

import pytest

from civic.demo import DEMO_PASSWORD, DEMO_PEOPLE
from tests.browser.helpers import axe_violations, format_violations, navigating, path_of
from tests.support.web import last_mail_to, link_in, unique_email

pytestmark = pytest.mark.browser

CITIZEN = next(p for p in DEMO_PEOPLE if p.role == "" and p.language == "kk")


async def focused(page) -> dict:
    return await page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), id: e.id, type: e.type || '', text: (e.textContent || '').trim(),
                href: e.getAttribute('href') || '',
                form: e.tagName === 'BUTTON' && e.form ? new URL(e.form.action).pathname : ''}; }""")


async def skip_to_main(page) -> None:
    """The first Tab reaches the skip link; following it puts the keyboard inside <main>."""
    await page.keyboard.press("Tab")
    assert (await focused(page))["href"] == "#main"
    await page.keyboard.press("Enter")
    assert (await focused(page))["id"] == "main"


async def tab_to(page, predicate, limit: int = 40) -> dict:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        element = await focused(page)
        if predicate(element):
            return element
    raise AssertionError("the keyboard never reached the element")


async def mail_to(address: str) -> dict:
    for _ in range(50):  # queued in the request's transaction; allow for a slow commit
        mail = await last_mail_to(address)
        if mail:
            return mail
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail to {address}")


async def test_sign_up_by_keyboard_and_confirm_by_mail(page):
    email = unique_email("browser-signup")
    await page.goto("/auth/register")
    await skip_to_main(page)
    for field, value in (("display_name", "Әлия Browser"), ("email", email), ("password", "correct horse battery"),
                         ("password_repeat", "correct horse battery")):
        await page.keyboard.press("Tab")
        assert (await focused(page))["id"] == field
        await page.keyboard.type(value)
    await page.keyboard.press("Tab")  # the hidden honeypot field is not in the tab order
    assert (await focused(page))["tag"] == "button"
    await navigating(page, page.keyboard.press("Enter"))
    assert path_of(page) == "/auth/register/sent"
    await page.get_by_role("heading", level=1, name="Check your e-mail").wait_for()

    mail = await mail_to(email)
    await page.goto(link_in(mail["body"], "/auth/confirm/"))
    assert path_of(page) == "/account"
    assert await page.locator("h1").inner_text() == "Your account"
    assert "confirmed" in await page.get_by_role("status").first.inner_text()
    assert await page.locator(".main-nav a[href='/account']").inner_text() == "Әлия Browser"
    assert await page.locator(".main-nav form[action='/auth/logout'] button").is_visible()


async def test_wrong_password_then_sign_in_and_out_by_keyboard(page):
    await page.goto("/auth/login")
    await page.fill("#email", CITIZEN.email)
    await page.fill("#password", "not the password")
    await page.press("#password", "Enter")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "not correct" in await alert.inner_text()
    form = page.locator("main form[action='/auth/login']")
    assert await form.get_attribute("aria-describedby") == await alert.get_attribute("id")
    assert await page.input_value("#email") == CITIZEN.email  # kept, only the password is asked again
    violations = await axe_violations(page)
    assert not violations, format_violations(violations)

    await skip_to_main(page)
    await page.keyboard.press("Tab")
    assert (await focused(page))["id"] == "email"
    await page.keyboard.press("Tab")
    assert (await focused(page))["id"] == "password"
    await page.keyboard.type(DEMO_PASSWORD)
    await navigating(page, page.keyboard.press("Enter"))
    assert path_of(page) == "/"
    assert await page.locator(".main-nav a[href='/account']").inner_text() == CITIZEN.name
    assert await page.get_attribute("html", "lang") == CITIZEN.language  # the account's language applies

    # sign out from the header, reached by keyboard
    await tab_to(page, lambda e: e["form"] == "/auth/logout")
    await navigating(page, page.keyboard.press("Enter"))
    assert path_of(page) == "/"
    await page.get_by_role("status").first.wait_for()
    assert await page.locator(".main-nav a[href^='/auth/login']").is_visible()
    assert await page.locator(".main-nav a[href='/account']").count() == 0


async def test_register_errors_are_tied_to_their_fields(page):
    await page.goto("/auth/register")
    await page.fill("#display_name", "Someone")
    await page.fill("#email", unique_email("browser-mismatch"))
    await page.fill("#password", "correct horse battery")
    await page.fill("#password_repeat", "another horse battery")
    await page.press("#password_repeat", "Enter")
    repeat = page.locator("#password_repeat")
    await page.locator("#password_repeat-error").wait_for()
    assert await repeat.get_attribute("aria-invalid") == "true"
    assert await repeat.get_attribute("aria-describedby") == "password_repeat-error"
    assert await page.input_value("#password") == ""  # passwords are never sent back
    violations = await axe_violations(page)
    assert not violations, format_violations(violations)
