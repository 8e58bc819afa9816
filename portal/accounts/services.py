"""Account writes: registration, token issue and revocation."""

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts.models import AuthToken, User, hash_token
from portal.errors import ApplicationError


def user_register(*, email: str, password: str, name: str) -> tuple[User, str]:
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            _, raw = AuthToken.objects.issue(user)
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
    """Revoke a token and close the websockets it opened."""
    from realtime.auth import credential_group
    from realtime.events import close_sockets

    revoked = bool(
        AuthToken.objects.filter(key_hash=hash_token(raw), revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
    if revoked:
        close_sockets(credential_group("token", raw))
    return revoked
