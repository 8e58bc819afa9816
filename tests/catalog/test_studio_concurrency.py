"""Concurrent reorders of the same siblings, on real threads and real PostgreSQL
transactions: positions stay unique and contiguous, and overlapping moves apply one after
the other (catalog.positions, catalog.curriculum)."""

import random
import threading

import pytest
from django.db import connection, transaction

from catalog import curriculum
from catalog.models import Lesson, Module
from tests.conftest import client_for
from tests.factories import make_course

pytestmark = pytest.mark.django_db(transaction=True)


def positions_of(module: Module) -> list[tuple[int, int]]:
    return list(
        Lesson.objects.filter(module=module).order_by("position").values_list("pk", "position")
    )


def run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target):
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported in the test's thread
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_simultaneous_reorders_of_one_module_leave_contiguous_unique_positions(instructor):
    course = make_course(instructor=instructor, modules=2, lessons_per_module=6)
    module, other = Module.objects.filter(course=course).order_by("position")
    lessons = list(Lesson.objects.filter(module=module).values_list("pk", flat=True))
    writers, moves = 4, 6
    barrier = threading.Barrier(writers)
    statuses: list[int] = []

    def writer(seed: int):
        def run() -> None:
            client = client_for(instructor)
            rng = random.Random(seed)
            barrier.wait(timeout=10)
            for _ in range(moves):
                response = client.patch(
                    f"/api/lessons/{rng.choice(lessons)}",
                    {"position": rng.randint(1, 7)},
                    format="json",
                )
                statuses.append(response.status_code)

        return run

    errors = run_threads([writer(seed) for seed in range(writers)])

    assert errors == []
    assert statuses == [200] * writers * moves
    final = positions_of(module)
    assert [position for _, position in final] == [1, 2, 3, 4, 5, 6]
    assert sorted(pk for pk, _ in final) == sorted(lessons)
    # The other module was never touched.
    assert [position for _, position in positions_of(other)] == [1, 2, 3, 4, 5, 6]
    assert set(Lesson.objects.filter(module=other).values_list("version", flat=True)) == {1}


def test_simultaneous_moves_between_modules_and_deletes_keep_both_modules_numbered(instructor):
    course = make_course(instructor=instructor, modules=2, lessons_per_module=5)
    first, second = Module.objects.filter(course=course).order_by("position")
    lessons = list(Lesson.objects.filter(module__course=course).values_list("pk", flat=True))
    doomed = lessons[:2]
    movers = [pk for pk in lessons if pk not in doomed]
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def mover(seed: int):
        def run() -> None:
            client = client_for(instructor)
            rng = random.Random(seed)
            barrier.wait(timeout=10)
            for _ in range(6):
                target = rng.choice([first.pk, second.pk])
                response = client.patch(
                    f"/api/lessons/{rng.choice(movers)}",
                    {"module": target, "position": rng.randint(1, 9)},
                    format="json",
                )
                statuses.append(response.status_code)

        return run

    def deleter() -> None:
        client = client_for(instructor)
        barrier.wait(timeout=10)
        for pk in doomed:
            statuses.append(client.delete(f"/api/lessons/{pk}").status_code)

    errors = run_threads([mover(1), mover(2), deleter])

    assert errors == []
    assert sorted(statuses) == [200] * 12 + [204] * 2
    in_first, in_second = positions_of(first), positions_of(second)
    assert [p for _, p in in_first] == list(range(1, len(in_first) + 1))
    assert [p for _, p in in_second] == list(range(1, len(in_second) + 1))
    assert sorted(pk for pk, _ in in_first + in_second) == sorted(movers)


def test_an_overlapping_reorder_waits_and_applies_after_the_first(instructor):
    """A holds its transaction open after moving a lesson; B's move of the same module
    must wait for A's commit and then see A's order (not the one it started from)."""
    course = make_course(instructor=instructor, modules=1, lessons_per_module=4)
    module = Module.objects.get(course=course)
    one, two, three, four = Lesson.objects.filter(module=module).order_by("position")
    a_moved, release_a, b_done = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with transaction.atomic():
            curriculum.lesson_update(lesson=four, data={"position": 1}, expected=[])
            a_moved.set()
            assert release_a.wait(timeout=30)

    def b() -> None:
        assert a_moved.wait(timeout=30)
        curriculum.lesson_update(lesson=one, data={"position": 4}, expected=[])
        b_done.set()

    def conductor() -> None:
        assert a_moved.wait(timeout=30)
        # B is blocked on the course lock while A's transaction is open.
        assert not b_done.wait(timeout=0.5)
        release_a.set()

    errors = run_threads([a, b, conductor])

    assert errors == []
    # A: 4 1 2 3; then B moves 1 to the end: 4 2 3 1.
    assert [pk for pk, _ in positions_of(module)] == [four.pk, two.pk, three.pk, one.pk]
    versions = dict(Lesson.objects.filter(module=module).values_list("pk", "version"))
    # Every lesson moved in A; 1, 2 and 3 moved again in B.
    assert versions == {four.pk: 2, one.pk: 3, two.pk: 3, three.pk: 3}
