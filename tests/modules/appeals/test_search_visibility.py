"""Issue 3, per rule of the appeals module: an appeal is a private exchange between a citizen
and a body; only the redacted text an official publishes with the citizen's consent is indexed.
An appeal that is not published can never be found — by the search API, "similar" or the
/search page, by its title word, a typo of it or a word of its body — also after it was
published and then withdrawn, and a full rebuild does not bring it back. What is personal (the
original text, the private answer, the citizen's or applicant's name and contact) is never
found at all, published or not.

Every change goes through the same request a person makes (the outbox is filled in the
write's transaction and applied after the response), on the app's real embedded index.
"""

from __future__ import annotations

import httpx
import pytest

from modules.appeals.tables import Appeal
from tests.modules.appeals.conftest import PASSWORD
from tests.support.search_visibility import (
    EVERYWHERE, SignedInClients, absent_after_rebuild, found, typo, word,
)
from tests.support.web import csrf_token, post_form


async def absent_from_a_rebuilt_index(tmp_path, document_id: str, words: list[str]) -> None:
    from modules.appeals import module

    published = await Appeal.count().where(Appeal.published_at.is_not_null()
                                           & (Appeal.publish_consent == True))  # noqa: E712
    await absent_after_rebuild(tmp_path, module, published, document_id, words)


# --------------------------------------------------------------------------- the scenario


class Scene(SignedInClients):
    """One appeal of one test, with the people acting on it, each signed in on a client of
    their own. ``title_word`` and ``body_word`` are in the text the official publishes; the
    ``secrets`` must never be found."""

    def __init__(self, app, world) -> None:
        super().__init__(app, world, PASSWORD)
        self.title_word, self.body_word = word(), word()
        self.original_title_word, self.original_body_word, self.answer_word = word(), word(), word()
        self.applicant_word, self.contact_word = word(), word()
        self.id: int | None = None
        self.number: str | None = None

    @property
    def secrets(self) -> dict[str, str]:
        return {"a word of the original title": self.original_title_word,
                "a word of the original text": self.original_body_word,
                "a word of the private answer": self.answer_word,
                "the applicant's name": self.applicant_word,
                "the applicant's postal address (contact)": self.contact_word,
                "the citizen's name": self.world["citizen"]["display_name"],
                "the citizen's e-mail": self.world["citizen"]["email"]}

    @property
    def document_id(self) -> str:
        return f"appeals:{self.id}"

    @property
    def url(self) -> str:
        return f"/appeals/{self.number}"

    # ----------------------------------------------------------------- what people do

    async def _multipart(self, who: str, path: str, data: dict) -> httpx.Response:
        client = await self.as_(who)
        return await client.post(path, data={**data, "_csrf_token": await csrf_token(client)},
                                 files={"attachment_1": ("", b"", "application/octet-stream")})

    async def _registered(self, response: httpx.Response) -> None:
        assert response.status_code == 303, response.text[:1500]
        self.number = response.headers["location"].split("/")[2]
        self.id = (await Appeal.select(Appeal.id).where(Appeal.number == self.number).first())["id"]

    async def file(self, consent: bool) -> None:
        """The citizen files online; the original text names them and their flat."""
        await self._registered(await self._multipart("citizen", "/appeals/new", {
            "kind": "complaint", "category": "energy", "territory": str(self.world["district"].id),
            "title": f"No hot water in the {self.original_title_word} block",
            "body": f"I am {self.world['citizen']['display_name']} from the {self.original_body_word} block, flat 12, "
                    f"e-mail {self.world['citizen']['email']}. There has been no hot water for a week.",
            **({"publish_consent": "yes"} if consent else {})}))

    async def register_by_phone(self) -> None:
        """An official registers a phone call from a person without an account, who gives a
        postal address for the answer and agrees to publication."""
        await self._registered(await self._multipart("official", "/appeals/staff/new", {
            "kind": "complaint", "category": "energy", "territory": str(self.world["district"].id),
            "channel": "phone", "applicant_name": f"Aigerim {self.applicant_word.title()}",
            "applicant_contact": f"{self.contact_word.title()} street 14, flat 9, Almaty",
            "title": f"No hot water in the {self.original_title_word} block",
            "body": f"Caller lives at {self.contact_word.title()} street 14, flat 9, in the {self.original_body_word} "
                    f"block. There has been no hot water for a week.",
            "publish_consent": "yes"}))

    async def consent(self, yes: bool) -> None:
        response = await post_form(await self.as_("citizen"), f"/appeals/{self.number}/consent",
                                   {"publish_consent": "yes" if yes else "no"})
        assert response.status_code == 303, response.text[:1500]

    async def answer(self) -> None:
        response = await post_form(await self.as_("energy_official"), f"/appeals/{self.number}/answer",
                                   {"answer": f"The pipe at the {self.answer_word} substation is repaired; hot water "
                                              "is back since Monday."})
        assert response.status_code == 303, response.text[:1500]

    async def _publish(self, body: str) -> httpx.Response:
        return await post_form(await self.as_("energy_official"), f"/appeals/{self.number}/publication", {
            "action": "publish", "public_title": f"No hot water in a {self.title_word} block",
            "public_body": body, "public_answer": ""})

    async def publish(self) -> None:
        response = await self._publish(f"No hot water for a week in one {self.body_word} block.")
        assert response.status_code == 303, response.text[:1500]

    async def publish_refused(self) -> None:
        """Without the citizen's consent the official cannot publish."""
        response = await self._publish(f"No hot water for a week in one {self.body_word} block.")
        assert response.status_code == 400 and "has not allowed publishing" in response.text

    async def publish_with_the_contact(self) -> None:
        """The official leaves the applicant's postal address in the public text: it is personal
        data like a phone number or an e-mail address, and must not be published (whatever the
        answer to this request, the address must never be found: checked by ``check``)."""
        await self._publish(f"The caller at {self.contact_word.title()} street 14, flat 9, has had no hot water "
                            f"for a week in one {self.body_word} block.")

    async def unpublish(self) -> None:
        response = await post_form(await self.as_("energy_official"), f"/appeals/{self.number}/publication",
                                   {"action": "unpublish"})
        assert response.status_code == 303, response.text[:1500]

    # ----------------------------------------------------------------- what the search shows

    async def check(self, public: bool | None) -> None:
        from search.tables import SearchOutboxEntry

        # the request's change was applied after its response: nothing of it waits in the outbox
        assert not await SearchOutboxEntry.exists().where(SearchOutboxEntry.document_id == self.document_id)
        searcher = await self.as_("anonymous")
        if public is True:
            assert await found(searcher, self.title_word, self.document_id, self.url) == EVERYWHERE
            assert "search" in await found(searcher, self.body_word, self.document_id, self.url)
        elif public is False:
            for text in (self.title_word, self.body_word, self.title_word[:-1], typo(self.title_word),
                         f"{self.title_word} {self.body_word}"):
                assert await found(searcher, text, self.document_id, self.url) == set(), text
        for what, secret in self.secrets.items():
            assert await found(searcher, secret, self.document_id, self.url) == set(), f"found by {what}: {secret}"
        # nor is anything personal in what a hit shows (title, summary, highlights)
        response = await searcher.get("/api/v1/search", params={"q": self.title_word})
        shown = str([h for h in response.json()["hits"] if h["id"] == self.document_id]).casefold()
        for secret in [*self.secrets.values(), "flat 9", "flat 12"]:
            assert secret.casefold() not in shown, f"a hit shows {secret}"


STEPS = {
    "citizen files without consent": lambda s: s.file(consent=False),
    "citizen files with consent": lambda s: s.file(consent=True),
    "official registers a phone call": lambda s: s.register_by_phone(),
    "publishing is refused": lambda s: s.publish_refused(),
    "citizen consents": lambda s: s.consent(True),
    "citizen withdraws consent": lambda s: s.consent(False),
    "official answers privately": lambda s: s.answer(),
    "official publishes": lambda s: s.publish(),
    "official publishes the contact": lambda s: s.publish_with_the_contact(),
    "official unpublishes": lambda s: s.unpublish(),
}

#: rule: the steps, each with whether the appeal is public after it (None: either, the secrets
#: are checked all the same).
RULES = {
    "without the citizen's consent": [
        ("citizen files without consent", False), ("publishing is refused", False), ("citizen consents", False),
        ("official publishes", True), ("citizen withdraws consent", False)],
    "unpublished by an official": [
        ("citizen files with consent", False), ("official publishes", True), ("official unpublishes", False)],
    "the answer is private": [
        ("citizen files with consent", False), ("official answers privately", False), ("official publishes", True),
        ("official unpublishes", False)],
    "answered after publication": [
        ("citizen files with consent", False), ("official publishes", True), ("official answers privately", True),
        ("citizen withdraws consent", False)],
    "the applicant's contact": [
        ("official registers a phone call", False), ("official publishes the contact", None),
        ("official publishes", True), ("official unpublishes", False)],
}


@pytest.mark.parametrize("rule", list(RULES))
async def test_an_appeal_that_is_not_published_is_never_found(app, world, rule, tmp_path):
    scene = Scene(app, world)
    try:
        steps = RULES[rule]
        last_private = max(i for i, (_, public) in enumerate(steps) if public is False)
        for i, (step, public) in enumerate(steps):
            await STEPS[step](scene)
            await scene.check(public)
            if i == last_private:
                await absent_from_a_rebuilt_index(tmp_path, scene.document_id,
                                                  [scene.title_word, scene.body_word, *scene.secrets.values()])
    finally:
        await scene.close()
