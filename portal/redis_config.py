"""How the portal reaches Redis: the one place that turns a configured URL into
connections, so the cache, the channel layer, Celery, presence, socket counts, metrics and
the health check follow the same configuration, a single server or a Sentinel-managed
master alike.

A Redis URL, wherever the portal takes one, is either

- `redis://[[user]:password@]host[:port][/db]` (also `rediss://`, `unix://`): one server; or
- `redis+sentinel://[[user]:password@]host:port[,host:port...]/<master name>[/db]
  [?sentinel_password=...&sentinel_username=...]`: the master that these sentinels name
  now. The user and password are the data nodes'; the sentinels' own come in the query.

The settings write the second form from REDIS_SENTINELS and REDIS_MASTER_NAME (`resolve`),
so an operator adds two variables to a working configuration and keeps the URLs' database
indexes. Celery takes its own form, `sentinel://host:port;sentinel://host:port/db` plus
transport options (`celery_url`); `from_celery` reads it back.

Failover: a sentinel-managed connection asks the sentinels for the master whenever it
(re)connects, and a demoted master's READONLY answer counts as a lost connection, so every
client follows a failover by itself once its connection drops; what a caller sees in
between is the ConnectionError it already handles for a Redis outage.
"""

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel
import redis.sentinel
from django.core.exceptions import ImproperlyConfigured

SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379
# A sentinel answers at once or not at all: a client asks the next one after this long,
# whatever read timeout its master connections have (the channel layer's is 30 s).
SENTINEL_SOCKET_TIMEOUT = 2.0


@dataclass(frozen=True)
class SentinelSpec:
    """A master reached through sentinels: where they are, its name, database and login."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str = ""
    password: str = ""
    sentinel_username: str = ""
    sentinel_password: str = ""

    def url(self) -> str:
        userinfo = _userinfo(self.username, self.password)
        hosts = ",".join(_host_port(host, port) for host, port in self.sentinels)
        query = {
            name: value
            for name, value in (
                ("sentinel_username", self.sentinel_username),
                ("sentinel_password", self.sentinel_password),
            )
            if value
        }
        suffix = f"?{urlencode(query)}" if query else ""
        return (
            f"{SENTINEL_SCHEME}://{userinfo}{hosts}/{quote(self.master, safe='')}/{self.db}{suffix}"
        )

    def master_kwargs(self) -> dict[str, Any]:
        """Connection options for the master itself."""
        kwargs: dict[str, Any] = {"db": self.db}
        if self.username:
            kwargs["username"] = self.username
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def sentinel_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        """Connection options for the sentinels: short socket timeouts (at most those of
        `options`) and the sentinels' own login (never the data nodes')."""
        kwargs: dict[str, Any] = {
            name: min(float(options.get(name) or SENTINEL_SOCKET_TIMEOUT), SENTINEL_SOCKET_TIMEOUT)
            for name in ("socket_timeout", "socket_connect_timeout")
        }
        if self.sentinel_username:
            kwargs["username"] = self.sentinel_username
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs


def _userinfo(username: str, password: str) -> str:
    if not (username or password):
        return ""
    return f"{quote(username, safe='')}:{quote(password, safe='')}@"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_host_port(text: str, default_port: int = DEFAULT_SENTINEL_PORT) -> tuple[str, int]:
    """`host:port`, `host`, `[v6]:port` → (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or default_port)
    host, colon, port = text.rpartition(":")
    if not colon:
        return text, default_port
    return host, int(port)


def parse(url: str) -> SentinelSpec | None:
    """The sentinel set a `redis+sentinel://` URL names; None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme != SENTINEL_SCHEME:
        return None
    netloc, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    userinfo, at, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":") if at else ("", "", "")
    sentinels = tuple(parse_host_port(host) for host in hosts.split(",") if host.strip())
    master, _, db = path.partition("/")
    options = {name: values[-1] for name, values in parse_qs(query).items()}
    if not sentinels or not master:
        raise ImproperlyConfigured(
            f"{SENTINEL_SCHEME}:// URLs name sentinels and a master: "
            f"{SENTINEL_SCHEME}://host:port[,host:port]/<master>/<db>"
        )
    return SentinelSpec(
        sentinels=sentinels,
        master=unquote(master),
        db=int(db.strip("/") or 0),
        username=unquote(username),
        password=unquote(password),
        sentinel_username=options.get("sentinel_username", ""),
        sentinel_password=options.get("sentinel_password", ""),
    )


def resolve(
    url: str,
    *,
    sentinels: list[str],
    master: str,
    password: str = "",
    sentinel_password: str = "",
) -> str:
    """The URL the portal uses for a configured one (settings-time).

    Without sentinels: `url` unchanged. With them (REDIS_SENTINELS), a `redis://` URL, an
    empty one (database 0) or Celery's `sentinel://` form becomes a `redis+sentinel://`
    URL for `master`: its database index and login are kept, its host and port are not
    used (the sentinels say where the master is). `password` (REDIS_PASSWORD) fills in a
    URL without one. Other schemes (`memory://`, `amqp://`) and URLs already in the
    sentinel form are returned as they are.
    """
    if not sentinels or url.startswith(f"{SENTINEL_SCHEME}://"):
        return url
    if url.startswith("sentinel://"):
        first = url.split(";")[0]
        parts = urlsplit(first)
    elif url == "" or url.startswith(("redis://", "rediss://")):
        if url.startswith("rediss://"):
            raise ImproperlyConfigured(
                "TLS (rediss://) is not supported together with REDIS_SENTINELS."
            )
        parts = urlsplit(url or "redis:///0")
    else:
        return url
    if not master:
        raise ImproperlyConfigured("REDIS_SENTINELS needs REDIS_MASTER_NAME, the master's name.")
    db = parts.path.strip("/").split("/")[-1] if parts.path.strip("/") else "0"
    spec = SentinelSpec(
        sentinels=tuple(parse_host_port(entry) for entry in sentinels),
        master=master,
        db=int(db or 0),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or "") or password,
        sentinel_password=sentinel_password,
    )
    return spec.url()


def describe(url: str) -> str:
    """The URL without its passwords, for messages and logs."""
    spec = parse(url)
    if spec is not None:
        hosts = ",".join(_host_port(host, port) for host, port in spec.sentinels)
        return f"{SENTINEL_SCHEME}://{hosts}/{spec.master}/{spec.db}"
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


# --- connections -------------------------------------------------------------------------


def connection_pool(url: str, **options: Any) -> redis.ConnectionPool:
    """A blocking-I/O pool for `url` (redis-py's `from_url` options)."""
    spec = parse(url)
    if spec is None:
        return redis.ConnectionPool.from_url(url, **options)
    manager = redis.sentinel.Sentinel(
        list(spec.sentinels), sentinel_kwargs=spec.sentinel_kwargs(options)
    )
    return redis.sentinel.SentinelConnectionPool(
        spec.master, manager, **spec.master_kwargs(), **options
    )


def client(url: str, **options: Any) -> redis.Redis:
    """A client for `url`: the server it names, or the sentinels' current master."""
    return redis.Redis(connection_pool=connection_pool(url, **options))


class CachePool:
    """Django's RedisCache `pool_class`: it calls `from_url(location, **OPTIONS)`."""

    @staticmethod
    def from_url(url: str, **options: Any) -> redis.ConnectionPool:
        return connection_pool(url, **options)


class _BlockingSentinelPool(
    redis.asyncio.sentinel.SentinelConnectionPool, aioredis.BlockingConnectionPool
):
    """The sentinels' master, waiting for a free connection instead of failing (as
    BlockingConnectionPool does for one server)."""


def async_pool(url: str, *, blocking: bool = False, **options: Any) -> aioredis.ConnectionPool:
    """An asyncio pool for `url`; `blocking`: wait up to `timeout` for a free connection."""
    spec = parse(url)
    if spec is None:
        pool_class = aioredis.BlockingConnectionPool if blocking else aioredis.ConnectionPool
        return pool_class.from_url(url, **options)
    manager = redis.asyncio.sentinel.Sentinel(
        list(spec.sentinels), sentinel_kwargs=spec.sentinel_kwargs(options)
    )
    if not blocking:
        options.pop("timeout", None)  # the wait for a free connection: blocking pools only
    master_pool = (
        _BlockingSentinelPool if blocking else redis.asyncio.sentinel.SentinelConnectionPool
    )
    return master_pool(spec.master, manager, **spec.master_kwargs(), **options)


def channel_layer_host(url: str, **options: Any) -> dict[str, Any]:
    """One entry of channels-redis' `hosts` (both layers build their pools from it)."""
    spec = parse(url)
    if spec is None:
        return {"address": url, **options}
    return {
        "sentinels": list(spec.sentinels),
        "master_name": spec.master,
        "sentinel_kwargs": spec.sentinel_kwargs(options),
        **spec.master_kwargs(),
        **options,
    }


# --- Celery's form -----------------------------------------------------------------------


def celery_url(url: str, **sentinel_options: Any) -> tuple[str, dict[str, Any]]:
    """(the URL Celery reads, transport options it needs) for a broker or result backend.
    `sentinel_options`: socket timeouts for the sentinels."""
    spec = parse(url)
    if spec is None:
        return url, {}
    userinfo = _userinfo(spec.username, spec.password)
    joined = ";".join(
        f"sentinel://{userinfo}{_host_port(host, port)}/{spec.db}" for host, port in spec.sentinels
    )
    return joined, {
        "master_name": spec.master,
        "sentinel_kwargs": spec.sentinel_kwargs(sentinel_options),
    }


def from_celery(url: str, transport_options: dict[str, Any]) -> str:
    """The portal's URL for a Celery broker URL and its transport options."""
    if not url.startswith("sentinel://"):
        return url
    chunks = [urlsplit(chunk) for chunk in url.split(";") if chunk]
    first = chunks[0]
    sentinel_kwargs = transport_options.get("sentinel_kwargs") or {}
    return SentinelSpec(
        sentinels=tuple(
            (chunk.hostname or "localhost", chunk.port or DEFAULT_SENTINEL_PORT) for chunk in chunks
        ),
        master=transport_options.get("master_name", ""),
        db=int(first.path.strip("/") or 0),
        username=unquote(first.username or ""),
        password=unquote(first.password or ""),
        sentinel_username=sentinel_kwargs.get("username", ""),
        sentinel_password=sentinel_kwargs.get("password", ""),
    ).url()


# --- the broker, as Redis --------------------------------------------------------------


def broker_url() -> str | None:
    """The Celery broker as a portal Redis URL, or None when it is not Redis."""
    from django.conf import settings

    url = from_celery(settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    return url if url.startswith(("redis://", "rediss://", "unix://", SENTINEL_SCHEME)) else None


@functools.lru_cache(maxsize=8)
def shared_client(url: str, socket_timeout: float = 1.0) -> redis.Redis:
    """One client per URL and process, for periodic readers (metrics scrapes)."""
    return client(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
