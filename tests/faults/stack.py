"""The portal as deployed, for fault tests: a daphne server and a Celery worker on the
test database, a private Redis (cache, channel layer and broker) on a port of its own
that a test may stop and start, and a local SMTP server counting delivered messages."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import redis
import requests
from aiosmtpd.controller import Controller
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from enrollment.models import Enrollment, Receipt
from portal.events.publish import latest_seq
from tests.live import ROOT, LiveServer, free_port, test_database_url
from tests.redis_server import PrivateRedis

QUEUES = ("emails", "default", "notifications")
# One Celery worker process serving every queue, as the queue tests run it.
WORKER_COMMAND = [
    *(sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", ",".join(QUEUES)),
    *("-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"),
]
ARTIFACTS = ROOT / "test-artifacts"


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Inbox:
    """Counts messages the SMTP server accepted (250), by recipient and subject."""

    def __init__(self) -> None:
        self.delivered: list[tuple[tuple[str, ...], str]] = []
        self.receiving = threading.Event()
        self.hold_first = False  # keep the first DATA hanging (a worker dies mid-send)
        self._held = False

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        if self.hold_first and not self._held:
            self._held = True
            await asyncio.sleep(3600)  # cancelled when the client's connection drops
        subject = next(
            (
                line[9:]
                for line in envelope.content.decode().splitlines()
                if line.startswith("Subject: ")
            ),
            "",
        )
        self.delivered.append((tuple(envelope.rcpt_tos), subject))
        return "250 OK"

    def count(self, prefix: str) -> Counter:
        return Counter(rcpt for rcpt, subject in self.delivered if subject.startswith(prefix))


class Stack:
    def __init__(self, tmp: Path, **env: str) -> None:
        self.redis = PrivateRedis(tmp, durable=True)
        self.inbox = Inbox()
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.extra = env
        self.server: LiveServer | None = None
        self.worker: subprocess.Popen | None = None
        self.tmp = tmp

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": self.redis.url_for(0),
            "CELERY_BROKER_URL": self.redis.url_for(1),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_TIMEOUT": "30",
            **self.extra,
        }

    def start(self) -> "Stack":
        self.redis.start()
        self.smtp.start()
        self.server = LiveServer(**self.env).start()
        self.start_worker()
        return self

    def start_worker(self) -> None:
        log = (ARTIFACTS / f"worker-{self.redis.port}.log").open("ab")
        self.worker = subprocess.Popen(
            WORKER_COMMAND,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would: no clean-up."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)
        self.worker = None

    def manage(self, *args: str, timeout: float = 120) -> str:
        """A management command in a process of its own, configured as the servers are."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def queues_empty(self) -> bool:
        state = self.queue_state()
        return sum(state.values()) == 0

    def queue_state(self) -> dict[str, int]:
        """Messages waiting in each queue, and delivered but not yet acknowledged."""
        client = redis.Redis.from_url(self.redis.url_for(1))
        state = {queue: client.llen(queue) for queue in QUEUES}
        state["unacked"] = client.hlen("unacked")
        return state

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_worker()
        if self.server is not None:
            self.server.stop()
        self.smtp.stop()
        self.redis.stop()


def post_enrollment(base: str, body: dict, key: str, token: str | None = None) -> tuple[int, dict]:
    """One request; a refused or dropped connection counts as status 0."""
    headers = {"Idempotency-Key": key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = requests.post(f"{base}/api/enrollments", json=body, headers=headers, timeout=30)
    except requests.RequestException as exc:
        return 0, {"exception": repr(exc)}
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, {"raw": answer.text[:200]}


def retry_until_created(
    stack: Stack, statuses: list[int], body: dict, key: str, token: str | None, *, timeout: float
) -> None:
    """A client retrying with the same Idempotency-Key until 201; every answer is kept in
    `statuses`, so a 409 on the way is seen, not hidden by the final 201."""
    assert stack.server is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses.append(post_enrollment(stack.server.url, body, key, token)[0])
        if statuses[-1] == 201:
            return
        time.sleep(0.2)
    raise AssertionError(f"no 201 for {key}: {statuses}")


def record_figures(fault: str, **figures: object) -> None:
    """What a fault test did and saw, printed (-s) and appended to
    test-artifacts/fault-figures.jsonl (readable after a parallel run too)."""
    line = json.dumps({"fault": fault, **figures}, default=dict)
    print(line)
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "fault-figures.jsonl").open("a") as out:
        out.write(line + "\n")


class Listener:
    """A signed-in socket read in a thread of its own: every frame it receives, kept."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self._connection = ws_connect(
            server.ws_url,
            origin=server.url,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=30,
        )
        self.socket = self._connection.__enter__()
        self.frames: list[dict] = []
        self.hello = json.loads(self.socket.recv(timeout=30))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.socket:
                self.frames.append(json.loads(raw))
        except ConnectionClosed:
            pass

    def live_seqs(self) -> list[int]:
        return [
            frame["seq"]
            for frame in self.frames
            if "seq" in frame and frame["type"] not in {"resume.done", "resume.gap"}
        ]

    def resume_all(self) -> list[dict]:
        """Every event of the user, replayed from the log (resume after 0)."""
        start = len(self.frames)
        self.socket.send(json.dumps({"type": "resume", "after": 0}))
        wait_until(
            lambda: any(f["type"] in {"resume.done", "resume.gap"} for f in self.frames[start:]),
            timeout=30,
            what="resume.done",
        )
        replayed = self.frames[start:]
        assert not any(f["type"] == "resume.gap" for f in replayed), replayed
        return [f for f in replayed if "seq" in f and f["type"] != "resume.done"]

    def close(self) -> None:
        self._connection.__exit__(None, None, None)
        self.thread.join(timeout=10)


def wait_for_every_job(stack: Stack, total: int) -> None:
    """Until all `total` enrollments had their three jobs run, every receipt was emailed
    and the queues are empty."""
    wait_until(
        lambda: (
            Enrollment.objects.filter(
                welcome_email_sent_at__isnull=False,
                access_granted_at__isnull=False,
                instructors_notified_at__isnull=False,
            ).count()
            == total
            and not Receipt.objects.filter(emailed_at__isnull=True).exists()
            and stack.queues_empty()
        ),
        timeout=120,
        what="every job to run",
    )


def paid_buyers(**filters) -> Counter:
    """Who must have received a receipt, and how many: one per paid enrollment."""
    emails = Enrollment.objects.filter(payment__amount__gt=0, **filters).values_list(
        "student__email", flat=True
    )
    return Counter((email,) for email in emails)


def assert_events_resumable(students: list, listeners: list[Listener]) -> None:
    """Every event of each student is in the log, numbered without a gap, and reachable
    from their socket: whatever arrived live is part of what resume replays; each of their
    two enrollments ends active."""
    for student, listener in zip(students, listeners, strict=True):
        replayed = listener.resume_all()
        seqs = [frame["seq"] for frame in replayed]
        assert seqs == list(range(1, latest_seq(student.pk) + 1))
        assert set(listener.live_seqs()) <= set(seqs)
        final = {
            frame["enrollment"]["id"]: frame["enrollment"]["status"]
            for frame in replayed
            if frame["type"] == "enrollment.status"
        }
        assert sorted(final.values()) == ["active", "active"]
        listener.close()
