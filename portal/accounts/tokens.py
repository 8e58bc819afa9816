"""Signed, expiring, single-use tokens for the links the portal emails (verify an email,
reset a password, claim a guest purchase). Nothing is stored: a token carries the user's
id and a digest of the account state it is meant to change (the password hash, the
emails, the verification time), so using it once changes that state and the same token
no longer checks out."""

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from portal.accounts.models import User

PURPOSES = ("verify", "reset")


def _state(user: User, purpose: str) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else ""
    material = f"{user.pk}|{user.password}|{user.email}|{user.pending_email}|{verified}"
    return salted_hmac(f"accounts.{purpose}", material).hexdigest()[:24]


def account_token_make(*, user: User, purpose: str) -> str:
    assert purpose in PURPOSES, purpose
    return signing.dumps({"u": user.pk, "s": _state(user, purpose)}, salt=f"accounts.{purpose}")


def account_token_user(*, token: str, purpose: str, max_age_seconds: int) -> User | None:
    """The user the token was made for, if it is genuine, unexpired and unused."""
    try:
        data = signing.loads(token, salt=f"accounts.{purpose}", max_age=max_age_seconds)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None or not constant_time_compare(str(data.get("s")), _state(user, purpose)):
        return None
    return user


def claim_token_make(*, email: str) -> str:
    """For a guest buyer's mailbox: proves control of `email` when followed."""
    return signing.dumps({"e": email.lower()}, salt="accounts.claim")


def claim_token_email(*, token: str, max_age_seconds: int) -> str | None:
    try:
        data = signing.loads(token, salt="accounts.claim", max_age=max_age_seconds)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    email = data.get("e") if isinstance(data, dict) else None
    return email if isinstance(email, str) and email else None
