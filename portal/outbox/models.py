"""The transactional outbox: effects a committed change still owes."""

from django.db import models


class Effect(models.Model):
    """One effect owed by a committed change (a job to queue, statistics to add, cached
    answers to retire), written in the change's own transaction and deleted in the
    transaction that carries it out."""

    handler = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not before: pushed back after each failed attempt.
    available_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The request (or job) that owed it: bound while it is carried out, whoever relays it,
    # so its log lines and the jobs it queues carry that id (portal.request_id).
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk}"
