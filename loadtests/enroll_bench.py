"""Enrollment throughput benchmark (a command, not a test).

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python loadtests/enroll_bench.py

Drives POST /api/enrollments (guest checkout, a paid course, the test gateway) on
SERVERS portal processes at several concurrency levels and prints enrollments per second
and p50/p95 latency, beside a raw-SQL baseline that does the same writes (student, seat,
enrollment, number, payment, activation, course stats, two event rows) in one transaction
per enrollment over plain psycopg, and the ratio of the two. Jobs are queued to a Redis
broker nobody consumes, as a web tier would. Wall-clock figures on a shared machine:
compare the ratios within one run.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from loadtests.servers import ServerProcess  # noqa: E402

COURSE_SLUG = "bench-enrollment-course"


def course_slug(index: int, courses: int) -> str:
    return COURSE_SLUG if courses == 1 else f"{COURSE_SLUG}-{index % courses}"


def prepare(courses: int) -> tuple[int, str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from catalog.models import Course, CourseInstructor
    from portal.accounts.models import User

    call_command("migrate", verbosity=0)
    instructor, _ = User.objects.get_or_create(
        email="bench-instructor@bench.local", defaults={"name": "Bench", "is_instructor": True}
    )
    course, _ = Course.objects.get_or_create(
        slug=COURSE_SLUG,
        defaults={
            "title": "Bench enrollments",
            "summary": "Benchmarked.",
            "category": "Bench",
            "price": "49.00",
            "published_at": timezone.now(),
        },
    )
    CourseInstructor.objects.get_or_create(course=course, user=instructor)
    return course.pk, instructor.pk


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run_level(concurrency: int, seconds: float, work) -> dict:
    """Call work(worker_index) from `concurrency` threads for `seconds`; time each call."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(index: int) -> None:
        state: dict = {}
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            ok = work(index, state)
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    wall = time.perf_counter() - started
    return {
        "rate": len(latencies) / wall,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "count": len(latencies),
        "failures": failures[0],
    }


def http_enroll(servers: list[ServerProcess], courses: int):
    def work(index: int, state: dict) -> bool:
        if "conn" not in state:
            server = servers[index % len(servers)]
            state["conn"] = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        body = json.dumps(
            {
                "course": COURSE_SLUG,
                "student": {"email": f"b-{uuid.uuid4().hex}@bench.local", "name": "Bench"},
                "payment_method": "pm_card_visa",
            }
        )
        try:
            state["conn"].request(
                "POST",
                "/api/enrollments",
                body,
                {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
            )
            response = state["conn"].getresponse()
            response.read()
            return response.status == 201
        except (OSError, http.client.HTTPException):
            state.pop("conn", None)
            return False

    return work


RAW_SQL = """
WITH student AS (
    INSERT INTO enrollment_student (email, name, created_at) VALUES (%(email)s, 'Bench', now())
    RETURNING id
), seat AS (
    UPDATE catalog_course SET seats_taken = seats_taken + 1
    WHERE id = %(course)s AND (capacity IS NULL OR seats_taken < capacity) RETURNING id
), enrollment AS (
    INSERT INTO enrollment_enrollment
        (number, student_id, course_id, status, created_at, updated_at, end_reason)
    SELECT %(number)s, student.id, seat.id, 'pending', now(), now(), '' FROM student, seat
    RETURNING id
)
INSERT INTO enrollment_payment
    (enrollment_id, amount, currency, status, provider, provider_reference, failure_reason,
     payment_method, created_at, updated_at)
SELECT id, 49.00, 'usd', 'pending', 'test', '', '', 'pm_card_visa', now(), now()
FROM enrollment RETURNING enrollment_id
"""


def raw_sql_enroll(course_id: int, instructor_id: int, dsn: str):
    import psycopg

    def work(index: int, state: dict) -> bool:
        if "conn" not in state:
            state["conn"] = psycopg.connect(dsn)
        conn = state["conn"]
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(
                RAW_SQL,
                {
                    "email": f"r-{uuid.uuid4().hex}@bench.local",
                    "course": course_id,
                    "number": uuid.uuid4().hex,
                },
            )
            enrollment_id = cursor.fetchone()[0]
            cursor.execute(
                "UPDATE enrollment_enrollment SET status = 'active', "
                "activated_at = now() WHERE id = %s",
                [enrollment_id],
            )
            cursor.execute(
                "UPDATE enrollment_payment SET status = 'succeeded' WHERE enrollment_id = %s",
                [enrollment_id],
            )
            cursor.execute(
                "UPDATE catalog_course SET enrollment_count = enrollment_count + 1, "
                "revenue = revenue + 49.00 WHERE id = %s",
                [course_id],
            )
            for _ in range(2):  # the instructor's enrollment.created, one more event row
                cursor.execute(
                    "INSERT INTO events_eventcursor (user_id, last_seq) VALUES (%s, 1) "
                    "ON CONFLICT (user_id) DO UPDATE SET last_seq = events_eventcursor.last_seq + 1 "
                    "RETURNING last_seq",
                    [instructor_id],
                )
                seq = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO events_userevent (user_id, seq, type, payload, "
                    "created_at) VALUES (%s, %s, 'bench', '{}', now())",
                    [instructor_id, seq],
                )
        return True

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--server", default="daphne", choices=["daphne", "uvicorn"])
    parser.add_argument(
        "--courses",
        type=int,
        default=1,
        help="spread enrollments over this many courses (1: every request races for one)",
    )
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL", "")
    if not dsn.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL.")
    course_id, instructor_id = prepare(args.courses)
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/4"
    env = {
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENROLL": "100000000",
        "RATE_LIMIT_ENROLL_IP": "100000000",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DB_POOL_MAX_SIZE": "12",
    }
    servers = [ServerProcess(server=args.server, **env).start() for _ in range(args.servers)]
    levels = [int(level) for level in args.levels.split(",")]
    rows = []
    try:
        run_level(4, 2.0, http_enroll(servers, args.courses))  # warm-up: connections, caches
        for level in levels:
            endpoint = run_level(level, args.seconds, http_enroll(servers, args.courses))
            raw = run_level(level, args.seconds, raw_sql_enroll(course_id, instructor_id, dsn))
            rows.append((level, endpoint, raw))
    finally:
        for server in servers:
            server.stop()
        import redis

        redis.Redis.from_url(broker).flushdb()
    print()
    print(
        f"POST /api/enrollments on {args.servers} {args.server} processes (test gateway, "
        f"guest checkout, Idempotency-Key), {args.seconds:g}s per level"
    )
    print()
    print("concurrency  endpoint/s  p50 ms  p95 ms  errors   raw-SQL/s  p50 ms   ratio")
    for level, endpoint, raw in rows:
        print(
            f"{level:>11}  {endpoint['rate']:10.1f} {endpoint['p50'] * 1000:7.1f} "
            f"{endpoint['p95'] * 1000:7.1f} {endpoint['failures']:>7}   {raw['rate']:9.1f} "
            f"{raw['p50'] * 1000:7.1f}  {endpoint['rate'] / raw['rate']:6.2f}"
        )


if __name__ == "__main__":
    main()
