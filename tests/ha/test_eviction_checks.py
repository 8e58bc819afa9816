"""The start-up checks of the Redis servers' eviction policies (portal/ha/checks.py),
against private redis-servers configured each way."""

import pytest

from portal.ha.checks import redis_eviction_check
from tests.ha.apps import manage
from tests.ha.ports import REDIS_PORTS, free_ports
from tests.ha.servers import PortTaken, RedisProcess, redis_server


def private_redis(tmp_path, name: str, *config: str) -> RedisProcess:
    for _attempt in range(5):
        (port,) = free_ports(REDIS_PORTS, 1)
        try:
            return redis_server(port, name, tmp_path, *config).start()
        except PortTaken:
            continue
    raise RuntimeError("no free Redis port")


@pytest.fixture
def servers(tmp_path):
    started: list[RedisProcess] = []

    def start(name: str, *config: str) -> RedisProcess:
        started.append(private_redis(tmp_path, name, *config))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def url(server: RedisProcess, db: int = 0) -> str:
    return f"redis://127.0.0.1:{server.port}/{db}"


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


def point_at(settings, *, realtime: str, cache: str, broker: str) -> None:
    settings.REDIS_URL = realtime
    settings.CACHE_REDIS_URL = cache
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_an_evicting_broker_and_a_full_non_evicting_cache_are_reported(servers, settings):
    shared = servers("evicting", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
    point_at(settings, realtime=url(shared), cache=url(shared), broker=url(shared, 1))
    found = redis_eviction_check()
    assert ids(found) == ["ha.W001", "ha.W001"]  # the broker and the channel layer
    assert "allkeys-lru" in found[0].msg

    broker = servers("broker", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
    point_at(settings, realtime=url(broker), cache=url(broker), broker=url(broker, 1))
    assert ids(redis_eviction_check()) == ["ha.W002"]  # the cache would fail when full


def test_a_broker_that_keeps_everything_and_an_lru_cache_pass(servers, settings):
    broker = servers("broker", "--maxmemory-policy", "noeviction")
    cache = servers("cache", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
    point_at(settings, realtime=url(broker), cache=url(cache), broker=url(broker, 1))
    assert redis_eviction_check() == []


def test_an_unreachable_redis_is_not_the_checks_business(settings):
    (port,) = free_ports(REDIS_PORTS, 1)  # nothing listens there
    dead = f"redis://127.0.0.1:{port}/0"
    point_at(settings, realtime=dead, cache=dead, broker=dead)
    assert redis_eviction_check() == []


def test_manage_py_check_reports_it(servers):
    shared = servers("evicting", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lfu")
    output = manage(
        {
            "REDIS_URL": url(shared),
            "CELERY_BROKER_URL": url(shared, 1),
            "CELERY_TASK_ALWAYS_EAGER": "false",
        },
        "check",
    )
    assert "ha.W001" in output and "allkeys-lfu" in output
