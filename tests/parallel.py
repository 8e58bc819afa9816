"""Servers of its own for each pytest-xdist worker (scripts/test runs the suite on one per core
and one more, at most 4).

pytest-django already gives each worker a database of its own (test_portal_gw0,
test_portal_gw1, ...). Redis it cannot: tests flush their cache database and delete queues
in their broker database, so each worker needs Redis database indexes of its own. Worker gwN
takes the indexes of REDIS_URL and CELERY_BROKER_URL, each lowered by 2N (the suite's
15 and 14 for gw0, 13 and 12 for gw1, ...).

Redis pub/sub, which the channel layer uses, ignores database indexes: a seats update for
course 1 published by one worker's server would reach the other worker's browser looking
at its own course 1. Each worker's channel layer gets a prefix of its own
(CHANNEL_LAYER_PREFIX, test-gwN; test-main without xdist), which also keeps the suite apart
from a development server on the same Redis.

The changes go into os.environ, so the settings and every server process a test starts
(daphne, a Celery worker, Locust) see the same databases. It has to happen before Django
reads its settings, which pytest-django does in its first hook: this module is loaded as a
plugin (`-p tests.parallel` in pyproject.toml's addopts), and plugins named with -p are
imported before any hook runs.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

SHIFTED_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL")


def worker_number() -> int:
    """N for xdist worker gwN; 0 when the suite runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def redis_url_for_worker(url: str, number: int) -> str:
    """The URL with its database index lowered by twice the number (redis://host:port/15 → /13)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return url
    index = int(parts.path.strip("/") or 0) - 2 * number
    if index < 0:
        raise pytest.UsageError(
            f"{url}: too few Redis database indexes below it for xdist worker {number}; "
            "give the suite higher indexes (TEST_REDIS_URL, TEST_CELERY_BROKER_URL) or fewer workers"
        )
    return urlunsplit(parts._replace(path=f"/{index}"))


def _give_this_worker_its_own_redis() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    os.environ["CHANNEL_LAYER_PREFIX"] = f"test-{worker or 'main'}"
    number = worker_number()
    if number == 0:
        return
    for name in SHIFTED_VARIABLES:
        if os.environ.get(name):
            os.environ[name] = redis_url_for_worker(os.environ[name], number)


_give_this_worker_its_own_redis()
