"""A sampling profile of one app server during a run, with py-spy (PyPI: `pip install
py-spy`, or `uv tool install py-spy`; it needs to be allowed to ptrace the server).
Only the thread holding the GIL is sampled (`--gil`): what the process spends its CPU on,
not its threads waiting for the database or the network.

py-spy writes collapsed stacks ("frame;frame;frame count" per line); the summary groups
the samples by the leaf function (where the CPU is) and by the portal's or a library's
module anywhere in the stack (what the time is spent for)."""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2]) + "/"
# py-spy names files relative to their sys.path entry (django/db/..., catalog/views.py).
PORTAL_PACKAGES = ("catalog", "enrollment", "frontend", "instructor", "portal", "realtime")
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Parts of the stack a sample is attributed to: the specific ones first, nearest the leaf
# winning (a query compiled for a view is the ORM's); the broad ones only when no specific
# one is in the stack.
SPECIFIC = (
    ("psycopg (PostgreSQL driver)", "psycopg"),
    ("Django ORM: query compiling", "django/db/models/sql"),
    ("Django ORM: other", "django/db"),
    ("Django templates", "django/template"),
    ("DRF", "rest_framework"),
    ("redis-py / channels-redis", "redis"),
    ("Celery / kombu (queueing jobs)", "kombu"),
    ("JSON", "json"),
    ("logging / structlog", "logging"),
    ("daphne / twisted / autobahn", "twisted"),
    ("asgiref (sync ↔ async)", "asgiref"),
)
BROAD = (
    ("Django request/response, middleware", "django/"),
    ("the portal's code", "<portal>"),
)


def py_spy() -> str | None:
    # `uv tool install` and `pip install --user` put it in ~/.local/bin, often not on PATH.
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path.home() / ".local/bin"))


def record(*, pid: int, seconds: int, out: Path, rate: int = 50) -> subprocess.Popen:
    """Start sampling `pid` for `seconds` in the background; collapsed stacks go to `out`."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate), "--gil",
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def summarize(collapsed: Path, top: int = 15) -> str:
    leaves: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    portal: Counter[str] = Counter()  # the portal's functions, with what they call
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        leaves[_short(frames[-1])] += samples
        groups[_group(frames)] += samples
        for frame in {_short(f) for f in frames if _is_portal(f)}:
            portal[frame] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples of the thread holding the GIL", "", "where (by part of the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in groups.most_common()]
    lines += ["", f"leaf functions (top {top}):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(top)]
    lines += ["", f"the portal's functions, with what they call (top {top}):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in portal.most_common(top)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", ROOT, "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


def _is_portal(frame: str) -> bool:
    match = FRAME.match(frame)
    path = match["file"].removeprefix(ROOT) if match else ""
    return path.split("/", 1)[0] in PORTAL_PACKAGES


def _group(frames: list[str]) -> str:
    for groups in (SPECIFIC, BROAD):
        for frame in reversed(frames):
            for name, marker in groups:
                if (marker == "<portal>" and _is_portal(frame)) or (
                    marker != "<portal>" and marker in frame
                ):
                    return name
    return "other (interpreter, stdlib)"
