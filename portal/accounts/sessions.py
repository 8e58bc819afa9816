"""Where a user is signed in: browser sessions (Django's, mirrored as UserSession rows
so their owner can list them) and bearer tokens; ending them closes their websockets
(portal.accounts.hooks)."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts import hooks
from portal.accounts.models import AuthToken, User, UserSession, hash_token


def _agent(request: HttpRequest | None) -> str:
    return (request.headers.get("User-Agent", "") if request is not None else "")[:200]


@receiver(user_logged_in)
def _session_started(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "user_agent": _agent(request), "last_used_at": timezone.now()},
    )


@receiver(user_logged_out)
def _session_ended(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def session_end_by_key(*, session_key: str) -> None:
    """End one browser session wherever it is: its Django session deleted (the cookie
    no longer signs in), its row gone, its websockets closed."""
    import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()
    UserSession.objects.filter(session_key=session_key).delete()
    hooks.credentials_revoked(kind="session", secret=session_key)


def credentials_end_all(
    *, user: User, keep_session_key: str | None = None, keep_token: str | None = None
) -> int:
    """End every browser session and bearer token of `user` but the ones kept (the
    request's own, after a password change); their websockets close with 4401. Returns
    how many ended."""
    ended = 0
    keys = UserSession.objects.filter(user=user).values_list("session_key", flat=True)
    for key in list(keys):
        if key != keep_session_key:
            session_end_by_key(session_key=key)
            ended += 1
    tokens = AuthToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token:
        tokens = tokens.exclude(key_hash=hash_token(keep_token))
    return ended + sum(token_end(token) for token in list(tokens))


def token_end(token: AuthToken) -> bool:
    """Revoke one bearer token by its row (the raw value is never kept); its websockets
    close. False when it was revoked already (by a concurrent request)."""
    ended = bool(
        AuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
    if ended:
        hooks.credentials_revoked(kind="token_hash", secret=token.key_hash)
    return ended
