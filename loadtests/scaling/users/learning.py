"""Students learning in a course they enrolled in: lesson reads, progress writes (seen
live by their open tab), and the lesson video streamed with Range requests."""

import random
import time
import uuid

from locust import task

from loadtests.scaling.socket import PortalSocket
from loadtests.scaling.users.common import (
    PortalUser,
    bearer,
    check,
    fixtures,
    student_account,
    think,
)

CHUNK = 256 * 1024  # what a player asks for at a time


class LearningStudent(PortalUser):
    wait_time = think(2, 6)
    request_names = (
        "/api/enrollments?course=[slug]",
        "/api/lessons/[id]",
        "/api/enrollments/[id]/progress",
        "/media/[token]/[file] (range)",
        "ws connect",
        "ws progress.updated (write → tab)",
    )

    def on_start(self) -> None:
        account = student_account(self.environment, "learn")
        self.auth = bearer(account["token"])
        self.course = fixtures()["learning_course"]
        self.lessons = fixtures()["learning_lessons"]
        # Never the last lesson: a completed course stops taking progress.
        self.writable = [lesson["id"] for lesson in self.lessons[:-1]]
        self.videos = [lesson["id"] for lesson in self.lessons if lesson["kind"] == "video"]
        self.writes: dict[int, float] = {}  # lesson → when its write was sent
        self.enrollment = self._enrollment()
        # The lesson page's tab: its socket shows progress made in any tab.
        self.socket = PortalSocket(self.environment, self.host, token=account["token"])
        self.socket.on("progress.updated", self._progress_seen)
        self.socket.open()
        self.socket.send({"type": "watch", "course": self.course, "present": True})

    def on_stop(self) -> None:
        self.socket.close()

    def _enrollment(self) -> int | None:
        with self.client.get(
            f"/api/enrollments?course={self.course}&role=student",
            headers=self.auth,
            name="/api/enrollments?course=[slug]",
            catch_response=True,
        ) as response:
            body = check(response, 200, lambda body: "results" in body)
        live = [row for row in (body or {}).get("results", []) if row["status"] == "active"]
        if live:
            return live[0]["id"]
        with self.client.post(
            "/api/enrollments",
            json={"course": self.course},
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            name="/api/enrollments (free)",
            catch_response=True,
        ) as response:
            made = check(response, 201, lambda body: body["status"] == "active")
        return made["id"] if made else None

    def _progress_seen(self, frame: dict, _arrived: float) -> None:
        started = self.writes.pop(frame.get("lesson"), None)
        if started is not None:
            self.socket.fire("ws progress.updated (write → tab)", started)

    def _lesson(self, lesson_id: int) -> dict | None:
        with self.client.get(
            f"/api/lessons/{lesson_id}",
            headers=self.auth,
            name="/api/lessons/[id]",
            catch_response=True,
        ) as response:
            return check(
                response, 200, lambda body: body["id"] == lesson_id and "body_html" in body
            )

    @task(5)
    def read_lesson(self) -> None:
        self._lesson(self.pick(self.lessons)["id"])

    @task(3)
    def write_progress(self) -> None:
        if self.enrollment is None:
            return
        lesson = self.pick(self.writable)
        self.writes[lesson] = time.perf_counter()
        with self.client.post(
            f"/api/enrollments/{self.enrollment}/progress",
            json={
                "lesson": lesson,
                "completed": random.random() < 0.3,
                "position_seconds": random.randint(0, 600),
            },
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            name="/api/enrollments/[id]/progress",
            catch_response=True,
        ) as response:
            if not check(response, 200, lambda body: body["lesson"] == lesson):
                self.writes.pop(lesson, None)

    @task(2)
    def watch_video(self) -> None:
        """Open a video lesson, then play from the start and seek: two Range requests."""
        lesson = self._lesson(self.pick(self.videos)) if self.videos else None
        if not lesson or not lesson.get("media"):
            return
        url = lesson["media"]["url"]
        size = self._range(url, 0)
        if size and size > CHUNK:
            self._range(url, random.randrange(CHUNK // 2, size - 1))

    def _range(self, url: str, start: int) -> int | None:
        """One Range request from `start`; the file's size (from Content-Range) if 206."""
        with self.client.get(
            url,
            headers={"Range": f"bytes={start}-{start + CHUNK - 1}"},
            name="/media/[token]/[file] (range)",
            catch_response=True,
        ) as response:
            content_range = response.headers.get("content-range") or ""
            if response.status_code == 206 and content_range.startswith(f"bytes {start}-"):
                response.success()
                return int(content_range.rsplit("/", 1)[1])
            response.failure(f"{response.status_code}, Content-Range {content_range!r}")
            return None
