"""Mail the portal sends from templates: one plain-text and one HTML rendering of the same
template, a one-line subject, and never to an address that cannot be mailed (an erased
account's placeholder, in the `.invalid` top-level domain reserved for that: RFC 2606)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

UNDELIVERABLE_SUFFIXES = ("@invalid", ".invalid")


def is_undeliverable(email: str) -> bool:
    return email.strip().lower().endswith(UNDELIVERABLE_SUFFIXES)


def header_safe(text: str) -> str:
    """One line for a mail header: a line break in a course title (or any whitespace run)
    becomes one space. Django refuses headers with CR/LF (BadHeaderError), which would fail
    the job on every retry."""
    return " ".join(text.split())


def templated_mail_send(*, to: list[str], subject: str, template: str, context: dict) -> int:
    """Send `template`.txt and `template`.html (a template path without its suffix) to the
    deliverable addresses of `to`; returns how many messages went (0 or 1)."""
    recipients = [address for address in to if not is_undeliverable(address)]
    if not recipients:
        return 0
    message = EmailMultiAlternatives(
        subject=header_safe(subject),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message.send()
