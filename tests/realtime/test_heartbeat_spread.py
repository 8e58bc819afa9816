"""Sockets that connected together (every tab reconnecting after a deploy) do not beat,
and recheck their credentials in the database, together for as long as they live."""

from realtime.consumers import first_beat_delay


def test_first_heartbeats_of_sockets_connected_together_are_spread():
    delays = [first_beat_delay(20) for _ in range(200)]
    assert all(10 <= delay <= 20 for delay in delays)  # never later than one interval
    assert max(delays) - min(delays) > 5  # spread over the window, not one instant
