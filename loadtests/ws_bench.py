"""Websocket delivery benchmark (a command, not a test).

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python loadtests/ws_bench.py

Opens SOCKETS websockets spread over SERVERS portal processes on this machine (half of
them signed in as distinct users, half anonymous watchers of one course), then measures:

- personal events: commit → arrival latency (p50/p95/p99) of events written with
  portal.events.publish.publish_to_user at a steady RATE per second for DURATION seconds;
- fan-out: the time for one `course.seats` change to reach every watcher;
- the floor: the same fan-out through a bare `websockets` broadcast server (no framework,
  no channel layer), and the ratio of ours to it;

for daphne and for uvicorn serving the same ASGI app. Figures are wall-clock on a shared
machine: compare the ratios within one run.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from loadtests.servers import ServerProcess, free_port  # noqa: E402
from portal.events.types import CourseSeats, Event  # noqa: E402 - plain classes, no Django

WATCH_SLUG = "bench-watched-course"


@dataclass(frozen=True)
class BenchEvent(Event):
    """A personal event of the benchmark's own type, so clients can tell it apart."""

    type = "bench.event"


@dataclass(frozen=True)
class BenchSeats(CourseSeats):
    """`course.seats` marked with the fan-out round it measures."""

    round: str = ""


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(value: float) -> str:
    return f"{value * 1000:8.1f}"


# --- data ---------------------------------------------------------------------------------


def prepare(users: int) -> list[tuple[int, str]]:
    """Migrate, then make `users` bench users with a token each, and the watched course."""
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import Course
    from portal.accounts.models import AuthToken, User

    call_command("migrate", verbosity=0)
    emails = [f"bench-{index:05d}@bench.local" for index in range(users)]
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [User(email=email, name="Bench", password="!") for email in emails if email not in have]
    )
    tokens = []
    for user in User.objects.filter(email__in=emails).order_by("email"):
        _, raw = AuthToken.objects.issue(user)
        tokens.append((user.pk, raw))
    Course.objects.get_or_create(
        slug=WATCH_SLUG,
        defaults={
            "title": "Bench course",
            "summary": "Watched by the benchmark.",
            "category": "Bench",
            "published_at": django.utils.timezone.now(),
        },
    )
    return tokens


# --- clients ------------------------------------------------------------------------------


@dataclass
class Arrivals:
    personal: dict[tuple[int, int], float] = field(default_factory=dict)
    fanout: dict[str, list[float]] = field(default_factory=dict)


async def reader(socket: ClientConnection, user_id: int | None, arrivals: Arrivals) -> None:
    try:
        async for raw in socket:
            now = time.perf_counter()
            if raw[0] != "{":  # the bare server sends plain round markers
                arrivals.fanout.setdefault(raw, []).append(now)
                continue
            frame = json.loads(raw)
            if frame["type"] == "bench.event" and user_id is not None:
                arrivals.personal[(user_id, frame["seq"])] = now
            elif frame["type"] == "course.seats" and "round" in frame:
                arrivals.fanout.setdefault(frame["round"], []).append(now)
    except Exception:  # noqa: S110 - a closed socket ends its reader
        pass


async def open_many(targets: list[tuple[str, dict, str | None]], concurrency: int = 64):
    limit = asyncio.Semaphore(concurrency)

    async def one(url: str, headers: dict, origin: str | None) -> ClientConnection:
        async with limit:
            return await connect(
                url,
                additional_headers=headers,
                origin=origin,
                ping_interval=None,
                max_queue=None,
                open_timeout=60,
                compression=None,
            )

    return await asyncio.gather(*(one(*target) for target in targets))


# --- measurements -------------------------------------------------------------------------


def publish_personal(
    users: list[int], rate: float, duration: float, commits: dict[tuple[int, int], float]
) -> None:
    from django.db import close_old_connections, transaction

    from portal.events.publish import publish_to_user

    interval, started = 1 / rate, time.perf_counter()
    sent = 0
    while time.perf_counter() - started < duration:
        user_id = users[sent % len(users)]
        holder: dict = {}
        with transaction.atomic():
            # Registered first, so it runs right at commit, before delivery starts.
            transaction.on_commit(lambda h=holder: h.setdefault("t", time.perf_counter()))
            event = publish_to_user(user_id=user_id, event=BenchEvent())
        commits[(user_id, event.seq)] = holder["t"]
        sent += 1
        pause = started + sent * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    close_old_connections()


def publish_fanout(round_id: str) -> float:
    from django.db import transaction

    from portal.events.publish import publish_course_state

    holder: dict = {}
    with transaction.atomic():
        transaction.on_commit(lambda: holder.setdefault("t", time.perf_counter()))
        publish_course_state(
            state=BenchSeats(course=WATCH_SLUG, seats_taken=0, capacity=None, round=round_id)
        )
    return holder["t"]


async def wait_for_fanout(arrivals: Arrivals, round_id: str, expected: int, timeout: float = 15):
    deadline = time.perf_counter() + timeout
    while len(arrivals.fanout.get(round_id, [])) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return arrivals.fanout.get(round_id, [])


@dataclass
class FanoutFigures:
    to_all: list[float]
    median: list[float]
    reached: int


async def fanout_rounds(arrivals: Arrivals, watchers: int, rounds: int, trigger) -> FanoutFigures:
    to_all, median, reached = [], [], 0
    for index in range(rounds):
        round_id = f"r{index}-{time.monotonic_ns()}"
        started = await trigger(round_id)
        times = await wait_for_fanout(arrivals, round_id, watchers)
        reached = len(times)
        if times:
            to_all.append(max(times) - started)
            median.append(statistics.median(times) - started)
        await asyncio.sleep(0.3)
    return FanoutFigures(to_all, median, reached)


async def bench_portal(kind: str, args, tokens: list[tuple[int, str]]) -> dict:
    # Every bench socket comes from this one address: no per-address socket limit.
    env = {
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "12",
        "WS_MAX_SOCKETS_PER_ADDRESS": "0",
    }
    servers = [ServerProcess(server=kind, **env).start() for _ in range(args.servers)]
    arrivals, tasks, sockets = Arrivals(), [], []
    try:
        users = tokens[: args.sockets // 2]
        watchers = args.sockets - len(users)
        targets = [
            (
                servers[i % len(servers)].ws_url,
                {"Authorization": f"Bearer {token}"},
                servers[i % len(servers)].url,
            )
            for i, (_, token) in enumerate(users)
        ]
        targets += [
            (servers[i % len(servers)].ws_url, {}, servers[i % len(servers)].url)
            for i in range(watchers)
        ]
        started = time.perf_counter()
        sockets = await open_many(targets)
        connect_seconds = time.perf_counter() - started
        for index, socket in enumerate(sockets):
            await socket.recv()  # hello
            user_id = users[index][0] if index < len(users) else None
            tasks.append(asyncio.create_task(reader(socket, user_id, arrivals)))
        for socket in sockets[len(users) :]:
            await socket.send(json.dumps({"type": "watch", "course": WATCH_SLUG}))
        await asyncio.sleep(1.0)  # the watch answers arrive
        commits: dict[tuple[int, int], float] = {}
        publisher = threading.Thread(
            target=publish_personal,
            args=([user_id for user_id, _ in users], args.rate, args.duration, commits),
        )
        publisher.start()
        while publisher.is_alive():
            await asyncio.sleep(0.05)
        await asyncio.sleep(2.0)  # stragglers
        latencies = [
            arrivals.personal[key] - at for key, at in commits.items() if key in arrivals.personal
        ]

        async def trigger(round_id: str) -> float:
            return await asyncio.to_thread(publish_fanout, round_id)

        fanout = await fanout_rounds(arrivals, watchers, args.rounds, trigger)
        return {
            "kind": kind,
            "connect_s": connect_seconds,
            "sent": len(commits),
            "received": len(latencies),
            "latencies": latencies,
            "fanout": fanout,
            "watchers": watchers,
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        for server in servers:
            server.stop()


async def bench_floor(args, watchers: int, port: int | None = None) -> FanoutFigures:
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "loadtests" / "bare_ws_server.py"), str(port)],
        stdout=subprocess.PIPE,
    )
    try:
        process.stdout.readline()  # listening
        url = f"ws://127.0.0.1:{port}"
        arrivals = Arrivals()
        sockets = await open_many([(url, {}, None)] * watchers)
        tasks = [asyncio.create_task(reader(socket, None, arrivals)) for socket in sockets]
        control = await connect(url, ping_interval=None, compression=None)

        async def trigger(round_id: str) -> float:
            started = time.perf_counter()
            await control.send(f"broadcast {round_id}")
            return started

        figures = await fanout_rounds(arrivals, watchers, args.rounds, trigger)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(s.close() for s in [*sockets, control]), return_exceptions=True)
        return figures
    finally:
        process.terminate()
        process.wait(timeout=10)


def report(results: list[dict], floor: FanoutFigures, args) -> None:
    print()
    print(
        f"{args.sockets} sockets over {args.servers} server processes; personal events at "
        f"{args.rate:g}/s for {args.duration:g}s; {args.rounds} fan-out rounds"
    )
    print()
    print("server    connect(s)  events sent/recv   p50 ms   p95 ms   p99 ms  max ms")
    for result in results:
        lat = result["latencies"]
        print(
            f"{result['kind']:<9} {result['connect_s']:9.1f}  {result['sent']:>6}/{result['received']:<6}"
            f"   {ms(percentile(lat, 50))} {ms(percentile(lat, 95))} {ms(percentile(lat, 99))}"
            f" {ms(max(lat) if lat else float('nan'))}"
        )
    print()
    floor_all = statistics.median(floor.to_all) if floor.to_all else float("nan")
    print("fan-out of one course.seats change (median over rounds)")
    print("server    watchers reached  median-arrival ms  all-arrived ms  ratio to floor")
    for result in results:
        fan: FanoutFigures = result["fanout"]
        to_all = statistics.median(fan.to_all) if fan.to_all else float("nan")
        print(
            f"{result['kind']:<9} {fan.reached:>5}/{result['watchers']:<5}     "
            f"{ms(statistics.median(fan.median) if fan.median else float('nan'))}"
            f"          {ms(to_all)}      {to_all / floor_all:6.1f}x"
        )
    print(
        f"{'floor':<9} {floor.reached:>5}/{results[0]['watchers']:<5}     "
        f"{ms(statistics.median(floor.median) if floor.median else float('nan'))}"
        f"          {ms(floor_all)}        1.0x   (bare websockets broadcast)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100.0, help="personal events per second")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5, help="fan-out rounds")
    parser.add_argument("--kinds", default="daphne,uvicorn")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: servers share them.")
    tokens = await asyncio.to_thread(prepare, args.sockets // 2)
    results = [await bench_portal(kind, args, tokens) for kind in args.kinds.split(",")]
    floor = await bench_floor(args, results[0]["watchers"])
    report(results, floor, args)


if __name__ == "__main__":
    asyncio.run(main())
