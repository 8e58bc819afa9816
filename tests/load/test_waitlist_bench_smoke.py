"""The waitlist benchmark (loadtests/waitlist_bench.py) runs end to end in a tiny
configuration, so that the command cannot rot: its daphne server, a real Celery worker,
sockets for every student, the floor and the in-process timings. Every offer and every new
place must arrive and be right; no timing is asserted (the figures are in
docs/benchmarks.md)."""

import json
import os

import pytest

from tests.live import benchmark_run

# The benchmark's processes read what it commits; the flush after the test removes it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

STUDENTS, FREED = 20, 5


@pytest.mark.parametrize("free", ["capacity", "cancel"])
def test_the_waitlist_benchmark_delivers_every_offer_and_new_place(free, tmp_path):
    # scripts/test sets a Redis broker for the suite; the benchmark's worker needs one.
    assert os.environ.get("CELERY_BROKER_URL", "").startswith("redis"), "no Redis broker"
    figures_path = tmp_path / "figures.json"
    result = benchmark_run(
        "loadtests/waitlist_bench.py",
        *("--free", free),
        *("--students", str(STUDENTS), "--capacity", str(FREED), "--freed", str(FREED)),
        *("--servers", "1", "--rounds", "1", "--settle", "0.5", "--timeout", "60"),
        *("--json", str(figures_path)),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    figures = json.loads(figures_path.read_text())
    tally = figures["tally"]
    assert not figures["eager"], "the announcement ran in a real worker"
    assert (tally["offers_arrived"], tally["offers_wrong"]) == (FREED, 0), output[-3000:]
    assert (
        tally["positions_arrived"],
        tally["positions_wrong"],
        tally["positions_missing"],
    ) == (STUDENTS - FREED, 0, 0), output[-3000:]
    if free == "capacity":  # one transaction freed every seat: one place each
        assert tally["positions_extra"] == 0
        assert sum(told for _, told in figures["jobs"]) == STUDENTS - FREED
    assert figures["db_problems"] == []
    assert figures["calls"]["offers_make"]["value"] == FREED
    assert figures["calls"]["positions_announce"]["value"] == STUDENTS - FREED
    assert "waitlist.position (new place)" in result.stdout
