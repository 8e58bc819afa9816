"""Websocket handshake authentication: `Authorization: Bearer <token>` for API clients,
the session cookie for browsers (Channels' AuthMiddlewareStack, outside this one).
Tokens in URLs are not accepted: they end up in logs."""

import hashlib

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier

from portal.accounts.authentication import user_for_token
from portal.accounts.hooks import CredentialKind
from realtime.events import close_sockets


def credential_group(kind: str, secret: str) -> str:
    """A channel-layer group per token or session, to close its sockets when it ends."""
    return f"auth.{kind}.{hashlib.sha256(secret.encode()).hexdigest()[:40]}"


def credential_sockets_close(*, kind: CredentialKind, secret: str) -> None:
    """Close the sockets opened with a revoked token or an ended session (registered as
    an accounts revocation hook by RealtimeConfig.ready). A token revoked by its stored
    hash (`token_hash`: the raw value is never kept) names the same group."""
    if kind == "token_hash":
        close_sockets(f"auth.token.{secret[:40]}")
        return
    close_sockets(credential_group(kind, secret))


def _bearer(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


class BearerTokenAuthMiddleware(BaseMiddleware):
    """A bearer token, when sent, decides the user; a bad one refuses the handshake."""

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        groups: list[str] = []
        token = _bearer(scope)
        if token is not None:
            user = await database_sync_to_async(user_for_token)(token)
            if user is None:
                return await WebsocketDenier()(scope, receive, send)
            scope["user"] = user
            scope["bearer_token"] = token
            groups.append(credential_group("token", token))
        elif scope.get("session") is not None and scope["session"].session_key:
            groups.append(credential_group("session", scope["session"].session_key))
        scope["credential_groups"] = groups
        return await super().__call__(scope, receive, send)
