"""Real server processes for tests whose point is delivery over the network: daphne
serving the portal on 127.0.0.1, on the pytest-django test database and the test Redis."""

from django.db import connection

from loadtests.servers import ROOT, ServerProcess, free_port

__all__ = ["ROOT", "LiveServer", "free_port", "test_database_url"]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test


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
