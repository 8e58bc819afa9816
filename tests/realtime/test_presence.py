"""`course.presence` through the /ws/ consumer (the real ASGI stack, the Redis channel
layer and presence store): who counts, who is told, and when the count drops."""

import asyncio
import time
import uuid

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from realtime import presence as presence_module
from realtime.presence import Change, RedisPresence
from tests.factories import make_course, make_instructor, make_user
from tests.live import free_port
from tests.realtime.frames import assert_server_frame
from tests.realtime.helpers import bearer, connected

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

WAIT = 10  # seconds: a deadline; every wait ends on its condition


async def signed_in(user):
    socket, _ = await connected(token=await db(bearer)(user))
    return socket


async def watch(socket, course, *, present: bool | None = None) -> int:
    """Watch; the `course.presence` that follows the course's state at once."""
    frame = {"type": "watch", "course": course.slug}
    if present is not None:
        frame["present"] = present
    await socket.send_json_to(frame)
    # Announcements sent before this watch was read may come first; the answer is the
    # course's state, then its count.
    while (seats := await socket.receive_json_from(timeout=WAIT))["type"] == "course.presence":
        pass
    assert seats["type"] == "course.seats", seats
    answer = await socket.receive_json_from(timeout=WAIT)
    assert answer["type"] == "course.presence" and answer["course"] == course.slug, answer
    return assert_server_frame(answer)["learners"]


async def presence_told(socket, course, learners: int | None = None) -> dict:
    """The next `course.presence` of the course (with `learners`, when given); other
    frames on the way are skipped."""
    async with asyncio.timeout(WAIT):
        while True:
            frame = await socket.receive_json_from(timeout=WAIT)
            if frame["type"] == "course.presence" and frame["course"] == course.slug:
                assert_server_frame(frame)
                if learners is None or frame["learners"] == learners:
                    return frame


async def presence_within(socket, seconds: float = 0.5) -> set[int]:
    """The counts told to the socket within `seconds` (the same count may be told twice:
    an announcement published just before the socket joined the group reaches it too)."""
    told = set()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await socket.receive_nothing(timeout=left):
            break
        frame = await socket.receive_json_from()
        if frame["type"] == "course.presence":
            told.add(frame["learners"])
    return told


@pytest.fixture
def course(transactional_db):
    return make_course()


async def test_a_learners_course_page_counts_and_watchers_are_told(course):
    ada = await db(make_user)()
    watcher, _ = await connected()  # the home grid, anonymous: told, never counted
    assert await watch(watcher, course) == 0
    tab = await signed_in(ada)
    assert await watch(tab, course, present=True) == 1
    assert await presence_told(watcher, course) == {
        "type": "course.presence",
        "course": course.slug,
        "learners": 1,
    }
    await tab.disconnect()
    await presence_told(watcher, course, learners=0)
    await watcher.disconnect()


async def test_an_anonymous_course_page_is_not_counted(course):
    visitor, _ = await connected()
    assert await watch(visitor, course, present=True) == 0
    watcher, _ = await connected()
    assert await watch(watcher, course) == 0
    await visitor.disconnect()
    await watcher.disconnect()


async def test_two_tabs_of_one_learner_count_once(course):
    ada = await db(make_user)()
    first, second = await signed_in(ada), await signed_in(ada)
    assert await watch(first, course, present=True) == 1
    assert await watch(second, course, present=True) == 1
    watcher, _ = await connected()
    assert await watch(watcher, course) == 1
    await first.disconnect()
    assert await presence_within(watcher) <= {1}  # still one learner
    await second.disconnect()
    await presence_told(watcher, course, learners=0)
    await watcher.disconnect()


async def test_unwatch_and_disconnect_drop_the_count_and_announce_it(course):
    ada, bo = await db(make_user)(), await db(make_user)()
    instructor_view, _ = await connected()
    assert await watch(instructor_view, course) == 0
    ada_tab, bo_tab = await signed_in(ada), await signed_in(bo)
    await watch(ada_tab, course, present=True)
    await watch(bo_tab, course, present=True)
    await presence_told(instructor_view, course, learners=2)

    await ada_tab.send_json_to({"type": "unwatch", "course": course.slug})
    await presence_told(instructor_view, course, learners=1)
    # Bo's tab, still watching, is told too.
    await presence_told(bo_tab, course, learners=1)

    await bo_tab.disconnect()
    await presence_told(instructor_view, course, learners=0)
    await ada_tab.disconnect()
    await instructor_view.disconnect()


async def test_a_watcher_without_present_is_told_but_not_counted(course):
    ada, bo = await db(make_user)(), await db(make_user)()
    dashboard = await signed_in(ada)  # signed in, watching from another page
    assert await watch(dashboard, course) == 0
    assert await watch(dashboard, course, present=False) == 0
    page = await signed_in(bo)
    assert await watch(page, course, present=True) == 1
    await presence_told(dashboard, course, learners=1)
    # The same tab watching again without `present` (it left the course's page) stops
    # counting; with it, counts again.
    await watch(page, course, present=False)
    await presence_told(dashboard, course, learners=0)
    assert await watch(page, course, present=True) == 1
    await page.disconnect()
    await dashboard.disconnect()


async def test_the_courses_own_instructors_and_staff_are_not_counted():
    ivy = await db(make_instructor)()
    staff = await db(make_user)(is_staff=True)
    course = await db(make_course)(instructor=ivy)
    for user in (ivy, staff):
        tab = await signed_in(user)
        assert await watch(tab, course, present=True) == 0
        await tab.disconnect()
    # Another course's instructor is a learner here.
    other = await signed_in(await db(make_instructor)())
    assert await watch(other, course, present=True) == 1
    await other.disconnect()


async def test_present_must_be_a_boolean(course):
    socket, _ = await connected()
    await socket.send_json_to({"type": "watch", "course": course.slug, "present": "yes"})
    error = await socket.receive_json_from(timeout=WAIT)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await socket.disconnect()


async def test_tabs_of_a_dead_process_drop_out_within_the_ttl(course, settings):
    """A tab another process registered and stopped renewing (the process was killed):
    this process's renewal prunes it once its lease ends and tells the watchers."""
    settings.PRESENCE_TTL_SECONDS = 1
    ada = await db(make_user)()
    watcher, _ = await connected()
    assert await watch(watcher, course) == 0
    other_process = RedisPresence(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])
    try:
        counts = await other_process.apply(
            {course.slug: [Change("+", ada.pk, f"specific.{uuid.uuid4().hex}")]}
        )
    finally:
        await other_process.client.aclose()
        await other_process.client.connection_pool.disconnect()
    assert counts[course.slug].learners == 1
    await presence_module.announce(course.slug, 1)  # as that process did
    await presence_told(watcher, course, learners=1)
    await presence_told(watcher, course, learners=0)  # nobody renewed it
    await watcher.disconnect()


async def test_redis_away_leaves_the_socket_working(course, monkeypatch):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr(presence_module, "store", lambda: RedisPresence(unreachable, "x"))
    ada = await db(make_user)()
    tab = await signed_in(ada)
    await tab.send_json_to({"type": "watch", "course": course.slug, "present": True})
    assert (await tab.receive_json_from(timeout=WAIT))["type"] == "course.seats"
    await tab.send_json_to({"type": "ping"})
    # No count to tell (it is unknown), and the socket answers on.
    assert await tab.receive_json_from(timeout=WAIT) == {"type": "pong"}
    await tab.send_json_to({"type": "unwatch", "course": course.slug})
    await tab.send_json_to({"type": "ping"})
    assert await tab.receive_json_from(timeout=WAIT) == {"type": "pong"}
    await tab.disconnect()
    assert settings.REDIS_URL  # the channel layer itself stayed on the real Redis


async def test_the_embedded_default_counts_in_the_process(course, settings):
    """No Redis: the in-memory channel layer and the in-process store, same behaviour."""
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert isinstance(presence_module.store(), presence_module.LocalPresence)
    assert isinstance(get_channel_layer(), InMemoryChannelLayer)
    ada, bo = await db(make_user)(), await db(make_user)()
    watcher, _ = await connected()
    assert await watch(watcher, course) == 0
    first, second = await signed_in(ada), await signed_in(ada)
    assert await watch(first, course, present=True) == 1
    assert await watch(second, course, present=True) == 1
    await presence_told(watcher, course, learners=1)
    other = await signed_in(bo)
    assert await watch(other, course, present=True) == 2
    await presence_told(watcher, course, learners=2)
    for socket in (first, second):
        await socket.disconnect()
    await presence_told(watcher, course, learners=1)
    await other.disconnect()
    await presence_told(watcher, course, learners=0)
    await watcher.disconnect()
