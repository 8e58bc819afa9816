"""The consumer's account of what it delivered (realtime.delivery.DeliveryWatch): when a
socket should get `resync`, and when not."""

from realtime.delivery import DeliveryWatch


def test_delivery_watch_tells_a_gap_from_a_duplicate_and_a_delivery_in_flight():
    watch = DeliveryWatch(delivered=5)
    assert watch.live(6) == (True, False)
    assert watch.live(6) == (False, False)  # sent already (by a resume)
    assert watch.live(9) == (True, True)  # 7 and 8 lost
    assert watch.beat(9) is False  # the log holds what was sent
    assert watch.beat(10) is False  # 10 may be on its way
    assert watch.live(10) == (True, False)  # it was
    assert watch.beat(10) is False

    assert watch.beat(12) is False
    assert watch.beat(13) is True  # 11-12 seen a beat ago and still missing
    assert watch.beat(13) is False  # asked already, not again for the same gap
    assert watch.beat(13) is False
    watch.replayed(13)
    assert watch.beat(14) is False
    assert watch.beat(15) is True  # a new gap (14) after the resume


def test_delivery_watch_resyncs_when_the_layer_is_back():
    watch = DeliveryWatch(delivered=3)
    assert watch.beat(None) is False  # anonymous: nothing to compare
    assert watch.beat(None, layer_back=True) is True
    assert watch.beat(3, layer_back=True) is True
