from django.apps import AppConfig


class HighAvailabilityConfig(AppConfig):
    name = "portal.ha"
    label = "ha"
    verbose_name = "High availability"

    def ready(self) -> None:
        from portal.ha import checks  # noqa: F401 - registers the system checks
