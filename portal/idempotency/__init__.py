"""Idempotency-Key handling for unsafe API requests (a platform concern: any view can use it).

`decorators.idempotent` wraps a view method; `services` claims, replays and completes keys;
`models.IdempotencyKey` stores each key with the answer it got."""
