# The portal's application image: daphne (HTTP + websockets) by default; the same image
# runs the Celery worker and beat with another command (see docker-compose.yml).
#
#   docker build -t learning-portal .
#   docker build --build-arg PYTHON_VERSION=3.13 -t learning-portal:py3.13 .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e ALLOWED_HOSTS=... \
#     -e DATABASE_URL=... -e REDIS_URL=... -e CELERY_BROKER_URL=... learning-portal
#
# Two stages: the builder installs the locked dependencies into /opt/venv (with uv) and
# collects the static files; the final image copies the environment and the code and
# runs as an unprivileged user, without uv, pip's cache or build leftovers.
# scripts/build_check.py runs the builder's steps outside Docker (scripts/test runs it).

# 3.11, 3.12 or 3.13 (pyproject.toml's requires-python); the suite runs on 3.11.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS builder

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

WORKDIR /app

# Dependencies first, so code changes don't reinstall them. --locked: the build fails if
# uv.lock no longer matches pyproject.toml, rather than installing a stale set.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev

# The project's code only; .dockerignore keeps the rest (and every secret) out of the
# build context.
COPY manage.py ./
COPY portal ./portal
COPY catalog ./catalog
COPY enrollment ./enrollment
COPY realtime ./realtime
COPY frontend ./frontend
COPY instructor ./instructor
COPY scripts/collect_static scripts/http_probe.py ./scripts/

# Static files are collected into the image (hashed names, gzip and Brotli copies:
# portal/staticfiles.py); WhiteNoise serves them from there. scripts/collect_static
# gives the production settings the throw-away values they demand at load time.
ENV STATIC_ROOT=/app/staticfiles
RUN scripts/collect_static \
    && python -m compileall -q manage.py portal catalog enrollment realtime frontend instructor

FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    STATIC_ROOT=/app/staticfiles \
    DJANGO_SETTINGS_MODULE=portal.settings_production

# DejaVu's TrueType fonts: certificate PDFs print names in any script with them
# (settings.CERTIFICATE_FONT_DIR); without them the PDFs fall back to Latin-1 core fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin portal

WORKDIR /app
# The environment at the same path, over the same base image: its interpreter links hold.
COPY --from=builder /opt/venv /opt/venv
# Code and collected static files, owned by root: read-only to the portal user.
COPY --from=builder /app /app

# Only var/ (SQLite fallback, beat schedule, lesson media on the local backend and the
# search key file: volumes in compose, which take these folders' owner) is writable.
RUN mkdir -p /app/var/media /app/var/search && chown -R portal:portal /app/var
USER portal

EXPOSE 8000
# Liveness of the app server (the default command). Compose gives the worker and beat,
# which serve no HTTP, checks of their own.
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "scripts/http_probe.py", "/healthz"]
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "portal.asgi:application"]
