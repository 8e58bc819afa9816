"""Fixed-window rate limits on atomic cache counters (INCR in Redis).

    rate_limit(request, "login", ident=email)  # count one hit; over the limit → 429
    limits = LimitSet((("decline", "email:a@b.c"),))
    limits.check()   # 429 if any subject already reached its limit (counts nothing)
    limits.count()   # count one hit for each subject (e.g. after a declined payment)

A subject is what a scope counts per: the client address plus an identity (`rate_limit`),
or any string the caller names (`LimitSet`), so a per-email or per-account limit holds
whatever address the requests come from.

When the cache cannot be reached, scopes listed in RATE_LIMITS_FAIL_OPEN let the request
through with a logged warning; every other scope (sign-in, registration, declines, …)
fails closed with `Unavailable` (503): see docs/operations.md for why.
"""

import functools
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled

from portal.errors import Unavailable

log = structlog.get_logger(__name__)

# What a cache backend raises when its server is down or slow (redis-py wraps socket
# errors; OSError covers backends that let them through).
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

T = TypeVar("T")


def client_address(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The caller's address; behind N trusted proxies, the Nth-from-last X-Forwarded-For
    hop (shared by HTTP requests and websocket handshakes)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return remote_addr or "unknown"


def client_ip(request: HttpRequest) -> str:
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def _redis() -> Any | None:
    """The Redis client of the cache, if the cache is Redis (a LocMem cache has none)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)  # type: ignore[attr-defined]


def _count(key: str, window: int) -> int:
    client = _redis()
    if client is not None:
        # One round trip: start the window's counter if it is new, then count.
        full_key = cache.make_and_validate_key(key)
        pipeline = client.pipeline(transaction=False)
        pipeline.set(full_key, 0, ex=window + 1, nx=True)
        pipeline.incr(full_key)
        return int(pipeline.execute()[1])
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return 1


def _key(scope: str, subject: str, window: int, now: float) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    return f"ratelimit:{scope}:{digest}:{int(now // window)}"


def _throttled(window: int, now: float) -> Throttled:
    return Throttled(wait=max(1, int(window - now % window) + 1))


def _guarded(scope: str, operation: Callable[[], T]) -> T | None:
    """Run a cache operation for `scope`; on a cache outage fail open or closed."""
    try:
        return operation()
    except CACHE_ERRORS as exc:
        if scope in settings.RATE_LIMITS_FAIL_OPEN:
            log.warning("ratelimit.cache_unavailable", scope=scope, outcome="allowed")
            return None
        log.error("ratelimit.cache_unavailable", scope=scope, outcome="refused")
        raise Unavailable("This request cannot be served right now; retry shortly.") from exc


def subject_hit(scope: str, subject: str) -> None:
    """Count one hit for (scope, subject); over the limit, raise Throttled."""
    limit, window = settings.RATE_LIMITS.get(scope, (0, 0))
    if not limit:
        return
    now = time.time()
    count = _guarded(scope, lambda: _count(_key(scope, subject, window, now), window))
    if count is not None and count > limit:
        raise _throttled(window, now)


def rate_limit(request: HttpRequest, scope: str, ident: str = "") -> None:
    """Count one hit for (scope, client address, ident); over the limit, raise Throttled."""
    subject_hit(scope, f"{client_ip(request)}|{ident.strip().lower()}")


@dataclass(frozen=True)
class LimitSet:
    """Several (scope, subject) counters checked and counted apart: a limit on outcomes
    (declined payments) rather than on requests."""

    subjects: tuple[tuple[str, str], ...]

    def _active(self) -> Iterable[tuple[str, str, int, int]]:
        for scope, subject in self.subjects:
            limit, window = settings.RATE_LIMITS.get(scope, (0, 0))
            if limit:
                yield scope, subject, limit, window

    def check(self) -> None:
        """Raise Throttled when any subject has reached its limit; counts nothing."""
        now = time.time()
        active = {
            _key(scope, subject, window, now): (scope, limit, window)
            for scope, subject, limit, window in self._active()
        }
        if not active:
            return
        # One round trip for every subject; an outage is judged by the strictest scope.
        scopes = [scope for scope, _limit, _window in active.values()]
        closed = [scope for scope in scopes if scope not in settings.RATE_LIMITS_FAIL_OPEN]
        counts = _guarded(
            closed[0] if closed else scopes[0], functools.partial(cache.get_many, list(active))
        )
        for key, count in (counts or {}).items():
            _scope, limit, window = active[key]
            if count >= limit:
                raise _throttled(window, now)

    def count(self) -> None:
        """Count one hit per subject. What is counted has already happened (the answer is
        decided), so a cache outage here is logged, not raised; `check` fails closed."""
        now = time.time()
        for scope, subject, _limit, window in self._active():
            try:
                _count(_key(scope, subject, window, now), window)
            except CACHE_ERRORS:
                log.error("ratelimit.cache_unavailable", scope=scope, outcome="not_counted")
