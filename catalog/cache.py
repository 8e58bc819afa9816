"""Cached catalog answers and their invalidation.

Every key embeds a version stamp: one catalog-wide stamp for lists, one per slug for
details. A change sets new stamps, retiring the old keys at once without scanning (works
on locmem and Redis alike). Readers take the stamp *before* querying, so a page computed
from rows that a concurrent write then changed is stored under the retired stamp and never
served. Invalidation runs after commit, so no reader re-caches the old row in between.
Per-course stamps expire like the answers they key (a lapsed stamp costs one miss), so
requests for made-up slugs leave nothing behind for long.

The cache is an accelerator, never a dependency: with Redis away, reads are misses
(answered from the database under a stamp no one shares), writes are skipped, and
retirements stay owed in the outbox until Redis is back.
"""

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import redis.exceptions
import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from catalog.models import Course
from portal import db_router
from portal.outbox.registry import effect_handler
from portal.outbox.services import effect_record

log = structlog.get_logger(__name__)

LIST_STAMP = "catalog:stamp:list"
# Search answers have a stamp of their own: seat moves do not retire them (seats_overlay).
SEARCH_STAMP = "catalog:stamp:search"
CACHE_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _detail_stamp_key(slug: str) -> str:
    return f"catalog:stamp:course:{slug}"


def _stamp(name: str, *, timeout: int | None) -> str:
    try:
        stamp = cache.get(name)
        if stamp is None:
            stamp = str(time.time_ns())
            # add(), so concurrent first readers agree on one stamp.
            if not cache.add(name, stamp, timeout=timeout):
                stamp = cache.get(name, stamp)
    except CACHE_DOWN:
        log.warning("catalog.cache_unavailable", exc_info=True)
        return f"down-{uuid.uuid4().hex}"  # a key nothing else will read
    # A read replica serves this request only once it has replayed the stamp's change.
    db_router.stamp_read("search" if name == SEARCH_STAMP else "catalog")
    return stamp


def list_key(params: dict) -> str:
    """The key for one list page; compute it once per request, before querying."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"catalog:list:{_stamp(LIST_STAMP, timeout=None)}:{digest[:32]}"


def search_key(params: dict) -> str:
    """The key for one search answer; compute it once per request, before searching."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"catalog:search:{_stamp(SEARCH_STAMP, timeout=None)}:{digest[:32]}"


def detail_key(slug: str) -> str:
    """The key for one course's detail; compute it once per request, before querying."""
    stamp = _stamp(_detail_stamp_key(slug), timeout=settings.CATALOG_DETAIL_CACHE_SECONDS)
    return f"catalog:course:{slug}:{stamp}"


def get(key: str) -> dict | None:
    try:
        return cache.get(key)
    except CACHE_DOWN:
        return None


def _set(key: str, value: Mapping[str, Any], timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except CACHE_DOWN:
        log.warning("catalog.cache_unavailable", exc_info=True)


def set_list(key: str, value: Mapping[str, Any]) -> None:
    _set(key, value, settings.CATALOG_LIST_CACHE_SECONDS)


def set_detail(key: str, value: Mapping[str, Any]) -> None:
    _set(key, value, settings.CATALOG_DETAIL_CACHE_SECONDS)


def invalidate_now(slugs: Iterable[str], *, search: bool = True) -> None:
    stamp = str(time.time_ns())
    stamps = {LIST_STAMP: stamp, SEARCH_STAMP: stamp} if search else {LIST_STAMP: stamp}
    # With a read replica: first the position the replica must reach before a page read
    # from it is cached under the new stamps (portal.db_router), then the stamps.
    db_router.catalog_changed(search=search)
    cache.set_many(stamps, timeout=None)
    cache.set_many(
        {_detail_stamp_key(slug): stamp for slug in slugs},
        timeout=settings.CATALOG_DETAIL_CACHE_SECONDS,
    )


@effect_handler
def retire_effect(*, slugs: list[str], search: bool = True) -> None:
    invalidate_now(slugs, search=search)


def invalidate_on_commit(slugs: Iterable[str]) -> None:
    """Retire cached lists, search answers and these courses' details once the transaction
    commits (an outbox effect: a cache outage delays it and never fails the change)."""
    effect_record("catalog.cache.retire_effect", slugs=sorted(set(slugs)))


def seats_moved_on_commit(slug: str) -> None:
    """A course's seats moved: retire cached lists (they show seats) and its detail after
    commit, but not search answers: those get the current seats laid over them when
    served (seats_overlay), so enrollments no longer empty the search cache."""
    effect_record("catalog.cache.retire_effect", slugs=[slug], search=False)


def seats_overlay(hits: list[dict]) -> list[dict]:
    """Cached hits with each course's current `seats_taken` (one indexed read by primary
    key). The rest of a hit changes only with the course, which retires the answer."""
    if not hits:
        return hits
    ids = [hit["id"] for hit in hits]
    table = connection.ops.quote_name(Course._meta.db_table)
    with connection.cursor() as cursor:  # raw: this read is the whole cost of a cached answer
        cursor.execute(
            f"SELECT id, seats_taken FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})",  # noqa: S608
            ids,
        )
        seats = dict(cursor.fetchall())
    return [{**hit, "seats_taken": seats[hit["id"]]} if hit["id"] in seats else hit for hit in hits]
