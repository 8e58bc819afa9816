"""Every kind of Redis client the portal opens, built by portal.redis_config from a
`redis+sentinel://` URL, reaches the master the sentinels name and follows a real
failover (the master SIGKILLed, the replica promoted by the sentinels' vote): the cache,
a plain client (socket counts, metrics), the asyncio pool of presence, the channel layer
and Celery's broker connection."""

import asyncio
import contextlib
import uuid

import pytest
import redis.asyncio as aioredis
from celery import Celery
from django.core.cache.backends.redis import RedisCache
from kombu import Connection

from portal import redis_config
from realtime.layers import ResilientPubSubChannelLayer
from tests.ha.servers import MASTER_NAME, wait_for

WAIT = 60  # seconds; every wait ends on a condition


def sentinel_url(sentinel_set, db: int) -> str:
    return redis_config.resolve(
        f"redis://unused.invalid:6379/{db}",
        sentinels=sentinel_set.addresses.split(","),
        master=MASTER_NAME,
    )


def django_cache(url: str, prefix: str) -> RedisCache:
    """The cache as the settings configure it with sentinels."""
    return RedisCache(
        [url],
        {
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "pool_class": "portal.redis_config.CachePool",
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
            },
        },
    )


def eventually(action, *, what: str):
    """`action()` once it stops failing (clients reconnect on their next use)."""

    def attempt():
        try:
            return action() or True
        except Exception:
            return False

    return wait_for(attempt, timeout=WAIT, what=what)


def test_a_sentinel_url_resolves_to_the_master_and_keeps_its_database(sentinel_set):
    url = sentinel_url(sentinel_set, 5)
    assert url.startswith("redis+sentinel://127.0.0.1:")
    client = redis_config.client(url)
    client.set("ha:probe", "written through the sentinels")
    master = sentinel_set.master().client(db=5)
    assert master.get("ha:probe") == b"written through the sentinels"
    # Not on the host:port the URL named (there is none) nor in another database.
    assert sentinel_set.master().client(db=0).get("ha:probe") is None


def test_cache_client_and_broker_follow_a_failover(sentinel_set):
    url = sentinel_url(sentinel_set, 3)
    prefix = f"ha-{uuid.uuid4().hex[:6]}"
    cache = django_cache(url, prefix)
    client = redis_config.client(url, socket_timeout=1, socket_connect_timeout=1)
    broker_url, options = redis_config.celery_url(sentinel_url(sentinel_set, 4), socket_timeout=1)
    assert broker_url.startswith("sentinel://127.0.0.1:") and options["master_name"] == MASTER_NAME

    cache.set("before", "kept")
    client.set("plain-before", "1")
    with Connection(broker_url, transport_options=options) as connection:
        connection.SimpleQueue("ha-jobs").put({"job": 1})
    # Replicated before the fault (the test waits for it: asynchronous replication may
    # lose the last writes of a master that dies, which is why the outbox and the event
    # log, not Redis, hold what the portal owes).
    old = sentinel_set.master()
    wait_for(
        lambda: (
            old.client().info("replication").get("slave0", {}).get("offset", -1)
            >= old.client().info("replication")["master_repl_offset"]
        ),
        timeout=WAIT,
        what="the replica to catch up",
    )

    old_port = sentinel_set.kill_master()
    new = sentinel_set.wait_for_new_master(old_port, timeout=WAIT)
    assert new.port != old_port

    assert eventually(lambda: cache.get("before") == "kept" or None, what="the cache back")
    cache.set("after", "written")
    assert new.client(db=3).exists(f"{prefix}:1:after") == 1
    assert eventually(lambda: client.get("plain-before") == b"1" or None, what="the client")
    client.set("plain-after", "2")
    assert new.client(db=3).get("plain-after") == b"2"

    def take_job():
        with Connection(broker_url, transport_options=options) as connection:
            queue = connection.SimpleQueue("ha-jobs")
            message = queue.get(timeout=2)
            message.ack()
            queue.close()
            return message.payload

    assert eventually(take_job, what="the job from the new master") == {"job": 1}


def test_celerys_result_backend_reaches_the_master(sentinel_set):
    url, options = redis_config.celery_url(sentinel_url(sentinel_set, 6), socket_timeout=1)
    app = Celery("ha-results", set_as_current=False)
    app.conf.result_backend = url
    app.conf.result_backend_transport_options = options
    app.backend.store_result("ha-task-1", {"answer": 42}, "SUCCESS")
    assert app.backend.get_task_meta("ha-task-1")["result"] == {"answer": 42}
    assert sentinel_set.master().client(db=6).exists("celery-task-meta-ha-task-1") == 1


async def until(condition, *, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@pytest.mark.asyncio
async def test_presence_pool_and_channel_layer_follow_a_failover(sentinel_set):
    url = sentinel_url(sentinel_set, 2)
    pool = redis_config.async_pool(
        url, blocking=True, max_connections=5, timeout=2, socket_timeout=1, socket_connect_timeout=1
    )
    client = aioredis.Redis(connection_pool=pool)
    layer = ResilientPubSubChannelLayer(
        hosts=[redis_config.channel_layer_host(url, socket_timeout=5, socket_connect_timeout=1)],
        prefix=f"ha-{uuid.uuid4().hex[:6]}",
    )
    channel = await layer.new_channel()
    received: list[dict] = []

    async def receiving() -> None:  # as a consumer does: one receive after another
        while True:
            received.append(await layer.receive(channel))

    reader = asyncio.create_task(receiving())
    sent = 0

    async def send_one() -> bool:
        """Publish the next numbered message; True once one sent after `sent_before` is in."""
        nonlocal sent
        sent += 1
        with contextlib.suppress(Exception):  # Redis is failing over: the next one is tried
            await layer.group_send("course.x", {"type": "probe", "n": sent})
        return any(message["n"] > sent_before for message in received)

    async def written(key: str, value: int) -> bool:
        try:
            await client.set(key, value)
        except Exception:
            return False
        return True

    try:
        await layer.group_add("course.x", channel)
        await client.set("presence-before", 1)
        sent_before = 0
        await until(send_one, what="a message before the failover")

        old_port = await asyncio.to_thread(sentinel_set.kill_master)
        new = await asyncio.to_thread(sentinel_set.wait_for_new_master, old_port, timeout=WAIT)

        await until(lambda: written("presence-after", 2), what="the pool on the new master")
        assert new.client(db=2).get("presence-after") == b"2"
        # The subscription moves to the new master by itself: messages sent there arrive.
        sent_before = sent
        await until(send_one, what="a message after the failover")
        assert max(message["n"] for message in received) > sent_before
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await layer.flush()
        await pool.disconnect()
