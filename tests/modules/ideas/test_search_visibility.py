"""Issue 3, per rule of the ideas module: a record that is not public can never be found — by
the search API, "similar" or the /search page, by its title word, a typo of it or a word of its
body — also after it was public and then taken out of view, and a full rebuild does not bring
it back.

Every change goes through the same request a person makes (the outbox is filled in the
write's transaction and applied after the response), on the app's real embedded index.
"""

from __future__ import annotations

import pytest

from modules.ideas.tables import Challenge, Idea, IdeaPolicy
from tests.modules.ideas.conftest import PASSWORD
from tests.support.search_visibility import (
    EVERYWHERE, SignedInClients, absent_after_rebuild, found, typo, word,
)
from tests.support.web import post_form


async def absent_from_a_rebuilt_index(tmp_path, document_id: str, words: list[str]) -> None:
    from modules.ideas import module

    public = (await Idea.count().where(Idea.visibility == "visible")
              + await Challenge.count().where(Challenge.visibility == "visible"))
    await absent_after_rebuild(tmp_path, module, public, document_id, words)


# --------------------------------------------------------------------------- the scenario


class Scene(SignedInClients):
    """One idea (or challenge) of one test, with the people acting on it, each signed in on a
    client of their own."""

    def __init__(self, app, world) -> None:
        super().__init__(app, world, PASSWORD)
        self.title_word, self.body_word, self.edit_word = word(), word(), word()
        self.kind = "idea"
        self.id: int | None = None

    @property
    def document_id(self) -> str:
        return f"ideas:{self.id}" if self.kind == "idea" else f"ideas:challenge-{self.id}"

    @property
    def url(self) -> str:
        return f"/ideas/{self.id}" if self.kind == "idea" else f"/ideas/challenges/{self.id}"

    # ----------------------------------------------------------------- what people do

    async def propose(self, moderation: str) -> None:
        await IdeaPolicy.delete().where(IdeaPolicy.organisation == self.world["district_akimat"].id)
        await IdeaPolicy(organisation=self.world["district_akimat"].id, moderation=moderation,
                         support_threshold=100).save()
        response = await post_form(await self.as_("citizen"), "/ideas/new", {
            "title": f"Benches by the {self.title_word} fountain", "category": "courtyards",
            "body": f"Older residents have nowhere to rest near the {self.body_word} playground.",
            "territory": str(self.world["district"].id)})
        assert response.status_code == 303, response.text[:1500]
        self.id = int(response.headers["location"].rsplit("/", 1)[1])

    async def propose_challenge(self) -> None:
        from datetime import date, timedelta

        self.kind = "challenge"
        response = await post_form(await self.as_("dept_official"), "/ideas/challenges/new", {
            "organisation": str(self.world["department"].id), "territory": "",
            "title": f"Safer crossings on {self.title_word} street",
            "problem": f"Children cross the {self.body_word} avenue where cars drive fast.",
            "success_criteria": "Fewer accidents at the crossing within a year.",
            "deadline": (date.today() + timedelta(days=60)).isoformat(), "level": "dialogue"})
        assert response.status_code == 303, response.text[:1500]
        self.id = int(response.headers["location"].rsplit("/", 1)[1])

    async def moderate(self, action: str) -> None:
        data = {"reason": "offensive", "note": "Checked by the test."} if action in ("hide", "reject") else {}
        response = await post_form(await self.as_("moderator"), f"/ideas/moderation/{self.kind}/{self.id}/{action}",
                                   data)
        assert response.status_code == 303, response.text[:1500]

    async def edit(self) -> None:
        """The author edits the idea while it waits: the new text must not leak either."""
        response = await post_form(await self.as_("citizen"), f"/ideas/{self.id}/edit", {
            "title": f"Benches by the {self.title_word} fountain, {self.edit_word}", "category": "courtyards",
            "body": f"Older residents have nowhere to rest near the {self.body_word} playground."})
        assert response.status_code == 303, response.text[:1500]

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
            assert "search" in await found(searcher, self.body_word, self.document_id, self.url)
            return
        for text in (self.title_word, self.body_word, self.edit_word, self.title_word[:-1], typo(self.title_word),
                     f"{self.title_word} {self.body_word}"):
            assert await found(searcher, text, self.document_id, self.url) == set(), text


STEPS = {
    "propose (pre-moderation)": lambda s: s.propose("pre"),
    "propose (post-moderation)": lambda s: s.propose("post"),
    "propose a challenge": lambda s: s.propose_challenge(),
    "author edits": lambda s: s.edit(),
    "approve": lambda s: s.moderate("approve"),
    "reject": lambda s: s.moderate("reject"),
    "hide": lambda s: s.moderate("hide"),
    "restore": lambda s: s.moderate("restore"),
}

#: rule: the steps, each with whether the record is public after it. Every rule is public at
#: some point (so the test can fail) and ends out of public view.
RULES = {
    "waiting for pre-moderation": [("propose (pre-moderation)", False), ("author edits", False), ("approve", True),
                                   ("hide", False)],
    "rejected in pre-moderation": [("propose (pre-moderation)", False), ("reject", False), ("restore", True),
                                   ("hide", False)],
    "hidden while waiting for pre-moderation": [("propose (pre-moderation)", False), ("hide", False),
                                                ("restore", True), ("hide", False)],
    "hidden by a moderator": [("propose (post-moderation)", True), ("hide", False), ("restore", True),
                              ("hide", False)],
    "challenge hidden by a moderator": [("propose a challenge", True), ("hide", False), ("restore", True),
                                        ("hide", False)],
}


@pytest.mark.parametrize("rule", list(RULES))
async def test_an_idea_that_is_not_public_is_never_found(app, world, rule, tmp_path):
    scene = Scene(app, world)
    try:
        steps = RULES[rule]
        last_private = max(i for i, (_, public) in enumerate(steps) if not public)
        for i, (step, public) in enumerate(steps):
            await STEPS[step](scene)
            await scene.check(public)
            if i == last_private:
                await absent_from_a_rebuilt_index(tmp_path, scene.document_id,
                                                  [scene.title_word, scene.body_word, scene.edit_word])
    finally:
        await scene.close()


async def test_comments_and_the_authors_name_never_find_an_idea(app, world):
    """A comment (published, waiting for pre-moderation, or hidden) is not a search document, and
    the author's name is not in the idea's document."""
    from civic.participation.tables import Comment

    scene = Scene(app, world)
    try:
        await scene.propose("post")
        await scene.check(True)
        searcher = await scene.as_("anonymous")
        visible_word, pending_word = word(), word()
        commenter = await scene.as_("neighbour")
        response = await post_form(commenter, f"/ideas/{scene.id}/comments",
                                   {"comment": f"Yes please, near the {visible_word} entrance."})
        assert response.status_code == 303, response.text[:1500]
        await IdeaPolicy.delete().where(IdeaPolicy.organisation == world["district_akimat"].id)
        await IdeaPolicy(organisation=world["district_akimat"].id, moderation="pre", support_threshold=100).save()
        response = await post_form(commenter, f"/ideas/{scene.id}/comments",
                                   {"comment": f"And call me at the {pending_word} office."})
        assert response.status_code == 303, response.text[:1500]
        assert await Comment.count().where(Comment.subject == f"ideas:{scene.id}") == 2
        visible = await Comment.select(Comment.id).where(Comment.body.like(f"%{visible_word}%")).first()
        response = await post_form(await scene.as_("moderator"), f"/ideas/moderation/comment/{visible['id']}/hide",
                                   {"reason": "offensive"})
        assert response.status_code == 303, response.text[:1500]
        for text in (visible_word, pending_word, world["citizen"]["display_name"], world["neighbour"]["display_name"]):
            assert await found(searcher, text, scene.document_id, scene.url) == set(), text
    finally:
        await scene.close()
