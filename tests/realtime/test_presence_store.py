"""The presence stores (realtime.presence): the one in the process and the one in a real
Redis, held to the same behaviour. Learners are distinct users, a tab's lease ends unless
renewed, expired tabs are pruned by any later call, and each change of a course's count
is reported as changed once."""

import asyncio
import time
import uuid

import pytest
import pytest_asyncio
from django.conf import settings

from realtime.presence import (
    ADD,
    REMOVE,
    TABS_PER_CALL,
    Change,
    Count,
    LocalPresence,
    Presence,
    RedisPresence,
    lease_seconds,
)
from tests.live import free_port

pytestmark = pytest.mark.asyncio

# Deadlines, not durations: each wait ends as soon as its condition holds.
WAIT = 10


@pytest_asyncio.fixture(params=["local", "redis"])
async def store(request):
    if request.param == "local":
        yield LocalPresence()
        return
    # A prefix of its own: nothing else in the test Redis is touched.
    found = RedisPresence(settings.REDIS_URL, f"test-presence-{uuid.uuid4().hex[:8]}")
    yield found
    await found.client.aclose()
    await found.client.connection_pool.disconnect()


def add(user_id: int, channel: str) -> Change:
    return Change(ADD, user_id, channel)


def remove(user_id: int, channel: str) -> Change:
    return Change(REMOVE, user_id, channel)


async def count(store, course: str = "intro") -> Count:
    return (await store.apply({course: []}))[course]


async def until_count(store, learners: int, course: str = "intro") -> Count:
    deadline = time.monotonic() + WAIT
    while (found := await count(store, course)).learners != learners:
        assert time.monotonic() < deadline, f"still {found.learners} learners, not {learners}"
        await asyncio.sleep(0.05)
    return found


async def test_learners_are_distinct_users_and_each_change_is_reported_once(store):
    counts = await store.apply({"intro": [add(1, "a1"), add(1, "a2"), add(2, "b1")]})
    assert counts == {"intro": Count(2, True)}
    assert await count(store) == Count(2, False)  # nothing new to announce
    # One of two tabs of user 1 closes: still two learners.
    assert (await store.apply({"intro": [remove(1, "a1")]}))["intro"] == Count(2, False)
    assert (await store.apply({"intro": [remove(1, "a2")]}))["intro"] == Count(1, True)
    assert (await store.apply({"intro": [remove(2, "b1")]}))["intro"] == Count(0, True)
    # Removing a tab that is not there changes nothing.
    assert (await store.apply({"intro": [remove(2, "b1")]}))["intro"] == Count(0, False)


async def test_courses_are_counted_apart_in_one_call(store):
    counts = await store.apply(
        {"intro": [add(1, "a"), add(2, "b")], "advanced": [add(1, "c")], "empty": []}
    )
    assert {course: found.learners for course, found in counts.items()} == {
        "intro": 2,
        "advanced": 1,
        "empty": 0,
    }


async def test_a_tab_not_renewed_expires_and_any_later_call_prunes_it(store, settings):
    settings.PRESENCE_TTL_SECONDS = 0.8  # leases of 0.6 s
    await store.apply({"intro": [add(1, "gone"), add(2, "stays")]})
    # User 2's tab is renewed; user 1's is not (its process died).
    deadline = time.monotonic() + WAIT
    while (found := (await store.apply({"intro": [add(2, "stays")]}))["intro"]).learners != 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(lease_seconds() / 4)
    assert found.changed
    assert await count(store) == Count(1, False)


async def test_a_learner_counts_while_any_of_their_tabs_is_renewed(store, settings):
    settings.PRESENCE_TTL_SECONDS = 0.8
    await store.apply({"intro": [add(1, "dead-process-tab"), add(1, "live-tab")]})
    started = time.monotonic()
    while time.monotonic() - started < 3 * lease_seconds():  # well past the dead tab's lease
        assert (await store.apply({"intro": [add(1, "live-tab")]}))["intro"].learners == 1
        await asyncio.sleep(lease_seconds() / 4)
    # The last tab leaves: gone at once, not a lease later.
    assert (await store.apply({"intro": [remove(1, "live-tab")]}))["intro"] == Count(0, True)


async def test_a_course_with_more_tabs_than_one_script_call_takes():
    store = RedisPresence(settings.REDIS_URL, f"test-presence-{uuid.uuid4().hex[:8]}")
    try:
        tabs = [add(user_id // 2, f"tab-{user_id}") for user_id in range(2 * TABS_PER_CALL + 10)]
        counts = await store.apply({"big": tabs, "small": [add(1, "x")]})
        assert counts["big"] == Count(TABS_PER_CALL + 5, True)
        assert counts["small"] == Count(1, True)
        assert await count(store, "big") == Count(TABS_PER_CALL + 5, False)
    finally:
        await store.client.aclose()
        await store.client.connection_pool.disconnect()


async def test_processes_sharing_redis_report_a_change_once():
    prefix = f"test-presence-{uuid.uuid4().hex[:8]}"
    first, second = (RedisPresence(settings.REDIS_URL, prefix) for _ in range(2))
    try:
        assert (await first.apply({"intro": [add(1, "a")]}))["intro"] == Count(1, True)
        # The other process re-counts: same count, nothing for it to announce.
        assert await count(second) == Count(1, False)
        assert (await second.apply({"intro": [add(2, "b")]}))["intro"] == Count(2, True)
        assert await count(first) == Count(2, False)
    finally:
        for store in (first, second):
            await store.client.aclose()
            await store.client.connection_pool.disconnect()


async def test_redis_away_answers_no_count_and_raises_nothing():
    unreachable = RedisPresence(f"redis://127.0.0.1:{free_port()}/0", "test-presence")
    presence = Presence(unreachable)
    assert await presence.watch(course="intro", channel="c", user_id=1) is None
    await presence.renew()  # no exception either
    await presence.leave(channel="c", courses=["intro"])
    assert presence.renewing is None and not presence.watchers


async def test_a_leave_waits_for_the_renewal_in_flight(settings):
    """A renewal carries the tabs of the moment it started; a tab leaving meanwhile must
    not be added back by it."""
    settings.PRESENCE_TTL_SECONDS = 60

    class SlowStore(LocalPresence):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()

        async def apply(self, changes):
            if len(changes["intro"]) == 2:  # the renewal (two tabs), not a watch or leave
                await self.gate.wait()
            return await super().apply(changes)

    store = SlowStore()
    presence = Presence(store)
    await presence.watch(course="intro", channel="a", user_id=1)
    await presence.watch(course="intro", channel="b", user_id=2)
    renewal = asyncio.create_task(presence.renew())
    await asyncio.sleep(0)
    leaving = asyncio.create_task(presence.leave(channel="a", courses=["intro"]))
    await asyncio.sleep(0.05)
    assert not leaving.done()  # waits for the renewal
    store.gate.set()
    await renewal
    await leaving
    assert (await count(store)).learners == 1
    await presence.leave(channel="b", courses=["intro"])
    assert (await count(store)).learners == 0


async def test_a_burst_of_changes_is_announced_at_once_then_once_more_with_the_latest(
    monkeypatch,
):
    told: list[tuple[str, int]] = []

    async def record(course: str, learners: int) -> None:
        told.append((course, learners))

    monkeypatch.setattr("realtime.presence.announce", record)
    monkeypatch.setattr("realtime.presence.ANNOUNCE_EVERY_SECONDS", 0.3)
    presence = Presence(LocalPresence())
    for user_id in range(1, 21):  # a class arrives
        assert await presence.watch(course="intro", channel=f"c{user_id}", user_id=user_id)
    assert told == [("intro", 1)]  # the first at once, the rest held
    deadline = time.monotonic() + WAIT
    while len(told) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert told == [("intro", 1), ("intro", 20)]  # the count when sent, once
    await asyncio.sleep(0.5)
    assert len(told) == 2
    for user_id in range(1, 21):  # and leaves
        await presence.leave(channel=f"c{user_id}", courses=["intro"])
    while told[-1] != ("intro", 0):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert len(told) == 4  # 19 at once, then 0 when the held one was sent
