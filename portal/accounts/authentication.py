"""`Authorization: Bearer <token>` for API clients (and websocket handshakes)."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.accounts.last_use import token_use_record, user_agent_of
from portal.accounts.models import AuthToken, User, hash_token


def token_valid_get(raw: str) -> AuthToken | None:
    """The token with this raw value if it still authenticates (not revoked, not expired,
    its user active), with its user."""
    token = (
        AuthToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token


def user_for_token(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None."""
    token = token_valid_get(raw)
    return token.user if token is not None else None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request) -> tuple[User, str] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed bearer token header.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Malformed bearer token header.") from exc
        token = token_valid_get(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        token_use_record(token=token, user_agent=user_agent_of(request.headers))
        return token.user, raw

    def authenticate_header(self, request) -> str:
        return self.keyword
