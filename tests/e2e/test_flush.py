"""The suite's flush (tests/conftest.py) keeps the reference rows in the browser tests too:
their flushes run in Playwright's context, where Django holds a connection of its own."""

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def model_labels() -> set[tuple[str, str]]:
    return {(model._meta.app_label, model._meta.model_name) for model in apps.get_models()}


def test_a_flush_while_the_browser_runs_keeps_the_content_types(new_page):
    page = new_page()
    page.goto("/")  # the browser, its event loop and the server are all up
    call_command("flush", interactive=False, verbosity=0)

    kept = set(ContentType.objects.values_list("app_label", "model"))
    assert model_labels() <= kept
