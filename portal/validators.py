"""Validators shared by the API's serializers."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.regex_helper import _lazy_re_compile


class ContactEmailValidator(EmailValidator):
    """Django's email check, but accepting one-letter top-level domains (e.g. a@b.c):
    they are rare but valid, and the API's own examples use one."""

    domain_regex = _lazy_re_compile(
        r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{1,63}(?<!-))\Z",
        EmailValidator.domain_regex.flags,
    )


def single_line(value: str) -> None:
    """Refuse control characters (CR, LF, tab, …) in one-line text such as titles: they end
    up in email subjects and page titles, where a line break splits a header."""
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError("Must be a single line without control characters.")
