from django.apps import AppConfig


class InstructorConfig(AppConfig):
    """Instructor tools: revenue and enrollment reports, roster export, announcements."""

    name = "instructor"
