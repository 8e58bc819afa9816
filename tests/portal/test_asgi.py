"""The ASGI entry point is ready for websockets once imported."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def last_line_printed(code: str) -> str:
    """Run `code` in a fresh interpreter (nothing imported yet) and return its last line."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout.strip().splitlines()[-1]


def test_the_channel_layer_is_built_before_the_first_websocket():
    # Left to the first websocket's connect, importing the layer's backend stalls the event
    # loop long enough, on a busy machine, for daphne to reset that handshake.
    code = (
        "import portal.asgi\n"
        "from channels.layers import channel_layers\n"
        "print(sorted(channel_layers.backends))\n"
    )
    assert last_line_printed(code) == "['default']"


def test_the_background_jobs_are_registered_before_the_first_request():
    # Looked up by name when a change commits (portal.enqueue): concurrent first requests
    # must find them registered. `_tasks` is the registry as it is, without the lookup
    # that would finalize the app there and then.
    code = (
        "import portal.asgi\n"
        "from portal.celery import app\n"
        "from enrollment.transitions import AFTER_ACTIVATION_JOBS\n"
        "names = [*AFTER_ACTIVATION_JOBS, 'enrollment.tasks.refund_orphan_payment']\n"
        "print(all(name in app._tasks for name in names))\n"
    )
    assert last_line_printed(code) == "True"
