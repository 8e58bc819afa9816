"""Claiming, replaying and completing Idempotency-Keys.

The first request with a key claims it (a unique row); a repeat with the same body gets
the stored answer, waiting while the first is still running; a repeat with another body
is a conflict. A claim whose request died is taken over once its lock expires.
"""

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.errors import Conflict
from portal.idempotency.models import IdempotencyKey


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any] | None


def _claim_lock() -> timedelta:
    """How long a claim is its request's before another may take it over: longer than
    any request runs (a charge included), short enough that a retry after a crash waits
    little."""
    return timedelta(seconds=settings.IDEMPOTENCY_CLAIM_LOCK_SECONDS)


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_TABLE = IdempotencyKey._meta.db_table
# One statement in autocommit, written once: a taken key is no error to recover from.
_CLAIM_SQL = (
    f"INSERT INTO {_TABLE} (key, scope, fingerprint, state, created_at, locked_until, "  # noqa: S608 - no user input
    "expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)


def _claim(*, key: str, scope: str, digest: str) -> IdempotencyKey | None:
    now = timezone.now()
    claim = IdempotencyKey(
        key=key,
        scope=scope,
        fingerprint=digest,
        state=IdempotencyKey.State.IN_PROGRESS,
        created_at=now,
        locked_until=now + _claim_lock(),
        expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [key, scope, digest, claim.state, now, claim.locked_until, claim.expires_at],
        )
        row = cursor.fetchone()
    if row is None:
        return None  # someone holds the key
    claim.pk = row[0]
    claim._state.adding = False  # a saved row, as create() would leave it
    return claim


def idempotency_begin(
    *, key: str, scope: str, digest: str, wait_seconds: float = 30.0
) -> IdempotencyKey | Replay:
    """Own the key (returns the claim) or get the first request's answer (a Replay)."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.02
    while True:
        claim = _claim(key=key, scope=scope, digest=digest)
        if claim is not None:
            return claim
        record = IdempotencyKey.objects.filter(key=key, scope=scope).first()
        if record is None:
            continue  # expired and pruned in between: claim again
        now = timezone.now()
        if record.expires_at <= now:
            IdempotencyKey.objects.filter(pk=record.pk, expires_at__lte=now).delete()
            continue
        if record.fingerprint != digest:
            raise IdempotencyConflict(
                "This Idempotency-Key was used with a different request body."
            )
        if record.state == IdempotencyKey.State.COMPLETED:
            # idempotency_complete sets the status with the state.
            return Replay(cast(int, record.response_status), record.response_body)
        taken_over = IdempotencyKey.objects.filter(
            pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS, locked_until__lt=now
        ).update(locked_until=now + _claim_lock())
        if taken_over:
            record.refresh_from_db()
            return record
        if time.monotonic() >= deadline:
            raise IdempotencyInProgress(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def idempotency_attach(claim: IdempotencyKey, resource_id: int) -> None:
    """Remember what the request created, for a request that takes its claim over."""
    IdempotencyKey.objects.filter(pk=claim.pk).update(resource_id=resource_id)
    claim.resource_id = resource_id


def idempotency_complete(claim: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        state=IdempotencyKey.State.COMPLETED, response_status=status, response_body=body
    )


def idempotency_release(claim: IdempotencyKey) -> None:
    """After a failed request: forget its claim if it created nothing, so a retry runs
    afresh; if it created its resource, let the next retry take the claim over at once
    and answer with that resource (never "already enrolled")."""
    IdempotencyKey.objects.filter(pk=claim.pk, resource_id__isnull=True).delete()
    IdempotencyKey.objects.filter(
        pk=claim.pk, state=IdempotencyKey.State.IN_PROGRESS, resource_id__isnull=False
    ).update(locked_until=timezone.now())


def idempotency_prune() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
