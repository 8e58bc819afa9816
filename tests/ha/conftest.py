import pytest

from tests.ha.servers import SentinelSet


@pytest.fixture
def sentinel_set(tmp_path):
    """A Redis master, a replica and three sentinels, each process stopped by its PID at
    the end, whatever the test did to them."""
    servers = SentinelSet(tmp_path)
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture
def replica_database(django_db_setup):
    """A second database beside the test database (tests/ha/replica.py), dropped after."""
    from tests.ha.replica import ReplicaDatabase

    database = ReplicaDatabase()
    try:
        yield database
    finally:
        database.drop()
