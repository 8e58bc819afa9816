"""Admission control (portal/admission.py): past HTTP_CONCURRENCY requests at once a
request waits its turn on the event loop, and past HTTP_ADMISSION_WAIT_SECONDS it is
answered 503 `unavailable`; health checks and metrics never wait."""

import asyncio
import json

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import RequestFactory

from portal.admission import AdmittingASGIHandler


@pytest.fixture
def held(monkeypatch):
    """Django's response making replaced by one that holds its slot until released, so
    the test decides when a request is done: (started paths, release event)."""
    started: list[str] = []
    release = asyncio.Event()

    async def respond(self, request):
        started.append(request.path)
        if request.path.startswith("/api/"):
            await release.wait()
        return HttpResponse(request.path)

    monkeypatch.setattr(ASGIHandler, "get_response_async", respond)
    return started, release


def run(coroutine):
    return asyncio.run(coroutine)


def admitted_while_held(count: int, held) -> tuple[list[str], list]:
    """`count` API requests sent at once: the paths admitted while the first ones hold
    their slots, then every answer once they are released."""
    started, release = held
    handler = AdmittingASGIHandler()
    factory = RequestFactory()

    async def scenario():
        requests = [
            asyncio.create_task(handler.get_response_async(factory.get(f"/api/{n}")))
            for n in range(count)
        ]
        await asyncio.sleep(0.05)  # every request has run until it holds or waits
        admitted = list(started)
        release.set()
        return admitted, await asyncio.gather(*requests)

    return run(scenario())


def test_requests_past_the_limit_wait_their_turn(settings, held):
    settings.HTTP_CONCURRENCY = 2
    settings.HTTP_ADMISSION_WAIT_SECONDS = 30
    admitted, answers = admitted_while_held(3, held)
    assert admitted == ["/api/0", "/api/1"]  # the third waited
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert held[0] == ["/api/0", "/api/1", "/api/2"]


def test_a_request_that_waits_too_long_is_answered_503_with_retry_after(settings, held):
    settings.HTTP_CONCURRENCY = 1
    settings.HTTP_ADMISSION_WAIT_SECONDS = 0.05
    started, release = held
    handler = AdmittingASGIHandler()
    factory = RequestFactory()

    async def scenario():
        holder = asyncio.create_task(handler.get_response_async(factory.get("/api/held")))
        await asyncio.sleep(0.01)
        refused = await handler.get_response_async(factory.post("/api/enrollments"))
        page = await handler.get_response_async(factory.get("/courses/python"))
        health = await handler.get_response_async(factory.get("/readyz"))
        release.set()
        await holder
        after = await handler.get_response_async(factory.get("/api/later"))
        return refused, page, health, after

    refused, page, health, after = run(scenario())
    assert refused.status_code == 503 and refused["Retry-After"] == "1"
    assert json.loads(refused.content)["error"]["code"] == "unavailable"
    assert page.status_code == 503 and b"busy" in page.content  # a page, not JSON
    assert health.status_code == 200  # never queued behind the busy ones
    assert after.status_code == 200  # the slot was given back
    assert started == ["/api/held", "/readyz", "/api/later"]


def test_no_limit_admits_everyone_at_once(settings, held):
    settings.HTTP_CONCURRENCY = 0
    admitted, answers = admitted_while_held(10, held)
    assert len(admitted) == 10
    assert {answer.status_code for answer in answers} == {200}
