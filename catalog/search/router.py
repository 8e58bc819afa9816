"""Which engine answers: Meilisearch when MEILI_URL is set and it is healthy, else the
database's own (PostgreSQL or SQLite full-text search).

A circuit breaker per Meilisearch URL keeps a sick server from slowing every search: a
timeout, or SEARCH_BREAKER_FAILURES failures in a row, opens it; while open, searches go
straight to the database. After SEARCH_BREAKER_COOLDOWN_SECONDS one caller probes
Meilisearch's health (with the same short timeout): healthy closes the breaker, anything
else keeps it open for another cool-down. State is per process, like the client.
"""

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence

import structlog
from django.conf import settings
from django.db import connection

from catalog.search import text
from catalog.search.hits import SORT_ORDERS
from catalog.search.meili import MeilisearchBackend
from catalog.search.postgres import PostgresBackend
from catalog.search.sqlite import SqliteBackend
from catalog.search.types import (
    MAX_LIMIT,
    MAX_OFFSET,
    RELEVANCE,
    Progress,
    SearchBackend,
    SearchFilters,
    SearchResult,
    SearchUnavailable,
)

log = structlog.get_logger(__name__)


class CircuitBreaker:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self, probe: Callable[[], bool]) -> bool:
        """May the next search go to Meilisearch? Past a cool-down, the first caller
        probes health while the others keep using the database."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or self._clock() < self._open_until:
                return False
            self._probing = True
        healthy = False
        try:
            healthy = probe()
        finally:
            with self._lock:
                self._probing = False
                if healthy:
                    self._failures, self._open_until = 0, None
                else:
                    self._open_until = self._clock() + settings.SEARCH_BREAKER_COOLDOWN_SECONDS
        if healthy:
            log.info("search.breaker_closed")
        return healthy

    def success(self) -> None:
        with self._lock:
            self._failures, self._open_until = 0, None

    def failure(self, *, timeout: bool) -> None:
        with self._lock:
            self._failures += 1
            if timeout or self._failures >= settings.SEARCH_BREAKER_FAILURES:
                self._open_until = self._clock() + settings.SEARCH_BREAKER_COOLDOWN_SECONDS
                opened = True
            else:
                opened = False
        if opened:
            log.warning("search.breaker_opened", timeout=timeout, failures=self._failures)


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(url: str) -> CircuitBreaker:
    with _breakers_lock:
        return _breakers.setdefault(url, CircuitBreaker())


def reset_breakers() -> None:
    """Forget every breaker's state (tests; an operator after fixing Meilisearch)."""
    with _breakers_lock:
        _breakers.clear()


def database_backend() -> SearchBackend:
    return PostgresBackend() if connection.vendor == "postgresql" else SqliteBackend()


def meili_backend() -> MeilisearchBackend | None:
    return MeilisearchBackend.from_settings() if settings.MEILI_URL else None


def search(
    *, query: str, filters: SearchFilters, limit: int, offset: int, sort: str = RELEVANCE
) -> SearchResult:
    started = time.perf_counter()
    if sort != RELEVANCE and sort not in SORT_ORDERS:
        raise ValueError(f"unknown search sort {sort!r}")
    query = query[: text.MAX_QUERY_CHARS]
    limit = min(max(int(limit), 1), MAX_LIMIT)
    offset = min(max(int(offset), 0), MAX_OFFSET)
    result = None
    meili = meili_backend()
    # No terms: popular courses, which the database orders by live enrollment counts.
    if meili is not None and text.terms(query):
        breaker = breaker_for(settings.MEILI_URL)
        if breaker.allow(meili.health):
            try:
                result = meili.search(
                    query=query, filters=filters, limit=limit, offset=offset, sort=sort
                )
                breaker.success()
            except SearchUnavailable as exc:
                breaker.failure(timeout=exc.timeout)
                log.warning("search.meilisearch_failed", error=str(exc)[:200], timeout=exc.timeout)
        if result is not None:
            # Meilisearch forgives typos without saying which: the database's word list
            # names the correction ("Did you mean …").
            result = dataclasses.replace(result, suggestion=database_backend().suggest(query))
    if result is None:
        result = database_backend().search(
            query=query, filters=filters, limit=limit, offset=offset, sort=sort
        )
    took_ms = round((time.perf_counter() - started) * 1000, 2)
    return dataclasses.replace(result, took_ms=took_ms)


def index(course_ids: Sequence[int]) -> None:
    database_backend().index(course_ids)
    if meili := meili_backend():
        meili.index(course_ids)


def remove(course_ids: Sequence[int]) -> None:
    database_backend().remove(course_ids)
    if meili := meili_backend():
        meili.remove(course_ids)


def rebuild(progress: Progress | None = None) -> int:
    count = database_backend().rebuild(progress=progress)
    if meili := meili_backend():
        count = meili.rebuild(progress=progress)
    return count


def synonyms_push() -> None:
    """The database backends read the table as they search: only Meilisearch needs it."""
    if meili := meili_backend():
        meili.synonyms_push()


def health() -> bool:
    """Whether searches can be answered: the database backend always can take over, so
    its health is the answer; Meilisearch's is logged when it is configured and down."""
    healthy = database_backend().health()
    if (meili := meili_backend()) and not meili.health():
        log.warning(
            "search.meilisearch_unhealthy", breaker_open=breaker_for(settings.MEILI_URL).is_open
        )
    return healthy
