"""Where lesson files live, and the time-limited links to them.

STORAGES["default"] is one of two backends (portal/settings.py):

- `PrivateFileSystemStorage` (the embedded default): files under MEDIA_ROOT (var/media),
  which no static route or WhiteNoise serves. Its `url()` returns a link signed by the
  portal (catalog.media.grants) to `catalog.media.views.media_file`.
- django-storages' `S3Storage` (with AWS_STORAGE_BUCKET_NAME): private objects; its
  `url()` presigns a GET (query-string auth).

Both take the same `url(name, parameters=…, expire=…)`: `media_url()` asks for a link
valid MEDIA_URL_EXPIRY_SECONDS that serves one file with the given content type (and, for
downloads, as an attachment). A link names one file and nothing else: altering it breaks
its signature.
"""

import functools
import mimetypes
import time
from pathlib import PurePosixPath
from typing import Protocol, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.http import content_disposition_header

from catalog.media.grants import MediaGrant, grant_token

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class SignedLinks(Protocol):
    """The `url()` both backends have."""

    def url(
        self, name: str, parameters: dict[str, str] | None = None, expire: int | None = None
    ) -> str: ...


class PrivateFileSystemStorage(FileSystemStorage):
    """Local files that are never public: `url()` is a signed, expiring link."""

    def url(
        self,
        name: str | None,
        parameters: dict[str, str] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if not name:
            raise ValueError("No file name to link to.")
        parameters = parameters or {}
        lifetime = settings.MEDIA_URL_EXPIRY_SECONDS if expire is None else expire
        grant = MediaGrant(
            name=name,
            content_type=parameters.get("ResponseContentType") or guess_content_type(name),
            disposition=parameters.get("ResponseContentDisposition", ""),
            expires_at=int(time.time()) + lifetime,
        )
        return reverse(
            "media-file", kwargs={"token": grant_token(grant), "filename": file_basename(name)}
        )


def file_basename(name: str) -> str:
    return PurePosixPath(name).name


def guess_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE


def media_url(name: str, *, content_type: str, download_as: str | None = None) -> str:
    """A time-limited link to one stored file (relative on the local backend: presenters
    make it absolute). `download_as` serves it as an attachment under that name."""
    parameters = {"ResponseContentType": content_type}
    if download_as and (
        disposition := content_disposition_header(as_attachment=True, filename=download_as)
    ):
        parameters["ResponseContentDisposition"] = disposition
    storage = cast(SignedLinks, storages["default"])  # either backend (settings.STORAGES)
    return storage.url(name, parameters=parameters, expire=settings.MEDIA_URL_EXPIRY_SECONDS)


@receiver(setting_changed)
def _storages_changed(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":  # tests switch backends
        media_origins.cache_clear()


@functools.cache
def media_origins() -> tuple[str, ...]:
    """Origins other than the portal's own that media links point at (the S3 endpoint
    or bucket host), for the pages' Content-Security-Policy `media-src`."""
    if isinstance(storages["default"], PrivateFileSystemStorage):
        return ()
    # Presigning is computed locally: no request goes to the storage.
    link = urlsplit(storages["default"].url("probe"))
    return (f"{link.scheme}://{link.netloc}",) if link.scheme and link.netloc else ()
