"""Periodic upkeep of accounts: every sign-in adds a token row, so rows that can never
authenticate again (expired or revoked) are deleted hourly by beat."""

from celery import shared_task

from portal.accounts.services import auth_tokens_prune
from portal.jobs.base import PortalTask


@shared_task(base=PortalTask)
def prune_auth_tokens() -> int:
    return auth_tokens_prune()
