"""Shared by the modules' search visibility tests (issue 3: a record out of public view can
never be found): unique words, their typos, and every way the site lets someone search."""

from __future__ import annotations

import random
import uuid

import httpx

from tests.support.web import sign_in

EVERYWHERE = {"search", "similar", "page"}


def word() -> str:
    """A word no other test uses, so that what it finds is only this test's record."""
    letters = "bdfgklmnprstvz"
    return "zhel" + "".join(letters[int(c, 16) % len(letters)] for c in uuid.uuid4().hex[:7])


def typo(w: str) -> str:
    """One letter changed in the middle: what a search with typo tolerance would still match."""
    i = len(w) // 2 + 1
    return w[:i] + ("a" if w[i] != "a" else "o") + w[i + 1:]


def client_for(app) -> httpx.AsyncClient:
    """A client from an address of its own (rate limits count per address)."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                             base_url="http://testserver", headers={"accept-language": "en"})


async def found(client: httpx.AsyncClient, text: str, document_id: str, url: str) -> set[str]:
    """Where the record is found for `text`: "search" (the API), "similar" and "page" (/search)."""
    where = set()
    response = await client.get("/api/v1/search", params={"q": text})
    assert response.status_code == 200, response.text[:500]
    if document_id in {h["id"] for h in response.json()["hits"]}:
        where.add("search")
    response = await client.get("/api/v1/search/similar", params={"text": text})
    assert response.status_code == 200, response.text[:500]
    if document_id in {h["id"] for h in response.json()["hits"]}:
        where.add("similar")
    response = await client.get("/search", params={"q": text})
    assert response.status_code == 200, response.text[:500]
    if f'href="{url}"' in response.text:
        where.add("page")
    return where


async def absent_after_rebuild(tmp_path, module, public_count: int, document_id: str, words: list[str]) -> None:
    """A full rebuild of the module into an index of its own (the app's index is shared with the
    other tests) holds every public record of the module (``public_count``), and not this one."""
    from search.documents import SearchQuery
    from search.embedded import EmbeddedBackend
    from search.service import rebuild

    private = EmbeddedBackend(tmp_path / f"index-{uuid.uuid4().hex[:6]}", writer_idle=0)
    try:
        report = await rebuild(private, [module])
        assert report.indexed == {module.slug: public_count}
        assert document_id not in private.all_ids()
        for w in words:
            assert document_id not in {h.id for h in private.search(SearchQuery(text=w)).hits}
    finally:
        private.close()


class SignedInClients:
    """The people of one test scene, each signed in on a client of their own: ``as_(key)`` for
    a person of the ``world`` fixture, or "anonymous"."""

    def __init__(self, app, world, password: str) -> None:
        self.app, self.world, self.password = app, world, password
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def as_(self, key: str) -> httpx.AsyncClient:
        if key not in self.clients:
            client = client_for(self.app)
            await client.__aenter__()
            if key != "anonymous":
                await sign_in(client, self.world[key]["email"], self.password)
            self.clients[key] = client
        return self.clients[key]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.__aexit__(None, None, None)
