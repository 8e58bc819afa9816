"""Students searching: over HTTP (/api/search), and as they type over the websocket
(`search` frames, each keystroke superseding the one before)."""

import random
import time
from urllib.parse import quote

import gevent
from gevent.event import Event
from locust import User, task

from loadtests.scaling.socket import PortalSocket, SocketError
from loadtests.scaling.users.common import LEVELS, QUERIES, SORTS, PortalUser, check, think

ANSWER_TIMEOUT = 15  # seconds for the last keystroke's answer


class HttpSearcher(PortalUser):
    wait_time = think(1, 4)
    request_names = ("/api/search",)

    @task
    def search(self) -> None:
        query = self.pick(QUERIES)
        # Half the searches are a prefix, as a search box sends while typing.
        if random.random() < 0.5:
            query = query[: random.randint(2, len(query))]
        url = f"/api/search?q={quote(query)}&limit=10&sort={random.choice(SORTS)}"
        level = random.choice(LEVELS)
        if level:
            url += f"&level={level}"
        with self.client.get(url, name="/api/search", catch_response=True) as response:
            check(response, 200, lambda body: "hits" in body and "total" in body)


class SocketSearcher(User):
    """An anonymous tab typing in the search box: a `search` frame per keystroke from the
    second letter on, a newer one superseding the one in flight. Every answer that comes is
    a "ws search.results" event timed from its own keystroke; the last keystroke's answer
    must come (a failure otherwise)."""

    wait_time = think(2, 5)
    request_names = ("ws connect", "ws search.results")

    def on_start(self) -> None:
        self.socket = PortalSocket(self.environment, self.host)
        self.pending: dict[int, float] = {}
        self.last_id = 0
        self.last_answered = Event()
        self.socket.on("search.results", self._answered)
        self.socket.on("error", self._error)
        self.socket.open()

    def on_stop(self) -> None:
        self.socket.close()

    def _answered(self, frame: dict, _arrived: float) -> None:
        started = self.pending.pop(frame["id"], None)
        if started is None:
            return  # an answer to a keystroke of an earlier, abandoned query
        self.socket.fire("ws search.results", started, length=len(frame.get("hits", [])))
        if frame["id"] == self.last_id:
            self.last_answered.set()

    def _error(self, frame: dict, _arrived: float) -> None:
        started = self.pending.pop(frame.get("id"), None) if frame.get("id") else None
        self.socket.fire(
            "ws search.results",
            started,
            exception=SocketError(f"{frame.get('code')}: {frame.get('message')}"),
        )
        if frame.get("id") == self.last_id:
            self.last_answered.set()

    @task
    def type_a_query(self) -> None:
        if self.socket.closed:
            self.socket.open()
        query = self.pick(QUERIES)
        self.pending.clear()
        self.last_answered.clear()
        for end in range(2, len(query) + 1):
            self.last_id += 1
            self.pending[self.last_id] = time.perf_counter()
            self.socket.send({"type": "search", "id": self.last_id, "q": query[:end], "limit": 8})
            gevent.sleep(random.uniform(0.08, 0.25))  # a person's typing speed
        if not self.last_answered.wait(timeout=ANSWER_TIMEOUT):
            started = self.pending.pop(self.last_id, None)
            self.socket.fire(
                "ws search.results",
                started,
                exception=SocketError(f"no answer to the last keystroke in {ANSWER_TIMEOUT}s"),
            )

    def pick(self, items: list) -> str:
        return random.choice(items)
