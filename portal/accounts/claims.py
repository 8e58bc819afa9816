"""A guest buyer claims their purchases through the link in their welcome email, which
proves they control the address (a signed token, GUEST_CLAIM_MAX_AGE_SECONDS):

- no account uses the address: they create one there (name, password), verified at
  once, and the purchases join it;
- an account uses it: they must be signed in to it (knowing its password) — then the
  link also verifies it, and the purchases join. Signed out, they are asked to sign in
  (or reset the password, which goes through the same mailbox).

The purchases join through hooks.email_verified (enrollment registers the join), the
same as when an account verifies its address."""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts import hooks
from portal.accounts.models import User
from portal.accounts.tokens import claim_token_email
from portal.accounts.verification import INVALID_LINK, password_problems
from portal.errors import ApplicationError, Conflict, Forbidden, NotAuthenticated


class AccountExists(Conflict):
    code = "account_exists"


@dataclass(frozen=True)
class ClaimState:
    email: str
    account: bool  # an account uses the address (the token holder controls it)


def claim_state(*, token: str) -> ClaimState:
    email = claim_token_email(token=token, max_age_seconds=settings.GUEST_CLAIM_MAX_AGE_SECONDS)
    if email is None:
        raise ApplicationError(INVALID_LINK, {"token": [INVALID_LINK]})
    return ClaimState(email, User.objects.filter(email__iexact=email).exists())


@transaction.atomic
def claim_with_new_account(*, token: str, name: str, password: str) -> User:
    state = claim_state(token=token)
    if state.account:
        raise AccountExists("An account uses this address: sign in to it to claim.")
    candidate = User(email=state.email, name=name)
    problems = password_problems(password=password, user=candidate)
    if problems:
        raise ApplicationError("Choose another password.", {"password": problems})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=state.email, password=password, name=name, email_verified_at=timezone.now()
            )
    except IntegrityError as exc:  # registered meanwhile
        raise AccountExists("An account uses this address: sign in to it to claim.") from exc
    hooks.email_verified(user_id=user.pk)
    return user


@transaction.atomic
def claim_signed_in(*, token: str, user: User | None) -> User:
    state = claim_state(token=token)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("Sign in to the account of this address to claim.")
    if user.email.lower() != state.email:
        raise Forbidden("This link is for another email address than your account's.")
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.email_verified:
        locked.email_verified_at = timezone.now()
        locked.save(update_fields=["email_verified_at"])
    hooks.email_verified(user_id=locked.pk)
    return locked
