"""The transactional outbox: an effect is owed from the commit of its change until it is
done, a failure postpones it (never fails the change), and it is done once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.models import Course
from catalog.stats import course_stats_add
from portal.outbox.models import Effect
from portal.outbox.registry import effect_handler, handler_get
from portal.outbox.services import effect_apply, effect_record, effects_relay
from tests.enrollment.helpers import run_concurrently
from tests.factories import make_course

pytestmark = pytest.mark.django_db

# What the handler below did, and whether its dependency is "down".
done: list[str] = []
down = {"now": False}


@effect_handler
def remember(*, word: str) -> None:
    if down["now"]:
        raise ConnectionError("the dependency is down")
    done.append(word)


@pytest.fixture(autouse=True)
def _reset():
    done.clear()
    down["now"] = False
    yield
    down["now"] = False


HANDLER = "tests.portal.test_outbox.remember"


def test_an_effect_is_done_after_commit_and_its_row_deleted(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        effect_record(HANDLER, word="hello")
        assert done == []  # not before the commit
    assert done == ["hello"]
    assert not Effect.objects.exists()


def test_a_rolled_back_change_owes_nothing(django_capture_on_commit_callbacks):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        effect_record(HANDLER, word="never")
        raise Abort
    assert callbacks == [] and done == []
    assert not Effect.objects.exists()


def test_a_failing_effect_never_fails_the_commit_and_is_relayed_later(
    django_capture_on_commit_callbacks,
):
    down["now"] = True
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        effect_record(HANDLER, word="later")
    # The commit went through; the effect is still owed, pushed back, with its error.
    effect = Effect.objects.get()
    assert effect.attempts == 1
    assert effect.available_at > timezone.now()
    assert "the dependency is down" in effect.last_error
    assert effects_relay() == {"due": 0, "done": 0, "failed": 0}  # waiting out its backoff

    down["now"] = False
    assert effects_relay(postponed_too=True)["done"] == 1
    assert done == ["later"]
    assert not Effect.objects.exists()
    assert effect_apply(effect.pk) is False  # gone: a late second relay does nothing


def test_only_registered_handlers_run():
    with pytest.raises(LookupError):
        handler_get("os.system")
    with pytest.raises(LookupError):
        handler_get("tests.portal.test_outbox.HANDLER")


def test_an_unknown_handler_stays_owed_with_its_error(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        effect_record("os.system", command="true")
    assert "not a registered effect handler" in Effect.objects.get().last_error


# Real concurrency: relays in several threads, each with its own connection, must commit.
@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_apply_each_statistics_effect_exactly_once():
    course = make_course(price="10.00")
    owed = 40
    with transaction.atomic():
        for _ in range(owed):
            course_stats_add(course_id=course.pk, enrollments=1, revenue=Decimal("10.00"))
    # The fast path ran at commit; owe them again as if this process had died before it.
    assert Effect.objects.count() == 0
    Course.objects.filter(pk=course.pk).update(enrollment_count=0, revenue=0)
    Effect.objects.bulk_create(
        Effect(
            handler="catalog.stats.course_stats_apply",
            payload={"course_id": course.pk, "enrollments": 1, "revenue": "10.00"},
            available_at=timezone.now() - timedelta(seconds=1),
        )
        for _ in range(owed)
    )

    results = run_concurrently(4, lambda _: effects_relay()["done"])

    assert sum(results) == owed
    course.refresh_from_db()
    assert course.enrollment_count == owed
    assert course.revenue == Decimal("400.00")
    assert not Effect.objects.exists()


@effect_handler
def refuse(*, word: str) -> None:
    raise ConnectionError(f"{word}: the dependency is down")


def test_effects_recorded_back_to_back_are_carried_out_together_in_order(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    order: list[str] = []
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        effect_record(HANDLER, word="one")
        effect_record(HANDLER, word="two")
        transaction.on_commit(lambda: order.append(f"between, after {list(done)}"))
        effect_record(HANDLER, word="three")
    # Other after-commit work between effects keeps its place: three callbacks.
    assert len(callbacks) == 3
    with django_assert_max_num_queries(4):  # savepoint, lock both, delete both, release
        callbacks[0]()
    assert done == ["one", "two"]
    callbacks[1]()
    callbacks[2]()
    assert order == ["between, after ['one', 'two']"]
    assert done == ["one", "two", "three"]
    assert not Effect.objects.exists()


def test_an_effect_in_a_rolled_back_savepoint_is_not_owed_but_the_others_are(
    django_capture_on_commit_callbacks,
):
    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        effect_record(HANDLER, word="kept")
        with pytest.raises(Abort), transaction.atomic():
            effect_record(HANDLER, word="dropped")
            raise Abort
        effect_record(HANDLER, word="kept too")
    assert done == ["kept", "kept too"]
    assert not Effect.objects.exists()


def test_one_failing_effect_of_a_batch_is_postponed_and_the_others_done_once(
    django_capture_on_commit_callbacks,
):
    course = make_course(price="10.00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        course_stats_add(course_id=course.pk, enrollments=1, revenue=Decimal("10.00"))
        effect_record(HANDLER, word="before")
        effect_record("tests.portal.test_outbox.refuse", word="broker")
        effect_record(HANDLER, word="after")
    assert len(callbacks) == 1
    # The batch rolled back at the failure, then each was carried out alone: the
    # statistics once, the failed effect owed with its error, the others done.
    course.refresh_from_db()
    assert course.enrollment_count == 1 and course.revenue == Decimal("10.00")
    assert done == ["before", "before", "after"]  # at least once: "before" ran in the batch
    owed = Effect.objects.get()
    assert owed.handler == "tests.portal.test_outbox.refuse"
    assert owed.attempts == 1 and "broker: the dependency is down" in owed.last_error


@effect_handler
def remember_alone(*, word: str) -> None:
    done.append(f"alone {word}")


remember_alone.alone = lambda: True  # type: ignore[attr-defined]


def test_an_effect_that_works_in_this_database_itself_is_carried_out_alone(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        effect_record(HANDLER, word="one")
        effect_record("tests.portal.test_outbox.remember_alone", word="two")
        effect_record(HANDLER, word="three")
        effect_record(HANDLER, word="four")
    # Its own callback (so its own transaction), and none joins it; the order is kept.
    assert [len(callback.effect_ids) for callback in callbacks] == [1, 1, 2]
    assert done == ["one", "alone two", "three", "four"]
    assert not Effect.objects.exists()


transactions: list[tuple[str, int]] = []


def current_transaction() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        return cursor.fetchone()[0]


@effect_handler
def note_transaction(*, word: str) -> None:
    transactions.append((word, current_transaction()))


@effect_handler
def note_transaction_alone(*, word: str) -> None:
    transactions.append((word, current_transaction()))


note_transaction_alone.alone = lambda: True  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_the_relay_carries_an_alone_effect_out_in_a_transaction_of_its_own():
    """Effects owed after an outage: the relay batches them, but one that works in this
    database itself (an eager job) gets a transaction of its own, as after commit."""
    transactions.clear()
    owed = [("one", ""), ("two", ""), ("three", "_alone"), ("four", ""), ("five", "")]
    Effect.objects.bulk_create(
        Effect(
            handler=f"tests.portal.test_outbox.note_transaction{suffix}",
            payload={"word": word},
            available_at=timezone.now() - timedelta(seconds=1),
        )
        for word, suffix in owed
    )
    assert effects_relay()["done"] == 5
    assert [word for word, _ in transactions] == ["one", "two", "three", "four", "five"]
    txid = dict(transactions)
    assert txid["one"] == txid["two"] and txid["four"] == txid["five"]  # batched
    assert len({txid["one"], txid["three"], txid["four"]}) == 3  # alone between them
