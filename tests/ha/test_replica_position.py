"""A real streaming standby (a private primary and its pg_basebackup copy): the catalog
reads from the standby only once it has replayed the last catalog change, so no answer
read from a lagging replica is cached under the change's new stamp (portal.db_router)."""

import json
import os
import subprocess
import sys

import pytest

from tests.ha.standby import StreamingPair
from tests.live import ROOT


@pytest.fixture
def streaming_pair():
    pair = StreamingPair()
    try:
        yield pair.start()
    finally:
        pair.stop()


def test_a_standby_behind_the_last_catalog_change_is_not_read(streaming_pair):
    env = {
        **os.environ,
        "DATABASE_URL": streaming_pair.primary.url(),
        "DATABASE_REPLICA_URL": streaming_pair.standby.url(),
        "REDIS_URL": "",  # the position lives in this process's own cache
        "CACHE_REDIS_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.ha.position_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["standby"] is True
    assert found["caught_up"] is True
    # Replay paused before a course edit: the standby is behind the position recorded
    # before the new stamps, and answers to be cached under them come from the primary.
    assert found["replayed"] < found["recorded"]
    assert found["behind"] == ["default", "default"]
    assert found["behind_uncached"] == "replica"
    assert found["caught_up_again"] is True
    # A seat move retires the lists only: searches stay on the standby.
    assert found["seat_move"] == {"list": "default", "search": "replica"}
    assert found["caught_up_after_seats"] is True
    # A stamp read after the request's first catalog read is checked too.
    assert (found["first_read"], found["after_a_later_stamp"]) == ("replica", "default")


def test_the_recorded_position_only_grows():
    """Changes retiring stamps at once may record their positions in any order."""
    from django.core.cache import cache

    from portal import db_router

    try:
        db_router._raise_position(db_router.POSITION_KEY, 2_000_000_000)
        db_router._raise_position(
            db_router.POSITION_KEY, 1_000_000_000
        )  # an earlier change, recorded later
        assert cache.get(db_router.POSITION_KEY) == 2_000_000_000
        db_router._raise_position(db_router.POSITION_KEY, 2**62)
        assert cache.get(db_router.POSITION_KEY) == 2**62
    finally:
        cache.delete(db_router.POSITION_KEY)
