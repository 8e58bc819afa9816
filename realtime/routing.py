from typing import Any

from django.urls import path

from realtime.consumers import PortalConsumer

# Channels routes Django's path() to an ASGI application (as its documentation does); the
# stubs know path() for HTTP views only, and URLRouter for a pattern class of their own.
websocket_urlpatterns: list[Any] = [path("ws/", PortalConsumer.as_asgi())]  # type: ignore[arg-type]
