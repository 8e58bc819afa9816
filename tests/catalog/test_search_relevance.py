"""The relevance table (tests/catalog/search_relevance.py, docs/search-relevance.md) against
PostgreSQL and, when MEILI_URL names a running server, Meilisearch. The SQLite backend is
held to the same table by sqlite_search_check.py (a second pytest run in scripts/test)."""

import os
import uuid
from pathlib import Path

import pytest

from catalog.search import SearchFilters
from catalog.search.meili import MeilisearchBackend
from catalog.search.postgres import PostgresBackend
from tests.catalog.search_relevance import CASES, Case, check, load_catalog

pytestmark = pytest.mark.django_db

# A real Meilisearch joins only when one is configured (docker-compose starts one).
BACKENDS = ["postgres"] + (["meilisearch"] if os.environ.get("MEILI_URL") else [])
DOC = Path(__file__).resolve().parents[2] / "docs" / "search-relevance.md"


@pytest.fixture
def backend(request, settings):
    if request.param == "postgres":
        yield PostgresBackend()
        return
    settings.MEILI_INDEX = f"test_courses_{uuid.uuid4().hex[:12]}"
    meili = MeilisearchBackend.from_settings()
    yield meili
    meili.writer.delete_index(settings.MEILI_INDEX)


@pytest.mark.parametrize(
    ("backend", "case"),
    [
        pytest.param(engine, case, id=f"{engine}-{case.id}")
        for engine in BACKENDS
        for case in CASES
        if engine in case.engines
    ],
    indirect=["backend"],
)
def test_relevance(backend, case: Case):
    load_catalog()
    if isinstance(backend, MeilisearchBackend):
        backend.rebuild()
    result = backend.search(
        query=case.query, filters=SearchFilters(**case.filters), limit=case.limit, offset=0
    )
    body = result.to_dict()
    check(case, body)
    if case.db_total is not None and backend.engine != "meilisearch":
        assert body["total"] == case.db_total, [hit["title"] for hit in body["hits"]]
    assert body["engine"] == backend.engine


def test_the_document_lists_every_case():
    document = DOC.read_text()
    for case in CASES:
        assert f"`{case.query}`" in document or (not case.query and "(empty)" in document)
