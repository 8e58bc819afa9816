"""Catalog search: one facade over three engines (PostgreSQL and SQLite full-text search,
Meilisearch) chosen by catalog.search.router.

    from catalog.search import SearchFilters, search
    search(query="pyth", filters=SearchFilters(level="beginner"), limit=20, offset=0).to_dict()
"""

import time
from collections.abc import Sequence
from typing import Any

from catalog import cache as catalog_cache
from catalog.search import router
from catalog.search.types import (
    RELEVANCE,
    Progress,
    SearchFilters,
    SearchResult,
    SearchUnavailable,
)

__all__ = [
    "SearchFilters",
    "SearchResult",
    "SearchUnavailable",
    "cached_search",
    "health",
    "index",
    "rebuild",
    "remove",
    "search",
    "synonyms_push",
]


def search(
    *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
) -> SearchResult:
    """Published courses matching `query` (empty: the most popular ones), with facets, in
    the order `sort` names (catalog.shapes.SearchSort; relevance by default)."""
    return router.search(query=query, filters=filters, limit=limit, offset=offset, sort=sort)


def cached_search(
    *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
) -> dict[str, Any]:
    """search(...).to_dict() through the catalog cache for CATALOG_LIST_CACHE_SECONDS.

    Keys carry the catalog's search stamp, taken before searching: any catalog change
    committed meanwhile retires the answer. Seat moves do not: a cached answer is served
    with each hit's current seats. A cached answer reports its own took_ms.
    """
    started = time.perf_counter()
    params = {"q": query, **filters.as_params(), "limit": limit, "offset": offset, "sort": sort}
    key = catalog_cache.search_key(params)
    body = catalog_cache.get(key)
    if body is None:
        body = search(query=query, filters=filters, limit=limit, offset=offset, sort=sort).to_dict()
        catalog_cache.set_list(key, body)
        return body
    return {
        **body,
        "hits": catalog_cache.seats_overlay(body["hits"]),
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def index(course_ids: Sequence[int]) -> None:
    """Bring these courses up to date in the external index, if one is configured."""
    router.index(course_ids)


def remove(course_ids: Sequence[int]) -> None:
    router.remove(course_ids)


def rebuild(progress: Progress | None = None) -> int:
    """Recompute every index; progress(done, total) is called as it advances."""
    return router.rebuild(progress)


def synonyms_push() -> None:
    """Give the external index, if one is configured, the synonyms table."""
    router.synonyms_push()


def health() -> bool:
    return router.health()
