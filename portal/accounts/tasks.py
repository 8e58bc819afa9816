"""Accounts' jobs: the emails carrying verification and reset links (the `emails`
queue), and the hourly upkeep of tokens that can never authenticate again."""

from celery import shared_task

from portal.accounts.services import auth_tokens_prune
from portal.accounts.signins import user_sessions_prune
from portal.accounts.verification import password_reset_email_send, verification_email_send
from portal.jobs.base import PortalTask


@shared_task(base=PortalTask)
def prune_auth_tokens() -> int:
    return auth_tokens_prune()


@shared_task(base=PortalTask)
def send_verification_email(user_id: int) -> str:
    return verification_email_send(user_id=user_id)


@shared_task(base=PortalTask)
def send_password_reset(email: str) -> str:
    return password_reset_email_send(email=email)


@shared_task(base=PortalTask)
def prune_user_sessions() -> int:
    return user_sessions_prune()
