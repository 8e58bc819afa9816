"""The websocket benchmark (loadtests/ws_bench.py) runs end to end in a tiny configuration,
so that the command cannot rot: two daphne processes, sockets held by client processes,
personal events at a set rate and flat out, a fan-out and the bare-broadcast floor. Every
event sent must arrive and every watcher be reached; no timing is asserted (the figures
are in docs/benchmarks.md)."""

import re

import pytest

from tests.live import benchmark_run

# The benchmark's processes read what it commits; the flush after the test removes it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

SOCKETS = 40


def test_the_websocket_benchmark_delivers_every_event_and_prints_its_ratios():
    result = benchmark_run(
        "loadtests/ws_bench.py",
        *("--kinds", "daphne", "--sockets", str(SOCKETS), "--rate", "20,max"),
        *("--duration", "1", "--rounds", "1", "--settle", "0.5"),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    rates = re.findall(r"^daphne +[\d.]+ +(\S+) +([\d.]+) +(\d+)/(\d+) ", output, re.M)
    assert [asked for asked, *_ in rates] == ["20/s", "max"], output[-3000:]
    for _asked, achieved, sent, received in rates:
        assert int(sent) > 0 and sent == received and float(achieved) > 0
    watchers = SOCKETS // 2
    assert re.search(rf"^daphne +{watchers}/{watchers} .* [\d.]+x$", output, re.M), output
    assert re.search(rf"^floor +{watchers}/{watchers} ", output, re.M), output
    assert re.search(r"^daphne +[\d.]+ +[\d.]+ +[\d.]+$", output, re.M)  # memory per socket
