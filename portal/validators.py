"""Validators shared by the API's serializers."""

from django.core.validators import EmailValidator
from django.utils.regex_helper import _lazy_re_compile


class ContactEmailValidator(EmailValidator):
    """Django's email check, but accepting one-letter top-level domains (e.g. a@b.c):
    they are rare but valid, and the API's own examples use one."""

    domain_regex = _lazy_re_compile(
        r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{1,63}(?<!-))\Z",
        EmailValidator.domain_regex.flags,
    )
