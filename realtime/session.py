"""The browser's session on a websocket, read once at the handshake.

Channels' SessionMiddleware also wraps `send` to save a modified session and set its
cookie on `http.response.start`, which a websocket never sends: on a socket the wrapper
only costs, on every frame (a lazy-object lookup, `is_empty()`, a settings read: about
5 % of a fan-out in py-spy). This middleware puts the same session in the scope and
leaves `send` alone. Nothing on a socket writes the session: sign-in and sign-out happen
over HTTP, and ending a session closes its sockets (realtime.auth).
"""

from importlib import import_module

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware
from django.conf import settings


class SocketSessionMiddleware:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        if "cookies" not in scope:
            raise ValueError("SocketSessionMiddleware runs inside CookieMiddleware")
        scope = dict(scope)
        scope["session"] = self.store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner(scope, receive, send)


def SocketAuthMiddlewareStack(inner):
    """Channels' AuthMiddlewareStack with the session read as above."""
    return CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(inner)))
