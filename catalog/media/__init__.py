"""Lesson files (videos, captions, resources): stored through Django's storage API and
never public.

- `storage`: the local backend (files under MEDIA_ROOT, var/media) whose `url()` signs a
  time-limited link, like django-storages' S3Storage presigns one on S3; `media_url()` is
  how the rest of the portal asks either of them for a link.
- `grants`: the signed token of a local link (one file, its type, an expiry).
- `ranges`: HTTP `Range` parsing.
- `views`: the view that checks a local link and streams its file, with 206 for ranges.
- `checks`: what an upload must be (video magic bytes, WebVTT).
"""
