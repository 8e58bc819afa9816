"""The deployment files: the Dockerfile's shape (scripts/build_check.py runs its build),
what .dockerignore keeps out of the image, docker-compose.yml's health checks, search key
and start-up order, and those health-check commands run against real processes.

No Docker engine runs here: the image is built by scripts/build_check.py (scripts/test),
and compose's checks are run below as the containers would run them."""

import importlib.util
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.faults.stack import wait_until
from tests.live import ROOT, LiveServer, free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web1", "web2", "worker", "beat")
ONE_SHOTS = ("migrate", "search-setup")


def load_build_check():
    spec = importlib.util.spec_from_file_location("build_check", ROOT / "scripts/build_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_check"] = module
    spec.loader.exec_module(module)
    return module


build_check = load_build_check()
GLOBAL_ARGS, STAGES = build_check.parse_dockerfile((ROOT / "Dockerfile").read_text())
PATTERNS = build_check.ignore_patterns((ROOT / ".dockerignore").read_text())


# --- Dockerfile and .dockerignore -------------------------------------------------------


def test_the_image_is_built_in_two_stages_and_runs_unprivileged():
    assert [stage.name for stage in STAGES] == ["builder", None]
    assert build_check.final_stage_problems(STAGES[-1]) == []
    runs = [i.args for i in STAGES[0].instructions if i.keyword == "RUN"]
    assert any("uv sync --locked --no-dev" in run for run in runs)
    assert any(run.startswith("scripts/collect_static") for run in runs)
    assert build_check.healthcheck_command(STAGES[-1])[1:] == ["scripts/http_probe.py", "/healthz"]
    # The final image has no uv and no pip install: only what the builder made.
    assert not any("uv " in i.args for i in STAGES[-1].instructions if i.keyword == "RUN")


def test_every_app_of_the_portal_is_copied_into_the_image():
    copied = {
        source
        for instruction in STAGES[0].instructions
        if instruction.keyword == "COPY"
        for source in instruction.args.split()[:-1]
    }
    local_apps = {
        app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()
    }
    assert local_apps <= copied
    assert "manage.py" in copied


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".env",
        ".env.production",
        ".venv/bin/python",
        ".venv-py3.13/bin/python",
        "var/portal.sqlite3",
        "var/media/lesson.mp4",
        "test-artifacts/daphne-1.log",
        "portal/__pycache__/urls.cpython-311.pyc",
        "catalog/search/__pycache__/meili.cpython-313.pyc",
        "tests/conftest.py",
        "loadtests/locustfile.py",
        "frontend/static/js/tests/api.test.mjs",
        "node_modules/x/index.js",
    ],
)
def test_the_build_context_leaves_out(path):
    assert build_check.ignored(path, PATTERNS)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "pyproject.toml",
        "uv.lock",
        "portal/settings_production.py",
        "catalog/demo_media/lesson-demo.mp4",
        "frontend/static/js/app.js",
        "frontend/templates/frontend/_search_box.html",
        "scripts/collect_static",
        "scripts/http_probe.py",
    ],
)
def test_the_build_context_keeps(path):
    assert (ROOT / path).is_file()
    assert not build_check.ignored(path, PATTERNS)


def test_the_build_and_the_image_collect_static_files_with_one_script():
    """The Dockerfile runs scripts/collect_static; so does build_check: one command line."""
    script = (ROOT / "scripts/collect_static").read_text()
    assert "portal.settings_production" in script
    assert "collectstatic --no-input" in script
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "manage.py collectstatic" not in dockerfile  # only through the script


# --- docker-compose.yml -----------------------------------------------------------------


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if name in ONE_SHOTS:
            assert check.get("disable") is True, name
            assert service["restart"] == "no"
        else:
            assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_meilisearch_runs_in_production_mode_and_only_the_key_maker_holds_its_master_key():
    meili = SERVICES["meilisearch"]["environment"]
    assert meili["MEILI_ENV"] == "production"
    assert "MEILI_MASTER_KEY" in meili
    holders = {
        name
        for name, service in SERVICES.items()
        if "MEILI_MASTER_KEY" in (service.get("environment") or {})
    }
    assert holders == {"meilisearch", "search-setup"}
    for name in APP_SERVICES:
        environment = SERVICES[name]["environment"]
        assert "MEILI_MASTER_KEY" not in environment
        assert environment["MEILI_API_KEY_FILE"] == "/app/var/search/api-key"
        assert "search-key:/app/var/search:ro" in SERVICES[name]["volumes"]


def test_search_setup_makes_the_key_then_rebuilds_the_index_with_it():
    command = " ".join(SERVICES["search-setup"]["command"])
    make_key = command.index("manage.py search_key --write /app/var/search/api-key")
    rebuild = command.index("manage.py search_rebuild")
    assert make_key < rebuild
    # The rebuild runs with the key just made, not the master key.
    assert "MEILI_MASTER_KEY= " in command[make_key:rebuild] + " "
    assert "search-key:/app/var/search" in SERVICES["search-setup"]["volumes"]


def test_the_app_services_wait_for_the_schema_and_the_search_key():
    for name in APP_SERVICES:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["search-setup"]["condition"] == "service_completed_successfully"
    for name in ("web1", "web2"):
        assert SERVICES["nginx"]["depends_on"][name]["condition"] == "service_healthy"


# --- the health-check commands, run against real processes ------------------------------


def shell_of(check: dict) -> list[str]:
    """A compose CMD/CMD-SHELL test as a command line (`$$` is compose's escaped `$`)."""
    kind, *rest = check["test"]
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0].replace("$$", "$")]
    return [part.replace("$$", "$") for part in rest]


@pytest.mark.django_db  # the server runs on the test database
def test_the_app_servers_check_passes_when_ready_and_fails_when_down():
    command = shell_of(SERVICES["web1"]["healthcheck"])
    assert command[-2:] == ["scripts/http_probe.py", "/readyz"]
    command[0] = sys.executable
    server = LiveServer().start()
    try:
        env = {**os.environ, "PORT": str(server.port), "ALLOWED_HOSTS": "localhost,127.0.0.1"}
        assert subprocess.run(command, cwd=ROOT, env=env).returncode == 0
        # A host the server refuses (400) is a failed check, not a passed one.
        refused = {**env, "ALLOWED_HOSTS": "portal.invalid"}
        assert subprocess.run(command, cwd=ROOT, env=refused).returncode == 1
    finally:
        server.stop()
    assert subprocess.run(command, cwd=ROOT, env=env).returncode == 1


def test_the_workers_check_pings_it_over_the_broker(tmp_path):
    node_host = f"probe-{uuid.uuid4().hex[:8]}"
    broker = {
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker_command = [
        *(sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "default"),
        *(
            "-n",
            f"celery@{node_host}",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ),
    ]
    check = shell_of(SERVICES["worker"]["healthcheck"])
    bin_dir = str(Path(sys.executable).parent)  # `celery` as the image's PATH has it
    env = {**os.environ, **broker, "HOSTNAME": node_host, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            worker_command, cwd=ROOT, env={**os.environ, **broker}, stdout=log, stderr=log
        )
    try:
        wait_until(
            lambda: " ready." in (tmp_path / "worker.log").read_text(errors="replace"),
            timeout=90,
            what="the worker to start",
        )
        assert subprocess.run(check, cwd=ROOT, env=env).returncode == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert subprocess.run(check, cwd=ROOT, env=env).returncode != 0


def test_beats_check_reads_the_age_of_its_schedule_file(tmp_path):
    check = shell_of(SERVICES["beat"]["healthcheck"])
    code = check[-1].replace("/app/var/", f"{tmp_path}/")
    assert code != check[-1]
    run = [sys.executable, "-c", code]
    assert subprocess.run(run).returncode == 1  # no schedule file yet
    schedule = tmp_path / "celerybeat-schedule"
    schedule.write_bytes(b"")
    assert subprocess.run(run).returncode == 0
    eleven_minutes_ago = time.time() - 660
    os.utime(schedule, (eleven_minutes_ago, eleven_minutes_ago))
    assert subprocess.run(run).returncode == 1


def test_nginxs_check_wants_an_http_answer_on_its_port():
    check = shell_of(SERVICES["nginx"]["healthcheck"])
    port = free_port()
    script = re.sub(r"/dev/tcp/127\.0\.0\.1/80\b", f"/dev/tcp/127.0.0.1/{port}", check[-1])
    assert script != check[-1]
    run = [*check[:-1], script]
    assert subprocess.run(run, stderr=subprocess.DEVNULL).returncode != 0  # nothing listens
    server = LiveServer(port=port).start()
    try:
        assert subprocess.run(run).returncode == 0
    finally:
        server.stop()
