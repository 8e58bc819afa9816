"""The durable per-user event log. The channel layer only carries what is written here."""

from django.conf import settings
from django.db import models


class EventCursor(models.Model):
    """The last `seq` handed out for a user. Incrementing it locks this one row, so
    concurrent writers for the same user get consecutive numbers, never the same one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}@{self.last_seq}"


class UserEvent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["user", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="user_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} for {self.user_id}"
