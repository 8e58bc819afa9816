"""A strict Content-Security-Policy on the portal's HTML pages.

The pages load only their own ES modules and stylesheet: no inline script, no inline
style, no inline event handler. Stripe's origins are allowed only when a publishable key
is configured (Stripe Elements is then loaded from https://js.stripe.com).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from catalog.media.storage import media_origins

STRIPE_SCRIPT = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAME = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)


def _socket_origin(request: HttpRequest) -> str:
    """The page's own host for websockets. CSP Level 3 lets 'self' match ws/wss on the same
    host (Chromium does), older engines need it spelled out."""
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}"


def content_security_policy(request: HttpRequest, *, framed_by_self: bool = False) -> str:
    """`framed_by_self`: a page the portal's own pages show in a frame (the test
    gateway's 3-D Secure challenge); every other page may not be framed at all."""
    stripe = bool(settings.STRIPE_PUBLISHABLE_KEY)
    # The test gateway's challenge page opens in a frame of the course page.
    frames = [
        *(["'self'"] if settings.PAYMENT_GATEWAY == "test" else []),
        *(STRIPE_FRAME if stripe else ()),
    ]
    script = ["'self'", *(STRIPE_SCRIPT if stripe else ())]
    # The lesson page fetches captions (WebVTT) for its transcript from where media live.
    connect = [
        "'self'",
        _socket_origin(request),
        *media_origins(),
        *(STRIPE_CONNECT if stripe else ()),
    ]
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "connect-src": connect,
        "img-src": ["'self'", "data:"],
        # Lesson videos and captions: the portal's own signed links, or presigned S3 ones.
        "media-src": ["'self'", *media_origins()],
        "style-src": ["'self'"],
        # The service worker (/sw.js) and the web app manifest come from the site itself.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-src": frames or ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'" if framed_by_self else "'none'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to HTML answers, except under CSP_EXEMPT_PATHS (the admin brings its
    own inline code; the API docs UI is served without any, under this policy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if not content_type.startswith("text/html") or "Content-Security-Policy" in response:
            return response
        if request.path.startswith(tuple(getattr(settings, "CSP_EXEMPT_PATHS", ()))):
            return response
        response["Content-Security-Policy"] = content_security_policy(request)
        return response
