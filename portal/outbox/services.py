"""Recording effects with the change that owes them, and carrying them out.

`effect_record` writes a row in the caller's transaction: a rollback owes nothing, a commit
owes the effect until it is done. Right after commit the same process carries the row out
(the fast path); whatever fails then (the broker or the cache is down, the process dies)
stays in the table and the relay (`effects_relay`, run by Celery beat and by the
`relay_effects` command) retries it with backoff until it succeeds.

Each effect is carried out in a transaction that locks its row and deletes it, so two
relays never both do it, and an effect on the database (statistics) commits together with
its deletion: exactly once. Effects outside the database (queueing a job, retiring cached
answers) are at least once, and built to be harmless twice.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone

from portal.outbox.models import Effect
from portal.outbox.registry import handler_get
from portal.request_id import request_id_bound, request_id_get

log = structlog.get_logger(__name__)

BACKOFF_MAX = timedelta(minutes=5)


def effect_record(handler: str, **payload: Any) -> None:
    """Owe `handler(**payload)` once the current transaction commits."""
    with transaction.atomic():  # a savepoint inside the caller's transaction, or its own
        effect = Effect.objects.create(
            handler=handler,
            payload=payload,
            available_at=timezone.now(),
            request_id=request_id_get() or "",
        )
    transaction.on_commit(lambda: effects_apply([effect.pk]), robust=True)


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), BACKOFF_MAX)


def effect_apply(effect_id: int) -> bool:
    """Carry one effect out; False if it failed (it stays owed) or another relay has it.
    It runs with the request id of the change that owed it, whichever process relays it."""
    owed_by: str | None = None
    try:
        with transaction.atomic():
            rows = Effect.objects.filter(pk=effect_id)
            if connection.vendor == "postgresql":
                rows = rows.select_for_update(skip_locked=True)
            effect = rows.first()
            if effect is None:
                return False  # done already, or being done by another relay right now
            owed_by = effect.request_id or None
            with request_id_bound(owed_by):
                handler_get(effect.handler)(**effect.payload)
            effect.delete()
        return True
    except Exception as exc:
        with request_id_bound(owed_by):
            log.warning("outbox.effect_failed", effect=effect_id, error=repr(exc))
            _postpone(effect_id, exc)
        return False


def _postpone(effect_id: int, exc: Exception) -> None:
    try:
        effect = Effect.objects.filter(pk=effect_id).first()
        if effect is None:
            return
        Effect.objects.filter(pk=effect_id).update(
            attempts=effect.attempts + 1,
            available_at=timezone.now() + _backoff(effect.attempts + 1),
            last_error=repr(exc)[:2000],
        )
    except Exception:  # the database is what failed: the row is owed as it stands
        log.warning("outbox.postpone_failed", effect=effect_id, exc_info=True)


def effects_apply(effect_ids: Iterable[int]) -> int:
    """The fast path after commit: never raises (the change is committed; the relay
    retries what fails here)."""
    return sum(effect_apply(effect_id) for effect_id in effect_ids)


def effects_relay(*, limit: int = 500, postponed_too: bool = False) -> dict[str, int]:
    """Carry out the effects that are due (with `postponed_too`, also those waiting out a
    backoff: an operator's "now", after an outage), oldest first."""
    rows = Effect.objects.all()
    if not postponed_too:
        rows = rows.filter(available_at__lte=timezone.now())
    due = list(rows.order_by("id").values_list("id", flat=True)[:limit])
    done = effects_apply(due)
    outcome = {"due": len(due), "done": done, "failed": len(due) - done}
    if due:
        log.info("outbox.relayed", **outcome)
    return outcome


def effects_backlog() -> int:
    return Effect.objects.count()
