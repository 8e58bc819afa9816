"""`@idempotent`: Idempotency-Key handling around a DRF view method.

Without the header the view runs as usual. With it, the first request claims the key and
its answer (success or an `ApplicationError`) is stored; a repeat with the same body gets
that answer again (`Idempotent-Replayed: true`), waiting while the first is still running;
a repeat with another body is 409 `idempotency_conflict`. Input the serializers reject and
unexpected failures release the claim, so a corrected or later retry runs afresh (or,
if the failed request had created its resource, takes that over at once). A request
that takes over the claim of one that died after creating its resource answers with
`resume(resource_id)` instead of running the view again.

The view reaches its claim through `idempotency_claim(request)` (None without a key) and
calls `idempotency_attach(claim, id)` as soon as its resource exists.

Keys live in one namespace per caller: `user:<id>` when signed in; for guests a hash of the
client address and of who the body says they are (`guest_identity`, e.g. the student's
email). A guest's retry (same body, same address) replays; another guest sending the same
key, with another email or from elsewhere, neither gets the first answer nor a conflict.
"""

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import structlog
from django.db import connection
from rest_framework.request import Request
from rest_framework.response import Response

from portal.errors import ApplicationError
from portal.idempotency.models import IdempotencyKey
from portal.idempotency.services import (
    Replay,
    fingerprint,
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
)
from portal.ratelimit import client_ip

log = structlog.get_logger(__name__)

KEY_MAX = 255

ViewMethod = Callable[..., Response]
GuestIdentity = Callable[[Any], str]


def _release(claim: IdempotencyKey) -> None:
    try:
        idempotency_release(claim)
        return
    except Exception:  # the request's own connection may be what broke: once more, anew
        connection.close_if_unusable_or_obsolete()
    try:
        idempotency_release(claim)
    except (
        Exception
    ):  # the database is down: the claim's lock lapses (IDEMPOTENCY_CLAIM_LOCK_SECONDS)
        log.warning("idempotency.release_failed", key=claim.key, exc_info=True)


def user_scope(user_id: int) -> str:
    """The scope of a signed-in account's keys (an erased account's are deleted by it)."""
    return f"user:{user_id}"


def caller_scope(request: Request, guest_identity: GuestIdentity | None = None) -> str:
    if request.user.is_authenticated:
        return user_scope(request.user.pk)
    identity = guest_identity(request.data) if guest_identity is not None else ""
    subject = f"{client_ip(request._request)}|{identity.strip().lower()}"
    return "guest:" + hashlib.sha256(subject.encode()).hexdigest()[:40]


def request_fingerprint(request: Request, url_arguments: dict[str, Any]) -> str:
    """The body, and for a view of one object (a URL with arguments) the path as well: the
    same key and body sent to another enrollment's progress is another request (409)."""
    if not url_arguments:
        return fingerprint(request.data)
    return fingerprint({"path": request.path, "body": request.data})


def _claim_keep(request: Request, claim: IdempotencyKey | None) -> None:
    # On the request itself, for the view it wraps (idempotency_claim).
    request.idempotency = claim  # type: ignore[attr-defined]


def idempotency_claim(request: Request) -> IdempotencyKey | None:
    """The key this request claimed under `@idempotent`; None without an Idempotency-Key."""
    claim: IdempotencyKey | None = request.idempotency  # type: ignore[attr-defined]
    return claim


def idempotent(
    *, resume: Callable[[int], Response], guest_identity: GuestIdentity | None = None
) -> Callable[[ViewMethod], ViewMethod]:
    def decorate(view_method: ViewMethod) -> ViewMethod:
        @functools.wraps(view_method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get("Idempotency-Key", "").strip()
            _claim_keep(request, None)
            if not key:
                return view_method(view, request, *args, **kwargs)
            if len(key) > KEY_MAX:
                raise ApplicationError(f"Idempotency-Key is too long ({KEY_MAX} at most).")
            scope = caller_scope(request, guest_identity)
            claim = idempotency_begin(
                key=key, scope=scope, digest=request_fingerprint(request, kwargs)
            )
            if isinstance(claim, Replay):
                headers = {"Idempotent-Replayed": "true"}
                return Response(claim.body, status=claim.status, headers=headers)
            _claim_keep(request, claim)
            try:
                if claim.resource_id:  # taking over from a request that died mid-way
                    response = resume(claim.resource_id)
                else:
                    response = view_method(view, request, *args, **kwargs)
            except ApplicationError as exc:  # a decided refusal: the same body next time
                response = Response(exc.body(), status=exc.status_code)
            except BaseException:
                _release(claim)
                raise
            idempotency_complete(claim, response.status_code, response.data)
            return response

        return wrapper

    return decorate
