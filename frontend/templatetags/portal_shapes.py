"""The enums' values and labels for the pages, from their one definition
(catalog.shapes, enrollment.shapes): option lists and the scripts' labels are never
written out by hand."""

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from catalog.shapes import Level
from enrollment.models import ACCESS_STATUSES, LIVE_STATUSES
from enrollment.shapes import EnrollmentStatus

register = template.Library()


@register.simple_tag
def level_choices() -> list[tuple[str, str]]:
    """[(value, label)] of the course levels, in order: `{% level_choices as levels %}`."""
    return list(Level.choices)


@register.simple_tag
def enum_labels() -> SafeString:
    """The labels the scripts show (frontend/static/js/ui.js reads them), as a JSON data
    block: not executed, so the strict script-src policy allows it."""
    labels = {
        "level": dict(Level.choices),
        "enrollment_status": dict(EnrollmentStatus.choices),
        # Which statuses hold a seat (live) and which open the lessons (access).
        "enrollment_live": [status.value for status in LIVE_STATUSES],
        "enrollment_access": [status.value for status in ACCESS_STATUSES],
    }
    return json_script(labels, "portal-labels")
