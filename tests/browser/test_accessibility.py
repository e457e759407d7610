"""Every core page passes axe-core's WCAG 2.1 A/AA rules, in each language and script."""

from __future__ import annotations

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from tests.browser.helpers import LANGUAGE_SWITCHES, axe_violations, format_violations, sign_in, switch_language

pytestmark = pytest.mark.browser

OFFICIAL = f"aigerim.official@{DEMO_EMAIL_DOMAIN}"
ORGANISATION = "almaty-housing"
PUBLIC_PAGES = ["/", "/organisations", f"/organisations/{ORGANISATION}", "/auth/login", "/auth/register",
                "/auth/reset", "/no-such-page"]
SIGNED_IN_PAGES = ["/account", "/account/tokens", "/account/delete", "/notifications", "/staff/inbox"]
EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}


@pytest.fixture(scope="module")
async def open_response(live_server):
    """Something in the official's inbox, so the inbox table and the response page are checked too."""
    import uuid

    from civic.responses.services import open_response
    from civic.territory.tables import Organisation

    organisation = await Organisation.select(Organisation.id).where(Organisation.slug == ORGANISATION).first()
    return await open_response(subject=f"browser-a11y:{uuid.uuid4().hex[:8]}", subject_kind="browser",
                               subject_title="Лифт в доме 12 не работает", subject_url="/",
                               organisation_id=organisation["id"])


async def check(page, path: str, code: str, failures: list[str]) -> None:
    await page.goto(path)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_core_pages_pass_axe(new_context, code, open_response):
    context = await new_context()
    page = await context.new_page()
    failures: list[str] = []
    await page.goto("/")
    await switch_language(page, code)
    for path in PUBLIC_PAGES:
        await check(page, path, code, failures)

    await sign_in(page, OFFICIAL, DEMO_PASSWORD)
    await switch_language(page, code)  # signing in applies the account's language
    for path in [*SIGNED_IN_PAGES, f"/responses/{open_response.id}"]:
        await check(page, path, code, failures)
    assert not failures, "axe-core found WCAG 2.1 AA violations:\n" + "\n".join(failures)
