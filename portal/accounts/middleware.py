"""Right after Django's AuthenticationMiddleware: a browser request signed in by its
session records that session's last use (portal.accounts.last_use)."""

from collections.abc import Callable

import structlog
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from portal.accounts.last_use import session_use_record, user_agent_of

log = structlog.get_logger(__name__)


class SessionLastUseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Before the view, not after: a view that ends this very session (sign out, an
        # erased account) must not see its row made again on the way out.
        session = getattr(request, "session", None)
        session_key = session.session_key if session is not None else None
        # No cookie, no lookup: requests without a session never load the user here.
        if session_key and request.user.is_authenticated:
            try:
                session_use_record(
                    session_key=session_key,
                    user=request.user,
                    user_agent=user_agent_of(request.headers),
                )
            except DatabaseError:  # bookkeeping: never the reason a request fails
                log.warning("accounts.session_last_use_failed", exc_info=True)
        return self.get_response(request)
