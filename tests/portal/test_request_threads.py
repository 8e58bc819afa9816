"""Requests' sync code on kept threads (portal/request_threads.py through
portal/admission.py): one request after another reuses a thread, as many at once as
there are kept threads get one each, and a request past them still runs, on a thread of
its own."""

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_started

from portal.admission import AdmittingASGIHandler
from portal.request_threads import KeptThreads

SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"testserver")],
    "client": ("127.0.0.1", 5000),
    "server": ("testserver", 80),
}


@pytest.fixture
def threads_seen():
    """The name of the thread each request's `request_started` ran on (Django sends it
    through the request's thread-sensitive executor, like the view)."""
    seen: list[str] = []
    gate: dict[str, threading.Barrier] = {}

    def note(**kwargs) -> None:
        seen.append(threading.current_thread().name)
        if "barrier" in gate:
            gate["barrier"].wait(timeout=10)

    request_started.connect(note, dispatch_uid="test-request-threads")
    yield seen, gate
    request_started.disconnect(dispatch_uid="test-request-threads")


async def get(handler) -> int:
    communicator = ApplicationCommunicator(handler, dict(SCOPE))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    await communicator.receive_output(timeout=10)  # the body
    await communicator.wait(timeout=10)
    return start["status"]


async def all_free(handler, kept: int) -> None:
    """Until every kept thread is back: each gives itself back once idle."""
    while handler._threads.free() < kept:
        await asyncio.sleep(0.01)


def test_one_request_after_another_runs_on_the_same_kept_thread(settings, threads_seen):
    settings.HTTP_CONCURRENCY = 1
    seen, _ = threads_seen
    handler = AdmittingASGIHandler()

    async def scenario():
        statuses = []
        for _ in range(3):
            statuses.append(await get(handler))
            await all_free(handler, kept=2)
        return statuses

    assert asyncio.run(scenario()) == [200, 200, 200]
    assert len(seen) == 3 and seen[0].startswith("request-"), seen
    assert len(set(seen)) == 1, seen  # kept, not a new thread per request


def test_requests_past_the_kept_threads_get_threads_of_their_own(settings, threads_seen):
    settings.HTTP_CONCURRENCY = 1  # two kept threads
    seen, gate = threads_seen
    gate["barrier"] = threading.Barrier(3)  # all three inside their threads at once
    handler = AdmittingASGIHandler()

    async def scenario():
        return await asyncio.gather(*(get(handler) for _ in range(3)))

    assert asyncio.run(scenario()) == [200, 200, 200]
    kept = [name for name in seen if name.startswith("request-")]
    assert len(seen) == 3 and len(set(seen)) == 3, seen
    assert len(kept) == 2, seen


def test_a_thread_still_running_an_abandoned_view_is_not_handed_out():
    threads = KeptThreads(1)
    executor = threads.take()
    assert executor is not None and threads.take() is None
    release = threading.Event()
    executor.submit(release.wait, 10)  # a view still running after its request ended
    threads.give_back_when_idle(executor)
    assert threads.take() is None  # the next request gets a thread of its own
    release.set()
    executor.submit(lambda: None).result(timeout=10)  # the give-back ran before this
    assert threads.take() is executor
