"""Redis configuration from the environment alone: the URL forms portal.redis_config
reads, and what the settings build from REDIS_SENTINELS / REDIS_MASTER_NAME /
CACHE_REDIS_URL for the cache, the channel layer and Celery (in a fresh process each, as
a server reads them at start-up)."""

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import redis_config
from tests.live import ROOT

SENTINELS = ["10.0.0.1:26379", "10.0.0.2:26380", "[fd00::3]:26381"]


def resolve(url: str, **options) -> str:
    return redis_config.resolve(
        url, sentinels=options.pop("sentinels", SENTINELS), master="portal", **options
    )


def test_without_sentinels_every_url_is_used_as_it_is():
    for url in ("redis://cache:6379/3", "memory://", "", "amqp://guest@rabbit//"):
        assert resolve(url, sentinels=[]) == url


def test_a_redis_url_keeps_its_database_and_login_and_drops_its_host():
    url = resolve("redis://app:s3cr%40t@old-host:6379/4", sentinel_password="sent inel")
    spec = redis_config.parse(url)
    assert spec == redis_config.SentinelSpec(
        sentinels=(("10.0.0.1", 26379), ("10.0.0.2", 26380), ("fd00::3", 26381)),
        master="portal",
        db=4,
        username="app",
        password="s3cr@t",
        sentinel_password="sent inel",
    )
    assert "old-host" not in url
    assert redis_config.parse(spec.url()) == spec  # the written form reads back the same
    assert redis_config.describe(url) == (
        "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,[fd00::3]:26381/portal/4"
    )


def test_redis_password_fills_in_urls_without_one_and_unset_means_database_0():
    assert redis_config.parse(resolve("", password="pw")).password == "pw"
    assert redis_config.parse(resolve("", password="pw")).db == 0
    assert redis_config.parse(resolve("redis://:own@x/1", password="pw")).password == "own"


def test_celerys_form_and_the_sentinel_form_pass_and_other_brokers_stay():
    celery = "sentinel://:pw@10.0.0.1:26379/2;sentinel://:pw@10.0.0.2:26380/2"
    spec = redis_config.parse(resolve(celery))
    assert (spec.db, spec.password, spec.master) == (2, "pw", "portal")
    assert spec.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("fd00::3", 26381))
    written = "redis+sentinel://s1:1,s2:2/other/5"
    assert resolve(written) == written
    assert resolve("amqp://guest@rabbit//") == "amqp://guest@rabbit//"


def test_what_cannot_work_is_refused_at_start_up():
    with pytest.raises(ImproperlyConfigured, match="REDIS_MASTER_NAME"):
        redis_config.resolve("redis://x/0", sentinels=SENTINELS, master="")
    with pytest.raises(ImproperlyConfigured, match="TLS"):
        resolve("rediss://x/0")
    with pytest.raises(ImproperlyConfigured, match="master"):
        redis_config.parse("redis+sentinel://s1:1")


def test_celery_form_round_trip_keeps_the_sentinels_login():
    url = resolve("redis://:pw@x/3", sentinel_password="sp")
    broker, options = redis_config.celery_url(url, socket_timeout=2)
    assert broker == (
        "sentinel://:pw@10.0.0.1:26379/3;sentinel://:pw@10.0.0.2:26380/3;"
        "sentinel://:pw@[fd00::3]:26381/3"
    )
    assert options["master_name"] == "portal"
    assert options["sentinel_kwargs"]["password"] == "sp"
    assert redis_config.from_celery(broker, options) == url
    assert redis_config.celery_url("redis://x:6379/1") == ("redis://x:6379/1", {})


SHOW = """
import json, portal.settings as s
from portal.celery import app
print(json.dumps({
    "REDIS_URL": s.REDIS_URL,
    "CACHE_REDIS_URL": s.CACHE_REDIS_URL,
    "CACHES": s.CACHES["default"],
    "SESSION_ENGINE": s.SESSION_ENGINE,
    "LAYER": s.CHANNEL_LAYERS["default"],
    "BROKER": s.CELERY_BROKER_URL,
    "BROKER_OPTIONS": s.CELERY_BROKER_TRANSPORT_OPTIONS,
    "RESULT": s.CELERY_RESULT_BACKEND,
    "RESULT_OPTIONS": s.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS,
    "EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "celery_broker_url": app.conf.broker_url,
    "celery_result_backend": app.conf.result_backend,
    "DATABASES": s.DATABASES,
    "ROUTERS": getattr(s, "DATABASE_ROUTERS", []),
    "MIDDLEWARE": s.MIDDLEWARE,
}, default=str))
"""

ROLE_VARIABLES = (
    "REDIS_URL", "CACHE_REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
    "REDIS_SENTINELS", "REDIS_MASTER_NAME", "CACHE_REDIS_MASTER_NAME", "REDIS_PASSWORD",
    "REDIS_SENTINEL_PASSWORD", "CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL",
    "DATABASE_REPLICA_URL", "DISABLE_SERVER_SIDE_CURSORS", "DB_POOL_MAX_SIZE",
)  # fmt: skip


def settings_for(**env: str) -> dict:
    """The base settings as a process started with exactly these Redis variables sees them."""
    clean = {k: v for k, v in os.environ.items() if k not in ROLE_VARIABLES}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_embedded_default_is_unchanged():
    found = settings_for()
    assert found["REDIS_URL"] == found["CACHE_REDIS_URL"] == ""
    assert found["CACHES"]["BACKEND"].endswith("LocMemCache")
    assert found["LAYER"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert (found["BROKER"], found["RESULT"], found["EAGER"]) == ("memory://", None, True)


def test_one_redis_url_serves_every_role_as_before():
    found = settings_for(REDIS_URL="redis://r:6379/0", CELERY_BROKER_URL="redis://r:6379/1")
    assert found["CACHES"]["LOCATION"] == "redis://r:6379/0"
    assert "pool_class" not in found["CACHES"]["OPTIONS"]
    assert found["LAYER"]["CONFIG"]["hosts"][0]["address"] == "redis://r:6379/0"
    assert found["celery_broker_url"] == found["BROKER"] == "redis://r:6379/1"
    assert "master_name" not in found["BROKER_OPTIONS"] and found["EAGER"] is False


def test_the_cache_may_have_a_redis_of_its_own():
    found = settings_for(
        REDIS_URL="redis://realtime:6379/0",
        CACHE_REDIS_URL="redis://cache:6379/0",
        CELERY_BROKER_URL="redis://realtime:6379/1",
    )
    assert found["CACHES"]["LOCATION"] == found["CACHE_REDIS_URL"] == "redis://cache:6379/0"
    assert found["REDIS_URL"] == "redis://realtime:6379/0"
    assert found["LAYER"]["CONFIG"]["hosts"][0]["address"] == "redis://realtime:6379/0"
    assert found["SESSION_ENGINE"].endswith("cached_db")


def test_sentinels_put_every_role_behind_them():
    found = settings_for(
        REDIS_SENTINELS="s1:26379,s2:26379,s3:26379",
        REDIS_MASTER_NAME="portal",
        CACHE_REDIS_MASTER_NAME="portal-cache",
        REDIS_PASSWORD="data-pw",
        REDIS_SENTINEL_PASSWORD="sentinel-pw",
        CELERY_BROKER_URL="redis://old:6379/1",
        CELERY_RESULT_BACKEND="redis://old:6379/2",
    )
    sentinels = [["s1", 26379], ["s2", 26379], ["s3", 26379]]
    realtime = redis_config.parse(found["REDIS_URL"])
    assert (realtime.master, realtime.db, realtime.password) == ("portal", 0, "data-pw")
    cache = redis_config.parse(found["CACHES"]["LOCATION"][0])
    assert (cache.master, cache.db) == ("portal-cache", 0)
    assert found["CACHES"]["OPTIONS"]["pool_class"] == "portal.redis_config.CachePool"
    host = found["LAYER"]["CONFIG"]["hosts"][0]
    assert host["sentinels"] == sentinels and host["master_name"] == "portal"
    assert host["sentinel_kwargs"]["password"] == "sentinel-pw" and host["password"] == "data-pw"
    # Celery's own form, in its settings and in what Celery itself reads.
    assert found["celery_broker_url"] == found["BROKER"]
    assert found["BROKER"].startswith("sentinel://:data-pw@s1:26379/1;")
    assert found["BROKER_OPTIONS"]["master_name"] == "portal"
    assert found["BROKER_OPTIONS"]["sentinel_kwargs"]["password"] == "sentinel-pw"
    assert found["BROKER_OPTIONS"]["visibility_timeout"] == 300  # the portal's own options kept
    assert found["celery_result_backend"] == found["RESULT"]
    assert found["RESULT"].startswith("sentinel://:data-pw@s1:26379/2;")
    assert found["RESULT_OPTIONS"]["master_name"] == "portal"


def test_a_replica_and_pgbouncer_are_configured_from_the_environment():
    plain = settings_for(DATABASE_URL="postgresql://u:p@primary:5432/portal")
    assert set(plain["DATABASES"]) == {"default"} and plain["ROUTERS"] == []
    assert "portal.db_router.ReplicaReadsMiddleware" not in plain["MIDDLEWARE"]
    assert plain["DATABASES"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is False

    found = settings_for(
        DATABASE_URL="postgresql://u:p@pgbouncer:6432/portal",
        DATABASE_REPLICA_URL="postgresql://u:p@replica:5432/portal",
        DISABLE_SERVER_SIDE_CURSORS="true",
        DB_POOL_MAX_SIZE="4",
    )
    primary, replica = found["DATABASES"]["default"], found["DATABASES"]["replica"]
    assert (replica["HOST"], replica["NAME"]) == ("replica", "portal")
    assert primary["DISABLE_SERVER_SIDE_CURSORS"] is replica["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert replica["TEST"] == {"MIRROR": "default"}
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert (
        replica["OPTIONS"]["pool"]["max_size"] == 4 and replica["OPTIONS"]["pool"]["timeout"] == 3
    )
    assert found["ROUTERS"] == ["portal.db_router.ReplicaRouter"]
    middleware = found["MIDDLEWARE"]
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[auth + 1] == "portal.db_router.ReplicaReadsMiddleware"
