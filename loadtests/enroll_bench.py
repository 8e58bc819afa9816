"""Enrollment throughput benchmark (a command, not a test).

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python loadtests/enroll_bench.py

Drives POST /api/enrollments (guest checkout, a paid course, the test gateway) on
SERVERS portal processes at several concurrency levels and prints enrollments per second
and p50/p95 latency, and the CPU the app processes spent per enrollment, beside a raw-SQL
floor that writes the same rows (the Idempotency-Key and its answer, student, seat,
enrollment, payment, the charge's records, activation, the instructor's event, receipt,
outbox rows, course statistics) in the endpoint's transactions over plain psycopg, and
the ratio of the two. Jobs are queued to a Redis broker nobody consumes, as a web tier
would. Wall-clock figures on a shared machine: compare the ratios within one run.
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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


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


# The floor: the rows one guest checkout leaves behind, written over plain psycopg with as
# few round trips as SQL allows (CTEs), in the endpoint's order of transactions (the key
# claimed first, the reservation, the charge's records, the activation, the answer
# stored). What it leaves out is everything that is not a write: HTTP, JSON, validation,
# the ORM, row locks of the transitions, reads that build the answer and the events,
# Redis (rate limit, cache, channel layer) and the broker.
FLOOR_CLAIM = """
INSERT INTO idempotency_idempotencykey
    (key, scope, fingerprint, state, created_at, locked_until, expires_at)
VALUES (%(key)s, 'guest:bench', 'f', 'in_progress', now(), now() + interval '1 minute',
        now() + interval '1 day')
RETURNING id
"""

FLOOR_RESERVE = """
WITH student AS (
    INSERT INTO enrollment_student (email, guest_key, name, created_at)
    VALUES (%(email)s, 'k', 'Bench', now()) RETURNING id
), seat AS (
    UPDATE catalog_course SET seats_taken = seats_taken + 1
    WHERE id = %(course)s AND published_at IS NOT NULL
      AND (capacity IS NULL OR seats_taken < capacity) RETURNING id
), new_id AS (
    SELECT nextval(pg_get_serial_sequence('enrollment_enrollment', 'id')) AS id
), enrollment AS (
    INSERT INTO enrollment_enrollment
        (id, number, student_id, course_id, status, created_at, updated_at, end_reason,
         hold_expires_at)
    SELECT new_id.id, 'ENR-' || new_id.id, student.id, seat.id, 'pending', now(), now(), '',
           now() + interval '15 minutes'
    FROM student, seat, new_id
    RETURNING id
), payment AS (
    INSERT INTO enrollment_payment
        (enrollment_id, amount, list_price, currency, status, provider, provider_reference,
         failure_reason, payment_method, attempt, coupon_code, created_at, updated_at)
    SELECT id, 49.00, 49.00, 'usd', 'pending', 'test', '', '', 'pm_card_visa', 1, '', now(),
           now()
    FROM enrollment RETURNING id, enrollment_id
), effects AS (
    INSERT INTO outbox_effect
        (handler, payload, created_at, available_at, attempts, last_error, request_id)
    SELECT 'bench', '{}', now(), now(), 0, '', '' FROM generate_series(1, %(reserve_effects)s)
), claim AS (
    UPDATE idempotency_idempotencykey SET resource_id = (SELECT id FROM enrollment)
    WHERE id = %(claim)s
)
SELECT payment.id, payment.enrollment_id FROM payment
"""

FLOOR_CHARGE = """
WITH intent AS (
    INSERT INTO enrollment_testgatewayintent
        (reference, status, amount, currency, payment_method, metadata, created_at, updated_at)
    VALUES (%(reference)s, 'succeeded', 49.00, 'usd', 'pm_card_visa', '{}', now(), now())
)
INSERT INTO enrollment_paymentcall
    (payment_id, kind, idempotency_key, outcome, reference, error, created_at)
VALUES (%(payment)s, 'charge', %(reference)s, 'succeeded', %(reference)s, '', now())
"""

FLOOR_ACTIVATE = """
WITH payment AS (
    UPDATE enrollment_payment SET status = 'succeeded', provider_reference = %(reference)s,
        updated_at = now()
    WHERE id = %(payment)s
), enrollment AS (
    UPDATE enrollment_enrollment SET status = 'active', activated_at = now(), updated_at = now()
    WHERE id = %(enrollment)s
), cursor AS (
    INSERT INTO events_eventcursor (user_id, last_seq) VALUES (%(instructor)s, 1)
    ON CONFLICT (user_id) DO UPDATE SET last_seq = events_eventcursor.last_seq + 1
    RETURNING last_seq
), event AS (
    INSERT INTO events_userevent (user_id, seq, type, payload, created_at)
    SELECT %(instructor)s, last_seq, 'bench', '{}', now() FROM cursor
), receipt AS (
    INSERT INTO enrollment_receipt
        (enrollment_id, number, issued_at, amount, currency, coupon, course_title,
         course_slug, student_name, student_email)
    VALUES (%(enrollment)s, 'RCT-' || %(enrollment)s, now(), 49.00, 'usd', '', 'Bench', 'bench',
            'Bench', 'bench@bench.local')
)
INSERT INTO outbox_effect
    (handler, payload, created_at, available_at, attempts, last_error, request_id)
SELECT 'bench', '{}', now(), now(), 0, '', '' FROM generate_series(1, %(activate_effects)s)
"""

# The effects carried out after commit: the statistics with their rows' deletion.
FLOOR_EFFECTS = """
WITH done AS (
    DELETE FROM outbox_effect WHERE handler = 'bench' AND id IN (
        SELECT id FROM outbox_effect WHERE handler = 'bench' ORDER BY id
        LIMIT %(effects)s FOR UPDATE SKIP LOCKED)
)
UPDATE catalog_course SET enrollment_count = enrollment_count + 1, revenue = revenue + 49.00
WHERE id = %(course)s
"""

FLOOR_ANSWER = """
UPDATE idempotency_idempotencykey SET state = 'completed', response_status = 201,
    response_body = %(body)s WHERE id = %(claim)s
"""

# How many outbox rows the endpoint writes per guest checkout: with the reservation (the
# cached answers of the course retired) and with the activation (statistics, the job
# that queues the follow-ups). Kept equal to the endpoint's by
# tests/loadtests/test_enroll_floor.py.
RESERVE_EFFECTS = 1
ACTIVATE_EFFECTS = 2


def raw_sql_enroll(course_id: int, instructor_id: int, dsn: str):
    import psycopg
    from psycopg.types.json import Jsonb

    def work(index: int, state: dict) -> bool:
        if "conn" not in state:
            state["conn"] = psycopg.connect(dsn, autocommit=True)
        conn = state["conn"]
        unique = uuid.uuid4().hex
        with conn.cursor() as cursor:
            claim = cursor.execute(FLOOR_CLAIM, {"key": unique}).fetchone()[0]
            with conn.transaction():
                payment, enrollment = cursor.execute(
                    FLOOR_RESERVE,
                    {
                        "email": f"r-{unique}@bench.local",
                        "course": course_id,
                        "claim": claim,
                        "reserve_effects": RESERVE_EFFECTS,
                    },
                ).fetchone()
            reference = f"pi_floor_{unique}"
            cursor.execute(FLOOR_CHARGE, {"reference": reference, "payment": payment})
            with conn.transaction():
                cursor.execute(
                    FLOOR_ACTIVATE,
                    {
                        "reference": reference,
                        "payment": payment,
                        "enrollment": enrollment,
                        "instructor": instructor_id,
                        "activate_effects": ACTIVATE_EFFECTS,
                    },
                )
            cursor.execute(
                FLOOR_EFFECTS,
                {"effects": RESERVE_EFFECTS + ACTIVATE_EFFECTS, "course": course_id},
            )
            cursor.execute(
                FLOOR_ANSWER,
                {"body": Jsonb({"id": enrollment, "status": "active"}), "claim": claim},
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
    pids = [server.process.pid for server in servers if server.process is not None]
    levels = [int(level) for level in args.levels.split(",")]
    rows = []
    try:
        run_level(4, 2.0, http_enroll(servers, args.courses))  # warm-up: connections, caches
        for level in levels:
            before = cpu_seconds(pids)
            endpoint = run_level(level, args.seconds, http_enroll(servers, args.courses))
            endpoint["cpu_ms"] = (cpu_seconds(pids) - before) * 1000 / max(1, endpoint["count"])
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
    print("concurrency  endpoint/s  p50 ms  p95 ms  errors  CPU ms/enr   raw-SQL/s  p50 ms   ratio")
    for level, endpoint, raw in rows:
        print(
            f"{level:>11}  {endpoint['rate']:10.1f} {endpoint['p50'] * 1000:7.1f} "
            f"{endpoint['p95'] * 1000:7.1f} {endpoint['failures']:>7} {endpoint['cpu_ms']:11.1f}"
            f"   {raw['rate']:9.1f} {raw['p50'] * 1000:7.1f}  {endpoint['rate'] / raw['rate']:6.2f}"
        )
    best = max(rows, key=lambda row: row[1]["rate"] / row[2]["rate"])
    print()
    print(
        f"best ratio to raw SQL: {best[1]['rate'] / best[2]['rate']:.2f}x at concurrency "
        f"{best[0]} (target 0.35x); CPU per enrollment in the app processes: "
        f"{min(row[1]['cpu_ms'] for row in rows):.1f}-{max(row[1]['cpu_ms'] for row in rows):.1f}"
        " ms (budget 8 ms)"
    )


if __name__ == "__main__":
    main()
