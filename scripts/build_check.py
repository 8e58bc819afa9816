#!/usr/bin/env python3
"""The image's build, run here without Docker (scripts/test runs it).

    .venv/bin/python scripts/build_check.py [--keep]

Read from the Dockerfile itself, so the check follows the file:

1. the builder stage, step by step, into a temporary folder standing for the image:
   its ENV and ARG values (/app and /opt/venv mapped into the folder), its COPY lines
   applied to this checkout with .dockerignore's patterns, and its RUN lines run as
   written: `uv sync --locked --no-dev` (the runtime dependencies alone, so code importing
   a dev-only package fails below; uv's cache is used and no bytecode precompiled, which
   changes nothing installed), scripts/collect_static and the bytecode step. Only
   `pip install uv` is skipped: the uv here runs instead (a version other than the
   Dockerfile's is reported);
2. `manage.py check --deploy --fail-level WARNING` in that folder under the production
   settings, with the values a real deployment has (nothing connects);
3. daphne started from that folder under the production settings, asked by the final
   stage's HEALTHCHECK command (it must pass) and by the same probe on /readyz (it must
   fail: the database it is given does not answer);
4. the final stage's shape: it copies the builder's /opt/venv, runs as a user that is not
   root and has a HEALTHCHECK.

Exit status 0 when every step passed; the failing step's output otherwise. Needs uv (as
scripts/bootstrap installs it) and the Python that runs this file.
"""

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# What a deployment sets (docs/operations.md, "Production settings"); nothing connects.
DEPLOY_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "SITE_URL": "https://portal.example.com",
    "DATABASE_URL": "postgresql://portal:db-password@db.internal:5432/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/1",
    "MEILI_URL": "http://search.internal:7700",
    "MEILI_API_KEY": "a-search-and-index-key-not-the-master-key",
    "METRICS_TOKEN": "a-scrape-token-for-prometheus",
}


class BuildCheckError(Exception):
    pass


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages): continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            if keyword == "ARG":
                key, _, value = args.partition("=")
                global_args[key.strip()] = value.strip()
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return global_args, stages


def env_pairs(args: str) -> list[tuple[str, str]]:
    """ENV's `K=V K2=V2` form (values may be quoted)."""
    pairs = []
    for word in shlex.split(args, posix=True):
        key, sep, value = word.partition("=")
        if not sep:
            raise BuildCheckError(f"ENV {args!r}: only the KEY=value form is supported")
        pairs.append((key, value))
    return pairs


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)",
        lambda m: variables.get(m.group(1) or m.group(2), ""),
        value,
    )


# --- .dockerignore ----------------------------------------------------------------------


def ignore_patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per line, in order. Docker's rules: paths relative to the context,
    `*` and `?` within one path segment, `**` across any number of them; a pattern that
    matches a folder excludes everything in it; `!` re-includes."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line.lstrip("!").strip().strip("/")
        regex = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif line.startswith("**", i):
                regex += ".*"
                i += 2
            elif line[i] == "*":
                regex += "[^/]*"
                i += 1
            elif line[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(line[i])
                i += 1
        patterns.append((negated, re.compile(regex + "(?:/.*)?")))
    return patterns


def ignored(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    excluded = False
    for negated, pattern in patterns:
        if pattern.fullmatch(path):
            excluded = not negated
    return excluded


# --- the builder stage ------------------------------------------------------------------


def copy_into(sources: list[str], dest: Path, patterns) -> int:
    """COPY of paths in the build context into dest (a folder when it ends with / or when
    there are several sources), leaving out what .dockerignore excludes."""
    copied = 0
    for source in sources:
        if any(ch in source for ch in "*?[") or source.startswith(("/", "..")):
            raise BuildCheckError(
                f"COPY source {source!r}: only plain relative paths are supported"
            )
        origin = ROOT / source
        if not origin.exists():
            raise BuildCheckError(f"COPY source {source!r} does not exist")
        if ignored(source, patterns):
            raise BuildCheckError(f"COPY source {source!r} is excluded by .dockerignore")
        if origin.is_dir():
            for path in sorted(origin.rglob("*")):
                relative = path.relative_to(ROOT).as_posix()
                if path.is_file() and not ignored(relative, patterns):
                    target = dest / path.relative_to(origin)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
                    copied += 1
        else:
            target = dest / origin.name if (len(sources) > 1 or str(dest).endswith("/")) else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
            copied += 1
    return copied


def find_uv() -> str:
    path = os.pathsep.join(
        [
            os.environ.get("PATH", ""),
            str(Path.home() / ".local/bin"),
            str(Path(sys.executable).parent),
        ]
    )
    uv = shutil.which("uv", path=path)
    if uv is None:
        raise BuildCheckError("uv not found: run scripts/bootstrap first")
    return uv


def run(step: str, command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600):
    print(f"    $ {shlex.join(command) if len(command) > 1 else command[0]}", flush=True)
    result = subprocess.run(  # noqa: S603 - commands from the Dockerfile and this file
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise BuildCheckError(
            f"{step} failed (exit {result.returncode}):\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return result


def base_env(uv: str) -> dict[str, str]:
    """A clean environment: none of the caller's server variables leak into the build."""
    env = {
        "PATH": os.pathsep.join([str(Path(uv).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    for key in ("UV_CACHE_DIR", "XDG_CACHE_HOME", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def build_stage(stage: Stage, global_args: dict[str, str], image: Path, uv: str) -> dict[str, str]:
    """Run the builder stage into `image` (standing for /); returns its final environment."""
    patterns = ignore_patterns(DOCKERIGNORE.read_text() if DOCKERIGNORE.exists() else "")
    mapped = {"/opt/venv": str(image / "opt/venv"), "/app": str(image / "app")}

    def map_paths(value: str) -> str:
        for inside, outside in mapped.items():
            value = re.sub(rf"(?<![\w/]){re.escape(inside)}(?=/|$|:)", outside, value)
        return value

    env = base_env(uv)
    variables = dict(global_args)
    workdir = image
    ran_collect_static = False
    for instruction in stage.instructions:
        keyword, args = instruction.keyword, instruction.args
        if keyword == "ARG":
            key, _, value = args.partition("=")
            variables[key.strip()] = value.strip()
        elif keyword == "ENV":
            for key, value in env_pairs(args):
                env[key] = map_paths(expand(value, {**variables, **env}))
                variables[key] = env[key]
        elif keyword == "WORKDIR":
            workdir = Path(map_paths(args))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            words = shlex.split(args)
            if any(word.startswith("--") for word in words):
                raise BuildCheckError(f"COPY {args}: flags are not supported in the builder")
            dest_text = words[-1]
            dest = Path(map_paths(dest_text)) if dest_text.startswith("/") else workdir / dest_text
            if dest_text.endswith("/"):
                dest.mkdir(parents=True, exist_ok=True)
                dest = Path(str(dest) + "/")
            count = copy_into(words[:-1], dest, patterns)
            print(f"==> COPY {args} ({count} files)", flush=True)
        elif keyword == "RUN":
            command = expand(args, variables)
            if command.startswith("pip install") and "uv" in command:
                wanted = variables.get("UV_VERSION", "?")
                have = run("uv --version", [uv, "--version"], cwd=ROOT, env=env).stdout.split()
                note = "" if wanted in have else f" (the Dockerfile pins {wanted}; here {have[-1]})"
                print(f"==> RUN {command}: skipped, uv is here{note}", flush=True)
                continue
            print(f"==> RUN {command}", flush=True)
            run_env = dict(env)
            if command.startswith("uv "):
                # Local speed-ups that change nothing installed: uv's cache, no precompiling.
                for key in ("UV_NO_CACHE", "UV_LINK_MODE", "UV_COMPILE_BYTECODE"):
                    run_env.pop(key, None)
                run_env["UV_PYTHON"] = getattr(sys, "_base_executable", sys.executable)
            run(f"RUN {command}", ["sh", "-c", command], cwd=workdir, env=run_env)
            ran_collect_static |= "scripts/collect_static" in command
        elif keyword in {"LABEL", "EXPOSE", "USER", "SHELL", "HEALTHCHECK", "CMD", "ENTRYPOINT"}:
            continue
        else:
            raise BuildCheckError(f"{keyword} in the builder stage is not supported by this check")
    if not ran_collect_static:
        raise BuildCheckError("the builder stage does not RUN scripts/collect_static")
    return env


# --- the final stage --------------------------------------------------------------------


def final_stage_problems(stage: Stage) -> list[str]:
    problems = []
    users = [i.args for i in stage.instructions if i.keyword == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the final stage must switch to a user that is not root (USER)")
    if not any(i.keyword == "HEALTHCHECK" and " CMD " in f" {i.args} " for i in stage.instructions):
        problems.append("the final stage has no HEALTHCHECK ... CMD")
    if not any(
        i.keyword == "COPY" and "--from=builder" in i.args and "/opt/venv" in i.args
        for i in stage.instructions
    ):
        problems.append("the final stage does not copy the builder's /opt/venv")
    return problems


def healthcheck_command(stage: Stage) -> list[str]:
    for instruction in stage.instructions:
        if instruction.keyword == "HEALTHCHECK":
            command = instruction.args.split(" CMD ", 1)[1].strip()
            return json.loads(command) if command.startswith("[") else ["sh", "-c", command]
    raise BuildCheckError("no HEALTHCHECK")


def serve_and_probe(stage: Stage, app: Path, env: dict[str, str]) -> None:
    """daphne from the built folder, asked by the HEALTHCHECK command."""
    probe = healthcheck_command(stage)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    server_env = {
        **env,
        **DEPLOY_ENV,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"postgresql://portal@127.0.0.1:{closed_port.getsockname()[1]}/portal",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port.getsockname()[1]}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed_port.getsockname()[1]}/1",
        "READYZ_PROBE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    server_env.pop("MEILI_URL")
    command = ["python", "-m", "daphne", "--fd", str(listener.fileno()), "portal.asgi:application"]
    print(f"==> daphne from the image's files; HEALTHCHECK {shlex.join(probe)}", flush=True)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603
            command, cwd=app, env=server_env, stdout=log, stderr=log, pass_fds=(listener.fileno(),)
        )
        listener.close()
        probe_env = {**server_env, "PORT": str(port)}
        try:
            for _attempt in range(120):  # up to ~60 s for the server to start
                if server.poll() is not None:
                    break
                answer = subprocess.run(probe, cwd=app, env=probe_env, capture_output=True)  # noqa: S603
                if answer.returncode == 0:
                    break
                time.sleep(0.5)
            else:
                answer = None
            if server.poll() is not None or answer is None or answer.returncode != 0:
                log.seek(0)
                raise BuildCheckError(
                    "the HEALTHCHECK command did not pass against the image's server:\n"
                    + log.read().decode(errors="replace")[-4000:]
                )
            print("    /healthz: healthy", flush=True)
            readiness = [*probe[:-1], "/readyz"] if probe[-1] == "/healthz" else None
            if readiness:
                answer = subprocess.run(readiness, cwd=app, env=probe_env, capture_output=True)  # noqa: S603
                if answer.returncode == 0:
                    raise BuildCheckError("/readyz passed with no database: the probe is not real")
                print("    /readyz: not ready without a database, as it must be", flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            closed_port.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the built folder.")
    options = parser.parse_args()
    try:
        uv = find_uv()
        global_args, stages = parse_dockerfile(DOCKERFILE.read_text())
        builder = next((stage for stage in stages if stage.name == "builder"), None)
        if builder is None or len(stages) < 2:
            raise BuildCheckError("the Dockerfile must have a `builder` stage and a final stage")
        problems = final_stage_problems(stages[-1])
        if problems:
            raise BuildCheckError("; ".join(problems))
        print("==> uv lock --check", flush=True)
        run("uv lock --check", [uv, "lock", "--check"], cwd=ROOT, env=base_env(uv))
        image = Path(tempfile.mkdtemp(prefix="portal-image-"))
        try:
            env = build_stage(builder, global_args, image, uv)
            app = image / "app"
            collected = Path(env["STATIC_ROOT"])
            if not (collected / "staticfiles.json").is_file():
                raise BuildCheckError(f"collectstatic left no manifest in {collected}")
            print("==> manage.py check --deploy --fail-level WARNING", flush=True)
            deploy_env = {**env, **DEPLOY_ENV, "SECRET_KEY": secrets.token_urlsafe(64)}
            run(
                "check --deploy",
                ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                cwd=app,
                env=deploy_env,
            )
            serve_and_probe(stages[-1], app, env)
        finally:
            if options.keep:
                print(f"kept: {image}")
            else:
                shutil.rmtree(image, ignore_errors=True)
    except BuildCheckError as error:
        print(f"build check FAILED: {error}", file=sys.stderr)
        return 1
    print("build check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
