"""Shared by the search tests: documents and opening a backend of each kind."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

from search.documents import Document

BACKENDS = ["embedded", "meilisearch"]


def make_doc(key: str, title: str, body: str = "", **fields) -> Document:
    module, _, _ = key.partition(":")
    values = dict(
        id=key, module=module, kind=module.rstrip("s"), title=title, body=body,
        territory="/kz/almaty/bostandyk/", organisation="almaty-akimat", status="open",
        level="consult", lang="kk", created_at=datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc),
        url="/" + key.replace(":", "/"), summary="",
    )
    values.update(fields)
    if isinstance(values["created_at"], str):
        values["created_at"] = datetime.fromisoformat(values["created_at"])
    return Document(**values)


def open_backend(kind: str, request, path_factory):
    """A configured, empty backend and the function that disposes of it. Meilisearch indexes get
    a unique name on the session's server (fixture ``meili_server``)."""
    if kind == "embedded":
        from search.embedded import EmbeddedBackend

        backend = EmbeddedBackend(path_factory() / "search", writer_idle=0.5, lock_timeout=1.0)
        backend.configure()
        return backend, backend.close
    from search.meili import MeiliBackend

    url, key = request.getfixturevalue("meili_server")
    backend = MeiliBackend(url, key, index_name=f"test_{uuid.uuid4().hex[:12]}")
    backend.configure()
    return backend, backend.drop
