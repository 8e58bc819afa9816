from django.db import models


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the answer it got, replayed for a repeat request."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64, help_text="user:<id> or guest")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    # What the request created before it could answer (e.g. an enrollment id): a request
    # taking over a dead claim answers with it instead of creating it again. Not a foreign
    # key: the platform knows no app's tables.
    resource_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    locked_until = models.DateTimeField(help_text="A crashed request's claim expires then.")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_scope_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.key}"
