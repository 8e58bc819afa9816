"""Account writes: registration, token issue and revocation, signing out."""

from django.contrib.auth import authenticate, logout
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts import hooks, verification
from portal.accounts.models import AuthToken, User, hash_token
from portal.accounts.sessions import token_end
from portal.errors import ApplicationError


def user_register(*, email: str, password: str, name: str) -> tuple[User, str]:
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            _, raw = AuthToken.objects.issue(user)
            verification.email_verification_owed(user=user)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise ApplicationError(
            "Invalid input: email.", {"email": ["A user with this email already exists."]}
        ) from exc
    return user, raw


def credentials_check(*, request: HttpRequest | None, email: str, password: str) -> User | None:
    """The active user these credentials belong to, or None."""
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        return None
    return user


def token_revoke(*, raw: str) -> bool:
    """Revoke a token; the websockets it opened close (through the revocation hooks)."""
    token = AuthToken.objects.filter(key_hash=hash_token(raw)).first()
    return token is not None and token_end(token)


def auth_tokens_prune() -> int:
    """Delete the tokens that can never authenticate again: expired or revoked."""
    now = timezone.now()
    deleted, _ = AuthToken.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__lte=now)).delete()
    return deleted


def session_end(*, request: HttpRequest) -> None:
    """Sign a browser out; the websockets its session opened close (revocation hooks)."""
    session_key = request.session.session_key
    logout(request)
    if session_key:
        hooks.credentials_revoked(kind="session", secret=session_key)
