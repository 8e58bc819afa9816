"""The Locust file runs against a real server and its thresholds decide the exit code."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.live import ROOT, LiveServer

# Locust drives a daphne subprocess, which reads what the test commits.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def test_a_short_headless_locust_run_passes_its_thresholds():
    call_command("load_demo_data", courses=40, no_progress=True, stdout=io.StringIO())
    server = LiveServer().start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                "loadtests/locustfile.py",
                "--headless",
                "--host",
                server.url,
                "--users",
                "6",
                "--spawn-rate",
                "6",
                "--run-time",
                "8s",
                "--only-summary",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "MAX_P95_MS": "5000"},
        )
    finally:
        server.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "PASS:" in output
    for name in ("/api/courses", "/api/search", "ws search (typed)"):
        assert name in output
