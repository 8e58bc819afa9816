"""Locust file of the scaling scenarios (loadtests/scenarios.toml); loadtests/run runs it.

Read from the environment (the runner sets them):
  LOADTEST_FIXTURES        the fixtures file (loadtests/scaling/accounts.py)
  LOADTEST_SCENARIO        the scenario's name; LOADTEST_SCENARIOS its file
  LOADTEST_COUNTS          JSON {user class: count}: each class runs exactly that many
  LOADTEST_WORKERS         Locust's worker processes (to number users across them)
  LOADTEST_VERDICTS        where to write the threshold verdicts (JSON)
  LOADTEST_UNTIL_COVERED   "1": stop as soon as every request name of the scenario's users
                           was made (the smoke test), instead of at --run-time only

Pass the classes to run on Locust's command line. The exit code is 0 when every threshold
of the scenario holds, 1 otherwise.
"""

import json
import logging
import os
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtests.scaling.scenarios import DEFAULT_FILE, config_load
from loadtests.scaling.thresholds import verdicts, verdicts_json
from loadtests.scaling.users.browsing import BrowsingStudent
from loadtests.scaling.users.enrolling import EnrollingStudent
from loadtests.scaling.users.instructors import Instructor
from loadtests.scaling.users.learning import LearningStudent
from loadtests.scaling.users.searching import HttpSearcher, SocketSearcher
from loadtests.scaling.users.waiting import WaitingStudent

CLASSES = {
    cls.__name__: cls
    for cls in (BrowsingStudent, HttpSearcher, SocketSearcher, EnrollingStudent,
                LearningStudent, WaitingStudent, Instructor)
}  # fmt: skip
SCENARIO = config_load(Path(os.environ.get("LOADTEST_SCENARIOS", DEFAULT_FILE))).scenarios[
    os.environ.get("LOADTEST_SCENARIO", "mix")
]
COUNTS: dict[str, int] = json.loads(os.environ.get("LOADTEST_COUNTS", "{}")) or SCENARIO.counts()
for _name, _count in COUNTS.items():
    CLASSES[_name].fixed_count = _count
EXPECTED = {name for cls, count in COUNTS.items() if count for name in CLASSES[cls].request_names}
log = logging.getLogger("loadtest")


def _missing(environment: Environment) -> set[str]:
    made = {name for (name, _), entry in environment.stats.entries.items() if entry.num_requests}
    return EXPECTED - made


@events.test_start.add_listener
def _stop_when_covered(environment: Environment, **_kwargs) -> None:
    if os.environ.get("LOADTEST_UNTIL_COVERED") != "1" or isinstance(
        environment.runner, WorkerRunner
    ):
        return

    def watch() -> None:
        while _missing(environment):
            gevent.sleep(1)
        # One more report from every worker, so the last requests are in the stats.
        gevent.sleep(4)
        log.info("every request name of the scenario was made: stopping")
        environment.runner.quit()

    gevent.spawn(watch)


@events.quitting.add_listener
def _enforce_thresholds(environment: Environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    found = verdicts(environment.stats, SCENARIO.thresholds, EXPECTED)
    for verdict in found:
        print(verdict.line())
    missing = sorted(_missing(environment))
    if missing:
        print(f"NOTE: request names never made: {', '.join(missing)}")
    path = os.environ.get("LOADTEST_VERDICTS")
    if path:
        Path(path).write_text(
            json.dumps(
                {
                    "verdicts": verdicts_json(found),
                    "expected": sorted(EXPECTED),
                    "missing": missing,
                },
                indent=1,
            )
        )
    environment.process_exit_code = 0 if all(verdict.passed for verdict in found) else 1
