"""Admission control: at most HTTP_CONCURRENCY requests of a process run at once.

Under ASGI every request runs its (sync) view in a thread of its own. Past a few at once
on a process, they only take turns at the GIL and the connection pool: each request then
costs more CPU and the process serves fewer of them (docs/benchmarks.md, "Enrollment
throughput": at 8 concurrent checkouts per process, 40/s and 33 ms of CPU each; admitted
3 at a time, 70/s and 18 ms). So a request whose body has been read waits on the event
loop, where waiting costs nothing, until one of the slots is free; one that waits longer
than HTTP_ADMISSION_WAIT_SECONDS is answered 503 `unavailable` with Retry-After (as a
request that waits that long for a database connection is), for the client to retry.

The slot is taken after the body is read and given back once the response is made, so a
slow upload or a slow reader holds none. Health checks and metrics are never queued: a
busy process is not a dead one.
"""

import asyncio
import weakref

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from portal.errors import error_response, is_api_path
from portal.request_threads import KeptThreads

NEVER_QUEUED = ("/healthz", "/readyz", "/metrics")
BUSY_MESSAGE = "The portal is busy; retry shortly."
BUSY_RETRY_AFTER = "1"


class AdmittingASGIHandler(ASGIHandler):
    """Django's ASGI handler, admitting at most `settings.HTTP_CONCURRENCY` requests at once
    into the middleware and the view (0: no limit)."""

    def __init__(self) -> None:
        super().__init__()
        # One per event loop (a semaphore belongs to the loop that first waits on it).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        # Kept threads for the admitted requests and as many waiting to be.
        self._threads = KeptThreads(max(settings.HTTP_CONCURRENCY, 1) * 2)

    async def __call__(self, scope, receive, send) -> None:
        # Each request's sync code on a kept thread (portal/request_threads.py) when one is
        # free, else on a thread of its own as Django does.
        threads = self._threads
        executor = threads.take()
        if executor is None:
            await super().__call__(scope, receive, send)
            return
        try:
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            threads.give_back_when_idle(executor)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(settings.HTTP_CONCURRENCY)
        return slots

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        if settings.HTTP_CONCURRENCY <= 0 or request.path.startswith(NEVER_QUEUED):
            return await super().get_response_async(request)
        slots = self._semaphore()
        try:
            async with asyncio.timeout(settings.HTTP_ADMISSION_WAIT_SECONDS):
                await slots.acquire()
        except TimeoutError:
            return busy_response(request)
        try:
            return await super().get_response_async(request)
        finally:
            slots.release()


def busy_response(request: HttpRequest) -> HttpResponse:
    if is_api_path(request):
        response: HttpResponse = error_response(503, BUSY_MESSAGE)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Busy</title><h1>Back in a moment</h1><p>{BUSY_MESSAGE}</p>",
            status=503,
        )
    response["Retry-After"] = BUSY_RETRY_AFTER
    return response
