"""Settings for the test suite: the base settings (so the same environment variables pick
the same servers) made fast and quiet. pyproject.toml selects this module for pytest, and
the server processes the tests start (daphne, a Celery worker) inherit it, so a user the
test process creates can sign in through them.

Rate limits are off here; a test about them asks for them (the `rate_limits` fixture in
tests/conftest.py restores RATE_LIMITS_ENFORCED, the limits the base settings read).
"""

from django.conf import global_settings

from portal.env import env_bool, env_float, env_str
from portal.settings import *  # noqa: F403
from portal.settings import RATE_LIMITS, VAR_DIR

# Hashing a password once per made-up user with 1,000,000 PBKDF2 iterations would dominate
# the run. MD5 comes first, for new hashes; the production hashers stay listed after it, so
# hashes made with them still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *global_settings.PASSWORD_HASHERS,
]

# Mail stays in memory (django.core.mail.outbox) unless a test's server process is given a
# backend of its own (the real-worker test sends over SMTP).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# The browser tests' server writes its mail here (the file backend), for the test to read
# the links a person would follow.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", "")

# No scope is limited: rate_limit() lets every request through when its scope has no entry.
RATE_LIMITS_ENFORCED = dict(RATE_LIMITS)
RATE_LIMITS = {}

# Lesson files the tests store (and the servers they start serve) go to a folder of their
# own, not the development media.
MEDIA_ROOT = VAR_DIR / "test-media"
if not AWS_STORAGE_BUCKET_NAME:  # noqa: F405
    STORAGES = {
        **STORAGES,  # noqa: F405
        "default": {
            "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT},
        },
    }

# The servers the tests start (tests/live.py sets PORTAL_TEST_SERVER) serve files that do
# not change while they run: WhiteNoise indexes them once (no lookups through the finders
# on every request) and browsers keep them for the test's pages (a navigation does not
# fetch every ES module again). Not in the test process itself: each test client loads
# the middleware anew, and indexing every file each time would cost more than it saves.
if env_bool("PORTAL_TEST_SERVER", False):
    WHITENOISE_AUTOREFRESH = False
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_MAX_AGE = 3600

# A commit need not wait for the WAL to reach the disk: a crash loses the last test
# rows, never their consistency, and commits no longer wait on the disk (the suite commits
# thousands of times: flushes, transactional tests, the servers' requests).
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405

# A loaded test machine may take longer than the production default to answer the
# readiness probes; a test about a slow dependency sets its own bound.
READYZ_PROBE_SECONDS = env_float("READYZ_PROBE_SECONDS", 10.0)
