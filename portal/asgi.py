"""ASGI entry point: HTTP through Django, websockets through Channels."""

import functools
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Django must be set up before any consumer (and so any model) is imported.
django.setup(set_prefix=False)  # as get_asgi_application() does

from portal.admission import AdmittingASGIHandler  # noqa: E402

# Django's handler, admitting HTTP_CONCURRENCY requests at once (portal/admission.py).
django_asgi_app = AdmittingASGIHandler()

from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from portal.celery import app as celery_app  # noqa: E402
from portal.request_id import RequestIdAsgiMiddleware  # noqa: E402
from realtime.auth import BearerTokenAuthMiddleware  # noqa: E402
from realtime.handshake import SameOriginValidator, SocketLimitMiddleware  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.session import SocketAuthMiddlewareStack  # noqa: E402

# Build the channel layer now, not in the first websocket's connect: importing its backend
# (channels_redis, redis.asyncio, msgpack) takes about a second, on the event loop, which
# stalls every connection meanwhile; on a busy machine the first handshake then outlives
# daphne's 5-second handshake timeout and is reset.
get_channel_layer()
# Likewise register the background jobs now, in one thread, rather than when concurrent
# requests queue their first ones (portal.enqueue looks jobs up by name).
celery_app.loader.import_default_modules()
celery_app.finalize(auto=True)

if settings.RUN_SCHEDULE_IN_PROCESS:  # the embedded default: no broker, so no beat
    from portal.jobs.schedule import schedule_thread_start

    schedule_thread_start()


def leave_form_parsing_to_django() -> None:
    """daphne serves HTTP with Twisted, whose Request parses every multipart/form-data
    POST body itself before daphne hands the body on to Django, which parses it again:
    Twisted reads the whole body into memory (a lesson video: up to 200 MB, then copies)
    and answers forms its email-based parser rejects with a bare 400, outside Django and
    the API's error shape (twisted#4519, #9739; daphne#447). Twisted has a switch for it;
    daphne does not expose it, so its request class gets it here: Django alone parses
    bodies, with its upload handlers and limits."""
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest, "portal_leaves_forms_to_django", False):
        return
    original = WebRequest.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    WebRequest.__init__ = __init__
    WebRequest.portal_leaves_forms_to_django = True


leave_form_parsing_to_django()

from portal import send_now  # noqa: E402

# Under daphne, responses and frames leave on write rather than on the reactor's next turn.
if "daphne.server" in sys.modules:
    send_now.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # A request id for the connection's log lines first; the Origin checked (scheme,
        # host and port), then the sockets per address, then the session (browsers) or a
        # bearer token (clients).
        "websocket": RequestIdAsgiMiddleware(
            SameOriginValidator(
                SocketLimitMiddleware(
                    SocketAuthMiddlewareStack(
                        BearerTokenAuthMiddleware(URLRouter(websocket_urlpatterns))
                    )
                )
            )
        ),
    }
)
