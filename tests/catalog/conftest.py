import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # These tests create many users; hashing strength is not what they are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
