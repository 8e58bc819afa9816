"""Email verification, password reset and the emails carrying their links.

- Registration and an email change owe a verification email (`send_verification_email`,
  on the `emails` queue): a link to `/verify-email?token=…` (72 h, single use). Following
  it marks the address verified (an email change takes effect only then) and, in the same
  transaction, joins the guest purchases made with that address (hooks.email_verified).
- A password reset request answers the same whatever the email (202); the job looks the
  account up, so the request path does the same work for a known and an unknown address.
  The link (`/reset-password?token=…`, PASSWORD_RESET_TIMEOUT, single use) sets a new
  password through the validators, ends every session and token of the account (their
  sockets close) and, as it proves the mailbox, verifies the address.
"""

import structlog
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts import hooks
from portal.accounts.models import User
from portal.accounts.sessions import credentials_end_all
from portal.accounts.tokens import account_token_make, account_token_user
from portal.enqueue import job_enqueue_on_commit
from portal.errors import ApplicationError, Conflict
from portal.mail import templated_mail_send

log = structlog.get_logger(__name__)
INVALID_LINK = "This link is invalid, used or expired. Ask for a new one."


class EmailUnverified(ApplicationError):
    """What needs a verified address (buying a course) says so."""

    status_code = 403
    code = "email_unverified"


class EmailTaken(Conflict):
    code = "email_taken"


def email_verification_owed(*, user: User) -> None:
    job_enqueue_on_commit("portal.accounts.tasks.send_verification_email", user.pk)


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    templated_mail_send(
        to=[to], subject=subject, template=f"accounts/email/{template}", context=context
    )


def verification_email_send(*, user_id: int) -> str:
    """The link to the address waiting for verification (a new one, else the account's)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "skipped"
    to = user.pending_email or user.email
    if not user.pending_email and user.email_verified:
        return "already_verified"
    token = account_token_make(user=user, purpose="verify")
    _send(
        to=to,
        subject="Confirm your email address",
        template="verify_email",
        context={
            "user": user,
            "email": to,
            "url": f"{settings.SITE_URL}/verify-email?token={token}",
        },
    )
    log.info("email.verification_sent", user=user.pk)
    return "sent"


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Follow a verification link: the address it was sent to becomes the account's,
    verified; guest purchases made with it join the account."""
    user = account_token_user(
        token=token, purpose="verify", max_age_seconds=settings.EMAIL_VERIFICATION_MAX_AGE_SECONDS
    )
    if user is None:
        raise ApplicationError(INVALID_LINK, {"token": [INVALID_LINK]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pending_email:
        if User.objects.filter(email__iexact=user.pending_email).exclude(pk=user.pk).exists():
            raise EmailTaken("Another account uses that email address now.")
        user.email = user.pending_email.lower()
        user.pending_email = ""
    user.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified_at"])
    except IntegrityError as exc:
        raise EmailTaken("Another account uses that email address now.") from exc
    hooks.email_verified(user_id=user.pk)
    log.info("account.email_verified", user=user.pk)
    return user


def password_reset_request(*, email: str) -> None:
    """Always the same work and answer: the job finds out whether the account exists."""
    job_enqueue_on_commit("portal.accounts.tasks.send_password_reset", email.strip().lower())


def password_reset_email_send(*, email: str) -> str:
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        return "no_account"
    token = account_token_make(user=user, purpose="reset")
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    _send(
        to=user.email,
        subject="Reset your password",
        template="password_reset",
        context={
            "user": user,
            "minutes": minutes,
            "url": f"{settings.SITE_URL}/reset-password?token={token}",
        },
    )
    log.info("email.password_reset_sent", user=user.pk)
    return "sent"


def password_problems(*, password: str, user: User) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    user = account_token_user(
        token=token, purpose="reset", max_age_seconds=settings.PASSWORD_RESET_TIMEOUT
    )
    if user is None:
        raise ApplicationError(INVALID_LINK, {"token": [INVALID_LINK]})
    problems = password_problems(password=password, user=user)
    if problems:
        raise ApplicationError("Choose another password.", {"password": problems})
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    fields = ["password"]
    if not user.email_verified:  # the link came through the mailbox
        user.email_verified_at = timezone.now()
        fields.append("email_verified_at")
    user.save(update_fields=fields)
    if "email_verified_at" in fields:
        hooks.email_verified(user_id=user.pk)
    ended = credentials_end_all(user=user)
    log.info("account.password_reset", user=user.pk, ended=ended)
    return user
