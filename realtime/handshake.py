"""Checks on a websocket handshake before anything else runs (see portal/asgi.py):

- `SameOriginValidator`: the `Origin` must be this socket's own origin (scheme, host and
  port, as the browser sees them through the proxy) on an allowed host, or one of
  CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compared the host alone, so
  `http://127.0.0.1:9999` or `https://…` passed for a page served on another port or scheme.
- `SocketLimitMiddleware`: at most WS_MAX_SOCKETS_PER_ADDRESS open sockets per client
  address; the next one is accepted and closed at once with code 4430. The count is shared
  by every app process through Redis (one sorted set per address, each socket a member
  whose lease its connection renews, so sockets of a crashed process drop out within a
  lease); without Redis each process counts its own.
"""

import asyncio
import hashlib
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import redis
import structlog
from asgiref.sync import sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from portal import redis_config
from portal.ratelimit import client_address

log = structlog.get_logger(__name__)

CLOSE_TOO_MANY_SOCKETS = 4430
DEFAULT_PORTS = {"http": 80, "https": 443}
LEASE_SECONDS = 120  # a socket's entry in the shared count; renewed every third of it

Scope = dict[str, Any]


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _origin_parts(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin such as `https://portal.example:8443`."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def own_origin(scope: Scope) -> tuple[str, str, int] | None:
    """This socket's origin as the browser sees it, read as Django reads a request's: the
    scheme from the connection or the trusted proxy header (SECURE_PROXY_SSL_HEADER), the
    host and port from Host (or X-Forwarded-Host with USE_X_FORWARDED_HOST), on an
    ALLOWED_HOSTS name."""
    headers = _headers(scope)
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = headers.get(meta_name.removeprefix("HTTP_").lower().replace("_", "-"))
        if forwarded is not None:
            scheme = "https" if forwarded.split(",")[0].strip() == secure_value else "http"
    host = headers.get("host", "")
    if settings.USE_X_FORWARDED_HOST and headers.get("x-forwarded-host"):
        host = headers["x-forwarded-host"].split(",")[0].strip()
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    try:
        return scheme, domain, int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        return None


def _trusted(origin: tuple[str, str, int]) -> bool:
    """CSRF_TRUSTED_ORIGINS, with Django's meaning: exact scheme and port, `*.` subdomains."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = _origin_parts(entry.replace("://*.", "://", 1))
        if trusted is None or (trusted[0], trusted[2]) != (scheme, port):
            continue
        if host == trusted[1] or (wildcard and host.endswith("." + trusted[1])):
            return True
    return False


def origin_allowed(scope: Scope) -> bool:
    raw = _headers(scope).get("origin")
    origin = _origin_parts(raw) if raw else None
    if origin is None:  # none, "null", or not http(s)
        return False
    return origin == own_origin(scope) or _trusted(origin)


class SameOriginValidator:
    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            # A plain dict here; the stubs type a consumer's scope as a TypedDict.
            return await WebsocketDenier()(scope, receive, send)  # type: ignore[arg-type]
        return await self.application(scope, receive, send)


# --- open sockets per client address ---------------------------------------------------------


class LocalSocketCount:
    """One process's own sockets (the embedded default, without Redis)."""

    lease = 0

    def __init__(self) -> None:
        self.open: dict[str, set[str]] = {}

    async def enter(self, address: str, socket_id: str) -> int:
        members = self.open.setdefault(address, set())
        members.add(socket_id)
        return len(members)

    async def renew(self, address: str, socket_id: str) -> None:
        pass

    async def leave(self, address: str, socket_id: str) -> None:
        members = self.open.get(address)
        if members is not None:
            members.discard(socket_id)
            if not members:
                del self.open[address]


class RedisSocketCount:
    """Every process's sockets: a sorted set per address of socket ids scored by the end
    of their lease. Entering trims expired members, adds this one and counts, in one
    MULTI, so concurrent handshakes are counted one after the other."""

    lease = LEASE_SECONDS

    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis_config.client(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def key(self, address: str) -> str:
        return f"{self.prefix}:ws:sockets:{hashlib.sha256(address.encode()).hexdigest()[:24]}"

    def _enter(self, address: str, socket_id: str) -> int:
        key, now = self.key(address), time.time()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {socket_id: now + self.lease})
            pipe.expire(key, self.lease + 1)
            pipe.zcard(key)
            return int(pipe.execute()[-1])

    def _renew(self, address: str, socket_id: str) -> None:
        key = self.key(address)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {socket_id: time.time() + self.lease}, xx=True)
            pipe.expire(key, self.lease + 1)
            pipe.execute()

    def _leave(self, address: str, socket_id: str) -> None:
        self.client.zrem(self.key(address), socket_id)

    async def enter(self, address: str, socket_id: str) -> int:
        return await sync_to_async(self._enter, thread_sensitive=False)(address, socket_id)

    async def renew(self, address: str, socket_id: str) -> None:
        await sync_to_async(self._renew, thread_sensitive=False)(address, socket_id)

    async def leave(self, address: str, socket_id: str) -> None:
        await sync_to_async(self._leave, thread_sensitive=False)(address, socket_id)


def socket_count() -> LocalSocketCount | RedisSocketCount:
    if settings.REDIS_URL:
        return RedisSocketCount(
            settings.REDIS_URL, settings.CACHES["default"].get("KEY_PREFIX", "")
        )
    return LocalSocketCount()


async def _refuse(receive, send, code: int) -> None:
    """Accept, then close with `code`: a refused handshake would tell the client nothing."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})


class SocketLimitMiddleware:
    def __init__(self, application) -> None:
        self.application = application
        self.count = socket_count()

    async def __call__(self, scope: Scope, receive, send):
        limit = settings.WS_MAX_SOCKETS_PER_ADDRESS
        if scope["type"] != "websocket" or limit <= 0:
            return await self.application(scope, receive, send)
        headers = _headers(scope)
        peer = (scope.get("client") or [None])[0]
        address = client_address(peer, headers.get("x-forwarded-for"))
        socket_id = uuid.uuid4().hex
        try:
            open_sockets = await self.count.enter(address, socket_id)
        except redis.RedisError:
            # The limit protects capacity; it is not worth refusing every socket over.
            log.warning("ws.socket_count_unavailable", exc_info=True)
            return await self.application(scope, receive, send)
        if open_sockets > limit:
            await self._leave(address, socket_id)
            log.warning("ws.too_many_sockets", address=address, limit=limit)
            return await _refuse(receive, send, CLOSE_TOO_MANY_SOCKETS)
        renewing = (
            asyncio.create_task(self._renew(address, socket_id)) if self.count.lease else None
        )
        try:
            return await self.application(scope, receive, send)
        finally:
            if renewing is not None:
                renewing.cancel()
            await self._leave(address, socket_id)

    async def _renew(self, address: str, socket_id: str) -> None:
        while True:
            await asyncio.sleep(self.count.lease / 3)
            try:
                await self.count.renew(address, socket_id)
            except redis.RedisError:
                log.warning("ws.socket_count_unavailable", exc_info=True)

    async def _leave(self, address: str, socket_id: str) -> None:
        try:
            await self.count.leave(address, socket_id)
        except redis.RedisError:  # its lease ends it
            log.warning("ws.socket_count_unavailable", exc_info=True)
