"""The waitlist's events over real sockets on a running server: the issue's scenario
with each student's open tab receiving its frames live, and a watcher of the course
seeing the line's length."""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from catalog import waitlist
from catalog.models import WaitlistEntry
from tests.factories import make_course, make_user, token_for
from tests.live import LiveServer
from tests.realtime.sockets import next_frame, open_socket
from tests.realtime.test_live_delivery import http_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.live]
OTHER_STATE = ("heartbeat", "course.presence")


@pytest.fixture(scope="module")
def server(django_db_setup):
    live = LiveServer().start()
    yield live
    live.stop()


async def frame_of(socket, kind: str) -> dict:
    """The next frame of this type (state frames of other kinds skipped)."""
    while True:
        frame = await next_frame(socket, skip=OTHER_STATE)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in ("course.seats", "course.waitlist"), frame


async def test_offer_position_stranger_expiry_and_enrollment_live(server):
    def scene():
        course = make_course(title="Live Line", capacity=1)
        users = {name: make_user(name=name) for name in ("a", "b", "c", "d")}
        return course, users, {name: token_for(user) for name, user in users.items()}

    course, users, tokens = await database_sync_to_async(scene)()
    url = server.url + "/api/enrollments"
    line = f"{server.url}/api/courses/{course.slug}/waitlist"
    status, enrollment = await asyncio.to_thread(
        http_post, url, {"course": course.slug}, tokens["a"]
    )
    assert status == 201

    b, _ = await open_socket(server, tokens["b"])
    c, _ = await open_socket(server, tokens["c"])
    watcher, _ = await open_socket(server)
    await watcher.send(json.dumps({"type": "watch", "course": course.slug}))
    assert (await frame_of(watcher, "course.waitlist"))["waiting"] == 0

    status, place = await asyncio.to_thread(http_post, line, {}, tokens["b"])
    assert (status, place["position"]) == (201, 1)
    assert (await frame_of(b, "waitlist.position"))["position"] == 1
    assert (await frame_of(watcher, "course.waitlist"))["waiting"] == 1
    status, place = await asyncio.to_thread(http_post, line, {}, tokens["c"])
    assert (status, place["position"]) == (201, 2)
    assert (await frame_of(c, "waitlist.position"))["position"] == 2
    assert (await frame_of(watcher, "course.waitlist"))["waiting"] == 2

    # A cancels: B's tab gets the offer, C's its new place, the watcher the line's length.
    cancel = f"{server.url}/api/enrollments/{enrollment['id']}/cancel"
    assert (await asyncio.to_thread(http_post, cancel, {}, tokens["a"]))[0] == 200
    offer = await frame_of(b, "waitlist.offer")
    assert offer["course"] == course.slug and offer["seq"] > 0
    assert (await frame_of(c, "waitlist.position"))["position"] == 1
    assert (await frame_of(watcher, "course.waitlist"))["waiting"] == 1

    # A stranger cannot take the held seat.
    status, refused = await asyncio.to_thread(http_post, url, {"course": course.slug}, tokens["d"])
    assert (status, refused["error"]["code"]) == (409, "course_full")

    # B's offer runs out: B's tab is told, C's gets the offer.
    def run_out() -> None:
        WaitlistEntry.objects.filter(user=users["b"]).update(
            offer_expires_at=timezone.now() - timedelta(seconds=1)
        )
        waitlist.offers_expire()

    await database_sync_to_async(run_out)()
    assert (await frame_of(b, "waitlist.expired")) == {
        "type": "waitlist.expired",
        "seq": offer["seq"] + 1,
        "course": course.slug,
    }
    assert (await frame_of(c, "waitlist.offer"))["course"] == course.slug

    # C enrolls within the offer: 201, and C's tab sees it active.
    status, taken = await asyncio.to_thread(http_post, url, {"course": course.slug}, tokens["c"])
    assert (status, taken["status"]) == (201, "active")
    statuses = [(await frame_of(c, "enrollment.status"))["enrollment"]["status"] for _ in range(2)]
    assert statuses == ["pending", "active"]
    for socket in (b, c, watcher):
        await socket.close()
