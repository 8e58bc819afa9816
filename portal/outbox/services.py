"""Recording effects with the change that owes them, and carrying them out.

`effect_record` writes a row in the caller's transaction: a rollback owes nothing, a commit
owes the effect until it is done. Right after commit the same process carries the row out
(the fast path); whatever fails then (the broker or the cache is down, the process dies)
stays in the table and the relay (`effects_relay`, run by Celery beat and by the
`relay_effects` command) retries it with backoff until it succeeds.

Effects are carried out in a transaction that locks their rows and deletes them, so two
relays never both do one, and an effect on the database (statistics) commits together
with its deletion: exactly once. Effects outside the database (queueing a job, retiring
cached answers) are at least once, and built to be harmless twice.

The effects a transaction records one after the other (with no other after-commit work
registered between them) are carried out together: one transaction, one statement to
lock them and one to delete them (a waitlist's 100 offers owe 101). A job run in-process
is carried out alone (`_alone`). If any of them fails, that transaction rolls back and
each is carried out alone, the failed ones postponed (docs/benchmarks.md, "Enrollment
throughput", for what this bought).
"""

import json
from collections.abc import Iterable, Sequence
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


class _AfterCommit:
    """The effects recorded back to back in one transaction (and the same savepoints), to
    carry out together once it commits: one after-commit callback for all of them."""

    def __init__(self, effect_id: int, *, alone: bool = False) -> None:
        self.effect_ids = [effect_id]
        self.ran = False
        self.alone = alone  # nothing joins it (_alone)

    def __call__(self) -> None:
        self.ran = True
        effects_apply(self.effect_ids)


def _insert(handler: str, payload: dict[str, Any]) -> int:
    """One INSERT, its SQL written once: the ORM's would be compiled anew every time."""
    now = timezone.now()
    values = [
        handler,
        _PAYLOAD.get_db_prep_value(payload, connection),
        now,
        now,
        0,
        "",
        request_id_get() or "",
    ]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{_INSERT_SQL} RETURNING id", values)
            return int(cursor.fetchone()[0])
        cursor.execute(_INSERT_SQL, values)
        return int(cursor.lastrowid)


_PAYLOAD = Effect._meta.get_field("payload")
_INSERT_SQL = (
    f"INSERT INTO {Effect._meta.db_table} "  # noqa: S608 - no user input
    "(handler, payload, created_at, available_at, attempts, last_error, request_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def effect_record(handler: str, **payload: Any) -> None:
    """Owe `handler(**payload)` once the current transaction commits."""
    # No savepoint of its own: one INSERT either happens or breaks the caller's transaction.
    with transaction.atomic(savepoint=False):
        effect_id = _insert(handler, payload)
    alone = _alone(handler)
    pending = connection.run_on_commit
    if connection.in_atomic_block and pending and not alone:
        savepoints, callback = pending[-1][0], pending[-1][1]
        # The previous after-commit work is this transaction's effects, recorded under the
        # same savepoints (so rolled back with this one or not at all): join them.
        # (A test's captured callbacks run and stay listed: never join one that ran.)
        if (
            isinstance(callback, _AfterCommit)
            and not callback.ran
            and not callback.alone
            and savepoints == set(connection.savepoint_ids)
        ):
            callback.effect_ids.append(effect_id)
            return
    transaction.on_commit(_AfterCommit(effect_id, alone=alone), robust=True)


def _alone(handler: str) -> bool:
    """Whether the handler, now, does its work in this database itself (a job run
    in-process, `alone` on the handler): then it is carried out in a transaction of its
    own, as it would be by a worker. Batched, the row locks of its work were held until
    every other effect of the batch was done (a waitlist's offer emails, run eagerly,
    deadlocked with a concurrent cancel's offers)."""
    try:
        predicate = getattr(handler_get(handler), "alone", None)
    except LookupError:  # carried out (and refused) later, where it fails visibly
        return False
    return bool(predicate is not None and predicate())


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), BACKOFF_MAX)


def effect_apply(effect_id: int) -> bool:
    """Carry one effect out; False if it failed (it stays owed, postponed) or another
    relay has it. It runs with the request id of the change that owed it, whichever
    process relays it."""
    try:
        return _apply_together([effect_id]) == 1
    except Exception as exc:
        _failed(effect_id, exc)
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


def _apply_together(effect_ids: Sequence[int]) -> int:
    """Carry the effects out in one transaction: all done and deleted, or (raising) none."""
    table = Effect._meta.db_table
    marks = ", ".join(["%s"] * len(effect_ids))
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, handler, payload, request_id FROM {table} "  # noqa: S608 - no user input
            f"WHERE id IN ({marks}) ORDER BY id{lock}",
            list(effect_ids),
        )
        rows = cursor.fetchall()
        for _effect_id, handler, payload, owed_by in rows:
            arguments = json.loads(payload) if isinstance(payload, str) else payload
            with request_id_bound(owed_by or None):
                handler_get(handler)(**arguments)
        if rows:
            done = [row[0] for row in rows]
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(done))})",  # noqa: S608
                done,
            )
    return len(rows)


def effects_apply(effect_ids: Iterable[int]) -> int:
    """Carry effects out (the fast path after commit, and the relay): together, or if
    that fails one by one, the failed ones postponed. Never raises (the change is
    committed; the relay retries what fails here). Returns how many were done."""
    ids = list(effect_ids)
    if len(ids) > 1:
        try:
            return _apply_together(ids)
        except Exception as exc:
            log.info("outbox.batch_failed_one_by_one", effects=len(ids), error=repr(exc))
    return sum(effect_apply(effect_id) for effect_id in ids)


def _failed(effect_id: int, exc: Exception) -> None:
    try:
        owed_by = Effect.objects.filter(pk=effect_id).values_list("request_id", flat=True).first()
    except Exception:  # the database is what failed
        owed_by = None
    with request_id_bound(owed_by or None):
        log.warning("outbox.effect_failed", effect=effect_id, error=repr(exc))
        _postpone(effect_id, exc)


RELAY_CHUNK = 50  # effects carried out together by the relay: one failure redoes at most these


def effects_relay(*, limit: int = 500, postponed_too: bool = False) -> dict[str, int]:
    """Carry out the effects that are due (with `postponed_too`, also those waiting out a
    backoff: an operator's "now", after an outage), oldest first."""
    rows = Effect.objects.all()
    if not postponed_too:
        rows = rows.filter(available_at__lte=timezone.now())
    due = list(rows.order_by("id").values_list("id", "handler")[:limit])
    done = sum(effects_apply(batch) for batch in _relay_batches(due))
    outcome = {"due": len(due), "done": done, "failed": len(due) - done}
    if due:
        log.info("outbox.relayed", **outcome)
    return outcome


def _relay_batches(due: Sequence[tuple[int, str]]) -> list[list[int]]:
    """The due effects in order, in chunks of RELAY_CHUNK, except that an effect that
    works in this database itself (`_alone`) is a batch of its own, as after commit."""
    batches: list[list[int]] = []
    current: list[int] = []
    for effect_id, handler in due:
        if _alone(handler):
            if current:
                batches.append(current)
                current = []
            batches.append([effect_id])
            continue
        current.append(effect_id)
        if len(current) == RELAY_CHUNK:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def effects_backlog() -> int:
    return Effect.objects.count()
