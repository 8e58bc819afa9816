"""Validators shared by the API's serializers."""

from django.core.validators import EmailValidator, RegexValidator
from django.utils.regex_helper import _lazy_re_compile


class ContactEmailValidator(EmailValidator):
    """Django's email check, but accepting one-letter top-level domains (e.g. a@b.c):
    they are rare but valid, and the API's own examples use one."""

    domain_regex = _lazy_re_compile(
        r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{1,63}(?<!-))\Z",
        EmailValidator.domain_regex.flags,
    )


# Control characters (CR, LF, tab, …: Unicode category Cc) are refused in one-line text
# such as titles: they end up in email subjects and page titles, where a line break splits
# a header. A RegexValidator, so the OpenAPI schema carries the rule as a `pattern` (the
# serializers trim surrounding whitespace before it runs).
single_line = RegexValidator(
    r"^[^\x00-\x1f\x7f-\x9f]*$",
    message="Must be a single line without control characters.",
)
