"""Locust load test of a running portal: HTTP users and websocket users.

    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 \\
        --headless --users 50 --spawn-rate 10 --run-time 1m

The run fails (exit code 1) when more than MAX_FAIL_RATIO of requests fail or the p95
response time exceeds MAX_P95_MS; both come from the environment. Enrollments need the
test payment gateway (the default without a Stripe key) and generous limits on the server
(RATE_LIMIT_ENROLL, RATE_LIMIT_ENROLL_IP, and WS_MAX_SOCKETS_PER_ADDRESS above the number
of users), since every simulated user shares one address.
"""

import json
import os
import random
import time
import uuid

from locust import HttpUser, User, between, events, task
from websockets.sync.client import connect

MAX_FAIL_RATIO = float(os.environ.get("MAX_FAIL_RATIO", "0.01"))
MAX_P95_MS = float(os.environ.get("MAX_P95_MS", "800"))
QUERIES = [
    "py",
    "pyth",
    "python",
    "pyhton",
    "data",
    "data sci",
    "java",
    "javas",
    "react",
    "docker",
    "kube",
    "sql",
    "design",
    "math",
    "span",
    "photo",
]
LEVELS = ["", "beginner", "intermediate", "advanced"]


class CatalogVisitor(HttpUser):
    """Browses, searches and opens courses; now and then enrolls as a guest."""

    wait_time = between(0.5, 2)
    slugs: list[str] = []

    def on_start(self) -> None:
        page = self.client.get("/api/courses?page_size=50", name="/api/courses").json()
        self.slugs = [course["slug"] for course in page["results"]]

    @task(5)
    def browse(self) -> None:
        level = random.choice(LEVELS)
        self.client.get(
            f"/api/courses?sort=popular&level={level}&page={random.randint(1, 5)}",
            name="/api/courses?filters",
        )

    @task(5)
    def search(self) -> None:
        query = random.choice(QUERIES)
        self.client.get(f"/api/search?q={query}", name="/api/search")

    @task(3)
    def open_course(self) -> None:
        if self.slugs:
            self.client.get(f"/api/courses/{random.choice(self.slugs)}", name="/api/courses/[slug]")

    @task(1)
    def enroll(self) -> None:
        if not self.slugs:
            return
        body = {
            "course": random.choice(self.slugs),
            "student": {"email": f"load-{uuid.uuid4().hex}@example.com", "name": "Load"},
            "payment_method": "pm_card_visa",
        }
        with self.client.post(
            "/api/enrollments",
            json=body,
            name="/api/enrollments",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            catch_response=True,
        ) as response:
            # A full course is a correct answer under load, not a failure.
            if response.status_code in (201, 409):
                response.success()


class SocketVisitor(User):
    """Types a query letter by letter over the websocket, and watches a course."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        host = self.host.replace("http://", "ws://").replace("https://", "wss://")
        self.socket = connect(f"{host}/ws/", origin=self.host, open_timeout=10)
        self.request_id = 0
        self._expect("hello")

    def on_stop(self) -> None:
        self.socket.close()

    def _expect(self, frame_type: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if frame["type"] == frame_type:
                return frame

    def _timed(self, name: str, action) -> None:
        started = time.perf_counter()
        error = None
        try:
            action()
        except Exception as exc:
            error = exc
        events.request.fire(
            request_type="WS",
            name=name,
            response_length=0,
            exception=error,
            response_time=(time.perf_counter() - started) * 1000,
            context={},
        )

    @task(4)
    def type_a_query(self) -> None:
        query = random.choice(QUERIES)

        def typing() -> None:
            for end in range(2, len(query) + 1):
                self.request_id += 1
                self.socket.send(
                    json.dumps(
                        {"type": "search", "id": self.request_id, "q": query[:end], "limit": 8}
                    )
                )
            while self._expect("search.results")["id"] != self.request_id:
                pass  # superseded answers may still arrive; wait for the last

        self._timed("ws search (typed)", typing)

    @task(1)
    def ping(self) -> None:
        def round_trip() -> None:
            self.socket.send(json.dumps({"type": "ping"}))
            self._expect("pong")

        self._timed("ws ping", round_trip)


@events.quitting.add_listener
def enforce_thresholds(environment, **_kwargs) -> None:
    stats = environment.stats.total
    if stats.num_requests == 0:
        print("FAIL: no requests were made")
        environment.process_exit_code = 1
    elif stats.fail_ratio > MAX_FAIL_RATIO:
        print(f"FAIL: {stats.fail_ratio:.1%} of requests failed (max {MAX_FAIL_RATIO:.1%})")
        environment.process_exit_code = 1
    elif stats.get_response_time_percentile(0.95) > MAX_P95_MS:
        print(f"FAIL: p95 {stats.get_response_time_percentile(0.95):.0f} ms > {MAX_P95_MS:.0f} ms")
        environment.process_exit_code = 1
    else:
        print(
            f"PASS: {stats.num_requests} requests, {stats.fail_ratio:.2%} failed, "
            f"p95 {stats.get_response_time_percentile(0.95):.0f} ms"
        )
        environment.process_exit_code = 0
