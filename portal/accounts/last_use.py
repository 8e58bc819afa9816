"""When each sign-in was last used, for its owner's list (GET /api/me/sessions).

Recorded at most once a minute per bearer token and per browser session: a conditional
UPDATE (`last_used_at` unset or older than a minute) that a busy client meets once a
minute. A token's row is read anyway to authenticate, so its age is known before any
write; a session's row is not, so a cache key per session keeps the other requests of
the minute off the database (without the cache, the UPDATE's condition still bounds the
writes).
"""

import hashlib
from collections.abc import Mapping
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from portal.accounts.models import AuthToken, User, UserSession

# As portal.ratelimit.CACHE_ERRORS; not imported from there: this module is loaded with
# DRF's settings (authentication), before portal.errors, which ratelimit needs.
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

LAST_USE_RESOLUTION = timedelta(seconds=60)
USER_AGENT_MAX = 200


def user_agent_of(headers: Mapping[str, str]) -> str:
    return (headers.get("User-Agent") or "")[:USER_AGENT_MAX]


def token_use_record(*, token: AuthToken, user_agent: str) -> None:
    """Note a request authenticated by `token` (its row as just read)."""
    now = timezone.now()
    cutoff = now - LAST_USE_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= cutoff:
        return
    changes: dict[str, object] = {"last_used_at": now}
    if token.last_used_at is None:
        changes["user_agent"] = user_agent  # what first used it: the token's client
    AuthToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff), pk=token.pk
    ).update(**changes)


def _recently_noted(session_key: str) -> bool:
    digest = hashlib.sha256(session_key.encode()).hexdigest()[:40]
    try:
        added = cache.add(
            f"accounts:session-used:{digest}", 1, timeout=int(LAST_USE_RESOLUTION.total_seconds())
        )
    except CACHE_ERRORS:
        return False
    return not added


def session_use_record(*, session_key: str, user: User, user_agent: str) -> None:
    """Note a request signed in by this browser session. A session signed in before
    sessions had rows (or by a path that sent no sign-in signal) gets its row now."""
    if _recently_noted(session_key):
        return
    now = timezone.now()
    moved = UserSession.objects.filter(
        session_key=session_key, last_used_at__lt=now - LAST_USE_RESOLUTION
    ).update(last_used_at=now)
    if not moved:
        UserSession.objects.get_or_create(
            session_key=session_key,
            defaults={"user": user, "user_agent": user_agent, "last_used_at": now},
        )
