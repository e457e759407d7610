"""Helpers for the browser tests: signing in through the form, switching language, axe-core."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGE_SWITCHES = ("kk", "ru", "en", "latn")  # the header links /language/<code>
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def path_of(page) -> str:
    return urlsplit(page.url).path


async def navigating(page, action) -> None:
    """Do `action` (a click, a key press) and wait until the page it leads to has loaded."""
    async with page.expect_navigation():
        await action


async def sign_in(page, email: str, password: str, next_path: str = "/account") -> None:
    """Sign in through the form, as a person would."""
    await page.goto(f"/auth/login?next={next_path}")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await navigating(page, page.click("main form[action='/auth/login'] button[type=submit]"))
    assert path_of(page) == next_path, f"sign-in as {email} ended at {page.url}"


async def switch_language(page, code: str) -> None:
    """Follow the header link of a language (kk, ru, en, or latn for Kazakh in Latin letters);
    the switch brings the reader back to the same page."""
    before = path_of(page)
    await navigating(page, page.click(f"nav.languages a[href^='/language/{code}?']"))
    assert path_of(page) == before


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


async def axe_violations(page) -> list[dict]:
    """Run axe-core (vendored, served from /static like any other script, so the page's CSP
    allows it) against the WCAG 2.0/2.1 A and AA rules."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(url="/static/vendor/axe.min.js")
    result = await page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )
    return result
