"""Production settings: the base settings, hardened, refusing unsafe configuration.

Use with DJANGO_SETTINGS_MODULE=portal.settings_production. Secrets have no defaults:
the process stops at start-up when SECRET_KEY or ALLOWED_HOSTS is missing.
"""

import os

from django.core.exceptions import ImproperlyConfigured

if not os.environ.get("DEBUG", "").strip():  # unset or empty: production means off
    os.environ["DEBUG"] = "false"

from portal.env import env_bool, env_int, env_list, env_str
from portal.settings import *  # noqa: F403
from portal.settings import INSECURE_DEV_SECRET_KEY, REDIS_URL

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the portal's host names.")
# Several app servers must share one database, cache and channel layer (REDIS_URL here:
# set by REDIS_URL, or by REDIS_SENTINELS and REDIS_MASTER_NAME).
if not env_str("DATABASE_URL") or not REDIS_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL and REDIS_URL (or REDIS_SENTINELS) must be set in production."
    )
if env_bool("DEBUG"):
    raise ImproperlyConfigured("DEBUG must be off in production.")
DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come from the load balancer over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^readyz/dependencies$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", default=True)
