"""Students waiting for a seat: a small free course, full, whose seats pass along its
waitlist. Each student takes a seat when one is free or joins the line; in line, the
`waitlist.offer` on its socket sends it to enroll with the held seat; seated, it gives the
seat up after a while (an offer for the next in line) and comes back to the line. A few
leave the line. Students are grouped a few more than the seats per course, so lines form."""

import random
import time
import uuid

from gevent.event import Event
from locust import task

from loadtests.scaling.socket import PortalSocket, seconds_since
from loadtests.scaling.users.common import (
    PortalUser,
    bearer,
    check,
    error_code,
    fixtures,
    student_account,
    think,
    user_slot,
)

HOLD_SECONDS = (4, 10)  # how long a seated student keeps the seat
PATIENCE_SECONDS = 60  # after this long in line, a student may leave it


class WaitingStudent(PortalUser):
    wait_time = think(1, 3)
    request_names = (
        "ws connect",
        "/api/enrollments (waitlist course)",
        "/api/courses/[slug]/waitlist (join)",
        "/api/courses/[slug]/waitlist",
        "ws waitlist.offer (commit → student)",
        "/api/enrollments (offer)",
        "/api/enrollments/[id]/cancel",
    )

    def on_start(self) -> None:
        account = student_account(self.environment, "wait")
        self.auth = bearer(account["token"])
        courses = fixtures()["waitlist_courses"]
        group = fixtures().get("waitlist_capacity", 2) + 3
        self.course = courses[(user_slot(self.environment, "wait-course") // group) % len(courses)]
        self.offer_minutes = float(fixtures()["waitlist_offer_minutes"])
        self.offered = Event()
        self.state = "out"
        self.enrollment: int | None = None
        self.until = 0.0  # seated: until when; waiting: since when + patience
        self.socket = PortalSocket(self.environment, self.host, token=account["token"])
        self.socket.on("waitlist.offer", self._offer)
        self.socket.open()

    def on_stop(self) -> None:
        self.socket.close()

    def _offer(self, frame: dict, arrived: float) -> None:
        if frame.get("course") != self.course:
            return
        # The offer holds the seat for offer_minutes from its transaction: that moment is
        # offer_expires_at less the hold (the server's clock; the same machine's here).
        delay = seconds_since(frame["offer_expires_at"], arrived) + self.offer_minutes * 60
        self.socket.fire("ws waitlist.offer (commit → student)", elapsed_ms=delay * 1000)
        self.offered.set()

    def _enroll(self, name: str) -> dict | None:
        with self.client.post(
            "/api/enrollments",
            json={"course": self.course},
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 409 and error_code(response) == "course_full":
                response.success()  # the answer a full course gives
                return None
            return check(response, 201, lambda body: body["status"] == "active")

    def _seated(self, enrollment: dict) -> None:
        self.state, self.enrollment = "seated", enrollment["id"]
        self.until = time.monotonic() + random.uniform(*HOLD_SECONDS)

    @task
    def step(self) -> None:
        if self.state == "out":
            self._seat_or_line()
        elif self.state == "seated":
            if time.monotonic() >= self.until:
                self._give_up_seat()
        elif self.offered.is_set():
            self.offered.clear()
            made = self._enroll("/api/enrollments (offer)")
            if made:
                self._seated(made)
        elif time.monotonic() >= self.until and random.random() < 0.1:
            self._leave()
        elif random.random() < 0.2:
            with self.client.get(
                f"/api/courses/{self.course}/waitlist",
                headers=self.auth,
                name="/api/courses/[slug]/waitlist",
                catch_response=True,
            ) as response:
                check(response, 200)

    def _seat_or_line(self) -> None:
        made = self._enroll("/api/enrollments (waitlist course)")
        if made:
            self._seated(made)
            return
        with self.client.post(
            f"/api/courses/{self.course}/waitlist",
            headers=self.auth,
            name="/api/courses/[slug]/waitlist (join)",
            catch_response=True,
        ) as response:
            if response.status_code == 409 and error_code(response) == "course_not_full":
                response.success()  # a seat came free meanwhile: the next step takes it
                return
            # 201 joined; 200 in line already (an earlier join whose answer was slow).
            expected = 200 if response.status_code == 200 else 201
            if check(response, expected, lambda body: body["course"] == self.course):
                self.state, self.until = "waiting", time.monotonic() + PATIENCE_SECONDS

    def _give_up_seat(self) -> None:
        with self.client.post(
            f"/api/enrollments/{self.enrollment}/cancel",
            headers=self.auth,
            name="/api/enrollments/[id]/cancel",
            catch_response=True,
        ) as response:
            if check(response, 200, lambda body: body["status"] == "cancelled"):
                self.state, self.enrollment = "out", None

    def _leave(self) -> None:
        with self.client.delete(
            f"/api/courses/{self.course}/waitlist",
            headers=self.auth,
            name="/api/courses/[slug]/waitlist (leave)",
            catch_response=True,
        ) as response:
            check(response, 204)
        self.state = "out"
