# The portal's application image: daphne (HTTP + websockets) by default; the same image
# runs the Celery worker and beat with another command (see docker-compose.yml).
#
#   docker build -t learning-portal .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e ALLOWED_HOSTS=... \
#     -e DATABASE_URL=... -e REDIS_URL=... -e CELERY_BROKER_URL=... learning-portal
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# uv reads uv.lock; the version the lock file was written with is known to read it.
ARG UV_VERSION=0.13.9
RUN pip install "uv==${UV_VERSION}"

# DejaVu's TrueType fonts: certificate PDFs print names in any script with them
# (settings.CERTIFICATE_FONT_DIR); without them the PDFs fall back to Latin-1 core fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so code changes don't reinstall them. The environment lives in
# /opt/venv, outside the project, so no local .venv can shadow it.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev

# The project's code only (not .venv, var/, .env, .git, tests or load tests).
COPY manage.py ./
COPY portal ./portal
COPY catalog ./catalog
COPY enrollment ./enrollment
COPY realtime ./realtime
COPY frontend ./frontend
COPY instructor ./instructor

# Static files are collected into the image (hashed names, gzip and Brotli copies:
# portal/staticfiles.py); WhiteNoise serves them from there. The production settings
# refuse to load without SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL, so this
# one step gets throw-away values that exist only for this RUN line (nothing connects).
ENV STATIC_ROOT=/app/staticfiles
RUN SECRET_KEY=build-only-dummy-key-used-for-collectstatic-never-at-run-time \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgresql://build.invalid/portal \
    REDIS_URL=redis://build.invalid:6379/0 \
    DJANGO_SETTINGS_MODULE=portal.settings_production \
    python manage.py collectstatic --no-input -v 0

# Run as an unprivileged user; only var/ (SQLite fallback, beat schedule, lesson media on
# the local backend: a volume in compose) is writable.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin portal \
    && mkdir -p /app/var/media \
    && chown -R portal:portal /app/var
USER portal

ENV DJANGO_SETTINGS_MODULE=portal.settings_production
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "portal.asgi:application"]
