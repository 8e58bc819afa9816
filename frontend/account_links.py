"""The pages the emailed links open: forgotten password, a new password, confirming an
email address, a guest claiming a purchase. Each renders a template; its module reads
the link's token from the address (then drops it from the address bar and keeps it out
of Referer headers) and posts it to the API only when the person acts, so a mail
scanner fetching the link changes nothing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


def _page(request: HttpRequest, template: str, page: str) -> HttpResponse:
    response = render(request, f"frontend/{template}", {"page": page})
    response["Referrer-Policy"] = "no-referrer"
    return response


@ensure_csrf_cookie
def forgot_password(request: HttpRequest) -> HttpResponse:
    return _page(request, "forgot_password.html", "forgot-password")


@ensure_csrf_cookie
def reset_password(request: HttpRequest) -> HttpResponse:
    return _page(request, "reset_password.html", "reset-password")


@ensure_csrf_cookie
def verify_email(request: HttpRequest) -> HttpResponse:
    return _page(request, "verify_email.html", "verify-email")


@ensure_csrf_cookie
def claim(request: HttpRequest) -> HttpResponse:
    return _page(request, "claim.html", "claim")
