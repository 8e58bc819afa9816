"""Expired and revoked bearer tokens are pruned by a beat job (each sign-in adds a row)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from portal.accounts.models import AuthToken
from portal.celery import app
from tests.factories import make_user

pytestmark = pytest.mark.django_db
TASK = "portal.accounts.tasks.prune_auth_tokens"


def test_beat_prunes_tokens_hourly():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == TASK]
    assert [entry["schedule"] for entry in entries] == [3600.0]
    app.loader.import_default_modules()
    assert TASK in app.tasks


def test_expired_and_revoked_tokens_are_deleted_and_live_ones_kept(api):
    user = make_user()
    now = timezone.now()
    live, live_raw = AuthToken.objects.issue(user)
    expired, _ = AuthToken.objects.issue(user)
    revoked, _ = AuthToken.objects.issue(user)
    AuthToken.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    AuthToken.objects.filter(pk=revoked.pk).update(revoked_at=now - timedelta(minutes=5))

    result = app.tasks[TASK].apply()

    assert result.successful(), result.traceback
    assert result.result == 2
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live.pk]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {live_raw}")
    assert api.get("/api/me").status_code == 200
    # A second run finds nothing left to do.
    assert app.tasks[TASK].apply().result == 0
