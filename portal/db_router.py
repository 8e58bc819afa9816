"""An optional read replica (DATABASE_REPLICA_URL) for the catalog and search pages.

What goes to the replica: reads of the catalog's published content (courses, their
instructors, modules, lessons, captions, resources, synonyms), and only while serving a
GET (or HEAD) of the public catalog and search: `/api/courses`, `/api/courses/<slug>`,
`/api/search` and their pages (REPLICA_ROUTES). Everything else stays on the primary:
writes, every other request, websockets, jobs, management commands, and any read inside a
transaction (`transaction.atomic`: a `select_for_update`, a read that decides a write).

Read-your-writes: a client that wrote (any POST, PUT, PATCH or DELETE) reads from the
primary for DATABASE_REPLICA_PIN_SECONDS afterwards: browsers through a short-lived
cookie, API clients through a mark in the cache keyed by their bearer token. The mark is
looked at only when a catalog read would go to the replica.

Fresh enough for the cache: catalog answers are cached under stamps (catalog.cache, ADR
0007). A page read from a replica that has not yet replayed the change that retired a
stamp would be cached, stale, under the new stamp. So a retirement first raises the
position the replica must have replayed to the primary's WAL position (`catalog_changed`;
positions only grow; search answers have a position of their own, which seat moves do
not raise), then writes its stamps; a request reads from the replica only while the
replica has replayed up to the positions behind the stamps it read (`stamp_read`, before
or after its first catalog read), else from the primary. A replica that is not a
streaming standby (logical replication) reports no position and is trusted.

A replica that cannot be reached is left alone for REPLICA_RETRY_SECONDS: its reads go to
the primary meanwhile, so a replica outage never takes the catalog down.
"""

import contextvars
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

log = structlog.get_logger(__name__)

REPLICA = "replica"
# The catalog's published content: read on every catalog page, written by authors.
REPLICA_MODELS = frozenset(
    {
        "catalog.Course",
        "catalog.CourseInstructor",
        "catalog.Module",
        "catalog.Lesson",
        "catalog.LessonCaption",
        "catalog.LessonResource",
        "catalog.Synonym",
    }
)
# URL names (catalog/urls.py, frontend/urls.py) whose GETs may read from the replica.
REPLICA_ROUTES = frozenset(
    {"course-list", "course-detail", "search", "home", "course-page", "search-page"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WROTE_COOKIE = "portal_wrote"
# The primary's WAL position at the last change behind each kind of cache stamp (raised
# by catalog.cache): search answers, retired by course edits only; and every other
# catalog answer (lists, details), retired by seat moves too.
POSITION_KEYS = {"search": "db:catalog:position:search", "catalog": "db:catalog:position"}
POSITION_KEY = POSITION_KEYS["catalog"]
REPLICA_RETRY_SECONDS = 30.0

_reads: contextvars.ContextVar["ReplicaReads | None"] = contextvars.ContextVar(
    "replica_reads", default=None
)
_replica_down_until = 0.0  # monotonic; process-wide


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _lsn(text: str | None) -> int | None:
    """A pg_lsn ('16/B374D848') as a number."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


# Positions only grow: concurrent changes may record theirs in any order. Stored as 20
# decimal digits (Django's cache reads them back as an int) so Redis compares them as text.
_RAISE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if (not current) or ARGV[1] > current then redis.call('SET', KEYS[1], ARGV[1]) end
"""


def _raise_position(name: str, position: int) -> None:
    """Store `position` at the key `name` unless a higher one is there (atomic on Redis)."""
    if isinstance(cache, RedisCache):
        key = cache.make_and_validate_key(name)
        # Django's RedisCache keeps its client wrapper in `_cache` (the stubs leave it out).
        client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
        client.eval(_RAISE_SCRIPT, 1, key, f"{position:020d}")
        return
    current = cache.get(name)  # locmem: one process
    if current is None or int(current) < position:
        cache.set(name, position, timeout=None)


def _primary_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return _lsn(cursor.fetchone()[0]) or 0


def catalog_changed(*, search: bool = True) -> None:
    """A catalog change committed: before its new cache stamps are written, raise the
    positions the replica must have replayed to the primary's (nothing without a replica)."""
    if replica_configured():
        position = _primary_position()
        _raise_position(POSITION_KEYS["catalog"], position)
        if search:
            _raise_position(POSITION_KEYS["search"], position)


def _recorded_position(kind: str) -> int:
    """The position behind stamps of `kind`; the primary's now if no change has recorded
    one (a new deployment, an evicted key): every such stamp in the cache is older."""
    recorded = cache.get(POSITION_KEYS[kind])
    if recorded is None:
        recorded = _primary_position()
        _raise_position(POSITION_KEYS[kind], recorded)
    return int(recorded)


def _replica_ready(required: int) -> bool:
    """The replica answers and has replayed up to `required` (one query on it)."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END"
            )
            replayed = _lsn(cursor.fetchone()[0])
    except DatabaseError:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        log.warning("db.replica_unavailable", retry_seconds=REPLICA_RETRY_SECONDS, exc_info=True)
        return False
    return replayed is None or replayed >= required


class ReplicaReads:
    """One request's permission to read the catalog from the replica, decided on its first
    catalog read (not every request reads the catalog: most cached answers read nothing).
    The replica must have replayed the changes behind every cache stamp the request read,
    before that read or after it (`stamp_read`): pages cached under a stamp are read from
    a database that has its change."""

    def __init__(self, pinned: Callable[[], bool]) -> None:
        self._pinned = pinned
        self._decided: bool | None = None
        self._kinds: set[str] = set()  # of the stamps read before the first catalog read
        self._required = 0  # the position the stamps read ask for
        self._checked = 0  # the position the replica was found to have replayed

    def allowed(self) -> bool:
        if self._decided is None:
            self._decided = False  # a read made while deciding goes to the primary
            self._decided = not self._pinned() and self._require(self._kinds) and self._check()
        return self._decided

    def _require(self, kinds: set[str]) -> bool:
        """Raise the required position to those behind stamps of `kinds`; False when they
        cannot be known (the cache or the primary is away)."""
        try:
            for kind in kinds:
                self._required = max(self._required, _recorded_position(kind))
        except Exception:
            log.warning("db.replica_position_unknown", exc_info=True)
            return False
        return True

    def _check(self) -> bool:
        if not _replica_ready(self._required):
            return False
        self._checked = self._required
        return True

    def stamp_read(self, kind: str) -> None:
        if self._decided is None:
            self._kinds.add(kind)  # looked at only if the request reads the catalog
        elif self._decided:
            self._decided = self._require({kind}) and (
                self._required <= self._checked or self._check()
            )


@contextmanager
def replica_reads(pinned: Callable[[], bool] = lambda: False) -> Iterator[ReplicaReads]:
    """Catalog reads in this block may go to the replica (the middleware's, for catalog
    GETs; a test's or a command's otherwise)."""
    reads = ReplicaReads(pinned)
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def stamp_read(kind: str) -> None:
    """catalog.cache read a stamp of `kind` ("search" or "catalog")."""
    reads = _reads.get()
    if reads is not None:
        reads.stamp_read(kind)


def read_alias(label: str, instance_db: str | None = None) -> str:
    """Where a read of the model `label` ("catalog.Course") goes now; the relations of an
    object (`instance_db`: where it was read) come from the same place."""
    reads = _reads.get()
    if reads is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if instance_db == DEFAULT_DB_ALIAS:
        return DEFAULT_DB_ALIAS
    if instance_db != REPLICA and label not in REPLICA_MODELS:
        return DEFAULT_DB_ALIAS
    return REPLICA if reads.allowed() else DEFAULT_DB_ALIAS


def read_connection(label: str = "catalog.Course") -> Any:
    """The connection raw SQL reading `label`'s table goes through now (search)."""
    return connections[read_alias(label)]


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        instance = hints.get("instance")
        return read_alias(model._meta.label, None if instance is None else instance._state.db)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


# --- read-your-writes ------------------------------------------------------------------


def _credential_key(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return "db:wrote:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]


def _recently_wrote(request: HttpRequest) -> bool:
    if request.COOKIES.get(WROTE_COOKIE):
        return True
    key = _credential_key(request)
    if key is None:
        return False
    try:
        return cache.get(key) is not None
    except Exception:  # the cache is down: assume it did
        return True


def _mark_wrote(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    response.set_cookie(
        WROTE_COOKIE,
        "1",
        max_age=max(1, round(seconds)),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    key = _credential_key(request)
    if key is not None:
        try:
            cache.set(key, 1, timeout=max(1, round(seconds)))
        except Exception:  # its reads may meet the replica's lag: logged, not fatal
            log.warning("db.wrote_mark_failed", exc_info=True)


def _catalog_route(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return match.url_name in REPLICA_ROUTES


class ReplicaReadsMiddleware:
    """Catalog GETs may read from the replica; any other method marks its client as having
    written (installed only with DATABASE_REPLICA_URL)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            _mark_wrote(request, response)
            return response
        if not _catalog_route(request):
            return self.get_response(request)
        with replica_reads(lambda: _recently_wrote(request)):
            return self.get_response(request)
