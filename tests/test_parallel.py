"""tests/parallel.py: each pytest-xdist worker's Redis database indexes."""

import asyncio
import os

import pytest
from django.conf import settings

from tests.parallel import redis_url_for_worker, worker_number


def test_worker_n_lowers_each_index_by_2n():
    assert redis_url_for_worker("redis://127.0.0.1:6379/15", 0) == "redis://127.0.0.1:6379/15"
    assert redis_url_for_worker("redis://127.0.0.1:6379/15", 1) == "redis://127.0.0.1:6379/13"
    assert (
        redis_url_for_worker("redis://:secret@cache:6380/14", 3) == "redis://:secret@cache:6380/8"
    )
    assert redis_url_for_worker("redis://127.0.0.1:6379", 0) == "redis://127.0.0.1:6379/0"


def test_too_few_indexes_is_a_usage_error():
    with pytest.raises(pytest.UsageError, match="too few Redis database indexes"):
        redis_url_for_worker("redis://127.0.0.1:6379/1", 1)


def test_this_process_uses_what_the_servers_it_starts_inherit():
    # The settings were read from the environment the shift changed, which the daphne
    # and Celery processes a test starts inherit: both name the same databases.
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
    assert os.environ.get("PYTEST_XDIST_WORKER", "gw0") == f"gw{worker_number()}"


def test_this_workers_channel_layer_has_a_prefix_of_its_own():
    worker = os.environ.get("PYTEST_XDIST_WORKER") or "main"
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] == f"test-{worker}"


def test_layers_with_other_prefixes_do_not_hear_each_others_groups():
    """Why the prefix: pub/sub spans database indexes, the prefix does not. A message sent
    to "course-1" under another prefix first, then under the listener's own: the first
    one the listener receives is its own."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    async def scenario() -> dict:
        hosts = [settings.REDIS_URL]
        mine = RedisPubSubChannelLayer(hosts=hosts, prefix="test-prefix-mine")
        theirs = RedisPubSubChannelLayer(hosts=hosts, prefix="test-prefix-theirs")
        channel = await mine.new_channel()
        await mine.group_add("course-1", channel)
        try:
            await theirs.group_send("course-1", {"type": "seats", "from": "theirs"})
            await mine.group_send("course-1", {"type": "seats", "from": "mine"})
            return await asyncio.wait_for(mine.receive(channel), timeout=30)
        finally:
            await mine.flush()
            await theirs.flush()

    assert asyncio.run(scenario())["from"] == "mine"
