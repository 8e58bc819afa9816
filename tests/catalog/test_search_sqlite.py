"""Runs tests/catalog/sqlite_search_check.py on the embedded configuration: a subprocess
with DATABASE_URL (and the other servers' variables) unset, so the SQLite migrations,
FTS5 triggers and backend run for real beside this PostgreSQL test run."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MEILI_URL")


def test_the_sqlite_backend_passes_its_checks(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    env.update(
        PORTAL_VAR_DIR=str(tmp_path),
        CELERY_TASK_ALWAYS_EAGER="true",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/catalog/sqlite_search_check.py",
            "-q",
            "-p",
            "no:cacheprovider",
            # The suite's conftest ends PostgreSQL connections at exit; the module brings
            # the fixtures it needs.
            "--noconftest",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    summary = re.search(r"(\d+) passed", output)
    assert summary and int(summary.group(1)) >= 30, output[-2000:]
    assert "skipped" not in output and "failed" not in output, output[-2000:]
