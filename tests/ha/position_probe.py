"""Run in a process of its own with DATABASE_URL naming a primary and DATABASE_REPLICA_URL
a streaming standby of it: where catalog reads go while the standby replays, and while
its replay is paused behind a catalog change (portal.db_router's position check), as JSON."""

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402

from catalog import cache as catalog_cache  # noqa: E402
from portal import db_router  # noqa: E402

WAIT = 60.0


def alias_after(stamp: str | None) -> str:
    """Where a request's catalog read goes after it read the stamp of a list page or of a
    search answer (or none: a read whose answer is not cached)."""
    with db_router.replica_reads():
        if stamp == "list":
            catalog_cache.list_key({"page": 1})
        elif stamp == "search":
            catalog_cache.search_key({"q": "python"})
        return db_router.read_alias("catalog.Course")


def eventually(condition) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def on(alias: str, sql: str, params: tuple = ()) -> object:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] if cursor.description else None


def pause_replay() -> None:
    on("replica", "SELECT pg_wal_replay_pause()")
    assert eventually(lambda: on("replica", "SELECT pg_get_wal_replay_pause_state()") == "paused")


def catalog_change(n: int, *, search: bool = True) -> None:
    """A change commits on the primary, then retires cached answers: a course edit
    (search too) or a seat move (search=False: search answers stay)."""
    on("default", "CREATE TABLE IF NOT EXISTS catalog_change (n int)")
    on("default", "INSERT INTO catalog_change VALUES (%s)", (n,))
    catalog_cache.invalidate_now([], search=search)


def resume_and_catch_up() -> bool:
    on("replica", "SELECT pg_wal_replay_resume()")
    return eventually(lambda: alias_after("list") == alias_after("search") == "replica")


def main() -> dict:
    found: dict = {"standby": on("replica", "SELECT pg_is_in_recovery()")}
    found["caught_up"] = eventually(
        lambda: alias_after("list") == alias_after("search") == "replica"
    )

    # A course edit the standby has not replayed: answers that would be cached under the
    # new stamps are read from the primary; a read no cache keeps may lag.
    pause_replay()
    catalog_change(1)
    found["recorded"] = cache.get(db_router.POSITION_KEY)
    found["replayed"] = db_router._lsn(on("replica", "SELECT pg_last_wal_replay_lsn()::text"))
    found["behind"] = [alias_after("list"), alias_after("search")]
    found["behind_uncached"] = alias_after(None)
    found["caught_up_again"] = resume_and_catch_up()

    # A seat move retires lists, not search answers: searches keep the standby.
    pause_replay()
    catalog_change(2, search=False)
    found["seat_move"] = {"list": alias_after("list"), "search": alias_after("search")}
    found["caught_up_after_seats"] = resume_and_catch_up()

    # A request that read the catalog from the standby, then reads a stamp retired by a
    # change the standby has not replayed (a course page does this): its reads after that
    # go to the primary.
    with db_router.replica_reads():
        found["first_read"] = db_router.read_alias("catalog.Course")
        pause_replay()
        catalog_change(3)
        catalog_cache.list_key({"page": 2})
        found["after_a_later_stamp"] = db_router.read_alias("catalog.Course")
    on("replica", "SELECT pg_wal_replay_resume()")
    return found


if __name__ == "__main__":
    print(json.dumps(main()))
