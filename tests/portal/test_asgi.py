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


def test_importing_the_entry_point_readies_the_layer_and_registers_the_jobs():
    # One fresh interpreter for both checks (an interpreter importing the portal costs
    # about a second of CPU):
    # - the channel layer: left to the first websocket's connect, importing the layer's
    #   backend stalls the event loop long enough, on a busy machine, for daphne to reset
    #   that handshake;
    # - the jobs, looked up by name when a change commits (portal.enqueue): concurrent
    #   first requests must find them registered. `_tasks` is the registry as it is,
    #   without the lookup that would finalize the app there and then.
    code = (
        "import portal.asgi\n"
        "from channels.layers import channel_layers\n"
        "from portal.celery import app\n"
        "from enrollment.transitions import AFTER_ACTIVATION_JOBS\n"
        "names = [*AFTER_ACTIVATION_JOBS, 'enrollment.tasks.refund_orphan_payment',\n"
        "         'enrollment.tasks.send_receipt_email']\n"
        "print(sorted(channel_layers.backends), all(name in app._tasks for name in names))\n"
    )
    assert last_line_printed(code) == "['default'] True"
