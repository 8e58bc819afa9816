"""loadtests/run: bring up the production-like stack, run scenarios against it with
Locust, print a summary, keep the reports, stop everything.

    loadtests/run --scenario mix --duration 2m --app-processes 2 --users 200
    loadtests/run --scenario browse,search --host https://portal.example --fixtures f.json

Without --host it starts (and always stops, Ctrl-C included) PostgreSQL's database,
Redis, N daphne processes behind nginx, Celery workers and beat: see stack.py. With
--host it runs against that deployment and starts nothing.

Nothing here imports Locust: importing it patches the process for gevent (sleep, signals,
subprocesses), which is Locust's business, not the runner's.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil

from loadtests.scaling import profile
from loadtests.scaling.report import cpu_table, stats_rows, table, verdicts_read
from loadtests.scaling.scenarios import (
    DEFAULT_FILE,
    EVENT_DELAYS,
    Config,
    Scenario,
    config_load,
)
from loadtests.scaling.stack import Stack, StackOptions
from loadtests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "loadtests" / "scaling" / "locustfile.py"
DEFAULT_DATABASE = "postgresql://postgres:postgres@127.0.0.1:5432/portal_load"


class Interrupted(Exception):
    """SIGINT or SIGTERM: stop the run, keep what was written, stop the stack."""


def seconds(text: str) -> int:
    """Seconds in a duration such as 90, 90s, 2m or 1h30m (Locust's --run-time format)."""
    parts = re.findall(r"(\d+)\s*([hms]?)", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1, "": 1}[u] for n, u in parts)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="loadtests/run", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--scenario", default="mix", help="a name, several (a,b) or all")
    parser.add_argument("--duration", type=seconds, help="per scenario (default: its own)")
    parser.add_argument("--users", type=int, help="simulated users (default: the scenario's)")
    parser.add_argument("--spawn-rate", type=float, help="users started per second")
    parser.add_argument(
        "--wait-scale", type=float, default=1.0,
        help="multiply the users' think times (0.2: five times the requests per user)",
    )  # fmt: skip
    parser.add_argument("--app-processes", type=int, default=2, help="daphne processes")
    parser.add_argument(
        "--locust-processes", type=int, default=2,
        help="Locust worker processes (--processes); 1 runs Locust in one process",
    )  # fmt: skip
    parser.add_argument("--host", help="run against this deployment; start no stack")
    parser.add_argument("--fixtures", type=Path, help="accounts file (required with --host)")
    parser.add_argument("--config", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--results", type=Path, help="folder for reports and logs")
    parser.add_argument(
        "--database-url", default=os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DATABASE)
    )
    parser.add_argument(
        "--redis-url", help="use this Redis (cache, channel layer) instead of a private one"
    )
    parser.add_argument("--broker-url", help="Celery's broker with --redis-url (default: the same)")
    parser.add_argument("--redis-port", type=int, help="port of the private redis-server")
    parser.add_argument(
        "--port-base", type=int,
        default=int(os.environ["LOADTEST_PORT_BASE"]) if os.environ.get("LOADTEST_PORT_BASE") else None,
        help="nginx on it, Locust's master on +1, a private Redis on +2, daphnes from +10 "
        "(default: free ports)",
    )  # fmt: skip
    parser.add_argument("--courses", type=int, help="demo catalog size for an empty database")
    parser.add_argument("--state", type=Path, default=ROOT / "var" / "loadtest",
                        help="kept between runs: static files, media")  # fmt: skip
    parser.add_argument("--until-covered", action="store_true",
                        help="end a scenario once every request name was made (smoke runs)")  # fmt: skip
    parser.add_argument("--profile", type=int, metavar="SECONDS", default=0,
                        help="sample the first daphne with py-spy for this long, after ramp-up")  # fmt: skip
    return parser.parse_args(argv)


def scenarios_chosen(config: Config, spec: str) -> list[Scenario]:
    names = list(config.scenarios) if spec == "all" else [n.strip() for n in spec.split(",")]
    unknown = [name for name in names if name not in config.scenarios]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; known: {', '.join(config.scenarios)}")
    return [config.scenarios[name] for name in names]


def say(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def fixtures_make(stack: Stack, config: Config, out: Path, students: int) -> None:
    options = config.fixtures
    command = [
        sys.executable, "-m", "loadtests.scaling.accounts", "--out", str(out),
        "--students", str(students),
        "--instructors", str(options.get("instructors", 8)),
        "--waitlist-courses", str(options.get("waitlist_courses", 4)),
        "--waitlist-capacity", str(options.get("waitlist_capacity", 2)),
        "--coupon-percent-off", str(options.get("coupon_percent_off", 20)),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"making the fixtures failed: {(result.stdout + result.stderr)[-3000:]}")
    say(result.stdout.strip())


def students_needed(scenario: Scenario, users: int | None) -> int:
    """Three blocks (enrolling, learning, waiting students), each with room for twice the
    largest of them: users are numbered per Locust worker, so numbers run past the count
    when the workers got unequal shares."""
    counts = scenario.counts(users)
    kinds = ("EnrollingStudent", "LearningStudent", "WaitingStudent")
    return 3 * (2 * max(counts.get(kind, 0) for kind in kinds) + 10)


def locust_command(args: argparse.Namespace, scenario: Scenario, *, host: str, counts: dict[str, int],
                   prefix: Path, master_port: int) -> list[str]:  # fmt: skip
    duration = args.duration or seconds(scenario.duration)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", host, "--users", str(sum(counts.values())),
        "--spawn-rate", str(args.spawn_rate or scenario.spawn_rate),
        "--run-time", f"{duration}s", "--stop-timeout", "5",
        "--csv", str(prefix), "--html", f"{prefix}.html", "--only-summary",
    ]  # fmt: skip
    if args.locust_processes > 1:
        command += ["--processes", str(args.locust_processes)]
        command += ["--master-bind-port", str(master_port), "--master-port", str(master_port)]
    return command + [name for name, count in counts.items() if count]


def run_scenario(args: argparse.Namespace, scenario: Scenario, *, host: str, fixtures: Path | None,
                 folder: Path, stack: Stack | None) -> int:  # fmt: skip
    counts = scenario.counts(args.users)
    duration = args.duration or seconds(scenario.duration)
    prefix = folder / scenario.name
    say(f"scenario {scenario.name}: {sum(counts.values())} users "
        f"({', '.join(f'{n} {c}' for n, c in counts.items() if c)}) for {duration}s")  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOADTEST_FIXTURES": str(fixtures),
        "LOADTEST_SCENARIOS": str(args.config),
        "LOADTEST_SCENARIO": scenario.name,
        "LOADTEST_COUNTS": json.dumps(counts),
        "LOADTEST_WORKERS": str(max(1, args.locust_processes)),
        "LOADTEST_INSTRUCTORS_HELD": str(counts.get("Instructor", 0)),
        "LOADTEST_VERDICTS": f"{prefix}_verdicts.json",
        "LOADTEST_UNTIL_COVERED": "1" if args.until_covered else "0",
        "LOADTEST_WAIT_SCALE": str(args.wait_scale),
    }
    cpu_before = stack.cpu_seconds() if stack else {}
    load_before = os.getloadavg()
    started = time.monotonic()
    log_path = folder / f"{scenario.name}_locust.log"
    sampler = None
    try:
        if args.profile and stack:
            ramp = sum(counts.values()) / (args.spawn_rate or scenario.spawn_rate) + 5
            sampler = _profile_later(
                stack, ramp, args.profile, folder / f"{scenario.name}_profile.txt"
            )
        for attempt in range(3):
            if stack is not None:
                master_port = stack.locust_port()
            else:
                master_port = args.port_base + 1 if args.port_base is not None else free_port()
            command = locust_command(
                args, scenario, host=host, counts=counts, prefix=prefix, master_port=master_port
            )
            code, output = _locust(command, env, log_path, timeout=duration + 300)
            # Its master's free port taken meanwhile: again on another.
            taken = "Address already in use" in output and not Path(f"{prefix}_stats.csv").exists()
            if not taken or args.port_base is not None or attempt == 2:
                break
    finally:
        if sampler is not None:
            sampler.join()
    elapsed = time.monotonic() - started
    cpu_used = {}
    if stack:
        cpu_after = stack.cpu_seconds()
        cpu_used = {part: cpu_after.get(part, 0) - cpu_before.get(part, 0) for part in cpu_after}
    cpu_used["locust"] = sum(LOCUST_CPU.values())
    _summary(scenario, folder, prefix, code, elapsed, load_before, cpu_used, counts, args)
    return code


LOAD_SAMPLES: list[float] = []  # the 1-minute load average every 5 s of a scenario
LOCUST_CPU: dict[int, float] = {}  # CPU seconds of each Locust process, as last seen


def _locust(
    command: list[str], env: dict[str, str], log_path: Path, timeout: float
) -> tuple[int, str]:
    """Run Locust in a session of its own to the end (SIGTERM when interrupted: it still
    writes its reports); its exit code and what it logged."""
    with log_path.open("ab") as log:
        offset = log.tell()
        locust = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        code = _wait(locust, timeout=timeout)
    finally:
        if locust.poll() is None:
            os.killpg(locust.pid, signal.SIGTERM)
            try:
                locust.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(locust.pid, signal.SIGKILL)
                locust.wait(timeout=10)
    with log_path.open("rb") as log:
        log.seek(offset)
        return code, log.read().decode(errors="replace")


def _wait(process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    LOAD_SAMPLES.clear()
    LOCUST_CPU.clear()
    next_sample = time.monotonic()
    while process.poll() is None:
        if time.monotonic() > deadline:
            raise TimeoutError("Locust did not end in time")
        if time.monotonic() >= next_sample:
            LOAD_SAMPLES.append(os.getloadavg()[0])
            next_sample += 5
        _locust_cpu(process.pid)
        time.sleep(0.5)
    return process.returncode


def _locust_cpu(pid: int) -> None:
    """Remember the CPU time of Locust's master and workers (the generator shares the
    machine with the stack: its share belongs in the picture)."""
    try:
        main = psutil.Process(pid)
        processes = [main, *main.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        LOCUST_CPU[process.pid] = times.user + times.system


def _profile_later(stack: Stack, delay: float, length: int, out: Path):
    import threading

    def sample() -> None:
        time.sleep(delay)
        pids = stack.daphne_pids()
        if not pids:
            return
        raw = out.with_suffix(".collapsed")
        recorder = profile.record(pid=pids[0], seconds=length, out=raw)
        _, error = recorder.communicate(timeout=length + 120)
        if recorder.returncode != 0 or not raw.exists():
            out.write_text(f"py-spy failed: {error.decode(errors='replace')[-2000:]}")
            return
        out.write_text(f"py-spy, daphne pid {pids[0]}, {length}s\n\n{profile.summarize(raw)}\n")

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return thread


def _summary(scenario: Scenario, folder: Path, prefix: Path, code: int, elapsed: float,
             load_before: tuple[float, float, float], cpu_used: dict[str, float],
             counts: dict[str, int], args: argparse.Namespace) -> None:  # fmt: skip
    limits = dict(scenario.thresholds.p95_ms)
    if scenario.thresholds.notification_p95_ms is not None:
        for name in EVENT_DELAYS:
            limits.setdefault(name, scenario.thresholds.notification_p95_ms)
    try:
        rows = stats_rows(prefix)
    except FileNotFoundError:
        rows = []
    judged = verdicts_read(Path(f"{prefix}_verdicts.json"))
    load_after = os.getloadavg()
    print()
    print(f"== {scenario.name}: {scenario.description}")
    print(f"   {sum(counts.values())} users (think times x{args.wait_scale:g}), {args.app_processes} app processes, "
          f"{elapsed:.0f}s; load average {load_before[0]:.1f} before, {load_after[0]:.1f} "
          f"after (1 min), {os.cpu_count()} cores")  # fmt: skip
    if LOAD_SAMPLES:
        print(f"   load average during the run: mean {sum(LOAD_SAMPLES) / len(LOAD_SAMPLES):.1f}, "
              f"max {max(LOAD_SAMPLES):.1f}")  # fmt: skip
    if rows:
        print(table(rows, limits))
    for verdict in judged["verdicts"]:
        shown = "never made" if verdict["value"] is None else f"{verdict['value']:g}"
        print(
            f"   {'PASS' if verdict['passed'] else 'FAIL'}  {verdict['what']}: {shown} (limit {verdict['limit']:g})"
        )
    if judged["missing"]:
        print(f"   request names never made: {', '.join(judged['missing'])}")
    if cpu_used:
        print(cpu_table(cpu_used, elapsed, os.cpu_count() or 1))
    profile_text = folder / f"{scenario.name}_profile.txt"
    if profile_text.exists():
        print(profile_text.read_text())
    print(f"   Locust exit code {code}; reports: {prefix}.html, {prefix}_stats.csv")
    total = next((row for row in rows if row.name == "Aggregated"), None)
    (folder / f"{scenario.name}_summary.json").write_text(
        json.dumps(
            {
                "scenario": scenario.name,
                "users": counts,
                "app_processes": args.app_processes,
                "locust_processes": args.locust_processes,
                "wait_scale": args.wait_scale,
                "seconds": round(elapsed, 1),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "load_average_during": LOAD_SAMPLES,
                "exit_code": code,
                "requests_per_second": total.rps if total else None,
                "failures": total.failures if total else None,
                "requests": total.requests if total else None,
                "rows": [row.__dict__ for row in rows],
                "verdicts": judged["verdicts"],
                "missing": judged["missing"],
                "cpu_seconds": cpu_used,
            },
            indent=1,
        )
    )


def _on_signal(signum: int, _frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    config = config_load(args.config)
    chosen = scenarios_chosen(config, args.scenario)
    if args.host and not args.fixtures:
        raise SystemExit("--host needs --fixtures (python -m loadtests.scaling.accounts)")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    label = "-".join(s.name for s in chosen) if len(chosen) < 4 else "all"
    where = "remote" if args.host else f"{args.app_processes}app"
    folder = args.results or args.state / "results" / f"{stamp}-{label}-{where}"
    folder.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    stack: Stack | None = None
    codes = []
    try:
        if args.host:
            host, fixtures = args.host.rstrip("/"), args.fixtures
        else:
            stack = Stack(
                StackOptions(
                    app_processes=args.app_processes,
                    database_url=args.database_url,
                    folder=folder,
                    state=args.state,
                    redis_url=args.redis_url,
                    broker_url=args.broker_url,
                    redis_port=args.redis_port,
                    port_base=args.port_base,
                    courses=args.courses or int(config.stack.get("courses", 2000)),
                    db_pool=int(config.stack.get("db_pool", 10)),
                    celery_concurrency=int(config.stack.get("celery_concurrency", 1)),
                )
            )
            say(
                f"starting the stack ({args.app_processes} app processes); logs in {folder / 'logs'}"
            )
            stack.start(say)
            # What was started, for whoever checks that it is all gone afterwards.
            (folder / "stack.json").write_text(json.dumps(stack.pids(), indent=1))
            host, fixtures = stack.url, None
        for scenario in chosen:
            if stack is not None:
                # Accounts of its own for each scenario: one ends with students enrolled,
                # seated or in line, which the next one's users must not inherit.
                fixtures = folder / f"{scenario.name}_fixtures.json"
                fixtures_make(stack, config, fixtures, students_needed(scenario, args.users))
            codes.append(
                run_scenario(
                    args, scenario, host=host, fixtures=fixtures, folder=folder, stack=stack
                )
            )
    except Interrupted as exc:
        say(f"{exc}: stopping")
        codes.append(130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        if stack is not None:
            say("stopping the stack")
            stack.stop()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    say(f"results in {folder}")
    return max(codes, default=1)


if __name__ == "__main__":
    sys.exit(main())
