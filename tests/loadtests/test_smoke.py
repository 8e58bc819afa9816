"""loadtests/run end to end, small: the whole stack (a private Redis, a daphne behind
nginx made from deploy/nginx.conf, a Celery worker per queue and beat, production
settings) on the test database, every scenario with a few users until each of its request
names was made. Asserted: nothing failed, every name the scenario's users make was made,
and nothing the runner started is left running. No time is asserted (the figures are in
docs/scaling.md); the p95 thresholds may fail on a busy machine, so the exit code is only
checked to be a verdict (0 or 1), not a crash."""

import csv
import json
import os
import subprocess

import psutil
import pytest

from loadtests.scaling.nginx import nginx_binary
from loadtests.scaling.scenarios import config_load
from tests.live import ROOT, test_database_url

# The stack's processes read what it commits; the flush after the test removes it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

SCENARIOS = tuple(config_load().scenarios)
# Names each scenario must make whatever its file says its users make: a user class that
# lost its requests would otherwise pass with an empty list.
KEY_NAMES = {
    "browse": {"/api/courses", "/courses/[slug]", "/search?q=[query]"},
    "search": {"/api/search", "ws search.results"},
    "enroll": {
        "/api/enrollments (paid)",
        "/api/enrollments (declined)",
        "/api/enrollments/[id]/confirm",
        "/api/enrollments (retry: same key)",
        "/api/enrollments (coupon)",
        "ws enrollment.created (commit → instructor)",
    },
    "learn": {
        "/api/lessons/[id]",
        "/api/enrollments/[id]/progress",
        "/media/[token]/[file] (range)",
        "ws progress.updated (write → tab)",
    },
    "waitlist": {"/api/courses/[slug]/waitlist (join)", "ws waitlist.offer (commit → student)"},
    "mix": {"/api/courses", "ws search.results", "ws enrollment.created (commit → instructor)"},
}


def _stats(path):
    with path.open(newline="") as file:
        return {row["Name"]: row for row in csv.DictReader(file) if row["Name"] != "Aggregated"}


def test_every_scenario_runs_against_the_stack_without_a_failure(tmp_path):
    assert nginx_binary(), "nginx is not installed (scripts/services installs it)"
    assert set(KEY_NAMES) == set(SCENARIOS)
    results = tmp_path / "results"
    result = subprocess.run(
        [
            "loadtests/run", "--scenario", "all", "--users", "10", "--duration", "240s",
            "--until-covered", "--app-processes", "1", "--locust-processes", "2",
            "--courses", "200", "--database-url", test_database_url(),
            "--results", str(results),
            # Static files are collected once and kept (a minute of compressing each time).
            "--state", str(ROOT / "var" / "loadtest-smoke"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "LOADTEST_PORT_BASE": os.environ.get("LOADTEST_SMOKE_PORT_BASE", "")},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), output[-4000:]

    for scenario in SCENARIOS:
        stats = _stats(results / f"{scenario}_stats.csv")
        judged = json.loads((results / f"{scenario}_verdicts.json").read_text())
        failed = {
            name: row["Failure Count"] for name, row in stats.items() if row["Failure Count"] != "0"
        }
        assert not failed, (scenario, failed, output[-4000:])
        made = {name for name, row in stats.items() if int(row["Request Count"]) > 0}
        assert KEY_NAMES[scenario] <= set(judged["expected"]), scenario
        assert set(judged["expected"]) <= made, (scenario, set(judged["expected"]) - made)
        assert judged["missing"] == []
        assert (results / f"{scenario}.html").stat().st_size > 0

    started = json.loads((results / "stack.json").read_text())
    assert {"nginx", "daphne", "celery", "redis"} <= {name.split("-")[0] for name in started}
    left = [pid for pids in started.values() for pid, since in pids if _running(pid, since)]
    assert left == [], f"still running after the run: {left}"


def _running(pid: int, since: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.create_time() == since and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
