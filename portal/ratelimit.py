"""Fixed-window rate limits on atomic cache counters (INCR in Redis).

rate_limit(request, "login", ident=email)  # raises Throttled → 429 with Retry-After
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled


def client_ip(request: HttpRequest) -> str:
    """The caller's address; behind N trusted proxies, the Nth-from-last X-Forwarded-For hop."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return 1


def rate_limit(request: HttpRequest, scope: str, ident: str = "") -> None:
    """Count one hit for (scope, client IP, ident); over the limit, raise Throttled."""
    limit, window = settings.RATE_LIMITS.get(scope, (0, 0))
    if not limit:
        return
    now = time.time()
    subject = hashlib.sha256(f"{client_ip(request)}|{ident.lower()}".encode()).hexdigest()[:24]
    key = f"ratelimit:{scope}:{subject}:{int(now // window)}"
    if _count(key, window) > limit:
        raise Throttled(wait=max(1, int(window - now % window) + 1))
