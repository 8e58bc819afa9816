"""Waitlist benchmark (a command, not a test).

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 CELERY_BROKER_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python loadtests/waitlist_bench.py

STUDENTS signed-in students wait in the line of one full course (CAPACITY seats, each
taken by a real enrollment), each with a websocket to one of SERVERS daphne processes on
the Redis channel layer. Then FREED seats free at once, and the benchmark measures, from
the commit that freed them:

- offers: until the last of the FREED students first in line received `waitlist.offer`;
- positions: until every student still waiting received `waitlist.position` with their
  new place. Every frame is checked: an offer to the wrong student, a wrong last position,
  a missing one and frames beyond one per student are counted;

beside the floor measured in the same run: a bare `websockets` broadcast of one frame to
STUDENTS sockets (loadtests/bare_ws_server.py, as ws_bench.py measures it), and the ratio.

How the seats free (`--free`):

- `capacity` (the default): the instructor raises the capacity by FREED through
  catalog.services.course_update, called in this process as the PATCH view calls it
  (offers_make runs in its transaction); timed from its commit;
- `patch`: the same over HTTP, `PATCH /api/courses/{slug}` as the instructor; timed from
  the request;
- `cancel`: FREED enrolled students cancel at once, `POST /api/enrollments/{id}/cancel`
  spread over the servers (each cancel offers its seat in its own transaction and queues
  an announcement); timed from the first request.

Jobs run as production runs them: the position announcement
(catalog.tasks.announce_waitlist_positions, queued on commit through the outbox) by a real
Celery worker on the `default` queue (prefork), started here and stopped by its PID. With
`--eager` jobs run in the process that commits instead, which the output says. Offer
emails go to the `emails` queue, which the worker serves only with `--worker-queues`.

Afterwards, on a copy of the line with no sockets, this process times offers_make and
positions_announce and counts their statements, in their transaction and after commit.

Setup is bulk SQL for speed and writes what waitlist_join writes (the entry, its
`announced_position`, the student's `waitlist.position` event); the last student joins
through waitlist_join itself, and a positions_announce that finds nobody to tell checks
the rest. Wall-clock figures on a shared machine: compare the ratios within one run.
Exits 1 when an offer or a position is missing or wrong.
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Redis pub/sub ignores database indexes: the bench's groups get a prefix of their own.
os.environ.setdefault("CHANNEL_LAYER_PREFIX", "wlbench")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Mail is a job's (the offer emails): kept in memory when jobs run here (--eager).
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from websockets.asyncio.client import ClientConnection  # noqa: E402

from loadtests.servers import CeleryWorker, ServerProcess  # noqa: E402
from loadtests.ws_bench import bench_floor, ms, open_many  # noqa: E402

SLUG_PREFIX = "bench-waitlist"
ANNOUNCE_TASK = "catalog.tasks.announce_waitlist_positions"
UNLIMITED = "100000000"


# --- data ---------------------------------------------------------------------------------


@dataclass
class Line:
    course_id: int
    slug: str
    capacity: int
    students: list[tuple[int, str]]  # (user id, token), first in line first
    holders: list[tuple[int, str, int]]  # (user id, token, enrollment id)
    instructor_token: str


def bench_users(kind: str, count: int, **fields) -> list:
    """`count` bench users of a kind, made once and found again by later runs."""
    from portal.accounts.models import User

    emails = [f"wlbench-{kind}-{index:05d}@bench.local" for index in range(count)]
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(email=email, name=f"Bench {kind}", password="!", **fields)
            for email in emails
            if email not in have
        ]
    )
    return list(User.objects.filter(email__in=emails).order_by("email"))


def tokens_for(users: list) -> list[str]:
    from django.db import transaction

    from portal.accounts.models import AuthToken

    with transaction.atomic():
        return [AuthToken.objects.issue(user)[1] for user in users]


def line_fill(course, users: list) -> None:
    """Put `users` in the course's line in this order, writing what waitlist_join writes
    for each, in bulk: the waiting entry with its `announced_position`, and the
    `waitlist.position` event (its row and the user's next `seq`)."""
    from django.db import connection, transaction

    from catalog.models import WaitlistEntry
    from portal.events.models import EventCursor, UserEvent
    from portal.events.types import WaitlistPosition

    with transaction.atomic():
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(course=course, user=user, announced_position=position)
            for position, user in enumerate(users, start=1)
        )
        table = connection.ops.quote_name(EventCursor._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, last_seq) SELECT unnest(%s::bigint[]), 1 "
                f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
                "RETURNING user_id, last_seq",
                [[user.pk for user in users]],
            )
            seqs = dict(cursor.fetchall())
        UserEvent.objects.bulk_create(
            UserEvent(
                user_id=user.pk,
                seq=seqs[user.pk],
                type=WaitlistPosition.type,
                payload=WaitlistPosition(course=course.slug, position=position).payload(),
            )
            for position, user in enumerate(users, start=1)
        )


def prepare(args) -> Line:
    """Migrate; then a full course of CAPACITY seats taken by real enrollments, and
    STUDENTS in its line, each with a token."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from catalog import waitlist
    from catalog.models import Course, CourseInstructor, WaitlistEntry
    from enrollment.services import enrollment_create
    from portal.celery import app

    # The settings may have been read before main() set CELERY_TASK_ALWAYS_EAGER (its
    # servers and worker read it from the environment).
    settings.CELERY_TASK_ALWAYS_EAGER = app.conf.task_always_eager = args.eager

    call_command("migrate", verbosity=0)
    # Earlier runs' courses leave the catalog; their enrollments keep their rows.
    Course.objects.filter(slug__startswith=SLUG_PREFIX).update(published_at=None)
    instructor = bench_users("instructor", 1, is_instructor=True)[0]
    course = Course.objects.create(
        slug=f"{SLUG_PREFIX}-{time.time_ns() // 1_000_000}",
        title="Bench waitlist",
        summary="Benchmarked.",
        category="Bench",
        capacity=args.capacity,
        published_at=timezone.now(),
    )
    CourseInstructor.objects.create(course=course, user=instructor)
    holders = bench_users("holder", args.capacity)
    enrollments = [
        enrollment_create(course=course, student=None, user=holder, payment_method=None).pk
        for holder in holders
    ]
    students = bench_users("student", args.students)
    line_fill(course, students[:-1])
    place, created = waitlist.waitlist_join(course=course, user=students[-1])
    assert created and place.position == len(students), place
    assert waitlist.positions_announce(course_id=course.pk) == 0, "the line is not as joined"
    assert WaitlistEntry.objects.filter(course=course, status="waiting").count() == len(students)
    course.refresh_from_db()
    assert course.seats_taken == course.capacity, "the course is not full"
    line = Line(
        course_id=course.pk,
        slug=course.slug,
        capacity=args.capacity,
        students=list(zip([user.pk for user in students], tokens_for(students), strict=True)),
        holders=[
            (user.pk, token, enrollment)
            for user, token, enrollment in zip(
                holders, tokens_for(holders), enrollments, strict=True
            )
        ],
        instructor_token=tokens_for([instructor])[0],
    )
    jobs_purge()  # the holders' enrollment jobs: not part of what is measured
    return line


def jobs_purge() -> None:
    """Empty the broker's queues (never the in-memory one of --eager without a broker)."""
    from portal.celery import app

    if not str(app.conf.broker_url).startswith("memory"):
        app.control.purge()


# --- freeing seats --------------------------------------------------------------------------


@dataclass
class Trigger:
    started: float  # perf_counter of the commit (capacity) or of the first request
    how: str
    freed: int  # seats freed (a refused cancel frees none)
    detail: dict = field(default_factory=dict)


def free_by_capacity(line: Line, freed: int) -> Trigger:
    from django.db import transaction

    from catalog.models import Course
    from catalog.services import course_update

    marks: dict[str, float] = {}
    course = Course.objects.get(pk=line.course_id)
    started = time.perf_counter()
    with transaction.atomic():
        # Registered first: it runs right at commit, before the offers' delivery.
        transaction.on_commit(lambda: marks.setdefault("commit", time.perf_counter()))
        course_update(course=course, data={"capacity": line.capacity + freed})
    done = time.perf_counter()
    return Trigger(
        marks["commit"],
        f"the capacity raised by {freed} (catalog.services.course_update, in this process)",
        freed,
        {
            "transaction_ms": (marks["commit"] - started) * 1000,
            "after_commit_ms": (done - marks["commit"]) * 1000,
        },
    )


def request(port: int, method: str, path: str, token: str, body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            method,
            path,
            json.dumps(body) if body is not None else None,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def free_by_patch(line: Line, freed: int, servers: list[ServerProcess]) -> Trigger:
    started = time.perf_counter()
    status, body = request(
        servers[0].port,
        "PATCH",
        f"/api/courses/{line.slug}",
        line.instructor_token,
        {"capacity": line.capacity + freed},
    )
    if status != 200:
        raise RuntimeError(f"PATCH answered {status}: {body[:500]!r}")
    return Trigger(
        started,
        f"the capacity raised by {freed} (PATCH /api/courses/{{slug}} as the instructor)",
        freed,
        {"request_ms": (time.perf_counter() - started) * 1000},
    )


def free_by_cancel(line: Line, freed: int, servers: list[ServerProcess]) -> Trigger:
    ready = threading.Barrier(freed)

    def cancel(index: int) -> tuple[float, float, int]:
        _, token, enrollment = line.holders[index]
        port = servers[index % len(servers)].port
        ready.wait()
        sent = time.perf_counter()
        status, _ = request(port, "POST", f"/api/enrollments/{enrollment}/cancel", token)
        return sent, time.perf_counter(), status

    with ThreadPoolExecutor(max_workers=freed) as pool:
        answers = list(pool.map(cancel, range(freed)))
    started = min(sent for sent, _, _ in answers)
    # The first in line get the seats of the cancels that went through, whichever they were.
    cancelled = sum(status == 200 for _, _, status in answers)
    refused = Counter(status for _, _, status in answers if status != 200)
    answered = sorted(done - sent for sent, done, status in answers if status == 200)
    return Trigger(
        started,
        f"{freed} enrollments cancelled at once (POST /api/enrollments/{{id}}/cancel, "
        f"{freed} threads over {len(servers)} servers): {cancelled} cancelled"
        + (f", refused: {dict(refused)}" if refused else ""),
        cancelled,
        {
            "cancel_p50_ms": statistics.median(answered) * 1000 if answered else float("nan"),
            "cancel_max_ms": answered[-1] * 1000 if answered else float("nan"),
            "last_answer_ms": (max(done for _, done, _ in answers) - started) * 1000,
        },
    )


# --- clients --------------------------------------------------------------------------------


async def reader(socket: ClientConnection, user_id: int, slug: str, got: dict) -> None:
    """Keep the socket's waitlist frames for the course: (arrival, frame)."""
    try:
        async for raw in socket:
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type", "").startswith("waitlist.") and frame.get("course") == slug:
                got.setdefault(user_id, []).append((now, frame))
    except Exception:  # noqa: S110 - a closed socket ends its reader
        pass


@dataclass
class Tally:
    """What arrived, checked against what each student is owed."""

    offers_expected: int
    offers_arrived: int = 0
    offers_wrong: int = 0  # an offer to a student still in line, or a second one
    positions_expected: int = 0
    positions_arrived: int = 0  # the student's last position frame is their new place
    positions_wrong: int = 0  # students told a wrong place (see tally)
    positions_missing: int = 0
    positions_extra: int = 0  # frames beyond one per student (places passed through)
    offer_times: list[float] = field(default_factory=list)  # seconds after the trigger
    position_times: list[float] = field(default_factory=list)  # each student's last frame

    @property
    def complete(self) -> bool:
        return (
            self.offers_arrived == self.offers_expected
            and self.positions_arrived == self.positions_expected
        )

    @property
    def correct(self) -> bool:
        return self.complete and not (self.offers_wrong or self.positions_wrong)


def tally(line_users: list[int], freed: int, got: dict, started: float, *, exact: bool) -> Tally:
    """The first `freed` in line are owed one `waitlist.offer`; everyone behind them their
    place moved up by `freed`, as their last `waitlist.position`.

    `exact` (seats freed in one transaction): each student still in line gets exactly one
    position and the offered none; anything more is wrong. Otherwise (seats freed one by
    one) a student may pass through places on the way: their places may only move up,
    from where they stood to where they end, and an offered student hears no place after
    the offer."""
    result = Tally(offers_expected=freed, positions_expected=len(line_users) - freed)
    for index, user_id in enumerate(line_users):
        frames = got.get(user_id, [])
        offers = [at for at, frame in frames if frame["type"] == "waitlist.offer"]
        positions = [(at, frame["position"]) for at, frame in frames if frame["type"] == "waitlist.position"]  # fmt: skip
        places = [place for _, place in positions]
        final = index - freed + 1  # for those still in line
        passing = places == sorted(places, reverse=True) and all(
            max(final, 1) <= place <= index + 1 for place in places
        )
        if index < freed:
            if offers:
                result.offers_arrived += 1
                result.offer_times.append(offers[0] - started)
            result.offers_wrong += max(0, len(offers) - 1)
            result.positions_extra += len(places)
            told_after = offers and any(at > offers[0] for at, _ in positions)
            if (exact and places) or told_after or not passing:
                result.positions_wrong += 1
            continue
        result.offers_wrong += len(offers)
        if not positions:
            result.positions_missing += 1
            continue
        result.positions_extra += len(positions) - 1
        if places[-1] != final or not passing or (exact and len(places) > 1):
            result.positions_wrong += 1
            continue
        result.positions_arrived += 1
        result.position_times.append(positions[-1][0] - started)
    return result


def line_checked(line: Line, freed: int) -> list[str]:
    """The database agrees: offers to the first in line, everyone else told their place."""
    from catalog.models import WaitlistEntry

    rows = dict(
        WaitlistEntry.objects.filter(course_id=line.course_id).values_list("user_id", "status")
    )
    told = dict(
        WaitlistEntry.objects.filter(course_id=line.course_id, status="waiting").values_list(
            "user_id", "announced_position"
        )
    )
    problems = []
    for index, (user_id, _) in enumerate(line.students):
        if index < freed and rows.get(user_id) != "offered":
            problems.append(f"student {index + 1} in line is {rows.get(user_id)}, not offered")
        elif index >= freed and told.get(user_id) != index - freed + 1:
            problems.append(f"student {index + 1} in line was told {told.get(user_id)}")
    return problems


async def measure(args, line: Line, servers: list[ServerProcess]) -> dict:
    got: dict[int, list] = {}
    targets = [
        (
            servers[index % len(servers)].ws_url,
            {"Authorization": f"Bearer {token}"},
            servers[index % len(servers)].url,
        )
        for index, (_, token) in enumerate(line.students)
    ]
    started = time.perf_counter()
    sockets = await open_many(targets)
    connect_seconds = time.perf_counter() - started
    tasks = []
    try:
        for socket, (user_id, _) in zip(sockets, line.students, strict=True):
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello" and hello["user"]["id"] == user_id, hello
            tasks.append(asyncio.create_task(reader(socket, user_id, line.slug, got)))
        await asyncio.sleep(1.0)  # every consumer is in its user's group
        if args.free == "capacity":
            trigger = await asyncio.to_thread(free_by_capacity, line, args.freed)
        elif args.free == "patch":
            trigger = await asyncio.to_thread(free_by_patch, line, args.freed, servers)
        else:
            trigger = await asyncio.to_thread(free_by_cancel, line, args.freed, servers)
        users = [user_id for user_id, _ in line.students]
        exact = args.free != "cancel"  # one transaction frees every seat
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline:
            if tally(users, trigger.freed, got, trigger.started, exact=exact).complete:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(args.settle)  # late extras and duplicates
        result = tally(users, trigger.freed, got, trigger.started, exact=exact)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    problems = await asyncio.to_thread(line_checked, line, trigger.freed)
    return {
        "connect_s": connect_seconds,
        "trigger": trigger,
        "tally": result,
        "db_problems": problems,
    }


# --- the two calls, in this process -----------------------------------------------------------


class StatementCount:
    """Counts the statements this thread's connection runs (no query log: it keeps only
    the last 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(call) -> dict:
    """Run call() in a transaction: its statements and time, then the commit's work (the
    events' group_sends, the outbox's fast path queueing the jobs)."""
    from django.db import connection, transaction

    counter = StatementCount()
    with connection.execute_wrapper(counter):
        with transaction.atomic():
            started = time.perf_counter()
            value = call()
            ended = time.perf_counter()
            inside = counter.count
        committed = time.perf_counter()
    return {
        "value": value,
        "statements": inside,
        "ms": (ended - started) * 1000,
        "after_commit_statements": counter.count - inside,
        "after_commit_ms": (committed - ended) * 1000,
    }


def calls_timed(line: Line, freed: int) -> dict:
    """offers_make then positions_announce on a copy of the line (same students, same
    order; a course of the same capacity, full), with the jobs they queue left queued."""
    from django.utils import timezone

    from catalog import waitlist
    from catalog.models import Course
    from portal.accounts.models import User
    from portal.celery import app

    copy = Course.objects.create(
        slug=f"{line.slug}-calls",
        title="Bench waitlist (calls)",
        summary="Benchmarked.",
        category="Bench",
        capacity=line.capacity,
        seats_taken=line.capacity,
        published_at=timezone.now(),
    )
    users = User.objects.in_bulk([user_id for user_id, _ in line.students])
    line_fill(copy, [users[user_id] for user_id, _ in line.students])
    Course.objects.filter(pk=copy.pk).update(capacity=line.capacity + freed)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the announcement is timed below, on its own
    try:
        offers = timed(lambda: waitlist.offers_make(course_id=copy.pk))
        positions = timed(lambda: waitlist.positions_announce(course_id=copy.pk))
    finally:
        app.conf.task_always_eager = eager
        Course.objects.filter(pk=copy.pk).update(published_at=None)
    return {"offers_make": offers, "positions_announce": positions}


def job_runs(log: str) -> list[tuple[float, int]]:
    """(seconds, students told) of each announcement the worker ran, from its log."""
    pattern = rf"Task {re.escape(ANNOUNCE_TASK)}\[[^\]]+\] succeeded in ([0-9.]+)s: (\d+)"
    return [(float(seconds), int(told)) for seconds, told in re.findall(pattern, log)]


# --- report -----------------------------------------------------------------------------------


def spread(times: list[float]) -> str:
    if not times:
        return f"{'-':>8} {'-':>8} {'-':>8}"
    return f"{ms(min(times))} {ms(statistics.median(times))} {ms(max(times))}"


def report(args, run: dict, floor_ms: float, calls: dict, jobs, worker) -> dict:
    result: Tally = run["tally"]
    trigger: Trigger = run["trigger"]
    offers_all = max(result.offer_times) * 1000 if result.offer_times else float("nan")
    positions_all = max(result.position_times) * 1000 if result.position_times else float("nan")
    print()
    print(
        f"waitlist of {args.students} students ({args.students} sockets over {args.servers} "
        f"daphne processes, Redis channel layer); capacity {args.capacity}, full"
    )
    print(f"seats freed: {trigger.how}")
    if worker is None:
        print("jobs: EAGER (run in the process that commits, inside its after-commit work)")
    else:
        print(
            f"jobs: a Celery worker (prefork, concurrency {worker.concurrency}) on "
            f"{','.join(worker.queues)}, broker {os.environ['CELERY_BROKER_URL']}"
        )
    print(f"sockets connected in {run['connect_s']:.1f}s")
    print()
    print("                                  arrived   wrong  missing  extra   first ms  median ms    all ms")  # fmt: skip
    print(
        f"waitlist.offer                  {result.offers_arrived:>5}/{result.offers_expected:<5}"
        f"{result.offers_wrong:>5} {result.offers_expected - result.offers_arrived:>8}"
        f" {0:>6}   {spread(result.offer_times)}"
    )
    print(
        f"waitlist.position (new place)   {result.positions_arrived:>5}/{result.positions_expected:<5}"
        f"{result.positions_wrong:>5} {result.positions_missing:>8} {result.positions_extra:>6}"
        f"   {spread(result.position_times)}"
    )
    print(
        f"floor: bare websockets broadcast to {args.students} sockets, all arrived "
        f"(median of {args.rounds}): {floor_ms:.1f} ms"
    )
    print(
        f"ratio to the floor: offers {offers_all / floor_ms:.1f}x, "
        f"positions {positions_all / floor_ms:.1f}x"
    )
    for name, value in trigger.detail.items():
        print(f"  trigger {name.replace('_', ' ')}: {value:.1f}")
    if jobs:
        runs = ", ".join(f"{seconds * 1000:.0f} ms ({told} told)" for seconds, told in jobs)
        print(f"  announcement jobs run by the worker: {runs}")
    for problem in run["db_problems"][:10]:
        print(f"  DATABASE DISAGREES: {problem}")
    print()
    print(f"in this process, on a copy of the line ({args.freed} offers, then the announcement):")
    print("                              statements        ms   after commit: statements      ms")
    for name, figures in calls.items():
        print(
            f"{name:<20} ({figures['value']:>5}) {figures['statements']:>10} {figures['ms']:9.1f}"
            f"   {figures['after_commit_statements']:>23} {figures['after_commit_ms']:7.1f}"
        )
    return {
        "students": args.students,
        "freed": args.freed,
        "free": args.free,
        "eager": worker is None,
        "tally": asdict(result),
        "correct": result.correct and not run["db_problems"],
        "offers_all_ms": offers_all,
        "positions_all_ms": positions_all,
        "floor_ms": floor_ms,
        "trigger": {"how": trigger.how, **trigger.detail},
        "jobs": jobs,
        "db_problems": run["db_problems"],
        "calls": calls,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=100, help="seats, all taken")
    parser.add_argument("--freed", type=int, default=100, help="seats freed at once")
    parser.add_argument("--free", choices=["capacity", "patch", "cancel"], default="capacity")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--eager", action="store_true", help="run jobs in-process")
    parser.add_argument("--worker-queues", default="default")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="floor rounds")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to catch extras")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ.get("BENCH_PORT_BASE") or 0) or None,
        help="servers listen on this port and the next ones, then the floor's server "
        "(default: $BENCH_PORT_BASE, else any free port)",
    )
    args = parser.parse_args()
    if args.freed > args.students or (args.free == "cancel" and args.freed > args.capacity):
        sys.exit("--freed must not exceed --students (nor --capacity with --free cancel)")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: servers share them.")
    if not args.eager and not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Set CELERY_BROKER_URL (a Redis database the worker reads), or pass --eager.")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true" if args.eager else "false"
    line = await asyncio.to_thread(prepare, args)
    env = {
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "12",
        # Every bench socket comes from this one address.
        "WS_MAX_SOCKETS_PER_ADDRESS": "0",
        "RATE_LIMIT_ENROLL": UNLIMITED,
        "RATE_LIMIT_ENROLL_IP": UNLIMITED,
        "RATE_LIMIT_WAITLIST": UNLIMITED,
    }
    worker = None
    if not args.eager:
        worker = CeleryWorker(
            queues=tuple(args.worker_queues.split(",")),
            concurrency=args.worker_concurrency,
            name="wlbench",
            LOG_LEVEL="INFO",
        )
    servers: list[ServerProcess] = []
    try:
        if worker is not None:
            worker.start()
        servers = [
            ServerProcess(port=args.port_base and args.port_base + index, **env).start()
            for index in range(args.servers)
        ]
        run = await measure(args, line, servers)
        await asyncio.sleep(0.5)  # the worker logs the job's end
        jobs = job_runs(worker.log()) if worker is not None else []
    finally:
        for server in servers:
            server.stop()
        if worker is not None:
            worker.stop()
    floor = await bench_floor(
        SimpleNamespace(rounds=args.rounds, clients=2),  # its sockets in 2 client processes
        args.students,
        port=args.port_base and args.port_base + args.servers,
    )
    floor_ms = statistics.median(floor.to_all) * 1000 if floor.to_all else float("nan")
    calls = await asyncio.to_thread(calls_timed, line, args.freed)
    await asyncio.to_thread(jobs_purge)  # offer emails and the copy's jobs, never run
    figures = report(args, run, floor_ms, calls, jobs, worker)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if figures["correct"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
