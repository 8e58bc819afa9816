"""GET /api/courses/{slug}/roster.csv: streamed, one query, injection-safe, constant memory."""

import csv
import gc
import io
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Lesson
from enrollment.models import Certificate, LessonProgress
from instructor.roster import HEADER, csv_safe
from tests.conftest import client_for
from tests.factories import make_course, make_user
from tests.instructor.helpers import make_enrollment, make_student

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    assert response.streaming  # never built whole in memory
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_roster_lists_every_enrollment_with_its_progress(instructor, instructor_api):
    course = make_course(instructor=instructor, modules=1, lessons_per_module=4)
    lessons = list(Lesson.objects.filter(module__course=course).order_by("position"))
    ada = make_enrollment(course, student=make_student(name="Ada", email="ada@example.test"))
    ada.created_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    ada.save(update_fields=["created_at"])
    for lesson in lessons[:3]:
        LessonProgress.objects.create(
            enrollment=ada, lesson=lesson, completed=True, completed_at=timezone.now()
        )
    LessonProgress.objects.create(enrollment=ada, lesson=lessons[3], completed=False)
    done = make_enrollment(course, status="completed")
    done.completed_at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    done.save(update_fields=["completed_at"])
    for lesson in lessons:
        LessonProgress.objects.create(
            enrollment=done, lesson=lesson, completed=True, completed_at=timezone.now()
        )
    Certificate.objects.create(
        enrollment=done,
        code="CERT-ABC",
        student_name="x",
        course_title="y",
        course_slug="z",
        issued_at=timezone.now(),
    )
    make_enrollment(make_course(), student=make_student(name="Elsewhere"))

    response = instructor_api.get(f"/api/courses/{course.slug}/roster.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{course.slug}-roster.csv"'
    rows = read_csv(response)
    assert rows[0] == list(HEADER)
    assert rows[1] == [
        ada.number,
        "Ada",
        "ada@example.test",
        "active",
        "2026-12-01T09:30:00+00:00",
        "3",
        "4",
        "75.0",
        "",
        "",
    ]
    assert rows[2][0] == done.number
    assert rows[2][3:] == [
        "completed",
        rows[2][4],
        "4",
        "4",
        "100.0",
        "2026-12-02T10:00:00+00:00",
        "CERT-ABC",
    ]
    assert len(rows) == 3  # nobody of the other course


def test_cells_that_a_spreadsheet_would_run_are_defused(instructor, instructor_api):
    course = make_course(instructor=instructor)
    for name in ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tTab", "Plain"]:
        make_enrollment(course, student=make_student(name=name))
    rows = read_csv(instructor_api.get(f"/api/courses/{course.slug}/roster.csv"))
    names = [row[1] for row in rows[1:]]
    assert names == ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)", "'\tTab", "Plain"]
    assert csv_safe(None) == "" and csv_safe(-5) == "'-5" and csv_safe("a=b") == "a=b"


def test_a_course_that_is_not_yours_is_not_found(instructor_api, student_api, api):
    foreign = make_course()
    answer = instructor_api.get(f"/api/courses/{foreign.slug}/roster.csv")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert student_api.get(f"/api/courses/{foreign.slug}/roster.csv").status_code == 404
    assert instructor_api.get("/api/courses/no-such-course/roster.csv").status_code == 404
    assert api.get(f"/api/courses/{foreign.slug}/roster.csv").status_code == 401


def test_staff_export_any_course():
    course = make_course()
    make_enrollment(course)
    response = client_for(make_user(is_staff=True)).get(f"/api/courses/{course.slug}/roster.csv")
    assert response.status_code == 200
    assert len(read_csv(response)) == 2


def test_one_query_for_the_rows(instructor, instructor_api, django_assert_max_num_queries):
    course = make_course(instructor=instructor, modules=1, lessons_per_module=2)
    for _ in range(30):
        make_enrollment(course)
    response = instructor_api.get(f"/api/courses/{course.slug}/roster.csv")
    # The lesson count and the rows (a server-side cursor: declare, fetch, close).
    with django_assert_max_num_queries(4):
        assert len(read_csv(response)) == 31


def _enrollments_by_sql(course_id: int, count: int) -> None:
    """`count` students and their active enrollments in two INSERT … SELECT statements."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM enrollment_student")
        (base,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO enrollment_student (email, name, created_at)
            SELECT 'bulk' || n || '@example.test', 'Bulk Student ' || n, now()
            FROM generate_series(%s + 1, %s + %s) AS n
            """,
            [base, base, count],
        )
        cursor.execute(
            """
            INSERT INTO enrollment_enrollment
                (number, student_id, course_id, status, created_at, updated_at, activated_at,
                 end_reason)
            SELECT 'ENR-BULK-' || s.id, s.id, %s, 'active', now(), now(), now(), ''
            FROM enrollment_student s WHERE s.id > %s
            """,
            [course_id, base],
        )


def _blocks_while_streaming(client, slug: str, marks: tuple[int, ...]) -> tuple[int, dict]:
    """(data lines read, the interpreter's allocated blocks once `mark` lines were read, for
    each mark). sys.getallocatedblocks costs nothing while rows stream (tracemalloc made
    this test three times slower); a garbage collection before each count leaves live
    objects only."""
    response = client.get(f"/api/courses/{slug}/roster.csv")
    assert response.status_code == 200
    lines, blocks = 0, {}
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        for mark in marks:
            if mark not in blocks and lines - 1 >= mark:
                gc.collect()
                blocks[mark] = sys.getallocatedblocks()
    return lines - 1, blocks  # less the header


def test_100000_rows_stream_in_the_memory_of_10000(instructor, instructor_api):
    course = make_course(instructor=instructor, modules=1, lessons_per_module=3)
    _enrollments_by_sql(course.pk, 100_000)

    rows, blocks = _blocks_while_streaming(instructor_api, course.slug, (10_000, 100_000))

    assert rows == 100_000
    # Ten times the rows, not ten times the memory: what the interpreter holds after
    # 100,000 rows is what it held after 10,000 (one chunk at a time). Holding the rows
    # would add several blocks per row; a chunk of 2,000 rows is far below the bound.
    grown = blocks[100_000] - blocks[10_000]
    assert grown < 5_000, blocks
