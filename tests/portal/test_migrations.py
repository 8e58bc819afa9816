"""The models and the migrations agree: a model change without its migration fails here."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_its_migration(capsys):
    try:
        call_command("makemigrations", "--check", "--dry-run")
    except SystemExit:  # --check exits 1 when a migration is missing
        pytest.fail("a model change has no migration:\n" + capsys.readouterr().out, pytrace=False)
    assert "No changes detected" in capsys.readouterr().out
