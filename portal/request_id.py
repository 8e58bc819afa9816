"""The request id: one value on every log line of an HTTP request, of a websocket
connection, and of the jobs they queue, so an operator can follow one request through
the app servers, the outbox and the workers.

The id lives in a context variable. `RequestIdMiddleware` sets it for an HTTP request (and
answers it in `X-Request-ID`), `RequestIdAsgiMiddleware` for a websocket connection (its
consumer's task and the threads and tasks it starts copy the context); the outbox stores
it with each effect (portal.outbox) and Celery carries it in a message header
(portal.celery), so a job run later in a worker logs the id of the request that owed it.
portal.logging puts it on every log record.

An incoming `X-Request-ID` (nginx sets its own `$request_id`, deploy/nginx.conf) is kept
only when it is well-formed, 8 to 128 letters, digits, `.`, `_` or `-`: anything else
(too long, a newline or other characters that would forge log lines) gets a fresh id.
"""

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeGuard

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,128}")

_current: ContextVar[str | None] = ContextVar("portal_request_id", default=None)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_well_formed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _WELL_FORMED.fullmatch(value) is not None


def request_id_accept(incoming: str | None) -> str:
    """The incoming id when it is well-formed, else a fresh one."""
    return incoming if request_id_well_formed(incoming) else request_id_new()


def request_id_get() -> str | None:
    return _current.get()


def request_id_set(value: str) -> Token[str | None]:
    """Bind `value` until `request_id_reset` with the token (for code that binds and
    unbinds in two calls, such as Celery's signals before and after a run)."""
    return _current.set(value)


def request_id_reset(token: Token[str | None]) -> None:
    _current.reset(token)


@contextmanager
def request_id_bound(value: str | None) -> Iterator[str | None]:
    """Bind `value` for the block (None: keep whatever is bound now)."""
    if value is None:
        yield _current.get()
        return
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """Outermost: every answer, refusals by the other middleware included, carries the id,
    and every line logged on the way has it. `request.request_id` holds it for code that
    logs after the middleware returned (django.request's 4xx lines, see portal.logging)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id_accept(request.META.get(_META_KEY))
        request.request_id = value  # type: ignore[attr-defined]
        with request_id_bound(value):
            response = self.get_response(request)
        response[HEADER] = value
        return response


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, raw in headers:
        if key.lower() == name:
            return raw.decode("latin-1")
    return None


class RequestIdAsgiMiddleware:
    """For websocket connections: the handshake's `X-Request-ID` (or a fresh id) is bound
    for the connection's whole life, so its consumer's log lines, and the jobs it queues,
    carry one id. Daphne runs each connection in a task of its own: the binding stays with
    that connection."""

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        value = request_id_accept(_header(scope.get("headers", ()), HEADER.lower().encode()))
        scope = {**scope, "request_id": value}
        with request_id_bound(value):
            return await self.application(scope, receive, send)
