"""Websocket delivery benchmark (a command, not a test).

    DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python loadtests/ws_bench.py

Opens SOCKETS websockets spread over SERVERS portal processes on this machine (half of
them signed in as distinct users, half anonymous watchers of one course), held by CLIENTS
client processes, then measures:

- memory: the server processes' VmRSS before and after the sockets connected, per socket;
- personal events: commit → arrival latency (p50/p95/p99) of events written with
  portal.events.publish.publish_to_user from one thread of this one process at RATE a
  second for DURATION seconds, and the rate it achieved (`--rate 100,500,max`: a sweep;
  `max`: as fast as it can);
- fan-out: the time for one `course.seats` change to reach every watcher;
- the floor: the same fan-out through a bare `websockets` broadcast server (no framework,
  no channel layer), and the ratio of ours to it;

10,000 sockets: `--sockets 10000 --clients 4 --settle 20 --kinds daphne`.

for daphne and for uvicorn serving the same ASGI app. Figures are wall-clock on a shared
machine: compare the ratios within one run.
"""

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
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
os.environ.setdefault("DEBUG", "false")  # the publisher as the servers run: no query log

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import InvalidMessage  # noqa: E402

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
            for attempt in range(3):
                try:
                    return await connect(
                        url,
                        additional_headers=headers,
                        origin=origin,
                        ping_interval=None,
                        max_queue=None,
                        open_timeout=60,
                        compression=None,
                    )
                except (OSError, InvalidMessage):
                    # A handshake a busy server timed out (daphne: 5 s) at 10,000
                    # sockets: connect again, as a browser would.
                    if attempt == 2:
                        raise
                    await asyncio.sleep(1)
            raise AssertionError("unreachable")

    return await asyncio.gather(*(one(*target) for target in targets))


# --- measurements -------------------------------------------------------------------------


def publish_personal(
    users: list[int],
    rate: float,
    duration: float,
    commits: dict[tuple[int, int], float],
    outcome: dict[str, float],
) -> None:
    """One event after another from this one thread, each in its own transaction, at
    `rate` a second (inf: as fast as it can)."""
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
    outcome["seconds"] = time.perf_counter() - started
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


@dataclass
class FanoutFigures:
    to_all: list[float]
    median: list[float]
    reached: int


def rss_kib(pid: int) -> int:
    """A process's resident memory (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- client processes ---------------------------------------------------------------------
# One Python process reading thousands of sockets is CPU-bound itself (and would take the
# publisher's GIL): the sockets are held by CLIENTS processes. Arrival times are
# time.perf_counter(), the system-wide monotonic clock, comparable across processes.


def client_process(conn, targets: list[tuple[str, dict, str | None]], user_ids, portal) -> None:
    asyncio.run(client_main(conn, targets, user_ids, portal=portal))


async def client_main(conn, targets, user_ids: list[int | None], *, portal: bool) -> None:
    arrivals = Arrivals()
    started = time.perf_counter()
    sockets = await open_many(targets)
    for socket in sockets if portal else ():  # the bare server says no hello
        await socket.recv()
    connect_seconds = time.perf_counter() - started
    tasks = [
        asyncio.create_task(reader(socket, user_id, arrivals))
        for socket, user_id in zip(sockets, user_ids, strict=True)
    ]
    for socket, user_id in zip(sockets, user_ids, strict=True):
        if user_id is None and portal:
            await socket.send(json.dumps({"type": "watch", "course": WATCH_SLUG}))
    conn.send(("ready", connect_seconds))
    while True:
        command = await asyncio.to_thread(conn.recv)
        if command == "collect":  # what arrived since the last collect
            conn.send((arrivals.personal, arrivals.fanout))
            arrivals.personal, arrivals.fanout = {}, {}
        elif command == "count":
            conn.send({key: len(times) for key, times in arrivals.fanout.items()})
        else:
            break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    conn.send("closed")


class Clients:
    """CLIENTS processes holding the benchmark's sockets between them."""

    def __init__(self, targets, user_ids, processes: int, *, portal: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns, self.processes = [], []
        for index in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=client_process,
                args=(theirs, targets[index::processes], user_ids[index::processes], portal),
                daemon=True,
            )
            process.start()
            self.conns.append(ours)
            self.processes.append(process)

    async def answer(self, index: int, timeout: float = 300):
        """Client `index`'s next answer; an error if it died or stays silent."""
        conn, process = self.conns[index], self.processes[index]
        deadline = time.perf_counter() + timeout
        while not await asyncio.to_thread(conn.poll, 1.0):
            if not process.is_alive() or time.perf_counter() > deadline:
                raise RuntimeError(f"client process {index} ended or hangs (see its stderr)")
        return conn.recv()

    async def ready(self) -> float:
        answers = [await self.answer(index) for index in range(len(self.conns))]
        return max(seconds for _, seconds in answers)

    async def ask(self, command: str) -> list:
        for conn in self.conns:
            conn.send(command)
        return [await self.answer(index) for index in range(len(self.conns))]

    async def collect(self) -> Arrivals:
        arrivals = Arrivals()
        for personal, fanout in await self.ask("collect"):
            arrivals.personal.update(personal)
            for key, times in fanout.items():
                arrivals.fanout.setdefault(key, []).extend(times)
        return arrivals

    async def wait_for_fanout(self, round_id: str, expected: int, timeout: float = 15) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            counts = await self.ask("count")
            if sum(count.get(round_id, 0) for count in counts) >= expected:
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for conn, process in zip(self.conns, self.processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(BrokenPipeError):  # it ended meanwhile
                    conn.send("stop")
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


# --- the portal ---------------------------------------------------------------------------


async def measure_personal(clients: Clients, users: list[int], rate: float, duration: float):
    commits: dict[tuple[int, int], float] = {}
    outcome: dict[str, float] = {}
    publisher = threading.Thread(
        target=publish_personal, args=(users, rate, duration, commits, outcome)
    )
    publisher.start()
    while publisher.is_alive():
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)  # stragglers
    arrivals = await clients.collect()
    latencies = [
        arrivals.personal[key] - at for key, at in commits.items() if key in arrivals.personal
    ]
    return {
        "asked": rate,
        "sent": len(commits),
        "achieved": len(commits) / outcome["seconds"],
        "received": len(latencies),
        "latencies": latencies,
    }


async def bench_portal(kind: str, args, tokens: list[tuple[int, str]]) -> dict:
    # Every bench socket comes from this one address: no per-address socket limit.
    env = {
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "12",
        "WS_MAX_SOCKETS_PER_ADDRESS": "0",
    }
    servers = [ServerProcess(server=kind, **env).start() for _ in range(args.servers)]
    clients = None
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
        user_ids: list[int | None] = [user_id for user_id, _ in users] + [None] * watchers
        await asyncio.sleep(1.0)  # the servers settle after start-up
        rss_before = [rss_kib(server.process.pid) for server in servers]
        clients = Clients(targets, user_ids, args.clients)
        connect_seconds = await clients.ready()
        await asyncio.sleep(args.settle)  # the watch answers arrive, memory settles
        rss_after = [rss_kib(server.process.pid) for server in servers]
        personal = [
            await measure_personal(clients, [user_id for user_id, _ in users], rate, args.duration)
            for rate in args.rates
        ]

        async def trigger(round_id: str) -> float:
            return await asyncio.to_thread(publish_fanout, round_id)

        fanout = await fanout_rounds(args.rounds, clients, watchers, trigger)
        return {
            "kind": kind,
            "connect_s": connect_seconds,
            "personal": personal,
            "fanout": fanout,
            "watchers": watchers,
            "rss_before": rss_before,
            "rss_after": rss_after,
        }
    finally:
        try:
            if clients is not None:
                await clients.stop()
        finally:
            for server in servers:
                server.stop()


async def fanout_rounds(rounds: int, clients, watchers: int, trigger) -> FanoutFigures:
    """`rounds` fan-outs, each sent by `trigger(round_id)` (which returns when it started),
    timed until the median and the last of the watchers received it."""
    to_all, median, reached = [], [], 0
    for index in range(rounds):
        round_id = f"r{index}-{time.monotonic_ns()}"
        started = await trigger(round_id)
        await clients.wait_for_fanout(round_id, watchers)
        times = (await clients.collect()).fanout.get(round_id, [])
        reached = len(times)
        if times:
            to_all.append(max(times) - started)
            median.append(statistics.median(times) - started)
        await asyncio.sleep(0.3)
    return FanoutFigures(to_all, median, reached)


async def bench_floor(args, watchers: int, port: int | None = None) -> FanoutFigures:
    """The same fan-out through the bare broadcast server, to sockets held the same way."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "loadtests" / "bare_ws_server.py"), str(port)],
        stdout=subprocess.PIPE,
    )
    clients = None
    try:
        process.stdout.readline()  # listening
        url = f"ws://127.0.0.1:{port}"
        clients = Clients(
            [(url, {}, None)] * watchers, [None] * watchers, args.clients, portal=False
        )
        await clients.ready()
        control = await connect(url, ping_interval=None, compression=None)

        async def trigger(round_id: str) -> float:
            started = time.perf_counter()
            await control.send(f"broadcast {round_id}")
            return started

        figures = await fanout_rounds(args.rounds, clients, watchers, trigger)
        await control.close()
        return figures
    finally:
        if clients is not None:
            await clients.stop()
        process.terminate()
        process.wait(timeout=10)


def rate_label(rate: float) -> str:
    return "max" if math.isinf(rate) else f"{rate:g}/s"


def report(results: list[dict], floor: FanoutFigures, args) -> None:
    print()
    print(
        f"{args.sockets} sockets over {args.servers} server processes ({args.clients} client "
        f"processes); personal events from one publisher process at "
        f"{', '.join(rate_label(rate) for rate in args.rates)} for {args.duration:g}s each; "
        f"{args.rounds} fan-out rounds"
    )
    print()
    print(
        "server    connect(s)  asked   achieved/s  events sent/recv   p50 ms   p95 ms   p99 ms"
        "  max ms"
    )
    for result in results:
        for run in result["personal"]:
            lat = run["latencies"]
            print(
                f"{result['kind']:<9} {result['connect_s']:9.1f}  {rate_label(run['asked']):<7}"
                f" {run['achieved']:9.1f}  {run['sent']:>7}/{run['received']:<7}"
                f"  {ms(percentile(lat, 50))} {ms(percentile(lat, 95))} {ms(percentile(lat, 99))}"
                f" {ms(max(lat) if lat else float('nan'))}"
            )
    print()
    print("memory of the server processes (VmRSS) before and after the sockets connected")
    print("server    before MiB  after MiB  per socket KiB")
    for result in results:
        before, after = sum(result["rss_before"]), sum(result["rss_after"])
        print(
            f"{result['kind']:<9} {before / 1024:10.1f} {after / 1024:10.1f}"
            f"  {(after - before) / args.sockets:14.1f}"
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
    parser.add_argument(
        "--rate",
        default="100",
        help="personal events per second from one process; a comma list is a sweep, "
        "`max` publishes as fast as it can (e.g. 100,500,max)",
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5, help="fan-out rounds")
    parser.add_argument("--kinds", default="daphne,uvicorn")
    parser.add_argument(
        "--clients", type=int, default=2, help="client processes holding the sockets"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds after connecting, before measuring"
    )
    args = parser.parse_args()
    args.rates = [math.inf if rate == "max" else float(rate) for rate in args.rate.split(",")]
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
