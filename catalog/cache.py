"""Cached catalog answers and their invalidation.

Lists are keyed by a catalog-wide version stamp: bumping it retires every cached list at
once without scanning keys (works on locmem and Redis alike). Details are keyed by slug
and deleted when that course changes. Invalidation runs after commit, so a reader never
re-caches the old row between the write and the commit.
"""

import hashlib
import json
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

LIST_VERSION_KEY = "catalog:list-version"


def _list_version() -> str:
    version = cache.get(LIST_VERSION_KEY)
    if version is None:
        version = str(time.time_ns())
        # add() so concurrent first readers agree on one stamp.
        if not cache.add(LIST_VERSION_KEY, version, timeout=None):
            version = cache.get(LIST_VERSION_KEY, version)
    return version


def list_key(params: dict) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"catalog:list:{_list_version()}:{digest[:32]}"


def detail_key(slug: str) -> str:
    return f"catalog:course:{slug}"


def get_list(params: dict) -> dict | None:
    return cache.get(list_key(params))


def set_list(params: dict, value: dict) -> None:
    cache.set(list_key(params), value, timeout=settings.CATALOG_LIST_CACHE_SECONDS)


def get_detail(slug: str) -> dict | None:
    return cache.get(detail_key(slug))


def set_detail(slug: str, value: dict) -> None:
    cache.set(detail_key(slug), value, timeout=settings.CATALOG_DETAIL_CACHE_SECONDS)


def invalidate_now(slugs: Iterable[str]) -> None:
    cache.set(LIST_VERSION_KEY, str(time.time_ns()), timeout=None)
    cache.delete_many([detail_key(slug) for slug in slugs])


def invalidate_on_commit(slugs: Iterable[str]) -> None:
    """Retire cached lists and these courses' details once the transaction commits."""
    slugs = list(slugs)
    transaction.on_commit(lambda: invalidate_now(slugs))
