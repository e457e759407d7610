"""The official-response engine through the browser: the staff inbox with its traffic light,
acknowledging and answering through the forms, and the citizen reading the answer."""

from __future__ import annotations

import uuid

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DEMO_PEOPLE
from tests.browser.helpers import navigating, path_of, sign_in, switch_language
from tests.support.web import make_user, unique_email

pytestmark = pytest.mark.browser

OFFICIAL = next(p for p in DEMO_PEOPLE if p.email == f"aigerim.official@{DEMO_EMAIL_DOMAIN}")


async def test_official_acknowledges_and_answers_citizen_reads(new_context):
    from civic.responses.services import open_response
    from civic.territory.tables import Organisation

    citizen_email, citizen_password = unique_email("browser-citizen"), "correct horse battery"
    citizen = await make_user(citizen_email, name="Бауыржан Citizen", password=citizen_password)
    organisation = await Organisation.select(Organisation.id).where(
        Organisation.slug == OFFICIAL.organisation).first()
    title = f"Broken street lights on Abay avenue {uuid.uuid4().hex[:6]}"
    response = await open_response(subject=f"browser:{uuid.uuid4().hex[:10]}", subject_kind="browser",
                                   subject_title=title, subject_url="/", organisation_id=organisation["id"],
                                   citizen_id=citizen["id"])

    official = await (await new_context()).new_page()
    await sign_in(official, OFFICIAL.email, DEMO_PASSWORD)
    await switch_language(official, "en")
    await navigating(official, official.locator(".main-nav").get_by_role("link", name="Staff inbox").click())
    assert path_of(official) == "/staff/inbox"
    row = official.locator("table.inbox tbody tr", has=official.get_by_role("link", name=title))
    assert await row.count() == 1
    light = row.locator(".light")
    assert "light-green" in (await light.get_attribute("class")).split()
    assert await light.inner_text() == "on time"  # the colour is never the only sign
    assert "15 working days left" in await row.inner_text()

    await navigating(official, row.get_by_role("link", name=title).click())
    assert path_of(official) == f"/responses/{response.id}"
    await official.get_by_label("Specialist who will answer").select_option(label=OFFICIAL.name)
    await navigating(official, official.get_by_role("button", name="Acknowledge and tell the citizen").click())
    assert path_of(official) == f"/responses/{response.id}"
    await official.get_by_role("status").filter(has_text="handling").wait_for()
    facts = official.locator("dl.facts")
    assert OFFICIAL.name in await facts.inner_text()
    assert "acknowledged" in await facts.inner_text()

    answer = "The lights will be repaired by **Friday**; the contractor is on site."
    await official.get_by_label("Answer", exact=True).fill(answer)
    await navigating(official, official.get_by_role("button", name="Send the answer").click())
    assert path_of(official) == f"/responses/{response.id}"
    await official.get_by_role("status").filter(has_text="published").wait_for()
    assert "answered" in await official.locator("dl.facts").inner_text()
    assert await official.locator(".staff-actions").count() == 0  # nothing left to do

    reader = await (await new_context()).new_page()
    await sign_in(reader, citizen_email, citizen_password, next_path="/notifications")
    await switch_language(reader, "en")
    # told at receipt, at acknowledgement (naming the specialist) and at the answer
    notifications = reader.locator(".notification", has_text=title)
    assert await notifications.count() == 3
    assert OFFICIAL.name in " ".join(await notifications.all_inner_texts())
    await reader.goto(f"/responses/{response.id}")
    section = reader.locator("section.answer")
    assert "The lights will be repaired by Friday" in await section.inner_text()
    assert await section.locator("strong").inner_text() == "Friday"  # Markdown rendered
    await reader.get_by_role("heading", name="Rate the answer").wait_for()
