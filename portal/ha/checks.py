"""System checks (`manage.py check`, `migrate`, `runserver`): a Redis whose eviction
policy can lose what the portal keeps there.

- W001: the broker's or the channel layer's Redis evicts any key (`allkeys-*`): a full
  Redis would drop queued jobs (or their acknowledgements), presence and socket counts.
  It must run `maxmemory-policy noeviction` (volatile-* spares keys without a TTL, which
  queues are, but noeviction is the safe setting).
- W002: the cache's Redis has a memory limit and `noeviction`: once full every cache write
  fails instead of pushing out old answers; give the cache a Redis of its own
  (CACHE_REDIS_URL) with `allkeys-lru`.

One short `CONFIG GET` per Redis; a Redis that cannot be reached, or that refuses CONFIG
(managed services often do), is skipped silently: this is advice, not a health probe.
"""

from typing import Any

import redis
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

from portal import redis_config

PROBE_SECONDS = 1.0


def _memory_config(url: str) -> tuple[str, int] | None:
    """(maxmemory-policy, maxmemory) of the server `url` names now, or None."""
    client = redis_config.client(
        url, socket_timeout=PROBE_SECONDS, socket_connect_timeout=PROBE_SECONDS
    )
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy") or ""
        limit = int(client.config_get("maxmemory").get("maxmemory", 0) or 0)
    except (redis.RedisError, OSError, ValueError):
        return None
    finally:
        client.connection_pool.disconnect()
    return policy, limit


@register(Tags.caches)
def redis_eviction_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    kept = {"channel layer": settings.REDIS_URL}
    broker = redis_config.broker_url()
    if broker and not settings.CELERY_TASK_ALWAYS_EAGER:
        kept["broker"] = broker
    for role, url in kept.items():
        found = _memory_config(url) if url else None
        if found and found[0].startswith("allkeys-"):
            messages.append(
                Warning(
                    f"The {role}'s Redis ({redis_config.describe(url)}) runs "
                    f"maxmemory-policy {found[0]}: when full it evicts keys the portal must "
                    "keep (queued jobs, presence, socket counts).",
                    hint="Run it with maxmemory-policy noeviction, and put the cache on a "
                    "Redis of its own (CACHE_REDIS_URL) with allkeys-lru.",
                    id="ha.W001",
                )
            )
    cache_url = settings.CACHE_REDIS_URL
    found = _memory_config(cache_url) if cache_url else None
    if found and found[1] > 0 and found[0] == "noeviction":
        messages.append(
            Warning(
                f"The cache's Redis ({redis_config.describe(cache_url)}) has a memory limit "
                "and maxmemory-policy noeviction: once full, every cache write fails.",
                hint="Give the cache a Redis of its own (CACHE_REDIS_URL) with "
                "maxmemory-policy allkeys-lru.",
                id="ha.W002",
            )
        )
    return messages
