"""What every simulated user shares: the run's fixtures (accounts, courses), a unique
slot per user across Locust's worker processes, and answer checks."""

import itertools
import json
import os
import random
from collections.abc import Callable
from functools import cache
from typing import Any

from locust import FastHttpUser
from locust.env import Environment

QUERIES = [
    "python", "data science", "javascript", "react hooks", "docker", "kubernetes",
    "machine learning", "sql", "design", "photography", "spanish", "statistics",
    "pyhton", "excel", "marketing", "guitar", "rust", "devops", "web", "security",
]  # fmt: skip
LEVELS = ["", "beginner", "intermediate", "advanced"]
SORTS = ["relevance", "popular", "rating", "price", "newest"]


@cache
def fixtures() -> dict[str, Any]:
    """The fixtures file of the run (loadtests/scaling/accounts.py wrote it)."""
    path = os.environ.get("LOADTEST_FIXTURES")
    if not path:
        raise RuntimeError("LOADTEST_FIXTURES names no fixtures file (loadtests/run sets it)")
    with open(path) as file:
        return json.load(file)


def held_instructors() -> list[dict[str, Any]]:
    """The instructors whose sockets the run's instructor users hold: enrollments go to
    their courses, so that every one of them is seen arriving."""
    instructors = fixtures()["instructors"]
    held = int(os.environ.get("LOADTEST_INSTRUCTORS_HELD", "0"))
    return instructors[: max(1, min(held, len(instructors)))] if held else instructors


_counters: dict[str, itertools.count] = {}


def user_slot(environment: Environment, kind: str) -> int:
    """A number unique among the run's users of `kind`, over every worker process:
    0, 1, 2, … in the order they start (worker w of W hands out w, w + W, w + 2W, …)."""
    workers = max(1, int(os.environ.get("LOADTEST_WORKERS", "1")))
    worker = max(0, getattr(environment.runner, "worker_index", 0))
    counter = _counters.setdefault(kind, itertools.count())
    return next(counter) * workers + worker


def student_account(environment: Environment, kind: str, blocks: int = 3) -> dict[str, str]:
    """A student account for this user alone: the accounts are split into `blocks`, one per
    kind of signed-in student (enrolling, learning, waiting)."""
    students = fixtures()["students"]
    kinds = ("enroll", "learn", "wait")
    size = max(1, len(students) // blocks)
    slot = user_slot(environment, kind)
    if slot >= size:
        raise RuntimeError(
            f"{slot + 1} {kind} users but {size} accounts for them: make more students"
        )
    return students[kinds.index(kind) * size + slot]


def think(low: float, high: float) -> Callable[[Any], float]:
    """A user's think time between tasks: uniform in [low, high] seconds, times
    LOADTEST_WAIT_SCALE (loadtests/run --wait-scale; below 1 pushes the same users
    towards the stack's capacity)."""
    scale = float(os.environ.get("LOADTEST_WAIT_SCALE", "1"))

    def wait_time(_user: Any) -> float:
        return random.uniform(low, high) * scale

    return wait_time


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: Any) -> str | None:
    try:
        body = response.json()
    except Exception:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def check(response: Any, status: int, test: Callable[[Any], bool] | None = None,
          what: str = "") -> Any | None:  # fmt: skip
    """Within `with client.request(..., catch_response=True) as response`: mark it failed
    unless it has `status` and its JSON body passes `test`; return the body when it did."""
    if response.status_code != status:
        response.failure(f"{response.status_code} (wanted {status}): {(response.text or '')[:200]}")
        return None
    try:
        body = response.json() if test is not None else None
    except Exception:
        response.failure("the body is not JSON")
        return None
    if test is not None and not test(body):
        response.failure(f"unexpected answer{': ' + what if what else ''}: {str(body)[:200]}")
        return None
    response.success()
    return body if body is not None else True


class PortalUser(FastHttpUser):
    """Base for the portal's users: a browser's connection behaviour (keep-alive, a few
    connections), no retries."""

    abstract = True
    # One tab's HTTP client, not a crawler: a browser opens ~6 connections per host.
    concurrency = 6
    # Names every full run of this kind of user makes (the smoke test checks them).
    request_names: tuple[str, ...] = ()

    def pick(self, items: list[Any]) -> Any:
        return random.choice(items)
