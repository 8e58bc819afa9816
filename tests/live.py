"""Real server processes for tests whose point is delivery over the network: daphne
serving the portal on 127.0.0.1, on the pytest-django test database and the test Redis."""

import os
import subprocess
import sys

from django.db import connection

from loadtests.servers import ROOT, ServerProcess, free_port

__all__ = ["ROOT", "LiveServer", "benchmark_run", "free_port", "test_database_url"]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test


def benchmark_run(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A benchmark command (`loadtests/…`) run with this Python on the test database, to
    the end, its output captured."""
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DATABASE_URL": test_database_url()},
    )


class LiveServer(ServerProcess):
    """A server on the test database, with rate limits out of the way, jobs in-process and a
    connection pool."""

    def __init__(self, **kwargs) -> None:
        env = {
            "DATABASE_URL": test_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "RATE_LIMIT_ENROLL": "100000",
            "RATE_LIMIT_LOGIN": "100000",
            "RATE_LIMIT_LOGIN_IP": "100000",
            "RATE_LIMIT_REGISTER": "100000",
            "LOG_LEVEL": "WARNING",
            "PORTAL_TEST_SERVER": "true",  # static files indexed once (settings_test.py)
            # A pool, as docker-compose.yml runs it: without one every request opens a
            # PostgreSQL connection of its own (a new backend process, ~5 ms).
            "DB_POOL_MAX_SIZE": "4",
        }
        super().__init__(**{**env, **kwargs})
