from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Enrollment"

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which Django loads only after
        # every apps module.
        from catalog.access import learner_check_register
        from enrollment.access import enrollment_grants_access
        from enrollment.claims import guest_enrollments_join
        from portal.accounts.hooks import email_verified_register

        # The catalog's lessons open to the course's students (catalog/access.py).
        learner_check_register(enrollment_grants_access)
        # Guest purchases join an account when it verifies their address.
        email_verified_register(guest_enrollments_join)
