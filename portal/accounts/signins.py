"""Where an account is signed in, as its owner lists and ends it (GET and DELETE
/api/me/sessions): browser sessions (UserSession rows whose Django session still signs
this user in) and bearer tokens (neither revoked nor expired). Each goes by a public id,
"s<pk>" or "t<pk>", which names no secret; ending one closes its websockets (4401)."""

import re
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from portal.accounts import hooks
from portal.accounts.models import AuthToken, User, UserSession, hash_token
from portal.accounts.sessions import credentials_end_all, session_end_by_key, token_end
from portal.accounts.shapes import SignIn, SignInKind
from portal.errors import NotFound
from portal.shapes import iso

_PUBLIC_ID = re.compile(r"^([st])([1-9][0-9]{0,17})$")
# Session engines whose table (django_session) holds every live session.
_DATABASE_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)
NO_SUCH_SIGNIN = "No such session or token on this account."


@dataclass(frozen=True)
class Credentials:
    """What a request signed in with: a bearer token (its raw value), else a browser
    session (its key)."""

    session_key: str | None = None
    token: str | None = None

    @property
    def kept_session_key(self) -> str | None:
        # A request carrying a token is the token's, whatever cookie came with it.
        return None if self.token else self.session_key


def _session_signs_in(*, session_key: str, user: User) -> bool:
    """The Django session still exists, unexpired, signed in as `user` with the current
    password (a password changed elsewhere leaves it signed out)."""
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    return data.get(SESSION_KEY) == str(user.pk) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    )


def _valid_tokens(user: User):
    return AuthToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def signins_list(*, user: User, caller: Credentials) -> list[SignIn]:
    """The account's sign-ins, the caller's own first, then the most recently used."""
    current_hash = hash_token(caller.token) if caller.token else None
    items: list[SignIn] = [
        SignIn(
            id=f"s{row.pk}",
            kind="session",
            created_at=iso(row.created_at) or "",
            last_used_at=iso(row.last_used_at),
            current=row.session_key == caller.kept_session_key,
            user_agent=row.user_agent,
        )
        for row in UserSession.objects.filter(user=user)
        if _session_signs_in(session_key=row.session_key, user=user)
    ]
    items += [
        SignIn(
            id=f"t{token.pk}",
            kind="token",
            created_at=iso(token.created_at) or "",
            last_used_at=iso(token.last_used_at),
            current=token.key_hash == current_hash,
            user_agent=token.user_agent,
        )
        for token in _valid_tokens(user)
    ]
    items.sort(key=lambda item: item["last_used_at"] or item["created_at"], reverse=True)
    items.sort(key=lambda item: not item["current"])  # stable: the rest stay by last use
    return items


def signin_end(*, user: User, signin_id: str) -> SignInKind:
    """End one of the account's sign-ins by its public id; 404 for an id that is not the
    account's (or no longer valid)."""
    match = _PUBLIC_ID.match(signin_id)
    if match is None:
        raise NotFound(NO_SUCH_SIGNIN)
    kind, pk = match.group(1), int(match.group(2))
    if kind == "s":
        row = UserSession.objects.filter(pk=pk, user=user).first()
        if row is None:
            raise NotFound(NO_SUCH_SIGNIN)
        session_end_by_key(session_key=row.session_key)
        return "session"
    token = _valid_tokens(user).filter(pk=pk).first()
    if token is None:
        raise NotFound(NO_SUCH_SIGNIN)
    token_end(token)
    return "token"


def signin_is_current(*, signin_id: str, caller: Credentials) -> bool:
    """Whether the public id names the caller's own credentials."""
    match = _PUBLIC_ID.match(signin_id)
    if match is None:
        return False
    kind, pk = match.group(1), int(match.group(2))
    if kind == "s":
        key = caller.kept_session_key
        return key is not None and UserSession.objects.filter(pk=pk, session_key=key).exists()
    token = caller.token
    return bool(token and AuthToken.objects.filter(pk=pk, key_hash=hash_token(token)).exists())


def signins_end_others(*, user: User, caller: Credentials) -> int:
    """Sign out everywhere else: every session and token of the account but the caller's
    own. Returns how many of those listed (valid) were ended."""
    others = sum(not item["current"] for item in signins_list(user=user, caller=caller))
    credentials_end_all(
        user=user, keep_session_key=caller.kept_session_key, keep_token=caller.token
    )
    return others


def session_rekeyed(*, old_key: str, new_key: str) -> None:
    """The request's own session got a new key (a password change cycles it): its row
    follows, and the sockets opened under the old key close so that they reconnect
    under the new one (and close with it, should it be ended later)."""
    UserSession.objects.filter(session_key=old_key).update(session_key=new_key)
    hooks.credentials_revoked(kind="session", secret=old_key)


def user_sessions_prune() -> int:
    """Delete the rows of sessions that ended without a sign-out (expired, or cleared by
    `clearsessions`); they are never listed, only kept. Returns how many went. For the
    database-backed session engines, whose table is the truth; others keep their rows."""
    if settings.SESSION_ENGINE not in _DATABASE_ENGINES:
        return 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    deleted, _ = UserSession.objects.exclude(session_key__in=live).delete()
    return deleted
