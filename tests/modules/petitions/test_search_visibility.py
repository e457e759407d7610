"""Issue 3, per rule of the petitions module: a petition that is not listed publicly can never
be found — by the search API, "similar" or the /search page, by its title word, a typo of it or
a word of what it asks and why — and a full rebuild does not bring it back.

A petition is indexed only once it is published *and* listed (issue 5: reachable by its link
only until it has enough signatures), so the search cannot reveal a link-only petition. Once
listed it stays listed (the module has no hide or withdraw of a petition), so here "taken out
of public view" means: it never got there — while waiting for moderation, after a refusal, and
while below the listing threshold, also after signatures came and went.

Every change goes through the same request a person makes (the outbox is filled in the
write's transaction and applied after the response), on the app's real embedded index.
"""

from __future__ import annotations

import pytest

from modules.petitions.tables import Petition, PetitionRule
from tests.modules.petitions.conftest import PASSWORD
from tests.support.search_visibility import (
    EVERYWHERE, SignedInClients, absent_after_rebuild, found, typo, word,
)
from tests.support.web import post_form


async def absent_from_a_rebuilt_index(tmp_path, document_id: str, words: list[str]) -> None:
    from modules.petitions import module

    listed = await Petition.count().where(Petition.listed_at.is_not_null() & Petition.state.is_in(["open", "closed"]))
    await absent_after_rebuild(tmp_path, module, listed, document_id, words)


# --------------------------------------------------------------------------- the scenario


class Scene(SignedInClients):
    """One petition of one test, with the people acting on it, each signed in on a client of
    their own."""

    def __init__(self, app, world) -> None:
        super().__init__(app, world, PASSWORD)
        self.title_word, self.ask_word, self.reasons_word = word(), word(), word()
        self.id: int | None = None
        self.key: str | None = None

    @property
    def document_id(self) -> str:
        return f"petitions:{self.id}"

    @property
    def url(self) -> str:
        return f"/petitions/{self.key}"

    async def rules(self, listing: int) -> None:
        """The addressee's rules (set up directly: the rules pages have tests of their own)."""
        await PetitionRule.delete().where(PetitionRule.organisation == self.world["akimat"].id)
        await PetitionRule(organisation=self.world["akimat"].id, listing_threshold=listing,
                           prohibited_topics=[]).save()

    # ----------------------------------------------------------------- what people do

    async def submit(self, title_word: str | None = None) -> tuple[int, str]:
        title_word = title_word or self.title_word
        response = await post_form(await self.as_("author"), "/petitions/new", {
            "title": f"Light the {title_word} courtyards", "organisation": str(self.world["akimat"].id),
            "territory": str(self.world["district"].id),
            "ask": f"Install street lamps in every {self.ask_word} courtyard this year.",
            "reasons": f"Courtyards near the {self.reasons_word} school are dark in winter from five o'clock."})
        assert response.status_code == 303, response.text[:1500]
        key = response.headers["location"].rsplit("/", 1)[1]
        petition = await Petition.select(Petition.id).where(Petition.key == key).first()
        if title_word == self.title_word:
            self.id, self.key = petition["id"], key
        return petition["id"], key

    async def moderate(self, action: str, key: str | None = None) -> None:
        data = {"reason": "court", "note": "Checked by the test."} if action == "reject" else {}
        response = await post_form(await self.as_("moderator"), f"/petitions/{key or self.key}/{action}", data)
        assert response.status_code == 303, response.text[:1500]

    async def sign(self, who: str, action: str = "sign") -> None:
        response = await post_form(await self.as_(who), f"/petitions/{self.key}/{action}")
        assert response.status_code == 303, response.text[:1500]

    async def control(self) -> None:
        """Another petition of the same addressee, published and listed, is found: the search
        sees this module's petitions, so not finding the one under test means something."""
        await self.rules(listing=0)
        control_word = word()
        petition_id, key = await self.submit(control_word)
        await self.moderate("approve", key)
        assert await found(await self.as_("anonymous"), control_word, f"petitions:{petition_id}",
                           f"/petitions/{key}") == EVERYWHERE

    # ----------------------------------------------------------------- what the search shows

    async def check(self, public: bool) -> None:
        from search.tables import SearchOutboxEntry

        # the request's change was applied after its response: nothing of it waits in the outbox
        waiting = await SearchOutboxEntry.select(SearchOutboxEntry.action).where(
            SearchOutboxEntry.document_id == self.document_id)
        assert waiting == [], f"{self.document_id}: still in the outbox after the request: {waiting}"
        searcher = await self.as_("anonymous")
        if public:
            assert await found(searcher, self.title_word, self.document_id, self.url) == EVERYWHERE
            assert "search" in await found(searcher, self.ask_word, self.document_id, self.url)
            assert "search" in await found(searcher, self.reasons_word, self.document_id, self.url)
        else:
            for text in (self.title_word, self.ask_word, self.reasons_word, self.title_word[:-1],
                         typo(self.title_word), f"{self.title_word} {self.ask_word}"):
                assert await found(searcher, text, self.document_id, self.url) == set(), text
        # the names of the author and the signers are never in the petition's document
        for person in ("author", "signer", "neighbour"):
            assert await found(searcher, self.world[person]["display_name"], self.document_id, self.url) == set()


STEPS = {
    "listing at 0": lambda s: s.rules(listing=0),
    "listing at 2": lambda s: s.rules(listing=2),
    "submit": lambda s: s.submit(),
    "approve": lambda s: s.moderate("approve"),
    "reject": lambda s: s.moderate("reject"),
    "signer signs": lambda s: s.sign("signer"),
    "signer withdraws": lambda s: s.sign("signer", "withdraw"),
    "neighbour signs": lambda s: s.sign("neighbour"),
    "a listed petition is found": lambda s: s.control(),
}

#: rule: the steps, each with whether the petition is public after it (None: not checked).
RULES = {
    "waiting for moderation": [("listing at 0", None), ("submit", False), ("approve", True)],
    "not published by the moderator": [("a listed petition is found", None), ("submit", False), ("reject", False)],
    "link only below the listing threshold": [
        ("listing at 2", None), ("submit", False), ("approve", False), ("signer signs", False),
        ("signer withdraws", False), ("signer signs", False), ("neighbour signs", True)],
}


@pytest.mark.parametrize("rule", list(RULES))
async def test_a_petition_that_is_not_listed_is_never_found(app, world, rule, tmp_path):
    scene = Scene(app, world)
    try:
        steps = RULES[rule]
        last_private = max(i for i, (_, public) in enumerate(steps) if public is False)
        for i, (step, public) in enumerate(steps):
            await STEPS[step](scene)
            if public is not None:
                await scene.check(public)
            if i == last_private:
                await absent_from_a_rebuilt_index(tmp_path, scene.document_id,
                                                  [scene.title_word, scene.ask_word, scene.reasons_word])
    finally:
        await scene.close()
