"""Instructors with the dashboard open: a socket that receives `enrollment.created` for
each enrollment in their courses (timed from the enrollment's `activated_at`, set in the
transaction that commits it, to the frame's arrival), a heartbeat ping, and now and then
the list of their enrollments."""

import time

from gevent.event import Event
from locust import task

from loadtests.scaling.socket import PortalSocket, SocketError, seconds_since
from loadtests.scaling.users.common import (
    PortalUser,
    bearer,
    check,
    held_instructors,
    think,
    user_slot,
)

NOTIFICATION = "ws enrollment.created (commit → instructor)"


class Instructor(PortalUser):
    wait_time = think(5, 15)
    request_names = ("ws connect", NOTIFICATION, "ws ping", "/api/enrollments (instructor)")

    def on_start(self) -> None:
        # One of the instructors whose courses take the enrollments (however Locust spread
        # the instructor users over its workers).
        instructors = held_instructors()
        self.person = instructors[user_slot(self.environment, "instructor") % len(instructors)]
        self.auth = bearer(self.person["token"])
        self.pong = Event()
        self.socket = PortalSocket(self.environment, self.host, token=self.person["token"])
        self.socket.on("enrollment.created", self._created)
        self.socket.on("pong", lambda _frame, _arrived: self.pong.set())
        self.socket.open()

    def on_stop(self) -> None:
        self.socket.close()

    def _created(self, frame: dict, arrived: float) -> None:
        activated = frame["enrollment"].get("activated_at")
        if activated:
            self.socket.fire(NOTIFICATION, elapsed_ms=seconds_since(activated, arrived) * 1000)

    @task(2)
    def ping(self) -> None:
        if self.socket.closed:
            self.socket.open()
        self.pong.clear()
        started = time.perf_counter()
        self.socket.send({"type": "ping"})
        error = None if self.pong.wait(timeout=10) else SocketError("no pong in 10s")
        self.socket.fire("ws ping", started, exception=error)

    @task(1)
    def enrollments(self) -> None:
        course = self.pick(self.person["paid"] + self.person["free"])
        with self.client.get(
            f"/api/enrollments?course={course}&page_size=20",
            headers=self.auth,
            name="/api/enrollments (instructor)",
            catch_response=True,
        ) as response:
            check(response, 200, lambda body: "results" in body)
